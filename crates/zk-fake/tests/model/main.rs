//! Model-based property tests of the fake ensemble.
//!
//! Random operation sequences over three sessions run on a fresh [`FakeEnsemble`] and on a small
//! `BTreeMap` model of a ZooKeeper 3.8 server (`model.rs`), and the two are compared after every
//! step: result or error (variant and path), created paths with their sequence suffixes, Stats,
//! the whole tree, the live sessions, and the zxid counter (every write that reaches the server,
//! successful or not, advances it by exactly one; reads and client-side rejections never do).
//!
//! The sequences come from zk-testkit's shared [`OpStrategy`], narrowed by [`ops`] to what the
//! model covers.
//!
//! Cases default to proptest's 256; set `PROPTEST_CASES` for more or fewer.

mod model;

use std::collections::BTreeSet;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use zk_core::{Coordinator, CreateMode, Op, OpResult, SessionState};
use zk_fake::{FakeEnsemble, FakeSession};
use zk_testkit::op_strategy::{
    AclChoice, CreatedNodes, OpStrategy, Step, StepKind, Target, create_options,
};

use crate::model::{Model, MultiOut, StatView, same_error};

/// How many session slots a sequence uses.
const SESSIONS: usize = 3;

/// What the sequences hold: the shared strategy without what the model leaves out (ACLs other
/// than the open one and get_acl, containers and TTL nodes, watches) or does not predict yet
/// (multi_read).
fn ops() -> OpStrategy {
    OpStrategy::new()
        .slots(SESSIONS)
        .without(&[StepKind::GetAcl, StepKind::MultiRead])
        .weight(StepKind::Multi, 4)
        .modes(&[
            CreateMode::Persistent,
            CreateMode::Ephemeral,
            CreateMode::PersistentSequential,
            CreateMode::EphemeralSequential,
        ])
        .acls(&[AclChoice::Open])
        .watches(false)
}

/// One fake ensemble, its session handles and the model, run step by step.
struct Harness {
    ensemble: FakeEnsemble,
    slots: Vec<FakeSession>,
    model: Model,
    /// Every session id handed out so far; ids are never reused.
    seen_sessions: BTreeSet<i64>,
    /// Nodes created so far, for [`Target::Sequential`] and [`Target::Created`].
    nodes: CreatedNodes,
}

/// Fails the case with `context` (the step) when a result differs from the model's.
fn check_result<T: PartialEq + std::fmt::Debug>(
    context: &str,
    actual: zk_core::Result<T>,
    expected: Result<T, zk_core::Error>,
) -> Result<(), TestCaseError> {
    match (&actual, &expected) {
        (Ok(a), Ok(e)) => prop_assert_eq!(a, e, "{}: results differ", context),
        (Err(a), Err(e)) => prop_assert!(
            same_error(a, e),
            "{}: error {:?}, model expects {:?}",
            context,
            a,
            e
        ),
        _ => prop_assert!(
            false,
            "{}: fake gave {:?}, model expects {:?}",
            context,
            actual,
            expected
        ),
    }
    Ok(())
}

impl Harness {
    fn new() -> Harness {
        let ensemble = FakeEnsemble::new();
        let slots: Vec<FakeSession> = (0..SESSIONS).map(|_| ensemble.connect()).collect();
        let ids: Vec<i64> = slots.iter().map(|s| s.session_id()).collect();
        let model = Model::new(ensemble.last_zxid(), ids.iter().copied());
        Harness {
            ensemble,
            slots,
            model,
            seen_sessions: ids.into_iter().collect(),
            nodes: CreatedNodes::new(),
        }
    }

    /// The path of `target`: the sequence runs on the whole tree.
    fn resolve(&self, target: Target) -> String {
        self.nodes.resolve(target, "")
    }

