//! Tree cache benchmark against a real local ZooKeeper (started by the zk-testkit harness,
//! tuned for throughput).
//!
//! - `initial load`: a `TreeCache` of a tree of 100 directories of 100 leaves (10,101 nodes)
//!   loads it: the time to `initialized`, the requests it took, and the growth of this
//!   process's resident memory;
//! - `resync`: the cache's connection is cut (through a `zk_testkit::relay::Relay`) while
//!   another session changes 10 nodes (8 data updates, a create, a delete); once the connection
//!   is back, the requests the cache issued until it holds the tree again, and how long that
//!   took. A cache that re-read everything would issue about two per node.
//!
//! Both in each `WatchMode`: one-shot watches per node (where the server's SetWatches
//! catch-up names what changed), and one persistent recursive watch (where nothing is replayed
//! after a cut, so the cache compares every node).
//!
//! Run with `cargo bench -p zk-cache --bench tree` (or `cargo xtask bench -p zk-cache`). Under
//! `cargo test` (no `--bench`) it only checks that it works, on a tree of 2 x 5 leaves.

use std::time::{Duration, Instant};

use futures::StreamExt;
use zk_cache::{TreeCache, TreeCacheOptions, WatchMode};
use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, SessionState};
use zk_testkit::bench::{BenchMode, main_against_a_server, verdict};
use zk_testkit::counting::Counting;
use zk_testkit::relay::Relay;
use zk_testkit::server::ZkServer;

const ROOT: &str = "/bench-tree";
/// Set to `recursive` to measure the persistent-recursive cache first (the first cache of
/// the process is the one whose memory is measured).
const FIRST_VAR: &str = "ZK_BENCH_TREE_FIRST";
/// Requests in flight while the tree is built.
const BUILD_BATCH: usize = 500;

/// This process's resident memory in bytes (Linux `/proc/self/statm`; 0 where unreadable).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Creates `dirs` directories of `leaves` leaves under [`ROOT`], pipelined.
async fn build(zk: &ZkClient, dirs: usize, leaves: usize) {
    zk.delete_all(ROOT).await.unwrap();
    zk.create(ROOT, b"", &CreateOptions::persistent())
        .await
        .unwrap();
    let mut paths = Vec::new();
    for d in 0..dirs {
        zk.create(&format!("{ROOT}/d{d}"), b"", &CreateOptions::persistent())
            .await
            .unwrap();
        paths.extend((0..leaves).map(|l| format!("{ROOT}/d{d}/n{l}")));
    }
    let value = [b'v'; 32];
    let options = CreateOptions::persistent();
    for chunk in paths.chunks(BUILD_BATCH) {
        let creates = chunk.iter().map(|p| zk.create(p, &value, &options));
        for created in futures::future::join_all(creates).await {
            created.unwrap();
        }
    }
}

/// Waits until `zk` reports `state`.
async fn reaches(zk: &impl Coordinator, state: SessionState) {
    let mut states = zk.session_state();
    tokio::time::timeout(Duration::from_secs(30), states.wait_for(|s| *s == state))
        .await
        .expect("state reached in time")
        .unwrap();
}

async fn bench(mode: BenchMode, server: &ZkServer) {
    let measuring = mode.span().is_timed();
    let (dirs, leaves) = if measuring { (100, 100) } else { (2, 5) };
    let mut modes = [WatchMode::OneShot, WatchMode::PersistentRecursive];
    if std::env::var(FIRST_VAR).is_ok_and(|v| v == "recursive") {
        modes.reverse();
    }
    for (n, watch_mode) in modes.into_iter().enumerate() {
        println!("\n{watch_mode:?} watches:");
        let writer = ZkClient::connect(&server.connect_string())
            .await
            .expect("connect");
        build(&writer, dirs, leaves).await;
        let resync = measure(server, &writer, watch_mode, dirs, leaves, n == 0).await;
        if measuring && watch_mode == WatchMode::OneShot {
            println!(
                "targets: resync in tens of requests, not thousands ({})",
                verdict(resync <= 50)
            );
        }
        writer.delete_all(ROOT).await.unwrap();
        writer.close().await.unwrap();
    }
}

