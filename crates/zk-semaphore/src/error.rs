//! The semaphore's own failures, next to ZooKeeper's.

/// Why creating, acquiring or releasing a semaphore permit failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SemaphoreError {
    /// ZooKeeper refused or could not serve a request.
    #[error(transparent)]
    Zk(#[from] zk_core::Error),
    /// No permit was free in time; this attempt's nodes are removed.
    #[error("timed out waiting for a permit of the semaphore at {path}")]
    Timeout {
        /// The semaphore path.
        path: String,
    },
    /// This handle already holds a permit (or is acquiring one); one handle holds at most one
    /// permit at a time.
    #[error(
        "this handle already holds a permit of the semaphore at {path}; make another handle for a second permit"
    )]
    AlreadyHolding {
        /// The semaphore path.
        path: String,
    },
    /// A semaphore needs at least one permit.
    #[error("a semaphore needs at least one permit, not {permits}")]
    InvalidPermits {
        /// The permit count asked for.
        permits: u32,
    },
    /// The semaphore path stores another permit count than this handle's: every participant
    /// must agree on it.
    #[error("the semaphore at {path} has {stored} permits, but this handle was made with {ours}")]
    PermitsMismatch {
        /// The semaphore path.
        path: String,
        /// This handle's permit count.
        ours: u32,
        /// The count stored with the semaphore.
        stored: u32,
    },
    /// The semaphore path's data is not a permit count (someone else wrote it, or the path is
    /// not a semaphore).
    #[error("the data of {path} is not a permit count: {found}")]
    InvalidPermitsData {
        /// The semaphore path (the node whose data is wrong).
        path: String,
        /// What was found there, printable: the text, or its bytes in hex when it is not text.
        found: String,
    },
}
