//! One proptest strategy for random ZooKeeper operation sequences, shared by the property tests
//! that run them against a backend (the fake's model-based test, the fake-versus-server
//! differential test).
//!
//! A sequence is a list of [`Step`]s, each acting through one of a few session slots. Paths come
//! from a small alphabet, so collisions are frequent: existing nodes, missing and ephemeral
//! parents, non-empty nodes, stale versions, sequential names already taken by an explicit
//! create, trailing-`/` paths that only a sequential create accepts, and refused ACLs.
//!
//! Everything that shapes a sequence (the path alphabet, the data values, the create modes,
//! the versions, the ACL choices and every weight) is defined here once. A test picks what it
//! can interpret with an [`OpStrategy`]: which [`StepKind`]s (and their weights), which create
//! modes, which ACL choices, whether reads may set watches, how many slots and steps.
//!
//! Paths are relative: each test runs a sequence under a base of its choosing (`""` for the
//! whole tree, or a unique root per case), and resolves a [`Target`] against it with
//! [`CreatedNodes::resolve`]. Running a step, and judging its result, is the test's business.
//!
//! ```
//! use proptest::strategy::{Strategy, ValueTree};
//! use proptest::test_runner::TestRunner;
//! use zk_core::CreateMode;
//! use zk_testkit::op_strategy::{AclChoice, OpStrategy, StepKind};
//!
//! // Plain creates, deletes and reads on two sessions, open ACLs only.
//! let ops = OpStrategy::new()
//!     .slots(2)
//!     .without(&[StepKind::Multi, StepKind::MultiRead, StepKind::Expire])
//!     .modes(&[CreateMode::Persistent, CreateMode::Ephemeral])
//!     .acls(&[AclChoice::Open]);
//! let mut runner = TestRunner::deterministic();
//! let steps = ops.steps().new_tree(&mut runner).unwrap().current();
//! assert!(!steps.is_empty());
//! assert!(steps.iter().all(|step| step.slot() < 2 && step.kind() != StepKind::Multi));
//! ```

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::any;
use proptest::strategy::{BoxedStrategy, Just, Strategy, Union};
use zk_core::{Acl, CreateMode, CreateOptions, Id, Op, Perms, ReadOp};

/// The digest user that every non-open [`AclChoice`] grants everything to.
///
/// A test authenticates as this user (`add_auth("digest", "USER:PASSWORD")`) on whichever
/// sessions it wants to hold those rights.
pub const ACL_USER: &str = "ops-user";

/// The password of [`ACL_USER`].
pub const ACL_PASSWORD: &str = "ops-secret";

/// The TTL of generated TTL nodes: a day, so that nothing expires while a sequence runs.
pub const TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Session slots of an [`OpStrategy::new`].
pub const DEFAULT_SLOTS: usize = 3;

/// The longest sequence of an [`OpStrategy::new`].
pub const DEFAULT_MAX_STEPS: usize = 40;

/// Fixed paths with their weights: top-level nodes most often, so that parents exist about as
/// often as not.
const PATHS: [(&str, u32); 7] = [
    ("/a", 4),
    ("/b", 3),
    ("/a/b", 2),
    ("/a/c", 1),
    ("/b/a", 2),
    ("/a/b/c", 1),
    ("/c", 1),
];

/// Names the sequential creates of [`CREATE_PREFIXES`] run into: `/a/s-` under `/a` reaches
/// suffix 1 or 2 after one or two other children, and `/s-` is suffix 0 when it is the first
/// child of the base. A sequential create after an explicit create of one of them, or an
/// explicit create after the sequential one, fails with `NodeExists` (whose error can only
/// name the requested path: a server's error reply has no body).
///
/// Every operation draws them as fixed paths (weight 1 each), and creates draw them once more
/// ([`CREATE_COLLISION_WEIGHT`]), so that such collisions are frequent enough to be found.
const SEQUENTIAL_NAMES: [&str; 3] = ["/a/s-0000000001", "/a/s-0000000002", "/s-0000000000"];

/// The weight of [`SEQUENTIAL_NAMES`] among the targets of a create, against 6 for a fixed
/// path, 1 for [`Target::Sequential`] and 3 for a prefix.
const CREATE_COLLISION_WEIGHT: u32 = 2;

/// Extra paths for creates: sequential prefixes, one ending in `/` (valid only for a
/// sequential create; a plain create of it is refused by the client).
const CREATE_PREFIXES: [&str; 3] = ["/a/s-", "/s-", "/a/"];

