//! [`ConfigTree`]: one typed value per key, each key a child node of a base path.

use std::collections::BTreeMap;
use std::fmt;

use futures::StreamExt;
use futures::future::join_all;
use tokio::sync::watch;
use zk_cache::{TreeCache, TreeCacheOptions};
use zk_core::path::{join, name, validate_name, validate_path};
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error, Op};

use crate::codec::{Codec, Json};
use crate::error::ConfigError;
use crate::format::Format;
use crate::node::{Expect, delete, write};
use crate::versioned::{Read, Rejected, Version, Versioned};

/// The keys of a tree as read at one moment: the good values, and the keys whose stored
/// value was refused (for a watcher: the refused write, while the key keeps its last good
/// value in `values` if it had one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeSnapshot<T> {
    /// Each key's value and version.
    pub values: BTreeMap<String, Versioned<T>>,
    /// Keys whose newest write did not decode or validate.
    pub rejected: BTreeMap<String, Rejected>,
}

impl<T> Default for TreeSnapshot<T> {
    fn default() -> Self {
        TreeSnapshot {
            values: BTreeMap::new(),
            rejected: BTreeMap::new(),
        }
    }
}

impl<T> TreeSnapshot<T> {
    /// The value of `key`, if it has a good one.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.values.get(key).map(|v| &v.value)
    }
}

/// A map of typed values kept as the children of a base node, one child per key (the node's
/// name is the key, its data the encoded value).
///
/// Keys are node names: non-empty, without `/`, not `.` or `..`. A key node with empty data
/// has no value. Several keys change at once, or not at all, through [`ConfigTree::batch`] and
/// [`ConfigTree::update`], each one `multi` request.
pub struct ConfigTree<C, T, K = Json> {
    zk: C,
    base: String,
    format: Format<T, K>,
}

impl<C, T, K: fmt::Debug> fmt::Debug for ConfigTree<C, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigTree")
            .field("base", &self.base)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl<C: Clone, T, K> Clone for ConfigTree<C, T, K> {
    fn clone(&self) -> Self {
        ConfigTree {
            zk: self.zk.clone(),
            base: self.base.clone(),
            format: self.format.clone(),
        }
    }
}

impl<C, T> ConfigTree<C, T, Json>
where
    C: Coordinator + Clone + 'static,
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    /// A tree of JSON values under `base`.
    ///
    /// # Errors
    /// `InvalidPath` for an invalid base path.
    pub fn new(zk: C, base: &str) -> Result<Self, ConfigError> {
        ConfigTree::with_codec(zk, base, Json)
    }
}

