//! Semaphore benchmark against a real local ZooKeeper (started by the zk-testkit harness,
//! tuned for throughput), with the in-memory fake for reference.
//!
//! Workloads, on each backend:
//! - `uncontended`: one session acquires and releases a permit in a loop; with a counting
//!   wrapper, how many round trips a cycle costs (2 is the target: create + listing pipelined,
//!   then the delete);
//! - `8 sessions, N=3`: eight sessions loop acquiring and releasing permits of one semaphore
//!   of three, so each cycle includes waiting (the latency is wait + hold + release);
//! - `wake-ups`: the same eight sessions through counting wrappers for a fixed number of
//!   cycles, counting the node events their watches delivered: each is a waiter woken. One
//!   release may wake at most N = 3 waiters, so the mean per release must be at most 3 (the
//!   exact per-release bound is checked by the `one_release_wakes_at_most_n_waiters` case).
//!
//! For each: cycles per second, p50/p99 cycle latency, and client CPU per cycle (see
//! `zk_testkit::bench`). Run with `cargo bench -p zk-semaphore --bench semaphore`;
//! `ZK_BENCH_SECONDS` sets the length of each workload (default 5). Under `cargo test` (no
//! `--bench`) it only checks that it works: a few cycles of each workload on both backends,
//! including the wake-up bound.

use std::sync::Arc;

use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt};
use zk_semaphore::Semaphore;
use zk_testkit::bench::{
    Layout, Span, announce_the_fake, close_all, cycle_each, main_against_a_server, sessions,
    verdict,
};
use zk_testkit::counting::{Call, Counting, Counts};

/// Sessions contending, and the permits they share.
const SESSIONS: usize = 8;
const PERMITS: u32 = 3;
/// Cycles per session in the counted wake-up run, and uncontended cycles counted for round
/// trips (when measuring; a check counts `zk_testkit::bench::CHECK_CALLS`).
const COUNTED_CYCLES: usize = 500;
const COUNTED_SOLO_CYCLES: usize = 2_000;
/// How the report lines look.
const LAYOUT: Layout = Layout {
    unit: "cycle",
    name_width: 26,
    cpu_decimals: 1,
};

/// One acquire + release cycle.
async fn cycle<C: Coordinator + Clone + 'static>(semaphore: &Semaphore<C>) {
    let permit = semaphore.acquire().await.expect("acquire");
    permit.release().await.expect("release");
}

/// Semaphores of [`PERMITS`] on `path`, one per session.
fn semaphores<C: Coordinator + Clone + 'static>(sessions: &[C], path: &str) -> Vec<Semaphore<C>> {
    sessions
        .iter()
        .map(|zk| Semaphore::new(zk.clone(), path, PERMITS).expect("a valid semaphore"))
        .collect()
}

/// Loops `cycle` on every semaphore concurrently for `span`, prints the report line `name`
/// and returns the cycles per second.
async fn run<C: Coordinator + Clone + 'static>(
    name: String,
    semaphores: Vec<Semaphore<C>>,
    span: Span,
) -> f64 {
    let measured = cycle_each(semaphores, span, |s| async move { cycle(&s).await }).await;
    println!("{}", measured.line(&name, &LAYOUT));
    measured.rate()
}

/// `cycles` cycles on each of `sessions` counted sessions at once; prints and returns the
/// node events (wake-ups) per release.
async fn wake_ups<C: Coordinator + Clone + 'static>(
    label: &str,
    sessions: &[Counting<C>],
    path: &str,
    cycles: usize,
) -> f64 {
    let semaphores = semaphores(sessions, path);
    let counts: Vec<Arc<Counts>> = sessions.iter().map(|s| s.counts().clone()).collect();
    let total = |what: &dyn Fn(&Counts) -> u64| counts.iter().map(|c| what(c)).sum::<u64>();
    let events_before = total(&|c| c.node_events());
    let listings_before = total(&|c| c.calls(Call::GetChildren));
    cycle_each(semaphores, Span::Calls(cycles), |s| async move {
        cycle(&s).await
    })
    .await;
    let releases = (sessions.len() * cycles) as f64;
    let per_release = (total(&|c| c.node_events()) - events_before) as f64 / releases;
    let listings = (total(&|c| c.calls(Call::GetChildren)) - listings_before) as f64 / releases;
    println!(
        "{label:<26} {per_release:.3} watch notifications (waiters woken) per release, at most {PERMITS} allowed; {listings:.3} listings per cycle ({} releases)",
        sessions.len() * cycles
    );
    per_release
}

