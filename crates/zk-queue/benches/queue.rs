//! Queue benchmark against a real local ZooKeeper (started by the zk-testkit harness, tuned
//! for throughput), with the in-memory fake for reference.
//!
//! Workloads, on each backend:
//! - `round trips`: one session puts and takes items one at a time, through a counting
//!   wrapper: round trips per put (1 is the target) and per take (2: the listing, then the
//!   pipelined read and claim);
//! - `4 + 4, take` and `4 + 4, leased`: four producer sessions put 100-byte items as fast as
//!   they can (at most [`BACKLOG`] items waiting, so the listing stays a realistic size)
//!   while four consumer sessions take them, at most once or leased and acknowledged; the
//!   rate, latencies and CPU are of the takes, CPU counting producers and consumers;
//! - `wake-ups`: eight idle consumers (through counting wrappers), a producer putting items
//!   one at a time, each taken before the next: the node events their watches delivered per
//!   put, which is how many consumers a put woke. The target is at most 2 (the head of the
//!   line told of the item, the next told that the head left); kazoo and Curator wake all
//!   eight.
//!
//! Run with `cargo bench -p zk-queue --bench queue`; `ZK_BENCH_SECONDS` sets the length of
//! each timed workload (default 5). Under `cargo test` (no `--bench`) it only checks that it
//! works: a few items of each workload on both backends, including the wake-up bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt};
use zk_queue::Queue;
use zk_testkit::bench::{
    Layout, Span, announce_the_fake, close_all, main_against_a_server, run_workload, sessions,
    verdict,
};
use zk_testkit::counting::{Counting, Counts};

/// Producers and consumers of the throughput workloads.
const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;
/// Idle consumers of the wake-up count.
const IDLE: usize = 8;
/// Items waiting at most in the throughput workloads.
const BACKLOG: usize = 256;
/// Items per timed wake-up count, and per round-trip count.
const COUNTED_ITEMS: usize = 300;
/// An item's content.
const PAYLOAD: [u8; 100] = [b'x'; 100];
/// How the report lines look.
const LAYOUT: Layout = Layout {
    unit: "item",
    name_width: 24,
    cpu_decimals: 1,
};

/// Round trips per put and per take, one item at a time on one session.
async fn round_trips<C: Coordinator + Clone + 'static>(
    label: &str,
    zk: C,
    path: &str,
    items: usize,
) {
    let counting = Counting::new(zk);
    let queue = Queue::new(counting.clone(), path).expect("a valid queue");
    // The first put creates the queue's nodes; keep it out.
    queue.put(PAYLOAD.to_vec()).await.expect("put");
    queue.take().await.expect("take");
    let counts = counting.counts();
    let (mut puts, mut takes) = (0, 0);
    for _ in 0..items {
        let before = counts.round_trips();
        queue.put(PAYLOAD.to_vec()).await.expect("put");
        let between = counts.round_trips();
        queue.take().await.expect("take");
        puts += between - before;
        takes += counts.round_trips() - between;
    }
    let n = items as f64;
    println!(
        "{label:<24} {:.3} round trips/put, {:.3} round trips/take ({items} items, counted at the client)",
        puts as f64 / n,
        takes as f64 / n
    );
}

/// Producers on `producers` put while consumers on `consumers` take (`leased`: take leased
/// and acknowledge) for `span`; prints the report line and returns items taken per second.
async fn throughput<C: Coordinator + Clone + 'static>(
    name: String,
    producers: &[C],
    consumers: &[C],
    path: &str,
    leased: bool,
    span: Span,
) -> f64 {
    let room = Arc::new(Semaphore::new(BACKLOG));
    let stop = Arc::new(AtomicBool::new(false));
    let producing: Vec<_> = producers
        .iter()
        .map(|zk| {
            let queue = Queue::new(zk.clone(), path).expect("a valid queue");
            let (room, stop) = (room.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Acquire) {
                    room.acquire().await.expect("open").forget();
                    queue.put(PAYLOAD.to_vec()).await.expect("put");
                }
            })
        })
        .collect();
    let queues: Arc<Vec<Queue<C>>> = Arc::new(
        consumers
            .iter()
            .map(|zk| Queue::new(zk.clone(), path).expect("a valid queue"))
            .collect(),
    );
    let taking = room.clone();
    let measured = run_workload(consumers.len(), span, move |caller, _| {
        let (queue, room) = (queues[caller].clone(), taking.clone());
        async move {
            let wait = Duration::from_millis(100);
            let taken = if leased {
                match queue.take_leased_timeout(wait).await.expect("take") {
                    Some(lease) => Some(lease.ack().await.expect("ack")),
                    None => None,
                }
            } else {
                queue.take_timeout(wait).await.expect("take")
            };
            if taken.is_some() {
                room.add_permits(1);
            }
            usize::from(taken.is_some())
        }
    })
    .await;
    stop.store(true, Ordering::Release);
    room.add_permits(PRODUCERS);
    for producer in producing {
        producer.await.expect("a producer");
    }
    println!("{}", measured.line(&name, &LAYOUT));
    measured.rate()
}

