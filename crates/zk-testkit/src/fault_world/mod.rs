//! Property tests of ordered recipes (locks, elections, semaphores) under faults, on the
//! in-memory fake with paused time: written once, used by every recipe through the
//! [`Contended`] trait.
//!
//! A [`Scenario`] is a few clients, each on its own fake session, running [`Script`]s of
//! rounds (pause, ask in a [`Mode`], maybe [`Cancel`] the call, hold a while, release or drop),
//! while [`Chaos`] events strike chosen clients at chosen moments: connection loss before or
//! after an operation applies, slow replies, session expiry, disconnections short and long.
//! [`strategy::scenario`] generates them; [`run`] plays one on a fresh [`zk_fake::FakeEnsemble`]
//! in a paused-time runtime, checking the invariants below all along, and returns every
//! violation with the scenario and a trace of the run. A failing case prints a scenario ready
//! to paste into a regression test. Runs take simulated time only: 128 scenarios take about a
//! second.
//!
//! # What a recipe implements
//! [`Contended`] says how to acquire on a session ([`Request`]: mode, role, loss policy) and
//! what came of it ([`Acquired`]: held, blocked, timed out; an `Err` is an undocumented
//! error), how to read a guard (`is_held`, `lost`, `token`, `node_path`), how to release it,
//! and which safety rules hold:
//!
//! - [`Contended::check_holders`]: [`at_most`]`(1, ..)` for a mutex or a leadership,
//!   [`at_most`]`(n, ..)` for a semaphore of `n` permits, [`readers_share`] for a read/write
//!   lock; or a rule of its own over the [`HolderView`]s and the [`QueuedNode`]s.
//! - [`Contended::fencing`]: [`Fencing::Increasing`] where tokens or terms order holders,
//!   [`Fencing::Unordered`] where holders hold together.
//! - [`Contended::role_of`], only when some contenders are [`Role::Shared`].
//!
//! Its property test is then a `proptest!` over [`strategy::scenario`] calling [`run`], with
//! [`strategy::config`] (`PROPTEST_CASES` cases, 128 by default).
//!
//! # The invariants, exactly
//! A client *holds* when it has a guard for which [`Contended::is_held`] is true. On the fake
//! the client's view of its session is exact: an expiry (by `expire_session` or by a
//! disconnection outlasting the timeout) deletes the session's nodes and flips the handle to
//! `Expired` in one step, so a holder whose node went with its session stops holding at that
//! very instant, and no grace window is needed for the checks below.
//!
//! 1. **The recipe's rule.** At every check, [`Contended::check_holders`] finds nothing wrong
//!    with the holders and the queue: for the built-in rules, no more holders than allowed,
//!    and each holder stands where the recipe's policy lets it hold (no more than `n - 1`
//!    contenders before it; for a reader, no writer before it; for a writer, nobody). That
//!    is what makes exclusion true rather than lucky.
//! 2. **Holders own their node.** At every check, each holder's node exists under
//!    [`Contended::path`], is ephemeral to the client's current session, and its `lost()` has
//!    not resolved.
//! 3. **Fencing.** Under [`Fencing::Increasing`], for acquisitions that returned a holding
//!    guard, in the order the acquire calls returned: an exclusive holder's token is greater
//!    than every earlier acquisition's token; a shared holder's token is greater than every
//!    earlier exclusive holder's token.
//! 4. **Loss is told.** A guard that stopped holding without being released has seen
//!    `lost()` resolve within [`LOSS_TOLD`] of simulated time.
//! 5. **Liveness.** Every acquire call finishes (held, blocked, timed out, or an error) within
//!    [`LIVENESS`] of simulated time, far beyond any scenario's total hold time; so does every
//!    release. A hang is a waiter stuck behind a predecessor that went away. A
//!    [`Mode::Timeout`] call returns within its timeout plus [`TIMEOUT_SLACK`], whatever the
//!    connection does meanwhile.
//! 6. **Documented endings only.** The recipes ride out connection loss and session expiry,
//!    so an acquire ends only held, [`Acquired::Blocked`] (only a [`Mode::Try`]) or
//!    [`Acquired::TimedOut`] (only a [`Mode::Timeout`]); a release ends `Ok`.
//! 7. **No leftovers.** Once every script is over and [`SETTLE`] of simulated time has let
//!    reconnections and background clean-ups finish, with every session still open, no
//!    contender node is left under [`Contended::path`] (a node of a live session would block
//!    the recipe for good); after every client closes its session, none is left either.
//!
//! Checks run at every acquisition, after every chaos event, before every release or drop,
//! and every [`CHECK_EVERY`] of simulated time while the scripts run.
//!
//! # Example: a toy mutex on the contender engine
//! A recipe built on `zk_contender` in a few dozen lines, and its property test. A real
//! recipe's adapter is shorter still: its `acquire` maps the recipe's own calls and errors.
//!
//! ```
//! use std::time::Duration;
//!
//! use async_trait::async_trait;
//! use futures::future::BoxFuture;
//! use proptest::prelude::*;
//! use tokio::time::Instant;
//! use zk_contender::{Engine, Exclusive, Holding, LossReason, LostPolicy, NodePrefix, TagStyle};
//! use zk_fake::FakeSession;
//! use zk_testkit::fault_world::{self, Acquired, Contended, Fencing, HolderView,
//!     Mode, QueuedNode, Request, strategy};
//!
//! #[derive(Debug)]
//! struct ToyMutex;
//!
//! struct ToyGuard {
//!     holding: Holding<FakeSession>,
//!     token: i64,
//!     released: bool,
//! }
//!
//! impl Drop for ToyGuard {
//!     fn drop(&mut self) {
//!         if !self.released {
//!             self.holding.release_in_background();
//!         }
//!     }
//! }
//!
//! #[async_trait]
//! impl Contended for ToyMutex {
//!     type Guard = ToyGuard;
//!     type Loss = LossReason;
//!
//!     fn path(&self) -> &str {
//!         "/toy"
//!     }
//!
//!     async fn acquire(&self, zk: FakeSession, ask: Request) -> Result<Acquired<ToyGuard>, String> {
//!         let deadline = match ask.mode {
//!             Mode::Timeout(ms) => Some(Instant::now() + Duration::from_millis(ms)),
//!             Mode::Wait | Mode::Try => None,
//!         };
//!         let wait = ask.mode != Mode::Try;
//!         let prefix = || NodePrefix::new(TagStyle::Hex, "-toy-");
//!         let engine = Engine::new(&zk, self.path());
//!         let no_check = zk_contender::no_check::<zk_core::Error>;
//!         let entered = engine.take_turn(prefix, &Exclusive, wait, deadline, no_check).await;
//!         let Some(entered) = entered.map_err(|e| e.to_string())? else {
//!             return Ok(if wait { Acquired::TimedOut } else { Acquired::Blocked });
//!         };
//!         let holding = Holding::new(zk.clone(), entered.path, entered.session_id, ask.loss);
//!         Ok(Acquired::Held(ToyGuard { holding, token: entered.czxid, released: false }))
//!     }
//!
//!     fn is_held(&self, guard: &ToyGuard) -> bool {
//!         guard.holding.is_held()
//!     }
//!
//!     fn lost(&self, guard: &ToyGuard) -> BoxFuture<'static, LossReason> {
//!         Box::pin(guard.holding.lost())
//!     }
//!
//!     fn token(&self, guard: &ToyGuard) -> i64 {
//!         guard.token
//!     }
//!
//!     fn node_path<'g>(&self, guard: &'g ToyGuard) -> &'g str {
//!         guard.holding.path()
//!     }
//!
//!     async fn release(&self, mut guard: ToyGuard) -> Result<(), String> {
//!         guard.released = true;
//!         guard.holding.release().await.map_err(|e| e.to_string())
//!     }
//!
//!     fn check_holders(&self, holders: &[HolderView], queue: &[QueuedNode]) -> Vec<String> {
//!         fault_world::at_most(1, holders, queue)
//!     }
//!
//!     fn fencing(&self) -> Fencing {
//!         Fencing::Increasing
//!     }
//! }
//!
//! proptest! {
//!     #![proptest_config(strategy::config())]
//!     // In a test target, with `#[test]`:
//!     fn toy_mutex_under_faults(scenario in strategy::scenario(strategy::Shape::exclusive())) {
//!         let outcome = fault_world::run(ToyMutex, &scenario);
//!         prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
//!     }
//! }
//! # toy_mutex_under_faults();
//! ```
//!
//! # Adding a regression
//! When a property case fails, the report starts with the recipe and the scenario (one line a
//! round, one line a chaos event), then the violations and the last lines of the trace
//! (acquisitions with node paths and tokens, chaos events and what they hit, losses told).
//! Two ways to keep it failing until fixed, and passing after:
//!
//! - **Replay it**: a `#[test]` that builds the printed [`Scenario`] as a literal (every field is
//!   public) and asserts that [`run`] returns `Ok`.
//! - **Pin the fault point**: a `#[tokio::test(start_paused = true)]` that sets up just the
//!   fault (`ensemble.faults().fail_next(OpMatcher::op(kind).session(id), fault)`,
//!   `expire_session`, `disconnect`), makes the calls, and asserts on the outcome and on the
//!   tree with [`queue`], [`children_become`], [`renewed`] and [`cancel_after_polls`] (which
//!   cancels a call at its `n`-th await point; counting `n` up from 1 until the call finishes
//!   covers every await point). Bound every wait with [`REGRESSION_WAIT`].
//!
//! The second says what broke in the recipe's own words; prefer it once the cause is known.

