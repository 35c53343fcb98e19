//! The task behind a [`TreeCache`](crate::TreeCache): it reads the subtree wave by wave,
//! pipelined, keeps the mirror current from watch events, and publishes what changed.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock, RwLockWriteGuard};

use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use tokio::sync::{broadcast, watch};
use zk_core::path::join;
use zk_core::{
    AddWatchMode, Coordinator, CoordinatorExt, Error, EventType, OneshotWatch, PersistentWatch,
    SessionState, WatchEvent,
};

use crate::mirror::{Mirror, TreeEvent};
use crate::source::{ChildList, Children, Data, NodeData, Source};
use crate::tree_cache::{Status, TreeCacheOptions, WatchMode};

/// How many node reads a load keeps in flight at once (pipelined on the session).
const READS_IN_FLIGHT: usize = 64;

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

impl Want {
    /// Only the node's data.
    const DATA: Want = Want {
        data: true,
        children: false,
    };
    /// Only the node's children.
    const CHILDREN: Want = Want {
        data: false,
        children: true,
    };
    /// Both.
    const ALL: Want = Want {
        data: true,
        children: true,
    };

    /// The data, and the children too if `children`.
    fn data_and(children: bool) -> Want {
        Want {
            data: true,
            children,
        }
    }
}

/// A node to read: its path, depth below the root, and what to read.
type Pending = (String, usize, Want);

/// One node's reads.
struct NodeRead {
    path: String,
    depth: usize,
    /// The read, and its watch when watches are per node.
    data: Option<Result<(NodeData, Option<OneshotWatch>), Error>>,
    children: Option<Result<(Children, Option<OneshotWatch>), Error>>,
}

