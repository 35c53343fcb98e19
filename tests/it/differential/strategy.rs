//! Proptest strategies for the differential test: operation sequences over three session slots
//! and a small alphabet of paths below the case's root, so that collisions (existing nodes,
//! missing or ephemeral parents, non-empty nodes, stale versions, refused ACLs) are frequent.

use std::fmt;
use std::time::Duration;

use proptest::prelude::*;
use proptest::sample::select;
use zk_core::{Acl, CreateMode, CreateOptions, Id, Perms};

/// How many session slots a sequence uses on each backend.
pub(crate) const SLOTS: usize = 3;

/// The longest generated sequence.
pub(crate) const MAX_STEPS: usize = 40;

/// The slot whose sessions authenticate as [`USER`] (the others are anonymous).
pub(crate) const AUTHENTICATED_SLOT: usize = 0;

/// The digest user of [`AUTHENTICATED_SLOT`] and of the harness's own observer session.
pub(crate) const USER: &str = "diff-user";

/// The password of [`USER`].
pub(crate) const PASSWORD: &str = "diff-secret";

/// The TTL of TTL nodes: a day, so nothing expires while a case runs.
pub(crate) const TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Paths below the root, repeated to weight them: top-level nodes most often, so that parents
/// exist about as often as not.
/// `/a/s-0000000001` and `/s-0000000000` are names the sequential creates of `/a/s-` and `/s-`
/// run into.
const PATHS: [&str; 15] = [
    "/a",
    "/a",
    "/a",
    "/a",
    "/b",
    "/b",
    "/b",
    "/a/b",
    "/a/b",
    "/a/c",
    "/b/a",
    "/a/b/c",
    "/c",
    "/a/s-0000000001",
    "/s-0000000000",
];

/// Extra paths for creates: sequential prefixes, one ending in `/` (valid only for a sequential
/// create; a plain create of it is refused by the client on both backends).
const CREATE_PREFIXES: [&str; 3] = ["/a/s-", "/s-", "/a/"];

const DATA: [&[u8]; 3] = [b"", b"x", b"hello"];

/// A path to operate on, relative to the case's root.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The root itself.
    Root,
    /// A fixed path below the root.
    Path(&'static str),
    /// The i-th sequential node created so far (modulo their number; `/a` if none yet).
    Sequential(usize),
    /// The i-th node created so far, of any mode (modulo their number; `/a` if none yet), so
    /// that operations often find their node.
    Created(usize),
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Root => write!(f, "root"),
            Target::Path(p) => write!(f, "{p:?}"),
            Target::Sequential(i) => write!(f, "seq#{i}"),
            Target::Created(i) => write!(f, "created#{i}"),
        }
    }
}

/// Every create mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Persistent,
    Ephemeral,
    PersistentSequential,
    EphemeralSequential,
    Container,
    Ttl,
    TtlSequential,
}

impl Mode {
    pub(crate) fn create_mode(self) -> CreateMode {
        match self {
            Mode::Persistent => CreateMode::Persistent,
            Mode::Ephemeral => CreateMode::Ephemeral,
            Mode::PersistentSequential => CreateMode::PersistentSequential,
            Mode::EphemeralSequential => CreateMode::EphemeralSequential,
            Mode::Container => CreateMode::Container,
            Mode::Ttl => CreateMode::PersistentWithTtl,
            Mode::TtlSequential => CreateMode::PersistentSequentialWithTtl,
        }
    }

    pub(crate) fn options(self, acl: AclChoice) -> CreateOptions {
        let mode = self.create_mode();
        let options = CreateOptions::new(mode).with_acl(acl.acl());
        if mode.is_ttl() {
            options.with_ttl(TTL)
        } else {
            options
        }
    }
}

/// The ACLs a create or set_acl uses.
///
/// Every choice leaves [`USER`] able to do everything, so the harness's observer session
/// (authenticated as [`USER`]) can always read and remove the whole tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AclChoice {
    /// `world:anyone` ALL.
    Open,
    /// `world:anyone` READ, plus ALL for [`USER`].
    ReadOnly,
    /// `world:anyone` everything but DELETE, plus ALL for [`USER`].
    NoDelete,
    /// `auth:` ALL plus `world:anyone` READ: expanded to [`USER`] for the authenticated slot,
    /// refused with `InvalidAcl` for anonymous sessions.
    Creator,
    /// ALL for [`USER`] only: anonymous sessions may not even read, so they must not hear of
    /// changes to the node either (the fake once notified them anyway, as unpatched 3.8.0 did;
    /// the server under test, Debian's 3.8.0 with the CVE-2024-23944 fix, does not).
    UserOnly,
    /// `auth:` ALL (`CREATOR_ALL_ACL`).
    CreatorOnly,
}

