//! The queue's API.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;
use zk_contender::LostPolicy;
use zk_core::{Coordinator, CoordinatorExt, Error};

use crate::clock::now_millis;
use crate::error::QueueError;
use crate::item::Item;
use crate::layout::Layout;
use crate::lease::Lease;
use crate::put::{PutOptions, put_all};
use crate::schedule::schedule;
use crate::take::{Claim, Got};

/// How many foreign node names a queue remembers having reported, so each is logged once.
const REPORTED_LIMIT: usize = 1024;

/// A distributed queue on one path: see the crate docs.
///
/// Cloning is cheap; clones share the session handle.
pub struct Queue<C: Coordinator + Clone + 'static> {
    zk: C,
    layout: Arc<Layout>,
    lost_policy: LostPolicy,
    reported: Arc<Mutex<HashSet<String>>>,
}

impl<C: Coordinator + Clone + 'static> Clone for Queue<C> {
    fn clone(&self) -> Queue<C> {
        Queue {
            zk: self.zk.clone(),
            layout: self.layout.clone(),
            lost_policy: self.lost_policy,
            reported: self.reported.clone(),
        }
    }
}

impl<C: Coordinator + Clone + 'static> std::fmt::Debug for Queue<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("layout", &self.layout)
            .field("lost_policy", &self.lost_policy)
            .finish()
    }
}

/// How many items a queue holds, by state, and what else is in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Items that can be taken now.
    pub ready: usize,
    /// Items under a lease.
    pub leased: usize,
    /// Items put with a delay that has not passed.
    pub delayed: usize,
    /// Children of the items node that are not items, by name: skipped by every take.
    pub foreign: Vec<String>,
}

