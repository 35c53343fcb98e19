//! A distributed work queue on ZooKeeper, on any [`zk_core::Coordinator`]: FIFO with
//! priorities and delays, at-most-once or leased (at-least-once) takes, and no thundering
//! herd, in kazoo's node layouts so Python and Rust programs share a queue.
//!
//! - [`Queue::put`] (one round trip), [`Queue::put_with`] a priority (0 first, 999 last,
//!   100 by default) or a delay ([`PutOptions`]), [`Queue::put_all`] in one transaction.
//! - [`Queue::take`], [`Queue::take_timeout`], [`Queue::try_take`]: the first item due,
//!   removed from the queue (at most once).
//! - [`Queue::take_leased`] (and `_timeout`, `try_`): the item stays, claimed by an
//!   ephemeral lease node, until [`Lease::ack`] removes both in one transaction. A lease
//!   dropped unacknowledged, given back, or lost with its session makes the item available
//!   again (at least once).
//! - [`Queue::peek`], [`Queue::len`], [`Queue::stats`].
//!
//! ```
//! use std::time::Duration;
//! use zk_queue::{PutOptions, Queue};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), zk_queue::QueueError> {
//! let ensemble = zk_fake::FakeEnsemble::new();
//! let producer = Queue::new(ensemble.connect(), "/jobs")?;
//! let consumer = Queue::new(ensemble.connect(), "/jobs")?;
//!
//! producer.put(b"resize photo 1".to_vec()).await?;
//! producer.put_with(b"page the on-call".to_vec(), &PutOptions::new().priority(0)).await?;
//! producer.put_with(b"weekly report".to_vec(), &PutOptions::new().delay(Duration::from_secs(3600))).await?;
//!
//! // Priority first, then arrival; the delayed item is not due yet.
//! assert_eq!(consumer.take().await?.data(), b"page the on-call");
//! let lease = consumer.take_leased().await?;
//! assert_eq!(lease.data(), b"resize photo 1");
//! lease.ack().await?; // done: removed for good
//! assert_eq!(consumer.try_take().await?, None);
//! assert_eq!(consumer.len().await?, 1);
//! # Ok(()) }
//! ```
//!
//! # Layout, and sharing a queue with kazoo
//! An item is a persistent sequential node named `entry-PPP-SEQ` (kazoo's names: a
//! three-digit priority, then the server's sequence), with the item's bytes as data; one
//! listing orders the whole queue. A delayed item is named `entry-PPP-@MILLIS-SEQ`, MILLIS
//! being the time (Unix epoch milliseconds) before which it is not taken.
//! - [`Queue::new`] uses kazoo's `LockingQueue` layout ([`Layout::locking`]): items in
//!   `PATH/entries`, leases in `PATH/taken`, so kazoo `LockingQueue` producers and consumers
//!   share the queue, leases included.
//! - [`Queue::kazoo_queue`] uses kazoo's plain `Queue` layout ([`Layout::flat`]): items
//!   straight under the path, at-most-once takes only.
//!
//! kazoo knows nothing of delays: its consumers take a delayed item in name order, early.
//! Children of the items node that are not items are skipped, logged once (with `tracing`)
//! and counted in [`QueueStats::foreign`]; they never fail a take.
//!
//! # No herd
//! kazoo's and Curator's consumers all watch the items, so each put wakes every idle
//! consumer. Here a take that finds nothing stands in line (an ephemeral sequential node
//! under the layout's line node, on `zk-contender`'s engine, each watching only the one ahead
//! of it), and only the head of the line watches the items. A put wakes the head; the head
//! takes the item and leaves, which wakes the next. Consumers that find an item at once
//! never queue. The order among consumers is not strictly fair: a newcomer finding an item
//! takes it ahead of the line.
//!
//! # Clocks
//! A delay is turned into a "not before" time on the putting process's wall clock and
//! compared with the taking process's: keep clocks in sync (NTP) if delays matter to the
//! second. Within a process, time is read from the wall clock once and then follows tokio's
//! clock, so in tests with a paused tokio clock delays pass as the test advances time.
//!
//! # Failures
//! Item size is checked before sending: over the server's 1 MiB limit a put fails with
//! `ZooKeeper(TooLarge)` and nothing is written; a [`Queue::put_all`] batch is checked whole.
//! Connection loss is ridden out by takes. After a lost reply a leased take finds out whether
//! its lease was created (by a tag in its data), and an acknowledgement whether it was
//! applied. A put cannot tell, so its `ConnectionLoss` says the item may or may not be queued;
//! an at-most-once take whose item is gone after a lost reply returns
//! [`QueueError::Uncertain`] with the item's content.
#![forbid(unsafe_code)]

mod claim;
mod clock;
mod error;
mod item;
mod layout;
mod lease;
mod name;
mod put;
mod queue;
mod schedule;
mod take;

pub use error::QueueError;
pub use item::Item;
pub use layout::Layout;
pub use lease::Lease;
pub use name::{DEFAULT_PRIORITY, MAX_PRIORITY};
pub use put::PutOptions;
pub use queue::{Queue, QueueStats};
pub use zk_contender::{LossReason, LostPolicy};
