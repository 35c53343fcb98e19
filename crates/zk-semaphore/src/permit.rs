//! `Permit`: proof of holding one of a semaphore's permits, and how to learn it was lost.

use std::fmt;

use zk_contender::{HeldNode, LossReason};
use zk_core::Coordinator;

use crate::error::SemaphoreError;

/// A held permit.
///
/// Release it with [`Permit::release`], which removes the lease node, retrying through
/// connection loss until it is gone or the session has ended. Dropping the permit instead
/// releases in the background on a best-effort basis (it needs a tokio runtime); if even that
/// cannot happen, the node goes when the session ends.
///
/// A permit held through ZooKeeper can be lost without the holder doing anything: the session
/// can expire, or the node be deleted by an administrator. Check [`Permit::is_held`] before
/// acting, and await [`Permit::lost`] to stop acting when it happens.
#[must_use = "dropping the permit releases it"]
pub struct Permit<C: Coordinator + Clone + 'static> {
    node: HeldNode<C>,
}

impl<C: Coordinator + Clone + 'static> fmt::Debug for Permit<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("path", &self.node.path())
            .field("token", &self.node.czxid())
            .field("held", &self.is_held())
            .finish()
    }
}

impl<C: Coordinator + Clone + 'static> Permit<C> {
    pub(crate) fn new(node: HeldNode<C>) -> Permit<C> {
        Permit { node }
    }

    /// This permit's token: the czxid of its lease node, unique among every permit ever taken on
    /// the ZooKeeper ensemble and growing in the order contenders queued.
    ///
    /// Use it to tell permits apart (in logs, or to tag the work done under one). It is not a
    /// fencing token in a mutex's sense: with N holders at once a lower token does not mean its
    /// holder was superseded, so a protected resource cannot simply refuse lower tokens.
    pub fn token(&self) -> i64 {
        self.node.czxid()
    }

    /// The full path of this permit's lease node.
    pub fn node_path(&self) -> &str {
        self.node.path()
    }

    /// Whether the permit is still held as far as this client knows: not released, the
    /// session that took it is still the handle's session and has not ended, the connection
    /// has not been suspended since (under
    /// [`LostPolicy::SuspendedIsLost`](crate::LostPolicy::SuspendedIsLost)), and, once
    /// [`Permit::lost`] has been called, the lease node has not been deleted.
    pub fn is_held(&self) -> bool {
        self.node.is_held()
    }

    /// Resolves when the permit is no longer safely held, with the reason.
    ///
    /// The first call also starts watching the lease node, so deletion by someone else is
    /// noticed; session expiry and (per policy) suspension are noticed in any case, including
    /// those that happened before the call.
    pub fn lost(&self) -> impl std::future::Future<Output = LossReason> + Send + 'static {
        self.node.lost()
    }

    /// Releases the permit: deletes the lease node, retrying through connection loss until it
    /// is gone or the session has ended (which deletes it too).
    ///
    /// # Errors
    /// Only for failures that retrying cannot cure (an ACL forbidding the delete, say).
    pub async fn release(self) -> Result<(), SemaphoreError> {
        Ok(self.node.release().await?)
    }
}
