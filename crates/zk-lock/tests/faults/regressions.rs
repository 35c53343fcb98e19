//! Deterministic tests of the fault points the lock's requirements name: connection loss before
//! and after the create applies, expiry while waiting and while holding, and cancellation at
//! every await point of an acquire; plus the fake's own behaviour the property test relies on.
//!
//! All run on paused time: the waits below are simulated time, bounded by [`WAIT`], which is
//! far longer than any of these scenarios needs (the session timeout is 10 s).

use std::time::Duration;

use tokio::time::timeout;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error, SessionState};
use zk_fake::{FakeEnsemble, FakeSession, Fault, OpKind, OpMatcher};
use zk_lock::{Lock, LockError, LossReason};
use zk_testkit::fault_world::{
    REGRESSION_WAIT as WAIT, cancel_after_polls, children_become, contender_role, queue, renewed,
};

use crate::recipe::LOCK_PATH;

/// A fresh ensemble with the lock path in place, and an observer session.
async fn setup() -> (FakeEnsemble, FakeSession) {
    let ensemble = FakeEnsemble::new();
    let observer = ensemble.connect();
    observer.ensure_path(LOCK_PATH).await.unwrap();
    (ensemble, observer)
}

/// The contender nodes under the lock path with their owning sessions, in sequence order.
fn contenders(ensemble: &FakeEnsemble) -> Vec<(String, i64)> {
    queue(ensemble, LOCK_PATH, contender_role)
        .into_iter()
        .map(|node| (node.name, node.owner))
        .collect()
}

/// Connection loss after the create applied: the client finds its node by its tag and adopts it
/// instead of queueing twice, and that node gets the lock.
#[tokio::test(start_paused = true)]
async fn connection_loss_after_the_create_applies_adopts_the_node() {
    let (ensemble, observer) = setup().await;
    // Uncontended: the adopted node is held at once.
    let zk = ensemble.connect();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create).session(zk.session_id()),
        Fault::ConnectionLossAfterApply,
    );
    let lock = Lock::new(zk.clone(), LOCK_PATH);
    let guard = timeout(WAIT, lock.acquire()).await.unwrap().unwrap();
    assert_eq!(ensemble.faults().pending(), 0, "the fault struck");
    let nodes = contenders(&ensemble);
    assert_eq!(nodes.len(), 1, "one node, not two: {nodes:?}");
    assert_eq!(format!("{LOCK_PATH}/{}", nodes[0].0), guard.node_path());
    assert_eq!(nodes[0].1, zk.session_id());
    assert!(guard.is_held());

    // Contended: the adopted node waits in line and gets the lock when the holder leaves.
    let waiter_zk = ensemble.connect();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create).session(waiter_zk.session_id()),
        Fault::ConnectionLossAfterApply,
    );
    let waiter = Lock::new(waiter_zk.clone(), LOCK_PATH);
    let task = tokio::spawn(async move { waiter.acquire().await });
    children_become(&observer, LOCK_PATH, "the waiter's node", |c| c.len() == 2).await;
    let nodes = contenders(&ensemble);
    let mine: Vec<_> = nodes
        .iter()
        .filter(|(_, owner)| *owner == waiter_zk.session_id())
        .collect();
    assert_eq!(mine.len(), 1, "exactly one node of the waiter: {nodes:?}");
    let adopted = format!("{LOCK_PATH}/{}", mine[0].0);
    let token = guard.fencing_token();
    guard.release().await.unwrap();
    let next = timeout(WAIT, task).await.unwrap().unwrap().unwrap();
    assert_eq!(
        next.node_path(),
        adopted,
        "the node created before the loss"
    );
    assert!(next.is_held() && next.fencing_token() > token);
    next.release().await.unwrap();
    children_become(&observer, LOCK_PATH, "no node left", <[String]>::is_empty).await;
}

