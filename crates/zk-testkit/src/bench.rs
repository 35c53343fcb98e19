//! Plumbing for the workspace's harness-less benchmarks (`harness = false` bench targets):
//! the bench/test mode switch, timed workloads with per-call latencies, client CPU time and the
//! load average.
//!
//! `cargo bench` runs a bench binary with `--bench`; `cargo test` runs the same binary
//! without it, to check that it still works. [`BenchMode::from_args`] tells the two apart, and
//! [`BenchMode::span`] says how long each workload runs: its full measured time under
//! `cargo bench` ([`SECONDS_VAR`] seconds after a warm-up of half that), and only
//! [`CHECK_CALLS`] calls per caller under `cargo test`, which costs next to nothing.
//!
//! ```no_run
//! use zk_testkit::bench::{BenchMode, Layout, run_workload};
//!
//! const LAYOUT: Layout = Layout { unit: "op", name_width: 16, cpu_decimals: 2 };
//!
//! # async fn example() {
//! let Some(mode) = BenchMode::from_args("my_bench") else { return };
//! let measured = run_workload(4, mode.span(), |_caller, _i| async {
//!     // One operation; a failure panics, which fails `cargo test` too.
//!     1
//! })
//! .await;
//! println!("{}", measured.line("noop", &LAYOUT));
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};
use tokio::runtime::Runtime;

use crate::server::ZkServer;

/// The environment variable with the length of each measured workload in whole seconds
/// (default [`DEFAULT_SECONDS`]).
pub const SECONDS_VAR: &str = "ZK_BENCH_SECONDS";

/// The length of each measured workload when [`SECONDS_VAR`] is unset or not a number.
pub const DEFAULT_SECONDS: u64 = 5;

/// How many calls each caller of a workload makes when a bench only checks that it works.
pub const CHECK_CALLS: usize = 5;

/// What a bench binary was started for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchMode {
    /// By `cargo bench` (with `--bench`): run every workload for its full time and report.
    Measure,
    /// By `cargo test` (without `--bench`): start what the bench needs, run a few calls of
    /// every workload so that any failure shows, and exit.
    Check,
}

impl BenchMode {
    /// The mode of this process, from its command-line arguments; `None` after answering
    /// `--list` (the harness protocol's "which benchmarks are there") by printing
    /// `<name>: benchmark`, in which case the bench should exit at once.
    pub fn from_args(name: &str) -> Option<BenchMode> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args.iter().any(|a| a == "--list") {
            println!("{name}: benchmark");
            return None;
        }
        Some(BenchMode::from_arg_list(&args))
    }

    /// [`BenchMode::Measure`] when `args` (without the program name) include `--bench`,
    /// [`BenchMode::Check`] otherwise.
    pub fn from_arg_list<S: AsRef<str>>(args: &[S]) -> BenchMode {
        if args.iter().any(|a| a.as_ref() == "--bench") {
            BenchMode::Measure
        } else {
            BenchMode::Check
        }
    }

    /// How long each workload runs in this mode: [`SECONDS_VAR`] seconds (default
    /// [`DEFAULT_SECONDS`]) when measuring, [`CHECK_CALLS`] calls per caller when checking.
    pub fn span(self) -> Span {
        match self {
            BenchMode::Measure => Span::Timed(Duration::from_secs(
                std::env::var(SECONDS_VAR)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(DEFAULT_SECONDS),
            )),
            BenchMode::Check => Span::Calls(CHECK_CALLS),
        }
    }
}

/// How long one workload runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// A warm-up of half this long (the server's JIT too), then this long measured.
    Timed(Duration),
    /// No warm-up; each caller makes this many calls, and nothing is measured.
    Calls(usize),
}

impl Span {
    /// Whether this span measures (rather than only checks).
    pub fn is_timed(self) -> bool {
        matches!(self, Span::Timed(_))
    }

    /// `timed` when measuring, `checked` when only checking: for counts that a bench makes
    /// beside its timed workloads, such as a fixed number of counted cycles.
    pub fn pick(self, timed: usize, checked: usize) -> usize {
        if self.is_timed() { timed } else { checked }
    }
}

