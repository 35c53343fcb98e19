//! Watches that keep themselves current: follow a node's data or children as a stream, or as
//! an "always the latest" receiver, on any [`zk_core::Coordinator`].
//!
//! ZooKeeper's watches fire once and say only that something changed; a reader must read
//! again, set the watch again, and handle lost connections and expired sessions on the way.
//! [`data_watch`] and [`children_watch`] do all of that: they yield the current value first
//! (`None` while the node does not exist: a missing node is a value, not an error), then each
//! change, never the same version twice, and end when the handle is closed.
//!
//! ```
//! use futures::StreamExt;
//! use zk_core::{Coordinator, CreateOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), zk_core::Error> {
//! let ensemble = zk_fake::FakeEnsemble::new();
//! let zk = ensemble.connect();
//! let mut config = zk_cache::data_watch(zk.clone(), "/app/config")?;
//! assert_eq!(config.next().await.unwrap()?, None, "not there yet");
//!
//! zk.create("/app", b"", &CreateOptions::persistent()).await?;
//! zk.create("/app/config", b"v1", &CreateOptions::persistent()).await?;
//! assert_eq!(config.next().await.unwrap()?.unwrap().data, b"v1");
//! zk.set_data("/app/config", b"v2", None).await?;
//! assert_eq!(config.next().await.unwrap()?.unwrap().data, b"v2");
//!
//! // Or keep only the latest value at hand.
//! let members = zk_cache::children_watch(zk.clone(), "/app")?.into_latest().await?;
//! assert_eq!(members.borrow().as_ref().unwrap().names, ["config"]);
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod follow;
mod source;

pub use follow::{ChildrenWatch, DataWatch, WatchStream, children_watch, data_watch};
pub use source::{Children, NodeData};