async fn read_node(zk: &dyn Coordinator, watched: bool, (path, depth, want): Pending) -> NodeRead {
    let (data, children) = futures::join!(
        async {
            match (want.data, watched) {
                (false, _) => None,
                (true, true) => Some(Data.read(zk, &path).await.map(|(v, w)| (v, Some(w)))),
                (true, false) => Some(Data.peek(zk, &path).await.map(|v| (v, None))),
            }
        },
        async {
            match (want.children, watched) {
                (false, _) => None,
                (true, true) => Some(ChildList.read(zk, &path).await.map(|(v, w)| (v, Some(w)))),
                (true, false) => Some(ChildList.peek(zk, &path).await.map(|v| (v, None))),
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
pub(crate) struct Task<C> {
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
    /// The persistent recursive watch on the root, in [`WatchMode::PersistentRecursive`]; no
    /// per-node watches are set then.
    recursive: Option<PersistentWatch>,
    /// The recursive watch reported a suspended connection: events may have been lost.
    suspended: bool,
}

impl<C: Coordinator + 'static> Task<C> {
    pub(crate) fn new(
        zk: C,
        root: &str,
        options: TreeCacheOptions,
        mirror: Arc<RwLock<Mirror>>,
        events: broadcast::Sender<TreeEvent>,
        status: watch::Sender<Status>,
    ) -> Task<C> {
        Task {
            zk,
            root: root.to_owned(),
            options,
            mirror,
            events,
            status,
            armed: FuturesUnordered::new(),
            root_missing: false,
            resyncing: false,
            recursive: None,
            suspended: false,
        }
    }

    pub(crate) async fn run(mut self) {
        let ended = self.follow().await.err();
        self.status.send_replace(Status::Ended(ended));
    }

    async fn follow(&mut self) -> Result<(), Error> {
        if self.options.mode == WatchMode::PersistentRecursive {
            // Set before the first read, so no change between the two is missed.
            self.watch_recursively().await?;
        }
        self.load(vec![self.root_pending()], None).await?;
        // Published before `initialized()` can return, so a subscriber that joins after it
        // returned never sees the initial load's end.
        self.publish(vec![TreeEvent::Initialized]);
        self.status.send_replace(Status::Ready);
        loop {
            let (fired, recursive) = match self.recursive.as_mut() {
                Some(recursive) => tokio::select! {
                    fired = self.armed.next(), if !self.armed.is_empty() => (fired, None),
                    event = recursive.next() => (None, Some(event)),
                },
                None => (self.armed.next().await, None),
            };
            match (fired, recursive) {
                (Some(fired), _) => self.handle(fired).await?,
                (None, Some(event)) => self.handle_recursive(event).await?,
                // Nothing left to watch: only possible if the root could never be watched.
                (None, None) => return Err(Error::Closed),
            }
        }
    }

    /// Sets the persistent recursive watch on the root; on a server without persistent
    /// watches, switches to one-shot watches for good.
    async fn watch_recursively(&mut self) -> Result<(), Error> {
        loop {
            match self
                .zk
                .add_watch(&self.root, AddWatchMode::PersistentRecursive)
                .await
            {
                Ok(watch) => {
                    self.recursive = Some(watch);
                    self.suspended = false;
                    return Ok(());
                }
                Err(Error::Unimplemented { .. }) => {
                    self.options.mode = WatchMode::OneShot;
                    return Ok(());
                }
                Err(e) => self.zk.recover(e).await?,
            }
        }
    }

    /// What the recursive watch reports; `None` when it ended (its session did).
    async fn handle_recursive(&mut self, event: Option<WatchEvent>) -> Result<(), Error> {
        let Some(event) = event else {
            // Ended after a session-ending state: wait for a new session, watch again and read
            // everything again.
            self.recursive = None;
            self.zk.recover(Error::SessionExpired).await?;
            self.watch_recursively().await?;
            return self.resync().await;
        };
        if let Some(error) = event.state.terminal_error() {
            return Err(error);
        }
        let path = event.path;
        match event.event_type {
            EventType::Session => match event.state {
                SessionState::Disconnected => {
                    self.suspended = true;
                    Ok(())
                }
                // The session is back, but a server replays nothing to a persistent watch:
                // compare everything.
                state if state.is_connected() && std::mem::take(&mut self.suspended) => {
                    self.resync().await
                }
                // Expired: the stream ends next, which is handled above.
                _ => Ok(()),
            },
            // Events were dropped for a slow queue: compare everything.
            EventType::Lagged => self.resync().await,
            EventType::NodeDeleted => {
                let events = self.write().remove(&path);
                self.publish(events);
                Ok(())
            }
            EventType::NodeCreated | EventType::NodeDataChanged => {
                let Some(depth) = self.depth_of(&path) else {
                    return Ok(());
                };
                let created = event.event_type == EventType::NodeCreated;
                let want = Want::data_and(created && self.options.lists_children_at(depth));
                self.load(vec![(path, depth, want)], None).await
            }
            _ => Ok(()),
        }
    }

    /// How deep below the root `path` is, if the cache keeps it: within the depth limit, kept
    /// by the filter, and with its parent cached (or the root itself).
    fn depth_of(&self, path: &str) -> Option<usize> {
        if path == self.root {
            return Some(0);
        }
        // The part below the root, with its leading '/': one '/' per level.
        let below = match self.root.as_str() {
            "/" => path,
            root => path.strip_prefix(root)?,
        };
        if !below.starts_with('/') {
            return None;
        }
        let depth = below.matches('/').count();
        let parent = zk_core::path::parent(path)?;
        let keep = self.options.lists_children_at(depth - 1)
            && self.options.keeps(path)
            && self.cached_czxid(parent).is_some();
        keep.then_some(depth)
    }

    fn root_pending(&self) -> Pending {
        (
            self.root.clone(),
            0,
            Want::data_and(self.options.lists_children_at(0)),
        )
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
            let watched = self.recursive.is_none();
            let reads: Vec<NodeRead> = futures::stream::iter(std::mem::take(&mut wave))
                .map(|pending| read_node(zk, watched, pending))
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
            if std::mem::take(&mut self.root_missing) && self.recursive.is_none() {
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
                    wave.push((path.clone(), depth, Want::CHILDREN));
                }
                let events = self.write().put(&path, node);
                self.publish(events);
                if let Some(watch) = watch {
                    self.arm(Kind::Data, &path, czxid, depth, watch);
                }
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
                    wave.push((path, depth, Want::ALL));
                    return Ok(());
                }
                let (fresh, events) = self.write().list(&path, &listed.names);
                self.publish(events);
                let fresh = if self.resyncing { listed.names } else { fresh };
                if let Some(watch) = watch {
                    self.arm(Kind::Children, &path, czxid, depth, watch);
                }
                let child_wants = Want::data_and(self.options.lists_children_at(depth + 1));
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
            Some(Err(e)) => self.failed(&path, Want::CHILDREN, e),
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
            if let Some(error) = event.state.terminal_error() {
                return Err(error);
            }
            if event.state != SessionState::Expired {
                return Ok(());
            }
            self.zk.recover(Error::SessionExpired).await?;
            return self.resync().await;
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
                self.load(vec![(path, depth, Want::DATA)], None).await
            }
            (Kind::Data, _) if current => self.load(vec![(path, depth, Want::DATA)], None).await,
            (Kind::Children, EventType::NodeChildrenChanged) if current => {
                self.load(vec![(path, depth, Want::CHILDREN)], None).await
            }
            // A stale watch (an earlier incarnation), or a deletion the data watch reports.
            _ => Ok(()),
        }
    }

    /// Reads the subtree again, reports only what differs, and drops what is no longer there:
    /// after session expiry (every one-shot watch is gone, so every node is read to set its
    /// watches again), and in persistent mode after a reconnect or a lagging queue (events may
    /// have been lost).
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
