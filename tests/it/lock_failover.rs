//! zk-lock on a real three-member ensemble when the holder's member dies or stalls: never two
//! holders at once.
//!
//! A holder connected to member X holds the lock and watches `lost()`; waiters connected to the
//! other members queue behind it. Then X is killed (the holder keeps its session on another
//! member) or paused with SIGSTOP until the holder's session expires. Throughout, no waiter may
//! acquire while the holder's lock node exists, which each waiter checks against the ensemble
//! (sync, then exists) the moment it acquires; the holder must hear of the loss before any
//! waiter acquires; and after the holder lets go exactly one waiter holds at a time.
//!
//! Each test starts its own ensemble on loopback with `zk_testkit::failover::FailoverEnsemble`
//! (taking the ensemble turn, as every ensemble test does) and drops it at the end, killing its
//! JVMs. Harness calls run off the runtime; waits are bounded (scaled by
//! `ZK_TEST_TIMEOUT_SCALE`) and nothing sleeps except bounded polling.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use zk_core::client::ZkClient;
use zk_core::{Coordinator, SessionState};
use zk_lock::{Lock, LockGuard, LockOptions, LossReason, LostPolicy};
use zk_testkit::failover::{
    FailoverEnsemble, LONG_SESSION, SHORT_SESSION, StateLog, connect, limit,
};
use zk_testkit::server::ZkEnsemble;
use zk_testkit::timing::within_for;

/// The lock every session contends for.
const LOCK: &str = "/locks/failover";
/// The pause between two looks of a bounded poll.
const POLL: Duration = Duration::from_millis(50);

/// Whether the ensemble (as `observer` sees it after a sync) still has the node at `path`.
async fn exists_in_ensemble(observer: &ZkClient, path: &str) -> bool {
    within_for(limit(10), async {
        observer.sync("/").await.expect("sync");
        observer.exists(path).await.expect("exists").is_some()
    })
    .await
}

/// A waiter's acquisition.
#[derive(Debug, Clone)]
struct Acquired {
    waiter: usize,
    at: Instant,
    token: i64,
    /// Whether the holder's node still existed in the ensemble when this waiter acquired.
    holder_node_existed: bool,
    /// How many others counted themselves holders at that moment.
    other_holders: usize,
}

/// What the waiters share: the log of acquisitions, who may release, and the holder count.
#[derive(Clone)]
struct Queue {
    acquired: Arc<watch::Sender<Vec<Acquired>>>,
    releases: watch::Receiver<Vec<usize>>,
    holders: Arc<AtomicUsize>,
    holder_node: String,
}

/// A session on `hosts` that waits for the lock, records its acquisition (checking the
/// holder's node against the ensemble first), holds until told to release, then releases.
async fn waiter(waiter: usize, client: ZkClient, queue: Queue) -> Result<(), String> {
    let lock = Lock::new(client.clone(), LOCK);
    let guard = within_for(limit(40), lock.acquire())
        .await
        .map_err(|e| format!("waiter {waiter}: {e}"))?;
    let other_holders = queue.holders.fetch_add(1, Ordering::SeqCst);
    client.sync("/").await.map_err(|e| e.to_string())?;
    let holder_node_existed = client
        .exists(&queue.holder_node)
        .await
        .map_err(|e| e.to_string())?
        .is_some();
    queue.acquired.send_modify(|log| {
        log.push(Acquired {
            waiter,
            at: Instant::now(),
            token: guard.fencing_token(),
            holder_node_existed,
            other_holders,
        })
    });
    let mut releases = queue.releases.clone();
    within_for(limit(40), releases.wait_for(|r| r.contains(&waiter)))
        .await
        .map_err(|_| "the test ended".to_owned())?;
    if !guard.is_held() {
        return Err(format!("waiter {waiter} lost the lock while holding it"));
    }
    queue.holders.fetch_sub(1, Ordering::SeqCst);
    guard.release().await.map_err(|e| e.to_string())
}