    /// Runs one step on both sides and compares what each returned.
    async fn step(&mut self, step: &Step, context: &str) -> Result<(), TestCaseError> {
        let before = self.ensemble.last_zxid();
        let model_before = self.model.zxid;
        match step {
            Step::Create {
                slot,
                path,
                data,
                mode,
                acl,
            } => {
                let zk = &self.slots[*slot];
                let path = self.resolve(*path);
                let options = create_options(*mode, *acl);
                let actual = zk
                    .create(&path, data, &options)
                    .await
                    .map(|c| (c.path, StatView::from(&c.stat)));
                let expected = self.model.create(&path, data, &options, zk.session_id());
                if let Ok((created, _)) = &expected {
                    self.nodes.record(created, *mode);
                }
                check_result(context, actual, expected)?;
            }
            Step::Delete {
                slot,
                path,
                version,
            } => {
                let path = self.resolve(*path);
                let actual = self.slots[*slot].delete(&path, *version).await;
                check_result(context, actual, self.model.delete(&path, *version))?;
            }
            Step::SetData {
                slot,
                path,
                data,
                version,
            } => {
                let path = self.resolve(*path);
                let actual = self.slots[*slot]
                    .set_data(&path, data, *version)
                    .await
                    .map(|s| StatView::from(&s));
                let expected = self.model.set_data(&path, data, *version);
                check_result(context, actual, expected)?;
            }
            Step::SetAcl {
                slot,
                path,
                acl,
                version,
            } => {
                let path = self.resolve(*path);
                let acl = acl.acl();
                let actual = self.slots[*slot]
                    .set_acl(&path, &acl, *version)
                    .await
                    .map(|s| StatView::from(&s));
                check_result(context, actual, self.model.set_acl(&path, &acl, *version))?;
            }
            Step::Multi { slot, ops } => {
                let zk = &self.slots[*slot];
                let session = zk.session_id();
                let ops: Vec<Op> = ops.iter().map(|op| op.to_op(|t| self.resolve(t))).collect();
                let actual = zk.multi(&ops).await.map(|results| {
                    results
                        .into_iter()
                        .map(|r| match r {
                            // 3.8.0 (the fake's default) reports no Stat for plain creates.
                            OpResult::Create { path, stat: None } => MultiOut::Create(path),
                            OpResult::Delete => MultiOut::Delete,
                            OpResult::SetData { stat } => MultiOut::SetData(StatView::from(&stat)),
                            OpResult::Check => MultiOut::Check,
                            other => panic!("{context}: unexpected multi result {other:?}"),
                        })
                        .collect::<Vec<_>>()
                });
                let expected = self.model.multi(&ops, session);
                if let Ok(results) = &expected {
                    for (op, out) in ops.iter().zip(results) {
                        if let (Op::Create { options, .. }, MultiOut::Create(created)) = (op, out) {
                            self.nodes.record(created, options.mode);
                        }
                    }
                }
                check_result(context, actual, expected)?;
            }
            Step::GetData {
                slot,
                path,
                watch: false,
            } => {
                let path = self.resolve(*path);
                let actual = self.slots[*slot]
                    .get_data(&path)
                    .await
                    .map(|(d, s)| (d, StatView::from(&s)));
                check_result(context, actual, self.model.get_data(&path))?;
            }
            Step::Exists {
                slot,
                path,
                watch: false,
            } => {
                let path = self.resolve(*path);
                let actual = self.slots[*slot]
                    .exists(&path)
                    .await
                    .map(|s| s.as_ref().map(StatView::from));
                check_result(context, actual, Ok(self.model.exists(&path)))?;
            }
            Step::GetChildren {
                slot,
                path,
                watch: false,
            } => {
                let path = self.resolve(*path);
                let actual =
                    self.slots[*slot]
                        .get_children(&path)
                        .await
                        .map(|(mut children, s)| {
                            children.sort_unstable();
                            (children, StatView::from(&s))
                        });
                check_result(context, actual, self.model.get_children(&path))?;
            }
            Step::GetEphemerals { slot, prefix } => {
                let zk = &self.slots[*slot];
                let prefix = self.resolve(*prefix);
                let actual = zk.get_ephemerals(&prefix).await.map(|mut paths| {
                    paths.sort_unstable();
                    paths
                });
                let expected = self.model.ephemerals(zk.session_id(), &prefix);
                check_result(context, actual, Ok(expected))?;
            }
            Step::Close { slot } => {
                let old = self.slots[*slot].session_id();
                prop_assert!(self.slots[*slot].close().await.is_ok(), "{}", context);
                prop_assert_eq!(
                    *self.slots[*slot].session_state().borrow(),
                    SessionState::Closed,
                    "{}",
                    context
                );
                // The close is one transaction (section 5.6) that also deletes the ephemerals.
                self.model.end_session(old);
                prop_assert_eq!(
                    self.ensemble.last_zxid(),
                    self.model.zxid,
                    "{}: zxid after close",
                    context
                );
                let fresh = self.ensemble.connect();
                self.open_session(&fresh, context)?;
                self.slots[*slot] = fresh;
            }
            Step::Expire { slot } => {
                let old = self.slots[*slot].session_id();
                prop_assert!(
                    self.ensemble.faults().expire_session(old),
                    "{}: session {:#x} was live",
                    context,
                    old
                );
                // The server closes the session (one transaction) ...
                self.model.end_session(old);
                prop_assert_eq!(
                    self.ensemble.last_zxid(),
                    self.model.zxid,
                    "{}: zxid after expiry",
                    context
                );
                // ... the handle reports Expired, and its requests fail until it renews ...
                let zk = self.slots[*slot].clone();
                let mut state = zk.session_state();
                prop_assert_eq!(*state.borrow(), SessionState::Expired, "{}", context);
                prop_assert_eq!(
                    zk.exists("/").await,
                    Err(zk_core::Error::SessionExpired),
                    "{}",
                    context
                );
                prop_assert_eq!(self.ensemble.last_zxid(), self.model.zxid, "{}", context);
                // ... and then opens a new session (after the fake's reconnect delay, which the
                // paused clock skips).
                let renewed = tokio::time::timeout(
                    Duration::from_secs(60),
                    state.wait_for(|s| *s == SessionState::SyncConnected),
                )
                .await;
                prop_assert!(
                    matches!(renewed, Ok(Ok(_))),
                    "{}: no renewal: {:?}",
                    context,
                    renewed
                );
                self.open_session(&zk, context)?;
            }
            Step::GetAcl { .. }
            | Step::MultiRead { .. }
            | Step::GetData { watch: true, .. }
            | Step::Exists { watch: true, .. }
            | Step::GetChildren { watch: true, .. } => {
                unreachable!("{context}: ops() generates no such step")
            }
        }
        let after = self.ensemble.last_zxid();
        let reached_server = self.model.zxid != model_before;
        if reached_server {
            prop_assert!(after > before, "{}: zxid did not advance", context);
        } else {
            prop_assert_eq!(after, before, "{}: zxid changed without a write", context);
        }
        prop_assert_eq!(after, self.model.zxid, "{}: last zxid", context);
        Ok(())
    }

