//! [`ServiceWatch`]: a live view of one service's instances, from a depth-1 tree cache.

use std::fmt;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde::de::DeserializeOwned;
use tokio::sync::watch;
use zk_cache::{TreeCache, TreeCacheOptions};
use zk_core::Coordinator;
use zk_core::path::name;

use crate::error::RegistryError;
use crate::snapshot::{Change, ServiceSnapshot, changes};

/// A live view of one service: an always-current [`ServiceSnapshot`] and, through
/// [`ServiceWatch::changes`], what changed.
///
/// It is kept by a [`TreeCache`] of depth 1 over the service's node, so after a dropped
/// connection only the instances that changed meanwhile are read again, and after session
/// expiry the service is read once more and only the differences show. The view stays current
/// until every clone of its receiver is dropped or the handle closes.
pub struct ServiceWatch<M> {
    rx: watch::Receiver<ServiceSnapshot<M>>,
}

impl<M> fmt::Debug for ServiceWatch<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceWatch").finish_non_exhaustive()
    }
}

impl<M> Clone for ServiceWatch<M> {
    fn clone(&self) -> Self {
        ServiceWatch {
            rx: self.rx.clone(),
        }
    }
}

impl<M> ServiceWatch<M>
where
    M: DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
{
    /// Starts following the service at `path` (named `service`); returns once the first
    /// read is done.
    pub(crate) async fn start<C: Coordinator + 'static>(
        zk: C,
        service: &str,
        path: &str,
    ) -> Result<ServiceWatch<M>, RegistryError> {
        let (cache, _) = TreeCache::start(zk, path, TreeCacheOptions::new().max_depth(1))?;
        cache.initialized().await?;
        // Subscribed before the first view is read, so no later change is missed, and after
        // the load, so its events are not folded again.
        let mut events = cache.subscribe();
        let service = service.to_owned();
        let (tx, rx) = watch::channel(read_cache(&cache, &service));
        tokio::spawn(async move {
            loop {
                let more = tokio::select! {
                    () = tx.closed() => return,
                    more = events.next() => more,
                };
                if more.is_none() {
                    return; // the cache stopped: receivers keep the last view
                }
                let next = read_cache(&cache, &service);
                tx.send_if_modified(|held| {
                    let changed = *held != next;
                    *held = next;
                    changed
                });
            }
        });
        Ok(ServiceWatch { rx })
    }
}

impl<M: Clone> ServiceWatch<M> {
    /// The instances now.
    pub fn snapshot(&self) -> ServiceSnapshot<M> {
        self.rx.borrow().clone()
    }

    /// The always-current receiver, for `changed().await` or to hand to other tasks.
    pub fn receiver(&self) -> watch::Receiver<ServiceSnapshot<M>> {
        self.rx.clone()
    }

    /// The current view, borrowed (hold it briefly: it blocks the view's updates).
    pub(crate) fn borrow(&self) -> watch::Ref<'_, ServiceSnapshot<M>> {
        self.rx.borrow()
    }
}

impl<M: Clone + PartialEq + Send + Sync + 'static> ServiceWatch<M> {
    /// The changes from the view as it is now: instances coming up, changing and going down,
    /// as they happen (skipped nodes are in the view, not in this stream). Changes that land in quick succession may arrive merged (an instance
    /// up and down again before the stream is polled is not reported), so the stream never
    /// grows behind a slow reader. It ends when the view stops.
    pub fn changes(&self) -> BoxStream<'static, Change<M>> {
        let mut rx = self.rx.clone();
        let seen = rx.borrow_and_update().clone();
        futures::stream::unfold((rx, seen), |(mut rx, seen)| async move {
            rx.changed().await.ok()?;
            let now = rx.borrow_and_update().clone();
            let batch = changes(&seen, &now);
            Some((futures::stream::iter(batch), (rx, now)))
        })
        .flatten()
        .boxed()
    }
}

fn read_cache<M: DeserializeOwned>(cache: &TreeCache, service: &str) -> ServiceSnapshot<M> {
    let mut snapshot = ServiceSnapshot::default();
    for (path, node) in cache.snapshot() {
        if path != cache.root() {
            snapshot.add(service, name(&path), &node.data);
        }
    }
    snapshot
}