/// Prefixes of `get_ephemerals`: the base itself, or a string prefix below it.
const EPHEMERAL_PREFIXES: [Target; 3] = [Target::Root, Target::Path("/a"), Target::Path("/b")];

/// What [`Target::Sequential`] and [`Target::Created`] resolve to before any node was created.
const FALLBACK: &str = "/a";

/// The data values of creates and set_data.
const DATA: [&[u8]; 3] = [b"", b"x", b"hello"];

/// [`Target::Sequential`] indexes are drawn below this.
const SEQUENTIAL_INDEXES: usize = 8;

/// [`Target::Created`] indexes are drawn below this.
const CREATED_INDEXES: usize = 16;

/// Create modes with their weights.
const MODES: [(CreateMode, u32); 7] = [
    (CreateMode::Persistent, 5),
    (CreateMode::Ephemeral, 3),
    (CreateMode::PersistentSequential, 2),
    (CreateMode::EphemeralSequential, 2),
    (CreateMode::Container, 2),
    (CreateMode::PersistentWithTtl, 1),
    (CreateMode::PersistentSequentialWithTtl, 1),
];

/// ACL choices of set_acl with their weights (creates use [`CREATE_OPEN_ACL_WEIGHT`] on top).
const ACLS: [(AclChoice, u32); 6] = [
    (AclChoice::Open, 2),
    (AclChoice::ReadOnly, 1),
    (AclChoice::NoDelete, 1),
    (AclChoice::Creator, 1),
    (AclChoice::UserOnly, 1),
    (AclChoice::CreatorOnly, 1),
];

/// Creates mostly use the open ACL, so that most of the tree stays writable: this weight for
/// [`AclChoice::Open`] against 1 for a draw from [`ACLS`].
const CREATE_OPEN_ACL_WEIGHT: u32 = 8;

/// Step kinds with their weights: writes over reads, watches and session events.
const STEPS: [(StepKind, u32); 13] = [
    (StepKind::Create, 10),
    (StepKind::Delete, 4),
    (StepKind::SetData, 3),
    (StepKind::SetAcl, 2),
    (StepKind::GetAcl, 1),
    (StepKind::GetData, 2),
    (StepKind::Exists, 2),
    (StepKind::GetChildren, 2),
    (StepKind::GetEphemerals, 1),
    (StepKind::Multi, 3),
    (StepKind::MultiRead, 1),
    (StepKind::Close, 1),
    (StepKind::Expire, 1),
];

/// Operations in a multi, often failing, and an empty multi now and then.
const MULTI_LEN: RangeInclusive<usize> = 0..=4;

/// Reads in a multi_read.
const MULTI_READ_LEN: RangeInclusive<usize> = 1..=3;

/// A path to operate on, relative to the base the test runs the sequence under.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The base itself (`/` when the base is the whole tree).
    Root,
    /// A fixed path below the base.
    Path(&'static str),
    /// The i-th distinct sequential node created so far (modulo their number; `/a` if none
    /// yet).
    Sequential(usize),
    /// The i-th distinct node created so far, of any mode (modulo their number; `/a` if none
    /// yet), so that operations often find their node.
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

/// The ACL a create or set_acl uses.
///
/// Every choice leaves [`ACL_USER`] able to do everything (directly, or through `auth:` when
/// the session that creates or sets it is authenticated as that user), so a session
/// authenticated as [`ACL_USER`] can always read and remove the whole tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclChoice {
    /// `world:anyone` ALL.
    Open,
    /// `world:anyone` READ, plus ALL for [`ACL_USER`].
    ReadOnly,
    /// `world:anyone` everything but DELETE, plus ALL for [`ACL_USER`].
    NoDelete,
    /// `auth:` ALL plus `world:anyone` READ: expanded to the session's digest identities, or
    /// refused with `InvalidAcl` for a session that has none.
    Creator,
    /// ALL for [`ACL_USER`] only: other sessions may not even read, nor hear of changes.
    UserOnly,
    /// `auth:` ALL (`CREATOR_ALL_ACL`).
    CreatorOnly,
}

impl AclChoice {
    /// Every choice.
    pub const ALL: [AclChoice; 6] = [
        AclChoice::Open,
        AclChoice::ReadOnly,
        AclChoice::NoDelete,
        AclChoice::Creator,
        AclChoice::UserOnly,
        AclChoice::CreatorOnly,
    ];

