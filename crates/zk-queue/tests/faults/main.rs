//! The queue under faults on the fake: proptest scenarios of producers putting items (with
//! priorities, delays and batches) while consumers taking with leases are killed at random
//! points, expire, lose their connection and lose replies.
//!
//! Checked, once the faults stop and the queue drains:
//! - every item put is acknowledged exactly once (an acknowledgement whose outcome nothing
//!   can tell, `Uncertain`, stands in for the one that cannot be seen), and none is lost;
//! - queue order: no consumer took an item while an item ahead of it (lower priority, or the
//!   same priority put earlier) was there, due and unclaimed the whole time; this covers
//!   per-producer FIFO and priorities;
//! - no item was taken before its delay passed;
//! - only documented errors; and once the consumers stop, no lease and no line node is left.
//!
//! `PROPTEST_CASES` sets the number of cases.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use zk_core::Coordinator;
use zk_fake::{FakeEnsemble, FakeSession, Fault, OpKind, OpMatcher};
use zk_queue::{PutOptions, Queue, QueueError};
use zk_testkit::fault_world::{block_on_paused, cancel_after_polls};

const PATH: &str = "/faults/queue";
const PRODUCERS: usize = 2;
const CONSUMERS: usize = 4;

#[derive(Debug, Clone)]
enum Step {
    /// A producer puts `batch` items (one `put_all` when more than one).
    Put {
        producer: usize,
        priority: u16,
        delay_ms: Option<u64>,
        batch: usize,
    },
    /// A consumer dies wherever it is: its session expires and its task stops for good, so
    /// the others must notice what it held come back. The last one alive only expires.
    Kill(usize),
    /// A consumer's session expires under it.
    Expire(usize),
    /// A consumer's connection drops for this many milliseconds.
    Cut(usize, u64),
    /// A consumer's next operation of this kind is applied but its reply is lost.
    LoseReply(usize, OpKind),
    /// Time passes.
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let consumer = 0..CONSUMERS;
    prop_oneof![
        6 => (0..PRODUCERS, 0u16..3, proptest::option::weighted(0.3, 1u64..2000), 1usize..4)
            .prop_map(|(producer, priority, delay_ms, batch)| Step::Put { producer, priority, delay_ms, batch }),
        1 => consumer.clone().prop_map(Step::Kill),
        1 => consumer.clone().prop_map(Step::Expire),
        1 => (consumer.clone(), 1u64..3000).prop_map(|(c, ms)| Step::Cut(c, ms)),
        2 => (consumer, prop_oneof![Just(OpKind::Create), Just(OpKind::Multi), Just(OpKind::Delete)])
            .prop_map(|(c, kind)| Step::LoseReply(c, kind)),
        3 => (0u64..300).prop_map(Step::Wait),
    ]
}

/// An item as put.
#[derive(Debug, Clone)]
struct Put {
    /// (priority, sequence): the queue order.
    order: (u16, i32),
    started: Instant,
    done: Instant,
    delay: Duration,
}

/// One take that returned a lease: when it started and returned.
#[derive(Debug, Clone)]
struct Claim {
    item: String,
    started: Instant,
    returned: Instant,
}

#[derive(Debug, Default)]
struct Record {
    puts: HashMap<String, Put>,
    claims: Vec<Claim>,
    /// Takes that were killed: (started, killed). They may have held any item meanwhile.
    killed: Vec<(Instant, Instant)>,
    /// The start of each consumer's take in progress.
    taking: HashMap<usize, Instant>,
    /// The item each consumer is acknowledging.
    acking: HashMap<usize, String>,
    acked: HashMap<String, u32>,
    uncertain: HashMap<String, u32>,
    errors: Vec<String>,
}

type Shared = Arc<Mutex<Record>>;

fn spawn_consumer(c: usize, zk: FakeSession, record: Shared) -> JoinHandle<()> {
    tokio::spawn(async move {
        let queue = Queue::new(zk, PATH).unwrap();
        let mut n = 0u64;
        loop {
            let started = Instant::now();
            record.lock().unwrap().taking.insert(c, started);
            // No timeout: a waiter that is never woken fails the drain below.
            let taken = queue.take_leased().await;
            record.lock().unwrap().taking.remove(&c);
            let lease = match taken {
                Ok(lease) => lease,
                Err(e) => {
                    record.lock().unwrap().errors.push(format!("take: {e}"));
                    return;
                }
            };
            let item = String::from_utf8(lease.data().to_vec()).unwrap();
            record.lock().unwrap().claims.push(Claim {
                item: item.clone(),
                started,
                returned: Instant::now(),
            });
            n += 1;
            tokio::time::sleep(Duration::from_millis((n * 37 + c as u64 * 13) % 400)).await;
            record.lock().unwrap().acking.insert(c, item.clone());
            let acked = lease.ack().await;
            let mut record = record.lock().unwrap();
            record.acking.remove(&c);
            match acked {
                Ok(_) => *record.acked.entry(item).or_default() += 1,
                Err(QueueError::Uncertain { .. }) => {
                    *record.uncertain.entry(item).or_default() += 1
                }
                Err(QueueError::LeaseLost { .. }) => {}
                Err(e) => record.errors.push(format!("ack {item}: {e}")),
            }
        }
    })
}

