//! The one error type of the crate.

/// What went wrong with a configuration read or write.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// ZooKeeper refused or failed the request (`TooLarge` for a value over the server's packet
    /// limit: nothing was written; `ConnectionLoss` on a versioned write: it may or may not have
    /// been applied).
    #[error(transparent)]
    ZooKeeper(#[from] zk_core::Error),
    /// The stored value does not decode with the store's codec.
    #[error("the value at {path} (data version {version}) does not decode: {reason}")]
    Decode {
        /// The node.
        path: String,
        /// The data version of the bytes that failed.
        version: i32,
        /// Why.
        reason: String,
    },
    /// The value failed the store's validation: a value being written (nothing was written), or
    /// the stored one.
    #[error("invalid value for {path}: {reason}")]
    Invalid {
        /// The node.
        path: String,
        /// What the validator said.
        reason: String,
    },
    /// The codec could not encode the value; nothing was written.
    #[error("cannot encode the value for {path}: {reason}")]
    Encode {
        /// The node.
        path: String,
        /// Why.
        reason: String,
    },
    /// A compare-and-set found another version than the expected one (`None`: expected no
    /// node); nothing was written.
    #[error("{path} is not at the expected version {expected:?}")]
    Conflict {
        /// The node (for a multi-key update, the first key that conflicted, or the base path).
        path: String,
        /// The version the write expected.
        expected: Option<i32>,
    },
    /// A key of a [`crate::ConfigTree`] that cannot be a node name.
    #[error("invalid key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
}
