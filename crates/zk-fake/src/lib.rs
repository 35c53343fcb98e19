//! An in-memory ZooKeeper ensemble for tests: faithful to a real 3.8 server, deterministic, and
//! steerable with fault injection.
//!
//! Each [`FakeEnsemble::connect`] opens an independent session implementing
//! [`zk_core::Coordinator`], so services and recipes written against the trait run unchanged on
//! it, and several clients can contend in one process.
//!
//! What it reproduces: one zxid counter (failed writes consume zxids too), `version`,
//! `cversion`, `aversion`, `pzxid`, `ephemeral_owner`, sequence suffixes from the parent's create
//! counter, containers swept once emptied, TTL nodes swept once stale, ephemeral nodes removed
//! when their session closes or expires, the server's error precedence, its watch rules
//! (one notification per session fanned out to every local watcher; persistent and recursive
//! watches), and ACLs with digest authentication.
//!
//! Faults are steered from [`Faults`]: lose the connection before or after an operation is
//! applied, fail or delay replies, expire a session, or cut its connection for a while.
//! Time is tokio's, so `#[tokio::test(start_paused = true)]` makes timeouts instant; the fake
//! never reads the wall clock and uses no randomness.
//!
//! ```
//! use std::time::Duration;
//! use zk_core::{Coordinator, CreateOptions, EventType, SessionState};
//! use zk_fake::FakeEnsemble;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> zk_core::Result<()> {
//! let ensemble = FakeEnsemble::new();
//! let worker = ensemble.connect();
//! let monitor = ensemble.connect();
//!
//! worker.create("/worker", b"busy", &CreateOptions::ephemeral()).await?;
//! let (_, watch) = monitor.watch_exists("/worker").await?;
//!
//! // The worker's session expires: its ephemeral node goes, and the monitor hears of it.
//! ensemble.faults().expire_session(worker.session_id());
//! assert_eq!(watch.await.event_type, EventType::NodeDeleted);
//!
//! // The worker's handle reports the expiry, opens a new session and can rebuild its state.
//! let mut state = worker.session_state();
//! assert_eq!(*state.borrow_and_update(), SessionState::Expired);
//! state.wait_for(|s| *s == SessionState::SyncConnected).await.unwrap();
//! worker.create("/worker", b"idle", &CreateOptions::ephemeral()).await?;
//! # Ok(()) }
//! ```
//!
//! Not modelled yet: quotas, read-only mode, reconfiguration, SASL and x509 authentication
//! (an `add_auth` with those schemes fails like an unknown scheme), and the pre-3.9 quirk of
//! mixing one-shot and persistent watches on one path (the fake behaves like 3.9 there, which is
//! also what our wire client presents on 3.8).
#![forbid(unsafe_code)]

mod acl_check;
mod catch_up;
mod ensemble;
mod faults;
mod lifecycle;
mod ops;
mod session;
mod sweeper;
mod tree;

pub use ensemble::{FakeEnsemble, FakeEnsembleBuilder};
pub use faults::{Fault, Faults, OpKind, OpMatcher};
pub use session::{FakeSession, SessionOptions};
