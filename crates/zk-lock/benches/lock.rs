//! Lock benchmark against a real local ZooKeeper (started by the zk-testkit harness, tuned for
//! throughput as in zk-core's `wire_client` bench), with the in-memory fake for reference.
//!
//! Workloads, on each backend:
//! - `uncontended`: one session acquires and releases one lock in a loop;
//! - `contended x4`: four sessions loop acquiring and releasing the same lock, so each cycle
//!   includes waiting for the others (the latency is wait + hold + release);
//! - `round trips`: uncontended cycles through a counting wrapper that records how many times
//!   the client had to wait for the server (a request sent while nothing else was in flight
//!   starts a round trip) and how many requests it sent; on the real server the server's own
//!   `zk_packets_received` counter (from `mntr`) is read before and after, too.
//!
//! For each: cycles per second, p50/p99 cycle latency, and client CPU per cycle (user + system
//! time of this process from getrusage; the server is another process).
//! Run with `cargo xtask bench -p zk-lock` or `cargo bench -p zk-lock --bench lock`;
//! `ZK_BENCH_SECONDS` sets the length of each workload (default 5). Under `cargo test` (no
//! `--bench`) it only checks that it works: it starts the server and runs a few cycles of each
//! workload on both backends (see `zk_testkit::bench`).

use std::collections::BTreeMap;
use std::time::Instant;

use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt};
use zk_lock::Lock;
use zk_testkit::bench::{
    Layout, Span, announce_the_fake, close_all, cycle_each, main_against_a_server, sessions,
    verdict,
};
use zk_testkit::counting::Counting;
use zk_testkit::server::ZkServer;

/// Sessions in the contended workload.
const CONTENDERS: usize = 4;
/// Uncontended cycles counted for the round-trip figure (when measuring; a check counts
/// `zk_testkit::bench::CHECK_CALLS`).
const COUNTED_CYCLES: usize = 2_000;
/// How the report lines look.
const LAYOUT: Layout = Layout {
    unit: "cycle",
    name_width: 22,
    cpu_decimals: 1,
};

/// One acquire + release cycle on `lock`.
async fn cycle<C: Coordinator + Clone + 'static>(lock: &Lock<C>) {
    let guard = lock.acquire().await.expect("acquire");
    guard.release().await.expect("release");
}

/// Loops `cycle` on every lock of `locks` concurrently for `span` (after a warm-up when
/// timed), prints the report line `name` and returns the cycles per second.
async fn run<C: Coordinator + Clone + 'static>(
    name: String,
    locks: Vec<Lock<C>>,
    span: Span,
) -> f64 {
    let measured = cycle_each(locks, span, |lock| async move { cycle(&lock).await }).await;
    println!("{}", measured.line(&name, &LAYOUT));
    measured.rate()
}

/// The server's `zk_packets_received` (every request, pings included; four-letter words are
/// not requests and do not count).
fn packets_received(server: &ZkServer) -> u64 {
    let mntr = server.four_letter("mntr").expect("mntr");
    mntr.lines()
        .find_map(|line| line.strip_prefix("zk_packets_received"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no zk_packets_received in mntr:\n{mntr}"))
}

/// Counts the round trips and requests of `counted` uncontended cycles on `zk`, cycle by
/// cycle, and the server's packets if there is a server; prints them and returns the most
/// common number of round trips per cycle.
async fn round_trips<C: Coordinator + Clone + 'static>(
    label: &str,
    zk: C,
    path: &str,
    counted: usize,
    server: Option<&ZkServer>,
) -> u64 {
    let counting = Counting::new(zk);
    let snapshot = || {
        (
            counting.counts().requests(),
            counting.counts().round_trips(),
        )
    };
    let lock = Lock::new(counting.clone(), path);
    // The first cycle creates the lock path; keep it out of the count.
    cycle(&lock).await;
    let (requests_before, trips_before) = snapshot();
    let packets_before = server.map(packets_received);
    let started = Instant::now();
    // Round trips per cycle -> how many cycles took that many.
    let mut histogram = BTreeMap::<u64, u64>::new();
    let mut last = trips_before;
    for _ in 0..counted {
        cycle(&lock).await;
        let (_, trips) = snapshot();
        *histogram.entry(trips - last).or_default() += 1;
        last = trips;
    }
    let elapsed = started.elapsed();
    let packets = server.map(|s| packets_received(s) - packets_before.unwrap_or_default());
    let (requests_after, trips_after) = snapshot();
    let requests = requests_after - requests_before;
    let n = counted as f64;
    let typical = histogram
        .iter()
        .max_by_key(|(_, cycles)| **cycles)
        .map_or(0, |(trips, _)| *trips);
    let spread = histogram
        .iter()
        .map(|(trips, cycles)| format!("{cycles} cycles x {trips}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "{label:<22} {typical} round trips/cycle typical, {:.4} mean ({spread}); {:.4} requests/cycle sent ({counted} cycles in {:.2} s, counted at the client)",
        (trips_after - trips_before) as f64 / n,
        requests as f64 / n,
        elapsed.as_secs_f64()
    );
    if let Some(packets) = packets {
        // Whatever the server received beyond the client's requests is pings (sent only after a
        // third of the session timeout without a write) or other clients' traffic.
        println!(
            "{:<22} server zk_packets_received: {packets} = {requests} requests + {} pings/other, {:.4} requests/cycle",
            "",
            packets as i64 - requests as i64,
            requests.min(packets) as f64 / n,
        );
    }
    typical
}

/// The three workloads on sessions from `connect`.
async fn workloads<C, F, Fut>(
    backend: &str,
    connect: F,
    span: Span,
    server: Option<&ZkServer>,
) -> (f64, f64, u64)
where
    C: Coordinator + Clone + 'static,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = C>,
{
    let solo = connect().await;
    let uncontended = run(
        format!("{backend} uncontended"),
        vec![Lock::new(solo.clone(), "/bench-lock/solo")],
        span,
    )
    .await;
    // Counted while this is the only session, so no other session's pings reach the server.
    let trips = round_trips(
        &format!("{backend} round trips"),
        solo.clone(),
        "/bench-lock/counted",
        span.pick(COUNTED_CYCLES, zk_testkit::bench::CHECK_CALLS),
        server,
    )
    .await;

    let sessions = sessions(CONTENDERS, &connect).await;
    let locks = sessions
        .iter()
        .map(|zk| Lock::new(zk.clone(), "/bench-lock/shared"))
        .collect();
    let contended = run(format!("{backend} contended x{CONTENDERS}"), locks, span).await;

    solo.delete_all("/bench-lock").await.unwrap();
    close_all(sessions).await;
    solo.close().await.unwrap();
    (uncontended, contended, trips)
}

fn main() {
    main_against_a_server("lock", async |mode, server| {
        let span = mode.span();
        let hosts = server.connect_string();
        println!("zk-lock against ZooKeeper at {hosts} ({span}, current-thread runtime)");
        let (uncontended, contended, trips) = workloads(
            "zookeeper",
            || async { ZkClient::connect(&hosts).await.expect("connect") },
            span,
            Some(server),
        )
        .await;
        if span.is_timed() {
            println!(
                "targets: 2 round trips per uncontended cycle ({}), >= 1300 uncontended cycles/s ({}), >= 600 contended cycles/s ({})",
                verdict(trips <= 2),
                verdict(uncontended >= 1300.0),
                verdict(contended >= 600.0)
            );
        }

        announce_the_fake(true);
        let ensemble = zk_fake::FakeEnsemble::new();
        workloads("fake", || async { ensemble.connect() }, span, None).await;
    });
}
