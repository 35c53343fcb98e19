//! Watch events and session states.

/// What happened to a watched node, or `Session` for a change of session state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// A session event (ZooKeeper's `None`); see [`WatchEvent::state`].
    Session,
    /// The node was created.
    NodeCreated,
    /// The node was deleted.
    NodeDeleted,
    /// The node's data changed.
    NodeDataChanged,
    /// The node's set of children changed.
    NodeChildrenChanged,
    /// A data watch was removed (client-local).
    DataWatchRemoved,
    /// A child watch was removed (client-local).
    ChildWatchRemoved,
    /// A persistent watch was removed (client-local).
    PersistentWatchRemoved,
    /// Client-local, never sent by a server: a persistent watch's queue was full, so events
    /// were dropped; re-read whatever the watch follows. See
    /// [`PersistentWatch`](crate::PersistentWatch).
    Lagged,
}

impl EventType {
    /// The event type's number on the wire.
    pub fn code(self) -> i32 {
        match self {
            EventType::Session => -1,
            EventType::NodeCreated => 1,
            EventType::NodeDeleted => 2,
            EventType::NodeDataChanged => 3,
            EventType::NodeChildrenChanged => 4,
            EventType::DataWatchRemoved => 5,
            EventType::ChildWatchRemoved => 6,
            EventType::PersistentWatchRemoved => 7,
            // No wire number; `from_code` never returns `Lagged`.
            EventType::Lagged => i32::MIN,
        }
    }

    /// The event type for a number on the wire, if it is one.
    pub fn from_code(code: i32) -> Option<EventType> {
        Some(match code {
            -1 => EventType::Session,
            1 => EventType::NodeCreated,
            2 => EventType::NodeDeleted,
            3 => EventType::NodeDataChanged,
            4 => EventType::NodeChildrenChanged,
            5 => EventType::DataWatchRemoved,
            6 => EventType::ChildWatchRemoved,
            7 => EventType::PersistentWatchRemoved,
            _ => return None,
        })
    }
}

/// The state of a session handle's connection and session.
///
/// A handle starts `SyncConnected`.
/// `Disconnected` means suspended: the session may still be alive, but the handle cannot prove it,
/// so recipes stop acting as owners.
/// `Expired` means the session is over: its watches are gone and so are its ephemeral nodes
/// (when a client declares expiry itself, after hearing from no server for a whole session
/// timeout, it ends the session on the server before it opens a new one); unless the handle was
/// built with terminal expiry, it then opens a new session and returns to `SyncConnected` with a
/// new session id.
/// `AuthFailed` and `Closed` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionState {
    /// The connection is down; the session may still be alive at the server.
    Disconnected,
    /// Connected to a server that serves reads and writes.
    SyncConnected,
    /// Connected to a read-only server: reads work, writes fail with `NotReadOnly`.
    ConnectedReadOnly,
    /// The session expired.
    Expired,
    /// Authentication failed; final.
    AuthFailed,
    /// The handle was closed; final.
    Closed,
}

impl SessionState {
    /// True while requests can be served.
    pub fn is_connected(self) -> bool {
        matches!(
            self,
            SessionState::SyncConnected | SessionState::ConnectedReadOnly
        )
    }

    /// True when the session this state belongs to is over (its ephemerals and watches are gone).
    pub fn ends_session(self) -> bool {
        matches!(
            self,
            SessionState::Expired | SessionState::AuthFailed | SessionState::Closed
        )
    }

    /// The error of a handle that has ended for good in this state (`Closed` or
    /// `AuthFailed`); `None` for every other state.
    pub fn terminal_error(self) -> Option<crate::Error> {
        match self {
            SessionState::AuthFailed => Some(crate::Error::AuthFailed),
            SessionState::Closed => Some(crate::Error::Closed),
            _ => None,
        }
    }

    /// True when the handle will never connect again.
    ///
    /// `Expired` is not terminal for a handle that renews its session (the default), but it does
    /// end the session: see [`SessionState::ends_session`].
    pub fn is_terminal(self) -> bool {
        matches!(self, SessionState::AuthFailed | SessionState::Closed)
    }

    /// ZooKeeper's `KeeperState` number.
    pub fn code(self) -> i32 {
        match self {
            SessionState::Disconnected => 0,
            SessionState::SyncConnected => 3,
            SessionState::AuthFailed => 4,
            SessionState::ConnectedReadOnly => 5,
            SessionState::Expired => -112,
            SessionState::Closed => 7,
        }
    }

    /// The state for ZooKeeper's `KeeperState` number, if it is one this client uses.
    pub fn from_code(code: i32) -> Option<SessionState> {
        Some(match code {
            0 => SessionState::Disconnected,
            3 => SessionState::SyncConnected,
            4 => SessionState::AuthFailed,
            5 => SessionState::ConnectedReadOnly,
            -112 => SessionState::Expired,
            7 => SessionState::Closed,
            _ => return None,
        })
    }
}

/// A watch notification: a node event (with the node's path) or a session event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct WatchEvent {
    /// What happened.
    pub event_type: EventType,
    /// The session state when the event was produced (`SyncConnected` for every node event).
    pub state: SessionState,
    /// The node's path, as the application sees it; empty for session events.
    pub path: String,
}

impl WatchEvent {
    /// A node event.
    pub fn node(event_type: EventType, path: impl Into<String>) -> WatchEvent {
        WatchEvent {
            event_type,
            state: SessionState::SyncConnected,
            path: path.into(),
        }
    }

    /// A session event.
    pub fn session(state: SessionState) -> WatchEvent {
        WatchEvent {
            event_type: EventType::Session,
            state,
            path: String::new(),
        }
    }

    /// True for session events.
    pub fn is_session_event(&self) -> bool {
        self.event_type == EventType::Session
    }
}

/// The kind of a persistent watch set with `add_watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddWatchMode {
    /// Data, child and existence events of the node itself, until removed.
    Persistent,
    /// Created, deleted and data events of the node and every descendant, until removed
    /// (never `NodeChildrenChanged`).
    PersistentRecursive,
}

impl AddWatchMode {
    /// The mode's number on the wire.
    pub fn code(self) -> i32 {
        match self {
            AddWatchMode::Persistent => 0,
            AddWatchMode::PersistentRecursive => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in -1..8 {
            if let Some(t) = EventType::from_code(code) {
                assert_eq!(t.code(), code);
            }
        }
        for code in [-112, 0, 3, 4, 5, 7] {
            assert_eq!(SessionState::from_code(code).unwrap().code(), code);
        }
    }

    #[test]
    fn state_classes() {
        assert!(SessionState::SyncConnected.is_connected());
        assert!(!SessionState::Disconnected.is_connected());
        assert!(SessionState::Expired.ends_session());
        assert!(!SessionState::Expired.is_terminal());
        assert!(SessionState::Closed.is_terminal());
    }
}
