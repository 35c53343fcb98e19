//! Leader election on ZooKeeper, generic over any [`zk_core::Coordinator`]: a [`Candidate`]
//! campaigns and gets a [`Leadership`] with a term usable as a fencing token; [`Candidate::run`]
//! runs work only while leading; an [`Observer`] follows the leader without campaigning.
//!
//! ```
//! use zk_election::{Candidate, Observer, RunOutcome};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), zk_election::ElectionError> {
//! let ensemble = zk_fake::FakeEnsemble::new();
//! let path = "/services/billing/leader";
//! let a = Candidate::new(ensemble.connect(), path, "billing-a");
//! let b = Candidate::new(ensemble.connect(), path, "billing-b");
//!
//! let leading = a.campaign().await?;
//! assert!(leading.is_leader());
//! assert!(b.try_campaign().await?.is_none(), "one leader at a time");
//!
//! let observer = Observer::new(ensemble.connect(), path);
//! let leader = observer.leader().await?.expect("someone leads");
//! assert_eq!((leader.id.as_str(), leader.term), ("billing-a", leading.term()));
//!
//! // b campaigns meanwhile, and runs its work once a steps down.
//! let first_term = leading.term();
//! let next = tokio::spawn(async move { b.run(|term| async move { term }).await });
//! leading.resign().await?;
//! match next.await.expect("b's task")? {
//!     RunOutcome::Finished(term) => assert!(term > first_term, "terms grow"),
//!     RunOutcome::Lost(reason) => unreachable!("lost: {reason:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! # How it works
//! The mechanics are the shared contender engine, [`zk_contender`], with its exclusive policy:
//! a candidate creates an ephemeral sequential node under the election path (its id in the
//! node's data) and lists the path in the same round trip; the lowest sequence leads, and every
//! other candidate watches only the node right before its own, so a leader's departure wakes
//! its successor alone. A candidate is elected only when its own node is first and the handle is
//! still in the session that created it. Node names carry a per-attempt uuid, so a create whose
//! reply was lost is found again and adopted only if the current session owns it. Dropping a
//! campaign removes its node; resigning retries until the node is gone.
//!
//! # Guarantees, and their limits
//! - At most one leader at a time, **as long as leaders stop when they lose their session**:
//!   ZooKeeper deletes a leader's node when its session expires, and the next candidate takes
//!   over. A leader that is paused or cut off may not have noticed yet.
//! - [`Leadership::is_leader`] is false, and [`Leadership::lost`] resolves, as soon as this
//!   client knows leadership ended: the session expired (always), the handle closed, the node
//!   was deleted, or, by default ([`LostPolicy::SuspendedIsLost`]), the connection was
//!   suspended, since the session may already be gone at the server.
//!   [`LostPolicy::OnlySessionLoss`] rides out short disconnections at the price of a window
//!   with two leaders.
//! - [`Leadership::term`] (the czxid of the leader's node) grows strictly from one leader to
//!   the next. Because of the window above, protected resources should check it.
//!
//! # Interoperating with kazoo and Curator
//! Candidates of all three libraries are ordered together by sequence number, and observers
//! read every scheme's id from node data. With [`Naming::Kazoo`] a candidate's node looks like
//! a kazoo `Election`'s (`<uuid>__lock__<seq>`, the id as data, on a persistent path); with
//! [`Naming::Curator`] like a `LeaderLatch`'s (`_c_<uuid>-latch-<seq>`, the id as data). Each
//! library sees the other's candidates only in its own scheme, so every process in one election
//! should use the same one.
#![forbid(unsafe_code)]

mod candidate;
mod error;
mod leadership;
mod naming;
mod observer;
mod participant;

pub use candidate::{Candidate, CandidateOptions, Rejoin, RunOutcome};
pub use error::ElectionError;
pub use leadership::Leadership;
pub use observer::Observer;
pub use participant::Participant;
pub use zk_contender::{LossReason, LostPolicy, Naming};
