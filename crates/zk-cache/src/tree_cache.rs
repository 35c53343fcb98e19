//! `TreeCache` and `NodeCache`: an in-memory mirror of a subtree (or of one node), kept current
//! by one-shot watches on every cached node, with a stream of what changed.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{BoxStream, FuturesUnordered};
use futures::{Stream, StreamExt};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use zk_core::path::{join, validate_path};
use zk_core::{
    Coordinator, CoordinatorExt, Error, EventType, OneshotWatch, SessionState, WatchEvent,
};

use crate::mirror::{Mirror, TreeEvent};
use crate::source::{ChildList, Children, Data, NodeData, Source};

/// How many node reads a load keeps in flight at once (pipelined on the session).
const READS_IN_FLIGHT: usize = 64;

/// Which paths a [`TreeCache`] keeps.
pub type PathFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Options of a [`TreeCache`].
#[derive(Clone)]
pub struct TreeCacheOptions {
    max_depth: Option<usize>,
    filter: Option<PathFilter>,
    event_capacity: usize,
}

impl fmt::Debug for TreeCacheOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TreeCacheOptions")
            .field("max_depth", &self.max_depth)
            .field("filter", &self.filter.is_some())
            .field("event_capacity", &self.event_capacity)
            .finish()
    }
}

impl Default for TreeCacheOptions {
    fn default() -> Self {
        TreeCacheOptions {
            max_depth: None,
            filter: None,
            event_capacity: 1024,
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

    fn lists_children_at(&self, depth: usize) -> bool {
        self.max_depth.is_none_or(|max| depth < max)
    }

    fn keeps(&self, path: &str) -> bool {
        self.filter.as_ref().is_none_or(|keep| keep(path))
    }
}

/// Where the cache is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
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
        let (events, first) = broadcast::channel(options.event_capacity);
        let (status_tx, status) = watch::channel(Status::Loading);
        let mirror = Arc::new(RwLock::new(Mirror::default()));
        let task = Task {
            zk,
            root: root.to_owned(),
            options,
            mirror: mirror.clone(),
            events: events.clone(),
            status: status_tx,
            armed: FuturesUnordered::new(),
            root_missing: false,
            resyncing: false,
        };
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

/// Which watch fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A cached node's data watch.
    Data,
    /// A cached node's child watch.
    Children,
    /// The exist watch on a missing root.
    Created,
}

/// A watch that fired, with what it was set on.
struct Fired {
    kind: Kind,
    path: String,
    /// The czxid of the node the watch was set on (0 for `Created`): a watch of an earlier
    /// incarnation of a path is stale.
    czxid: i64,
    depth: usize,
    event: WatchEvent,
}

/// What to read of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Want {
    data: bool,
    children: bool,
}

/// A node to read: its path, depth below the root, and what to read.
type Pending = (String, usize, Want);

/// One node's reads.
struct NodeRead {
    path: String,
    depth: usize,
    data: Option<Result<(NodeData, OneshotWatch), Error>>,
    children: Option<Result<(Children, OneshotWatch), Error>>,
}

async fn read_node(zk: &dyn Coordinator, (path, depth, want): Pending) -> NodeRead {
    let (data, children) = futures::join!(
        async {
            match want.data {
                true => Some(Data.read(zk, &path).await),
                false => None,
            }
        },
        async {
            match want.children {
                true => Some(ChildList.read(zk, &path).await),
                false => None,
            }
        },
    );
    NodeRead {
        path,
        depth,
        data,
        children,
    }
}

/// The background task that keeps the mirror current.
struct Task<C> {
    zk: C,
    root: String,
    options: TreeCacheOptions,
    mirror: Arc<RwLock<Mirror>>,
    events: broadcast::Sender<TreeEvent>,
    status: watch::Sender<Status>,
    armed: FuturesUnordered<BoxFuture<'static, Fired>>,
    /// A read found no root: set the exist watch that says when it appears.
    root_missing: bool,
    /// Reading the subtree again in a new session: every listed child is read (to set its
    /// watches), not only those the cache does not hold.
    resyncing: bool,
}

