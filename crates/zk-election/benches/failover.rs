//! Failover benchmark: how long after the leader's session ends the next candidate's
//! `campaign()` resolves, against a real local ZooKeeper (started by the zk-testkit harness,
//! tuned for throughput) and, for reference, on the in-memory fake.
//!
//! Four candidates stand, each on its own session. Each round closes the leader's session and
//! times from just before `close()` until the next candidate's `campaign()` has returned in its
//! own task (the server deletes the closed session's node and notifies the one candidate
//! watching it, which becomes leader without another round trip). The closed candidate then
//! stands again at the back of the queue on a new session, outside the timed part, so four
//! stand at the start of every round. Every round also checks that the new leader's term beats
//! the old one's.
//!
//! Run with `cargo xtask bench -p zk-election` or `cargo bench -p zk-election --bench
//! failover`: 300 timed rounds per backend after 100 to warm up; the target is a median of at
//! most 1 ms on the real server. Under `cargo test` (no `--bench`) it only checks that it
//! works: it starts the server and runs a few untimed rounds on each backend (see
//! `zk_testkit::bench`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt, Error};
use zk_election::{Candidate, Leadership};
use zk_testkit::bench::{
    BenchMode, Measurement, announce_the_fake, close_all, cpu_times, main_against_a_server, verdict,
};
use zk_testkit::timing::{test_timeout, within_for};

/// Candidates standing at the start of every round.
const CANDIDATES: usize = 4;
/// Rounds per backend when measuring (after untimed warm-up rounds, for the JIT of the
/// server and the caches of both sides), and when only checking.
const ROUNDS: usize = 300;
const WARM_UP_ROUNDS: usize = 100;
const CHECK_ROUNDS: usize = 3;
/// The median failover the real server should stay under.
const TARGET_MEDIAN: Duration = Duration::from_millis(1);
const ROOT: &str = "/bench-election";
const PATH: &str = "/bench-election/failover";

type Zk = Arc<dyn Coordinator>;

/// A candidate elected: its slot, its leadership, and when its `campaign()` returned.
type Elected = (usize, Leadership<Zk>, Instant);

/// Puts candidate `slot` up for election on a new session from `connect`: it campaigns in a
/// task of its own and reports on `elected` as soon as `campaign()` returns.
async fn stand<F, Fut>(slot: usize, connect: &F, elected: &mpsc::UnboundedSender<Elected>) -> Zk
where
    F: Fn() -> Fut,
    Fut: Future<Output = Zk>,
{
    let zk = connect().await;
    let candidate = Candidate::new(zk.clone(), PATH, format!("candidate-{slot}"));
    let elected = elected.clone();
    tokio::spawn(async move {
        // Waiting candidates are never closed until the end, when their campaign fails.
        if let Ok(leadership) = candidate.campaign().await {
            let _ = elected.send((slot, leadership, Instant::now()));
        }
    });
    zk
}

/// Waits until `n` candidates stand on [`PATH`].
async fn standing(admin: &Zk, n: usize) {
    loop {
        match admin.watch_children(PATH).await {
            Ok((children, _, _)) if children.len() == n => return,
            Ok((_, _, watch)) => {
                watch.await;
            }
            Err(Error::NoNode { .. }) => {
                let (stat, watch) = admin.watch_exists(PATH).await.expect("watch the path");
                if stat.is_none() {
                    watch.await;
                }
            }
            Err(e) => panic!("listing {PATH}: {e}"),
        }
    }
}