    /// The ACL entries of the choice.
    pub fn acl(self) -> Vec<Acl> {
        let user = Acl::new(Perms::ALL, Id::digest(ACL_USER, ACL_PASSWORD));
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

/// The options of a generated create: `mode`, the ACL of `acl`, and [`TTL`] for the TTL modes.
pub fn create_options(mode: CreateMode, acl: AclChoice) -> CreateOptions {
    let options = CreateOptions::new(mode).with_acl(acl.acl());
    if mode.is_ttl() {
        options.with_ttl(TTL)
    } else {
        options
    }
}

/// One operation of a `multi`, with its path still a [`Target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    /// A create.
    Create {
        /// Where (a sequential prefix for the sequential modes).
        path: Target,
        /// The node's data.
        data: &'static [u8],
        /// The create mode.
        mode: CreateMode,
        /// The node's ACL.
        acl: AclChoice,
    },
    /// A delete.
    Delete {
        /// The node.
        path: Target,
        /// The expected version; `None` for any.
        version: Option<i32>,
    },
    /// A set_data.
    SetData {
        /// The node.
        path: Target,
        /// The new data.
        data: &'static [u8],
        /// The expected version; `None` for any.
        version: Option<i32>,
    },
    /// A version check.
    Check {
        /// The node.
        path: Target,
        /// The expected version; `None` for any.
        version: Option<i32>,
    },
}

impl MultiOp {
    /// The [`Op`] to send, with each target turned into a path by `path`.
    pub fn to_op(&self, path: impl Fn(Target) -> String) -> Op {
        match self {
            MultiOp::Create {
                path: target,
                data,
                mode,
                acl,
            } => Op::create(path(*target), *data, create_options(*mode, *acl)),
            MultiOp::Delete {
                path: target,
                version,
            } => Op::delete(path(*target), *version),
            MultiOp::SetData {
                path: target,
                data,
                version,
            } => Op::set_data(path(*target), *data, *version),
            MultiOp::Check {
                path: target,
                version,
            } => Op::check(path(*target), *version),
        }
    }
}

/// One read of a `multi_read`, with its path still a [`Target`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiReadOp {
    /// A get_data.
    GetData(Target),
    /// A get_children.
    GetChildren(Target),
}

impl MultiReadOp {
    /// The [`ReadOp`] to send, with the target turned into a path by `path`.
    pub fn to_read_op(self, path: impl Fn(Target) -> String) -> ReadOp {
        match self {
            MultiReadOp::GetData(target) => ReadOp::get_data(path(target)),
            MultiReadOp::GetChildren(target) => ReadOp::get_children(path(target)),
        }
    }
}

/// The kinds of [`Step`], for enabling and weighting them in an [`OpStrategy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepKind {
    /// [`Step::Create`].
    Create,
    /// [`Step::Delete`].
    Delete,
    /// [`Step::SetData`].
    SetData,
    /// [`Step::SetAcl`].
    SetAcl,
    /// [`Step::GetAcl`].
    GetAcl,
    /// [`Step::GetData`].
    GetData,
    /// [`Step::Exists`].
    Exists,
    /// [`Step::GetChildren`].
    GetChildren,
    /// [`Step::GetEphemerals`].
    GetEphemerals,
    /// [`Step::Multi`].
    Multi,
    /// [`Step::MultiRead`].
    MultiRead,
    /// [`Step::Close`].
    Close,
    /// [`Step::Expire`].
    Expire,
}

impl StepKind {
    /// Every kind.
    pub const ALL: [StepKind; 13] = [
        StepKind::Create,
        StepKind::Delete,
        StepKind::SetData,
        StepKind::SetAcl,
        StepKind::GetAcl,
        StepKind::GetData,
        StepKind::Exists,
        StepKind::GetChildren,
        StepKind::GetEphemerals,
        StepKind::Multi,
        StepKind::MultiRead,
        StepKind::Close,
        StepKind::Expire,
    ];
}

