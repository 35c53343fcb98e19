//! The contender engine behind every ordered zk-recipes recipe: locks, leader election,
//! semaphores.
//!
//! Each of those recipes queues contenders as ephemeral sequential children of a path and
//! serves them in sequence order; they differ only in who holds given the queue. So the
//! mechanics live here once, and a recipe is a [`Policy`] plus its API:
//!
//! - [`Policy`]: a pure decision, given the ordered [`Contender`]s and my index: [`Decision::Hold`],
//!   or [`Decision::Wait`] on the few contenders whose departure can change that. Built in:
//!   [`Exclusive`] (mutex, leadership), [`ReadWrite`], [`Leases`] (N holders).
//! - [`Engine`]: a protected create (the create and a listing in one round trip; after a lost
//!   reply the attempt finds its node by its tag and adopts it only if its current session
//!   owns it), then [`Engine::wait_turn`], which watches only what the policy names and rides
//!   out connection loss; [`Engine::take_turn`] is the two in the loop every acquire needs
//!   (enter again when the node goes, remove it when giving up or dropped), with a hook for a
//!   recipe's own check of the path (a semaphore's stored permits).
//! - [`Naming`], [`NodePrefix`] and [`TagStyle`]: naming as data, so a recipe's nodes look like
//!   kazoo's or Curator's where their layouts allow; [`Contender::parse`] orders every scheme
//!   together.
//! - [`Cleanup`], [`delete_node`], [`delete_tagged`], [`delete_marked`]: guaranteed removal, so every wait is
//!   cancel-safe. Waiting out what waiting can cure is
//!   `zk_core::CoordinatorExt::recover`.
//! - [`Holding`]: what a held node's guard needs: [`Holding::is_held`] and
//!   [`Holding::lost`] (session expired, node deleted, handle closed, or suspended per
//!   [`LostPolicy`]), with no background task until `lost` (or, for a holder that must see deletions at once, [`Holding::monitor`]) is asked; [`Holding::release`]
//!   and [`Holding::release_in_background`] let the node go.
//! - [`HeldNode`] and [`HoldSlot`]: the body of a recipe guard: a `Holding` released on
//!   request or in the background when dropped, and the one-hold-per-handle mark it frees.
//!
//! Two leases of three taken with the engine on the in-memory fake, a third contender waiting:
//!
//! ```
//! use zk_contender::{Engine, Leases, NodePrefix, TagStyle, Turn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), zk_core::Error> {
//! let ensemble = zk_fake::FakeEnsemble::new();
//! let sessions = [ensemble.connect(), ensemble.connect(), ensemble.connect()];
//! let mut turns = Vec::new();
//! for zk in &sessions {
//!     let engine = Engine::new(zk, "/app/slots");
//!     let mut entered = engine.enter(&NodePrefix::new(TagStyle::Hex, "-lease-")).await?;
//!     // `wait = false`: report instead of waiting.
//!     turns.push(engine.wait_turn(&mut entered, &Leases(2), false, None).await?);
//! }
//! assert_eq!(turns, [Turn::Acquired, Turn::Acquired, Turn::Blocked]);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod contender;
mod engine;
mod held;
mod loss;
mod node_name;
mod policy;
mod removal;

pub use contender::{Contender, ContenderKind, sorted_contenders};
pub use engine::{Engine, Entered, Turn, no_check, until};
pub use held::{HeldNode, HoldSlot, SlotClaim};
pub use loss::{Holding, LossReason, LostPolicy};
pub use node_name::{Naming, NodePrefix, TagStyle};
pub use policy::{Decision, Exclusive, Leases, Policy, ReadWrite};
pub use removal::{Cleanup, delete_marked, delete_node, delete_tagged};