    /// A new session (after a close, or renewed after expiry): a new id, and its creation may
    /// consume zxids (the protocol reference does not pin how many).
    fn open_session(&mut self, zk: &FakeSession, context: &str) -> Result<(), TestCaseError> {
        let id = zk.session_id();
        prop_assert!(
            self.seen_sessions.insert(id),
            "{}: session id {:#x} reused",
            context,
            id
        );
        let now = self.ensemble.last_zxid();
        prop_assert!(now >= self.model.zxid, "{}: zxid went back", context);
        self.model.zxid = now;
        self.model.sessions.insert(id);
        Ok(())
    }

    /// Whole-state comparison after a step: tree, zxid invariants and live sessions.
    fn check_state(&self, context: &str) -> Result<(), TestCaseError> {
        let last = self.ensemble.last_zxid();
        let snapshot = self.ensemble.snapshot();
        let mut tree = std::collections::BTreeMap::new();
        for (path, (data, stat)) in snapshot {
            prop_assert!(
                stat.czxid <= stat.mzxid && stat.czxid <= stat.pzxid,
                "{}: {} has czxid {} mzxid {} pzxid {}",
                context,
                path,
                stat.czxid,
                stat.mzxid,
                stat.pzxid
            );
            prop_assert!(
                stat.mzxid <= last && stat.pzxid <= last,
                "{}: {} has a zxid from the future",
                context,
                path
            );
            if path != "/zookeeper" && !path.starts_with("/zookeeper/") {
                tree.insert(path, (data, StatView::from(&stat)));
            }
        }
        prop_assert_eq!(tree, self.model.tree(), "{}: trees differ", context);
        let live: Vec<i64> = self.model.sessions.iter().copied().collect();
        prop_assert_eq!(
            self.ensemble.session_ids(),
            live,
            "{}: live sessions",
            context
        );
        for (slot, zk) in self.slots.iter().enumerate() {
            prop_assert!(
                self.model.sessions.contains(&zk.session_id()),
                "{}: slot {} holds a dead session",
                context,
                slot
            );
        }
        Ok(())
    }
}