impl<C, T, K> ConfigTree<C, T, K>
where
    C: Coordinator + Clone + 'static,
    T: Clone + Send + Sync + 'static,
    K: Codec<T>,
{
    /// A tree of values under `base` encoded by `codec`.
    ///
    /// # Errors
    /// `InvalidPath` for an invalid base path.
    pub fn with_codec(zk: C, base: &str, codec: K) -> Result<Self, ConfigError> {
        validate_path(base)?;
        Ok(ConfigTree {
            zk,
            base: base.to_owned(),
            format: Format::new(codec),
        })
    }

    /// Adds a validation rule for every key's value (see [`crate::ConfigStore::validate`]).
    pub fn validate(
        mut self,
        rule: impl Fn(&T) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.format = self.format.validated(rule);
        self
    }

    /// The base path.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The node path of `key`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] for a key that cannot be a node name.
    pub fn key_path(&self, key: &str) -> Result<String, ConfigError> {
        match validate_name(key) {
            Ok(()) => Ok(join(&self.base, key)),
            Err(Error::InvalidPath { reason, .. }) => Err(ConfigError::InvalidKey {
                key: key.to_owned(),
                reason,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The keys, sorted (none when the base node does not exist).
    ///
    /// # Errors
    /// ZooKeeper's errors.
    pub async fn keys(&self) -> Result<Vec<String>, ConfigError> {
        match self.zk.get_children(&self.base).await {
            Ok((mut keys, _)) => {
                keys.sort();
                Ok(keys)
            }
            Err(Error::NoNode { .. }) => Ok(Vec::new()),
            Err(e) => Err(e.into()),
        }
    }

    /// The value of `key`, or `None` if the key has no node (or an empty one).
    ///
    /// # Errors
    /// [`ConfigError::Decode`] or [`ConfigError::Invalid`] for a bad stored value;
    /// [`ConfigError::InvalidKey`]; ZooKeeper's errors.
    pub async fn get(&self, key: &str) -> Result<Option<Versioned<T>>, ConfigError> {
        let path = self.key_path(key)?;
        let Some((data, stat)) = self.zk.get_if_exists(&path).await? else {
            return Ok(None);
        };
        if data.is_empty() {
            return Ok(None);
        }
        self.format.decoded(&path, &data, &stat).map(Some)
    }

    /// Writes `value` to `key` whatever is stored (creating the base node if needed).
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`], [`ConfigError::Invalid`], [`ConfigError::Encode`],
    /// ZooKeeper's errors (`TooLarge`); nothing is written on any of them.
    pub async fn set(&self, key: &str, value: &T) -> Result<Version, ConfigError> {
        let path = self.key_path(key)?;
        let data = self.format.write(&path, value)?;
        write(&self.zk, &path, &data, Expect::Any).await
    }

    /// Writes `value` to `key` only at data version `expected` (`None`: only if the key does
    /// not exist).
    ///
    /// # Errors
    /// [`ConfigError::Conflict`] otherwise; those of [`ConfigTree::set`].
    pub async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<i32>,
        value: &T,
    ) -> Result<Version, ConfigError> {
        let path = self.key_path(key)?;
        let data = self.format.write(&path, value)?;
        write(&self.zk, &path, &data, Expect::from_read(expected)).await
    }

    /// Deletes `key` (only at data version `expected`, if given); returns whether it existed.
    ///
    /// # Errors
    /// [`ConfigError::Conflict`] for another version; [`ConfigError::InvalidKey`];
    /// ZooKeeper's errors.
    pub async fn delete(&self, key: &str, expected: Option<i32>) -> Result<bool, ConfigError> {
        let path = self.key_path(key)?;
        delete(&self.zk, &path, expected).await
    }

    /// Every key's value, read now (the reads pipelined); bad values are listed in
    /// [`TreeSnapshot::rejected`], not errors.
    ///
    /// # Errors
    /// ZooKeeper's errors.
    pub async fn read(&self) -> Result<TreeSnapshot<T>, ConfigError> {
        let keys = self.keys().await?;
        let paths: Vec<String> = keys.iter().map(|k| join(&self.base, k)).collect();
        let reads = join_all(paths.iter().map(|p| self.zk.get_if_exists(p))).await;
        let mut snapshot = TreeSnapshot::default();
        for (key, read) in keys.into_iter().zip(reads) {
            if let Some((data, stat)) = read? {
                self.add_read(&mut snapshot, key, self.format.read(&data, &stat));
            }
        }
        Ok(snapshot)
    }

    fn add_read(&self, snapshot: &mut TreeSnapshot<T>, key: String, read: Read<T>) {
        match read {
            Read::Empty(_) => {}
            Read::Value(value) => {
                snapshot.values.insert(key, value);
            }
            Read::Refused(rejected) => {
                snapshot.rejected.insert(key, rejected);
            }
        }
    }

    /// A set of writes to commit together in one `multi`: all of them or none.
    pub fn batch(&self) -> Batch<'_, C, T, K> {
        Batch {
            tree: self,
            ops: Vec::new(),
            expected: Vec::new(),
            error: None,
        }
    }

    /// Reads `keys`, computes their new values with `change` (given the keys that have a value;
    /// it returns, for each key to change, `Some(value)` to write or `None` to delete), and
    /// commits the changes in one `multi` that also checks every key read is unchanged;
    /// starts again when another writer came first. Returns the values of `keys` it wrote
    /// against. Repeated keys count once.
    ///
    /// # Errors
    /// A key's bad stored value; [`ConfigError::InvalidKey`] for an invalid key, or one that
    /// `change` returns but was not read; those of
    /// [`Batch::commit`] other than `Conflict`.
    pub async fn update(
        &self,
        keys: &[&str],
        mut change: impl FnMut(&BTreeMap<String, T>) -> BTreeMap<String, Option<T>>,
    ) -> Result<BTreeMap<String, T>, ConfigError> {
        let keys: Vec<&str> = keys
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let paths = keys
            .iter()
            .map(|k| self.key_path(k))
            .collect::<Result<Vec<_>, _>>()?;
        loop {
            let reads = join_all(paths.iter().map(|p| self.zk.get_if_exists(p))).await;
            let mut versions = BTreeMap::new();
            let mut current = BTreeMap::new();
            for ((key, path), read) in keys.iter().zip(&paths).zip(reads) {
                let found = match read {
                    Ok(found) => found,
                    // Waiting cures it (a reconnect, a new session) or `recover` says it cannot.
                    Err(e) => {
                        self.zk.recover(e).await?;
                        continue;
                    }
                };
                let version = found.as_ref().map(|(_, stat)| stat.version);
                versions.insert((*key).to_owned(), version);
                if let Some((data, stat)) = found.filter(|(data, _)| !data.is_empty()) {
                    let value = self.format.decoded(path, &data, &stat)?;
                    current.insert((*key).to_owned(), value.value);
                }
            }
            if versions.len() < keys.len() {
                continue; // a read failed through connection loss: read them all again
            }
            let changes = change(&current);
            if let Some(stray) = changes.keys().find(|k| !versions.contains_key(*k)) {
                return Err(ConfigError::InvalidKey {
                    key: stray.clone(),
                    reason: "not among the keys the update read",
                });
            }
            let mut batch = self.batch();
            for (key, version) in &versions {
                batch = match changes.get(key) {
                    Some(Some(value)) => batch.write(key, value, *version),
                    Some(None) => match version {
                        Some(v) => batch.delete(key, Some(*v)),
                        None => batch.check(key, None),
                    },
                    None => batch.check(key, *version),
                };
            }
            match batch.commit().await {
                Ok(()) => return Ok(current),
                Err(ConfigError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Follows the whole tree: the receiver holds the current snapshot from the start and is
    /// kept current (from a [`zk_cache::TreeCache`] of depth 1) until every receiver is dropped
    /// or the handle closes. A key whose newest write is refused keeps its last good value and
    /// shows the refusal in [`TreeSnapshot::rejected`].
    ///
    /// # Errors
    /// What the cache's first load fails with.
    pub async fn watch(&self) -> Result<watch::Receiver<TreeSnapshot<T>>, ConfigError> {
        let (cache, _) = TreeCache::start(
            self.zk.clone(),
            &self.base,
            TreeCacheOptions::new().max_depth(1),
        )?;
        cache.initialized().await?;
        // Subscribed before the first view is read, so no later change is missed, and after
        // the load, so its events are not folded again.
        let mut events = cache.subscribe();
        let this = self.clone();
        let (tx, rx) = watch::channel(this.fold_cache(&cache, &TreeSnapshot::default()));
        tokio::spawn(async move {
            loop {
                let more = tokio::select! {
                    () = tx.closed() => return,
                    more = events.next() => more,
                };
                if more.is_none() {
                    return; // the cache stopped: the receivers keep the last snapshot
                }
                let held = tx.borrow().clone();
                tx.send_replace(this.fold_cache(&cache, &held));
            }
        });
        Ok(rx)
    }

    /// The snapshot after `held` given what `cache` holds now: each key's read folded into
    /// its last state, so a refused write keeps the key's last good value.
    fn fold_cache(&self, cache: &TreeCache, held: &TreeSnapshot<T>) -> TreeSnapshot<T> {
        let mut next = TreeSnapshot::default();
        for (path, node) in cache.snapshot() {
            if path == self.base {
                continue;
            }
            let key = name(&path).to_owned();
            let read = self.format.read(&node.data, &node.stat);
            // A refused write leaves the key its last good value, if that was read from the
            // same incarnation of the node (see `fold`).
            if let (Read::Refused(_), Some(good)) = (&read, held.values.get(&key))
                && good.version.is_some_and(|v| v.czxid == node.stat.czxid)
            {
                next.values.insert(key.clone(), good.clone());
            }
            self.add_read(&mut next, key, read);
        }
        next
    }
}

/// Writes to several keys of a [`ConfigTree`], committed together by [`Batch::commit`] in one
/// `multi`: all or nothing.
pub struct Batch<'a, C, T, K> {
    tree: &'a ConfigTree<C, T, K>,
    ops: Vec<Op>,
    /// What each op expected, for the `Conflict` a failed check reports.
    expected: Vec<Option<i32>>,
    /// The first key or value that could not be added; reported by `commit`.
    error: Option<ConfigError>,
}

impl<C, T, K: fmt::Debug> fmt::Debug for Batch<'_, C, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("base", &self.tree.base)
            .field("ops", &self.ops)
            .finish_non_exhaustive()
    }
}

impl<C, T, K> Batch<'_, C, T, K>
where
    C: Coordinator + Clone + 'static,
    T: Clone + Send + Sync + 'static,
    K: Codec<T>,
{
    fn path(&mut self, key: &str) -> Option<String> {
        match self.tree.key_path(key) {
            Ok(path) => Some(path),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }

    fn push(mut self, op: Op, expected: Option<i32>) -> Self {
        self.ops.push(op);
        self.expected.push(expected);
        self
    }

    /// Writes `value` to `key`, which must be at data version `expected` (`None`: must not
    /// exist yet, and is created).
    pub fn write(mut self, key: &str, value: &T, expected: Option<i32>) -> Self {
        let Some(path) = self.path(key) else {
            return self;
        };
        let data = match self.tree.format.write(&path, value) {
            Ok(data) => data,
            Err(e) => {
                self.error.get_or_insert(e);
                return self;
            }
        };
        let op = match expected {
            None => Op::create(path, data, CreateOptions::persistent()),
            Some(v) => Op::set_data(path, data, Some(v)),
        };
        self.push(op, expected)
    }

    /// Deletes `key`, which must be at data version `expected` if given.
    pub fn delete(mut self, key: &str, expected: Option<i32>) -> Self {
        let Some(path) = self.path(key) else {
            return self;
        };
        self.push(Op::delete(path, expected), expected)
    }

    /// Checks that `key` is at data version `expected` (`None`: that it does not exist)
    /// without changing it.
    pub fn check(mut self, key: &str, expected: Option<i32>) -> Self {
        let Some(path) = self.path(key) else {
            return self;
        };
        match expected {
            Some(v) => self.push(Op::check(path, Some(v)), expected),
            // "Does not exist" is a create and a delete of the same node in one multi: the
            // create fails with NodeExists if it does.
            None => self
                .push(
                    Op::create(path.clone(), Vec::new(), CreateOptions::persistent()),
                    None,
                )
                .push(Op::delete(path, None), None),
        }
    }

    /// Commits every write in one `multi`: all applied, or none.
    ///
    /// # Errors
    /// The first key or value that could not be added ([`ConfigError::InvalidKey`],
    /// [`ConfigError::Invalid`], [`ConfigError::Encode`]); [`ConfigError::Conflict`] naming
    /// the first key not at its expected version; ZooKeeper's errors (`TooLarge` for a batch
    /// over the packet limit; `ConnectionLoss`: it may or may not have been applied).
    pub async fn commit(self) -> Result<(), ConfigError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.ops.is_empty() {
            return Ok(());
        }
        let zk = &self.tree.zk;
        let mut made_base = false;
        loop {
            match zk.multi(&self.ops).await {
                Ok(_) => return Ok(()),
                Err(Error::Multi { index, source }) => match *source {
                    // The base node is missing: creates fail with NoNode on their parent.
                    Error::NoNode { .. } if !made_base && self.base_missing().await? => {
                        zk.ensure_path(&self.tree.base).await?;
                        made_base = true;
                    }
                    Error::NodeExists { .. } | Error::BadVersion { .. } | Error::NoNode { .. } => {
                        return Err(ConfigError::Conflict {
                            path: self.ops[index].path().to_owned(),
                            expected: self.expected[index],
                        });
                    }
                    other => return Err(other.into()),
                },
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn base_missing(&self) -> Result<bool, ConfigError> {
        Ok(self.tree.zk.exists(&self.tree.base).await?.is_none())
    }
}