/// One step of a sequence; `slot` picks the session it acts through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A create.
    Create {
        /// The session slot.
        slot: usize,
        /// Where (a sequential prefix for the sequential modes).
        path: Target,
        /// The node's data.
        data: &'static [u8],
        /// The create mode.
        mode: CreateMode,
        /// The node's ACL.
        acl: AclChoice,
    },
    /// A delete.
    Delete {
        /// The session slot.
        slot: usize,
        /// The node.
        path: Target,
        /// The expected version; `None` for any.
        version: Option<i32>,
    },
    /// A set_data.
    SetData {
        /// The session slot.
        slot: usize,
        /// The node.
        path: Target,
        /// The new data.
        data: &'static [u8],
        /// The expected version; `None` for any.
        version: Option<i32>,
    },
    /// A set_acl.
    SetAcl {
        /// The session slot.
        slot: usize,
        /// The node.
        path: Target,
        /// The new ACL.
        acl: AclChoice,
        /// The expected ACL version; `None` for any.
        version: Option<i32>,
    },
    /// A get_acl.
    GetAcl {
        /// The session slot.
        slot: usize,
        /// The node.
        path: Target,
    },
    /// `get_data`, or `watch_data` when `watch` is set.
    GetData {
        /// The session slot.
        slot: usize,
        /// The node.
        path: Target,
        /// Whether to set a one-shot data watch.
        watch: bool,
    },
    /// `exists`, or `watch_exists` when `watch` is set.
    Exists {
        /// The session slot.
        slot: usize,
        /// The node.
        path: Target,
        /// Whether to set a one-shot exists watch.
        watch: bool,
    },
    /// `get_children`, or `watch_children` when `watch` is set.
    GetChildren {
        /// The session slot.
        slot: usize,
        /// The node.
        path: Target,
        /// Whether to set a one-shot children watch.
        watch: bool,
    },
    /// `get_ephemerals`: the session's ephemeral nodes whose path starts with `prefix`.
    GetEphemerals {
        /// The session slot.
        slot: usize,
        /// The prefix: the base, or a path below it taken as a string prefix.
        prefix: Target,
    },
    /// A multi transaction (possibly empty).
    Multi {
        /// The session slot.
        slot: usize,
        /// Its operations.
        ops: Vec<MultiOp>,
    },
    /// A multi_read.
    MultiRead {
        /// The session slot.
        slot: usize,
        /// Its reads.
        ops: Vec<MultiReadOp>,
    },
    /// Close the session, then open a fresh one in the slot.
    Close {
        /// The session slot.
        slot: usize,
    },
    /// Expire the session; the handle renews itself with a new session.
    Expire {
        /// The session slot.
        slot: usize,
    },
}

impl Step {
    /// The slot the step acts through.
    pub fn slot(&self) -> usize {
        match self {
            Step::Create { slot, .. }
            | Step::Delete { slot, .. }
            | Step::SetData { slot, .. }
            | Step::SetAcl { slot, .. }
            | Step::GetAcl { slot, .. }
            | Step::GetData { slot, .. }
            | Step::Exists { slot, .. }
            | Step::GetChildren { slot, .. }
            | Step::GetEphemerals { slot, .. }
            | Step::Multi { slot, .. }
            | Step::MultiRead { slot, .. }
            | Step::Close { slot }
            | Step::Expire { slot } => *slot,
        }
    }

    /// The step's kind.
    pub fn kind(&self) -> StepKind {
        match self {
            Step::Create { .. } => StepKind::Create,
            Step::Delete { .. } => StepKind::Delete,
            Step::SetData { .. } => StepKind::SetData,
            Step::SetAcl { .. } => StepKind::SetAcl,
            Step::GetAcl { .. } => StepKind::GetAcl,
            Step::GetData { .. } => StepKind::GetData,
            Step::Exists { .. } => StepKind::Exists,
            Step::GetChildren { .. } => StepKind::GetChildren,
            Step::GetEphemerals { .. } => StepKind::GetEphemerals,
            Step::Multi { .. } => StepKind::Multi,
            Step::MultiRead { .. } => StepKind::MultiRead,
            Step::Close { .. } => StepKind::Close,
            Step::Expire { .. } => StepKind::Expire,
        }
    }
}

/// The nodes a sequence created so far, in order, to resolve [`Target::Sequential`] and
/// [`Target::Created`]; paths relative to the base.
#[derive(Debug, Clone, Default)]
pub struct CreatedNodes {
    sequential: Vec<String>,
    all: Vec<String>,
}

impl CreatedNodes {
    /// No node created yet.
    pub fn new() -> CreatedNodes {
        CreatedNodes::default()
    }

