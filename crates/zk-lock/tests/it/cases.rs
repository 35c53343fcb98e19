//! Lock behaviour written once, run against every backend (the fake and a real server).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use zk_core::{Coordinator, CoordinatorExt};
use zk_lock::{ContenderKind, Lock, LockError, LockOptions, LossReason, LostPolicy, ReadWriteLock};
use zk_testkit::Backend;
use zk_testkit::timing::within;

type Zk = Arc<dyn Coordinator>;

fn lock_path() -> String {
    format!("/locks-{}/l", uuid::Uuid::new_v4())
}

async fn cleanup(zk: &Zk, path: &str) {
    let root = zk_core::path::parent(path).unwrap();
    zk.delete_all(root).await.unwrap();
}

/// Four sessions take the lock 25 times each around a racy counter (see [`racy_counter`]).
pub(crate) async fn mutual_exclusion(backend: &dyn Backend) {
    racy_counter(backend, 4, 25).await;
}

/// `tasks` sessions each take the lock `cycles` times and bump a counter with a deliberate
/// read-pause-write race; the total is exact only if no two ever held the lock together.
pub(crate) async fn racy_counter(backend: &dyn Backend, tasks: usize, cycles: usize) {
    let path = lock_path();
    let counter = Arc::new(AtomicUsize::new(0));
    let holders = Arc::new(AtomicUsize::new(0));
    let last_token = Arc::new(AtomicI64::new(0));
    let mut handles = Vec::new();
    let mut sessions = Vec::new();
    for _ in 0..tasks {
        let zk = backend.connect().await;
        sessions.push(zk.clone());
        let (path, counter, holders, last_token) = (
            path.clone(),
            counter.clone(),
            holders.clone(),
            last_token.clone(),
        );
        handles.push(tokio::spawn(async move {
            let lock = Lock::new(zk, path);
            for _ in 0..cycles {
                let guard = within(lock.acquire()).await.unwrap();
                assert_eq!(
                    holders.fetch_add(1, Ordering::SeqCst),
                    0,
                    "two holders at once"
                );
                let token = guard.fencing_token();
                assert!(
                    token > last_token.swap(token, Ordering::SeqCst),
                    "tokens must grow"
                );
                let seen = counter.load(Ordering::SeqCst);
                tokio::task::yield_now().await;
                counter.store(seen + 1, Ordering::SeqCst);
                holders.fetch_sub(1, Ordering::SeqCst);
                within(guard.release()).await.unwrap();
            }
        }));
    }
    // Each wait inside the tasks is bounded; the whole run is not, since its length grows
    // with the work and a loaded machine (not a stuck waiter) would then fail it.
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), tasks * cycles);
    crate::teardown::no_contender_left_then_close(sessions, &path).await;
}