impl AclChoice {
    pub(crate) fn acl(self) -> Vec<Acl> {
        let user = Acl::new(Perms::ALL, Id::digest(USER, PASSWORD));
        let read = Acl::new(Perms::READ, Id::anyone());
        match self {
            AclChoice::Open => Acl::open_unsafe(),
            AclChoice::ReadOnly => vec![read, user],
            AclChoice::NoDelete => vec![Acl::new(Perms::ALL - Perms::DELETE, Id::anyone()), user],
            AclChoice::Creator => vec![Acl::new(Perms::ALL, Id::authenticated()), read],
            AclChoice::UserOnly => vec![user],
            AclChoice::CreatorOnly => Acl::creator_all(),
        }
    }
}

/// One operation of a `multi`.
#[derive(Debug, Clone)]
pub(crate) enum MultiOp {
    Create {
        path: Target,
        data: &'static [u8],
        mode: Mode,
        acl: AclChoice,
    },
    Delete {
        path: Target,
        version: Option<i32>,
    },
    SetData {
        path: Target,
        data: &'static [u8],
        version: Option<i32>,
    },
    Check {
        path: Target,
        version: Option<i32>,
    },
}

/// One read of a `multi_read`.
#[derive(Debug, Clone)]
pub(crate) enum ReadOpGen {
    GetData(Target),
    GetChildren(Target),
}

/// One step of a sequence; `slot` picks the session.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Create {
        slot: usize,
        path: Target,
        data: &'static [u8],
        mode: Mode,
        acl: AclChoice,
    },
    Delete {
        slot: usize,
        path: Target,
        version: Option<i32>,
    },
    SetData {
        slot: usize,
        path: Target,
        data: &'static [u8],
        version: Option<i32>,
    },
    SetAcl {
        slot: usize,
        path: Target,
        acl: AclChoice,
        version: Option<i32>,
    },
    GetAcl {
        slot: usize,
        path: Target,
    },
    /// `get_data`, or `watch_data` when `watch` is set.
    GetData {
        slot: usize,
        path: Target,
        watch: bool,
    },
    /// `exists`, or `watch_exists` when `watch` is set.
    Exists {
        slot: usize,
        path: Target,
        watch: bool,
    },
    /// `get_children`, or `watch_children` when `watch` is set.
    GetChildren {
        slot: usize,
        path: Target,
        watch: bool,
    },
    /// `get_ephemerals` under the root.
    GetEphemerals {
        slot: usize,
    },
    Multi {
        slot: usize,
        ops: Vec<MultiOp>,
    },
    MultiRead {
        slot: usize,
        ops: Vec<ReadOpGen>,
    },
    /// Close the session, then open a fresh one in the slot.
    Close {
        slot: usize,
    },
    /// Expire the session; the handle renews itself with a new session.
    Expire {
        slot: usize,
    },
}

impl Step {
    /// The slot the step acts through.
    pub(crate) fn slot(&self) -> usize {
        match self {
            Step::Create { slot, .. }
            | Step::Delete { slot, .. }
            | Step::SetData { slot, .. }
            | Step::SetAcl { slot, .. }
            | Step::GetAcl { slot, .. }
            | Step::GetData { slot, .. }
            | Step::Exists { slot, .. }
            | Step::GetChildren { slot, .. }
            | Step::GetEphemerals { slot }
            | Step::Multi { slot, .. }
            | Step::MultiRead { slot, .. }
            | Step::Close { slot }
            | Step::Expire { slot } => *slot,
        }
    }
}

fn slot() -> impl Strategy<Value = usize> {
    0..SLOTS
}

/// A node below the root.
/// A node for a delete: mostly one created earlier.
fn delete_target() -> impl Strategy<Value = Target> {
    prop_oneof![
        1 => below_root(),
        1 => (0..16usize).prop_map(Target::Created),
    ]
}

fn below_root() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => select(&PATHS[..]).prop_map(Target::Path),
        1 => (0..8usize).prop_map(Target::Sequential),
        3 => (0..16usize).prop_map(Target::Created),
    ]
}