/// Eight idle consumers on `idle`, a producer on `producer` putting `items` items one at a
/// time; prints and returns the watch notifications per put.
async fn wake_ups<C: Coordinator + Clone + 'static>(
    label: &str,
    producer: &C,
    idle: &[Counting<C>],
    path: &str,
    items: usize,
    leased: bool,
) -> f64 {
    let (tx, mut taken) = mpsc::unbounded_channel();
    let consumers: Vec<_> = idle
        .iter()
        .map(|zk| {
            let queue = Queue::new(zk.clone(), path).expect("a valid queue");
            let tx = tx.clone();
            tokio::spawn(async move {
                loop {
                    let item = if leased {
                        let lease = queue.take_leased().await.expect("take");
                        lease.ack().await.expect("ack")
                    } else {
                        queue.take().await.expect("take")
                    };
                    if tx.send(item).is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    let queue = Queue::new(producer.clone(), path).expect("a valid queue");
    let line = queue.layout().line().to_owned();
    // Every consumer in line again: the state each put finds.
    let all_idle = || async {
        loop {
            match producer.get_children(&line).await {
                Ok((names, _)) if names.len() == idle.len() => return,
                _ => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    };
    all_idle().await;
    let counts: Vec<Arc<Counts>> = idle.iter().map(|s| s.counts().clone()).collect();
    let events = || counts.iter().map(|c| c.node_events()).sum::<u64>();
    let before = events();
    for _ in 0..items {
        queue.put(PAYLOAD.to_vec()).await.expect("put");
        taken.recv().await.expect("a consumer");
        all_idle().await;
    }
    let per_put = (events() - before) as f64 / items as f64;
    for consumer in consumers {
        consumer.abort();
    }
    println!(
        "{label:<24} {per_put:.3} watch notifications (consumers woken) per put, with {} idle consumers ({items} puts)",
        idle.len()
    );
    per_put
}

/// What the workloads of one backend found.
struct Figures {
    take: f64,
    leased: f64,
    wakes: f64,
    leased_wakes: f64,
}

/// Every workload on sessions from `connect`.
async fn workloads<C, F, Fut>(backend: &str, connect: F, span: Span) -> Figures
where
    C: Coordinator + Clone + 'static,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = C>,
{
    let root = "/bench-queue";
    let solo = connect().await;
    let counted = span.pick(COUNTED_ITEMS, zk_testkit::bench::CHECK_CALLS);
    round_trips(
        &format!("{backend} round trips"),
        solo.clone(),
        &format!("{root}/solo"),
        counted,
    )
    .await;

    let clients = sessions(PRODUCERS + CONSUMERS, &connect).await;
    let (producers, consumers) = clients.split_at(PRODUCERS);
    let take = throughput(
        format!("{backend} 4 + 4, take"),
        producers,
        consumers,
        &format!("{root}/take"),
        false,
        span,
    )
    .await;
    let leased = throughput(
        format!("{backend} 4 + 4, leased"),
        producers,
        consumers,
        &format!("{root}/leased"),
        true,
        span,
    )
    .await;
    close_all(clients).await;

    let idle: Vec<Counting<C>> = sessions(IDLE, &connect)
        .await
        .into_iter()
        .map(Counting::new)
        .collect();
    let wakes = wake_ups(
        &format!("{backend} wake-ups, take"),
        &solo,
        &idle,
        &format!("{root}/idle"),
        counted,
        false,
    )
    .await;
    let leased_wakes = wake_ups(
        &format!("{backend} wake-ups, leased"),
        &solo,
        &idle,
        &format!("{root}/idle-leased"),
        counted,
        true,
    )
    .await;
    close_all(idle.iter().map(Counting::inner).cloned()).await;
    solo.delete_all(root).await.expect("clean up");
    solo.close().await.expect("close");
    Figures {
        take,
        leased,
        wakes,
        leased_wakes,
    }
}

fn main() {
    main_against_a_server("queue", async |mode, server| {
        let span = mode.span();
        let hosts = server.connect_string();
        println!("zk-queue against ZooKeeper at {hosts} ({span}, current-thread runtime)");
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
        report(&fake, span);
    });
}

/// Prints the targets and fails when a put woke more than two consumers on average, taking
/// at most once.
fn report(figures: &Figures, span: Span) {
    let wakes_ok = figures.wakes <= 2.0;
    if span.is_timed() {
        println!(
            "targets: <= 2 wake-ups per put with {IDLE} idle consumers ({}; leased {:.2}); {:.0} items/s taken, {:.0} items/s leased and acknowledged",
            verdict(wakes_ok),
            figures.leased_wakes,
            figures.take,
            figures.leased,
        );
    }
    assert!(wakes_ok, "a put woke more than 2 idle consumers on average");
}
