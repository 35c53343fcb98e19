//! A registration on a real three-member ensemble: the member its session is connected to is
//! killed. The session moves to another member and the instance never leaves a watcher's
//! view; closing the session then removes it.
//!
//! The ensemble is started with `zk_testkit::failover::FailoverEnsemble` (which takes the
//! process-wide ensemble turn). Waits are bounded and scaled by `ZK_TEST_TIMEOUT_SCALE`.

use zk_core::Coordinator;
use zk_registry::{Instance, Registry};
use zk_testkit::failover::{FailoverEnsemble, LONG_SESSION, connect, limit};
use zk_testkit::server::ZkEnsemble;
use zk_testkit::timing::within_for;

const BASE: &str = "/registered-on-an-ensemble";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_outlives_its_members_death_and_goes_with_its_session() {
    let (ensemble, leader) = FailoverEnsemble::start(ZkEnsemble::builder().size(3)).await;
    let others = ensemble.others(leader);
    let (doomed, survivor) = (others[0], others[1]);
    let client = connect(&ensemble.hosts(&[leader, survivor]), LONG_SESSION).await;
    let service = connect(&ensemble.preferring(doomed), LONG_SESSION).await;
    assert_eq!(ensemble.connected_member(&service), doomed);
    let registration = Registry::new(service.clone(), BASE)
        .unwrap()
        .register(Instance::<()>::new("api", "127.0.0.1").id("a").port(80))
        .await
        .unwrap();
    let watch = Registry::new(client.clone(), BASE)
        .unwrap()
        .watch::<()>("api")
        .await
        .unwrap();
    assert!(watch.snapshot().instances.contains_key("a"));
    let mut view = watch.receiver();
    let session = service.session_id();

    ensemble.kill(doomed).await;
    within_for(limit(30), async {
        let mut state = service.session_state();
        state.wait_for(|s| s.is_connected()).await.unwrap();
        while ensemble.connected_member(&service) == doomed {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(
        service.session_id(),
        session,
        "the same session, on another member"
    );
    // The view never lost the instance: its node lived on with the session.
    assert!(view.borrow_and_update().instances.contains_key("a"));
    let stat = client.exists(registration.path()).await.unwrap().unwrap();
    assert_eq!(stat.ephemeral_owner, session);

    service.close().await.unwrap();
    within_for(limit(30), view.wait_for(|v| v.instances.is_empty()))
        .await
        .unwrap();
    drop(registration);
    client.close().await.unwrap();
}
