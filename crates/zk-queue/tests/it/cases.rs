//! Queue behaviour written once, run against every backend (the fake and a real server).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error};
use zk_queue::{Layout, PutOptions, Queue, QueueError};
use zk_testkit::Backend;
use zk_testkit::counting::Counting;
use zk_testkit::timing::within;

type Zk = Arc<dyn Coordinator>;

fn base() -> String {
    format!("/queue-{}", uuid::Uuid::new_v4().simple())
}

fn priority(p: u16) -> PutOptions {
    PutOptions::new().priority(p)
}

/// Takes everything there is now, at most once, as text.
async fn drain(queue: &Queue<Zk>) -> Vec<String> {
    let mut taken = Vec::new();
    while let Some(item) = queue.try_take().await.unwrap() {
        taken.push(String::from_utf8(item.into_data()).unwrap());
    }
    taken
}

/// The children of `path`, or none if it is missing.
async fn children(zk: &Zk, path: &str) -> Vec<String> {
    match zk.get_children(path).await {
        Ok((names, _)) => names,
        Err(Error::NoNode { .. }) => Vec::new(),
        Err(e) => panic!("listing {path}: {e}"),
    }
}

/// Waits (bounded) until `path` has no children: a background removal finished.
async fn until_empty(zk: &Zk, path: &str) {
    within(async {
        while !children(zk, path).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

pub(crate) async fn priorities_first_then_arrival_order(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let path = base();
    let queue = Queue::new(zk.clone(), &path).unwrap();
    assert_eq!(
        queue.len().await.unwrap(),
        0,
        "a queue that does not exist is empty"
    );
    let first = queue.put(b"a1".to_vec()).await.unwrap();
    assert!(
        first.starts_with("entry-100-"),
        "kazoo's default priority: {first}"
    );
    queue
        .put_with(b"z1".to_vec(), &priority(999))
        .await
        .unwrap();
    queue.put(b"a2".to_vec()).await.unwrap();
    queue.put_with(b"u1".to_vec(), &priority(0)).await.unwrap();
    let batch = queue
        .put_all(
            [b"b1".to_vec(), b"b2".to_vec(), b"b3".to_vec()],
            &priority(50),
        )
        .await
        .unwrap();
    assert_eq!(batch.len(), 3);
    assert!(batch.windows(2).all(|w| w[0] < w[1]), "in order: {batch:?}");
    queue.put_with(b"u2".to_vec(), &priority(0)).await.unwrap();
    assert_eq!(queue.len().await.unwrap(), 8);

    let peeked = queue.peek().await.unwrap().unwrap();
    assert_eq!((peeked.data(), peeked.priority()), (&b"u1"[..], 0));
    assert_eq!(queue.len().await.unwrap(), 8, "peeking takes nothing");
    assert_eq!(
        drain(&queue).await,
        ["u1", "u2", "b1", "b2", "b3", "a1", "a2", "z1"]
    );
    assert!(queue.is_empty().await.unwrap());
    assert_eq!(queue.peek().await.unwrap(), None);
    zk.delete_all(&path).await.unwrap();
}

pub(crate) async fn delayed_items_wait_until_due(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let path = base();
    let queue = Queue::new(zk.clone(), &path).unwrap();
    let delay = Duration::from_millis(400);
    let start = Instant::now();
    queue
        .put_with(b"later".to_vec(), &priority(0).delay(delay))
        .await
        .unwrap();
    queue.put(b"now".to_vec()).await.unwrap();
    let stats = queue.stats().await.unwrap();
    assert_eq!((stats.ready, stats.delayed), (1, 1));
    // The delayed item is first by priority, but not due: the other one comes first.
    assert_eq!(queue.take().await.unwrap().data(), b"now");
    assert_eq!(queue.try_take().await.unwrap(), None);
    assert_eq!(queue.peek().await.unwrap(), None);
    // A waiting take wakes when it falls due: no put needed.
    let later = queue
        .take_timeout(delay * 10)
        .await
        .unwrap()
        .expect("the delayed item");
    assert_eq!(later.data(), b"later");
    assert!(later.not_before().is_some());
    // Milliseconds are whole in the name: allow for the one truncated.
    assert!(
        start.elapsed() + Duration::from_millis(1) >= delay,
        "taken after {:?}",
        start.elapsed()
    );
    zk.delete_all(&path).await.unwrap();
}

pub(crate) async fn a_waiting_take_gets_the_next_put_and_gives_up_cleanly(backend: &dyn Backend) {
    let (producer, consumer) = (backend.connect().await, backend.connect().await);
    let path = base();
    let queue = Queue::new(consumer.clone(), &path).unwrap();
    let start = Instant::now();
    assert_eq!(
        queue
            .take_timeout(Duration::from_millis(200))
            .await
            .unwrap(),
        None
    );
    assert!(start.elapsed() >= Duration::from_millis(200));
    let waiting = tokio::spawn({
        let queue = queue.clone();
        async move { queue.take().await }
    });
    // Wait until the taker stands in line (so the put below is one it must be woken for).
    let line = format!("{path}/waiting");
    within(async {
        while children(&producer, &line).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    Queue::new(producer.clone(), &path)
        .unwrap()
        .put(b"job".to_vec())
        .await
        .unwrap();
    let item = within(waiting).await.unwrap().unwrap();
    assert_eq!(item.data(), b"job");
    // Nobody is left in line, and nothing in the queue.
    until_empty(&producer, &line).await;
    assert!(queue.is_empty().await.unwrap());
    producer.delete_all(&path).await.unwrap();
}

pub(crate) async fn idle_consumers_are_not_all_woken_by_a_put(backend: &dyn Backend) {
    const CONSUMERS: usize = 6;
    const PUTS: usize = 6;
    let path = base();
    let producer = Queue::new(backend.connect().await, &path).unwrap();
    let mut counted = Vec::new();
    let mut takers = Vec::new();
    let (tx, mut taken) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..CONSUMERS {
        let zk = Counting::new(backend.connect().await);
        counted.push(zk.counts().clone());
        let queue = Queue::new(zk, &path).unwrap();
        let tx = tx.clone();
        takers.push(tokio::spawn(async move {
            loop {
                let item = queue.take().await.unwrap();
                if tx.send(item.into_data()).is_err() {
                    return;
                }
            }
        }));
    }
    let line = format!("{path}/waiting");
    let observer = backend.connect().await;
    let in_line = || async { children(&observer, &line).await.len() };
    within(async {
        while in_line().await < CONSUMERS {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let before: u64 = counted.iter().map(|c| c.node_events()).sum();
    for i in 0..PUTS {
        producer.put(vec![u8::try_from(i).unwrap()]).await.unwrap();
        assert_eq!(
            within(taken.recv()).await.unwrap(),
            [u8::try_from(i).unwrap()]
        );
        // The taker is back in line before the next put.
        within(async {
            while in_line().await < CONSUMERS {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
    }
    let woken: u64 = counted.iter().map(|c| c.node_events()).sum::<u64>() - before;
    // Per put: the head is told of the item, and the next in line of the head leaving. kazoo
    // and Curator would wake all six.
    assert!(
        woken <= 2 * PUTS as u64,
        "{woken} wake-ups for {PUTS} puts with {CONSUMERS} idle consumers"
    );
    for taker in takers {
        taker.abort();
    }
    drop(taken);
    observer.delete_all(&path).await.unwrap();
}

pub(crate) async fn a_lease_comes_back_when_dropped_released_or_its_session_ends(
    backend: &dyn Backend,
) {
    let path = base();
    let (a, b) = (backend.connect().await, backend.connect().await);
    let (qa, qb) = (
        Queue::new(a.clone(), &path).unwrap(),
        Queue::new(b.clone(), &path).unwrap(),
    );
    qa.put(b"job".to_vec()).await.unwrap();

    // Dropped unacknowledged: back in the queue.
    let lease = qa.take_leased().await.unwrap();
    assert!(lease.is_held());
    assert_eq!(
        qb.try_take_leased()
            .await
            .unwrap()
            .map(|l| l.item().clone()),
        None
    );
    assert_eq!(
        qb.try_take().await.unwrap(),
        None,
        "a leased item is not taken"
    );
    assert_eq!(qb.stats().await.unwrap().leased, 1);
    drop(lease);
    let lease = within(qb.take_leased()).await.unwrap();
    assert_eq!(lease.data(), b"job");

    // Given back: the next consumer has it.
    lease.release().await.unwrap();
    let lease = qa.take_leased().await.unwrap();

    // Lost with the session: a consumer waiting for it gets it, and the old ack writes nothing.
    let waiter = tokio::spawn({
        let qb = qb.clone();
        async move { qb.take_leased().await.map(|l| l.item().clone()) }
    });
    let lost = lease.lost();
    assert!(backend.expire_session(a.as_ref()).await);
    within(lost).await;
    assert!(!lease.is_held());
    let item = within(waiter).await.unwrap().unwrap();
    assert_eq!(item.data(), b"job");
    assert!(matches!(
        lease.ack().await,
        Err(QueueError::LeaseLost { .. })
    ));

    // Acknowledged: gone for good, lease and all.
    let lease = qb.take_leased().await.unwrap();
    let acked = lease.ack().await.unwrap();
    assert_eq!(acked.data(), b"job");
    assert!(qb.is_empty().await.unwrap());
    until_empty(&b, &format!("{path}/taken")).await;
    b.delete_all(&path).await.unwrap();
}

pub(crate) async fn oversized_items_are_refused_and_nothing_is_written(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let path = base();
    let queue = Queue::new(zk.clone(), &path).unwrap();
    let too_big = vec![7u8; 1024 * 1024 + 1];
    assert!(matches!(
        queue.put(too_big).await,
        Err(QueueError::ZooKeeper(Error::TooLarge { .. }))
    ));
    // Each fits; together they do not: the whole batch is refused.
    let half = vec![1u8; 600 * 1024];
    assert!(matches!(
        queue
            .put_all([half.clone(), half], &PutOptions::new())
            .await,
        Err(QueueError::ZooKeeper(Error::TooLarge { .. }))
    ));
    assert!(matches!(
        queue.put_with(b"x".to_vec(), &priority(1000)).await,
        Err(QueueError::InvalidPriority(1000))
    ));
    assert_eq!(queue.len().await.unwrap(), 0);
    let fits = vec![2u8; 1000 * 1024];
    queue.put(fits.clone()).await.unwrap();
    assert_eq!(queue.take().await.unwrap().into_data(), fits);
    zk.delete_all(&path).await.unwrap();
}

pub(crate) async fn foreign_children_are_skipped_and_reported(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let path = base();
    let queue = Queue::new(zk.clone(), &path).unwrap();
    queue.put(b"real".to_vec()).await.unwrap();
    let entries = format!("{path}/entries");
    for name in ["garbage", "entry-abc-0000000001", "entry-000-x"] {
        zk.create(
            &format!("{entries}/{name}"),
            b"\xff\x00",
            &CreateOptions::persistent(),
        )
        .await
        .unwrap();
    }
    let stats = queue.stats().await.unwrap();
    assert_eq!((stats.ready, stats.items()), (1, 1));
    let mut foreign = stats.foreign.clone();
    foreign.sort();
    assert_eq!(foreign, ["entry-000-x", "entry-abc-0000000001", "garbage"]);
    assert_eq!(queue.len().await.unwrap(), 1);
    assert_eq!(queue.take().await.unwrap().data(), b"real");
    assert_eq!(
        queue
            .try_take_leased()
            .await
            .unwrap()
            .map(|l| l.item().clone()),
        None
    );
    assert_eq!(
        children(&zk, &entries).await.len(),
        3,
        "foreign nodes are left alone"
    );
    zk.delete_all(&path).await.unwrap();
}

pub(crate) async fn kazoos_flat_layout_has_no_leases(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let path = base();
    let line = format!("{path}-line");
    assert!(matches!(
        Queue::kazoo_queue(zk.clone(), &path, &format!("{path}/line")),
        Err(QueueError::InvalidLayout(_))
    ));
    let queue = Queue::kazoo_queue(zk.clone(), &path, &line).unwrap();
    assert_eq!(queue.layout(), &Layout::flat(&path, &line).unwrap());
    queue.put(b"one".to_vec()).await.unwrap();
    queue
        .put_with(b"zero".to_vec(), &priority(0))
        .await
        .unwrap();
    let names = children(&zk, &path).await;
    assert_eq!(names.len(), 2);
    assert!(names.iter().all(|n| n.starts_with("entry-")), "{names:?}");
    assert!(matches!(
        queue.take_leased().await,
        Err(QueueError::NoLeases)
    ));
    assert!(matches!(
        queue.take_leased_timeout(Duration::from_secs(1)).await,
        Err(QueueError::NoLeases)
    ));
    assert_eq!(drain(&queue).await, ["zero", "one"]);
    zk.delete_all(&path).await.unwrap();
    zk.delete_all(&line).await.unwrap();
}

pub(crate) async fn busy_consumers_take_every_item_once_in_order(backend: &dyn Backend) {
    const PRODUCERS: usize = 3;
    const ITEMS: usize = 20;
    let path = base();
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let queue = Queue::new(backend.connect().await, &path).unwrap();
        producers.push(tokio::spawn(async move {
            for i in 0..ITEMS {
                let item = format!("{p}-{i:03}");
                if i % 5 == 0 {
                    queue
                        .put_all([item.into_bytes()], &PutOptions::new())
                        .await
                        .unwrap();
                } else {
                    queue.put(item.into_bytes()).await.unwrap();
                }
            }
        }));
    }
    // Consumers stop once the producers are done and nothing came for a while.
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut consumers = Vec::new();
    for c in 0..4 {
        let queue = Queue::new(backend.connect().await, &path).unwrap();
        let done = done.clone();
        consumers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let item = if c % 2 == 0 {
                    queue
                        .take_timeout(Duration::from_millis(500))
                        .await
                        .unwrap()
                } else {
                    match queue
                        .take_leased_timeout(Duration::from_millis(500))
                        .await
                        .unwrap()
                    {
                        Some(lease) => Some(lease.ack().await.unwrap()),
                        None => None,
                    }
                };
                match item {
                    Some(item) => got.push(String::from_utf8(item.into_data()).unwrap()),
                    None if done.load(std::sync::atomic::Ordering::Acquire) => return got,
                    None => {}
                }
            }
        }));
    }
    for producer in producers {
        within(producer).await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let mut all = Vec::new();
    for consumer in consumers {
        let got = within(consumer).await.unwrap();
        // Each consumer saw each producer's items in the order they were put.
        let mut last: BTreeMap<&str, &str> = BTreeMap::new();
        for item in &got {
            let (p, i) = item.split_once('-').unwrap();
            if let Some(prev) = last.insert(p, i) {
                assert!(prev < i, "{item} after {p}-{prev}");
            }
        }
        all.extend(got);
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "an item was taken twice");
    assert_eq!(all.len(), PRODUCERS * ITEMS, "an item was lost");
    let zk = backend.connect().await;
    assert!(children(&zk, &format!("{path}/entries")).await.is_empty());
    until_empty(&zk, &format!("{path}/waiting")).await;
    zk.delete_all(&path).await.unwrap();
}

zk_testkit::recipe_suite! {
    /// Stamps every queue case for one backend: `queue_cases!(backend = ..., time = paused | real)`.
    macro queue_cases;
    module = crate::cases;
    source = include_str!("cases.rs");
    cases = [
        priorities_first_then_arrival_order,
        delayed_items_wait_until_due,
        a_waiting_take_gets_the_next_put_and_gives_up_cleanly,
        idle_consumers_are_not_all_woken_by_a_put,
        a_lease_comes_back_when_dropped_released_or_its_session_ends,
        oversized_items_are_refused_and_nothing_is_written,
        foreign_children_are_skipped_and_reported,
        kazoos_flat_layout_has_no_leases,
        busy_consumers_take_every_item_once_in_order,
    ];
}