/// Contenders are served in arrival order, and each holder's token beats the previous one's.
pub(crate) async fn fifo_order_and_growing_tokens(backend: &dyn Backend) {
    let path = lock_path();
    let first = Lock::new(backend.connect().await, path.clone());
    let held = first.acquire().await.unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut waiters = Vec::new();
    for i in 0..3 {
        let lock = Lock::new(backend.connect().await, path.clone());
        let order = order.clone();
        waiters.push(tokio::spawn(async move {
            let guard = lock.acquire().await.unwrap();
            order.lock().unwrap().push((i, guard.fencing_token()));
            guard.release().await.unwrap();
        }));
        // Wait until this waiter queued before starting the next.
        within(async {
            loop {
                if first.contenders().await.unwrap().len() == i + 2 {
                    break;
                }
                tokio::task::yield_now().await;
            }
        })
        .await;
    }
    let first_token = held.fencing_token();
    held.release().await.unwrap();
    for w in waiters {
        within(w).await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    assert_eq!(
        order.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    let mut last = first_token;
    for (_, token) in order {
        assert!(token > last);
        last = token;
    }
    cleanup(&backend.connect().await, &path).await;
}

/// try_acquire never waits, and leaves nothing behind when it fails.
pub(crate) async fn try_acquire_does_not_wait(backend: &dyn Backend) {
    let path = lock_path();
    let a = Lock::new(backend.connect().await, path.clone());
    let b = Lock::new(backend.connect().await, path.clone());
    let held = a.try_acquire().await.unwrap().expect("free lock");
    assert!(b.try_acquire().await.unwrap().is_none());
    assert_eq!(
        b.contenders().await.unwrap().len(),
        1,
        "the failed attempt left no node"
    );
    held.release().await.unwrap();
    let held = b.try_acquire().await.unwrap().expect("free again");
    held.release().await.unwrap();
    cleanup(&backend.connect().await, &path).await;
}

/// A timed-out acquire removes its contender node and reports Timeout.
pub(crate) async fn acquire_timeout_cleans_up(backend: &dyn Backend) {
    let path = lock_path();
    let a = Lock::new(backend.connect().await, path.clone());
    let b = Lock::new(backend.connect().await, path.clone());
    let held = a.acquire().await.unwrap();
    let err = b
        .acquire_timeout(Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(err, LockError::Timeout { .. }), "{err:?}");
    assert_eq!(a.contenders().await.unwrap().len(), 1);
    held.release().await.unwrap();
    cleanup(&backend.connect().await, &path).await;
}

/// Dropping an acquire future removes its contender node, and the next waiter is not stuck.
pub(crate) async fn cancelled_acquire_removes_its_node(backend: &dyn Backend) {
    let path = lock_path();
    let a = Lock::new(backend.connect().await, path.clone());
    let b = Lock::new(backend.connect().await, path.clone());
    let c = Lock::new(backend.connect().await, path.clone());
    let held = a.acquire().await.unwrap();
    let cancelled = tokio::spawn(async move { b.acquire().await.map(|g| g.fencing_token()) });
    within(async {
        while a.contenders().await.unwrap().len() < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    let waiting = tokio::spawn(async move {
        let guard = c.acquire().await.unwrap();
        guard.release().await.unwrap();
    });
    within(async {
        while a.contenders().await.unwrap().len() < 3 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    cancelled.abort();
    let _ = cancelled.await;
    within(async {
        while a.contenders().await.unwrap().len() != 2 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    held.release().await.unwrap();
    within(waiting).await.unwrap();
    assert!(a.contenders().await.unwrap().is_empty());
    cleanup(&backend.connect().await, &path).await;
}

/// The lock is not reentrant: a second acquire through the same handle fails instead of
/// deadlocking.
pub(crate) async fn not_reentrant(backend: &dyn Backend) {
    let path = lock_path();
    let lock = Lock::new(backend.connect().await, path.clone());
    let held = lock.acquire().await.unwrap();
    assert!(matches!(
        lock.acquire().await.unwrap_err(),
        LockError::AlreadyHeld { .. }
    ));
    held.release().await.unwrap();
    let again = lock.acquire().await.unwrap();
    again.release().await.unwrap();
    cleanup(&backend.connect().await, &path).await;
}

/// A holder whose session expires loses the lock (and is told), and the next waiter gets it.
pub(crate) async fn expiry_hands_the_lock_over(backend: &dyn Backend) {
    if !backend.capabilities().expire_session {
        return;
    }
    let path = lock_path();
    let holder_zk = backend.connect().await;
    let holder = Lock::new(holder_zk.clone(), path.clone());
    let waiter = Lock::new(backend.connect().await, path.clone());
    let held = holder.acquire().await.unwrap();
    let lost = held.lost();
    let next = tokio::spawn(async move { waiter.acquire().await.unwrap() });
    assert!(backend.expire_session(&*holder_zk).await);
    let reason = within(lost).await;
    assert!(
        matches!(reason, LossReason::SessionExpired | LossReason::Suspended),
        "{reason:?}"
    );
    assert!(!held.is_held());
    let next = within(next).await.unwrap();
    assert!(next.fencing_token() > held.fencing_token());
    next.release().await.unwrap();
    held.release().await.unwrap();
    cleanup(&backend.connect().await, &path).await;
}

/// Deleting the holder's node (an administrator, say) is a loss the guard reports.
pub(crate) async fn deleted_node_is_a_loss(backend: &dyn Backend) {
    let path = lock_path();
    let lock = Lock::with_options(
        backend.connect().await,
        path.clone(),
        LockOptions::new().lost_policy(LostPolicy::OnlySessionLoss),
    );
    let held = lock.acquire().await.unwrap();
    let lost = held.lost();
    let admin = backend.connect().await;
    // Let the guard's watch be set before the delete.
    within(async {
        loop {
            admin.sync("/").await.unwrap();
            if admin.exists(held.node_path()).await.unwrap().is_some() {
                break;
            }
        }
    })
    .await;
    tokio::task::yield_now().await;
    admin.delete(held.node_path(), None).await.unwrap();
    assert_eq!(within(lost).await, LossReason::NodeDeleted);
    assert!(!held.is_held());
    held.release().await.unwrap();
    cleanup(&admin, &path).await;
}

/// Readers share; a writer waits for readers before it, and readers after a waiting writer wait
/// for it (FIFO), so writers do not starve.
pub(crate) async fn read_write_fifo(backend: &dyn Backend) {
    let path = lock_path();
    let rw = |zk| ReadWriteLock::new(zk, path.clone());
    let r1 = rw(backend.connect().await);
    let r2 = rw(backend.connect().await);
    let w = rw(backend.connect().await);
    let r3 = rw(backend.connect().await);
    let g1 = r1.read_lock().acquire().await.unwrap();
    let g2 = r2.read_lock().acquire().await.unwrap();
    assert!(g1.is_shared() && g2.is_shared());
    let writer = tokio::spawn(async move { w.write_lock().acquire().await.unwrap() });
    within(async {
        while r1.read_lock().contenders().await.unwrap().len() < 3 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        r3.read_lock().try_acquire().await.unwrap().is_none(),
        "a waiting writer comes first"
    );
    let kinds: Vec<ContenderKind> = r1
        .read_lock()
        .contenders()
        .await
        .unwrap()
        .iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            ContenderKind::Read,
            ContenderKind::Read,
            ContenderKind::Exclusive
        ]
    );
    g1.release().await.unwrap();
    assert!(!writer.is_finished());
    g2.release().await.unwrap();
    let gw = within(writer).await.unwrap();
    assert!(!gw.is_shared());
    assert!(r3.read_lock().try_acquire().await.unwrap().is_none());
    gw.release().await.unwrap();
    let g3 = r3.read_lock().acquire().await.unwrap();
    g3.release().await.unwrap();
    cleanup(&backend.connect().await, &path).await;
}

zk_testkit::recipe_suite! {
    /// Stamps every lock case for one backend: `lock_cases!(backend = ..., time = paused | real)`.
    macro lock_cases;
    module = crate::cases;
    source = include_str!("cases.rs");
    cases = [
        mutual_exclusion,
        fifo_order_and_growing_tokens,
        try_acquire_does_not_wait,
        acquire_timeout_cleans_up,
        cancelled_acquire_removes_its_node,
        not_reentrant,
        expiry_hands_the_lock_over,
        deleted_node_is_a_loss,
        read_write_fifo,
    ];
}