/// "5 s per workload after 2.5 s of warm-up", or "a check of 5 calls per caller and workload,
/// unmeasured".
impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Span::Timed(d) => write!(
                f,
                "{} s per workload after {} s of warm-up",
                d.as_secs_f64(),
                d.as_secs_f64() / 2.0
            ),
            Span::Calls(n) => write!(
                f,
                "a check of {n} calls per caller and workload, unmeasured"
            ),
        }
    }
}

/// Starts a standalone ZooKeeper server tuned for throughput (the JVM's full JIT, a 512 MiB
/// heap) rather than for the harness's fast start, as the benches measure against.
///
/// The heap is committed from the start (`-Xms` as `-Xmx`). Grown on demand it stays near
/// 30 MiB under a benchmark's load, so the young generation fills every ~100 ms and each
/// collection stalls the server for ~2 ms: that, not the client, was a lock cycle's p99.
///
/// # Panics
/// When the server does not start (with the harness's explanation, such as how to install
/// ZooKeeper).
pub fn throughput_server() -> ZkServer {
    const THROUGHPUT_HEAP_MIB: u32 = 512;
    ZkServer::builder()
        .jvm_option("-XX:TieredStopAtLevel=4")
        .jvm_option(format!("-Xms{THROUGHPUT_HEAP_MIB}m"))
        .heap_mib(THROUGHPUT_HEAP_MIB)
        .start()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// How long a measuring run loads a fresh server before its first workload.
///
/// The JVM keeps compiling the server's request path for seconds: on a fresh server a lock
/// cycle's p99 stayed at 4-5 ms for about the first 8 s and then settled near 0.5 ms, so a
/// workload's own warm-up (half its time) is not enough for the first workload.
pub const SERVER_WARM_UP: Duration = Duration::from_secs(10);

/// Loads `server` for [`SERVER_WARM_UP`] from four sessions with the requests recipes send
/// (ephemeral sequential creates, listings, watched reads, writes that fire the watches,
/// deletes), so that no workload measures the server's JIT.
///
/// # Panics
/// When a request fails.
pub async fn warm_up_server(server: &ZkServer) {
    use zk_core::{Coordinator, CreateOptions};
    const ROOT: &str = "/bench-server-warm-up";
    let hosts = server.connect_string();
    let clients = sessions(4, || async {
        zk_core::client::ZkClient::connect(&hosts)
            .await
            .expect("connect")
    })
    .await;
    clients[0]
        .create(ROOT, b"", &CreateOptions::persistent())
        .await
        .expect("create the warm-up root");
    let deadline = Instant::now() + SERVER_WARM_UP;
    let prefix = format!("{ROOT}/n-");
    futures::future::join_all(clients.iter().map(|zk| async {
        while Instant::now() < deadline {
            let node = zk
                .create(&prefix, b"warm", &CreateOptions::ephemeral_sequential())
                .await
                .expect("create");
            zk.get_children(ROOT).await.expect("list");
            let (_, _, watch) = zk.watch_data(&node.path).await.expect("watch");
            zk.set_data(&node.path, b"up", None).await.expect("write");
            watch.await;
            zk.delete(&node.path, None).await.expect("delete");
        }
    }))
    .await;
    clients[0]
        .delete(ROOT, None)
        .await
        .expect("delete the root");
    close_all(clients).await;
    println!(
        "server warmed up for {} s (its JIT) before the first workload",
        SERVER_WARM_UP.as_secs()
    );
}

/// A bench binary's `main` against a real server, in the order every bench reports it: answers
/// `--list` (see [`BenchMode::from_args`]) and returns, or prints the load average and the
/// number of cores, starts a [`throughput_server`] (and, when measuring, warms it up with
/// [`warm_up_server`]), runs `body` with the mode and the server on a
/// [`current_thread_runtime`], stops the server and prints the load average again.
///
/// # Panics
/// When the server does not start, or `body` panics (a failed check fails `cargo test`).
pub fn main_against_a_server(name: &str, body: impl AsyncFnOnce(BenchMode, &ZkServer)) {
    let Some(mode) = BenchMode::from_args(name) else {
        return;
    };
    println!(
        "load average before starting the server: {} ({} cores)",
        load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let server = throughput_server();
    let runtime = current_thread_runtime();
    if mode == BenchMode::Measure {
        runtime.block_on(warm_up_server(&server));
    }
    runtime.block_on(body(mode, &server));
    drop(server);
    println!("load average at the end: {}", load_average());
}

/// Prints the heading of the in-memory fake's figures, which a bench reports after the real
/// server's for reference; `per_request_round_trips` adds the note that on the fake every
/// request is its own round trip, for benches that count round trips.
pub fn announce_the_fake(per_request_round_trips: bool) {
    println!("\nthe same on the in-memory fake (no server, no network), for reference:");
    if per_request_round_trips {
        println!(
            "(the fake answers each request as soon as it is polled, so there every request is its own round trip)"
        );
    }
}

/// `met` or `MISSED`: how a bench reports whether a target was met.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// `n` sessions from `connect`, opened one after the other.
pub async fn sessions<C, F, Fut>(n: usize, connect: F) -> Vec<C>
where
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        sessions.push(connect().await);
    }
    sessions
}

