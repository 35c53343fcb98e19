//! Semaphore behaviour written once, run against every backend (the fake and a real server).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions};
use zk_semaphore::{
    Layout, LossReason, LostPolicy, Permit, Semaphore, SemaphoreError, SemaphoreOptions,
};
use zk_testkit::Backend;
use zk_testkit::counting::{Call, Counting};
use zk_testkit::timing::within;

type Zk = Arc<dyn Coordinator>;

fn semaphore_path() -> String {
    format!("/semaphores-{}/s", uuid::Uuid::new_v4())
}

fn semaphore<C: Coordinator + Clone + 'static>(zk: C, path: &str, permits: u32) -> Semaphore<C> {
    Semaphore::new(zk, path, permits).unwrap()
}

/// How often a bounded wait for a condition looks again. Not a yield: under paused time a
/// task that only yields keeps the clock from moving, so a condition that never comes true
/// would hang the case instead of failing it when [`within`] runs out.
const POLL: Duration = Duration::from_millis(1);

/// Waits (bounded) until `condition` holds.
async fn until_true(mut condition: impl FnMut() -> bool) {
    within(async {
        while !condition() {
            tokio::time::sleep(POLL).await;
        }
    })
    .await;
}

/// Waits (bounded) until the semaphore at `path` has exactly `n` contenders.
async fn until_contenders(zk: &Zk, path: &str, n: usize) {
    let probe = semaphore(zk.clone(), path, 1);
    within(async {
        while probe.contenders().await.unwrap().len() != n {
            tokio::time::sleep(POLL).await;
        }
    })
    .await;
}

/// `n` new sessions.
async fn connect(backend: &dyn Backend, n: usize) -> Vec<Zk> {
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        sessions.push(backend.connect().await);
    }
    sessions
}

/// The end of a case: no lease node is left under `path`, the test's root (the parent of
/// `path`) is removed, and `sessions` are closed.
async fn no_lease_left_then_close(backend: &dyn Backend, sessions: Vec<Zk>, path: &str) {
    let admin = backend.connect().await;
    let probe = semaphore(admin.clone(), path, 1);
    assert_eq!(
        probe.contenders().await.unwrap(),
        vec![],
        "a lease node was left behind"
    );
    admin
        .delete_all(zk_core::path::parent(path).unwrap())
        .await
        .unwrap();
    for zk in sessions.into_iter().chain([admin]) {
        zk.close().await.unwrap();
    }
}

/// `SESSIONS` sessions cycle acquire/release `CYCLES` times on a semaphore of `permits` made
/// by `make`: never more than `permits` hold at once, and `permits` do hold at once (each
/// holder's first turn lasts until the high-water mark reached `permits`, which a semaphore
/// admitting fewer would never reach). Returns the sessions.
async fn cycle_counting_holders(
    backend: &dyn Backend,
    permits: usize,
    make: impl Fn(Zk) -> Semaphore<Zk>,
) -> Vec<Zk> {
    const SESSIONS: usize = 6;
    const CYCLES: usize = 6;
    let holders = Arc::new(AtomicUsize::new(0));
    let (high_tx, high_rx) = tokio::sync::watch::channel(0usize);
    let high_tx = Arc::new(high_tx);
    let mut sessions = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..SESSIONS {
        let zk = backend.connect().await;
        sessions.push(zk.clone());
        let sem = make(zk);
        let (holders, high_tx, mut high_rx) = (holders.clone(), high_tx.clone(), high_rx.clone());
        tasks.push(tokio::spawn(async move {
            for cycle in 0..CYCLES {
                let permit = within(sem.acquire()).await.unwrap();
                let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(now <= permits, "{now} holders of {permits} permits");
                high_tx.send_modify(|high| *high = (*high).max(now));
                if cycle == 0 {
                    within(high_rx.wait_for(|high| *high >= permits))
                        .await
                        .unwrap();
                } else {
                    tokio::task::yield_now().await;
                }
                holders.fetch_sub(1, Ordering::SeqCst);
                within(permit.release()).await.unwrap();
            }
        }));
    }
    // Each wait inside the tasks is bounded; the whole run is not, since its length grows
    // with the work and a loaded machine (not a stuck waiter) would then fail it.
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        *high_rx.borrow(),
        permits,
        "all permits were in use at once"
    );
    sessions
}

