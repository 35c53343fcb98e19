//! Tree cache behaviour only the fake can stage: connection cuts of a chosen length, counted
//! reads, watch counts, and random faults.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use zk_cache::{TreeCache, TreeCacheOptions, TreeEvent, WatchMode};
use zk_core::{Coordinator, CreateOptions, SessionState};
use zk_fake::FakeEnsemble;
use zk_testkit::counting::Counting;
use zk_testkit::timing::within;

/// The subtree at `root` of the fake's tree: path -> data.
fn truth(ensemble: &FakeEnsemble, root: &str) -> BTreeMap<String, Vec<u8>> {
    ensemble
        .snapshot()
        .into_iter()
        .filter(|(path, _)| path == root || path.starts_with(&format!("{root}/")))
        .map(|(path, (data, _))| (path, data))
        .collect()
}

fn cached(cache: &TreeCache) -> BTreeMap<String, Vec<u8>> {
    cache
        .snapshot()
        .into_iter()
        .map(|(p, n)| (p, n.data))
        .collect()
}

async fn reaches(zk: &impl Coordinator, state: SessionState) {
    let mut states = zk.session_state();
    within(states.wait_for(|s| *s == state)).await.unwrap();
}

/// Waits (bounded) until the cache equals the fake's tree.
async fn settles(cache: &TreeCache, events: &mut zk_cache::TreeEvents, ensemble: &FakeEnsemble) {
    within(async {
        while cached(cache) != truth(ensemble, cache.root()) {
            events.next().await.expect("the cache stopped");
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_reconnect_rereads_only_what_changed_while_away() {
    let ensemble = FakeEnsemble::new();
    let writer = ensemble.connect();
    writer
        .create("/t", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    for dir in 0..10 {
        writer
            .create(&format!("/t/d{dir}"), b"", &CreateOptions::persistent())
            .await
            .unwrap();
        for leaf in 0..100 {
            let path = format!("/t/d{dir}/n{leaf}");
            writer
                .create(&path, b"0", &CreateOptions::persistent())
                .await
                .unwrap();
        }
    }
    let zk = Counting::new(ensemble.connect());
    let (cache, mut events) = TreeCache::start(zk.clone(), "/t", TreeCacheOptions::new()).unwrap();
    within(cache.initialized()).await.unwrap();
    assert_eq!(cache.len(), 1011);
    let loaded = zk.counts().requests();

    assert!(
        ensemble
            .faults()
            .disconnect(zk.session_id(), Duration::from_millis(500))
    );
    reaches(&zk, SessionState::Disconnected).await;
    for n in 0..8 {
        writer
            .set_data(&format!("/t/d{n}/n{n}"), b"1", None)
            .await
            .unwrap();
    }
    writer
        .create("/t/d9/new", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    writer.delete("/t/d8/n0", None).await.unwrap();
    reaches(&zk, SessionState::SyncConnected).await;
    settles(&cache, &mut events, &ensemble).await;
    let reads = zk.counts().requests() - loaded;
    // 8 data reads, a listing of each of the two changed directories, the new node's data and
    // children, and a look at whether the deleted node is back: tens, not a thousand.
    assert_eq!(reads, 13, "{reads} reads after the reconnect");
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_create_delete_cycles_leave_no_watches_behind() {
    let ensemble = FakeEnsemble::new();
    let (zk, writer) = (ensemble.connect(), ensemble.connect());
    writer
        .create("/t", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    let (cache, mut events) = TreeCache::start(zk.clone(), "/t", TreeCacheOptions::new()).unwrap();
    within(cache.initialized()).await.unwrap();
    let mut most = 0;
    for cycle in 0..10_000 {
        writer
            .create("/t/n", b"", &CreateOptions::ephemeral())
            .await
            .unwrap();
        if cycle % 2 == 0 {
            settles(&cache, &mut events, &ensemble).await;
        }
        writer.delete("/t/n", None).await.unwrap();
        if cycle % 3 == 0 {
            settles(&cache, &mut events, &ensemble).await;
        }
        most = most.max(ensemble.watch_count(zk.session_id()).unwrap());
    }
    settles(&cache, &mut events, &ensemble).await;
    // The root's data and child watches, and the node's two while it is cached.
    assert!(most <= 4, "watches piled up: {most}");
    assert_eq!(ensemble.watch_count(zk.session_id()), Some(2));
    drop(cache);
    // The task is cancelled at its next turn on the runtime, dropping its watches.
    within(async {
        while ensemble.watch_count(zk.session_id()) != Some(0) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    // And its subscription ended.
    while let Some(event) = within(events.next()).await {
        assert!(!matches!(event, TreeEvent::Initialized));
    }
}

/// One step of a random scenario against a cached subtree.
#[derive(Debug, Clone)]
enum Step {
    /// Create the path (and missing parents) with this data.
    Create(usize, u8),
    /// Set the path's data, if it exists.
    Set(usize, u8),
    /// Delete the path and everything below it.
    Delete(usize),
    /// Cut the cache's connection for this many milliseconds (the session survives below
    /// its timeout, and expires above it).
    Disconnect(u64),
    /// Expire the cache's session.
    Expire,
    /// Let this many milliseconds pass.
    Pause(u64),
}

const PATHS: [&str; 6] = ["/t", "/t/a", "/t/b", "/t/a/x", "/t/a/y", "/t/b/z"];

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0..PATHS.len(), any::<u8>()).prop_map(|(p, d)| Step::Create(p, d)),
        3 => (0..PATHS.len(), any::<u8>()).prop_map(|(p, d)| Step::Set(p, d)),
        2 => (0..PATHS.len()).prop_map(Step::Delete),
        1 => prop_oneof![Just(200u64), Just(15_000u64)].prop_map(Step::Disconnect),
        1 => Just(Step::Expire),
        2 => (0u64..50).prop_map(Step::Pause),
    ]
}

/// Runs `steps` against a cache of `/t` on the fake, then checks that the cache settles to the
/// fake's tree and is still running.
async fn scenario(steps: Vec<Step>, mode: WatchMode) {
    let ensemble = FakeEnsemble::new();
    let (zk, writer) = (ensemble.connect(), ensemble.connect());
    let options = TreeCacheOptions::new().watch_mode(mode);
    let (cache, mut events) = TreeCache::start(zk.clone(), "/t", options).unwrap();
    within(cache.initialized()).await.unwrap();
    for step in steps {
        match step {
            Step::Create(p, d) => {
                let _ = zk_core::CoordinatorExt::create_with_parents(
                    &writer,
                    PATHS[p],
                    &[d],
                    &CreateOptions::persistent(),
                )
                .await;
            }
            Step::Set(p, d) => {
                let _ = writer.set_data(PATHS[p], &[d], None).await;
            }
            Step::Delete(p) => {
                zk_core::CoordinatorExt::delete_all(&writer, PATHS[p])
                    .await
                    .unwrap();
            }
            Step::Disconnect(ms) => {
                ensemble
                    .faults()
                    .disconnect(zk.session_id(), Duration::from_millis(ms));
            }
            Step::Expire => {
                ensemble.faults().expire_session(zk.session_id());
            }
            Step::Pause(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        }
    }
    // Let every cut run out (paused time: this is instant) before asking for the tree.
    tokio::time::sleep(Duration::from_secs(20)).await;
    settles(&cache, &mut events, &ensemble).await;
    within(cache.initialized())
        .await
        .expect("the cache kept running");
}

/// Runs [`scenario`] on a current-thread runtime with paused time.
fn run_paused(steps: Vec<Step>, mode: WatchMode) {
    zk_testkit::fault_world::block_on_paused(scenario(steps, mode));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]

    /// After any mix of changes, connection cuts and expiries, the cache equals a fresh read.
    #[test]
    fn after_random_faults_the_cache_equals_the_tree(steps in proptest::collection::vec(step(), 1..40)) {
        run_paused(steps, WatchMode::OneShot);
    }

    /// The same with one persistent recursive watch.
    #[test]
    fn after_random_faults_a_recursive_cache_equals_the_tree(steps in proptest::collection::vec(step(), 1..40)) {
        run_paused(steps, WatchMode::PersistentRecursive);
    }
}

#[tokio::test(start_paused = true)]
async fn without_persistent_watches_a_recursive_cache_falls_back_to_one_shot_watches() {
    // A server without add_watch, as before ZooKeeper 3.6.
    let ensemble = FakeEnsemble::builder().persistent_watches(false).build();
    let (zk, writer) = (ensemble.connect(), ensemble.connect());
    writer
        .create("/t", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    let options = TreeCacheOptions::new().watch_mode(WatchMode::PersistentRecursive);
    let (cache, mut events) = TreeCache::start(zk.clone(), "/t", options).unwrap();
    within(cache.initialized()).await.unwrap();
    // One-shot watches: the root's data and child watches.
    assert_eq!(ensemble.watch_count(zk.session_id()), Some(2));
    writer
        .create("/t/a", b"1", &CreateOptions::persistent())
        .await
        .unwrap();
    writer.set_data("/t/a", b"2", None).await.unwrap();
    settles(&cache, &mut events, &ensemble).await;
    assert_eq!(cache.get("/t/a").unwrap().data, b"2");
}