/// Closes every session of `sessions`.
///
/// # Panics
/// When a close fails.
pub async fn close_all<C: zk_core::Coordinator>(sessions: impl IntoIterator<Item = C>) {
    for zk in sessions {
        zk.close().await.expect("close");
    }
}

/// Runs a workload of one caller per item of `items` (see [`run_workload`]), each looping
/// `cycle` on its own item; each call counts as one operation.
///
/// # Panics
/// When a call panics.
pub async fn cycle_each<T, F, Fut>(items: Vec<T>, span: Span, cycle: F) -> Measurement
where
    T: Send + Sync + 'static,
    F: Fn(Arc<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let items: Vec<Arc<T>> = items.into_iter().map(Arc::new).collect();
    run_workload(items.len(), span, move |caller, _| {
        let done = cycle(items[caller].clone());
        async move {
            done.await;
            1
        }
    })
    .await
}

/// The runtime the benches' clients run on: tokio's current-thread runtime, with IO and time.
///
/// # Panics
/// When tokio cannot build it.
pub fn current_thread_runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

/// The CPU time (user + system) this process has used so far, from `getrusage`; a server in
/// another process does not count.
///
/// # Panics
/// When `getrusage` fails, which it does not for the calling process.
pub fn cpu_time() -> Duration {
    let (user, system) = cpu_times();
    user + system
}

/// The user and the system (kernel) CPU time this process has used so far, from `getrusage`.
///
/// # Panics
/// When `getrusage` fails, which it does not for the calling process.
pub fn cpu_times() -> (Duration, Duration) {
    let usage = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
    let time = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
    };
    (time(usage.user_time()), time(usage.system_time()))
}

/// The 1, 5 and 15 minute load averages from `/proc/loadavg`, or `unknown`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// What one workload did: its operations, each call's latency and the client's CPU time.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Whether the workload ran for a measured time ([`Span::Timed`]).
    pub timed: bool,
    /// Operations done: the sum of what the calls returned.
    pub ops: usize,
    /// How long the measured part took (from its start until every caller stopped).
    pub elapsed: Duration,
    /// The client's CPU time in the measured part ([`cpu_time`]).
    pub cpu: Duration,
    /// The part of [`Measurement::cpu`] spent in the kernel (system time: sockets, wake-ups).
    pub system_cpu: Duration,
    /// Every call's latency, shortest first.
    pub latencies: Vec<Duration>,
}

impl Measurement {
    /// The number of calls.
    pub fn calls(&self) -> usize {
        self.latencies.len()
    }

