//! Wire-client benchmark against a real local ZooKeeper (started by the zk-testkit harness).
//!
//! Workloads: `get_sync` (one caller, one get at a time), `get_pipelined` (32 callers sharing one
//! session, so 32 gets in flight) and `create+delete` (16 chains, each creating then deleting
//! its own node in a loop).
//! For each: operations per second, p50/p99 latency, and client CPU per operation (user + system
//! time of this process from getrusage; the server is another process).
//! Run with `cargo xtask bench` or `cargo bench -p zk-core --bench wire_client`;
//! `ZK_BENCH_SECONDS` sets the length of each workload (default 5).

use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions};
use zk_testkit::server::ZkServer;

fn cpu_time() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let tv = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    tv(usage.user_time()) + tv(usage.system_time())
}

/// What one workload measured.
struct Report {
    name: &'static str,
    ops: usize,
    elapsed: Duration,
    cpu: Duration,
    latencies: Vec<Duration>,
}

impl Report {
    fn print(&mut self) {
        self.latencies.sort_unstable();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies[i].as_secs_f64() * 1e6
        };
        println!(
            "{:<16} {:>9.0} ops/s   p50 {:>7.0} µs   p99 {:>7.0} µs   client CPU {:>6.2} µs/op   ({} ops in {:.1} s)",
            self.name,
            self.ops as f64 / self.elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            self.cpu.as_secs_f64() * 1e6 / self.ops as f64,
            self.ops,
            self.elapsed.as_secs_f64(),
        );
    }
}

/// Runs `callers` loops of `op` for `duration`, each timing its own operations.
async fn run<F, Fut>(name: &'static str, callers: usize, duration: Duration, op: F) -> Report
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = usize> + Send,
{
    let op = Arc::new(op);
    // Warm up (the server's JIT too) so start-up costs stay out of the figures.
    let warm = Instant::now() + duration / 2;
    let cpu_start;
    let start;
    {
        let mut tasks = Vec::new();
        for caller in 0..callers {
            let op = op.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = 0;
                while Instant::now() < warm {
                    op(caller, i).await;
                    i += 1;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        cpu_start = cpu_time();
        start = Instant::now();
    }
    let end = start + duration;
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut ops = 0;
            let mut i = 0;
            while Instant::now() < end {
                let t = Instant::now();
                ops += op(caller, i).await;
                latencies.push(t.elapsed());
                i += 1;
            }
            (ops, latencies)
        }));
    }
    let mut ops = 0;
    let mut latencies = Vec::new();
    for t in tasks {
        let (n, l) = t.await.unwrap();
        ops += n;
        latencies.extend(l);
    }
    Report {
        name,
        ops,
        elapsed: start.elapsed(),
        cpu: cpu_time() - cpu_start,
        latencies,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("wire_client: benchmark");
        return;
    }
    let seconds: u64 = std::env::var("ZK_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let duration = Duration::from_secs(seconds);
    // A server tuned for throughput rather than for the harness's fast start.
    let server = ZkServer::builder()
        .jvm_option("-XX:TieredStopAtLevel=4")
        .heap_mib(512)
        .start()
        .unwrap_or_else(|e| panic!("{e}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let zk = ZkClient::connect(&server.connect_string())
            .await
            .expect("connect");
        zk.create("/bench", &[7u8; 64], &CreateOptions::persistent())
            .await
            .unwrap();
        println!(
            "wire client against ZooKeeper at {} ({} s per workload, one client session, current-thread runtime)",
            server.connect_string(),
            seconds
        );

        let client = zk.clone();
        run("get_sync", 1, duration, move |_, _| {
            let client = client.clone();
            async move {
                client.get_data("/bench").await.unwrap();
                1
            }
        })
        .await
        .print();

        let client = zk.clone();
        run("get_pipelined", 32, duration, move |_, _| {
            let client = client.clone();
            async move {
                client.get_data("/bench").await.unwrap();
                1
            }
        })
        .await
        .print();

        let client = zk.clone();
        run("create+delete", 16, duration, move |caller, _| {
            let client = client.clone();
            async move {
                let path = format!("/bench/chain-{caller}");
                client
                    .create(&path, b"x", &CreateOptions::persistent())
                    .await
                    .unwrap();
                client.delete(&path, None).await.unwrap();
                2
            }
        })
        .await
        .print();
        println!("(create+delete counts each create and each delete as one op; latency is per pair)");
        zk.delete_all("/bench").await.unwrap();
        zk.close().await.unwrap();
    });
}