/// Connection loss before the create applied: nothing was created, the retry creates one node,
/// and a try that finds the lock taken leaves nothing behind.
#[tokio::test(start_paused = true)]
async fn connection_loss_before_the_create_applies_leaves_no_orphan() {
    let (ensemble, observer) = setup().await;
    let zk = ensemble.connect();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create).session(zk.session_id()),
        Fault::ConnectionLossBeforeApply,
    );
    let guard = timeout(WAIT, Lock::new(zk.clone(), LOCK_PATH).acquire())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ensemble.faults().pending(), 0, "the fault struck");
    assert_eq!(contenders(&ensemble).len(), 1);
    assert!(guard.is_held());

    let other = ensemble.connect();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create).session(other.session_id()),
        Fault::ConnectionLossBeforeApply,
    );
    let tried = timeout(WAIT, Lock::new(other.clone(), LOCK_PATH).try_acquire())
        .await
        .unwrap()
        .unwrap();
    assert!(tried.is_none(), "the lock is taken");
    let nodes = contenders(&ensemble);
    assert!(
        nodes.iter().all(|(_, owner)| *owner == zk.session_id()),
        "no orphan of the blocked try: {nodes:?}"
    );
    guard.release().await.unwrap();
    children_become(&observer, LOCK_PATH, "no node left", <[String]>::is_empty).await;
}

/// A waiter whose session expires queues again in its new session and gets the lock once the
/// holder releases ("session expiry while waiting [is] ridden out", `Lock::acquire`'s docs).
#[tokio::test(start_paused = true)]
async fn expiry_while_waiting_requeues_and_gets_the_lock() {
    let (ensemble, observer) = setup().await;
    let holder = timeout(WAIT, Lock::new(ensemble.connect(), LOCK_PATH).acquire())
        .await
        .unwrap()
        .unwrap();
    let waiter_zk = ensemble.connect();
    let waiter = Lock::new(waiter_zk.clone(), LOCK_PATH);
    let task = tokio::spawn(async move { waiter.acquire().await });
    children_become(&observer, LOCK_PATH, "the waiter's node", |c| c.len() == 2).await;

    let old = waiter_zk.session_id();
    assert!(ensemble.faults().expire_session(old));
    renewed(&waiter_zk, old).await;
    // Let the waiter queue again in its new session while the holder still holds (if it fails
    // instead, nothing changes and the wait runs out; the result below tells).
    let new = waiter_zk.session_id();
    let _ = timeout(WAIT, async {
        loop {
            let (_, _, watch) = observer.watch_children(LOCK_PATH).await.unwrap();
            if contenders(&ensemble).iter().any(|(_, owner)| *owner == new) {
                return;
            }
            watch.await;
        }
    })
    .await;
    holder.release().await.unwrap();

    let acquired = timeout(WAIT, task)
        .await
        .expect("the waiter is not stuck")
        .unwrap();
    let guard = match acquired {
        Ok(guard) => guard,
        Err(error) => panic!("the waiter must ride out its session's expiry, got {error:?}"),
    };
    assert!(guard.is_held());
    let nodes = contenders(&ensemble);
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert_eq!(
        nodes[0].1,
        waiter_zk.session_id(),
        "held in the new session"
    );
    guard.release().await.unwrap();
}

/// A holder whose session expires is told through `lost()`, stops holding, and the next waiter
/// gets the lock with a higher token.
#[tokio::test(start_paused = true)]
async fn expiry_while_holding_is_told_and_hands_over() {
    let (ensemble, observer) = setup().await;
    let holder_zk = ensemble.connect();
    let guard = timeout(WAIT, Lock::new(holder_zk.clone(), LOCK_PATH).acquire())
        .await
        .unwrap()
        .unwrap();
    let lost = guard.lost();
    let waiter = Lock::new(ensemble.connect(), LOCK_PATH);
    let task = tokio::spawn(async move { waiter.acquire().await });
    children_become(&observer, LOCK_PATH, "the waiter's node", |c| c.len() == 2).await;

    assert!(ensemble.faults().expire_session(holder_zk.session_id()));
    assert!(!guard.is_held(), "an expired session holds nothing");
    let reason = timeout(WAIT, lost).await.expect("lost() resolves");
    assert_eq!(reason, LossReason::SessionExpired);
    let next = timeout(WAIT, task).await.unwrap().unwrap().unwrap();
    assert!(next.is_held() && next.fencing_token() > guard.fencing_token());
    guard.release().await.unwrap();
    next.release().await.unwrap();
    children_become(&observer, LOCK_PATH, "no node left", <[String]>::is_empty).await;
}

