//! The seam between the world and a recipe: what a recipe implements ([`Contended`]) and what
//! the world tells it ([`Request`], [`HolderView`]).

use std::fmt;

use async_trait::async_trait;
use futures::future::BoxFuture;
use zk_fake::FakeSession;

use super::queue::{QueuedNode, contender_role};
use super::rules::Fencing;
use zk_contender::LostPolicy;

use super::scenario::{Mode, Role};

/// One acquire call a round makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The asking client's index in [`Scenario::clients`](super::Scenario::clients), for a
    /// recipe that gives its participants names (an election candidate's id, say).
    pub client: usize,
    /// Wait, try, or wait with a timeout. A recipe without a timed call wraps its waiting call
    /// in `tokio::time::timeout` and reports [`Acquired::TimedOut`]: cancel safety makes that
    /// the same thing.
    pub mode: Mode,
    /// What the round asks for.
    pub role: Role,
    /// The loss policy of the script's handles.
    pub loss: LostPolicy,
}

/// How an acquire call ended, short of an error.
#[derive(Debug)]
pub enum Acquired<G> {
    /// With a guard. It may already not hold (the session went while the reply was on its
    /// way); the world asks [`Contended::is_held`].
    Held(G),
    /// A [`Mode::Try`] found the recipe taken.
    Blocked,
    /// A [`Mode::Timeout`] ran out of time.
    TimedOut,
}

/// A recipe under test: how to acquire, inspect and release its guard on a fake session, and
/// which of the built-in safety rules hold for it.
///
/// The world calls [`Contended::acquire`] once per round with a fresh session handle clone,
/// polls and perhaps drops the future (cancellation), and, for a guard, checks it continuously
/// with the other methods until the round releases or drops it.
#[async_trait]
pub trait Contended: fmt::Debug + Send + Sync + 'static {
    /// What an acquire hands out (a lock guard, a leadership, a permit).
    type Guard: Send + Sync + 'static;
    /// What [`Contended::lost`] resolves with: the recipe's loss reason.
    type Loss: fmt::Debug + Send + Sync + 'static;

    /// The path whose children are the recipe's contender nodes: the queue the invariants
    /// inspect, and where nothing may be left once the scripts are over.
    fn path(&self) -> &str;

    /// The role of the child `name` of [`Contended::path`], or `None` for a child that is no
    /// contender. The default, [`contender_role`], parses it as the contender engine does; a
    /// recipe whose nodes carry markers of their own says which are which.
    fn role_of(&self, name: &str) -> Option<Role> {
        contender_role(name)
    }

    /// Makes a handle on `session` as `request` says and calls the matching acquire method.
    ///
    /// # Errors
    /// The text of any error the recipe does not document for this call; the world reports it
    /// as a violation. Map documented endings onto [`Acquired`] instead.
    async fn acquire(
        &self,
        session: FakeSession,
        request: Request,
    ) -> Result<Acquired<Self::Guard>, String>;

    /// Whether `guard` still holds as far as its client knows (`is_held()`, `is_leader()`).
    fn is_held(&self, guard: &Self::Guard) -> bool;

    /// The guard's loss future (`lost()`); it must not borrow the guard.
    fn lost(&self, guard: &Self::Guard) -> BoxFuture<'static, Self::Loss>;

    /// The guard's fencing token (a lock's token, a leader's term): its node's czxid.
    fn token(&self, guard: &Self::Guard) -> i64;

    /// The full path of the guard's contender node.
    fn node_path<'g>(&self, guard: &'g Self::Guard) -> &'g str;

    /// Releases `guard` (`release()`, `resign()`).
    ///
    /// # Errors
    /// The text of any error; the world reports it as a violation.
    async fn release(&self, guard: Self::Guard) -> Result<(), String>;

    /// The recipe's safety rule over the clients that hold right now and the queue under
    /// [`Contended::path`]: one line per violation, none when all is well. Pick a built-in one,
    /// [`at_most`](super::at_most) or [`readers_share`](super::readers_share).
    ///
    /// The world has already checked that each holder's node is in `queue` and belongs to its
    /// client's current session, and calls this only when someone holds.
    fn check_holders(&self, holders: &[HolderView], queue: &[QueuedNode]) -> Vec<String>;

    /// How fencing tokens must grow from one acquisition to the next.
    fn fencing(&self) -> Fencing;
}

/// A client that holds at the moment of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolderView {
    /// The client's index in [`Scenario::clients`](super::Scenario::clients).
    pub client: usize,
    /// The round's index in its script.
    pub round: usize,
    /// What it asked for.
    pub role: Role,
    /// Its guard's fencing token.
    pub token: i64,
    /// Its guard's node path.
    pub node_path: String,
}

impl fmt::Display for HolderView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "c{}#{} ({}, token {}, {})",
            self.client, self.round, self.role, self.token, self.node_path
        )
    }
}