    /// Notes that a create in `mode` made `path` (relative to the base, with any sequence
    /// suffix); a path noted before keeps its place.
    pub fn record(&mut self, path: &str, mode: CreateMode) {
        if mode.is_sequential() && !self.sequential.iter().any(|p| p == path) {
            self.sequential.push(path.to_owned());
        }
        if !self.all.iter().any(|p| p == path) {
            self.all.push(path.to_owned());
        }
    }

    /// The absolute path of `target` under `base` (`""` for the whole tree).
    pub fn resolve(&self, target: Target, base: &str) -> String {
        let pick = |list: &[String], i: usize| match list.len() {
            0 => FALLBACK.to_owned(),
            n => list[i % n].clone(),
        };
        let relative = match target {
            Target::Root if base.is_empty() => return "/".to_owned(),
            Target::Root => return base.to_owned(),
            Target::Path(p) => p.to_owned(),
            Target::Sequential(i) => pick(&self.sequential, i),
            Target::Created(i) => pick(&self.all, i),
        };
        format!("{base}{relative}")
    }
}

/// Which steps to generate, and how: a builder over the shared alphabet and weights.
///
/// [`OpStrategy::new`] generates everything: every [`StepKind`] at its shared weight, every
/// create mode, every [`AclChoice`], reads with and without watches, [`DEFAULT_SLOTS`] slots,
/// 1 to [`DEFAULT_MAX_STEPS`] steps. The other methods narrow that down to what a test can
/// interpret.
#[derive(Debug, Clone)]
pub struct OpStrategy {
    slots: usize,
    max_steps: usize,
    steps: Vec<(StepKind, u32)>,
    modes: Vec<(CreateMode, u32)>,
    acls: Vec<(AclChoice, u32)>,
    watches: bool,
}

impl Default for OpStrategy {
    fn default() -> Self {
        OpStrategy::new()
    }
}

impl OpStrategy {
    /// Everything, at the shared weights.
    pub fn new() -> OpStrategy {
        OpStrategy {
            slots: DEFAULT_SLOTS,
            max_steps: DEFAULT_MAX_STEPS,
            steps: STEPS.to_vec(),
            modes: MODES.to_vec(),
            acls: ACLS.to_vec(),
            watches: true,
        }
    }

    /// Steps act through slots `0..slots`.
    ///
    /// # Panics
    /// When `slots` is 0.
    pub fn slots(mut self, slots: usize) -> OpStrategy {
        assert!(slots > 0, "a sequence needs a session slot");
        self.slots = slots;
        self
    }

    /// Sequences have 1 to `max_steps` steps.
    ///
    /// # Panics
    /// When `max_steps` is 0.
    pub fn max_steps(mut self, max_steps: usize) -> OpStrategy {
        assert!(max_steps > 0, "a sequence has at least one step");
        self.max_steps = max_steps;
        self
    }

    /// Gives `kind` the weight `weight` instead of its shared one; 0 turns it off.
    pub fn weight(mut self, kind: StepKind, weight: u32) -> OpStrategy {
        for (k, w) in &mut self.steps {
            if *k == kind {
                *w = weight;
            }
        }
        self
    }

    /// Turns off the step kinds `kinds`.
    pub fn without(self, kinds: &[StepKind]) -> OpStrategy {
        kinds.iter().fold(self, |ops, kind| ops.weight(*kind, 0))
    }

    /// Creates (standalone and in multi) use only `modes`, at their shared weights.
    ///
    /// # Panics
    /// When `modes` is empty.
    pub fn modes(mut self, modes: &[CreateMode]) -> OpStrategy {
        assert!(!modes.is_empty(), "creates need a mode");
        self.modes.retain(|(mode, _)| modes.contains(mode));
        self
    }

    /// Creates and set_acl use only `acls`, at their shared weights.
    ///
    /// # Panics
    /// When `acls` is empty.
    pub fn acls(mut self, acls: &[AclChoice]) -> OpStrategy {
        assert!(!acls.is_empty(), "creates need an ACL");
        self.acls.retain(|(acl, _)| acls.contains(acl));
        self
    }

    /// Whether get_data, exists and get_children may set a one-shot watch (half of them do);
    /// without, `watch` is always false.
    pub fn watches(mut self, watches: bool) -> OpStrategy {
        self.watches = watches;
        self
    }

