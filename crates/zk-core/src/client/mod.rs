//! The wire client: a tokio ZooKeeper client speaking the binary protocol to real servers.
//!
//! One session task per client owns the connection: requests from every clone of the handle are
//! pipelined on it in call order and matched to replies by xid; notifications fan out to local
//! watchers; pings keep the session alive; a lost connection moves to the next server and resumes
//! the session, replaying credentials and restoring watches (SetWatches/SetWatches2); an expired
//! session is reported and, unless expiry is terminal, replaced by a new one.

mod backoff;
mod command;
mod connect_string;
mod connection;
mod handle;
mod options;
mod read_write_probe;
mod session;
pub mod transport;

pub use connect_string::{ConnectString, DEFAULT_PORT};
pub use handle::ZkClient;
pub use options::ClientBuilder;