/// How a cancellation case asks for the lock.
#[derive(Debug, Clone, Copy)]
enum Ask {
    Acquire,
    Timeout,
    Try,
}

/// Dropping an acquire at every await point it reaches, under each fault the requirements name:
/// no node of the cancelled attempt is left behind, and the next contender is not stuck.
#[tokio::test(start_paused = true)]
async fn cancellation_at_every_await_point_leaves_nothing_behind() {
    let faults: [Option<(OpKind, Fault)>; 8] = [
        None,
        Some((OpKind::Create, Fault::ConnectionLossBeforeApply)),
        Some((OpKind::Create, Fault::ConnectionLossAfterApply)),
        Some((OpKind::Create, Fault::DelayReply(Duration::from_millis(50)))),
        Some((OpKind::GetChildren, Fault::ConnectionLossAfterApply)),
        Some((OpKind::GetData, Fault::ConnectionLossBeforeApply)),
        Some((OpKind::Delete, Fault::ConnectionLossBeforeApply)),
        Some((OpKind::Exists, Fault::ConnectionLossAfterApply)),
    ];
    let mut cancelled = 0;
    for fault in faults {
        for contended in [false, true] {
            for ask in [Ask::Acquire, Ask::Timeout, Ask::Try] {
                for polls in 1.. {
                    let case = format!("{fault:?}, contended {contended}, {ask:?}, {polls} polls");
                    if cancel_once(fault.clone(), contended, ask, polls, &case).await {
                        break;
                    }
                    cancelled += 1;
                    assert!(polls < 100, "{case}: the acquire never finishes");
                }
            }
        }
    }
    assert!(cancelled > 40, "only {cancelled} cancellations were tried");
}

/// One cancellation case; false when the acquire finished within `polls` polls.
async fn cancel_once(
    fault: Option<(OpKind, Fault)>,
    contended: bool,
    ask: Ask,
    polls: u32,
    case: &str,
) -> bool {
    let (ensemble, observer) = setup().await;
    let holder_zk = ensemble.connect();
    // A contended attempt waits for a holder that leaves after 200 ms, which also wakes it.
    let holder = if contended {
        let guard = Lock::new(holder_zk.clone(), LOCK_PATH)
            .acquire()
            .await
            .unwrap();
        Some(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            guard.release().await.unwrap();
        }))
    } else {
        None
    };
    let zk = ensemble.connect();
    if let Some((kind, fault)) = fault {
        ensemble
            .faults()
            .fail_next(OpMatcher::op(kind).session(zk.session_id()), fault);
    }
    let lock = Lock::new(zk.clone(), LOCK_PATH);
    let call = async {
        match ask {
            Ask::Acquire => lock.acquire().await.map(Some),
            Ask::Timeout => lock
                .acquire_timeout(Duration::from_millis(100))
                .await
                .map(Some),
            Ask::Try => lock.try_acquire().await,
        }
    };
    let outcome = timeout(WAIT, cancel_after_polls(call, polls))
        .await
        .unwrap_or_else(|_| panic!("{case}: the acquire hangs"));
    let finished = match outcome {
        None => false,
        Some(Ok(Some(guard))) => {
            guard.release().await.unwrap();
            true
        }
        Some(Ok(None)) | Some(Err(LockError::Timeout { .. })) => true,
        Some(Err(error)) => panic!("{case}: the acquire failed with {error:?}"),
    };
    let holder_session = holder_zk.session_id();
    let waited = timeout(WAIT, async {
        loop {
            let (children, _, watch) = observer.watch_children(LOCK_PATH).await.unwrap();
            let nodes = contenders(&ensemble);
            if children.len() == nodes.len() && nodes.iter().all(|(_, o)| *o == holder_session) {
                return;
            }
            watch.await;
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "{case}: the cancelled attempt left {:?} behind",
        contenders(&ensemble)
    );
    if let Some(holder) = holder {
        timeout(WAIT, holder).await.unwrap().unwrap();
    }
    // Nobody is stuck: a newcomer and the cancelled handle both get the lock.
    for zk in [ensemble.connect(), zk] {
        let next = timeout(WAIT, Lock::new(zk, LOCK_PATH).acquire())
            .await
            .unwrap_or_else(|_| panic!("{case}: the next contender is stuck"))
            .unwrap();
        next.release().await.unwrap();
    }
    finished
}

/// The fake: a session expired while its connection is down after a `ConnectionLoss` fault must
/// still be renewed once the connection returns, as a real client that reconnects, hears
/// "expired" and opens a new session does. The property test relies on it.
#[tokio::test(start_paused = true)]
async fn fake_renews_a_session_expired_after_a_connection_loss() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let old = zk.session_id();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create).session(old),
        Fault::ConnectionLossBeforeApply,
    );
    let created = zk.create("/x", b"", &CreateOptions::persistent()).await;
    assert_eq!(created.unwrap_err(), Error::ConnectionLoss);
    assert_eq!(*zk.session_state().borrow(), SessionState::Disconnected);
    assert!(ensemble.faults().expire_session(old));
    renewed(&zk, old).await;
}