    /// One step.
    ///
    /// # Panics
    /// When every step kind is turned off.
    pub fn step(&self) -> BoxedStrategy<Step> {
        let slot = (0..self.slots).boxed();
        let any_target = any_target();
        let watch = if self.watches {
            any::<bool>().boxed()
        } else {
            Just(false).boxed()
        };
        let steps = self.steps.iter().map(|&(kind, weight)| {
            let step = match kind {
                StepKind::Create => (
                    slot.clone(),
                    create_target(),
                    data(),
                    self.mode(),
                    self.create_acl(),
                )
                    .prop_map(|(slot, path, data, mode, acl)| Step::Create {
                        slot,
                        path,
                        data,
                        mode,
                        acl,
                    })
                    .boxed(),
                StepKind::Delete => (slot.clone(), delete_target(), version())
                    .prop_map(|(slot, path, version)| Step::Delete {
                        slot,
                        path,
                        version,
                    })
                    .boxed(),
                StepKind::SetData => (slot.clone(), any_target.clone(), data(), version())
                    .prop_map(|(slot, path, data, version)| Step::SetData {
                        slot,
                        path,
                        data,
                        version,
                    })
                    .boxed(),
                StepKind::SetAcl => (slot.clone(), any_target.clone(), self.acl(), version())
                    .prop_map(|(slot, path, acl, version)| Step::SetAcl {
                        slot,
                        path,
                        acl,
                        version,
                    })
                    .boxed(),
                StepKind::GetAcl => (slot.clone(), any_target.clone())
                    .prop_map(|(slot, path)| Step::GetAcl { slot, path })
                    .boxed(),
                StepKind::GetData => (slot.clone(), any_target.clone(), watch.clone())
                    .prop_map(|(slot, path, watch)| Step::GetData { slot, path, watch })
                    .boxed(),
                StepKind::Exists => (slot.clone(), any_target.clone(), watch.clone())
                    .prop_map(|(slot, path, watch)| Step::Exists { slot, path, watch })
                    .boxed(),
                StepKind::GetChildren => (slot.clone(), any_target.clone(), watch.clone())
                    .prop_map(|(slot, path, watch)| Step::GetChildren { slot, path, watch })
                    .boxed(),
                StepKind::GetEphemerals => (slot.clone(), uniform(&EPHEMERAL_PREFIXES))
                    .prop_map(|(slot, prefix)| Step::GetEphemerals { slot, prefix })
                    .boxed(),
                StepKind::Multi => (slot.clone(), vec(self.multi_op(), MULTI_LEN))
                    .prop_map(|(slot, ops)| Step::Multi { slot, ops })
                    .boxed(),
                StepKind::MultiRead => (slot.clone(), vec(multi_read_op(), MULTI_READ_LEN))
                    .prop_map(|(slot, ops)| Step::MultiRead { slot, ops })
                    .boxed(),
                StepKind::Close => slot.clone().prop_map(|slot| Step::Close { slot }).boxed(),
                StepKind::Expire => slot.clone().prop_map(|slot| Step::Expire { slot }).boxed(),
            };
            (weight, step)
        });
        weighted(steps, "step kind")
    }

    /// A sequence of 1 to `max_steps` steps.
    pub fn steps(&self) -> BoxedStrategy<Vec<Step>> {
        vec(self.step(), 1..=self.max_steps).boxed()
    }

    fn mode(&self) -> BoxedStrategy<CreateMode> {
        pick(&self.modes, "create mode")
    }

    fn acl(&self) -> BoxedStrategy<AclChoice> {
        pick(&self.acls, "ACL choice")
    }

    fn create_acl(&self) -> BoxedStrategy<AclChoice> {
        let open = if self.acls.iter().any(|(acl, _)| *acl == AclChoice::Open) {
            CREATE_OPEN_ACL_WEIGHT
        } else {
            0
        };
        weighted(
            [(open, Just(AclChoice::Open).boxed()), (1, self.acl())],
            "create ACL",
        )
    }

    fn multi_op(&self) -> BoxedStrategy<MultiOp> {
        let create = (create_target(), data(), self.mode(), self.create_acl())
            .prop_map(|(path, data, mode, acl)| MultiOp::Create {
                path,
                data,
                mode,
                acl,
            })
            .boxed();
        let delete = (delete_target(), version())
            .prop_map(|(path, version)| MultiOp::Delete { path, version })
            .boxed();
        let set_data = (any_target(), data(), version())
            .prop_map(|(path, data, version)| MultiOp::SetData {
                path,
                data,
                version,
            })
            .boxed();
        let check = (any_target(), version())
            .prop_map(|(path, version)| MultiOp::Check { path, version })
            .boxed();
        weighted(
            [(3, create), (2, delete), (2, set_data), (2, check)],
            "multi op",
        )
    }
}