/// The waiters of a test, each on its own member.
struct Waiters {
    acquired: watch::Receiver<Vec<Acquired>>,
    releases: watch::Sender<Vec<usize>>,
    tasks: Vec<JoinHandle<Result<(), String>>>,
}

impl Waiters {
    /// One waiter per member of `members`, connected to that member first (then the others),
    /// queued behind the holder's node once this returns.
    async fn start(
        ensemble: &FailoverEnsemble,
        members: &[usize],
        holders: &Arc<AtomicUsize>,
        holder_node: &str,
        observer: &ZkClient,
    ) -> Waiters {
        let (acquired_tx, acquired) = watch::channel(Vec::new());
        let (releases, releases_rx) = watch::channel(Vec::new());
        let queue = Queue {
            acquired: Arc::new(acquired_tx),
            releases: releases_rx,
            holders: holders.clone(),
            holder_node: holder_node.to_owned(),
        };
        let mut tasks = Vec::new();
        for (i, &member) in members.iter().enumerate() {
            let client = connect(&ensemble.preferring(member), LONG_SESSION).await;
            assert_eq!(ensemble.connected_member(&client), member);
            tasks.push(tokio::spawn(waiter(i, client, queue.clone())));
        }
        // Wait until every waiter's node is queued behind the holder's.
        let lock = Lock::new(observer.clone(), LOCK);
        let wanted = members.len() + 1;
        let queued = async {
            for _ in 0..400 {
                if lock.contenders().await.expect("contenders").len() >= wanted {
                    return;
                }
                tokio::time::sleep(POLL).await;
            }
            panic!("the waiters never queued");
        };
        within_for(limit(20), queued).await;
        Waiters {
            acquired,
            releases,
            tasks,
        }
    }

    fn acquisitions(&self) -> Vec<Acquired> {
        self.acquired.borrow().clone()
    }

    /// Waits for the `n`th acquisition and returns it.
    async fn wait_for(&mut self, n: usize, limit: Duration) -> Acquired {
        let log = within_for(limit, self.acquired.wait_for(|log| log.len() >= n))
            .await
            .expect("the waiters' log is kept");
        log[n - 1].clone()
    }

