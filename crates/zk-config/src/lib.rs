//! Typed configuration on ZooKeeper: a value that is always current, safe concurrent updates,
//! whole trees of keys, and counters shared with kazoo and Curator, on any
//! [`zk_core::Coordinator`].
//!
//! - [`ConfigStore`]: one typed value in one node. `get` (a default while absent), `set`,
//!   `compare_and_set` on the version read, `update(|old| new)` retried on conflicts, and
//!   `watch` for a [`tokio::sync::watch::Receiver`] that is always current.
//! - [`ConfigTree`]: one key per child node. Get, set and delete keys, update several in one
//!   atomic `multi` with the versions read, and watch the whole map.
//! - [`Counter`]: a shared integer, in kazoo's decimal text or Curator's `SharedCount` bytes.
//!
//! Values are JSON by default; any [`Codec`] will do. A value written by someone else that
//! does not decode, or fails the store's validation rule, never replaces the last good value
//! of a watcher: it is reported in [`Watched::rejected`] instead.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use zk_config::ConfigStore;
//!
//! #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
//! struct Limits {
//!     max_connections: u32,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), zk_config::ConfigError> {
//! let ensemble = zk_fake::FakeEnsemble::new();
//! let limits = ConfigStore::new(ensemble.connect(), "/app/limits", Limits { max_connections: 10 })?
//!     .validate(|l: &Limits| if l.max_connections > 0 { Ok(()) } else { Err("zero".into()) });
//! let mut live = limits.watch().await?;
//! assert_eq!(live.borrow().current.value.max_connections, 10, "the default");
//!
//! limits.set(&Limits { max_connections: 50 }).await?;
//! live.changed().await.unwrap();
//! assert_eq!(live.borrow().current.value.max_connections, 50);
//!
//! // Concurrent updates never lose each other's changes.
//! limits.update(|l| Limits { max_connections: l.max_connections + 1 }).await?;
//! assert_eq!(limits.get().await?.value.max_connections, 51);
//! # Ok(()) }
//! ```
//!
//! # Versions and lost replies
//! Every value carries the [`Version`] it was read at; [`ConfigStore::compare_and_set`] writes
//! only over that version. When the reply to such a write is lost with the connection, the
//! store reads the node again: if the write certainly did not happen it is retried, if another
//! write beat it the result is a `Conflict`, and only when it cannot tell is the result
//! `ConnectionLoss` (the write may or may not have been applied, as ZooKeeper keeps no record
//! of who wrote what).
#![forbid(unsafe_code)]

mod codec;
mod counter;
mod error;
mod format;
mod node;
mod store;
mod tree;
mod versioned;

pub use codec::{Codec, Decimal, Json, Raw, SharedCount};
pub use counter::Counter;
pub use error::ConfigError;
pub use store::ConfigStore;
pub use tree::{Batch, ConfigTree, TreeSnapshot};
pub use versioned::{Rejected, Version, Versioned, Watched};
