//! [`ConfigStore`]: one typed value in one node.

use std::fmt;

use futures::StreamExt;
use tokio::sync::watch;
use zk_core::path::validate_path;
use zk_core::{Coordinator, CoordinatorExt};

use crate::codec::{Codec, Json};
use crate::error::ConfigError;
use crate::format::Format;
use crate::node::{Expect, delete, write};
use crate::versioned::{Read, Version, Versioned, Watched, fold};

/// A typed value kept in one ZooKeeper node: read it, write it (blindly or by compare-and-set),
/// update it through a function retried on conflicts, and watch it.
///
/// The node holds the value encoded by the store's codec ([`Json`] unless chosen otherwise).
/// A missing node, or one with empty data (as `ensure_path` leaves it), holds no value: it
/// reads as the store's default. Values from elsewhere are decoded and validated on every
/// read; one that fails is an error for [`ConfigStore::get`] and, for a watcher, is reported
/// while the last good value stays current.
pub struct ConfigStore<C, T, K = Json> {
    zk: C,
    path: String,
    default: T,
    format: Format<T, K>,
}

impl<C, T: fmt::Debug, K: fmt::Debug> fmt::Debug for ConfigStore<C, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigStore")
            .field("path", &self.path)
            .field("default", &self.default)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl<C: Clone, T: Clone, K> Clone for ConfigStore<C, T, K> {
    fn clone(&self) -> Self {
        ConfigStore {
            zk: self.zk.clone(),
            path: self.path.clone(),
            default: self.default.clone(),
            format: self.format.clone(),
        }
    }
}

impl<C, T> ConfigStore<C, T, Json>
where
    C: Coordinator + Clone + 'static,
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// A JSON-encoded value at `path`, reading as `default` while the node is absent.
    ///
    /// # Errors
    /// [`ConfigError::ZooKeeper`] with `InvalidPath` for an invalid path.
    pub fn new(zk: C, path: &str, default: T) -> Result<Self, ConfigError> {
        ConfigStore::with_codec(zk, path, default, Json)
    }
}

