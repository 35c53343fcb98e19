//! zk-election on a real three-member ensemble: the leader's session is closed, then expired,
//! then the member it is connected to is killed. Each time another candidate, connected to
//! another member, is elected with a higher term, and the old leader stops counting itself
//! leader.
//!
//! Where the order can be guaranteed it is checked: when the leader's member dies, its client
//! suspends at once (the default `LostPolicy`), while the server ends the session, and so lets
//! the next candidate in, only a session timeout later. So the old leader is told before the
//! new one acts. (A close is the leader's own act; an expiry forced through a second connection
//! reaches the old client and the next candidate at about the same time, so there only the
//! outcome is checked.)
//!
//! One ensemble serves the three phases, started with `zk_testkit::failover::FailoverEnsemble`
//! (which takes the process-wide ensemble turn). Waits are bounded and scaled by
//! `ZK_TEST_TIMEOUT_SCALE`.

use tokio::task::JoinHandle;
use tokio::time::Instant;
use zk_core::Coordinator;
use zk_core::client::ZkClient;
use zk_election::{Candidate, Leadership, LossReason, Observer};
use zk_testkit::failover::{FailoverEnsemble, SHORT_SESSION, connect, limit};
use zk_testkit::server::ZkEnsemble;
use zk_testkit::timing::within_for;

/// The election every candidate joins.
const PATH: &str = "/election/ensemble";

/// A leader: its session, its leadership, and when (and why) it was told of the loss.
struct Leader {
    client: ZkClient,
    leadership: Leadership<ZkClient>,
    told: JoinHandle<(LossReason, Instant)>,
}

impl Leader {
    fn new(client: ZkClient, leadership: Leadership<ZkClient>) -> Leader {
        let lost = leadership.lost();
        let told = tokio::spawn(async move {
            let reason = lost.await;
            (reason, Instant::now())
        });
        Leader {
            client,
            leadership,
            told,
        }
    }

    /// Waits until the loss has been reported; the reason and when.
    async fn told(self) -> (LossReason, Instant, Leadership<ZkClient>) {
        let (reason, at) = within_for(limit(20), self.told)
            .await
            .expect("the loss monitor panicked");
        (reason, at, self.leadership)
    }
}

/// A candidate campaigning on its own task; resolves to its leadership and when it got it.
fn campaign(client: ZkClient, id: &str) -> JoinHandle<(ZkClient, Leadership<ZkClient>, Instant)> {
    let id = id.to_owned();
    tokio::spawn(async move {
        let leadership = Candidate::new(client.clone(), PATH, id)
            .campaign()
            .await
            .expect("campaign");
        (client, leadership, Instant::now())
    })
}

/// Waits until `n` candidates are queued.
async fn queued(observer: &Observer<ZkClient>, n: usize) {
    within_for(limit(20), async {
        while observer.candidates().await.expect("candidates").len() < n {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// The leader as an observer on `client` sees it.
async fn leader_id(observer: &Observer<ZkClient>) -> Option<String> {
    observer.leader().await.expect("leader").map(|p| p.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_leader_follows_close_expiry_and_a_killed_member() {
    let (ensemble, zk_leader) = FailoverEnsemble::start(ZkEnsemble::builder().size(3)).await;
    let others = ensemble.others(zk_leader);
    let (a, b) = (others[0], others[1]);
    let watcher = connect(&ensemble.hosts(&[zk_leader, a, b]), SHORT_SESSION).await;
    let observer = Observer::new(watcher.clone(), PATH);

    // Phase 1: the leader (on the ZooKeeper leader's member) closes its session.
    let first = connect(&ensemble.hosts(&[zk_leader]), SHORT_SESSION).await;
    let leadership = within_for(
        limit(10),
        Candidate::new(first.clone(), PATH, "first").campaign(),
    )
    .await
    .expect("the first candidate leads an empty election");
    let first = Leader::new(first, leadership);
    let first_term = first.leadership.term();
    let next = campaign(
        connect(&ensemble.hosts(&[a]), SHORT_SESSION).await,
        "second",
    );
    queued(&observer, 2).await;
    assert!(!next.is_finished(), "a second leader while the first leads");
    first.client.close().await.expect("close");
    let (reason, _, old) = first.told().await;
    assert!(
        matches!(reason, LossReason::Closed | LossReason::NodeDeleted),
        "{reason:?}"
    );
    assert!(!old.is_leader());
    let (second_client, leadership, _) = within_for(limit(20), next).await.unwrap();
    assert!(leadership.term() > first_term, "terms grow");
    assert!(leadership.is_leader());
    assert_eq!(leader_id(&observer).await.as_deref(), Some("second"));
    let second = Leader::new(second_client, leadership);
    let second_term = second.leadership.term();

    // Phase 2: the leader's session (on member a) is expired from outside.
    let next = campaign(connect(&ensemble.hosts(&[b]), SHORT_SESSION).await, "third");
    queued(&observer, 2).await;
    assert!(!next.is_finished(), "a third leader while the second leads");
    zk_testkit::expire_session(
        &ensemble.hosts(&[a]),
        second.client.session_id(),
        &second.client.session_password(),
    )
    .await
    .expect("expire the second leader's session");
    let (third_client, leadership, _) = within_for(limit(20), next).await.unwrap();
    let (reason, _, old) = second.told().await;
    assert!(
        matches!(
            reason,
            LossReason::SessionExpired | LossReason::Suspended | LossReason::NodeDeleted
        ),
        "{reason:?}"
    );
    assert!(!old.is_leader());
    assert!(leadership.term() > second_term, "terms grow");
    assert_eq!(leader_id(&observer).await.as_deref(), Some("third"));
    let third = Leader::new(third_client, leadership);
    let third_term = third.leadership.term();

    // Phase 3: the member the leader is connected to (b, a follower) is killed. Its client
    // suspends at once; the session, and so its node, lasts until the server expires it.
    let next = campaign(
        connect(&ensemble.hosts(&[a]), SHORT_SESSION).await,
        "fourth",
    );
    queued(&observer, 2).await;
    assert!(!next.is_finished(), "a fourth leader while the third leads");
    let killed = Instant::now();
    ensemble.kill(b).await;
    let (fourth_client, leadership, elected) = within_for(limit(30), next).await.unwrap();
    let (reason, told, old) = third.told().await;
    assert_eq!(reason, LossReason::Suspended);
    assert!(!old.is_leader());
    assert!(
        told < elected,
        "the old leader was told {:?} after the kill, the new one elected {:?} after it",
        told - killed,
        elected - killed
    );
    assert!(leadership.term() > third_term, "terms grow");
    assert_eq!(leader_id(&observer).await.as_deref(), Some("fourth"));
    eprintln!(
        "election/ensemble: old leader told {:?} and new leader elected {:?} after the kill; \
         {:?} in all",
        told - killed,
        elected - killed,
        ensemble.elapsed()
    );
    leadership.resign().await.expect("resign");
    fourth_client.close().await.expect("close");
    watcher.close().await.expect("close");
}
