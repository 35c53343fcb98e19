//! Backend-independent views of results: paths relative to the case's root, zxids replaced by
//! their order, session ids replaced by session slots, errors reduced to variant and path.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use zk_core::{Acl, Error, EventType, SessionState, Stat, WatchEvent};

/// A result as compared: the value's view, or the error's.
pub(crate) type Res<T> = Result<T, ErrView>;

/// What one backend knows to translate its results: the root, the zxids seen so far, and which
/// slot each session id belonged to.
#[derive(Debug)]
pub(crate) struct Translator {
    root: String,
    zxids: BTreeSet<i64>,
    owners: HashMap<i64, String>,
}

impl Translator {
    pub(crate) fn new(root: &str) -> Translator {
        Translator {
            root: root.to_owned(),
            zxids: BTreeSet::new(),
            owners: HashMap::new(),
        }
    }

    /// Records that `session_id` is generation `generation` of slot `slot`.
    pub(crate) fn name_session(&mut self, session_id: i64, slot: usize, generation: u32) {
        self.owners
            .insert(session_id, format!("slot{slot}.{generation}"));
    }

    /// A path relative to the root (`/` for the root itself).
    pub(crate) fn rel(&self, path: &str) -> String {
        match path.strip_prefix(&self.root) {
            Some("") => "/".to_owned(),
            Some(rest) if rest.starts_with('/') => rest.to_owned(),
            _ => format!("<outside the root> {path}"),
        }
    }

    /// Replaces every mention of the root in `text`.
    fn rel_text(&self, text: &str) -> String {
        text.replace(&format!("{}/", self.root), "/")
            .replace(&self.root, "/")
    }

    fn owner(&self, session_id: i64) -> String {
        match session_id {
            0 => "none".to_owned(),
            id => self
                .owners
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("unknown session {id:#x}")),
        }
    }

    /// The Stat's view; its zxids join the zxids seen so far and are replaced by their rank
    /// among them.
    ///
    /// Both backends see the same operations in the same order, so equal rank sequences mean
    /// the zxids are ordered alike (equal, less, greater) within and across Stats.
    pub(crate) fn stat(&mut self, stat: &Stat) -> StatView {
        for zxid in [stat.czxid, stat.mzxid, stat.pzxid] {
            self.zxids.insert(zxid);
        }
        let rank = |zxid: i64| self.zxids.range(..zxid).count();
        StatView {
            czxid: rank(stat.czxid),
            mzxid: rank(stat.mzxid),
            pzxid: rank(stat.pzxid),
            version: stat.version,
            cversion: stat.cversion,
            aversion: stat.aversion,
            owner: self.owner(stat.ephemeral_owner),
            data_length: stat.data_length,
            num_children: stat.num_children,
        }
    }

    /// Like [`Translator::stat`], but ranking against `zxids` only (for the final tree, whose
    /// Stats are ranked among themselves).
    pub(crate) fn stat_within(&self, stat: &Stat, zxids: &BTreeSet<i64>) -> StatView {
        let rank = |zxid: i64| zxids.range(..zxid).count();
        StatView {
            czxid: rank(stat.czxid),
            mzxid: rank(stat.mzxid),
            pzxid: rank(stat.pzxid),
            version: stat.version,
            cversion: stat.cversion,
            aversion: stat.aversion,
            owner: self.owner(stat.ephemeral_owner),
            data_length: stat.data_length,
            num_children: stat.num_children,
        }
    }

    /// The error's variant and fields, paths relative to the root.
    ///
    /// `BadArguments` messages are dropped: they come from the server on one backend and from
    /// the fake's own text on the other.
    pub(crate) fn error(&self, error: &Error) -> ErrView {
        ErrView(match error {
            Error::BadArguments(_) => "BadArguments".to_owned(),
            Error::Multi { index, source } => {
                format!(
                    "Multi {{ index: {index}, source: {} }}",
                    self.error(source).0
                )
            }
            other => self.rel_text(&format!("{other:?}")),
        })
    }

    pub(crate) fn result<T, V>(
        &mut self,
        result: zk_core::Result<T>,
        view: impl FnOnce(&mut Self, T) -> V,
    ) -> Res<V> {
        match result {
            Ok(value) => Ok(view(self, value)),
            Err(e) => Err(self.error(&e)),
        }
    }

    pub(crate) fn event(&self, event: &WatchEvent) -> EventView {
        EventView {
            event_type: event.event_type,
            state: event.state,
            path: if event.path.is_empty() {
                String::new()
            } else {
                self.rel(&event.path)
            },
        }
    }

    pub(crate) fn acl(&self, acl: &[Acl]) -> Vec<String> {
        acl.iter()
            .map(|a| format!("{}:{}={:#x}", a.id.scheme, a.id.id, a.perms.bits()))
            .collect()
    }

    pub(crate) fn data(data: &[u8]) -> String {
        String::from_utf8_lossy(data).into_owned()
    }
}