async fn run(steps: &[Step]) -> Result<(), TestCaseError> {
    let mut h = Harness::new();
    h.check_state("initial state")?;
    for (i, step) in steps.iter().enumerate() {
        let context = format!("step {i} {step:?}");
        h.step(step, &context).await?;
        h.check_state(&context)?;
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime")
}

proptest! {
    // `ProptestConfig::default()` takes its case count (256) from PROPTEST_CASES when set.
    // Failing cases are saved beside this file, in main.proptest-regressions.
    #![proptest_config(ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions"
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn fake_matches_the_model(steps in ops().steps()) {
        runtime().block_on(run(&steps))?;
    }
}

/// A fixed sequence through the interesting corners, so they are covered whatever the seed.
#[test]
fn fixed_sequence_matches_the_model() {
    use zk_testkit::op_strategy::MultiOp;
    let create = |slot, path, mode| Step::Create {
        slot,
        path: Target::Path(path),
        data: b"x",
        mode,
        acl: AclChoice::Open,
    };
    let multi_create = |path, mode| MultiOp::Create {
        path: Target::Path(path),
        data: b"x",
        mode,
        acl: AclChoice::Open,
    };
    let steps = vec![
        create(0, "/a", CreateMode::Persistent),
        create(1, "/a/s", CreateMode::EphemeralSequential),
        create(2, "/a/", CreateMode::PersistentSequential),
        create(0, "/a/b", CreateMode::Ephemeral),
        create(1, "/a/b/c", CreateMode::Persistent),
        create(1, "/a/b", CreateMode::Persistent),
        Step::Delete {
            slot: 0,
            path: Target::Sequential(0),
            version: Some(1),
        },
        Step::SetData {
            slot: 2,
            path: Target::Path("/a"),
            data: b"hello",
            version: Some(0),
        },
        Step::Multi {
            slot: 2,
            ops: vec![
                multi_create("/b", CreateMode::Persistent),
                multi_create("/b/x", CreateMode::EphemeralSequential),
                MultiOp::Check {
                    path: Target::Path("/a"),
                    version: Some(0),
                },
            ],
        },
        Step::Multi {
            slot: 2,
            ops: vec![
                multi_create("/b", CreateMode::Persistent),
                MultiOp::Check {
                    path: Target::Path("/a"),
                    version: Some(1),
                },
            ],
        },
        Step::Expire { slot: 1 },
        Step::GetChildren {
            slot: 0,
            path: Target::Path("/a"),
            watch: false,
        },
        Step::Close { slot: 0 },
        Step::GetEphemerals {
            slot: 2,
            prefix: Target::Root,
        },
        Step::Delete {
            slot: 2,
            path: Target::Path("/a"),
            version: None,
        },
    ];
    runtime()
        .block_on(run(&steps))
        .unwrap_or_else(|e| panic!("{e}"));
}