impl<C: Coordinator + Clone + 'static> Queue<C> {
    /// A queue at `path` in kazoo's `LockingQueue` layout ([`Layout::locking`]): at-most-once
    /// and leased takes.
    ///
    /// # Errors
    /// `ZooKeeper(InvalidPath)` for an invalid path.
    pub fn new(zk: C, path: &str) -> Result<Queue<C>, QueueError> {
        Ok(Queue::with_layout(zk, Layout::locking(path)?))
    }

    /// A queue at `path` in kazoo's plain `Queue` layout ([`Layout::flat`]), idle consumers
    /// standing in line under `line`: at-most-once takes only.
    ///
    /// # Errors
    /// As [`Layout::flat`].
    pub fn kazoo_queue(zk: C, path: &str, line: &str) -> Result<Queue<C>, QueueError> {
        Ok(Queue::with_layout(zk, Layout::flat(path, line)?))
    }

    /// A queue in the given layout.
    pub fn with_layout(zk: C, layout: Layout) -> Queue<C> {
        Queue {
            zk,
            layout: Arc::new(layout),
            lost_policy: LostPolicy::default(),
            reported: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// When a [`Lease`] counts as lost ([`Lease::lost`], [`Lease::is_held`]): by default as
    /// soon as the connection is suspended.
    pub fn lost_policy(mut self, policy: LostPolicy) -> Queue<C> {
        self.lost_policy = policy;
        self
    }

    /// The queue's layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The session handle.
    pub(crate) fn client(&self) -> &C {
        &self.zk
    }

    /// Puts an item at the default priority, due at once, in one round trip; returns its node
    /// name.
    ///
    /// # Errors
    /// `ZooKeeper(TooLarge)` over the server's packet limit (nothing written);
    /// `ZooKeeper(ConnectionLoss)` if the connection dropped with the put in flight: the item
    /// may or may not be queued (a put names no one, so nothing can tell afterwards), and
    /// putting it again may queue it twice.
    pub async fn put(&self, data: impl Into<Vec<u8>>) -> Result<String, QueueError> {
        self.put_with(data, &PutOptions::new()).await
    }

    /// Puts an item with a priority and a delay; returns its node name.
    ///
    /// # Errors
    /// As [`Queue::put`], and [`QueueError::InvalidPriority`].
    pub async fn put_with(
        &self,
        data: impl Into<Vec<u8>>,
        options: &PutOptions,
    ) -> Result<String, QueueError> {
        let mut names = put_all(&self.zk, &self.layout, vec![data.into()], options).await?;
        Ok(names.remove(0))
    }

    /// Puts several items in one transaction: all are queued, in order, or none. Returns their
    /// node names.
    ///
    /// # Errors
    /// As [`Queue::put_with`]; `ZooKeeper(TooLarge)` when the whole batch is over the server's
    /// packet limit.
    pub async fn put_all<I, D>(
        &self,
        items: I,
        options: &PutOptions,
    ) -> Result<Vec<String>, QueueError>
    where
        I: IntoIterator<Item = D>,
        D: Into<Vec<u8>>,
    {
        let items = items.into_iter().map(Into::into).collect();
        put_all(&self.zk, &self.layout, items, options).await
    }

    /// Takes the first item (lowest priority, then oldest, among those due), waiting for one;
    /// the item is removed from the queue: at-most-once delivery.
    ///
    /// Cancel-safe in the sense that dropping the future leaves no node of ours behind; an item
    /// whose removal was in flight at that moment is lost with it (use [`Queue::take_leased`]
    /// for at-least-once delivery).
    ///
    /// # Errors
    /// [`QueueError::Uncertain`] when the connection dropped with the removal in flight and the
    /// item is gone (it carries the item's content); failures that retrying cannot cure.
    pub async fn take(&self) -> Result<Item, QueueError> {
        match self.take_with(Claim::Delete, true, None).await? {
            Some(Got::Item(item)) => Ok(item),
            _ => unreachable!("an unbounded take ends with an item"),
        }
    }

    /// As [`Queue::take`], giving up after `timeout` (`None`).
    ///
    /// # Errors
    /// As [`Queue::take`].
    pub async fn take_timeout(&self, timeout: Duration) -> Result<Option<Item>, QueueError> {
        self.take_with(Claim::Delete, true, Some(Instant::now() + timeout))
            .await
            .map(|got| got.and_then(Got::into_item))
    }

    /// Takes the first item if there is one now, without waiting.
    ///
    /// # Errors
    /// As [`Queue::take`].
    pub async fn try_take(&self) -> Result<Option<Item>, QueueError> {
        let got = self.take_with(Claim::Delete, false, None).await?;
        Ok(got.and_then(Got::into_item))
    }

    /// Takes the first item with a lease, waiting for one: the item stays in the queue until
    /// [`Lease::ack`]; if the lease is dropped unacknowledged or lost with the session, the
    /// item is taken again (at-least-once delivery).
    ///
    /// # Errors
    /// [`QueueError::NoLeases`] in a layout without leases; failures that retrying cannot cure.
    pub async fn take_leased(&self) -> Result<Lease<C>, QueueError> {
        match self.take_with(Claim::Lease, true, None).await? {
            Some(got) => self.lease(got).ok_or(QueueError::NoLeases),
            None => unreachable!("an unbounded take ends with an item"),
        }
    }

    /// As [`Queue::take_leased`], giving up after `timeout` (`None`).
    ///
    /// # Errors
    /// As [`Queue::take_leased`].
    pub async fn take_leased_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Option<Lease<C>>, QueueError> {
        let got = self
            .take_with(Claim::Lease, true, Some(Instant::now() + timeout))
            .await?;
        Ok(got.and_then(|got| self.lease(got)))
    }

    /// Takes the first item with a lease if there is one now, without waiting.
    ///
    /// # Errors
    /// As [`Queue::take_leased`].
    pub async fn try_take_leased(&self) -> Result<Option<Lease<C>>, QueueError> {
        let got = self.take_with(Claim::Lease, false, None).await?;
        Ok(got.and_then(|got| self.lease(got)))
    }

    /// The item a take would get now, without taking it; `None` when nothing is ready.
    ///
    /// # Errors
    /// Failures that retrying cannot cure.
    pub async fn peek(&self) -> Result<Option<Item>, QueueError> {
        let (entries, taken, _) = self.list(false, false).await?;
        let schedule = schedule(&entries, &taken, now_millis());
        self.report_foreign(&schedule.foreign);
        for entry in &schedule.ready {
            loop {
                match self.zk.get_data(&self.layout.entry(&entry.name)).await {
                    Ok((data, _)) => return Ok(Some(Item::new(entry, data))),
                    Err(Error::NoNode { .. }) => break,
                    Err(e) => self.zk.recover(e).await?,
                }
            }
        }
        Ok(None)
    }

    /// How many items the queue holds: ready, leased and delayed (what kazoo's `len` counts,
    /// less any foreign children).
    ///
    /// # Errors
    /// Failures that retrying cannot cure.
    pub async fn len(&self) -> Result<usize, QueueError> {
        Ok(self.stats().await?.items())
    }

    /// Whether the queue holds no items.
    ///
    /// # Errors
    /// Failures that retrying cannot cure.
    pub async fn is_empty(&self) -> Result<bool, QueueError> {
        Ok(self.len().await? == 0)
    }

    /// The items by state, and the foreign children.
    ///
    /// # Errors
    /// Failures that retrying cannot cure.
    pub async fn stats(&self) -> Result<QueueStats, QueueError> {
        let (entries, taken, _) = self.list(false, false).await?;
        let schedule = schedule(&entries, &taken, now_millis());
        Ok(QueueStats {
            ready: schedule.ready.len(),
            leased: schedule.leased.len(),
            delayed: schedule.delayed,
            foreign: schedule.foreign,
        })
    }

    fn lease(&self, got: Got) -> Option<Lease<C>> {
        match got {
            Got::Lease(leased) => Some(Lease::new(
                self.zk.clone(),
                self.layout.clone(),
                leased,
                self.lost_policy,
            )),
            Got::Item(_) => None,
        }
    }

    /// Logs children that are not items, once per name.
    pub(crate) fn report_foreign(&self, foreign: &[String]) {
        if foreign.is_empty() {
            return;
        }
        let mut reported = self.reported.lock().unwrap_or_else(PoisonError::into_inner);
        for name in foreign {
            if reported.len() < REPORTED_LIMIT && reported.insert(name.clone()) {
                tracing::warn!(
                    queue = self.layout.entries(),
                    child = name.as_str(),
                    "skipping a child of the queue that is not an item"
                );
            }
        }
    }
}

impl QueueStats {
    /// Every item: ready, leased and delayed.
    pub fn items(&self) -> usize {
        self.ready + self.leased + self.delayed
    }
}

impl Got {
    fn into_item(self) -> Option<Item> {
        match self {
            Got::Item(item) => Some(item),
            Got::Lease(_) => None,
        }
    }
}