impl<C: Coordinator + 'static> Task<C> {
    async fn run(mut self) {
        let ended = self.follow().await.err();
        self.status.send_replace(Status::Ended(ended));
    }

    async fn follow(&mut self) -> Result<(), Error> {
        self.load(vec![self.root_pending()], None).await?;
        self.status.send_replace(Status::Ready);
        self.publish(vec![TreeEvent::Initialized]);
        while let Some(fired) = self.armed.next().await {
            self.handle(fired).await?;
        }
        // Nothing left to watch: only possible if the root could never be watched.
        Err(Error::Closed)
    }

    fn root_pending(&self) -> Pending {
        let want = Want {
            data: true,
            children: self.options.lists_children_at(0),
        };
        (self.root.clone(), 0, want)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Mirror> {
        self.mirror.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, events: Vec<TreeEvent>) {
        for event in events {
            // No subscriber is fine: the mirror is what counts.
            let _ = self.events.send(event);
        }
    }

    fn arm(&mut self, kind: Kind, path: &str, czxid: i64, depth: usize, watch: OneshotWatch) {
        let path = path.to_owned();
        self.armed.push(Box::pin(async move {
            let event = watch.await;
            Fired {
                kind,
                path,
                czxid,
                depth,
                event,
            }
        }));
    }

    /// The cached czxid of `path`, if it is cached.
    fn cached_czxid(&self, path: &str) -> Option<i64> {
        self.mirror
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(path)
            .map(|n| n.stat.czxid)
    }

    /// Reads `start` and everything new below it, wave by wave, pipelined; records each read
    /// node in `visited`, if given.
    async fn load(
        &mut self,
        start: Vec<Pending>,
        mut visited: Option<&mut HashSet<String>>,
    ) -> Result<(), Error> {
        let mut wave = start;
        while !wave.is_empty() {
            let zk: &dyn Coordinator = &self.zk;
            let reads: Vec<NodeRead> = futures::stream::iter(std::mem::take(&mut wave))
                .map(|pending| read_node(zk, pending))
                .buffer_unordered(READS_IN_FLIGHT)
                .collect()
                .await;
            let mut trouble = None;
            for read in reads {
                let (path, depth) = (read.path.clone(), read.depth);
                match self.apply(read, &mut wave, visited.as_deref_mut()) {
                    Ok(()) => {}
                    Err((want, error)) => {
                        wave.push((path, depth, want));
                        trouble = Some(error);
                    }
                }
            }
            if let Some(error) = trouble {
                self.zk.recover(error).await?;
            }
            if std::mem::take(&mut self.root_missing) {
                self.watch_for_root(&mut wave).await?;
            }
        }
        Ok(())
    }

    /// Sets the exist watch on the missing root, or queues the root's read if it exists now.
    async fn watch_for_root(&mut self, wave: &mut Vec<Pending>) -> Result<(), Error> {
        loop {
            match self.zk.watch_exists(&self.root).await {
                Ok((None, created)) => {
                    let root = self.root.clone();
                    self.arm(Kind::Created, &root, 0, 0, created);
                    return Ok(());
                }
                Ok((Some(_), _)) => {
                    wave.push(self.root_pending());
                    return Ok(());
                }
                Err(e) => self.zk.recover(e).await?,
            }
        }
    }

    /// Records one node's reads; queues its new children in `wave`. On trouble that waiting
    /// may cure, returns what to read again and the error.
    fn apply(
        &mut self,
        read: NodeRead,
        wave: &mut Vec<Pending>,
        visited: Option<&mut HashSet<String>>,
    ) -> Result<(), (Want, Error)> {
        let NodeRead {
            path,
            depth,
            data,
            children,
        } = read;
        let want = Want {
            data: data.is_some(),
            children: children.is_some(),
        };
        let czxid = match data {
            Some(Ok((node, watch))) => {
                let czxid = node.stat.czxid;
                let before = self.cached_czxid(&path);
                if before != Some(czxid)
                    && children.is_none()
                    && self.options.lists_children_at(depth)
                {
                    // A node new to the cache after a data-only read (one checked again after
                    // its deletion), or created again while the watches could not tell (a cut
                    // connection): its children are unknown, read them too.
                    let want = Want {
                        data: false,
                        children: true,
                    };
                    wave.push((path.clone(), depth, want));
                }
                let events = self.write().put(&path, node);
                self.publish(events);
                self.arm(Kind::Data, &path, czxid, depth, watch);
                if let Some(visited) = visited {
                    visited.insert(path.clone());
                }
                czxid
            }
            Some(Err(Error::NoNode { .. })) => {
                let events = self.write().remove(&path);
                self.publish(events);
                self.root_missing |= path == self.root;
                return Ok(());
            }
            Some(Err(e)) => return self.failed(&path, want, e),
            None => match self.cached_czxid(&path) {
                Some(czxid) => czxid,
                None => return Ok(()),
            },
        };
        match children {
            Some(Ok((listed, watch))) => {
                if listed.stat.czxid != czxid {
                    // Another incarnation of the path: its data watch will say so; read it all.
                    wave.push((
                        path,
                        depth,
                        Want {
                            data: true,
                            children: true,
                        },
                    ));
                    return Ok(());
                }
                let (fresh, events) = self.write().list(&path, &listed.names);
                self.publish(events);
                let fresh = if self.resyncing { listed.names } else { fresh };
                self.arm(Kind::Children, &path, czxid, depth, watch);
                let child_wants = Want {
                    data: true,
                    children: self.options.lists_children_at(depth + 1),
                };
                for name in fresh {
                    let child = join(&path, &name);
                    if self.options.keeps(&child) {
                        wave.push((child, depth + 1, child_wants));
                    }
                }
                Ok(())
            }
            // Gone after its data was read: its data watch reports the deletion.
            Some(Err(Error::NoNode { .. })) | None => Ok(()),
            Some(Err(e)) => {
                let want = Want {
                    data: false,
                    children: true,
                };
                self.failed(&path, want, e)
            }
        }
    }

    /// What a failed read of `path` means: read `want` again after waiting when waiting can
    /// cure the error (the caller's `recover` ends the cache when it cannot after all); a
    /// node below the root that this session may not read is left out of the cache; any
    /// other failure on the root ends the cache.
    fn failed(&mut self, path: &str, want: Want, error: Error) -> Result<(), (Want, Error)> {
        let waitable = error.is_retryable() || error == Error::SessionExpired;
        if waitable || path == self.root || error.is_session_fatal() {
            Err((want, error))
        } else {
            let events = self.write().remove(path);
            self.publish(events);
            Ok(())
        }
    }

    async fn handle(&mut self, fired: Fired) -> Result<(), Error> {
        let Fired {
            kind,
            path,
            czxid,
            depth,
            event,
        } = fired;
        if event.event_type == EventType::Session {
            return match event.state {
                SessionState::Closed => Err(Error::Closed),
                SessionState::AuthFailed => Err(Error::AuthFailed),
                SessionState::Expired => {
                    self.zk.recover(Error::SessionExpired).await?;
                    self.resync().await
                }
                _ => Ok(()),
            };
        }
        let current = self.cached_czxid(&path) == Some(czxid);
        match (kind, event.event_type) {
            (Kind::Created, _) => self.load(vec![self.root_pending()], None).await,
            (Kind::Data, EventType::NodeDeleted) => {
                if !current {
                    return Ok(());
                }
                let events = self.write().remove(&path);
                self.publish(events);
                // Read it again: it may be back already. A listing of the parent taken after
                // it came back would not name it as new, since the old one was still cached
                // when that listing was recorded. For the root, a miss sets the exist watch.
                let want = Want {
                    data: true,
                    children: false,
                };
                self.load(vec![(path, depth, want)], None).await
            }
            (Kind::Data, _) if current => {
                let want = Want {
                    data: true,
                    children: false,
                };
                self.load(vec![(path, depth, want)], None).await
            }
            (Kind::Children, EventType::NodeChildrenChanged) if current => {
                let want = Want {
                    data: false,
                    children: true,
                };
                self.load(vec![(path, depth, want)], None).await
            }
            // A stale watch (an earlier incarnation), or a deletion the data watch reports.
            _ => Ok(()),
        }
    }

    /// After session expiry every watch is gone: read the subtree again, report only what
    /// differs, and drop what is no longer there.
    async fn resync(&mut self) -> Result<(), Error> {
        self.armed.clear();
        let before: Vec<String> = self
            .mirror
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .paths()
            .map(str::to_owned)
            .collect();
        let mut visited = HashSet::new();
        self.resyncing = true;
        let loaded = self
            .load(vec![self.root_pending()], Some(&mut visited))
            .await;
        self.resyncing = false;
        loaded?;
        for path in before.iter().rev().filter(|p| !visited.contains(*p)) {
            let events = self.write().remove(path);
            self.publish(events);
        }
        Ok(())
    }
}
