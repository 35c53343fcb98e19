//! The one error type shared by every backend and recipe, with ZooKeeper's error codes.

use std::sync::Arc;

/// A specialised `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to ZooKeeper, through any backend.
///
/// Server errors mirror ZooKeeper's error codes one to one ([`Error::code`] gives the code back).
/// Client-side failures (invalid arguments caught before sending, a closed handle, garbage from the
/// network) have variants of their own.
/// Decide on retries with [`Error::is_retryable`] and [`Error::is_session_fatal`] rather than by
/// matching variants.
///
/// The type is `Clone + Eq` so that one failure can be handed to many waiters and compared in tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The node does not exist (`NONODE`, -101).
    #[error("node {path} does not exist")]
    NoNode {
        /// The path that was not found.
        path: String,
    },
    /// The node already exists (`NODEEXISTS`, -110).
    #[error("node {path} already exists")]
    NodeExists {
        /// The path that exists.
        path: String,
    },
    /// The expected version did not match (`BADVERSION`, -103).
    #[error("version of {path} is not {expected}")]
    BadVersion {
        /// The node whose version differed.
        path: String,
        /// The version the caller expected.
        expected: i32,
    },
    /// The node has children and cannot be deleted (`NOTEMPTY`, -111).
    #[error("node {path} has children")]
    NotEmpty {
        /// The node that is not empty.
        path: String,
    },
    /// Ephemeral nodes cannot have children (`NOCHILDRENFOREPHEMERALS`, -108).
    #[error("cannot create {path}: its parent is ephemeral")]
    NoChildrenForEphemerals {
        /// The path whose creation was refused.
        path: String,
    },
    /// The caller lacks the permission the operation needs (`NOAUTH`, -102).
    #[error("not authorised for {path}")]
    NoAuth {
        /// The node whose ACL refused the operation.
        path: String,
    },
    /// The ACL is empty or invalid (`INVALIDACL`, -114).
    #[error("invalid acl for {path}")]
    InvalidAcl {
        /// The node the ACL was meant for.
        path: String,
    },
    /// The server rejected the request's arguments (`BADARGUMENTS`, -8).
    #[error("bad arguments: {0}")]
    BadArguments(&'static str),
    /// The path breaks ZooKeeper's path rules; caught before anything was sent.
    #[error("invalid path {path:?}: {reason}")]
    InvalidPath {
        /// The offending path.
        path: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// The request would exceed the packet size limit (`jute.maxbuffer`); nothing was sent.
    #[error("request for {path} is {size} bytes, over the {limit} byte limit")]
    TooLarge {
        /// The path of the request.
        path: String,
        /// The encoded size of the request in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A `multi` transaction failed at operation `index`; nothing was applied.
    #[error("multi failed at operation {index}: {source}")]
    Multi {
        /// The index of the first failing operation.
        index: usize,
        /// Why that operation failed.
        source: Box<Error>,
    },
    /// The connection was lost while the request was pending (`CONNECTIONLOSS`, -4).
    ///
    /// A write may or may not have been applied.
    #[error("connection lost; the request may or may not have been applied")]
    ConnectionLoss,
    /// The operation timed out on the client (`OPERATIONTIMEOUT`, -7).
    #[error("operation timed out")]
    OperationTimeout,
    /// The request timed out on the client (`REQUESTTIMEOUT`, -122).
    #[error("request timed out")]
    RequestTimeout,
    /// The session has expired (`SESSIONEXPIRED`, -112); its ephemeral nodes and watches are gone.
    #[error("session expired")]
    SessionExpired,
    /// The session moved to another server (`SESSIONMOVED`, -118).
    #[error("session moved to another server")]
    SessionMoved,
    /// Authentication failed (`AUTHFAILED`, -115); the handle is no longer usable.
    #[error("authentication failed")]
    AuthFailed,
    /// The server requires SASL authentication first (`SESSIONCLOSEDREQUIRESASLAUTH`, -124).
    #[error("the server requires authentication before any request")]
    SessionClosedRequireSaslAuth,
    /// The handle was closed by the application.
    #[error("the session handle is closed")]
    Closed,
    /// The operation is not implemented by this server or backend (`UNIMPLEMENTED`, -6).
    #[error("{operation} is not implemented by this server or backend")]
    Unimplemented {
        /// The operation that is not available.
        operation: &'static str,
    },
    /// A write was sent to a read-only server (`NOTREADONLY`, -119).
    #[error("the server is read-only")]
    NotReadOnly,
    /// No watch of that kind exists for the path (`NOWATCHER`, -121).
    #[error("no watch on {path}")]
    NoWatcher {
        /// The path that had no watch.
        path: String,
    },
    /// A hard quota was exceeded (`QUOTAEXCEEDED`, -125).
    #[error("quota exceeded for {path}")]
    QuotaExceeded {
        /// The path whose quota was exceeded.
        path: String,
    },
    /// The server dropped the request because it is throttling (`THROTTLEDOP`, -127).
    #[error("request throttled by the server")]
    Throttled,
    /// An ephemeral create on a local session (`EPHEMERALONLOCALSESSION`, -120).
    #[error("ephemeral nodes need a global session")]
    EphemeralOnLocalSession,
    /// Reconfiguration is disabled on the server (`RECONFIGDISABLED`, -123).
    #[error("reconfiguration is disabled")]
    ReconfigDisabled,
    /// Another reconfiguration is running (`RECONFIGINPROGRESS`, -14).
    #[error("another reconfiguration is in progress")]
    ReconfigInProgress,
    /// The new configuration has no quorum (`NEWCONFIGNOQUORUM`, -13).
    #[error("the new configuration has no quorum")]
    NewConfigNoQuorum,
    /// The server could not decode the request (`MARSHALLINGERROR`, -5).
    #[error("the server could not decode the request")]
    MarshallingError,
    /// In a failed multi: this operation was not attempted (`RUNTIMEINCONSISTENCY`, -2).
    #[error("operation not attempted")]
    RuntimeInconsistency,
    /// The server found inconsistent data (`DATAINCONSISTENCY`, -3).
    #[error("the server found inconsistent data")]
    DataInconsistency,
    /// A generic server error (`SYSTEMERROR`, -1).
    #[error("server system error")]
    SystemError,
    /// The session is unknown to the server (`UNKNOWNSESSION`, -12).
    #[error("unknown session")]
    UnknownSession,
    /// A server error code this client does not know.
    #[error("server error code {code}")]
    Other {
        /// The raw ZooKeeper error code.
        code: i32,
    },
    /// The peer broke the protocol: undecodable bytes, a bad length, an unexpected reply.
    #[error("protocol error: {0}")]
    Protocol(Arc<str>),
    /// An I/O error on the connection.
    #[error("i/o error: {0}")]
    Io(Arc<str>),
}

impl Error {
    /// Builds the error for ZooKeeper error `code` in a request for `path`.
    ///
    /// `expected_version` fills [`Error::BadVersion`]; `operation` names the request for
    /// [`Error::Unimplemented`].
    /// Returns `None` for code 0 (success).
    pub fn from_code(
        code: i32,
        path: &str,
        expected_version: i32,
        operation: &'static str,
    ) -> Option<Error> {
        let path = || path.to_owned();
        Some(match code {
            0 => return None,
            -1 => Error::SystemError,
            -2 => Error::RuntimeInconsistency,
            -3 => Error::DataInconsistency,
            -4 => Error::ConnectionLoss,
            -5 => Error::MarshallingError,
            -6 => Error::Unimplemented { operation },
            -7 => Error::OperationTimeout,
            -8 => Error::BadArguments("rejected by the server"),
            -12 => Error::UnknownSession,
            -13 => Error::NewConfigNoQuorum,
            -14 => Error::ReconfigInProgress,
            -101 => Error::NoNode { path: path() },
            -102 => Error::NoAuth { path: path() },
            -103 => Error::BadVersion {
                path: path(),
                expected: expected_version,
            },
            -108 => Error::NoChildrenForEphemerals { path: path() },
            -110 => Error::NodeExists { path: path() },
            -111 => Error::NotEmpty { path: path() },
            -112 => Error::SessionExpired,
            -114 => Error::InvalidAcl { path: path() },
            -115 => Error::AuthFailed,
            -118 => Error::SessionMoved,
            -119 => Error::NotReadOnly,
            -120 => Error::EphemeralOnLocalSession,
            -121 => Error::NoWatcher { path: path() },
            -122 => Error::RequestTimeout,
            -123 => Error::ReconfigDisabled,
            -124 => Error::SessionClosedRequireSaslAuth,
            -125 => Error::QuotaExceeded { path: path() },
            -127 => Error::Throttled,
            code => Error::Other { code },
        })
    }

    /// The ZooKeeper error code of this error, if it has one.
    ///
    /// Client-only failures ([`Error::InvalidPath`], [`Error::TooLarge`], [`Error::Closed`],
    /// [`Error::Protocol`], [`Error::Io`]) have none; [`Error::Multi`] gives its source's code.
    pub fn code(&self) -> Option<i32> {
        Some(match self {
            Error::SystemError => -1,
            Error::RuntimeInconsistency => -2,
            Error::DataInconsistency => -3,
            Error::ConnectionLoss => -4,
            Error::MarshallingError => -5,
            Error::Unimplemented { .. } => -6,
            Error::OperationTimeout => -7,
            Error::BadArguments(_) => -8,
            Error::UnknownSession => -12,
            Error::NewConfigNoQuorum => -13,
            Error::ReconfigInProgress => -14,
            Error::NoNode { .. } => -101,
            Error::NoAuth { .. } => -102,
            Error::BadVersion { .. } => -103,
            Error::NoChildrenForEphemerals { .. } => -108,
            Error::NodeExists { .. } => -110,
            Error::NotEmpty { .. } => -111,
            Error::SessionExpired => -112,
            Error::InvalidAcl { .. } => -114,
            Error::AuthFailed => -115,
            Error::SessionMoved => -118,
            Error::NotReadOnly => -119,
            Error::EphemeralOnLocalSession => -120,
            Error::NoWatcher { .. } => -121,
            Error::RequestTimeout => -122,
            Error::ReconfigDisabled => -123,
            Error::SessionClosedRequireSaslAuth => -124,
            Error::QuotaExceeded { .. } => -125,
            Error::Throttled => -127,
            Error::Other { code } => *code,
            Error::Multi { source, .. } => return source.code(),
            Error::InvalidPath { .. }
            | Error::TooLarge { .. }
            | Error::Closed
            | Error::Protocol(_)
            | Error::Io(_) => return None,
        })
    }

    /// True when the same request may succeed if tried again after the connection recovers.
    ///
    /// Only idempotent requests should be retried blindly: after [`Error::ConnectionLoss`] a write
    /// may already have been applied.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::ConnectionLoss
            | Error::OperationTimeout
            | Error::RequestTimeout
            | Error::SessionMoved
            | Error::Throttled
            | Error::Io(_) => true,
            Error::Multi { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// True when the session is over: its ephemeral nodes and watches are gone, or the handle
    /// can no longer be used.
    pub fn is_session_fatal(&self) -> bool {
        match self {
            Error::SessionExpired
            | Error::AuthFailed
            | Error::Closed
            | Error::SessionClosedRequireSaslAuth => true,
            Error::Multi { source, .. } => source.is_session_fatal(),
            _ => false,
        }
    }

    /// For a failed `multi`, the index of the failing operation.
    pub fn multi_index(&self) -> Option<usize> {
        match self {
            Error::Multi { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// The error itself, or for a failed `multi` the error of the failing operation.
    pub fn root(&self) -> &Error {
        match self {
            Error::Multi { source, .. } => source.root(),
            other => other,
        }
    }

    /// Builds a [`Error::Protocol`] from any message.
    pub fn protocol(message: impl Into<String>) -> Error {
        Error::Protocol(Arc::from(message.into()))
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Io(Arc::from(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_from_code() {
        for code in -130..=0 {
            match Error::from_code(code, "/p", 3, "op") {
                None => assert_eq!(code, 0),
                Some(error) => assert_eq!(error.code(), Some(code), "{error:?}"),
            }
        }
    }

    #[test]
    fn classification() {
        assert!(Error::ConnectionLoss.is_retryable());
        assert!(!Error::ConnectionLoss.is_session_fatal());
        assert!(Error::SessionExpired.is_session_fatal());
        assert!(!Error::SessionExpired.is_retryable());
        let nonode = Error::NoNode { path: "/a".into() };
        assert!(!nonode.is_retryable() && !nonode.is_session_fatal());
        let multi = Error::Multi {
            index: 2,
            source: Box::new(nonode.clone()),
        };
        assert_eq!(multi.multi_index(), Some(2));
        assert_eq!(multi.root(), &nonode);
        assert_eq!(multi.code(), Some(-101));
    }

    #[test]
    fn messages_name_the_path() {
        let error = Error::BadVersion {
            path: "/x".into(),
            expected: 4,
        };
        assert_eq!(error.to_string(), "version of /x is not 4");
    }
}
