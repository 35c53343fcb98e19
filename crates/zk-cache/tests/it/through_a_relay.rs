//! On a real server, through a relay that cuts the cache's connection: the server's SetWatches
//! catch-up tells the reconnected client which watched nodes changed, and the cache reads only
//! those.

use std::time::Duration;

use futures::StreamExt;
use zk_cache::{TreeCache, TreeCacheOptions, WatchMode};
use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, SessionState};
use zk_testkit::counting::Counting;
use zk_testkit::relay::Relay;
use zk_testkit::server::ZkServer;
use zk_testkit::timing::within;

#[tokio::test]
async fn after_a_cut_the_cache_rereads_only_the_changed_nodes() {
    let reads = after_a_cut(WatchMode::OneShot).await;
    // Three data reads, a listing of d3, and the new node's data and children.
    assert_eq!(reads, 6, "{reads} reads after the reconnect");
}

#[tokio::test]
async fn after_a_cut_a_recursive_cache_compares_every_node() {
    let reads = after_a_cut(WatchMode::PersistentRecursive).await;
    // Nothing is replayed to a persistent watch: the data and children of each of the 105
    // cached nodes are read, and those of the new node.
    assert_eq!(reads, 2 * 106, "{reads} reads after the reconnect");
}

/// Cuts the connection of a cache of 105 nodes in `mode` while another session changes three
/// and creates one; returns the reads the cache issued until it held the tree again.
async fn after_a_cut(mode: WatchMode) -> u64 {
    let server = ZkServer::shared();
    let relay = Relay::start(server.connect_string().parse().unwrap())
        .await
        .unwrap();
    let writer = ZkClient::connect(&server.connect_string()).await.unwrap();
    let root = format!("/relayed-{}", uuid::Uuid::new_v4());
    for dir in 0..4 {
        for leaf in 0..25 {
            let path = format!("{root}/d{dir}/n{leaf}");
            writer
                .create_with_parents(&path, b"0", &CreateOptions::persistent())
                .await
                .unwrap();
        }
    }
    let client = ZkClient::builder(&relay.connect_string())
        .unwrap()
        .session_timeout(Duration::from_secs(20))
        .connect()
        .await
        .unwrap();
    let zk = Counting::new(client);
    let options = TreeCacheOptions::new().watch_mode(mode);
    let (cache, mut events) = TreeCache::start(zk.clone(), &root, options).unwrap();
    within(cache.initialized()).await.unwrap();
    assert_eq!(cache.len(), 105);
    let session = zk.session_id();

    relay.cut();
    let mut state = zk.session_state();
    within(state.wait_for(|s| *s == SessionState::Disconnected))
        .await
        .unwrap();
    let before = zk.counts().requests();
    for n in 0..3 {
        writer
            .set_data(&format!("{root}/d{n}/n{n}"), b"1", None)
            .await
            .unwrap();
    }
    writer
        .create(&format!("{root}/d3/new"), b"", &CreateOptions::persistent())
        .await
        .unwrap();
    relay.restore();
    within(async {
        while cache.get(&format!("{root}/d2/n2")).map(|n| n.data) != Some(b"1".to_vec())
            || cache.get(&format!("{root}/d3/new")).is_none()
        {
            events.next().await.unwrap();
        }
    })
    .await;
    assert_eq!(zk.session_id(), session, "the same session, resumed");
    let reads = zk.counts().requests() - before;
    for n in 0..4 {
        let (data, _) = writer.get_data(&format!("{root}/d{n}/n{n}")).await.unwrap();
        assert_eq!(cache.get(&format!("{root}/d{n}/n{n}")).unwrap().data, data);
    }
    writer.delete_all(&root).await.unwrap();
    drop(cache);
    zk.close().await.unwrap();
    writer.close().await.unwrap();
    reads
}
