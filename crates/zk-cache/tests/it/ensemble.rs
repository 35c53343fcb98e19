//! A tree cache on a real three-member ensemble: the member the cache's session is connected to
//! is killed while another session changes the tree. The client moves the session to another
//! member, the server's SetWatches catch-up there names what changed, and the cache ends up
//! equal to a fresh read, in the same session.
//!
//! The ensemble is started with `zk_testkit::failover::FailoverEnsemble` (which takes the
//! process-wide ensemble turn). Waits are bounded and scaled by `ZK_TEST_TIMEOUT_SCALE`.

use std::collections::BTreeMap;

use futures::StreamExt;
use zk_cache::{TreeCache, TreeCacheOptions};
use zk_core::{Coordinator, CoordinatorExt, CreateOptions};
use zk_testkit::failover::{FailoverEnsemble, LONG_SESSION, connect, limit};
use zk_testkit::server::ZkEnsemble;
use zk_testkit::timing::within_for;

use crate::tree_cases::fresh_read;

const ROOT: &str = "/cached-on-an-ensemble";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_follows_its_session_to_another_member() {
    let (ensemble, leader) = FailoverEnsemble::start(ZkEnsemble::builder().size(3)).await;
    let others = ensemble.others(leader);
    let (doomed, survivor) = (others[0], others[1]);
    let writer = connect(&ensemble.hosts(&[leader, survivor]), LONG_SESSION).await;
    for d in 0..3 {
        for n in 0..10 {
            let path = format!("{ROOT}/d{d}/n{n}");
            writer
                .create_with_parents(&path, b"0", &CreateOptions::persistent())
                .await
                .unwrap();
        }
    }
    let client = connect(&ensemble.preferring(doomed), LONG_SESSION).await;
    assert_eq!(ensemble.connected_member(&client), doomed);
    let (cache, mut events) =
        TreeCache::start(client.clone(), ROOT, TreeCacheOptions::new()).unwrap();
    within_for(limit(20), cache.initialized()).await.unwrap();
    let session = client.session_id();

    ensemble.kill(doomed).await;
    for d in 0..3 {
        writer
            .set_data(&format!("{ROOT}/d{d}/n{d}"), b"1", None)
            .await
            .unwrap();
    }
    writer
        .create(&format!("{ROOT}/d0/new"), b"", &CreateOptions::persistent())
        .await
        .unwrap();
    writer.delete(&format!("{ROOT}/d2/n9"), None).await.unwrap();

    let truth = fresh_read(&writer, ROOT).await;
    within_for(limit(30), async {
        while cache
            .snapshot()
            .into_iter()
            .map(|(p, n)| (p, n.data))
            .collect::<BTreeMap<_, _>>()
            != truth
        {
            events.next().await.expect("the cache runs");
        }
    })
    .await;
    assert_eq!(
        client.session_id(),
        session,
        "the same session, on another member"
    );
    assert_ne!(ensemble.connected_member(&client), doomed);
    writer.delete_all(ROOT).await.unwrap();
    drop(cache);
}