/// Any node, the root included (for reads, watches, set_data, set_acl and checks).
fn any_target() -> impl Strategy<Value = Target> {
    prop_oneof![
        8 => below_root(),
        1 => Just(Target::Root),
    ]
}

fn create_target() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => select(&PATHS[..]).prop_map(Target::Path),
        1 => (0..8usize).prop_map(Target::Sequential),
        3 => select(&CREATE_PREFIXES[..]).prop_map(Target::Path),
    ]
}

fn version() -> impl Strategy<Value = Option<i32>> {
    prop_oneof![
        4 => Just(None),
        1 => Just(Some(-1)),
        3 => (0..3).prop_map(Some),
    ]
}

fn data() -> impl Strategy<Value = &'static [u8]> {
    select(&DATA[..])
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        5 => Just(Mode::Persistent),
        3 => Just(Mode::Ephemeral),
        2 => Just(Mode::PersistentSequential),
        2 => Just(Mode::EphemeralSequential),
        2 => Just(Mode::Container),
        1 => Just(Mode::Ttl),
        1 => Just(Mode::TtlSequential),
    ]
}

fn acl() -> impl Strategy<Value = AclChoice> {
    let choices = vec![
        AclChoice::Open,
        AclChoice::Open,
        AclChoice::ReadOnly,
        AclChoice::NoDelete,
        AclChoice::Creator,
        AclChoice::UserOnly,
        AclChoice::CreatorOnly,
    ];
    select(choices)
}

/// Mostly open ACLs on creates, so that most of the tree stays writable.
fn create_acl() -> impl Strategy<Value = AclChoice> {
    prop_oneof![
        8 => Just(AclChoice::Open),
        1 => acl(),
    ]
}

fn multi_op() -> impl Strategy<Value = MultiOp> {
    prop_oneof![
        3 => (create_target(), data(), mode(), create_acl())
            .prop_map(|(path, data, mode, acl)| MultiOp::Create { path, data, mode, acl }),
        2 => (delete_target(), version())
            .prop_map(|(path, version)| MultiOp::Delete { path, version }),
        2 => (any_target(), data(), version())
            .prop_map(|(path, data, version)| MultiOp::SetData { path, data, version }),
        2 => (any_target(), version()).prop_map(|(path, version)| MultiOp::Check { path, version }),
    ]
}

fn read_op() -> impl Strategy<Value = ReadOpGen> {
    prop_oneof![
        any_target().prop_map(ReadOpGen::GetData),
        any_target().prop_map(ReadOpGen::GetChildren),
    ]
}

/// One step, writes weighted over reads, watches and session events.
pub(crate) fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        10 => (slot(), create_target(), data(), mode(), create_acl())
            .prop_map(|(slot, path, data, mode, acl)| Step::Create { slot, path, data, mode, acl }),
        4 => (slot(), delete_target(), version())
            .prop_map(|(slot, path, version)| Step::Delete { slot, path, version }),
        3 => (slot(), any_target(), data(), version())
            .prop_map(|(slot, path, data, version)| Step::SetData { slot, path, data, version }),
        2 => (slot(), any_target(), acl(), version())
            .prop_map(|(slot, path, acl, version)| Step::SetAcl { slot, path, acl, version }),
        1 => (slot(), any_target()).prop_map(|(slot, path)| Step::GetAcl { slot, path }),
        2 => (slot(), any_target(), any::<bool>())
            .prop_map(|(slot, path, watch)| Step::GetData { slot, path, watch }),
        2 => (slot(), any_target(), any::<bool>())
            .prop_map(|(slot, path, watch)| Step::Exists { slot, path, watch }),
        2 => (slot(), any_target(), any::<bool>())
            .prop_map(|(slot, path, watch)| Step::GetChildren { slot, path, watch }),
        1 => slot().prop_map(|slot| Step::GetEphemerals { slot }),
        3 => (slot(), proptest::collection::vec(multi_op(), 0..=4))
            .prop_map(|(slot, ops)| Step::Multi { slot, ops }),
        1 => (slot(), proptest::collection::vec(read_op(), 1..=3))
            .prop_map(|(slot, ops)| Step::MultiRead { slot, ops }),
        1 => slot().prop_map(|slot| Step::Close { slot }),
        1 => slot().prop_map(|slot| Step::Expire { slot }),
    ]
}

/// A sequence of 1 to [`MAX_STEPS`] steps.
pub(crate) fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(step(), 1..=MAX_STEPS)
}
