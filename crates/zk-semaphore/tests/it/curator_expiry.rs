//! The Curator layout after a session expiry, on the fake: a lease may only queue while its
//! session holds the `locks` mutex (Curator's own waiters hold the mutex and count leases, so a
//! lease queued without it could deadlock with them).

use std::time::Duration;

use zk_core::{Coordinator, CoordinatorExt};
use zk_fake::FakeEnsemble;
use zk_semaphore::{Layout, Semaphore, SemaphoreOptions};
use zk_testkit::timing::within;

/// The owners of the nodes under `dir`.
async fn owners(zk: &impl Coordinator, dir: &str) -> Vec<i64> {
    let mut owners = Vec::new();
    for child in zk.get_children_sorted(dir).await.unwrap_or_default() {
        if let Some(stat) = zk.exists(&format!("{dir}/{child}")).await.unwrap() {
            owners.push(stat.ephemeral_owner);
        }
    }
    owners
}

#[tokio::test(start_paused = true)]
async fn a_waiter_whose_session_expires_takes_the_mutex_again_before_queueing() {
    let ensemble = FakeEnsemble::new();
    let (a, b, admin) = (ensemble.connect(), ensemble.connect(), ensemble.connect());
    let options = SemaphoreOptions::new().layout(Layout::Curator);
    let semaphore = |zk| Semaphore::with_options(zk, "/s", 1, options.clone()).unwrap();
    let held = semaphore(a.clone()).acquire().await.unwrap();
    let waiter = tokio::spawn({
        let b = semaphore(b.clone());
        async move { b.acquire().await }
    });
    // The waiter holds the mutex and waits with a lease.
    within(async {
        while owners(&admin, "/s/leases").await.len() < 2 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    let old = b.session_id();
    assert!(ensemble.faults().expire_session(old));
    // Watch the new session for a while: whenever it has a lease node, it holds the mutex.
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let new = b.session_id();
        if new == old {
            continue;
        }
        let leases = owners(&admin, "/s/leases").await;
        let locks = owners(&admin, "/s/locks").await;
        if leases.contains(&new) {
            assert!(
                locks.contains(&new),
                "a lease of the new session queued without the mutex"
            );
        }
    }
    held.release().await.unwrap();
    let permit = within(waiter).await.unwrap().unwrap();
    assert_eq!(
        a.exists(permit.node_path())
            .await
            .unwrap()
            .unwrap()
            .ephemeral_owner,
        b.session_id()
    );
    permit.release().await.unwrap();
}
