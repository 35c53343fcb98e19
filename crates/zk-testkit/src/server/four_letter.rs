//! Four-letter-word probes (`ruok`, `srvr`, `stat`, `mntr`, …) over a plain TCP connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use zk_core::four_letter::four_letter_word;

use super::error::{HarnessError, Result};

/// How long a four-letter word may take unless the caller says otherwise.
pub const DEFAULT_FOUR_LETTER_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends the four-letter word `command` to `address` and returns the whole answer (see
/// [`zk_core::four_letter::four_letter_word`], which does the exchange).
///
/// Connecting, writing and reading together take at most `timeout`.
///
/// # Errors
/// [`HarnessError::FourLetter`]: refused (server down), reset, or no answer in time (a paused
/// server accepts the connection in the kernel but never replies; see
/// [`HarnessError::is_timeout`]).
pub fn four_letter(address: SocketAddr, command: &str, timeout: Duration) -> Result<String> {
    four_letter_word(address, command, timeout).map_err(|source| HarnessError::FourLetter {
        command: command.to_owned(),
        address,
        source: Arc::new(source),
    })
}

/// What `srvr` says a server is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A standalone server.
    Standalone,
    /// The ensemble's leader.
    Leader,
    /// An ensemble follower.
    Follower,
    /// An observer.
    Observer,
    /// A read-only server cut off from its quorum.
    ReadOnly,
}

impl Mode {
    /// Reads the `Mode:` line of a `srvr` or `stat` answer; `None` while the server is not
    /// serving ("This ZooKeeper instance is not currently serving requests").
    pub fn from_srvr(answer: &str) -> Option<Mode> {
        let mode = srvr_field(answer, "Mode")?;
        match mode {
            "standalone" => Some(Mode::Standalone),
            "leader" => Some(Mode::Leader),
            "follower" => Some(Mode::Follower),
            "observer" => Some(Mode::Observer),
            "read-only" => Some(Mode::ReadOnly),
            _ => None,
        }
    }
}

/// The value of a `Key: value` line in a `srvr` or `stat` answer.
pub fn srvr_field<'a>(answer: &'a str, key: &str) -> Option<&'a str> {
    answer.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};

    const SRVR: &str = "Zookeeper version: 3.8.0-debian--1, built on 2024-06-16 12:00 UTC\n\
        Latency min/avg/max: 0/0.0/0\nReceived: 3\nSent: 2\nConnections: 1\nOutstanding: 0\n\
        Zxid: 0x200000003\nMode: follower\nNode count: 5\n";

    #[test]
    fn srvr_fields_parse() {
        assert_eq!(Mode::from_srvr(SRVR), Some(Mode::Follower));
        assert_eq!(srvr_field(SRVR, "Zxid"), Some("0x200000003"));
        assert_eq!(srvr_field(SRVR, "Node count"), Some("5"));
        assert_eq!(
            srvr_field(SRVR, "Zookeeper version").map(|v| &v[..5]),
            Some("3.8.0")
        );
        assert_eq!(
            Mode::from_srvr("This ZooKeeper instance is not currently serving requests\n"),
            None
        );
        assert_eq!(Mode::from_srvr("Mode: standalone"), Some(Mode::Standalone));
        assert_eq!(Mode::from_srvr("Mode: leader\n"), Some(Mode::Leader));
    }

    #[test]
    fn a_silent_peer_times_out() {
        // A listener that never accepts: the kernel completes the handshake, nobody answers.
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let address = listener.local_addr().unwrap();
        let err = four_letter(address, "ruok", Duration::from_millis(200)).unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert!(err.to_string().contains("ruok"), "{err}");
    }
}
