//! The lock's own failures, next to ZooKeeper's.

/// Why acquiring or releasing a lock failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// ZooKeeper refused or could not serve a request.
    #[error(transparent)]
    Zk(#[from] zk_core::Error),
    /// The lock was not acquired in time; this attempt's contender node is removed.
    #[error("timed out waiting for the lock on {path}")]
    Timeout {
        /// The lock path.
        path: String,
    },
    /// This lock handle already holds the lock; locks are not reentrant.
    #[error("this handle already holds the lock on {path}; the lock is not reentrant")]
    AlreadyHeld {
        /// The lock path.
        path: String,
    },
}

/// Why a held lock can no longer be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LossReason {
    /// The holder released it.
    Released,
    /// The lock node was deleted by someone else.
    NodeDeleted,
    /// The session that holds the lock expired (or was replaced by a new one).
    SessionExpired,
    /// The connection is suspended (`Disconnected`) and the policy counts that as a loss: the
    /// session may expire at the server before the client can know.
    Suspended,
    /// The session handle was closed, or failed authentication.
    Closed,
}