/// A union of the options with a non-zero weight.
fn weighted<T: fmt::Debug + 'static>(
    options: impl IntoIterator<Item = (u32, BoxedStrategy<T>)>,
    what: &str,
) -> BoxedStrategy<T> {
    let options: Vec<_> = options.into_iter().filter(|(w, _)| *w > 0).collect();
    assert!(!options.is_empty(), "every {what} is turned off");
    Union::new_weighted(options).boxed()
}

/// One of `items`, by weight.
fn pick<T: Clone + fmt::Debug + 'static>(items: &[(T, u32)], what: &str) -> BoxedStrategy<T> {
    weighted(
        items
            .iter()
            .map(|(item, w)| (*w, Just(item.clone()).boxed())),
        what,
    )
}

/// One of `items`, each as likely.
fn uniform<T: Clone + fmt::Debug + 'static>(items: &[T]) -> BoxedStrategy<T> {
    let items: Vec<(T, u32)> = items.iter().map(|item| (item.clone(), 1)).collect();
    pick(&items, "item")
}

fn fixed_path() -> BoxedStrategy<Target> {
    let paths = PATHS
        .iter()
        .copied()
        .chain(SEQUENTIAL_NAMES.map(|p| (p, 1)));
    let paths: Vec<(Target, u32)> = paths.map(|(p, w)| (Target::Path(p), w)).collect();
    pick(&paths, "path")
}

fn sequential() -> BoxedStrategy<Target> {
    (0..SEQUENTIAL_INDEXES).prop_map(Target::Sequential).boxed()
}

fn created() -> BoxedStrategy<Target> {
    (0..CREATED_INDEXES).prop_map(Target::Created).boxed()
}

/// A node below the base.
fn below_root() -> BoxedStrategy<Target> {
    weighted(
        [(6, fixed_path()), (1, sequential()), (3, created())],
        "target",
    )
}

/// Any node, the base included (for reads, watches, set_data, set_acl and checks).
fn any_target() -> BoxedStrategy<Target> {
    weighted(
        [(8, below_root()), (1, Just(Target::Root).boxed())],
        "target",
    )
}

/// A node for a delete: mostly one created earlier.
fn delete_target() -> BoxedStrategy<Target> {
    weighted([(1, below_root()), (1, created())], "target")
}

/// A path for a create: a fixed one, a sequential node's name, a sequential prefix, or a name
/// a sequential create runs into.
fn create_target() -> BoxedStrategy<Target> {
    let prefixes: Vec<Target> = CREATE_PREFIXES.iter().map(|&p| Target::Path(p)).collect();
    weighted(
        [
            (6, fixed_path()),
            (1, sequential()),
            (3, uniform(&prefixes)),
            (
                CREATE_COLLISION_WEIGHT,
                uniform(&SEQUENTIAL_NAMES.map(Target::Path)),
            ),
        ],
        "target",
    )
}

fn data() -> BoxedStrategy<&'static [u8]> {
    uniform(&DATA)
}

fn version() -> BoxedStrategy<Option<i32>> {
    weighted(
        [
            (4, Just(None).boxed()),
            (1, Just(Some(-1)).boxed()),
            (3, (0..3).prop_map(Some).boxed()),
        ],
        "version",
    )
}

