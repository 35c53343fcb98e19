//! `TreeCache` and `NodeCache`: an in-memory mirror of a subtree (or of one node), kept current
//! by one-shot watches on every cached node, with a stream of what changed.

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::task::{Context, Poll};

use futures::Stream;
use futures::stream::BoxStream;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use zk_core::path::validate_path;
use zk_core::{Coordinator, Error};

use crate::mirror::{Mirror, TreeEvent};
use crate::source::NodeData;
use crate::tree_task::Task;

/// Which paths a [`TreeCache`] keeps.
pub type PathFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Options of a [`TreeCache`].
#[derive(Clone)]
pub struct TreeCacheOptions {
    max_depth: Option<usize>,
    filter: Option<PathFilter>,
    event_capacity: usize,
    pub(crate) mode: WatchMode,
}

/// How a [`TreeCache`] learns of changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WatchMode {
    /// A one-shot data watch on every cached node and a child watch on every listed one (on
    /// every server version; the default). After a dropped connection the server names the
    /// watched nodes that changed meanwhile, so a reconnect costs a read per change.
    #[default]
    OneShot,
    /// One persistent recursive watch on the root (ZooKeeper 3.6+; on an older server the
    /// cache falls back to [`WatchMode::OneShot`]): one watch on the server instead of two per
    /// node, and no re-arming. But a server replays nothing to a persistent watch after a
    /// dropped connection, so a reconnect (or a lagging watch queue) costs a read of every
    /// cached node to compare. Choose it for large trees on a steady connection.
    PersistentRecursive,
}

impl fmt::Debug for TreeCacheOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeCacheOptions")
            .field("max_depth", &self.max_depth)
            .field("filter", &self.filter.is_some())
            .field("event_capacity", &self.event_capacity)
            .field("mode", &self.mode)
            .finish()
    }
}

impl Default for TreeCacheOptions {
    fn default() -> Self {
        TreeCacheOptions {
            max_depth: None,
            filter: None,
            event_capacity: 1024,
            mode: WatchMode::OneShot,
        }
    }
}

impl TreeCacheOptions {
    /// The whole subtree, every path, 1024 events of slack per subscriber.
    pub fn new() -> TreeCacheOptions {
        TreeCacheOptions::default()
    }

    /// Caches nodes at most `depth` levels below the root (0: the root alone).
    pub fn max_depth(mut self, depth: usize) -> TreeCacheOptions {
        self.max_depth = Some(depth);
        self
    }

    /// Caches only the paths `keep` accepts, and nothing below a path it refuses (the root is
    /// always kept).
    pub fn filter(
        mut self,
        keep: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> TreeCacheOptions {
        self.filter = Some(Arc::new(keep));
        self
    }

    /// How many events a subscriber may fall behind before it misses some (and is told so
    /// with [`TreeEvent::Lagged`]); the cache itself never falls behind. At least 1.
    pub fn event_capacity(mut self, capacity: usize) -> TreeCacheOptions {
        self.event_capacity = capacity.max(1);
        self
    }

    /// How the cache learns of changes; see [`WatchMode`].
    pub fn watch_mode(mut self, mode: WatchMode) -> TreeCacheOptions {
        self.mode = mode;
        self
    }

    /// The options' event capacity.
    pub(crate) fn capacity(&self) -> usize {
        self.event_capacity
    }

    pub(crate) fn lists_children_at(&self, depth: usize) -> bool {
        self.max_depth.is_none_or(|max| depth < max)
    }

    pub(crate) fn keeps(&self, path: &str) -> bool {
        self.filter.as_ref().is_none_or(|keep| keep(path))
    }
}

/// Where the cache is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    Loading,
    Ready,
    Ended(Option<Error>),
}

/// An in-memory mirror of the subtree at a root, kept current by watches, with point queries
/// answered from memory and a stream of [`TreeEvent`]s.
///
/// Every cached node carries a data watch, and every node whose children are cached a child
/// watch, re-armed by the read that follows each event; a change costs one read. Reads of a
/// load are pipelined. A missing root is not an error: the cache is empty and fills when the
/// root appears.
///
/// **Reconnects cost nothing extra**: the watches survive a dropped connection within the
/// session, and the server tells the client which watched nodes changed meanwhile (its
/// SetWatches catch-up), so only those are read again. After session expiry every watch is
/// gone: the cache reads the subtree again in the handle's new session, and reports only the
/// differences.
///
/// Subscribers ([`TreeCache::subscribe`]) each get every event after they subscribed; one
/// that falls [`TreeCacheOptions::event_capacity`] events behind gets [`TreeEvent::Lagged`]
/// instead of making memory grow.
///
/// Dropping the cache stops it and removes its watches. It also stops when the handle is
/// closed, or on an error waiting cannot cure (see [`TreeCache::initialized`]).
pub struct TreeCache {
    root: String,
    mirror: Arc<RwLock<Mirror>>,
    /// Weak, so that subscriptions end when the task (which holds the sender) stops.
    events: broadcast::WeakSender<TreeEvent>,
    status: watch::Receiver<Status>,
    task: JoinHandle<()>,
}