    /// Checks for a bounded while that nobody beyond the first `n` acquires.
    async fn no_more_than(&self, n: usize, window: Duration) {
        let until = Instant::now() + window;
        while Instant::now() < until {
            let log = self.acquisitions();
            assert!(log.len() <= n, "more than {n} acquisitions: {log:?}");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Lets the waiters of `acquired` release one by one, each after checking that it was the
    /// only new holder, and checks every acquisition.
    async fn drain(mut self, first_token: i64) -> Vec<Acquired> {
        let total = self.tasks.len();
        for n in 1..=total {
            let got = self.wait_for(n, limit(15)).await;
            self.no_more_than(n, Duration::from_millis(300)).await;
            self.releases.send_modify(|r| r.push(got.waiter));
        }
        for task in self.tasks {
            within_for(limit(15), task)
                .await
                .expect("a waiter panicked")
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let log = self.acquired.borrow().clone();
        let mut last = first_token;
        for got in &log {
            assert!(
                !got.holder_node_existed,
                "acquired beside the holder: {got:?}"
            );
            assert_eq!(got.other_holders, 0, "two holders at once: {got:?}");
            assert!(got.token > last, "fencing tokens must grow: {log:?}");
            last = got.token;
        }
        log
    }
}

/// Records when a guard reported its loss, and why; the holder stops counting itself a holder
/// right then, as a well-behaved holder stops acting on the lock.
fn watch_loss<C: Coordinator + Clone + 'static>(
    guard: &LockGuard<C>,
    holders: &Arc<AtomicUsize>,
) -> watch::Receiver<Option<(LossReason, Instant)>> {
    let (tx, rx) = watch::channel(None);
    let lost = guard.lost();
    let holders = holders.clone();
    tokio::spawn(async move {
        let reason = lost.await;
        holders.fetch_sub(1, Ordering::SeqCst);
        tx.send_replace(Some((reason, Instant::now())));
    });
    rx
}

/// The session that holds the lock, and what the test watches of it.
struct Holder {
    /// The member it is connected to at first: a follower.
    member: usize,
    client: ZkClient,
    /// Its session when it acquired.
    session: i64,
    guard: LockGuard<ZkClient>,
    /// Its lock node.
    node: String,
    /// When and why its guard reported the loss of the lock.
    lost: watch::Receiver<Option<(LossReason, Instant)>>,
    /// Its session states from the moment everyone is in place.
    log: StateLog,
}

/// Starts an ensemble and sets the scene: a holder on a follower (which its session, of
/// `session_timeout`, knows alone when `member_alone`, else first and then the others), an
/// observer on the leader, and a waiter on each other member, queued behind the holder.
async fn held_lock(
    member_alone: bool,
    session_timeout: Duration,
) -> (FailoverEnsemble, Holder, ZkClient, Waiters) {
    let (ensemble, leader) = FailoverEnsemble::start(ZkEnsemble::builder().size(3)).await;
    let member = (leader + 1) % 3;
    let hosts = if member_alone {
        ensemble.hosts(&[member])
    } else {
        ensemble.preferring(member)
    };
    let client = connect(&hosts, session_timeout).await;
    let session = client.session_id();
    let observer = connect(&ensemble.hosts(&[leader]), LONG_SESSION).await;

    let holders = Arc::new(AtomicUsize::new(0));
    let guard = Lock::new(client.clone(), LOCK).acquire().await.unwrap();
    holders.fetch_add(1, Ordering::SeqCst);
    let node = guard.node_path().to_owned();
    let lost = watch_loss(&guard, &holders);
    let others = ensemble.others(member);
    let waiters = Waiters::start(&ensemble, &others, &holders, &node, &observer).await;
    let log = StateLog::start(&client);
    let holder = Holder {
        member,
        client,
        session,
        guard,
        node,
        lost,
        log,
    };
    (ensemble, holder, observer, waiters)
}

/// Killing the member the holder is connected to: the holder hears `Suspended` at once (the
/// default policy) and resumes its session on another member with its node intact; while that
/// node exists no waiter acquires (and a second lock held under `OnlySessionLoss` is still
/// held); once the holder releases, exactly one waiter at a time holds, in queue order.
#[tokio::test]
async fn killing_the_holders_member_never_makes_two_holders() {
    let (ensemble, mut holder, observer, mut waiters) = held_lock(false, LONG_SESSION).await;
    let target = holder.member;
    assert_eq!(ensemble.connected_member(&holder.client), target);
    let tolerant_lock = Lock::with_options(
        holder.client.clone(),
        "/locks/tolerant",
        LockOptions::new().lost_policy(LostPolicy::OnlySessionLoss),
    );
    let tolerant = tolerant_lock.acquire().await.unwrap();
    let tolerant_lost = tolerant.lost();

    ensemble.kill(target).await;
    let killed = Instant::now();
    let mut lost_rx = holder.lost.clone();
    let (reason, lost_at) = within_for(limit(10), lost_rx.wait_for(Option::is_some))
        .await
        .expect("the loss recorder runs")
        .expect("just seen");
    assert_eq!(reason, LossReason::Suspended);
    let guard = holder.guard;
    assert!(!guard.is_held(), "a suspended lock does not count as held");
    let back = holder
        .log
        .wait_for(SessionState::SyncConnected, limit(15))
        .await;
    let session = holder.session;
    assert_eq!(holder.client.session_id(), session, "the session survives");
    assert_ne!(ensemble.connected_member(&holder.client), target);
    assert!(!holder.log.states().contains(&SessionState::Expired));

    // The session kept its node, so the lock is still taken: nobody else may have it.
    let stat = holder
        .client
        .exists(&holder.node)
        .await
        .unwrap()
        .expect("the node survives");
    assert_eq!(stat.ephemeral_owner, session);
    assert!(exists_in_ensemble(&observer, &holder.node).await);
    assert!(
        !guard.is_held(),
        "once lost, a guard stays lost even though its node survived"
    );
    assert!(tolerant.is_held(), "OnlySessionLoss rides out the failover");
    assert!(tolerant_lost.now_or_never().is_none());
    waiters.no_more_than(0, Duration::from_millis(1000)).await;
    assert!(exists_in_ensemble(&observer, &holder.node).await);
    assert!(waiters.acquisitions().is_empty());

    // The holder stopped acting on the lock when it heard of the loss; now it lets go.
    let token = guard.fencing_token();
    guard.release().await.unwrap();
    let released = Instant::now();
    let first = waiters.wait_for(1, limit(10)).await;
    let handover = first.at - released;
    let log_of_acquisitions = waiters.drain(token).await;
    assert_eq!(log_of_acquisitions.len(), 2);
    assert!(tolerant.is_held());
    tolerant.release().await.unwrap();
    eprintln!(
        "lock_failover/kill: holder suspended {:?} and back {:?} after the kill, first waiter \
         acquired {handover:?} after the release, states {:?}, {:?} in all",
        lost_at - killed,
        back - killed,
        holder.log.states(),
        ensemble.elapsed()
    );
}

/// Pausing the member the holder is connected to (and the only one it knows) until its session
/// expires: the holder hears `Suspended` (by its read timeout) before any waiter acquires, the
/// waiters acquire only once the holder's node is gone, and when the member resumes the holder
/// learns `Expired` and carries on in a new session, its guard still lost.
#[tokio::test]
async fn pausing_the_holders_member_until_expiry_reports_the_loss_first() {
    let (ensemble, mut holder, observer, mut waiters) = held_lock(true, SHORT_SESSION).await;
    let target = holder.member;
    assert_eq!(holder.client.session_timeout(), SHORT_SESSION);
    let guard = holder.guard;
    let token = guard.fencing_token();

    // Timed from the SIGSTOP: pause() returns only once every JVM thread has stopped.
    let paused = Instant::now();
    ensemble.pause(target).await;
    let pause_took = paused.elapsed();
    let first = waiters.wait_for(1, limit(20)).await;
    // The holder had already stopped: it heard of the loss before anyone else acquired.
    let (reason, lost_at) = holder
        .lost
        .borrow()
        .expect("the holder saw the loss before the takeover");
    assert_eq!(reason, LossReason::Suspended);
    assert!(
        lost_at < first.at,
        "lost at {:?}, taken over at {:?}",
        lost_at - paused,
        first.at - paused
    );
    let disconnected = holder
        .log
        .wait_for(SessionState::Disconnected, Duration::ZERO)
        .await;
    assert!(!guard.is_held());
    assert!(!exists_in_ensemble(&observer, &holder.node).await);

    ensemble.resume(target).await;
    let expired = holder.log.wait_for(SessionState::Expired, limit(20)).await;
    assert!(expired > disconnected);
    assert_ne!(holder.client.session_id(), holder.session);
    assert!(!guard.is_held());
    // Releasing a lock whose session is gone is a no-op, not an error.
    within_for(limit(5), guard.release()).await.unwrap();
    let all = waiters.drain(token).await;
    assert_eq!(all.len(), 2);
    eprintln!(
        "lock_failover/pause: pause() took {pause_took:?}; holder suspended {:?}, waiter took \
         over {:?}, holder saw Expired {:?} after the pause (resumed then); states {:?}; {:?} in \
         all",
        lost_at - paused,
        first.at - paused,
        expired - paused,
        holder.log.states(),
        ensemble.elapsed()
    );
}
