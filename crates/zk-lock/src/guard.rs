//! `LockGuard`: proof of holding a lock, its fencing token, and how to learn it was lost.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use zk_contender::{ContenderKind, Holding, LossReason, LostPolicy};
use zk_core::Coordinator;

use crate::error::LockError;

/// A held lock.
///
/// Release it with [`LockGuard::release`], which removes the lock node, retrying through
/// connection loss until it is gone or the session has ended.
/// Dropping the guard instead releases in the background on a best-effort basis (it needs a
/// tokio runtime); if even that cannot happen, the node goes when the session ends.
///
/// A lock held through ZooKeeper can be lost without the holder doing anything: the session can
/// expire, or the node be deleted by an administrator.
/// Check [`LockGuard::is_held`] before acting, await [`LockGuard::lost`] to stop acting when it
/// happens, and pass [`LockGuard::fencing_token`] to the resources you protect so they can refuse
/// a stale holder.
#[must_use = "dropping the guard releases the lock"]
pub struct LockGuard<C: Coordinator + Clone + 'static> {
    holding: Holding<C>,
    token: i64,
    kind: ContenderKind,
    released: bool,
    held_flag: Arc<AtomicBool>,
}

impl<C: Coordinator + Clone + 'static> fmt::Debug for LockGuard<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("path", &self.holding.path())
            .field("fencing_token", &self.token)
            .field("held", &self.is_held())
            .finish()
    }
}

impl<C: Coordinator + Clone + 'static> LockGuard<C> {
    pub(crate) fn new(
        zk: C,
        path: String,
        session_id: i64,
        token: i64,
        kind: ContenderKind,
        policy: LostPolicy,
        held_flag: Arc<AtomicBool>,
    ) -> LockGuard<C> {
        LockGuard {
            holding: Holding::new(zk, path, session_id, policy),
            token,
            kind,
            released: false,
            held_flag,
        }
    }

    /// A number that grows strictly from one holder of this lock path to the next: the czxid of
    /// this holder's lock node.
    ///
    /// Hand it to whatever the lock protects (a storage write, say) and have that refuse tokens
    /// lower than the highest it has seen: a holder that lost the lock without noticing (a long
    /// pause, a partition) is then turned away instead of overwriting its successor's work.
    pub fn fencing_token(&self) -> i64 {
        self.token
    }

    /// The full path of this holder's lock node.
    pub fn node_path(&self) -> &str {
        self.holding.path()
    }

    /// Whether this is a shared (read) hold.
    pub fn is_shared(&self) -> bool {
        self.kind == ContenderKind::Read
    }

    /// Whether the lock is still held as far as this client knows: not released, the session
    /// that took it is still the handle's session and has not ended, the connection has not
    /// been suspended since (under [`LostPolicy::SuspendedIsLost`]), and, once
    /// [`LockGuard::lost`] has been called, the lock node has not been deleted.
    pub fn is_held(&self) -> bool {
        !self.released && self.holding.is_held()
    }

    /// Resolves when the lock is no longer safely held, with the reason.
    ///
    /// The first call also starts watching the lock node, so deletion by someone else is
    /// noticed; session expiry and (per policy) suspension are noticed in any case, including
    /// those that happened before the call.
    pub fn lost(&self) -> impl std::future::Future<Output = LossReason> + Send + 'static {
        self.holding.lost()
    }

    /// Releases the lock: deletes the lock node, retrying through connection loss until it is
    /// gone or the session has ended (which deletes it too).
    ///
    /// # Errors
    /// Only for failures that retrying cannot cure (an ACL forbidding the delete, say).
    pub async fn release(mut self) -> Result<(), LockError> {
        self.released = true;
        let result = self.holding.release().await;
        self.held_flag.store(false, Ordering::Release);
        result.map_err(LockError::from)
    }
}

impl<C: Coordinator + Clone + 'static> Drop for LockGuard<C> {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        // The handle may queue again at once: a new contender waits behind the old node until
        // the background release removes it.
        self.held_flag.store(false, Ordering::Release);
        self.holding.release_in_background();
    }
}