/// Loads a cache in `watch_mode`, then cuts its connection while 10 nodes change; returns the
/// requests of the resync.
async fn measure(
    server: &ZkServer,
    writer: &ZkClient,
    watch_mode: WatchMode,
    dirs: usize,
    leaves: usize,
    first: bool,
) -> u64 {
    let hosts = server.connect_string();
    let nodes = 1 + dirs + dirs * leaves;

    let relay = Relay::start(hosts.parse().unwrap()).await.unwrap();
    let client = ZkClient::builder(&relay.connect_string())
        .unwrap()
        .session_timeout(Duration::from_secs(30))
        .connect()
        .await
        .unwrap();
    let zk = Counting::new(client);
    let memory_before = resident_bytes();
    let started = Instant::now();
    let options = TreeCacheOptions::new().watch_mode(watch_mode);
    let (cache, mut events) = TreeCache::start(zk.clone(), ROOT, options).unwrap();
    cache.initialized().await.unwrap();
    let load_time = started.elapsed();
    let load_requests = zk.counts().requests();
    let memory = resident_bytes().saturating_sub(memory_before);
    assert_eq!(cache.len(), nodes);
    // Memory freed by an earlier cache is reused without growing the resident set, so only
    // the first cache of the process is measured; FIRST_VAR picks which one that is.
    let memory = if first {
        format!(
            "resident memory +{:.1} MiB ({:.0} bytes per node)",
            memory as f64 / (1024.0 * 1024.0),
            memory as f64 / nodes as f64
        )
    } else {
        format!("memory not measured (second cache; {FIRST_VAR}=recursive runs it first)")
    };
    println!(
        "initial load     {nodes} nodes in {:.0} ms, {load_requests} requests ({:.2} per node), {memory}",
        load_time.as_secs_f64() * 1000.0,
        load_requests as f64 / nodes as f64,
    );

    relay.cut();
    reaches(&zk, SessionState::Disconnected).await;
    let before = zk.counts().requests();
    for n in 0..8 {
        let path = format!("{ROOT}/d{}/n{}", n % dirs, n % leaves);
        writer.set_data(&path, b"changed", None).await.unwrap();
    }
    writer
        .create(
            &format!("{ROOT}/d0/added"),
            b"",
            &CreateOptions::persistent(),
        )
        .await
        .unwrap();
    writer
        .delete(&format!("{ROOT}/d{}/n{}", dirs - 1, leaves - 1), None)
        .await
        .unwrap();
    relay.restore();
    let restored = Instant::now();
    reaches(&zk, SessionState::SyncConnected).await;
    let last_changed = format!("{ROOT}/d{}/n{}", 7 % dirs, 7 % leaves);
    let deleted = format!("{ROOT}/d{}/n{}", dirs - 1, leaves - 1);
    tokio::time::timeout(Duration::from_secs(30), async {
        while cache.get(&last_changed).map(|n| n.data) != Some(b"changed".to_vec())
            || cache.get(&format!("{ROOT}/d0/added")).is_none()
            || cache.get(&deleted).is_some()
        {
            events.next().await.expect("the cache runs");
        }
    })
    .await
    .expect("the cache caught up in time");
    let resync_requests = zk.counts().requests() - before;
    println!(
        "resync           10 changes while cut: {resync_requests} requests, {:.1} ms from the restored link (a full re-read: ~{})",
        restored.elapsed().as_secs_f64() * 1000.0,
        2 * nodes
    );
    drop(cache);
    zk.close().await.unwrap();
    resync_requests
}

fn main() {
    main_against_a_server("tree", async |mode, server| {
        println!(
            "zk-cache TreeCache against ZooKeeper at {}",
            server.connect_string()
        );
        bench(mode, server).await;
    });
}
