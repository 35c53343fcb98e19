//! One backend of the differential test: its sessions, their watches, and how a step runs on it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use futures::stream::FusedStream;
use zk_core::client::ZkClient;
use zk_core::{
    AddWatchMode, Coordinator, CoordinatorExt, CreateOptions, EventType, OneshotWatch, Op,
    OpResult, PersistentWatch, ReadOp, ReadResult, SessionState,
};
use zk_fake::{FakeEnsemble, FakeSession};
use zk_testkit::op_strategy::{
    ACL_PASSWORD, ACL_USER, CreatedNodes, MultiOp, Step, Target, create_options,
};
use zk_testkit::timing::test_timeout;

use super::SLOTS;
use super::view::{EventView, MultiView, NodeView, Outcome, ReadView, Translator};

/// The slot whose sessions authenticate as [`ACL_USER`] (the others are anonymous).
const AUTHENTICATED_SLOT: usize = 0;

/// Where a side's sessions come from.
#[derive(Debug, Clone)]
pub(crate) enum Backend {
    Fake(FakeEnsemble),
    Real { connect_string: String },
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Fake(_) => "fake",
            Backend::Real { .. } => "zookeeper",
        }
    }
}

/// A session handle of either backend.
#[derive(Debug, Clone)]
enum Handle {
    Fake(FakeSession),
    Real(ZkClient),
}

impl Handle {
    fn zk(&self) -> &dyn Coordinator {
        match self {
            Handle::Fake(s) => s,
            Handle::Real(c) => c,
        }
    }
}

/// One session slot: the current handle, its recursive watch on the root, and the one-shot
/// watches set through it that have not fired yet.
#[derive(Debug)]
struct Slot {
    handle: Handle,
    generation: u32,
    /// The recursive watch of the current session, and those of earlier sessions of the slot
    /// (which end with `Expired` or `Closed`), oldest first.
    streams: Vec<PersistentWatch>,
    /// Unfired one-shot watches, each named by the step that set it.
    oneshots: Vec<(String, OneshotWatch)>,
}

/// The watch events one slot received since the last drain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlotEvents {
    /// What the recursive watches on the root reported, connection events left out
    /// (see [`EventView::is_connection_event`]).
    pub(crate) recursive: Vec<EventView>,
    /// The one-shot watches that fired, named by the step that set them, in the order they
    /// were set.
    pub(crate) oneshots: Vec<(String, EventView)>,
}

impl SlotEvents {
    /// Sorts each run of consecutive `NodeDeleted` events of the recursive watch.
    ///
    /// For steps that end a session: the server deletes a session's ephemeral nodes in one
    /// transaction but in the order of a hash set (the paths of its `CloseSessionTxn`), so those
    /// deletions have no defined order; the fake deletes them sorted by path.
    pub(crate) fn sort_deletions(&mut self) {
        let mut start = 0;
        while start < self.recursive.len() {
            let mut end = start;
            while end < self.recursive.len() && self.recursive[end].is_deletion() {
                end += 1;
            }
            self.recursive[start..end].sort_by_key(|e| format!("{e:?}"));
            start = end + 1;
        }
    }
}

impl SlotEvents {
    /// For the slot whose session an `Expire` step ended: keeps only how each watch ended.
    ///
    /// `zk_testkit::expire_session` ends a real session from a second connection while the
    /// client's own connection may still be registered with the server, which then sometimes
    /// notifies it of the deletion of the session's own ephemeral nodes before the client
    /// learns of the expiry.
    /// A session that expires by timeout has a dead connection and hears nothing, which is what
    /// the fake models. So node events of the dying session are dropped from its recursive
    /// watch, and a one-shot watch it had on one of its own ephemerals counts as ended either
    /// way (by `NodeDeleted` or by `Expired`).
    pub(crate) fn forget_expiry_race(&mut self) {
        self.recursive.retain(|e| !e.is_node_event());
        for (_, event) in &mut self.oneshots {
            if event.is_deletion() {
                *event = EventView::expired();
            }
        }
    }
}

/// One backend under test.
#[derive(Debug)]
pub(crate) struct Side {
    pub(crate) name: &'static str,
    backend: Backend,
    pub(crate) root: String,
    /// The harness's own session (authenticated as [`ACL_USER`]): creates and removes the root,
    /// waits for container sweeps, reads the final tree. Nothing it sees is compared except the
    /// final tree.
    observer: Handle,
    slots: Vec<Slot>,
    pub(crate) tr: Translator,
    /// Which paths (relative) hold a container node, as far as this side's creates tell.
    containers: HashMap<String, bool>,
    /// Nodes created so far (relative), for [`Target::Sequential`] and [`Target::Created`].
    nodes: CreatedNodes,
}