/// An error as compared.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ErrView(pub(crate) String);

impl fmt::Debug for ErrView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Stat as compared: zxids as ranks, times left out, the owner as a session slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatView {
    czxid: usize,
    mzxid: usize,
    pzxid: usize,
    version: i32,
    cversion: i32,
    aversion: i32,
    owner: String,
    data_length: i32,
    num_children: i32,
}

/// A watch event as compared.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct EventView {
    event_type: EventType,
    state: SessionState,
    path: String,
}

impl EventView {
    /// `Session(Expired)`.
    pub(crate) fn expired() -> EventView {
        EventView {
            event_type: EventType::Session,
            state: SessionState::Expired,
            path: String::new(),
        }
    }

    /// An event about a node rather than the session.
    pub(crate) fn is_node_event(&self) -> bool {
        self.event_type != EventType::Session
    }

    /// A `NodeDeleted` event.
    pub(crate) fn is_deletion(&self) -> bool {
        self.event_type == EventType::NodeDeleted
    }

    /// Connection-level events (`Disconnected`, `SyncConnected`) that persistent watches report
    /// around reconnects.
    ///
    /// They depend on how a backend injects expiry, not on server semantics: a real client
    /// always loses its connection before it learns of the expiry, while the fake's
    /// `expire_session` ends the session directly.
    pub(crate) fn is_connection_event(&self) -> bool {
        self.event_type == EventType::Session
            && matches!(
                self.state,
                SessionState::Disconnected | SessionState::SyncConnected
            )
    }
}

impl fmt::Debug for EventView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.event_type == EventType::Session {
            write!(f, "Session({:?})", self.state)
        } else {
            write!(f, "{:?}({})", self.event_type, self.path)
        }
    }
}

/// One result of a successful multi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MultiView {
    Create {
        path: String,
        stat: Option<StatView>,
    },
    Delete,
    SetData(StatView),
    Check,
}

/// One result of a multi_read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadView {
    Data(String, StatView),
    Children(Vec<String>),
}

/// What one step returned on one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Create(Res<(String, StatView)>),
    Delete(Res<()>),
    Stat(Res<StatView>),
    Exists(Res<Option<StatView>>),
    Data(Res<(String, StatView)>),
    Children(Res<(Vec<String>, StatView)>),
    Acl(Res<(Vec<String>, StatView)>),
    Ephemerals(Res<Vec<String>>),
    Multi(Res<Vec<MultiView>>),
    MultiRead(Res<Vec<Res<ReadView>>>),
    Session(Res<()>),
}

impl ErrView {
    /// The error's variant (for a failed multi, the failing operation's), for coverage counts.
    fn variant(&self) -> &str {
        let text = self
            .0
            .strip_prefix("Multi {")
            .map_or(self.0.as_str(), |rest| {
                rest.split_once("source: ")
                    .map_or(rest, |(_, source)| source)
            });
        text.split([' ', '{', '(']).next().unwrap_or(text)
    }
}

impl Outcome {
    /// A short label for coverage counts: the kind of step and how it ended.
    pub(crate) fn label(&self) -> String {
        fn of<T>(kind: &str, result: &Res<T>) -> String {
            match result {
                Ok(_) => format!("{kind} ok"),
                Err(e) => format!("{kind} {}", e.variant()),
            }
        }
        match self {
            Outcome::Create(r) => of("create", r),
            Outcome::Delete(r) => of("delete", r),
            Outcome::Stat(r) => of("set_data/set_acl", r),
            Outcome::Exists(Ok(None)) => "exists none".to_owned(),
            Outcome::Exists(r) => of("exists", r),
            Outcome::Data(r) => of("get_data", r),
            Outcome::Children(r) => of("get_children", r),
            Outcome::Acl(r) => of("get_acl", r),
            Outcome::Ephemerals(r) => of("get_ephemerals", r),
            Outcome::Multi(r) => of("multi", r),
            Outcome::MultiRead(r) => of("multi_read", r),
            Outcome::Session(r) => of("close/expire", r),
        }
    }
}

/// One node of the final tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeView {
    pub(crate) data: String,
    pub(crate) stat: StatView,
    pub(crate) acl: Vec<String>,
}
