//! A real-server test kit: standalone ZooKeeper servers and ensembles in child JVMs, like
//! Curator's `TestingServer` and `TestingCluster`.
//!
//! [`ZkServer::start`] runs one standalone server on a free `127.0.0.1` port with its own
//! temporary data directory; [`ZkEnsemble::start`] runs a quorum.
//! Both wait until the servers answer `ruok` and report a mode through `srvr`, and fail with a
//! [`HarnessError`] that carries the tail of the server log otherwise.
//! Tests kill, restart, pause and resume servers through [`ZkNode`] to exercise connection
//! loss, session expiry and failover.
//!
//! ZooKeeper comes from the Debian package (`apt-get install -y zookeeper`, which also installs
//! Java) or from a release named by `ZOOKEEPER_HOME`. When it is missing, start-up fails with
//! [`HarnessError::NotInstalled`], whose message gives the install command; tests never skip.
//!
//! # Teardown
//! Processes are stopped by their own PIDs, never by name.
//! Dropping a server or ensemble kills its JVMs and removes its directory, so a panicking test
//! cleans up too.
//! For the cases where destructors never run (a `static` server from [`ZkServer::shared`], a
//! test binary killed by a signal), every JVM has a watchdog shell that kills it within about
//! a second of the test process's death and removes the directory.
//!
//! ```no_run
//! use zk_testkit::server::{ZkEnsemble, ZkServer};
//!
//! // One server per test binary, for tests that leave it running:
//! let shared = ZkServer::shared();
//! assert_eq!(shared.four_letter("ruok").unwrap(), "imok");
//!
//! // A private server for a crash-and-recover test:
//! let server = ZkServer::builder().config_line("maxSessionTimeout=8000").start().unwrap();
//! server.kill();
//! server.restart().unwrap();
//!
//! // An ensemble for failover:
//! let ensemble = ZkEnsemble::start(3).unwrap();
//! println!("{}", ensemble.connect_string());
//! ```

mod config;
mod ensemble;
mod error;
mod four_letter;
mod install;
mod node;
mod ports;
mod process;
mod scratch;
mod standalone;
mod watchdog;

pub use ensemble::{ZkEnsemble, ZkEnsembleBuilder};
pub use error::{HarnessError, INSTALL_COMMAND, Result};
pub use four_letter::{DEFAULT_FOUR_LETTER_TIMEOUT, Mode, four_letter, srvr_field};
pub use install::{Installation, QUORUM_MAIN, STANDALONE_MAIN, ZOOKEEPER_HOME_VAR};
pub use node::ZkNode;
pub use standalone::{ZkServer, ZkServerBuilder};

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn handles_can_be_shared_between_threads() {
        // A `static` shared server needs `Sync`; tests hand nodes to threads.
        send_sync::<ZkServer>();
        send_sync::<ZkEnsemble>();
        send_sync::<ZkNode>();
        send_sync::<HarnessError>();
        assert_eq!(INSTALL_COMMAND, "apt-get install -y zookeeper");
    }
}