/// Fails with `what` when `fut` takes longer than `limit`.
async fn bounded<F: std::future::Future>(
    limit: Duration,
    what: &str,
    fut: F,
) -> Result<F::Output, String> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| format!("timed out after {limit:?} waiting for {what}"))
}

impl Side {
    /// Opens the observer, creates `root`, and opens the slots' sessions with their watches.
    pub(crate) async fn open(backend: Backend, root: &str) -> Result<Side, String> {
        let observer = Side::connect(&backend).await?;
        observer
            .zk()
            .add_auth("digest", format!("{ACL_USER}:{ACL_PASSWORD}").as_bytes())
            .await
            .map_err(|e| format!("{}: observer auth: {e}", backend.name()))?;
        observer
            .zk()
            .create(root, b"", &CreateOptions::persistent())
            .await
            .map_err(|e| format!("{}: creating root {root}: {e}", backend.name()))?;
        let mut side = Side {
            name: backend.name(),
            backend,
            root: root.to_owned(),
            observer,
            slots: Vec::new(),
            tr: Translator::new(root),
            containers: HashMap::new(),
            nodes: CreatedNodes::new(),
        };
        for slot in 0..SLOTS {
            let handle = side.new_session(slot, 0).await?;
            let stream = side.watch_root(&handle).await?;
            side.slots.push(Slot {
                handle,
                generation: 0,
                streams: vec![stream],
                oneshots: Vec::new(),
            });
        }
        Ok(side)
    }

    async fn connect(backend: &Backend) -> Result<Handle, String> {
        match backend {
            Backend::Fake(ensemble) => Ok(Handle::Fake(ensemble.connect())),
            Backend::Real { connect_string } => ZkClient::builder(connect_string)
                .map(|b| b.session_timeout(Duration::from_secs(10)))
                .map_err(|e| e.to_string())?
                .connect()
                .await
                .map(Handle::Real)
                .map_err(|e| format!("zookeeper: connecting to {connect_string}: {e}")),
        }
    }

    /// A fresh session for `slot`, authenticated if it is the authenticated slot.
    async fn new_session(&mut self, slot: usize, generation: u32) -> Result<Handle, String> {
        let handle = Side::connect(&self.backend).await?;
        if slot == AUTHENTICATED_SLOT {
            handle
                .zk()
                .add_auth("digest", format!("{ACL_USER}:{ACL_PASSWORD}").as_bytes())
                .await
                .map_err(|e| format!("{}: slot {slot} auth: {e}", self.name))?;
        }
        self.tr
            .name_session(handle.zk().session_id(), slot, generation);
        Ok(handle)
    }

    async fn watch_root(&self, handle: &Handle) -> Result<PersistentWatch, String> {
        handle
            .zk()
            .add_watch(&self.root, AddWatchMode::PersistentRecursive)
            .await
            .map_err(|e| format!("{}: recursive watch on the root: {e}", self.name))
    }

    /// The absolute path of `target`.
    fn path(&self, target: Target) -> String {
        self.nodes.resolve(target, &self.root)
    }

    fn note_created(&mut self, path: &str, mode: zk_core::CreateMode) {
        let rel = self.tr.rel(path);
        self.containers.insert(rel.clone(), mode.is_container());
        self.nodes.record(&rel, mode);
    }

