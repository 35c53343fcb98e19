//! The election's own failures, next to ZooKeeper's.

use zk_contender::Naming;

/// Why campaigning, resigning or observing failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ElectionError {
    /// ZooKeeper refused or could not serve a request (a closed handle is
    /// [`zk_core::Error::Closed`]).
    #[error(transparent)]
    Zk(#[from] zk_core::Error),
    /// The candidate was not elected in time; its node is removed.
    #[error("not elected on {path} in time")]
    Timeout {
        /// The election path.
        path: String,
    },
    /// This candidate handle (or a clone of it) is already campaigning or leading; a handle
    /// takes part once at a time.
    #[error("this candidate is already campaigning or leading on {path}")]
    AlreadyCampaigning {
        /// The election path.
        path: String,
    },
    /// The candidate id cannot be stored as it is.
    #[error("invalid candidate id {id:?}: {reason}")]
    InvalidId {
        /// The id.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Candidate data was given with a naming whose nodes hold only the id (kazoo's and
    /// Curator's read the whole node as the id).
    #[error("{naming:?} candidate nodes hold only the id; candidate data needs Naming::Native")]
    DataNeedsNativeNaming {
        /// The naming in use.
        naming: Naming,
    },
}
