//! `Counting`: a [`Coordinator`] that counts the requests of the handle it wraps, by
//! operation, the round trips they cost, and the node events its one-shot watches deliver; for
//! tests and benchmarks that check how much a recipe asks of the server, and how many waiters
//! one release wakes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use zk_core::{
    Acl, AddWatchMode, Coordinator, CreateOptions, Created, EventType, OneshotWatch, Op, OpResult,
    PersistentWatch, ReadOp, ReadResult, SessionState, Stat,
};

/// An operation [`Counting`] counts; the watching variants of reads count apart from the plain
/// ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Call {
    /// `create`.
    Create,
    /// `delete`.
    Delete,
    /// `exists`.
    Exists,
    /// `watch_exists`.
    WatchExists,
    /// `get_data`.
    GetData,
    /// `watch_data`.
    WatchData,
    /// `set_data`.
    SetData,
    /// `get_children`.
    GetChildren,
    /// `watch_children`.
    WatchChildren,
    /// `get_acl`.
    GetAcl,
    /// `set_acl`.
    SetAcl,
    /// `multi`.
    Multi,
    /// `multi_read`.
    MultiRead,
    /// `sync`.
    Sync,
    /// `add_watch`.
    AddWatch,
    /// `get_ephemerals`.
    GetEphemerals,
    /// `get_all_children_number`.
    GetAllChildrenNumber,
    /// `add_auth`.
    AddAuth,
    /// `close`.
    Close,
}

const CALLS: usize = Call::Close as usize + 1;

/// The counts of a [`Counting`] handle (shared by its clones).
#[derive(Debug, Default)]
pub struct Counts {
    /// Completed calls, by [`Call`].
    calls: [AtomicU64; CALLS],
    /// Requests now awaiting their reply.
    in_flight: AtomicU64,
    /// Requests sent.
    requests: AtomicU64,
    /// Requests sent while nothing else was in flight: each starts a wait for the server.
    round_trips: AtomicU64,
    /// Node events delivered to one-shot watches set through the handle.
    node_events: AtomicU64,
}

impl Counts {
    /// How many calls of `call` completed (with any result).
    pub fn calls(&self, call: Call) -> u64 {
        self.calls[call as usize].load(Ordering::Acquire)
    }

    /// How many requests were sent, of every kind.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Acquire)
    }

    /// How many times the handle waited for the server: requests sent while no other request
    /// of this handle was in flight (pipelined requests share their round trip).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::Acquire)
    }

    /// How many node events (created, deleted, data or children changed; not session events)
    /// the one-shot watches set through the handle delivered: how often a waiter was woken.
    /// An event counts before the watch's owner sees it. Persistent watches are not counted.
    pub fn node_events(&self) -> u64 {
        self.node_events.load(Ordering::Acquire)
    }
}

/// Wraps a session handle and counts its requests; clones share the counts.
///
/// ```
/// use zk_core::{Coordinator, CreateOptions};
/// use zk_testkit::counting::{Call, Counting};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
/// let zk = Counting::new(zk_fake::FakeEnsemble::new().connect());
/// zk.create("/a", b"", &CreateOptions::persistent()).await.unwrap();
/// let _ = zk.get_children("/a").await.unwrap();
/// assert_eq!(zk.counts().calls(Call::GetChildren), 1);
/// assert_eq!((zk.counts().requests(), zk.counts().round_trips()), (2, 2));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Counting<C> {
    inner: C,
    counts: Arc<Counts>,
}