/// Round trips per uncontended cycle on `zk`, counted over `cycles` cycles.
async fn round_trips<C: Coordinator + Clone + 'static>(
    label: &str,
    zk: C,
    path: &str,
    cycles: usize,
) -> f64 {
    let counting = Counting::new(zk);
    let semaphore = Semaphore::new(counting.clone(), path, PERMITS).expect("a valid semaphore");
    // The first cycle creates the semaphore node and reads the count; keep it out.
    cycle(&semaphore).await;
    let (trips, requests) = (
        counting.counts().round_trips(),
        counting.counts().requests(),
    );
    for _ in 0..cycles {
        cycle(&semaphore).await;
    }
    let n = cycles as f64;
    let per_cycle = (counting.counts().round_trips() - trips) as f64 / n;
    println!(
        "{label:<26} {per_cycle:.3} round trips/cycle, {:.3} requests/cycle ({cycles} cycles, counted at the client)",
        (counting.counts().requests() - requests) as f64 / n
    );
    per_cycle
}

/// What the workloads of one backend found.
struct Figures {
    uncontended: f64,
    contended: f64,
    trips: f64,
    wakes: f64,
}

/// Every workload on sessions from `connect`.
async fn workloads<C, F, Fut>(backend: &str, connect: F, span: Span) -> Figures
where
    C: Coordinator + Clone + 'static,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = C>,
{
    let root = "/bench-semaphore";
    let solo = connect().await;
    let uncontended = run(
        format!("{backend} uncontended"),
        semaphores(std::slice::from_ref(&solo), &format!("{root}/solo")),
        span,
    )
    .await;
    let trips = round_trips(
        &format!("{backend} round trips"),
        solo.clone(),
        &format!("{root}/counted-solo"),
        span.pick(COUNTED_SOLO_CYCLES, zk_testkit::bench::CHECK_CALLS),
    )
    .await;

    let sessions = sessions(SESSIONS, &connect).await;
    let contended = run(
        format!("{backend} {SESSIONS} sessions, N={PERMITS}"),
        semaphores(&sessions, &format!("{root}/shared")),
        span,
    )
    .await;
    let counted: Vec<Counting<C>> = sessions.iter().cloned().map(Counting::new).collect();
    let wakes = wake_ups(
        &format!("{backend} wake-ups"),
        &counted,
        &format!("{root}/counted"),
        span.pick(COUNTED_CYCLES, zk_testkit::bench::CHECK_CALLS),
    )
    .await;

    solo.delete_all(root).await.expect("clean up");
    close_all(sessions).await;
    solo.close().await.expect("close");
    Figures {
        uncontended,
        contended,
        trips,
        wakes,
    }
}

fn main() {
    main_against_a_server("semaphore", async |mode, server| {
        let span = mode.span();
        let hosts = server.connect_string();
        println!("zk-semaphore against ZooKeeper at {hosts} ({span}, current-thread runtime)");
        let real = workloads(
            "zookeeper",
            || async { ZkClient::connect(&hosts).await.expect("connect") },
            span,
        )
        .await;
        report(&real, span);

        announce_the_fake(true);
        let ensemble = zk_fake::FakeEnsemble::new();
        let fake = workloads("fake", || async { ensemble.connect() }, span).await;
        assert!(
            fake.wakes <= f64::from(PERMITS),
            "a release woke more than N waiters on the fake"
        );
    });
}

/// Prints the targets and fails when a release woke more than N waiters on average.
fn report(figures: &Figures, span: Span) {
    let wakes_ok = figures.wakes <= f64::from(PERMITS);
    if span.is_timed() {
        println!(
            "targets: <= {PERMITS} wake-ups per release ({}), 2 round trips per uncontended cycle ({}); {:.0} uncontended and {:.0} contended cycles/s",
            verdict(wakes_ok),
            // A ping, or the odd reply that arrives after the next request left, moves the mean a
            // little off a whole number.
            verdict(figures.trips.round() <= 2.0),
            figures.uncontended,
            figures.contended,
        );
    }
    assert!(
        wakes_ok,
        "a release woke more than {PERMITS} waiters on average"
    );
}
