//! The `Coordinator` trait: every ZooKeeper operation a client needs, for any backend.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

use crate::error::Result;
use crate::types::acl::Acl;
use crate::types::create::{CreateOptions, Created};
use crate::types::event::{AddWatchMode, SessionState};
use crate::types::op::{Op, OpResult, ReadOp, ReadResult};
use crate::types::stat::Stat;
use crate::watch::{OneshotWatch, PersistentWatch};

/// A ZooKeeper session handle: the contract every backend implements and every recipe uses.
///
/// Two backends ship with the project: the wire client in this crate, which talks to real
/// ZooKeeper servers, and the in-memory ensemble of the `zk-fake` crate.
/// Recipes are generic over `C: Coordinator`, and `Arc<dyn Coordinator>` works too.
///
/// # Ordering
/// A request leaves when its future is first polled.
/// Requests awaited one after another keep ZooKeeper's FIFO order; two writes joined with
/// `join!` have no defined order between them.
/// Use [`Coordinator::multi`] when order or atomicity matters.
///
/// # Cancel safety
/// Dropping a read future is harmless.
/// Dropping a write future after it was sent does not undo the write: it may or may not be
/// applied.
///
/// # Sessions
/// A handle outlives its session.
/// After expiry it reports [`SessionState::Expired`], and (unless built with terminal expiry)
/// opens a new session with a new [`Coordinator::session_id`] and reports `SyncConnected` again.
/// Everything the old session owned, ephemeral nodes and watches, is gone: watch the state, and
/// compare session ids, to rebuild what you own.
///
/// # Versions
/// `version` arguments are `None` for "any version", or `Some(v)` to require the node's current
/// version to be `v` (`Some(-1)` also means any, as on the wire).
///
/// # Errors
/// Every method checks paths first ([`crate::Error::InvalidPath`]); server failures map to the
/// matching [`crate::Error`] variant carrying the path.
/// [`crate::Error::ConnectionLoss`] means the outcome of the request is unknown.
#[async_trait]
pub trait Coordinator: Send + Sync + fmt::Debug {
    /// Creates a node and returns its actual path (with any sequence suffix) and Stat.
    ///
    /// # Errors
    /// `NodeExists`, `NoNode` (no parent), `NoChildrenForEphemerals`, `NoAuth` (no CREATE on the
    /// parent), `InvalidAcl`, `BadArguments` (TTL problems), `Unimplemented` (TTL disabled).
    ///
    /// # Watches
    /// Fires `NodeCreated` on the path and `NodeChildrenChanged` on the parent.
    async fn create(&self, path: &str, data: &[u8], options: &CreateOptions) -> Result<Created>;

    /// Deletes a node, optionally only at an expected data version.
    ///
    /// # Errors
    /// `NoNode`, `BadVersion`, `NotEmpty`, `NoAuth` (no DELETE on the parent), `BadArguments`
    /// for `/` and the `/zookeeper` system nodes.
    ///
    /// # Watches
    /// Fires `NodeDeleted` on the path and `NodeChildrenChanged` on the parent.
    async fn delete(&self, path: &str, version: Option<i32>) -> Result<()>;

    /// The node's Stat, or `None` if it does not exist.
    async fn exists(&self, path: &str) -> Result<Option<Stat>>;

    /// Like [`Coordinator::exists`], and sets a one-shot watch whether or not the node exists.
    ///
    /// # Watches
    /// Fires on `NodeCreated`, `NodeDeleted` or `NodeDataChanged` of the path.
    async fn watch_exists(&self, path: &str) -> Result<(Option<Stat>, OneshotWatch)>;