/// `warm_up` untimed failovers, then `rounds` timed ones on sessions from `connect`.
async fn failovers<F, Fut>(connect: F, warm_up: usize, rounds: usize) -> Rounds
where
    F: Fn() -> Fut,
    Fut: Future<Output = Zk>,
{
    let admin = connect().await;
    admin.delete_all(ROOT).await.expect("clear the bench path");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut sessions = Vec::with_capacity(CANDIDATES);
    for slot in 0..CANDIDATES {
        sessions.push(stand(slot, &connect, &tx).await);
        within_for(test_timeout(), standing(&admin, slot + 1)).await;
    }
    let (mut slot, mut leading, _) = within_for(test_timeout(), rx.recv())
        .await
        .expect("a first leader");
    let mut latencies = Vec::with_capacity(rounds);
    let mut close_replies = Vec::with_capacity(rounds);
    let (mut cpu, mut system_cpu) = (Duration::ZERO, Duration::ZERO);
    for round in 0..warm_up + rounds {
        let (user_before, system_before) = cpu_times();
        let start = Instant::now();
        sessions[slot]
            .close()
            .await
            .expect("close the leader's session");
        let closed = start.elapsed();
        let (next, next_leading, elected_at) = within_for(test_timeout(), rx.recv())
            .await
            .expect("the next leader");
        if round >= warm_up {
            latencies.push(elected_at - start);
            close_replies.push(closed);
            let (user, system) = cpu_times();
            cpu += user - user_before + system - system_before;
            system_cpu += system - system_before;
        }
        assert!(next != slot, "a closed session cannot lead");
        assert!(
            next_leading.term() > leading.term(),
            "terms grow: {} after {}",
            next_leading.term(),
            leading.term()
        );
        assert!(!leading.is_leader(), "the closed leader knows it is not");
        // Its session is closed: dropping the leadership has nothing left to remove.
        drop(leading);
        sessions[slot] = stand(slot, &connect, &tx).await;
        standing(&admin, CANDIDATES).await;
        (slot, leading) = (next, next_leading);
    }
    drop(leading);
    close_all(sessions).await;
    admin.delete_all(ROOT).await.expect("clean up");
    admin.close().await.expect("close");
    latencies.sort_unstable();
    close_replies.sort_unstable();
    Rounds {
        latencies,
        close_replies,
        cpu,
        system_cpu,
    }
}

/// What the timed rounds of one backend measured, each list sorted.
struct Rounds {
    /// From closing the leader's session to the next leader's `campaign()` returning.
    latencies: Vec<Duration>,
    /// From closing the leader's session to the server's reply to the close: the server's
    /// share, for reference.
    close_replies: Vec<Duration>,
    /// The client's CPU time in the timed parts of the rounds.
    cpu: Duration,
    /// The kernel's part of `cpu`.
    system_cpu: Duration,
}

/// Runs the rounds on one backend and prints its report line; returns the median when timed.
async fn report<F, Fut>(backend: &str, connect: F, rounds: usize, timed: bool) -> Duration
where
    F: Fn() -> Fut,
    Fut: Future<Output = Zk>,
{
    let warm_up = if timed { WARM_UP_ROUNDS } else { 0 };
    let started = Instant::now();
    let rounds = failovers(connect, warm_up, rounds).await;
    let close_reply = rounds
        .close_replies
        .get(rounds.close_replies.len() / 2)
        .copied()
        .unwrap_or_default();
    let measured = Measurement {
        timed,
        ops: rounds.latencies.len(),
        elapsed: started.elapsed(),
        cpu: rounds.cpu,
        system_cpu: rounds.system_cpu,
        latencies: rounds.latencies,
    };
    let name = format!("{backend} failover x{CANDIDATES}");
    if !timed {
        println!(
            "{name:<26} {} rounds, every one elected the next candidate with a higher term (not measured)",
            measured.calls()
        );
        return Duration::ZERO;
    }
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{name:<26} p50 {:>6.0} µs   p99 {:>6.0} µs   min {:>6.0} µs   max {:>6.0} µs   (close reply p50 {:>5.0} µs)   client CPU {:>4.0} µs/failover   ({} rounds after {warm_up} to warm up, {:.1} s in all)",
        micros(measured.percentile(0.50)),
        micros(measured.percentile(0.99)),
        micros(measured.percentile(0.0)),
        micros(measured.percentile(1.0)),
        micros(close_reply),
        micros(measured.cpu_per_op()),
        measured.calls(),
        measured.elapsed.as_secs_f64(),
    );
    measured.percentile(0.50)
}

fn main() {
    main_against_a_server("failover", async |mode, server| {
        let timed = mode == BenchMode::Measure;
        let rounds = mode.span().pick(ROUNDS, CHECK_ROUNDS);
        let hosts = server.connect_string();
        println!(
            "zk-election failover against ZooKeeper at {hosts} ({rounds} rounds, current-thread runtime)"
        );
        let median = report(
            "zookeeper",
            || async { Arc::new(ZkClient::connect(&hosts).await.expect("connect")) as Zk },
            rounds,
            timed,
        )
        .await;
        if timed {
            println!(
                "target: median failover <= 1 ms ({})",
                verdict(median <= TARGET_MEDIAN)
            );
        }

        announce_the_fake(false);
        let ensemble = zk_fake::FakeEnsemble::new();
        report(
            "fake",
            || async { Arc::new(ensemble.connect()) as Zk },
            rounds,
            timed,
        )
        .await;
    });
}