impl<C, T, K> ConfigStore<C, T, K>
where
    C: Coordinator + Clone + 'static,
    T: Clone + Send + Sync + 'static,
    K: Codec<T>,
{
    /// A value at `path` encoded by `codec`, reading as `default` while the node is absent.
    ///
    /// # Errors
    /// [`ConfigError::ZooKeeper`] with `InvalidPath` for an invalid path.
    pub fn with_codec(zk: C, path: &str, default: T, codec: K) -> Result<Self, ConfigError> {
        validate_path(path)?;
        Ok(ConfigStore {
            zk,
            path: path.to_owned(),
            default,
            format: Format::new(codec),
        })
    }

    /// Adds a validation rule: values that fail it are not written ([`ConfigError::Invalid`]),
    /// and stored values that fail it are refused like values that do not decode.
    pub fn validate(
        mut self,
        rule: impl Fn(&T) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.format = self.format.validated(rule);
        self
    }

    /// The node's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The value and its version; the default (with no version) when the node is absent.
    ///
    /// # Errors
    /// [`ConfigError::Decode`] or [`ConfigError::Invalid`] when the stored value is bad;
    /// ZooKeeper's errors.
    pub async fn get(&self) -> Result<Versioned<T>, ConfigError> {
        match self.zk.get_if_exists(&self.path).await? {
            None => Ok(Versioned {
                value: self.default.clone(),
                version: None,
            }),
            Some((data, stat)) => self.format.value(&self.path, &data, &stat, &self.default),
        }
    }

    /// Writes `value` whatever is stored, creating the node (and its parents) if needed.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`], [`ConfigError::Encode`], ZooKeeper's errors (`TooLarge` for
    /// a value over the server's limit); nothing is written on any of them.
    pub async fn set(&self, value: &T) -> Result<Version, ConfigError> {
        let data = self.format.write(&self.path, value)?;
        write(&self.zk, &self.path, &data, Expect::Any).await
    }

    /// Writes `value` only if the node is still at data version `expected` (`None`: only if
    /// there is no node yet), as [`Versioned::expected`] gives it.
    ///
    /// # Errors
    /// [`ConfigError::Conflict`] when it is not (nothing written), and those of
    /// [`ConfigStore::set`]. `ConnectionLoss` only when the reply was lost and a read could not
    /// tell whether the write happened.
    pub async fn compare_and_set(
        &self,
        expected: Option<i32>,
        value: &T,
    ) -> Result<Version, ConfigError> {
        let data = self.format.write(&self.path, value)?;
        write(&self.zk, &self.path, &data, Expect::from_read(expected)).await
    }

    /// Reads the value, computes the new one with `change`, and writes it by compare-and-set,
    /// starting again whenever another writer came first; so no concurrent update is lost.
    /// Returns what was written.
    ///
    /// # Errors
    /// Those of [`ConfigStore::get`] and [`ConfigStore::compare_and_set`] other than
    /// `Conflict`.
    pub async fn update(
        &self,
        mut change: impl FnMut(&T) -> T,
    ) -> Result<Versioned<T>, ConfigError> {
        self.try_update(|old| Ok(change(old))).await
    }

    /// [`ConfigStore::update`] with a `change` that may refuse: its error ends the update with
    /// nothing written.
    ///
    /// # Errors
    /// `change`'s, and those of [`ConfigStore::update`].
    pub async fn try_update(
        &self,
        mut change: impl FnMut(&T) -> Result<T, ConfigError>,
    ) -> Result<Versioned<T>, ConfigError> {
        loop {
            let current = self.get().await?;
            let value = change(&current.value)?;
            match self.compare_and_set(current.expected(), &value).await {
                Ok(version) => {
                    return Ok(Versioned {
                        value,
                        version: Some(version),
                    });
                }
                Err(ConfigError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Deletes the node (only at data version `expected`, if given); returns whether it
    /// existed. The value reads as the default again.
    ///
    /// # Errors
    /// [`ConfigError::Conflict`] for another version; ZooKeeper's errors.
    pub async fn delete(&self, expected: Option<i32>) -> Result<bool, ConfigError> {
        delete(&self.zk, &self.path, expected).await
    }

    /// Follows the value: the receiver holds the current value from the start and is kept
    /// current from a background task until every receiver is dropped or the handle closes.
    ///
    /// It re-reads after reconnects and session changes and never reports one write twice
    /// (see [`zk_cache::data_watch`]). A write that does not decode or validate does not
    /// replace the current value: it shows as [`Watched::rejected`] until a good one comes.
    ///
    /// # Errors
    /// What the first read fails with (ZooKeeper's errors; a bad stored value is not an error
    /// here but a rejection).
    pub async fn watch(&self) -> Result<watch::Receiver<Watched<T>>, ConfigError> {
        let mut follow = zk_cache::data_watch(self.zk.clone(), &self.path)?;
        let first = follow.next().await.ok_or(zk_core::Error::Closed)??;
        let empty = Watched {
            current: Versioned {
                value: self.default.clone(),
                version: None,
            },
            rejected: None,
        };
        let format = self.format.clone();
        let default = self.default.clone();
        let read = move |node: Option<zk_cache::NodeData>| match node {
            None => Read::Empty(None),
            Some(node) => format.read(&node.data, &node.stat),
        };
        let (tx, rx) = watch::channel(fold(&empty, read(first), &default));
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    () = tx.closed() => return,
                    next = follow.next() => next,
                };
                // The stream ends, or yields an error that waiting cannot cure, only when the
                // handle is done: the receivers keep the last value.
                let Some(Ok(node)) = next else { return };
                let held = tx.borrow().clone();
                tx.send_replace(fold(&held, read(node), &default));
            }
        });
        Ok(rx)
    }
}
