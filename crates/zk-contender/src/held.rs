//! What a recipe's guard is made of: a [`HoldSlot`] so one handle holds at most once at a time,
//! and a [`HeldNode`] that knows when it was lost and is removed on release, or in the
//! background when dropped.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use zk_core::{Coordinator, Error};

use crate::engine::Entered;
use crate::loss::{Holding, LossReason, LostPolicy};

/// Marks a recipe handle as holding (or busy acquiring): a second acquire through the same
/// handle is refused instead of queueing behind the handle's own node, which would deadlock.
///
/// Clones share the slot, so a cloned handle is the same handle.
#[derive(Debug, Clone, Default)]
pub struct HoldSlot(Arc<AtomicBool>);

impl HoldSlot {
    /// A free slot.
    pub fn new() -> HoldSlot {
        HoldSlot::default()
    }

    /// Claims the slot; `None` while another claim on it is alive.
    pub fn claim(&self) -> Option<SlotClaim> {
        if self.0.swap(true, Ordering::AcqRel) {
            None
        } else {
            Some(SlotClaim(self.0.clone()))
        }
    }

    /// Whether a claim on the slot is alive.
    pub fn is_claimed(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A claim on a [`HoldSlot`]; dropping it frees the slot, so an acquire that fails or is
/// cancelled frees it too.
#[derive(Debug)]
pub struct SlotClaim(Arc<AtomicBool>);

impl Drop for SlotClaim {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// A contender node that holds (a lock, a lease, a leadership): [`Holding`] for loss detection,
/// and guaranteed removal.
///
/// [`HeldNode::release`] deletes the node, retrying through connection loss until it is gone or
/// the session has ended. Dropping it instead deletes the node in the background (that needs a
/// tokio runtime; without one the node goes when the session ends). Either way the
/// [`SlotClaim`] it carries is freed.
pub struct HeldNode<C: Coordinator + Clone + 'static> {
    holding: Holding<C>,
    czxid: i64,
    released: bool,
    claim: Option<SlotClaim>,
}

impl<C: Coordinator + Clone + 'static> fmt::Debug for HeldNode<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldNode")
            .field("holding", &self.holding)
            .field("czxid", &self.czxid)
            .field("released", &self.released)
            .finish()
    }
}

impl<C: Coordinator + Clone + 'static> HeldNode<C> {
    /// The node `entered` holds now (its turn came); `claim` (the handle's [`HoldSlot`], if it
    /// has one) is freed once the node is released or dropped.
    pub fn new(
        zk: C,
        entered: &Entered,
        policy: LostPolicy,
        claim: Option<SlotClaim>,
    ) -> HeldNode<C> {
        HeldNode {
            holding: Holding::new(zk, entered.path.clone(), entered.session_id, policy),
            czxid: entered.czxid,
            released: false,
            claim,
        }
    }

    /// The held node's czxid: strictly greater than that of every node queued before it on
    /// the same path, so a mutex holder's fencing token or a leader's term.
    pub fn czxid(&self) -> i64 {
        self.czxid
    }

    /// The held node's full path.
    pub fn path(&self) -> &str {
        self.holding.path()
    }

    /// The session that holds the node.
    pub fn session_id(&self) -> i64 {
        self.holding.session_id()
    }

    /// Whether the node still holds as far as this client knows; see [`Holding::is_held`].
    pub fn is_held(&self) -> bool {
        self.holding.is_held()
    }

    /// Starts watching for the loss now; see [`Holding::monitor`].
    pub fn monitor(&self) {
        self.holding.monitor();
    }

    /// Resolves when the node no longer safely holds, with the reason; see [`Holding::lost`].
    pub fn lost(&self) -> impl std::future::Future<Output = LossReason> + Send + 'static {
        self.holding.lost()
    }

    /// Deletes the node, retrying through connection loss until it is gone or the session has
    /// ended (which deletes it too), then frees the claim.
    ///
    /// # Errors
    /// Only failures that retrying cannot cure (an ACL forbidding the delete, say).
    pub async fn release(mut self) -> Result<(), Error> {
        self.released = true;
        let result = self.holding.release().await;
        self.claim = None;
        result
    }
}

impl<C: Coordinator + Clone + 'static> Drop for HeldNode<C> {
    fn drop(&mut self) {
        // The handle may acquire again at once: its new node queues behind the old one until
        // the background removal deletes it.
        self.claim = None;
        if self.released {
            self.holding.stop();
        } else {
            self.holding.release_in_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_core::CreateOptions;

    #[test]
    fn a_slot_has_one_claim_at_a_time_and_clones_share_it() {
        let slot = HoldSlot::new();
        let clone = slot.clone();
        let claim = slot.claim().expect("a free slot");
        assert!(clone.is_claimed());
        assert!(clone.claim().is_none(), "a clone is the same handle");
        drop(claim);
        assert!(!slot.is_claimed());
        assert!(clone.claim().is_some());
    }

    async fn held(zk: &zk_fake::FakeSession, slot: &HoldSlot) -> HeldNode<zk_fake::FakeSession> {
        let created = zk
            .create("/held", b"", &CreateOptions::ephemeral())
            .await
            .unwrap();
        let entered = Entered {
            name: "held".to_owned(),
            path: created.path,
            czxid: created.stat.czxid,
            session_id: zk.session_id(),
            listing: Vec::new(),
            dir_stat: None,
        };
        let node = HeldNode::new(
            zk.clone(),
            &entered,
            LostPolicy::SuspendedIsLost,
            slot.claim(),
        );
        assert_eq!(node.czxid(), created.stat.czxid);
        node
    }

    #[tokio::test(start_paused = true)]
    async fn release_deletes_the_node_then_frees_the_slot() {
        let zk = zk_fake::FakeEnsemble::new().connect();
        let slot = HoldSlot::new();
        let node = held(&zk, &slot).await;
        let lost = node.lost();
        assert!(node.is_held() && slot.is_claimed());
        node.release().await.unwrap();
        assert_eq!(zk.exists("/held").await.unwrap(), None);
        assert!(!slot.is_claimed());
        assert_eq!(lost.await, LossReason::Released);
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_frees_the_slot_at_once_and_deletes_in_the_background() {
        let zk = zk_fake::FakeEnsemble::new().connect();
        let slot = HoldSlot::new();
        let node = held(&zk, &slot).await;
        drop(node);
        assert!(!slot.is_claimed(), "the handle may queue again at once");
        let (stat, gone) = zk.watch_exists("/held").await.unwrap();
        if stat.is_some() {
            gone.await;
        }
        assert_eq!(zk.exists("/held").await.unwrap(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deleted_node_is_lost_and_no_longer_held() {
        let ensemble = zk_fake::FakeEnsemble::new();
        let zk = ensemble.connect();
        let node = held(&zk, &HoldSlot::new()).await;
        let lost = node.lost();
        tokio::task::yield_now().await;
        ensemble.connect().delete("/held", None).await.unwrap();
        assert_eq!(lost.await, LossReason::NodeDeleted);
        assert!(!node.is_held());
        node.release().await.unwrap();
    }
}
