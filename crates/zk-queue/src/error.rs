//! The one error type of the crate.

/// What went wrong with a queue operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// ZooKeeper refused or failed the request: `TooLarge` for an item (or a `put_all` batch)
    /// over the server's packet limit, with nothing written; `ConnectionLoss` on a put, which
    /// may or may not have queued the item.
    #[error(transparent)]
    ZooKeeper(#[from] zk_core::Error),
    /// A priority above [`crate::MAX_PRIORITY`]; nothing was written.
    #[error("priority {0} is out of range 0..=999")]
    InvalidPriority(u16),
    /// The queue's layout keeps no leases (kazoo's flat `Queue`): only at-most-once takes.
    #[error("this queue's layout has no place for leases: take items instead")]
    NoLeases,
    /// The layout cannot work: its reason says why.
    #[error("invalid queue layout: {0}")]
    InvalidLayout(&'static str),
    /// The lease is no longer held (its session ended, or someone deleted it): the item was
    /// not acknowledged, and another consumer may have it now.
    #[error("the lease on {item} is lost")]
    LeaseLost {
        /// The item's node name.
        item: String,
    },
    /// A claim or acknowledgement whose reply was lost while the session ended: it may or may
    /// not have been applied, and nothing left can tell. For a take, `data` is the item's
    /// content, so the caller can decide; for an acknowledgement it is empty.
    #[error("cannot tell whether the operation on {item} was applied")]
    Uncertain {
        /// The item's node name.
        item: String,
        /// The item's content, when it was read.
        data: Vec<u8>,
    },
}