impl<C: Coordinator> Counting<C> {
    /// Counts the requests of `inner` from now on.
    pub fn new(inner: C) -> Counting<C> {
        Counting {
            inner,
            counts: Arc::default(),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> &Arc<Counts> {
        &self.counts
    }

    /// The wrapped handle.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    async fn count<T>(&self, call: Call, request: impl std::future::Future<Output = T>) -> T {
        let counts = &self.counts;
        counts.requests.fetch_add(1, Ordering::AcqRel);
        if counts.in_flight.fetch_add(1, Ordering::AcqRel) == 0 {
            counts.round_trips.fetch_add(1, Ordering::AcqRel);
        }
        // Leaves the flight even when the call is dropped (a timeout, a cancelled acquire):
        // otherwise no later request would start a round trip again.
        let _landed = Landed(counts);
        let out = request.await;
        counts.calls[call as usize].fetch_add(1, Ordering::AcqRel);
        out
    }

    /// A watch that resolves with `inner`'s event after counting it; dropping it unresolved
    /// drops `inner` too, which unregisters it. Needs a tokio runtime, as every watch does.
    fn counted(&self, inner: OneshotWatch) -> OneshotWatch {
        let (tx, outer) = OneshotWatch::channel();
        let counts = self.counts.clone();
        let forward = tokio::spawn(async move {
            let event = inner.await;
            if event.event_type != EventType::Session {
                counts.node_events.fetch_add(1, Ordering::AcqRel);
            }
            tx.send(event);
        });
        outer.on_drop(move || forward.abort())
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<C: Coordinator> Coordinator for Counting<C> {
    async fn create(
        &self,
        path: &str,
        data: &[u8],
        options: &CreateOptions,
    ) -> zk_core::Result<Created> {
        self.count(Call::Create, self.inner.create(path, data, options))
            .await
    }
    async fn delete(&self, path: &str, version: Option<i32>) -> zk_core::Result<()> {
        self.count(Call::Delete, self.inner.delete(path, version))
            .await
    }
    async fn exists(&self, path: &str) -> zk_core::Result<Option<Stat>> {
        self.count(Call::Exists, self.inner.exists(path)).await
    }
    async fn watch_exists(&self, path: &str) -> zk_core::Result<(Option<Stat>, OneshotWatch)> {
        let (stat, watch) = self
            .count(Call::WatchExists, self.inner.watch_exists(path))
            .await?;
        Ok((stat, self.counted(watch)))
    }
    async fn get_data(&self, path: &str) -> zk_core::Result<(Vec<u8>, Stat)> {
        self.count(Call::GetData, self.inner.get_data(path)).await
    }
    async fn watch_data(&self, path: &str) -> zk_core::Result<(Vec<u8>, Stat, OneshotWatch)> {
        let (data, stat, watch) = self
            .count(Call::WatchData, self.inner.watch_data(path))
            .await?;
        Ok((data, stat, self.counted(watch)))
    }
    async fn set_data(
        &self,
        path: &str,
        data: &[u8],
        version: Option<i32>,
    ) -> zk_core::Result<Stat> {
        self.count(Call::SetData, self.inner.set_data(path, data, version))
            .await
    }
    async fn get_children(&self, path: &str) -> zk_core::Result<(Vec<String>, Stat)> {
        self.count(Call::GetChildren, self.inner.get_children(path))
            .await
    }
    async fn watch_children(
        &self,
        path: &str,
    ) -> zk_core::Result<(Vec<String>, Stat, OneshotWatch)> {
        let (children, stat, watch) = self
            .count(Call::WatchChildren, self.inner.watch_children(path))
            .await?;
        Ok((children, stat, self.counted(watch)))
    }
    async fn get_acl(&self, path: &str) -> zk_core::Result<(Vec<Acl>, Stat)> {
        self.count(Call::GetAcl, self.inner.get_acl(path)).await
    }
    async fn set_acl(
        &self,
        path: &str,
        acl: &[Acl],
        version: Option<i32>,
    ) -> zk_core::Result<Stat> {
        self.count(Call::SetAcl, self.inner.set_acl(path, acl, version))
            .await
    }
    async fn multi(&self, ops: &[Op]) -> zk_core::Result<Vec<OpResult>> {
        self.count(Call::Multi, self.inner.multi(ops)).await
    }
    async fn multi_read(
        &self,
        ops: &[ReadOp],
    ) -> zk_core::Result<Vec<zk_core::Result<ReadResult>>> {
        self.count(Call::MultiRead, self.inner.multi_read(ops))
            .await
    }
    async fn sync(&self, path: &str) -> zk_core::Result<()> {
        self.count(Call::Sync, self.inner.sync(path)).await
    }
    async fn add_watch(&self, path: &str, mode: AddWatchMode) -> zk_core::Result<PersistentWatch> {
        self.count(Call::AddWatch, self.inner.add_watch(path, mode))
            .await
    }
    async fn get_ephemerals(&self, prefix: &str) -> zk_core::Result<Vec<String>> {
        self.count(Call::GetEphemerals, self.inner.get_ephemerals(prefix))
            .await
    }
    async fn get_all_children_number(&self, path: &str) -> zk_core::Result<i32> {
        let request = self.inner.get_all_children_number(path);
        self.count(Call::GetAllChildrenNumber, request).await
    }
    async fn add_auth(&self, scheme: &str, auth: &[u8]) -> zk_core::Result<()> {
        self.count(Call::AddAuth, self.inner.add_auth(scheme, auth))
            .await
    }
    fn session_id(&self) -> i64 {
        self.inner.session_id()
    }
    fn session_timeout(&self) -> Duration {
        self.inner.session_timeout()
    }
    fn session_state(&self) -> watch::Receiver<SessionState> {
        self.inner.session_state()
    }
    async fn close(&self) -> zk_core::Result<()> {
        self.count(Call::Close, self.inner.close()).await
    }
}

/// Takes a request out of the in-flight count when dropped.
struct Landed<'a>(&'a Counts);

impl Drop for Landed<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn pipelined_requests_share_a_round_trip_and_watches_count_apart() {
        let zk = Counting::new(zk_fake::FakeEnsemble::new().connect());
        zk.create("/n", b"", &CreateOptions::persistent())
            .await
            .unwrap();
        let _ = zk.get_data("/n").await.unwrap();
        let (_, _, _watch) = zk.watch_data("/n").await.unwrap();
        let _ = futures::join!(zk.exists("/n"), zk.exists("/m"));
        let counts = zk.counts().clone();
        assert_eq!(counts.calls(Call::GetData), 1);
        assert_eq!(counts.calls(Call::WatchData), 1);
        assert_eq!(counts.calls(Call::Exists), 2);
        assert_eq!(counts.calls(Call::GetChildren), 0);
        assert_eq!(counts.requests(), 5);
        // The fake answers a request when it is polled, so only a pipelined pair shares a wait
        // when both are in flight together; at most the two exists calls share one.
        assert!((4..=5).contains(&counts.round_trips()), "{counts:?}");
        assert_eq!(zk.clone().counts().requests(), 5, "clones share counts");
    }

    #[tokio::test(start_paused = true)]
    async fn node_events_count_once_delivered_and_dropped_watches_never() {
        let ensemble = zk_fake::FakeEnsemble::new();
        let zk = Counting::new(ensemble.connect());
        let other = ensemble.connect();
        for path in ["/fired", "/dropped"] {
            other
                .create(path, b"", &CreateOptions::persistent())
                .await
                .unwrap();
        }
        let (_, _, fired) = zk.watch_data("/fired").await.unwrap();
        let (_, _, dropped) = zk.watch_data("/dropped").await.unwrap();
        drop(dropped);
        tokio::task::yield_now().await;
        other.delete("/dropped", None).await.unwrap();
        other.set_data("/fired", b"x", None).await.unwrap();
        assert_eq!(fired.await.event_type, EventType::NodeDataChanged);
        assert_eq!(zk.counts().node_events(), 1);
        // A session event is not a node event.
        let (_, watch) = zk.watch_exists("/fired").await.unwrap();
        zk.close().await.unwrap();
        assert_eq!(watch.await.event_type, EventType::Session);
        assert_eq!(zk.counts().node_events(), 1);
    }
}
