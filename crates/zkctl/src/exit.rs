//! Exit codes, and the one error a command fails with: a line for standard error and its
//! code. The codes are listed in `zkctl --help`.

use std::fmt;

use zk_core::Error;

/// A command failed for a reason not listed below.
pub(crate) const OTHER: u8 = 1;
/// Bad usage: arguments clap refuses, an invalid path, bad ACL text, data too large.
pub(crate) const USAGE: u8 = 2;
/// The node does not exist.
pub(crate) const NO_NODE: u8 = 3;
/// A version or existence conflict: `BadVersion`, `NodeExists`, `NotEmpty`.
pub(crate) const CONFLICT: u8 = 4;
/// ZooKeeper cannot be reached, or the connection or session failed.
pub(crate) const UNAVAILABLE: u8 = 5;
/// Authentication or permission refused.
pub(crate) const DENIED: u8 = 6;
/// A wait with `--timeout` ran out.
pub(crate) const TIMED_OUT: u8 = 7;
/// The lock, permit or leadership was lost while the command ran; it was stopped.
pub(crate) const LOST: u8 = 8;
/// The command could not be run (not executable, say).
pub(crate) const CANNOT_RUN: u8 = 126;
/// The command was not found.
pub(crate) const NOT_FOUND: u8 = 127;

/// Why a command failed: one line, and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CliError {
    /// The exit code.
    pub(crate) code: u8,
    /// What to print (after `zkctl: `).
    pub(crate) message: String,
}

/// What a command ends with: its exit code, or why it failed.
pub(crate) type Outcome = Result<u8, CliError>;

impl CliError {
    /// A failure with `code`.
    pub(crate) fn new(code: u8, message: impl Into<String>) -> CliError {
        CliError {
            code,
            message: message.into(),
        }
    }

    /// Bad usage.
    pub(crate) fn usage(message: impl Into<String>) -> CliError {
        CliError::new(USAGE, message)
    }

    /// Any other failure.
    pub(crate) fn other(message: impl Into<String>) -> CliError {
        CliError::new(OTHER, message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit code of a ZooKeeper error.
pub(crate) fn code_of(error: &Error) -> u8 {
    match error.root() {
        Error::NoNode { .. } => NO_NODE,
        Error::NodeExists { .. } | Error::BadVersion { .. } | Error::NotEmpty { .. } => CONFLICT,
        Error::InvalidPath { .. }
        | Error::InvalidAcl { .. }
        | Error::BadArguments(_)
        | Error::TooLarge { .. }
        | Error::NoChildrenForEphemerals { .. } => USAGE,
        Error::NoAuth { .. } | Error::AuthFailed | Error::SessionClosedRequireSaslAuth => DENIED,
        Error::ConnectionLoss
        | Error::OperationTimeout
        | Error::RequestTimeout
        | Error::SessionExpired
        | Error::SessionMoved
        | Error::Closed
        | Error::NotReadOnly
        | Error::Io(_)
        | Error::Protocol(_) => UNAVAILABLE,
        _ => OTHER,
    }
}

impl From<Error> for CliError {
    fn from(error: Error) -> CliError {
        let message = match error.root() {
            // The bare error says "may or may not have been applied", which confuses a reader
            // of a read; say what happened.
            Error::ConnectionLoss => {
                "the connection to ZooKeeper was lost (a write may or may not have been applied)"
                    .to_owned()
            }
            _ => error.to_string(),
        };
        CliError::new(code_of(&error), message)
    }
}

impl From<std::io::Error> for CliError {
    fn from(error: std::io::Error) -> CliError {
        CliError::other(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_documented_codes() {
        let no_node = Error::NoNode { path: "/a".into() };
        assert_eq!(CliError::from(no_node.clone()).code, NO_NODE);
        let multi = Error::Multi {
            index: 1,
            source: Box::new(no_node),
        };
        assert_eq!(code_of(&multi), NO_NODE);
        assert_eq!(code_of(&Error::ConnectionLoss), UNAVAILABLE);
        assert_eq!(code_of(&Error::AuthFailed), DENIED);
        assert_eq!(code_of(&Error::BadArguments("x")), USAGE);
        assert_eq!(code_of(&Error::SystemError), OTHER);
    }
}