async fn run(steps: Vec<Step>) {
    let ensemble = FakeEnsemble::new();
    let record: Shared = Arc::default();
    let producers: Vec<Queue<FakeSession>> = (0..PRODUCERS)
        .map(|_| Queue::new(ensemble.connect(), PATH).unwrap())
        .collect();
    let sessions: Vec<FakeSession> = (0..CONSUMERS).map(|_| ensemble.connect()).collect();
    let consumers: Vec<JoinHandle<()>> = sessions
        .iter()
        .enumerate()
        .map(|(c, zk)| spawn_consumer(c, zk.clone(), record.clone()))
        .collect();
    let mut counts = [0usize; PRODUCERS];
    let mut alive = [true; CONSUMERS];
    for step in steps {
        match step {
            Step::Put {
                producer,
                priority,
                delay_ms,
                batch,
            } => {
                let delay = Duration::from_millis(delay_ms.unwrap_or(0));
                let mut options = PutOptions::new().priority(priority);
                if delay_ms.is_some() {
                    options = options.delay(delay);
                }
                let items: Vec<String> = (0..batch)
                    .map(|i| format!("p{producer}-{:04}", counts[producer] + i))
                    .collect();
                counts[producer] += batch;
                let started = Instant::now();
                let names = producers[producer]
                    .put_all(items.iter().map(|i| i.clone().into_bytes()), &options)
                    .await
                    .unwrap();
                let done = Instant::now();
                let mut record = record.lock().unwrap();
                for (item, name) in items.into_iter().zip(names) {
                    let sequence = zk_core::path::sequence_number(&name).unwrap();
                    record.puts.insert(
                        item,
                        Put {
                            order: (priority, sequence),
                            started,
                            done,
                            delay,
                        },
                    );
                }
            }
            Step::Kill(c) => {
                ensemble.faults().expire_session(sessions[c].session_id());
                if !alive[c] || alive.iter().filter(|a| **a).count() == 1 {
                    continue;
                }
                alive[c] = false;
                consumers[c].abort();
                let mut seen = record.lock().unwrap();
                if let Some(started) = seen.taking.remove(&c) {
                    seen.killed.push((started, Instant::now()));
                }
                // Killed acknowledging: the ack may have been applied, unseen.
                if let Some(item) = seen.acking.remove(&c) {
                    *seen.uncertain.entry(item).or_default() += 1;
                }
                drop(seen);
            }
            Step::Expire(c) => {
                ensemble.faults().expire_session(sessions[c].session_id());
            }
            Step::Cut(c, ms) => {
                ensemble
                    .faults()
                    .disconnect(sessions[c].session_id(), Duration::from_millis(ms));
            }
            Step::LoseReply(c, kind) => ensemble.faults().fail_next(
                OpMatcher::op(kind).session(sessions[c].session_id()),
                Fault::ConnectionLossAfterApply,
            ),
            Step::Wait(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        }
    }
    ensemble.faults().clear();

    // Drain: every item acknowledged (or uncertainly so), and the queue empty.
    let observer = ensemble.connect();
    let entries = format!("{PATH}/entries");
    let drained = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let empty = observer
                .get_children(&entries)
                .await
                .map_or(true, |(names, _)| names.is_empty());
            {
                let record = record.lock().unwrap();
                let done = record
                    .puts
                    .keys()
                    .all(|i| record.acked.contains_key(i) || record.uncertain.contains_key(i));
                if (done && empty) || !record.errors.is_empty() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    for consumer in &consumers {
        consumer.abort();
    }
    // Aborted tasks never run again, so the record is final.
    {
        let record = record.lock().unwrap();
        assert!(
            record.errors.is_empty(),
            "undocumented errors: {:?}",
            record.errors
        );
        assert!(
            drained.is_ok(),
            "not drained: put {}, acked {:?}, uncertain {:?}",
            record.puts.len(),
            record.acked,
            record.uncertain
        );
        check(&record);
    }

    // Nothing left behind once the consumers stop: no item, lease or place in line.
    let left = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let mut left = Vec::new();
            for dir in ["entries", "taken", "waiting"] {
                if let Ok((names, _)) = observer.get_children(&format!("{PATH}/{dir}")).await {
                    left.extend(names.into_iter().map(|n| format!("{dir}/{n}")));
                }
            }
            if left.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(
        left.is_ok(),
        "nodes left behind after the consumers stopped"
    );
}

fn check(record: &Record) {
    for item in record.puts.keys() {
        let acked = record.acked.get(item).copied().unwrap_or(0);
        let uncertain = record.uncertain.get(item).copied().unwrap_or(0);
        assert!(acked <= 1, "{item} acknowledged {acked} times");
        assert!(acked + uncertain >= 1, "{item} never acknowledged");
    }
    for item in record.acked.keys().chain(record.uncertain.keys()) {
        assert!(record.puts.contains_key(item), "{item} was never put");
    }
    for claim in &record.claims {
        let put = &record.puts[&claim.item];
        // Due at the listing, which came after the put started plus the delay (the name
        // holds whole milliseconds).
        assert!(
            claim.returned + Duration::from_millis(1) >= put.started + put.delay,
            "{} taken {:?} before its delay passed",
            claim.item,
            (put.started + put.delay) - claim.returned
        );
        // Queue order: an item ahead, in the queue and due before this take listed, and
        // claimed by nobody while it ran, would have been taken instead.
        let listed_by = claim.started.max(put.started);
        for (other, ahead) in &record.puts {
            let unclaimed_meanwhile = record
                .claims
                .iter()
                .filter(|c| &c.item == other)
                .all(|c| c.started > claim.returned)
                && record
                    .killed
                    .iter()
                    .all(|&(started, killed)| started > claim.returned || killed < claim.started);
            assert!(
                !(ahead.order < put.order
                    && ahead.done <= listed_by
                    && ahead.started + ahead.delay + Duration::from_millis(1) <= claim.started
                    && unclaimed_meanwhile),
                "{} ({:?}) was taken while {other} ({:?}) was ahead of it",
                claim.item,
                put.order,
                ahead.order
            );
        }
    }
}

proptest! {
    #![proptest_config(zk_testkit::fault_world::strategy::config())]

    #[test]
    fn leased_items_are_acknowledged_once_in_queue_order(steps in proptest::collection::vec(step(), 1..30)) {
        run_paused(steps);
    }
}

/// Runs one scenario on a paused clock.
fn run_paused(steps: Vec<Step>) {
    block_on_paused(run(steps));
}

/// The holder of the only lease dies while every other consumer waits in line with nothing
/// else in the queue: only the lease's deletion can wake them. (Random scenarios rarely end
/// this way, since a later put wakes the line too.)
#[test]
fn a_lease_dying_with_its_holder_wakes_the_line() {
    run_paused(vec![
        Step::Wait(10),
        Step::Put {
            producer: 0,
            priority: 1,
            delay_ms: None,
            batch: 1,
        },
        // Consumer 0, first in line, holds it (working for 37 ms).
        Step::Wait(5),
        Step::Kill(0),
    ]);
}

/// The children of `dir` under the queue, or none.
async fn names(zk: &FakeSession, dir: &str) -> Vec<String> {
    zk.get_children(&format!("{PATH}/{dir}"))
        .await
        .map(|(names, _)| names)
        .unwrap_or_default()
}

/// A take dropped at each of its await points in turn leaves nothing of its own behind (no
/// lease, no place in line); a dropped leased take never loses the item. Both with the item
/// there at once and with the taker in line when it comes.
#[test]
fn takes_dropped_at_every_await_point_leave_nothing_behind() {
    block_on_paused(async {
        for leased in [false, true] {
            for in_line in [false, true] {
                let mut finished = false;
                for polls in 1..200 {
                    let ensemble = FakeEnsemble::new();
                    let (zk, producer) = (ensemble.connect(), ensemble.connect());
                    let queue = Queue::new(zk.clone(), PATH).unwrap();
                    let producer = Queue::new(producer, PATH).unwrap();
                    // Each reply of the taker's a little late: every request is an await
                    // point to drop the take at.
                    ensemble.faults().inject(
                        OpMatcher::any().session(zk.session_id()),
                        Fault::DelayReply(Duration::from_millis(1)),
                        None,
                    );
                    let put = tokio::spawn(async move {
                        if in_line {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        producer.put(b"x".to_vec()).await.unwrap();
                    });
                    if !in_line {
                        put.await.unwrap();
                    }
                    let took = if leased {
                        let take = queue.take_leased();
                        match cancel_after_polls(take, polls).await {
                            Some(lease) => Some(lease.unwrap().ack().await.unwrap()),
                            None => None,
                        }
                    } else {
                        let take = queue.take();
                        cancel_after_polls(take, polls).await.map(Result::unwrap)
                    };
                    // Background removals run, and the put lands if it had not.
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let (entries, taken, waiting) = (
                        names(&zk, "entries").await,
                        names(&zk, "taken").await,
                        names(&zk, "waiting").await,
                    );
                    let case = format!("leased {leased}, in line {in_line}, {polls} polls");
                    assert!(taken.is_empty(), "{case}: lease left {taken:?}");
                    assert!(waiting.is_empty(), "{case}: line node left {waiting:?}");
                    match took {
                        Some(item) => {
                            assert_eq!(item.data(), b"x", "{case}");
                            assert!(entries.is_empty(), "{case}: {entries:?}");
                            finished = true;
                            break;
                        }
                        None if leased => assert_eq!(entries.len(), 1, "{case}: item lost"),
                        None => assert!(entries.len() <= 1, "{case}"),
                    }
                }
                assert!(
                    finished,
                    "leased {leased}, in line {in_line}: never finished"
                );
            }
        }
    });
}