/// Six sessions cycle on a semaphore of three permits: never more than three holders, and
/// three at once (see [`cycle_counting_holders`]).
pub(crate) async fn never_more_than_n_holders(backend: &dyn Backend) {
    let path = semaphore_path();
    let sessions = cycle_counting_holders(backend, 3, |zk| semaphore(zk, &path, 3)).await;
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// Waiters get permits in the order they queued, and tokens grow in that order.
pub(crate) async fn fifo_order(backend: &dyn Backend) {
    let path = semaphore_path();
    let admin = backend.connect().await;
    let a = semaphore(backend.connect().await, &path, 2);
    let b = semaphore(backend.connect().await, &path, 2);
    let (first, second) = (a.acquire().await.unwrap(), b.acquire().await.unwrap());
    let (order_tx, mut order_rx) = mpsc::unbounded_channel();
    let mut sessions = vec![admin.clone()];
    for i in 0..4 {
        let zk = backend.connect().await;
        sessions.push(zk.clone());
        let sem = semaphore(zk, &path, 2);
        let order_tx = order_tx.clone();
        tokio::spawn(async move {
            let permit = sem.acquire().await.unwrap();
            order_tx.send((i, permit)).unwrap();
        });
        until_contenders(&admin, &path, 3 + i).await;
    }
    // Each release lets in the next waiter; holders leave in the order they got in.
    let mut holding = std::collections::VecDeque::from([first, second]);
    let mut served = Vec::new();
    let mut last_token = 0;
    for _ in 0..4 {
        holding.pop_front().unwrap().release().await.unwrap();
        let (i, permit): (usize, Permit<Zk>) = within(order_rx.recv()).await.unwrap();
        assert!(permit.token() > last_token, "tokens grow in queue order");
        last_token = permit.token();
        served.push(i);
        holding.push_back(permit);
    }
    for permit in holding {
        permit.release().await.unwrap();
    }
    assert_eq!(served, [0, 1, 2, 3]);
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// try_acquire answers at once, and leaves no node behind when no permit is free.
pub(crate) async fn try_acquire_does_not_wait(backend: &dyn Backend) {
    let path = semaphore_path();
    let sessions = connect(backend, 3).await;
    let [a, b, c] = [0, 1, 2].map(|i| semaphore(sessions[i].clone(), &path, 2));
    let held_a = a.try_acquire().await.unwrap().expect("a free permit");
    let held_b = b
        .try_acquire()
        .await
        .unwrap()
        .expect("a second free permit");
    assert!(c.try_acquire().await.unwrap().is_none(), "no third permit");
    assert_eq!(
        c.contenders().await.unwrap().len(),
        2,
        "the failed try left no node"
    );
    held_a.release().await.unwrap();
    let held_c = c.try_acquire().await.unwrap().expect("free again");
    held_b.release().await.unwrap();
    held_c.release().await.unwrap();
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// A timed-out acquire reports Timeout and removes its node.
pub(crate) async fn acquire_timeout_cleans_up(backend: &dyn Backend) {
    let path = semaphore_path();
    let sessions = connect(backend, 2).await;
    let a = semaphore(sessions[0].clone(), &path, 1);
    let b = semaphore(sessions[1].clone(), &path, 1);
    let held = a.acquire().await.unwrap();
    let err = b
        .acquire_timeout(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(err, SemaphoreError::Timeout { .. }), "{err:?}");
    assert_eq!(a.contenders().await.unwrap().len(), 1);
    held.release().await.unwrap();
    let again = b.acquire_timeout(Duration::from_secs(5)).await.unwrap();
    again.release().await.unwrap();
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// Dropping a waiting acquire removes its node, and the waiter behind it is not stuck.
pub(crate) async fn cancelled_acquire_removes_its_node(backend: &dyn Backend) {
    let path = semaphore_path();
    let sessions = connect(backend, 3).await;
    let [a, b, c] = [0, 1, 2].map(|i| semaphore(sessions[i].clone(), &path, 1));
    let held = a.acquire().await.unwrap();
    let cancelled = tokio::spawn(async move { b.acquire().await.map(|p| p.token()) });
    until_contenders(&sessions[0], &path, 2).await;
    let waiting = tokio::spawn(async move { c.acquire().await.unwrap().release().await });
    until_contenders(&sessions[0], &path, 3).await;
    cancelled.abort();
    assert!(cancelled.await.unwrap_err().is_cancelled());
    until_contenders(&sessions[0], &path, 2).await;
    held.release().await.unwrap();
    within(waiting).await.unwrap().unwrap();
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// A holder whose session expires is told, its permit frees, and a waiter gets it.
pub(crate) async fn expiry_frees_a_permit_for_a_waiter(backend: &dyn Backend) {
    assert!(backend.capabilities().expire_session);
    let path = semaphore_path();
    let doomed = backend.connect().await;
    let sessions = connect(backend, 2).await;
    let a = semaphore(doomed.clone(), &path, 2);
    let b = semaphore(sessions[0].clone(), &path, 2);
    let waiter = semaphore(sessions[1].clone(), &path, 2);
    let (held_a, held_b) = (a.acquire().await.unwrap(), b.acquire().await.unwrap());
    let lost = held_a.lost();
    let next = tokio::spawn(async move { waiter.acquire().await.unwrap() });
    until_contenders(&sessions[0], &path, 3).await;
    assert!(!next.is_finished());
    assert!(backend.expire_session(&*doomed).await);
    let reason = within(lost).await;
    assert!(
        matches!(reason, LossReason::SessionExpired | LossReason::Suspended),
        "{reason:?}"
    );
    assert!(!held_a.is_held());
    let next = within(next).await.unwrap();
    assert!(next.is_held() && held_b.is_held());
    assert!(next.token() > held_b.token());
    next.release().await.unwrap();
    held_b.release().await.unwrap();
    // Releasing a permit whose session is gone does nothing, and is not an error.
    held_a.release().await.unwrap();
    doomed.close().await.unwrap();
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// Deleting a holder's lease node (an administrator, say) is a loss the permit reports, and
/// frees the permit for a waiter.
pub(crate) async fn deleted_lease_is_a_loss(backend: &dyn Backend) {
    let path = semaphore_path();
    let sessions = connect(backend, 2).await;
    let options = SemaphoreOptions::new().lost_policy(LostPolicy::OnlySessionLoss);
    let holder = Semaphore::with_options(sessions[0].clone(), &path, 1, options).unwrap();
    let waiter = semaphore(sessions[1].clone(), &path, 1);
    let held = holder.acquire().await.unwrap();
    let lost = held.lost();
    let next = tokio::spawn(async move { waiter.acquire().await.unwrap() });
    until_contenders(&sessions[0], &path, 2).await;
    // The loss monitor sets its watch in the background; yield so it runs.
    tokio::task::yield_now().await;
    let admin = backend.connect().await;
    admin.delete(held.node_path(), None).await.unwrap();
    assert_eq!(within(lost).await, LossReason::NodeDeleted);
    assert!(!held.is_held());
    within(next).await.unwrap().release().await.unwrap();
    held.release().await.unwrap();
    admin.close().await.unwrap();
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// A handle made with another permit count than the one stored is refused with both counts,
/// before it queues; the stored count is kept.
pub(crate) async fn permits_mismatch_is_an_error(backend: &dyn Backend) {
    let path = semaphore_path();
    let sessions = connect(backend, 2).await;
    let three = semaphore(sessions[0].clone(), &path, 3);
    let two = semaphore(sessions[1].clone(), &path, 2);
    let held = three.acquire().await.unwrap();
    let err = two.acquire().await.unwrap_err();
    assert_eq!(
        err,
        SemaphoreError::PermitsMismatch {
            path: path.clone(),
            ours: 2,
            stored: 3
        }
    );
    assert!(err.to_string().contains("3 permits") && err.to_string().contains("with 2"));
    assert!(matches!(
        two.try_acquire().await,
        Err(SemaphoreError::PermitsMismatch { .. })
    ));
    assert_eq!(two.stored_permits().await.unwrap(), Some(3));
    assert_eq!(
        three.contenders().await.unwrap().len(),
        1,
        "no node of ours"
    );
    held.release().await.unwrap();
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// Data in the semaphore node that is not a permit count is a typed error, never a panic; a
/// node without data gets the count.
pub(crate) async fn garbage_permits_data_is_an_error(backend: &dyn Backend) {
    let path = semaphore_path();
    let zk = backend.connect().await;
    zk.create_with_parents(&path, b"three", &CreateOptions::persistent())
        .await
        .unwrap();
    let sem = semaphore(zk.clone(), &path, 3);
    let err = sem.acquire().await.unwrap_err();
    assert_eq!(
        err,
        SemaphoreError::InvalidPermitsData {
            path: path.clone(),
            found: "\"three\"".to_owned()
        }
    );
    assert!(matches!(
        sem.stored_permits().await,
        Err(SemaphoreError::InvalidPermitsData { .. })
    ));
    zk.set_data(&path, &[0xff, 0x00], None).await.unwrap();
    assert!(matches!(
        sem.try_acquire().await,
        Err(SemaphoreError::InvalidPermitsData { found, .. }) if found.starts_with("0xff00")
    ));
    assert_eq!(sem.contenders().await.unwrap(), vec![]);

    // Emptied (as another library or an administrator might leave it): the count is written.
    zk.set_data(&path, b"", None).await.unwrap();
    let permit = sem.acquire().await.unwrap();
    assert_eq!(sem.stored_permits().await.unwrap(), Some(3));
    permit.release().await.unwrap();
    no_lease_left_then_close(backend, vec![zk], &path).await;
}

/// Zero permits is refused when the handle is made; a handle holds one permit at a time.
pub(crate) async fn zero_permits_and_a_second_hold_are_refused(backend: &dyn Backend) {
    let path = semaphore_path();
    let zk = backend.connect().await;
    assert_eq!(
        Semaphore::new(zk.clone(), &path, 0).unwrap_err(),
        SemaphoreError::InvalidPermits { permits: 0 }
    );
    assert!(matches!(
        Semaphore::new(zk.clone(), "no-slash", 1),
        Err(SemaphoreError::Zk(zk_core::Error::InvalidPath { .. }))
    ));
    let sem = semaphore(zk.clone(), &path, 2);
    let held = sem.acquire().await.unwrap();
    let clone = sem.clone();
    for second in [sem.try_acquire().await, clone.try_acquire().await] {
        assert!(matches!(second, Err(SemaphoreError::AlreadyHolding { .. })));
    }
    assert_eq!(sem.contenders().await.unwrap().len(), 1);
    held.release().await.unwrap();
    let again = sem.acquire().await.unwrap();
    // Dropping a permit releases it in the background and frees the handle at once.
    drop(again);
    let third = sem.acquire().await.unwrap();
    third.release().await.unwrap();
    until_contenders(&zk, &path, 0).await;
    no_lease_left_then_close(backend, vec![zk], &path).await;
}

/// Three permits, three holders, six waiters queued in order, each on a session that counts
/// the node events its watches deliver: each one is a wake-up of that waiter.
///
/// Releasing the last holder wakes exactly the three waiters that watch it (each watches the
/// three nodes just ahead of it); the first of them then holds. After that the holders leave in
/// queue order, and each departure wakes only the one waiter it lets in. A herd (everyone
/// re-checking on every change) would wake each waiter on every release; watching only the
/// immediate predecessor would leave the second and third waiters stuck.
pub(crate) async fn one_release_wakes_at_most_n_waiters(backend: &dyn Backend) {
    const PERMITS: u32 = 3;
    const WAITERS: usize = 6;
    let path = semaphore_path();
    let admin = backend.connect().await;
    let mut holders = Vec::new();
    let mut sessions = vec![admin.clone()];
    for _ in 0..PERMITS {
        let zk = backend.connect().await;
        sessions.push(zk.clone());
        holders.push(semaphore(zk, &path, PERMITS).acquire().await.unwrap());
    }
    let (served_tx, mut served_rx) = mpsc::unbounded_channel();
    let mut counted = Vec::new();
    for i in 0..WAITERS {
        let zk = Counting::new(backend.connect().await);
        sessions.push(zk.inner().clone());
        counted.push(zk.counts().clone());
        let sem = semaphore(zk, &path, PERMITS);
        let served_tx = served_tx.clone();
        tokio::spawn(async move {
            let permit = sem.acquire().await.unwrap();
            served_tx.send((i, permit)).unwrap();
        });
        until_contenders(&admin, &path, PERMITS as usize + 1 + i).await;
    }
    let watches = |i: usize| counted[i].calls(Call::WatchData);
    // Parked: each waiter watches (at least) the three nodes ahead of it.
    until_true(|| (0..WAITERS).all(|i| watches(i) >= u64::from(PERMITS))).await;
    let woken: Vec<u64> = counted.iter().map(|c| c.node_events()).collect();
    assert_eq!(woken, [0; WAITERS], "nothing happened yet");

    let mut served = Vec::new();
    // The last holder goes: waiters 0, 1 and 2 watched it; 0 now holds, 1 and 2 keep their
    // two pending watches and add one on the node that moved into their window.
    holders.pop().unwrap().release().await.unwrap();
    let mut permits = vec![next_served(&mut served_rx, &mut served).await];
    until_true(|| watches(1) >= 4 && watches(2) >= 4).await;
    // Then everyone leaves in queue order, each letting in one waiter.
    for holder in holders.drain(..) {
        holder.release().await.unwrap();
        permits.push(next_served(&mut served_rx, &mut served).await);
    }
    for _ in 0..3 {
        permits.remove(0).release().await.unwrap();
        permits.push(next_served(&mut served_rx, &mut served).await);
    }
    for permit in permits {
        permit.release().await.unwrap();
    }
    assert_eq!(served, [0, 1, 2, 3, 4, 5], "served in queue order");
    let wakes: Vec<u64> = (0..WAITERS).map(|i| counted[i].node_events()).collect();
    assert_eq!(
        wakes,
        [1, 2, 2, 1, 1, 1],
        "wake-ups per waiter: the first release wakes three, each later one a single waiter"
    );
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// The next permit a waiter sends, recording which waiter it was.
async fn next_served<P>(
    rx: &mut mpsc::UnboundedReceiver<(usize, P)>,
    served: &mut Vec<usize>,
) -> P {
    let (i, permit) = within(rx.recv()).await.unwrap();
    served.push(i);
    permit
}

/// Releases, timeouts, tries and cancellations in a row on one semaphore leave no lease node
/// behind, and the semaphore node keeps its count while in use.
pub(crate) async fn no_node_left_behind(backend: &dyn Backend) {
    let path = semaphore_path();
    let sessions = connect(backend, 2).await;
    let a = semaphore(sessions[0].clone(), &path, 1);
    let b = semaphore(sessions[1].clone(), &path, 1);
    let held = a.acquire().await.unwrap();
    assert!(b.try_acquire().await.unwrap().is_none());
    let timed_out = b.acquire_timeout(Duration::from_millis(100)).await;
    assert!(matches!(timed_out, Err(SemaphoreError::Timeout { .. })));
    let b2 = b.clone();
    let cancelled = tokio::spawn(async move { b2.acquire().await.map(|p| p.token()) });
    until_contenders(&sessions[0], &path, 2).await;
    cancelled.abort();
    let _ = cancelled.await;
    until_contenders(&sessions[0], &path, 1).await;
    assert_eq!(a.stored_permits().await.unwrap(), Some(1));
    held.release().await.unwrap();
    no_lease_left_then_close(backend, sessions, &path).await;
}

/// The Curator layout keeps the same promises with its mutex-then-lease algorithm: never
/// more than N holders, N at once, no node left in `leases` or `locks`.
pub(crate) async fn curator_layout_never_more_than_n_holders(backend: &dyn Backend) {
    let path = semaphore_path();
    let sessions = cycle_counting_holders(backend, 2, |zk| {
        let options = SemaphoreOptions::new().layout(Layout::Curator);
        Semaphore::with_options(zk, &path, 2, options).unwrap()
    })
    .await;
    let admin = &sessions[0];
    for dir in ["leases", "locks"] {
        // A swept container (the server removes them once empty) holds nothing either.
        let left = match admin.get_children(&format!("{path}/{dir}")).await {
            Ok((left, _)) => left,
            Err(zk_core::Error::NoNode { .. }) => Vec::new(),
            Err(e) => panic!("{e}"),
        };
        assert_eq!(left, Vec::<String>::new(), "left in {dir}");
    }
    assert_eq!(
        semaphore(admin.clone(), &path, 2)
            .stored_permits()
            .await
            .unwrap(),
        Some(2)
    );
    no_lease_left_then_close(backend, sessions, &path).await;
}

zk_testkit::recipe_suite! {
    /// Stamps every semaphore case for one backend:
    /// `semaphore_cases!(backend = ..., time = paused | real)`.
    macro semaphore_cases;
    module = crate::cases;
    source = include_str!("cases.rs");
    cases = [
        never_more_than_n_holders,
        fifo_order,
        try_acquire_does_not_wait,
        acquire_timeout_cleans_up,
        cancelled_acquire_removes_its_node,
        expiry_frees_a_permit_for_a_waiter,
        deleted_lease_is_a_loss,
        permits_mismatch_is_an_error,
        garbage_permits_data_is_an_error,
        zero_permits_and_a_second_hold_are_refused,
        one_release_wakes_at_most_n_waiters,
        no_node_left_behind,
        curator_layout_never_more_than_n_holders,
    ];
}
