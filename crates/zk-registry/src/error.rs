//! The one error type of the crate.

/// What went wrong with a registration or a discovery.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// ZooKeeper refused or failed the request (`TooLarge` for an instance whose JSON is over
    /// the server's packet limit: nothing was written).
    #[error(transparent)]
    ZooKeeper(#[from] zk_core::Error),
    /// A service name or instance id that cannot be a node name.
    #[error("invalid {what} {name:?}: {reason}")]
    InvalidName {
        /// "service name" or "instance id".
        what: &'static str,
        /// The name.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The instance could not be encoded as JSON (its payload's `Serialize` failed).
    #[error("cannot encode instance {id}: {reason}")]
    Encode {
        /// The instance id.
        id: String,
        /// Why.
        reason: String,
    },
    /// An update changed the instance's service name or id, which name its node.
    #[error("an update cannot change the service name or id of {id}")]
    Renamed {
        /// The registered instance's id.
        id: String,
    },
}
