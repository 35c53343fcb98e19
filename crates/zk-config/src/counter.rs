//! [`Counter`]: a shared integer, added to by compare-and-set, in the encodings kazoo and
//! Curator use.

use zk_core::Coordinator;

use crate::codec::{Codec, Decimal, SharedCount};
use crate::error::ConfigError;
use crate::store::ConfigStore;
use crate::versioned::{Version, Versioned};

/// A shared integer counter in one node (starting at 0), changed only by compare-and-set so
/// concurrent additions from any number of processes all count.
///
/// - [`Counter::new`] and [`Counter::kazoo`] store decimal text, as kazoo's `Counter` does.
/// - [`Counter::shared_count`] stores 4 big-endian bytes, as Curator's `SharedCount` and
///   kazoo's `Counter(..., support_curator=True)` do; values must fit in an `i32`.
///
/// An empty node (kazoo's `ensure_path` leaves one) counts as 0.
#[derive(Debug, Clone)]
pub struct Counter<C, K = Decimal> {
    store: ConfigStore<C, i64, K>,
}

impl<C: Coordinator + Clone + 'static> Counter<C, Decimal> {
    /// A counter at `path` stored as decimal text.
    ///
    /// # Errors
    /// `InvalidPath` for an invalid path.
    pub fn new(zk: C, path: &str) -> Result<Self, ConfigError> {
        Counter::with_codec(zk, path, Decimal)
    }

    /// A counter at `path` shared with kazoo's `Counter` (decimal text); the same as
    /// [`Counter::new`].
    ///
    /// # Errors
    /// `InvalidPath` for an invalid path.
    pub fn kazoo(zk: C, path: &str) -> Result<Self, ConfigError> {
        Counter::new(zk, path)
    }
}

impl<C: Coordinator + Clone + 'static> Counter<C, SharedCount> {
    /// A counter at `path` shared with Curator's `SharedCount` (and kazoo's `Counter` with
    /// `support_curator=True`): 4 big-endian bytes.
    ///
    /// # Errors
    /// `InvalidPath` for an invalid path.
    pub fn shared_count(zk: C, path: &str) -> Result<Self, ConfigError> {
        Counter::with_codec(zk, path, SharedCount)
    }
}

impl<C: Coordinator + Clone + 'static, K: Codec<i64>> Counter<C, K> {
    /// A counter at `path` stored with `codec`.
    ///
    /// # Errors
    /// `InvalidPath` for an invalid path.
    pub fn with_codec(zk: C, path: &str, codec: K) -> Result<Self, ConfigError> {
        Ok(Counter {
            store: ConfigStore::with_codec(zk, path, 0, codec)?,
        })
    }

    /// The counter's node.
    pub fn path(&self) -> &str {
        self.store.path()
    }

    /// The current value (0 when the node is absent or empty) and its version.
    ///
    /// # Errors
    /// [`ConfigError::Decode`] when the node holds something else; ZooKeeper's errors.
    pub async fn get(&self) -> Result<Versioned<i64>, ConfigError> {
        self.store.get().await
    }

    /// Adds `delta` (negative to subtract) and returns the value it wrote; retried on
    /// conflicts, so concurrent additions all count.
    ///
    /// # Errors
    /// [`ConfigError::Encode`] on overflow (of `i64`, or of the 4-byte format); those of
    /// [`ConfigStore::update`].
    pub async fn add(&self, delta: i64) -> Result<i64, ConfigError> {
        let path = self.path();
        let written = self
            .store
            .try_update(|old| {
                old.checked_add(delta).ok_or_else(|| ConfigError::Encode {
                    path: path.to_owned(),
                    reason: format!("{old} + {delta} overflows"),
                })
            })
            .await?;
        Ok(written.value)
    }

    /// Sets the value whatever it was.
    ///
    /// # Errors
    /// [`ConfigError::Encode`] when the value does not fit the format; ZooKeeper's errors.
    pub async fn set(&self, value: i64) -> Result<Version, ConfigError> {
        self.store.set(&value).await
    }
}