    /// Runs `step` (number `index`) and returns its outcome; `Err` when the harness itself
    /// could not go on (a session that never came back).
    pub(crate) async fn run(&mut self, index: usize, step: &Step) -> Result<Outcome, String> {
        let slot = step.slot();
        let zk = self.slots[slot].handle.clone();
        let zk = zk.zk();
        Ok(match step {
            Step::Create {
                path,
                data,
                mode,
                acl,
                ..
            } => {
                let path = self.path(*path);
                let result = zk.create(&path, data, &create_options(*mode, *acl)).await;
                if let Ok(created) = &result {
                    self.note_created(&created.path, *mode);
                }
                Outcome::Create(
                    self.tr
                        .result(result, |tr, c| (tr.rel(&c.path), tr.stat(&c.stat))),
                )
            }
            Step::Delete { path, version, .. } => {
                let result = zk.delete(&self.path(*path), *version).await;
                Outcome::Delete(self.tr.result(result, |_, ()| ()))
            }
            Step::SetData {
                path,
                data,
                version,
                ..
            } => {
                let result = zk.set_data(&self.path(*path), data, *version).await;
                Outcome::Stat(self.tr.result(result, |tr, s| tr.stat(&s)))
            }
            Step::SetAcl {
                path, acl, version, ..
            } => {
                let result = zk.set_acl(&self.path(*path), &acl.acl(), *version).await;
                Outcome::Stat(self.tr.result(result, |tr, s| tr.stat(&s)))
            }
            Step::GetAcl { path, .. } => {
                let result = zk.get_acl(&self.path(*path)).await;
                Outcome::Acl(
                    self.tr
                        .result(result, |tr, (acl, s)| (tr.acl(&acl), tr.stat(&s))),
                )
            }
            Step::GetData { path, watch, .. } => {
                let path = self.path(*path);
                let result = if *watch {
                    zk.watch_data(&path).await.map(|(data, stat, w)| {
                        self.slots[slot]
                            .oneshots
                            .push((format!("step {index} data"), w));
                        (data, stat)
                    })
                } else {
                    zk.get_data(&path).await
                };
                Outcome::Data(
                    self.tr
                        .result(result, |tr, (d, s)| (Translator::data(&d), tr.stat(&s))),
                )
            }
            Step::Exists { path, watch, .. } => {
                let path = self.path(*path);
                let result = if *watch {
                    zk.watch_exists(&path).await.map(|(stat, w)| {
                        self.slots[slot]
                            .oneshots
                            .push((format!("step {index} exists"), w));
                        stat
                    })
                } else {
                    zk.exists(&path).await
                };
                Outcome::Exists(self.tr.result(result, |tr, s| s.map(|s| tr.stat(&s))))
            }
            Step::GetChildren { path, watch, .. } => {
                let path = self.path(*path);
                let result = if *watch {
                    zk.watch_children(&path).await.map(|(children, stat, w)| {
                        self.slots[slot]
                            .oneshots
                            .push((format!("step {index} children"), w));
                        (children, stat)
                    })
                } else {
                    zk.get_children(&path).await
                };
                Outcome::Children(self.tr.result(result, |tr, (mut children, s)| {
                    children.sort_unstable();
                    (children, tr.stat(&s))
                }))
            }
            Step::GetEphemerals { prefix, .. } => {
                let result = zk.get_ephemerals(&self.path(*prefix)).await;
                Outcome::Ephemerals(self.tr.result(result, |tr, paths| {
                    let mut paths: Vec<String> = paths.iter().map(|p| tr.rel(p)).collect();
                    paths.sort_unstable();
                    paths
                }))
            }
            Step::Multi { ops, .. } => {
                let wire: Vec<Op> = ops.iter().map(|op| op.to_op(|t| self.path(t))).collect();
                let result = zk.multi(&wire).await;
                if let Ok(results) = &result {
                    for (op, result) in ops.iter().zip(results) {
                        if let (MultiOp::Create { mode, .. }, OpResult::Create { path, .. }) =
                            (op, result)
                        {
                            self.note_created(path, *mode);
                        }
                    }
                }
                Outcome::Multi(self.tr.result(result, |tr, results| {
                    results
                        .into_iter()
                        .map(|r| match r {
                            OpResult::Create { path, stat } => MultiView::Create {
                                path: tr.rel(&path),
                                stat: stat.map(|s| tr.stat(&s)),
                            },
                            OpResult::Delete => MultiView::Delete,
                            OpResult::SetData { stat } => MultiView::SetData(tr.stat(&stat)),
                            OpResult::Check => MultiView::Check,
                            other => panic!("unknown multi result {other:?}"),
                        })
                        .collect()
                }))
            }
            Step::MultiRead { ops, .. } => {
                let wire: Vec<ReadOp> = ops
                    .iter()
                    .map(|op| op.to_read_op(|t| self.path(t)))
                    .collect();
                let result = zk.multi_read(&wire).await;
                Outcome::MultiRead(self.tr.result(result, |tr, results| {
                    results
                        .into_iter()
                        .map(|r| {
                            tr.result(r, |tr, r| match r {
                                ReadResult::Data { data, stat } => {
                                    ReadView::Data(Translator::data(&data), tr.stat(&stat))
                                }
                                ReadResult::Children { mut children } => {
                                    children.sort_unstable();
                                    ReadView::Children(children)
                                }
                                other => panic!("unknown multi_read result {other:?}"),
                            })
                        })
                        .collect()
                }))
            }
            Step::Close { .. } => {
                let result = zk.close().await;
                let generation = self.slots[slot].generation + 1;
                let handle = self.new_session(slot, generation).await?;
                let stream = self.watch_root(&handle).await?;
                let s = &mut self.slots[slot];
                s.handle = handle;
                s.generation = generation;
                s.streams.push(stream);
                Outcome::Session(self.tr.result(result, |_, ()| ()))
            }
            Step::Expire { .. } => {
                self.expire(slot).await?;
                Outcome::Session(Ok(()))
            }
        })
    }