impl fmt::Debug for TreeCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeCache")
            .field("root", &self.root)
            .field("nodes", &self.len())
            .field("status", &*self.status.borrow())
            .finish()
    }
}

impl Drop for TreeCache {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TreeCache {
    /// Starts caching the subtree at `root` on `zk` (in a background task, which needs a tokio
    /// runtime); returns the cache and a subscription that sees every event from the start,
    /// the initial load's [`TreeEvent::Added`]s and [`TreeEvent::Initialized`] included.
    ///
    /// # Errors
    /// [`Error::InvalidPath`] for an invalid root.
    pub fn start<C: Coordinator + 'static>(
        zk: C,
        root: &str,
        options: TreeCacheOptions,
    ) -> Result<(TreeCache, TreeEvents), Error> {
        validate_path(root)?;
        let (events, first) = broadcast::channel(options.capacity());
        let (status_tx, status) = watch::channel(Status::Loading);
        let mirror = Arc::new(RwLock::new(Mirror::default()));
        let task = Task::new(zk, root, options, mirror.clone(), events.clone(), status_tx);
        let cache = TreeCache {
            root: root.to_owned(),
            mirror,
            events: events.downgrade(),
            status,
            task: tokio::spawn(task.run()),
        };
        Ok((cache, TreeEvents::new(first)))
    }

    /// The cached root's path.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// Waits until the initial load is complete.
    ///
    /// # Errors
    /// Why the cache stopped, if it stopped before: [`Error::Closed`] when the handle was
    /// closed (or the cache's task was cancelled), [`Error::AuthFailed`], an error reading the
    /// root that waiting cannot cure (`NoAuth`), or `SessionExpired` on a handle that opens no
    /// new session.
    pub async fn initialized(&self) -> Result<(), Error> {
        let mut status = self.status.clone();
        let status = status
            .wait_for(|s| *s != Status::Loading)
            .await
            .map_err(|_| Error::Closed)?;
        match &*status {
            Status::Ended(error) => Err(error.clone().unwrap_or(Error::Closed)),
            _ => Ok(()),
        }
    }

    /// The cached node at `path`.
    pub fn get(&self, path: &str) -> Option<NodeData> {
        self.read().get(path).cloned()
    }

    /// The cached children of `path`, sorted; `None` if `path` is not cached.
    pub fn children(&self, path: &str) -> Option<Vec<String>> {
        self.read().children(path)
    }

    /// Every cached node, by path.
    pub fn snapshot(&self) -> BTreeMap<String, NodeData> {
        self.read().snapshot()
    }

    /// How many nodes are cached.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether nothing is cached (the root does not exist, or is not loaded yet).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new subscription: every event from now on (none, and it ends at once, if the cache
    /// has stopped).
    pub fn subscribe(&self) -> TreeEvents {
        match self.events.upgrade() {
            Some(events) => TreeEvents::new(events.subscribe()),
            None => TreeEvents::new(broadcast::channel(1).1),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Mirror> {
        self.mirror.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A [`TreeCache`] of one node: its data, kept current, and events when it is added, updated
/// or removed.
#[derive(Debug)]
pub struct NodeCache {
    cache: TreeCache,
}

impl NodeCache {
    /// Starts caching the node at `path` (a [`TreeCache`] of depth 0); see
    /// [`TreeCache::start`].
    ///
    /// # Errors
    /// [`Error::InvalidPath`] for an invalid path.
    pub fn start<C: Coordinator + 'static>(
        zk: C,
        path: &str,
    ) -> Result<(NodeCache, TreeEvents), Error> {
        let (cache, events) = TreeCache::start(zk, path, TreeCacheOptions::new().max_depth(0))?;
        Ok((NodeCache { cache }, events))
    }

    /// The node's data and Stat, as last read; `None` while it does not exist.
    pub fn get(&self) -> Option<NodeData> {
        self.cache.get(self.cache.root())
    }

    /// Waits until the node was read once; see [`TreeCache::initialized`].
    ///
    /// # Errors
    /// Those of [`TreeCache::initialized`].
    pub async fn initialized(&self) -> Result<(), Error> {
        self.cache.initialized().await
    }

    /// A new subscription: every event from now on.
    pub fn subscribe(&self) -> TreeEvents {
        self.cache.subscribe()
    }
}

/// The events of a [`TreeCache`], for one subscriber; ends when the cache stops.
#[must_use = "a subscription does nothing unless polled"]
pub struct TreeEvents {
    inner: BoxStream<'static, TreeEvent>,
}

impl fmt::Debug for TreeEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeEvents").finish_non_exhaustive()
    }
}

impl TreeEvents {
    fn new(rx: broadcast::Receiver<TreeEvent>) -> TreeEvents {
        let inner = futures::stream::unfold(rx, |mut rx| async move {
            match rx.recv().await {
                Ok(event) => Some((event, rx)),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    Some((TreeEvent::Lagged { missed }, rx))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        });
        TreeEvents {
            inner: Box::pin(inner),
        }
    }
}

impl Stream for TreeEvents {
    type Item = TreeEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<TreeEvent>> {
        self.inner.as_mut().poll_next(cx)
    }
}
