//! Proptest strategies: random operation sequences over a few sessions and a small path
//! alphabet, so that collisions (existing nodes, missing parents, ephemeral parents, non-empty
//! nodes, stale versions) are frequent.

use proptest::prelude::*;
use proptest::sample::select;

use crate::model::Mode;

/// How many session slots a sequence uses.
pub(crate) const SESSIONS: usize = 3;

/// The longest generated sequence.
pub(crate) const MAX_STEPS: usize = 40;

/// Paths of every operation, repeated to weight them: top-level nodes most often, so that
/// parents exist about as often as not.
const PATHS: [&str; 12] = [
    "/a", "/a", "/a", "/a", "/b", "/b", "/b", "/a/b", "/a/b", "/b/x", "/b/x", "/a/b/c",
];

/// Explicit names that the sequential creates of `/a/s` under `/a` run into (the counter
/// reaches 1 or 2 after one or two other children), giving NodeExists on a sequential create.
///
/// A real server's error reply has no body (protocol reference 5.2), so the error can only name
/// the requested path (`/a/s`), never the suffixed one; the fake once got this wrong.
const SEQUENTIAL_COLLISIONS: [&str; 2] = ["/a/s0000000001", "/a/s0000000002"];

/// Extra paths for creates: sequential prefixes, including one ending in `/` (valid only for a
/// sequential create; a plain create of it is refused by the client).
const CREATE_PREFIXES: [&str; 3] = ["/a/s", "/a/", "/s"];

const DATA: [&[u8]; 3] = [b"", b"x", b"hello"];

const EPHEMERAL_PREFIXES: [&str; 3] = ["/", "/a", "/b"];

/// A path to operate on: fixed, or one of the sequential nodes created so far.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Path(&'static str),
    /// The i-th sequential node created so far (modulo their number; `/a` if none yet).
    Sequential(usize),
}

/// A write as generated, before its target is resolved.
#[derive(Debug, Clone)]
pub(crate) enum GenWrite {
    Create {
        path: Target,
        data: &'static [u8],
        mode: Mode,
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
    /// Generated only inside a multi.
    Check {
        path: Target,
        version: Option<i32>,
    },
}

/// One step of a sequence; `slot` picks the session handle.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// A standalone create, delete or set_data (never a check).
    Write {
        slot: usize,
        write: GenWrite,
    },
    SetAcl {
        slot: usize,
        path: Target,
        version: Option<i32>,
    },
    Multi {
        slot: usize,
        ops: Vec<GenWrite>,
    },
    GetData {
        slot: usize,
        path: Target,
    },
    Exists {
        slot: usize,
        path: Target,
    },
    GetChildren {
        slot: usize,
        path: Target,
    },
    GetEphemerals {
        slot: usize,
        prefix: &'static str,
    },
    /// Close the session, then open a fresh one in the slot.
    Close {
        slot: usize,
    },
    /// Expire the session; the handle renews itself with a new session id.
    Expire {
        slot: usize,
    },
}

fn slot() -> impl Strategy<Value = usize> {
    0..SESSIONS
}

fn paths() -> Vec<&'static str> {
    let mut paths = PATHS.to_vec();
    // Listed twice so collisions are frequent enough to be found.
    paths.extend(SEQUENTIAL_COLLISIONS);
    paths.extend(SEQUENTIAL_COLLISIONS);
    paths
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        5 => select(paths()).prop_map(Target::Path),
        1 => (0..8usize).prop_map(Target::Sequential),
    ]
}

fn create_target() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => target(),
        2 => select(&CREATE_PREFIXES[..]).prop_map(Target::Path),
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
        3 => Just(Mode::Persistent),
        2 => Just(Mode::Ephemeral),
        1 => Just(Mode::PersistentSequential),
        1 => Just(Mode::EphemeralSequential),
    ]
}

fn create() -> impl Strategy<Value = GenWrite> {
    (create_target(), data(), mode()).prop_map(|(path, data, mode)| GenWrite::Create {
        path,
        data,
        mode,
    })
}

fn delete() -> impl Strategy<Value = GenWrite> {
    (target(), version()).prop_map(|(path, version)| GenWrite::Delete { path, version })
}

fn set_data() -> impl Strategy<Value = GenWrite> {
    (target(), data(), version()).prop_map(|(path, data, version)| GenWrite::SetData {
        path,
        data,
        version,
    })
}

fn check() -> impl Strategy<Value = GenWrite> {
    (target(), version()).prop_map(|(path, version)| GenWrite::Check { path, version })
}

fn multi_op() -> impl Strategy<Value = GenWrite> {
    prop_oneof![3 => create(), 2 => delete(), 2 => set_data(), 1 => check()]
}

fn write() -> impl Strategy<Value = GenWrite> {
    prop_oneof![8 => create(), 3 => delete(), 3 => set_data()]
}

/// One step, writes weighted over reads and session events.
pub(crate) fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        13 => (slot(), write()).prop_map(|(slot, write)| Step::Write { slot, write }),
        1 => (slot(), target(), version())
            .prop_map(|(slot, path, version)| Step::SetAcl { slot, path, version }),
        3 => (slot(), proptest::collection::vec(multi_op(), 0..=4))
            .prop_map(|(slot, ops)| Step::Multi { slot, ops }),
        1 => (slot(), target()).prop_map(|(slot, path)| Step::GetData { slot, path }),
        1 => (slot(), target()).prop_map(|(slot, path)| Step::Exists { slot, path }),
        1 => (slot(), target()).prop_map(|(slot, path)| Step::GetChildren { slot, path }),
        1 => (slot(), select(&EPHEMERAL_PREFIXES[..]))
            .prop_map(|(slot, prefix)| Step::GetEphemerals { slot, prefix }),
        1 => slot().prop_map(|slot| Step::Close { slot }),
        1 => slot().prop_map(|slot| Step::Expire { slot }),
    ]
}

/// A sequence of 1 to [`MAX_STEPS`] steps.
pub(crate) fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(step(), 1..=MAX_STEPS)
}
