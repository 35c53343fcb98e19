//! `Leadership`: proof of being elected, its term, and how to learn it was lost.

use std::fmt;

use zk_contender::{Entered, HeldNode, LossReason, LostPolicy, SlotClaim};
use zk_core::Coordinator;

use crate::error::ElectionError;

/// Being the leader of an election.
///
/// Leadership held through ZooKeeper can end without the leader doing anything: its session
/// can expire, its connection be suspended, an administrator delete its node. Check
/// [`Leadership::is_leader`] before acting as leader, await [`Leadership::lost`] to stop when
/// it ends, and pass [`Leadership::term`] to the resources you lead so they can refuse a stale
/// leader (see [`crate::Candidate::run`], which does the stopping for you).
///
/// Give it up with [`Leadership::resign`], which removes the candidate node so the next
/// candidate takes over. Dropping it resigns in the background (it needs a tokio runtime;
/// without one the node goes when the session ends).
#[must_use = "dropping the leadership resigns it"]
pub struct Leadership<C: Coordinator + Clone + 'static> {
    node: HeldNode<C>,
    id: String,
}

impl<C: Coordinator + Clone + 'static> fmt::Debug for Leadership<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leadership")
            .field("id", &self.id)
            .field("node", &self.node.path())
            .field("term", &self.term())
            .field("leader", &self.is_leader())
            .finish()
    }
}

impl<C: Coordinator + Clone + 'static> Leadership<C> {
    /// Leadership of the candidate node `entered`, which the engine found first in its session.
    ///
    /// Starts the loss monitor at once, so a deleted node, too, turns [`Leadership::is_leader`]
    /// false without anyone awaiting [`Leadership::lost`].
    pub(crate) fn new(
        zk: C,
        entered: &Entered,
        id: String,
        policy: LostPolicy,
        claim: SlotClaim,
    ) -> Leadership<C> {
        let node = HeldNode::new(zk, entered, policy, Some(claim));
        node.monitor();
        Leadership { node, id }
    }

    /// The leader's term: the czxid of its candidate node, strictly greater than every earlier
    /// leader's of this election path.
    ///
    /// Use it as a fencing token: have whatever the leader writes to refuse terms lower than
    /// the highest it has seen, so a leader that lost its leadership without noticing (a long
    /// pause, a partition) is turned away instead of undoing its successor's work.
    pub fn term(&self) -> i64 {
        self.node.czxid()
    }

    /// The id this candidate campaigned with.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The full path of the leader's candidate node.
    pub fn node_path(&self) -> &str {
        self.node.path()
    }

    /// The session that owns the candidate node.
    pub fn session_id(&self) -> i64 {
        self.node.session_id()
    }

    /// Whether this candidate still leads as far as this client knows: it has not resigned,
    /// the handle is still in the session that was elected and that session has not ended
    /// (expiry always ends leadership), the candidate node has not been deleted, and, under
    /// [`LostPolicy::SuspendedIsLost`] (the default), the connection has not been suspended
    /// since the election.
    pub fn is_leader(&self) -> bool {
        self.node.is_held()
    }

    /// Resolves when the leadership ends, with the reason; at once if it already has.
    pub fn lost(&self) -> impl std::future::Future<Output = LossReason> + Send + 'static {
        self.node.lost()
    }

    /// Resigns: removes the candidate node, retrying through connection loss until it is gone
    /// or its session has ended (which removes it too), so the next candidate takes over.
    ///
    /// # Errors
    /// Only for failures that retrying cannot cure (an ACL forbidding the delete, say).
    pub async fn resign(self) -> Result<(), ElectionError> {
        Ok(self.node.release().await?)
    }
}
