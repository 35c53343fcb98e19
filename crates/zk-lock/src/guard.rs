//! `LockGuard`: proof of holding a lock, its fencing token, and how to learn it was lost.

use std::fmt;

use zk_contender::{ContenderKind, HeldNode, LossReason};
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
    node: HeldNode<C>,
    kind: ContenderKind,
}

impl<C: Coordinator + Clone + 'static> fmt::Debug for LockGuard<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("path", &self.node.path())
            .field("fencing_token", &self.node.czxid())
            .field("held", &self.is_held())
            .finish()
    }
}

impl<C: Coordinator + Clone + 'static> LockGuard<C> {
    pub(crate) fn new(node: HeldNode<C>, kind: ContenderKind) -> LockGuard<C> {
        LockGuard { node, kind }
    }

    /// A number that grows strictly from one holder of this lock path to the next: the czxid of
    /// this holder's lock node.
    ///
    /// Hand it to whatever the lock protects (a storage write, say) and have that refuse tokens
    /// lower than the highest it has seen: a holder that lost the lock without noticing (a long
    /// pause, a partition) is then turned away instead of overwriting its successor's work.
    pub fn fencing_token(&self) -> i64 {
        self.node.czxid()
    }

    /// The full path of this holder's lock node.
    pub fn node_path(&self) -> &str {
        self.node.path()
    }

    /// Whether this is a shared (read) hold.
    pub fn is_shared(&self) -> bool {
        self.kind == ContenderKind::Read
    }

    /// Whether the lock is still held as far as this client knows: not released, the session
    /// that took it is still the handle's session and has not ended, the connection has not
    /// been suspended since (under [`LostPolicy::SuspendedIsLost`](crate::LostPolicy::SuspendedIsLost)), and, once
    /// [`LockGuard::lost`] has been called, the lock node has not been deleted.
    pub fn is_held(&self) -> bool {
        self.node.is_held()
    }

    /// Resolves when the lock is no longer safely held, with the reason.
    ///
    /// The first call also starts watching the lock node, so deletion by someone else is
    /// noticed; session expiry and (per policy) suspension are noticed in any case, including
    /// those that happened before the call.
    pub fn lost(&self) -> impl std::future::Future<Output = LossReason> + Send + 'static {
        self.node.lost()
    }

    /// Releases the lock: deletes the lock node, retrying through connection loss until it is
    /// gone or the session has ended (which deletes it too).
    ///
    /// # Errors
    /// Only for failures that retrying cannot cure (an ACL forbidding the delete, say).
    pub async fn release(self) -> Result<(), LockError> {
        Ok(self.node.release().await?)
    }
}