    /// Operations per second.
    pub fn rate(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p` quantile of the call latencies (`p` from 0 to 1; the nearest rank), or zero
    /// when there were no calls.
    pub fn percentile(&self, p: f64) -> Duration {
        match self.latencies.len() {
            0 => Duration::ZERO,
            n => self.latencies[((n as f64 - 1.0) * p.clamp(0.0, 1.0)).round() as usize],
        }
    }

    /// The client's CPU time per operation.
    pub fn cpu_per_op(&self) -> Duration {
        self.cpu.div_f64(self.ops.max(1) as f64)
    }

    /// The report line for the workload `name`: rate, p50 and p99 latency, CPU per operation
    /// and totals when timed; what ran when only checked.
    pub fn line(&self, name: &str, layout: &Layout) -> String {
        let Layout {
            unit,
            name_width,
            cpu_decimals,
        } = *layout;
        if !self.timed {
            return format!(
                "{name:<name_width$} {} {unit}s in {} calls, all succeeded (not measured)",
                self.ops,
                self.calls()
            );
        }
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        format!(
            "{name:<name_width$} {:>9.0} {unit}s/s   p50 {:>7.0} µs   p99 {:>7.0} µs   client CPU {:>6.cpu_decimals$} µs/{unit} ({:.0}% kernel)   ({} {unit}s in {:.1} s)",
            self.rate(),
            micros(self.percentile(0.50)),
            micros(self.percentile(0.99)),
            micros(self.cpu_per_op()),
            100.0 * self.system_cpu.as_secs_f64() / self.cpu.as_secs_f64().max(f64::MIN_POSITIVE),
            self.ops,
            self.elapsed.as_secs_f64(),
        )
    }
}

/// How [`Measurement::line`] lays a report out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The name of one operation, such as `op` or `cycle` (`ops/s`, `µs/op`).
    pub unit: &'static str,
    /// The width of the workload's name column.
    pub name_width: usize,
    /// Decimals of the CPU time per operation.
    pub cpu_decimals: usize,
}

/// Runs a workload: `callers` tasks on the current runtime, each calling `op(caller, i)` for
/// `i` = 0, 1, ... and timing every call; a call returns how many operations it did.
///
/// A [`Span::Timed`] workload first runs the same calls for half its time without measuring
/// (to warm up caches and the server's JIT), then measures for its time. A [`Span::Calls`]
/// workload makes exactly that many calls per caller. A call that fails should panic: so does
/// this, and with it the bench.
///
/// # Panics
/// When a call panics.
pub async fn run_workload<F, Fut>(callers: usize, span: Span, op: F) -> Measurement
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = usize> + Send + 'static,
{
    let op = Arc::new(op);
    let (end, calls_each) = match span {
        Span::Timed(duration) => {
            let warm = Instant::now() + duration / 2;
            let _ = on_every_caller(callers, &op, Some(warm), usize::MAX, false).await;
            (Some(Instant::now() + duration), usize::MAX)
        }
        Span::Calls(n) => (None, n),
    };
    let (user_start, system_start) = cpu_times();
    let start = Instant::now();
    let (ops, mut latencies) = on_every_caller(callers, &op, end, calls_each, true).await;
    let (user, system) = cpu_times();
    let elapsed = start.elapsed();
    let system_cpu = system - system_start;
    let cpu = user - user_start + system_cpu;
    latencies.sort_unstable();
    if let Span::Calls(n) = span {
        assert_eq!(latencies.len(), callers * n, "every call of the check ran");
    }
    Measurement {
        timed: span.is_timed(),
        ops,
        elapsed,
        cpu,
        system_cpu,
        latencies,
    }
}

/// Runs `op` on `callers` tasks until `end` (if any) or `calls_each` calls each, and returns
/// the operations done and, when `timing`, every call's latency.
async fn on_every_caller<F, Fut>(
    callers: usize,
    op: &Arc<F>,
    end: Option<Instant>,
    calls_each: usize,
    timing: bool,
) -> (usize, Vec<Duration>)
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = usize> + Send + 'static,
{
    let tasks: Vec<_> = (0..callers)
        .map(|caller| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(if timing { 1 << 16 } else { 0 });
                let mut ops = 0;
                let mut i = 0;
                while i < calls_each && end.is_none_or(|end| Instant::now() < end) {
                    let call = Instant::now();
                    ops += op(caller, i).await;
                    if timing {
                        latencies.push(call.elapsed());
                    }
                    i += 1;
                }
                (ops, latencies)
            })
        })
        .collect();
    let mut ops = 0;
    let mut latencies = Vec::new();
    for task in tasks {
        let (n, l) = task.await.expect("a workload call panicked");
        ops += n;
        latencies.extend(l);
    }
    (ops, latencies)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: Layout = Layout {
        unit: "op",
        name_width: 8,
        cpu_decimals: 2,
    };

    #[test]
    fn only_bench_measures() {
        assert_eq!(BenchMode::from_arg_list(&["--bench"]), BenchMode::Measure);
        assert_eq!(
            BenchMode::from_arg_list(&["--bench", "filter"]),
            BenchMode::Measure
        );
        assert_eq!(BenchMode::from_arg_list::<&str>(&[]), BenchMode::Check);
        assert_eq!(BenchMode::from_arg_list(&["--nocapture"]), BenchMode::Check);
        assert_eq!(BenchMode::Check.span(), Span::Calls(CHECK_CALLS));
        assert!(BenchMode::Measure.span().is_timed());
        assert_eq!(Span::Calls(3).pick(2000, 3), 3);
        assert_eq!(Span::Timed(Duration::from_secs(1)).pick(2000, 3), 2000);
    }

    #[test]
    fn spans_describe_themselves() {
        assert_eq!(
            Span::Timed(Duration::from_secs(5)).to_string(),
            "5 s per workload after 2.5 s of warm-up"
        );
        assert!(Span::Calls(5).to_string().contains("5 calls per caller"));
    }

    fn measured(latencies_ms: &[u64]) -> Measurement {
        Measurement {
            timed: true,
            ops: 2 * latencies_ms.len(),
            elapsed: Duration::from_secs(2),
            cpu: Duration::from_millis(4),
            system_cpu: Duration::from_millis(1),
            latencies: latencies_ms
                .iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect(),
        }
    }

    #[test]
    fn percentiles_rates_and_cpu() {
        let m = measured(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(m.calls(), 10);
        assert_eq!(m.percentile(0.0), Duration::from_millis(1));
        assert_eq!(m.percentile(0.5), Duration::from_millis(6));
        assert_eq!(m.percentile(0.99), Duration::from_millis(10));
        assert_eq!(m.percentile(1.0), Duration::from_millis(10));
        assert_eq!(m.rate(), 10.0);
        assert_eq!(m.cpu_per_op(), Duration::from_micros(200));
        assert_eq!(measured(&[]).percentile(0.5), Duration::ZERO);
    }

    #[test]
    fn report_lines() {
        let line = measured(&[1, 2, 3, 4]).line("get", &LAYOUT);
        assert_eq!(
            line,
            "get              4 ops/s   p50    3000 µs   p99    4000 µs   client CPU 500.00 µs/op (25% kernel)   (8 ops in 2.0 s)"
        );
        let checked = Measurement {
            timed: false,
            ..measured(&[1, 2])
        };
        assert_eq!(
            checked.line("get", &LAYOUT),
            "get      4 ops in 2 calls, all succeeded (not measured)"
        );
    }

    #[tokio::test]
    async fn a_check_makes_a_few_calls_per_caller() {
        let m = run_workload(3, Span::Calls(4), |caller, i| async move {
            assert!(caller < 3 && i < 4);
            2
        })
        .await;
        assert!(!m.timed);
        assert_eq!((m.calls(), m.ops), (12, 24));
    }

    #[tokio::test]
    async fn a_timed_workload_warms_up_then_measures() {
        let m = run_workload(2, Span::Timed(Duration::from_millis(40)), |_, _| async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            1
        })
        .await;
        assert!(m.timed);
        assert!(m.elapsed >= Duration::from_millis(40), "{:?}", m.elapsed);
        assert_eq!(m.ops, m.calls());
        assert!(m.calls() >= 2);
    }

    #[test]
    fn cpu_time_grows() {
        let before = cpu_time();
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        assert!(cpu_time() >= before);
        assert!(!load_average().is_empty());
    }
}
