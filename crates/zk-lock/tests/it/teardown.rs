//! The end of a test on a lock path: every contender gone, the test's root removed, the
//! sessions closed.

use std::sync::Arc;

use zk_core::{Coordinator, CoordinatorExt};
use zk_lock::Lock;

/// Removes the test's root, the parent of the lock `path`, with everything below it.
pub(crate) async fn remove_root(zk: &Arc<dyn Coordinator>, path: &str) {
    let root = zk_core::path::parent(path).unwrap();
    zk.delete_all(root).await.unwrap();
}

/// After a run in which each of `sessions` contended for the lock at `path`: asserts that no
/// contender node is left, removes the root and closes every session.
pub(crate) async fn no_contender_left_then_close(sessions: Vec<Arc<dyn Coordinator>>, path: &str) {
    let zk = &sessions[0];
    let lock = Lock::new(zk.clone(), path);
    assert!(
        lock.contenders().await.unwrap().is_empty(),
        "no node left behind"
    );
    remove_root(zk, path).await;
    for zk in sessions {
        zk.close().await.unwrap();
    }
}