mod cancel;
mod chaos;
mod client;
mod queue;
mod recipe;
mod rules;
mod run;
mod scenario;
pub mod strategy;
mod waits;
mod world;

use std::time::Duration;

pub use cancel::cancel_after_polls;
pub use queue::{QueuedNode, contender_role, queue};
pub use recipe::{Acquired, Contended, HolderView, Request};
pub use rules::{Fencing, at_most, readers_share};
pub use run::{block_on_paused, run};
pub use scenario::{
    Action, Cancel, Chaos, End, Mode, OpFault, Role, Round, Scenario, Script, When,
};
pub use waits::{REGRESSION_WAIT, children_become, renewed};

/// How long any acquire or release may take, in simulated time, before it counts as stuck.
pub const LIVENESS: Duration = Duration::from_secs(600);

/// How much longer than its timeout a [`Mode::Timeout`] call may take: the engine-based
/// recipes give a failed attempt's clean-up one second before leaving it to the background.
pub const TIMEOUT_SLACK: Duration = Duration::from_secs(2);

/// How soon a guard that stopped holding must have seen `lost()` resolve.
pub const LOSS_TOLD: Duration = Duration::from_secs(1);

/// How long after the scripts end reconnections and background clean-ups get to settle before
/// the leftover check.
pub const SETTLE: Duration = Duration::from_secs(60);

/// How often the invariants are checked besides at events.
pub const CHECK_EVERY: Duration = Duration::from_millis(250);
