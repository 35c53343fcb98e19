//! The guard of a leased item: acknowledge it, give it back, or learn that the lease is lost.

use std::sync::Arc;

use zk_contender::{Holding, LossReason, LostPolicy};
use zk_core::Coordinator;

use crate::claim::{self, Leased};
use crate::error::QueueError;
use crate::item::Item;
use crate::layout::Layout;

/// An item taken with a lease ([`crate::Queue::take_leased`]): it stays in the queue, claimed
/// by an ephemeral lease node, until [`Lease::ack`] removes both in one transaction.
///
/// If the lease is dropped unacknowledged, or given back with [`Lease::release`], or lost
/// with its session, the item becomes available again: at-least-once delivery. So a consumer
/// whose lease was lost must expect another consumer to process the item too.
#[must_use = "an unacknowledged lease gives the item back when dropped"]
pub struct Lease<C: Coordinator + Clone + 'static> {
    zk: C,
    layout: Arc<Layout>,
    item: Item,
    holding: Holding<C>,
    settled: bool,
}

impl<C: Coordinator + Clone + 'static> std::fmt::Debug for Lease<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("item", &self.item.name())
            .field("holding", &self.holding)
            .finish()
    }
}

impl<C: Coordinator + Clone + 'static> Lease<C> {
    pub(crate) fn new(zk: C, layout: Arc<Layout>, leased: Leased, policy: LostPolicy) -> Lease<C> {
        let holding = Holding::new(zk.clone(), leased.lease, leased.session_id, policy);
        Lease {
            zk,
            layout,
            item: leased.item,
            holding,
            settled: false,
        }
    }

    /// The leased item.
    pub fn item(&self) -> &Item {
        &self.item
    }

    /// The item's content.
    pub fn data(&self) -> &[u8] {
        self.item.data()
    }

    /// The path of the lease node.
    pub fn path(&self) -> &str {
        self.holding.path()
    }

    /// The session that holds the lease.
    pub fn session_id(&self) -> i64 {
        self.holding.session_id()
    }

    /// Whether the lease is still held as far as this client knows (see
    /// [`zk_contender::Holding::is_held`]; the queue's [`LostPolicy`] says whether a
    /// suspended connection counts as lost).
    pub fn is_held(&self) -> bool {
        self.holding.is_held()
    }

    /// Resolves when the lease can no longer be trusted (session expired, lease node deleted,
    /// handle closed, or suspended under [`LostPolicy::SuspendedIsLost`]), with the reason: a
    /// long job should stop, as another consumer may take the item.
    pub fn lost(&self) -> impl std::future::Future<Output = LossReason> + Send + 'static {
        self.holding.lost()
    }

    /// Acknowledges the item: removes it and the lease in one transaction, and returns it.
    ///
    /// # Errors
    /// [`QueueError::LeaseLost`] when the lease is gone and nothing was removed (another
    /// consumer may have the item); [`QueueError::Uncertain`] when the reply was lost as the
    /// session ended and nothing can tell whether the removal happened.
    pub async fn ack(mut self) -> Result<Item, QueueError> {
        // `settled` is set only once done: if this future is dropped midway, the drop gives
        // the lease back (harmless if the ack went through: the lease went with it).
        self.holding.stop();
        let acked = claim::ack(
            &self.zk,
            &self.layout,
            self.item.name(),
            self.holding.path(),
            self.holding.session_id(),
        )
        .await;
        match acked {
            Ok(()) => {
                self.settled = true;
                Ok(self.item.clone())
            }
            // Whatever happened, the drop makes sure no lease of ours stays behind.
            Err(e) => Err(e),
        }
    }

    /// Gives the item back unprocessed: deletes the lease, so the next consumer takes it.
    ///
    /// # Errors
    /// Only failures that retrying cannot cure.
    pub async fn release(mut self) -> Result<(), QueueError> {
        self.holding.release().await?;
        self.settled = true;
        Ok(())
    }
}

impl<C: Coordinator + Clone + 'static> Drop for Lease<C> {
    fn drop(&mut self) {
        if !self.settled {
            self.holding.release_in_background();
        }
    }
}
