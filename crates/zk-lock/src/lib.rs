//! Distributed locks on ZooKeeper that you can trust: a mutex ([`Lock`]) and a read/write lock
//! ([`ReadWriteLock`]), generic over any [`zk_core::Coordinator`].
//!
//! ```
//! use zk_lock::Lock;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), zk_lock::LockError> {
//! let ensemble = zk_fake::FakeEnsemble::new();
//! let lock = Lock::new(ensemble.connect(), "/locks/billing");
//!
//! let guard = lock.acquire().await?;
//! let token = guard.fencing_token(); // pass this to what the lock protects
//! assert!(guard.is_held());
//! // ... do the work; stop if `guard.lost()` resolves ...
//! guard.release().await?;
//!
//! let other = Lock::new(ensemble.connect(), "/locks/billing");
//! let next = other.acquire().await?;
//! assert!(next.fencing_token() > token, "tokens grow from holder to holder");
//! next.release().await?;
//! # Ok(()) }
//! ```
//!
//! # How it works
//! The mechanics are the shared contender engine, [`zk_contender`], with its exclusive and
//! read/write policies. A contender creates an ephemeral sequential node under the lock path and lists the path in
//! the same round trip; the lowest sequence holds the lock, and every other contender watches
//! only the node right before it (readers: the nearest writer before them), so a release wakes
//! one waiter.
//! An uncontended acquire and release cost two round trips.
//! Node names carry a per-attempt uuid, so when a create's reply is lost the client finds its
//! node, checks that its session owns it, and adopts it instead of queueing twice (Curator's
//! protected mode).
//! Dropping an acquire future removes its node; releasing retries until the node is gone.
//!
//! # Guarantees, and their limits
//! - At most one holder of a mutex (or writers exclusive of everyone) at a time, **as long as
//!   holders stop when they lose their session**: ZooKeeper deletes a holder's node when its
//!   session expires, and the next contender takes over.
//!   A holder that is paused or cut off may not have noticed yet.
//! - [`LockGuard::lost`] resolves as soon as the lock is no longer safely held: the session
//!   expired (or the handle moved to a new session), the node was deleted, or, by default, the
//!   connection is suspended, since the session may already be gone at the server.
//!   Stop acting as the holder then.
//! - [`LockGuard::fencing_token`] (the lock node's czxid) grows strictly from one holder to the
//!   next. Because of the window above, protected resources should check it: accept writes only
//!   with a token at least as high as the highest seen.
//! - On session expiry every lock the session held is gone; the guard reports
//!   [`LossReason::SessionExpired`], and the handle carries on in a new session.
//!
//! # Interoperating with kazoo and Curator
//! Contenders of all three libraries are recognised and ordered by sequence number.
//! With [`Naming::Kazoo`] this lock's nodes look like kazoo's (`<uuid>__lock__<seq>`), so a
//! kazoo `Lock` on the same path sees them; with [`Naming::Curator`] they look like an
//! `InterProcessMutex`'s (`_c_<uuid>-lock-<seq>`).
#![forbid(unsafe_code)]

mod error;
mod guard;
mod lock;
mod naming;
mod rwlock;

pub use error::LockError;
pub use guard::LockGuard;
pub use lock::{Lock, LockOptions};
pub use rwlock::ReadWriteLock;
pub use zk_contender::{Contender, ContenderKind, LossReason, LostPolicy, Naming};
