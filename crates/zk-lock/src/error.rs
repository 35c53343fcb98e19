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