fn multi_read_op() -> BoxedStrategy<MultiReadOp> {
    weighted(
        [
            (1, any_target().prop_map(MultiReadOp::GetData).boxed()),
            (1, any_target().prop_map(MultiReadOp::GetChildren).boxed()),
        ],
        "multi_read op",
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use super::*;

    /// Many steps drawn from `ops`.
    fn sample(ops: &OpStrategy) -> Vec<Step> {
        let mut runner = TestRunner::deterministic();
        let strategy = ops.step();
        (0..5000)
            .map(|_| strategy.new_tree(&mut runner).expect("a step").current())
            .collect()
    }

    fn creates(steps: &[Step]) -> Vec<(CreateMode, AclChoice)> {
        let mut out = Vec::new();
        for step in steps {
            match step {
                Step::Create { mode, acl, .. } => out.push((*mode, *acl)),
                Step::Multi { ops, .. } => {
                    for op in ops {
                        if let MultiOp::Create { mode, acl, .. } = op {
                            out.push((*mode, *acl));
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    #[test]
    fn everything_is_generated_by_default() {
        let steps = sample(&OpStrategy::new());
        let kinds: BTreeSet<StepKind> = steps.iter().map(Step::kind).collect();
        assert_eq!(kinds, StepKind::ALL.into_iter().collect());
        let creates = creates(&steps);
        for (mode, _) in MODES {
            assert!(creates.iter().any(|(m, _)| *m == mode), "{mode:?}");
        }
        for acl in AclChoice::ALL {
            assert!(creates.iter().any(|(_, a)| *a == acl), "create {acl:?}");
            assert!(
                steps
                    .iter()
                    .any(|s| matches!(s, Step::SetAcl { acl: a, .. } if *a == acl)),
                "set_acl {acl:?}"
            );
        }
        assert!(
            steps
                .iter()
                .any(|s| matches!(s, Step::GetData { watch: true, .. }))
        );
        assert!(steps.iter().all(|s| s.slot() < DEFAULT_SLOTS));
    }

    #[test]
    fn what_is_turned_off_is_not_generated() {
        let ops = OpStrategy::new()
            .slots(2)
            .without(&[StepKind::GetAcl, StepKind::MultiRead])
            .weight(StepKind::Close, 5)
            .modes(&[CreateMode::Persistent, CreateMode::EphemeralSequential])
            .acls(&[AclChoice::Open])
            .watches(false);
        let steps = sample(&ops);
        let kinds: BTreeSet<StepKind> = steps.iter().map(Step::kind).collect();
        let expected: BTreeSet<StepKind> = StepKind::ALL
            .into_iter()
            .filter(|k| ![StepKind::GetAcl, StepKind::MultiRead].contains(k))
            .collect();
        assert_eq!(kinds, expected);
        assert!(steps.iter().all(|s| s.slot() < 2));
        let creates = creates(&steps);
        assert!(creates.iter().all(|(mode, acl)| {
            [CreateMode::Persistent, CreateMode::EphemeralSequential].contains(mode)
                && *acl == AclChoice::Open
        }));
        assert!(steps.iter().all(|s| match s {
            Step::SetAcl { acl, .. } => *acl == AclChoice::Open,
            Step::GetData { watch, .. }
            | Step::Exists { watch, .. }
            | Step::GetChildren { watch, .. } => !watch,
            _ => true,
        }));
    }

    #[test]
    fn targets_resolve_under_the_base() {
        let mut nodes = CreatedNodes::new();
        assert_eq!(nodes.resolve(Target::Root, ""), "/");
        assert_eq!(nodes.resolve(Target::Root, "/r"), "/r");
        assert_eq!(nodes.resolve(Target::Path("/a/b"), "/r"), "/r/a/b");
        assert_eq!(nodes.resolve(Target::Created(3), "/r"), "/r/a");
        nodes.record("/b", CreateMode::Persistent);
        nodes.record("/a/s-0000000000", CreateMode::EphemeralSequential);
        nodes.record("/b", CreateMode::Persistent);
        assert_eq!(nodes.resolve(Target::Sequential(5), ""), "/a/s-0000000000");
        assert_eq!(nodes.resolve(Target::Created(2), "/r"), "/r/b");
        assert_eq!(nodes.resolve(Target::Created(1), "/r"), "/r/a/s-0000000000");
    }

    #[test]
    fn acl_choices_keep_the_user_in() {
        for choice in AclChoice::ALL {
            let acl = choice.acl();
            let user = Id::digest(ACL_USER, ACL_PASSWORD);
            let anyone_all = acl
                .iter()
                .any(|a| a.id == Id::anyone() && a.perms == Perms::ALL);
            let user_all = acl.iter().any(|a| a.id == user && a.perms == Perms::ALL);
            let auth_all = acl
                .iter()
                .any(|a| a.id == Id::authenticated() && a.perms == Perms::ALL);
            assert!(anyone_all || user_all || auth_all, "{choice:?}");
        }
        let ttl = create_options(CreateMode::PersistentWithTtl, AclChoice::Open);
        assert_eq!(ttl.ttl, Some(TTL));
        assert_eq!(
            create_options(CreateMode::Ephemeral, AclChoice::Open).ttl,
            None
        );
    }
}