    /// Expires the slot's session and waits until its handle is connected with a new session,
    /// then sets the slot's recursive watch again.
    async fn expire(&mut self, slot: usize) -> Result<(), String> {
        let handle = self.slots[slot].handle.clone();
        let zk = handle.zk();
        let old = zk.session_id();
        let mut state = zk.session_state();
        match (&self.backend, &handle) {
            (Backend::Fake(ensemble), _) => {
                if !ensemble.faults().expire_session(old) {
                    return Err(format!(
                        "fake: session {old:#x} of slot {slot} was not live"
                    ));
                }
            }
            (Backend::Real { connect_string }, Handle::Real(client)) => {
                zk_testkit::expire_session(connect_string, old, &client.session_password())
                    .await
                    .map_err(|e| format!("zookeeper: expiring session {old:#x}: {e}"))?;
            }
            (Backend::Real { .. }, Handle::Fake(_)) => unreachable!("sides never mix handles"),
        }
        let renewed = bounded(
            test_timeout() * 2,
            "the session to be renewed after expiry",
            state.wait_for(|s| {
                *s == SessionState::SyncConnected && zk.session_id() != old && zk.session_id() != 0
            }),
        )
        .await?;
        renewed.map_err(|_| format!("{}: session state channel closed", self.name))?;
        let generation = self.slots[slot].generation + 1;
        self.tr.name_session(zk.session_id(), slot, generation);
        let stream = self.watch_root(&handle).await?;
        let s = &mut self.slots[slot];
        s.generation = generation;
        s.streams.push(stream);
        Ok(())
    }

    /// Waits until no container is due for sweeping: for every known container that has had a
    /// child and has none left, waits (bounded) for the server's sweeper to delete it.
    ///
    /// Both backends sweep on a timer, so a step that empties a container is followed by this
    /// wait on each side before events are compared.
    pub(crate) async fn settle_sweeps(&mut self) -> Result<Vec<String>, String> {
        let mut swept = Vec::new();
        loop {
            let mut waited = false;
            let containers: Vec<String> = self
                .containers
                .iter()
                .filter(|(_, c)| **c)
                .map(|(p, _)| p.clone())
                .collect();
            for rel in containers {
                let path = format!("{}{rel}", self.root);
                let observed = self.observer.zk().watch_exists(&path).await;
                let (stat, watch) =
                    observed.map_err(|e| format!("{}: observing {rel}: {e}", self.name))?;
                match stat {
                    Some(stat) if stat.cversion > 0 && stat.num_children == 0 => {
                        let event = bounded(
                            test_timeout() * 2,
                            &format!(
                                "{}: the sweeper to delete emptied container {rel}",
                                self.name
                            ),
                            watch,
                        )
                        .await?;
                        if event.event_type != EventType::NodeDeleted {
                            return Err(format!(
                                "{}: emptied container {rel}: expected its deletion, got {event:?}",
                                self.name
                            ));
                        }
                        swept.push(rel.clone());
                        self.containers.insert(rel, false);
                        waited = true;
                    }
                    Some(_) => {}
                    None => {
                        self.containers.insert(rel, false);
                    }
                }
            }
            if !waited {
                swept.sort_unstable();
                return Ok(swept);
            }
        }
    }

