//! A distributed counting semaphore on ZooKeeper: at most N holders of a path's permits at a
//! time, served in arrival order, generic over any [`zk_core::Coordinator`].
//!
//! ```
//! use zk_semaphore::{Semaphore, SemaphoreError};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), SemaphoreError> {
//! let ensemble = zk_fake::FakeEnsemble::new();
//! // Three workers may call the rate-limited API at once.
//! let a = Semaphore::new(ensemble.connect(), "/limits/api", 3)?;
//! let b = Semaphore::new(ensemble.connect(), "/limits/api", 3)?;
//!
//! let first = a.acquire().await?;
//! let second = b.acquire().await?;
//! assert!(first.is_held() && second.is_held());
//! // ... do the work; stop if `first.lost()` resolves ...
//! first.release().await?;
//! second.release().await?;
//!
//! // Everyone must agree on the number of permits, which is stored with the semaphore.
//! let odd = Semaphore::new(ensemble.connect(), "/limits/api", 5)?;
//! # let _keep_the_node = a.acquire().await?;
//! assert!(matches!(
//!     odd.acquire().await,
//!     Err(SemaphoreError::PermitsMismatch { ours: 5, stored: 3, .. })
//! ));
//! # Ok(()) }
//! ```
//!
//! # How it works
//! The mechanics are the shared contender engine, [`zk_contender`], with its [`Leases`]
//! policy. A contender creates an ephemeral sequential lease node under the semaphore path and
//! lists the path in the same round trip; the first N by sequence hold, and every other
//! contender watches only the N nodes just ahead of it, since it holds once any one of those
//! goes and the departure of one further ahead cannot let it in. One release therefore wakes at
//! most N waiters, there is no global mutex, and contenders are served first come, first
//! served. An uncontended acquire and release cost two round trips (three for a handle's first
//! acquire, which reads the stored count).
//!
//! Node names carry a per-attempt uuid, so when a create's reply is lost the client finds its
//! node, checks that its session owns it, and adopts it instead of queueing twice. Dropping an
//! acquire future removes its node; releasing retries until the node is gone.
//!
//! # The permit count
//! N is stored in the semaphore node's data as ASCII decimal (`3`, as kazoo's `Semaphore`
//! stores its `max_leases`): written when the node is created, or by compare-and-set when it
//! has no data, and never changed after. An acquire with another count fails with
//! [`SemaphoreError::PermitsMismatch`] naming both; data that is not a count (written by
//! something else) fails with [`SemaphoreError::InvalidPermitsData`]. The check is made while
//! the acquirer's lease node is in the queue, so the node cannot be swept and made again with
//! another count under a holder: all holders at any time have agreed on the same N.
//! The semaphore node is a container: once nobody holds or waits, the server removes it, and
//! the next participant may start it afresh with another count.
//!
//! # Guarantees, and their limits
//! - At most N holders at a time, **as long as holders stop when they lose their session**:
//!   ZooKeeper deletes a holder's node when its session expires, and the next waiter gets in.
//!   A holder that is paused or cut off may not have noticed yet.
//! - [`Permit::lost`] resolves as soon as the permit is no longer safely held: the session
//!   expired (or the handle moved to a new session), the node was deleted, or, by default, the
//!   connection is suspended, since the session may already be gone at the server. Stop
//!   acting as a holder then.
//! - One handle holds at most one permit at a time ([`SemaphoreError::AlreadyHolding`]): make
//!   a handle per permit you want to hold at once.
//!
//! # Interoperating with Curator
//! With [`Layout::Curator`] the semaphore uses the layout and algorithm of Curator's
//! `InterProcessSemaphoreV2` (lease nodes `_c_<uuid>-lease-<seq>` under `<path>/leases`,
//! acquirers serialized by an `InterProcessMutex` at `<path>/locks`), so a mixed fleet of
//! Curator processes and this crate shares one set of permits. Curator does not store or check
//! the count: make sure every Curator participant uses the same `maxLeases`.
#![forbid(unsafe_code)]

mod error;
mod permit;
mod permits;
mod semaphore;

pub use error::SemaphoreError;
pub use permit::Permit;
pub use semaphore::{Layout, Semaphore, SemaphoreOptions};
pub use zk_contender::{Contender, Leases, LossReason, LostPolicy};
