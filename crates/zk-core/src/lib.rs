//! ZooKeeper for Rust: the [`Coordinator`] trait, the types and errors every backend shares,
//! and (soon) the wire client that speaks ZooKeeper's binary protocol.
//!
//! Write services and recipes against [`Coordinator`]; run them on a real ensemble in
//! production and on the in-memory `zk-fake` ensemble in tests.
//!
//! ```
//! use zk_core::{Coordinator, CoordinatorExt, CreateOptions, EventType};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> zk_core::Result<()> {
//! let ensemble = zk_fake::FakeEnsemble::new();
//! let zk = ensemble.connect();
//!
//! zk.create("/greeting", b"hello", &CreateOptions::persistent()).await?;
//! let (data, stat, watch) = zk.watch_data("/greeting").await?;
//! assert_eq!((data.as_slice(), stat.version), (&b"hello"[..], 0));
//!
//! zk.set_data("/greeting", b"hi", Some(0)).await?;
//! assert_eq!(watch.await.event_type, EventType::NodeDataChanged);
//! zk.delete_all("/greeting").await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod client;
mod coordinator;
mod error;
mod ext;
pub mod four_letter;
pub mod limits;
pub mod path;
pub mod proto;
#[cfg(test)]
mod send_sync;
mod types;
pub mod validate;
pub mod watch;

pub use coordinator::Coordinator;
pub use error::{Error, Result};
pub use ext::CoordinatorExt;
pub use types::acl::{Acl, Id, Perms, digest_id};
pub use types::create::{CreateMode, CreateOptions, Created, MAX_TTL};
pub use types::event::{AddWatchMode, EventType, SessionState, WatchEvent};
pub use types::op::{Op, OpResult, ReadOp, ReadResult};
pub use types::stat::Stat;
pub use watch::{OneshotSender, OneshotWatch, PersistentSender, PersistentWatch};

/// ZooKeeper's default packet limit (`jute.maxbuffer`): 1,048,575 bytes.
pub const DEFAULT_MAX_PACKET: usize = 0xfffff;