/// The fake: the same for a session expired during `disconnect`: when the connection returns,
/// the handle opens a new session.
#[tokio::test(start_paused = true)]
async fn fake_renews_a_session_expired_during_a_disconnection() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let old = zk.session_id();
    assert!(ensemble.faults().disconnect(old, Duration::from_secs(2)));
    assert!(ensemble.faults().expire_session(old));
    renewed(&zk, old).await;
}

/// Connection loss while the lock path is being created (it is missing, or was swept as an
/// emptied container) is ridden out like any other.
#[tokio::test(start_paused = true)]
async fn connection_loss_while_creating_the_lock_path_is_ridden_out() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Exists).session(zk.session_id()),
        Fault::ConnectionLossBeforeApply,
    );
    let acquired = timeout(WAIT, Lock::new(zk.clone(), LOCK_PATH).acquire())
        .await
        .expect("no hang");
    assert_eq!(ensemble.faults().pending(), 0, "the fault struck");
    match acquired {
        Ok(guard) => guard.release().await.unwrap(),
        Err(error) => panic!("acquire must ride out connection loss, got {error:?}"),
    }
}

/// Connection loss while looking for the node whose create reply was lost is ridden out too.
#[tokio::test(start_paused = true)]
async fn connection_loss_while_finding_the_own_node_is_ridden_out() {
    let (ensemble, observer) = setup().await;
    let zk = ensemble.connect();
    let session = zk.session_id();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create).session(session),
        Fault::ConnectionLossAfterApply,
    );
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Exists).session(session),
        Fault::ConnectionLossBeforeApply,
    );
    let acquired = timeout(WAIT, Lock::new(zk.clone(), LOCK_PATH).acquire())
        .await
        .expect("no hang");
    assert_eq!(ensemble.faults().pending(), 0, "both faults struck");
    match acquired {
        Ok(guard) => {
            assert_eq!(contenders(&ensemble).len(), 1, "the node was adopted");
            guard.release().await.unwrap();
        }
        Err(error) => panic!("acquire must ride out connection loss, got {error:?}"),
    }
    children_become(&observer, LOCK_PATH, "no node left", <[String]>::is_empty).await;
}

/// `acquire_timeout` "waits at most `timeout`", even when the connection is down: it may give
/// its clean-up a second (the lock's grace), not the whole outage.
#[tokio::test(start_paused = true)]
async fn acquire_timeout_returns_in_time_while_disconnected() {
    let (ensemble, _observer) = setup().await;
    let zk = ensemble.connect();
    assert!(
        ensemble
            .faults()
            .disconnect(zk.session_id(), Duration::from_secs(8))
    );
    let started = tokio::time::Instant::now();
    let outcome = Lock::new(zk.clone(), LOCK_PATH)
        .acquire_timeout(Duration::from_millis(100))
        .await;
    let took = started.elapsed();
    assert!(
        took <= Duration::from_millis(2_100),
        "acquire_timeout(100ms) returned {:?} after {took:?}",
        outcome.map(|g| g.fencing_token())
    );
}