    /// Collects the watch events every slot received so far.
    ///
    /// First a read on each slot's session: ZooKeeper sends a session its notifications
    /// before any later reply, so once that read returns every event caused by earlier steps
    /// has been delivered to the session's watches.
    pub(crate) async fn drain(&mut self) -> Vec<SlotEvents> {
        for slot in &self.slots {
            // Only the ordering matters here, not the answer. (A closed session's close reply
            // already followed all its notifications.)
            let _ = slot.handle.zk().exists(&self.root).await;
        }
        let tr = &self.tr;
        self.slots
            .iter_mut()
            .map(|slot| drain_slot(tr, slot))
            .collect()
    }

    /// Closes the session of `slot` for good (at the end of a case), waits for the sweeps that
    /// brings, then collects the events, with deletions sorted (see
    /// [`SlotEvents::sort_deletions`]).
    ///
    /// Closing deletes the session's ephemerals, which may empty a container; without the
    /// wait, whether its sweep reaches the next slot's watch before that slot closes would be
    /// a race between the two servers' sweep timers.
    pub(crate) async fn close_slot(
        &mut self,
        slot: usize,
    ) -> Result<(Outcome, Vec<SlotEvents>), String> {
        let result = self.slots[slot].handle.zk().close().await;
        let outcome = Outcome::Session(self.tr.result(result, |_, ()| ()));
        self.settle_sweeps().await?;
        let mut events = self.drain().await;
        events.iter_mut().for_each(SlotEvents::sort_deletions);
        Ok((outcome, events))
    }

    /// Every node below (and including) the root, read through the observer, with zxids
    /// ranked among the tree's own.
    pub(crate) async fn tree(&self) -> Result<BTreeMap<String, NodeView>, String> {
        let zk = self.observer.zk();
        let mut raw = Vec::new();
        let mut pending = vec![self.root.clone()];
        while let Some(path) = pending.pop() {
            let (data, stat) = zk
                .get_data(&path)
                .await
                .map_err(|e| format!("{}: reading {path}: {e}", self.name))?;
            let (acl, _) = zk
                .get_acl(&path)
                .await
                .map_err(|e| format!("{}: reading the ACL of {path}: {e}", self.name))?;
            let (children, _) = zk
                .get_children(&path)
                .await
                .map_err(|e| format!("{}: listing {path}: {e}", self.name))?;
            pending.extend(children.iter().map(|c| format!("{path}/{c}")));
            raw.push((path, data, stat, acl));
        }
        let zxids: BTreeSet<i64> = raw
            .iter()
            .flat_map(|(_, _, s, _)| [s.czxid, s.mzxid, s.pzxid])
            .collect();
        Ok(raw
            .into_iter()
            .map(|(path, data, stat, acl)| {
                let node = NodeView {
                    data: Translator::data(&data),
                    stat: self.tr.stat_within(&stat, &zxids),
                    acl: self.tr.acl(&acl),
                };
                (self.tr.rel(&path), node)
            })
            .collect())
    }

    /// Removes the root with everything below it and closes the observer; with `strict`,
    /// fails when anything is left.
    pub(crate) async fn remove(self, strict: bool) -> Result<(), String> {
        for slot in &self.slots {
            // Already closed on the success path; after a failure, end the sessions here.
            let _ = slot.handle.zk().close().await;
        }
        let zk = self.observer.zk();
        let removed = zk.delete_all(&self.root).await;
        let left = zk.exists(&self.root).await;
        let _ = zk.close().await;
        if strict {
            removed.map_err(|e| format!("{}: removing {}: {e}", self.name, self.root))?;
            match left {
                Ok(None) => {}
                other => {
                    return Err(format!(
                        "{}: {} left behind: {other:?}",
                        self.name, self.root
                    ));
                }
            }
        }
        Ok(())
    }
}

fn drain_slot(tr: &Translator, slot: &mut Slot) -> SlotEvents {
    let mut recursive = Vec::new();
    for stream in &mut slot.streams {
        while let Some(event) = stream.try_next_event() {
            let view = tr.event(&event);
            if !view.is_connection_event() {
                recursive.push(view);
            }
        }
    }
    // Keep the current session's stream, and earlier ones until they have ended.
    let last = slot.streams.len().saturating_sub(1);
    let mut i = 0;
    slot.streams.retain(|s| {
        let keep = i == last || !s.is_terminated();
        i += 1;
        keep
    });
    let mut oneshots = Vec::new();
    slot.oneshots
        .retain_mut(|(name, watch)| match watch.try_event() {
            Some(event) => {
                oneshots.push((name.clone(), tr.event(&event)));
                false
            }
            None => true,
        });
    SlotEvents {
        recursive,
        oneshots,
    }
}
