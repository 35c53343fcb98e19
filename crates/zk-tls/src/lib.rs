//! TLS for the zk-recipes ZooKeeper wire client, through zk-core's transport seam
//! (`zk_core::client::transport::Connect`): rustls with the ring provider, no OpenSSL. A
//! separate crate, so that builds that do not want TLS never compile it.
//!
//! Talk to the servers' secure client port (`secureClientPort`, served through Netty) with
//! trusted CAs, optionally a client certificate (mutual TLS); the servers' certificates must
//! carry the host's name (or the one given with [`TlsOptions::server_name`]).
//!
//! ```no_run
//! use zk_core::client::ZkClient;
//! use zk_core::Coordinator;
//! use zk_tls::TlsOptions;
//!
//! # async fn demo() -> zk_core::Result<()> {
//! let ca = std::fs::read("/etc/zookeeper/ca.pem").unwrap();
//! let zk = ZkClient::builder("zk1.example.com:2281,zk2.example.com:2281")?
//!     .connector(TlsOptions::new().ca_pem(&ca)?.connector()?)
//!     .connect()
//!     .await?;
//! zk.exists("/").await?;
//! # Ok(()) }
//! ```
//!
//! A first connect that cannot get a session reports the latest attempt's failure, which for
//! a TLS problem is an `Io` error naming it (an unknown issuer, an expired certificate, a
//! name mismatch), within the session timeout.
#![forbid(unsafe_code)]

mod options;
#[cfg(feature = "test-ca")]
mod test_ca;

pub use options::{TlsConnector, TlsOptions};
#[cfg(feature = "test-ca")]
pub use test_ca::TestCa;
