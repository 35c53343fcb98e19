//! `HarnessError`: why a real ZooKeeper server could not be found, started, probed or stopped.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The command that installs ZooKeeper (and a Java runtime with it) on Debian and Ubuntu.
pub const INSTALL_COMMAND: &str = "apt-get install -y zookeeper";

/// Why the real-server harness failed.
///
/// Messages are lowercase and say what failed where; start-up failures carry the tail of the
/// server's log, so a test that panics with the error shows why the JVM gave up.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// Java or the ZooKeeper jars are missing; the message says how to install them.
    #[error(
        "{what} not found ({looked}); install ZooKeeper and Java with `{INSTALL_COMMAND}` (as root)"
    )]
    NotInstalled {
        /// What is missing, such as `the ZooKeeper server jar`.
        what: String,
        /// Where the harness looked.
        looked: String,
    },
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: Arc<io::Error>,
    },
    /// A four-letter-word probe failed: refused, reset, or no answer within its timeout.
    #[error("four-letter word `{command}` to {address} failed: {source}")]
    FourLetter {
        /// The four-letter word, such as `ruok`.
        command: String,
        /// The server's client address.
        address: SocketAddr,
        /// The underlying error (`TimedOut` or `WouldBlock` when the server did not answer).
        #[source]
        source: Arc<io::Error>,
    },
    /// The server did not start serving (or the ensemble did not elect a leader) in time.
    #[error(
        "{server} did not become ready within {waited:?}: {reason}\n--- last lines of the server log ---\n{log_tail}"
    )]
    StartTimeout {
        /// Which server or ensemble.
        server: String,
        /// How long the harness waited.
        waited: Duration,
        /// What was still missing when time ran out.
        reason: String,
        /// The last lines of the server's log and JVM output.
        log_tail: String,
    },
    /// The JVM exited while the harness waited for it to serve.
    #[error(
        "{server} exited during start-up ({status})\n--- last lines of the server log ---\n{log_tail}"
    )]
    Exited {
        /// Which server.
        server: String,
        /// The exit status.
        status: String,
        /// The last lines of the server's log and JVM output.
        log_tail: String,
        /// Whether the log shows a port that was already taken (the harness retries then).
        address_in_use: bool,
    },
    /// The operation needs a running server, and this one is stopped or killed.
    #[error("{server} is not running")]
    NotRunning {
        /// Which server.
        server: String,
    },
    /// The operation needs a stopped server, and this one is running.
    #[error("{server} is already running")]
    AlreadyRunning {
        /// Which server.
        server: String,
    },
}

impl HarnessError {
    /// Wraps an I/O error with what the harness was doing.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> HarnessError {
        HarnessError::Io {
            context: context.into(),
            source: Arc::new(source),
        }
    }

    /// True for a four-letter word the server did not answer in time (a paused server, say).
    pub fn is_timeout(&self) -> bool {
        match self {
            HarnessError::FourLetter { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ),
            _ => false,
        }
    }

    /// True when start-up failed because a port was taken, which a retry on other ports fixes.
    pub(crate) fn is_address_in_use(&self) -> bool {
        matches!(
            self,
            HarnessError::Exited {
                address_in_use: true,
                ..
            }
        )
    }
}

/// The harness's result type.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_installed_says_how_to_install() {
        let err = HarnessError::NotInstalled {
            what: "java".into(),
            looked: "PATH".into(),
        };
        let message = err.to_string();
        assert!(
            message.contains("apt-get install -y zookeeper"),
            "{message}"
        );
        assert!(message.starts_with("java not found"), "{message}");
    }

    #[test]
    fn timeouts_are_recognised() {
        let address: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let probe = |kind| HarnessError::FourLetter {
            command: "ruok".into(),
            address,
            source: Arc::new(io::Error::from(kind)),
        };
        assert!(probe(io::ErrorKind::TimedOut).is_timeout());
        assert!(probe(io::ErrorKind::WouldBlock).is_timeout());
        assert!(!probe(io::ErrorKind::ConnectionRefused).is_timeout());
        assert!(!HarnessError::io("x", io::Error::from(io::ErrorKind::TimedOut)).is_timeout());
    }
}