    /// The node's data and Stat.
    ///
    /// # Errors
    /// `NoNode`, `NoAuth` (no READ).
    async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat)>;

    /// Like [`Coordinator::get_data`], and sets a one-shot watch (only if the node exists).
    ///
    /// # Watches
    /// Fires on `NodeDataChanged` or `NodeDeleted` of the path.
    async fn watch_data(&self, path: &str) -> Result<(Vec<u8>, Stat, OneshotWatch)>;

    /// Replaces the node's data, optionally only at an expected data version; returns the new Stat.
    ///
    /// # Errors
    /// `NoNode`, `BadVersion`, `NoAuth` (no WRITE), `TooLarge`.
    ///
    /// # Watches
    /// Fires `NodeDataChanged` on the path.
    async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat>;

    /// The node's child names (in no particular order) and its own Stat.
    ///
    /// # Errors
    /// `NoNode`, `NoAuth` (no READ).
    async fn get_children(&self, path: &str) -> Result<(Vec<String>, Stat)>;

    /// Like [`Coordinator::get_children`], and sets a one-shot child watch (only if the node
    /// exists).
    ///
    /// # Watches
    /// Fires on `NodeChildrenChanged` or `NodeDeleted` of the path.
    async fn watch_children(&self, path: &str) -> Result<(Vec<String>, Stat, OneshotWatch)>;

    /// The node's ACL and Stat.
    ///
    /// # Errors
    /// `NoNode`, `NoAuth` (neither READ nor ADMIN).
    async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)>;

    /// Replaces the node's ACL, optionally only at an expected ACL version (`aversion`).
    ///
    /// # Errors
    /// `NoNode`, `BadVersion`, `NoAuth` (no ADMIN), `InvalidAcl`. Fires no watch.
    async fn set_acl(&self, path: &str, acl: &[Acl], version: Option<i32>) -> Result<Stat>;

    /// Applies all operations atomically, or none of them.
    ///
    /// An empty list succeeds without contacting the server.
    ///
    /// # Errors
    /// [`crate::Error::Multi`] with the index of the first failing operation and its error.
    ///
    /// # Watches
    /// Fires the events of every operation, after the whole transaction.
    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>>;

    /// Runs several reads in one round trip; each succeeds or fails on its own (not atomic).
    async fn multi_read(&self, ops: &[ReadOp]) -> Result<Vec<Result<ReadResult>>>;

    /// Makes the connected server catch up with the leader before this session's later reads.
    async fn sync(&self, path: &str) -> Result<()>;

    /// Sets a persistent or persistent-recursive watch; the node need not exist.
    async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<PersistentWatch>;

    /// The paths of this session's ephemeral nodes that start with `prefix` (a plain string
    /// prefix; `/` gives all).
    async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>>;

    /// The number of all descendants of a node, not counting the node itself.
    async fn get_all_children_number(&self, path: &str) -> Result<i32>;

    /// Adds an identity to the session, e.g. scheme `digest` with `user:password`.
    ///
    /// The credentials are kept and sent again after every reconnect and session renewal.
    ///
    /// # Errors
    /// `AuthFailed` for an unknown scheme or rejected credentials; the handle is then finished.
    async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<()>;

    /// The current session's id (it changes when an expired session is renewed).
    fn session_id(&self) -> i64;

    /// The negotiated session timeout.
    fn session_timeout(&self) -> Duration;

    /// Follows the session state: `borrow()` for now, `changed()` or `wait_for()` to follow.
    fn session_state(&self) -> watch::Receiver<SessionState>;

    /// Closes the session: its ephemeral nodes are deleted and every watch resolves `Closed`.
    ///
    /// Closing twice is not an error.
    async fn close(&self) -> Result<()>;
}

macro_rules! forward_coordinator {
    ($($wrapper:ty),+) => {$(
        #[async_trait]
        #[deny(clippy::missing_trait_methods)]
        impl<C: Coordinator + ?Sized> Coordinator for $wrapper {
            async fn create(&self, path: &str, data: &[u8], options: &CreateOptions) -> Result<Created> {
                (**self).create(path, data, options).await
            }
            async fn delete(&self, path: &str, version: Option<i32>) -> Result<()> {
                (**self).delete(path, version).await
            }
            async fn exists(&self, path: &str) -> Result<Option<Stat>> {
                (**self).exists(path).await
            }
            async fn watch_exists(&self, path: &str) -> Result<(Option<Stat>, OneshotWatch)> {
                (**self).watch_exists(path).await
            }
            async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat)> {
                (**self).get_data(path).await
            }
            async fn watch_data(&self, path: &str) -> Result<(Vec<u8>, Stat, OneshotWatch)> {
                (**self).watch_data(path).await
            }
            async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat> {
                (**self).set_data(path, data, version).await
            }
            async fn get_children(&self, path: &str) -> Result<(Vec<String>, Stat)> {
                (**self).get_children(path).await
            }
            async fn watch_children(&self, path: &str) -> Result<(Vec<String>, Stat, OneshotWatch)> {
                (**self).watch_children(path).await
            }
            async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
                (**self).get_acl(path).await
            }
            async fn set_acl(&self, path: &str, acl: &[Acl], version: Option<i32>) -> Result<Stat> {
                (**self).set_acl(path, acl, version).await
            }
            async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
                (**self).multi(ops).await
            }
            async fn multi_read(&self, ops: &[ReadOp]) -> Result<Vec<Result<ReadResult>>> {
                (**self).multi_read(ops).await
            }
            async fn sync(&self, path: &str) -> Result<()> {
                (**self).sync(path).await
            }
            async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<PersistentWatch> {
                (**self).add_watch(path, mode).await
            }
            async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>> {
                (**self).get_ephemerals(prefix).await
            }
            async fn get_all_children_number(&self, path: &str) -> Result<i32> {
                (**self).get_all_children_number(path).await
            }
            async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<()> {
                (**self).add_auth(scheme, auth).await
            }
            fn session_id(&self) -> i64 {
                (**self).session_id()
            }
            fn session_timeout(&self) -> Duration {
                (**self).session_timeout()
            }
            fn session_state(&self) -> watch::Receiver<SessionState> {
                (**self).session_state()
            }
            async fn close(&self) -> Result<()> {
                (**self).close().await
            }
        }
    )+};
}

forward_coordinator!(Arc<C>, Box<C>, &C);
