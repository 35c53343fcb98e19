//! Watchers under faults on the fake: proptest scenarios of a writer changing a value and a
//! tree of keys (good values, garbage, deletions) while the watcher's connection drops, its
//! session expires, and the writer's replies are lost.
//!
//! Checked: once the faults stop, both watchers converge to exactly what was last written
//! (a key whose last write was garbage keeps its last good value and shows the refusal), and
//! the writer's blind writes, retried through lost replies, all land. `PROPTEST_CASES` sets
//! the number of cases.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use zk_config::{ConfigStore, ConfigTree, TreeSnapshot, Watched};
use zk_core::Coordinator;
use zk_fake::{FakeEnsemble, FakeSession, Fault, OpKind, OpMatcher};

const VALUE: &str = "/faults/value";
const TREE: &str = "/faults/tree";
const KEYS: [&str; 3] = ["a", "b", "c"];

#[derive(Debug, Clone)]
enum Step {
    /// The writer sets the value.
    Set(u32),
    /// The writer writes bytes that do not decode to the value's node.
    Garbage,
    /// The writer sets a key of the tree.
    SetKey(usize, u32),
    /// The writer writes garbage to a key.
    GarbageKey(usize),
    /// The writer deletes a key.
    DeleteKey(usize),
    /// The watcher's connection drops for this many milliseconds.
    Cut(u64),
    /// The watcher's session expires.
    Expire,
    /// The writer's next write is applied but its reply is lost.
    LoseReply,
    /// Time passes.
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u32..1000).prop_map(Step::Set),
        1 => Just(Step::Garbage),
        4 => (0..KEYS.len(), 0u32..1000).prop_map(|(k, v)| Step::SetKey(k, v)),
        1 => (0..KEYS.len()).prop_map(Step::GarbageKey),
        1 => (0..KEYS.len()).prop_map(Step::DeleteKey),
        1 => (1u64..3000).prop_map(Step::Cut),
        1 => Just(Step::Expire),
        1 => Just(Step::LoseReply),
        2 => (0u64..200).prop_map(Step::Wait),
    ]
}

/// What the watchers may end up showing. A watcher can miss a value that was overwritten
/// before it read (one-shot watches tell of a change, the read sees the newest data), so
/// after a refused write it keeps some good value it saw: one of the good values written
/// since the node was (re)created, or the default.
#[derive(Debug, Default)]
struct Model {
    /// Good values of the value node, oldest first (the default 0 included).
    value: Vec<u32>,
    value_refused: bool,
    /// Each key's good values since it was last created, and whether its last write was refused.
    keys: BTreeMap<String, (Vec<u32>, bool)>,
}

impl Model {
    fn value_converged(&self, w: &Watched<u32>) -> bool {
        if self.value_refused {
            w.rejected.is_some() && self.value.contains(&w.current.value)
        } else {
            w.rejected.is_none() && self.value.last() == Some(&w.current.value)
        }
    }

    fn tree_converged(&self, s: &TreeSnapshot<u32>) -> bool {
        let known = |k: &String| self.keys.contains_key(k);
        if !s.values.keys().chain(s.rejected.keys()).all(known) {
            return false;
        }
        self.keys.iter().all(|(key, (good, refused))| {
            let value = s.get(key);
            if *refused {
                s.rejected.contains_key(key) && value.is_none_or(|v| good.contains(v))
            } else {
                !s.rejected.contains_key(key) && value == good.last()
            }
        })
    }
}

async fn run(steps: Vec<Step>) {
    let ensemble = FakeEnsemble::new();
    let (writer, reader) = (ensemble.connect(), ensemble.connect());
    let value = ConfigStore::new(writer.clone(), VALUE, 0u32).unwrap();
    let tree: ConfigTree<FakeSession, u32> = ConfigTree::new(writer.clone(), TREE).unwrap();
    let mut live_value = ConfigStore::new(reader.clone(), VALUE, 0u32)
        .unwrap()
        .watch()
        .await
        .unwrap();
    let mut live_tree = ConfigTree::<_, u32>::new(reader.clone(), TREE)
        .unwrap()
        .watch()
        .await
        .unwrap();
    let mut model = Model {
        value: vec![0],
        ..Model::default()
    };
    for step in steps {
        match step {
            Step::Set(v) => {
                value.set(&v).await.unwrap();
                model.value.push(v);
                model.value_refused = false;
            }
            Step::Garbage => {
                value.set(&1).await.unwrap(); // the node must exist
                writer.set_data(VALUE, b"garbage", None).await.unwrap();
                model.value.push(1);
                model.value_refused = true;
            }
            Step::SetKey(k, v) => {
                tree.set(KEYS[k], &v).await.unwrap();
                let entry = model.keys.entry(KEYS[k].into()).or_default();
                entry.0.push(v);
                entry.1 = false;
            }
            Step::GarbageKey(k) => {
                tree.set(KEYS[k], &7).await.unwrap(); // the node must exist
                writer
                    .set_data(&format!("{TREE}/{}", KEYS[k]), b"garbage", None)
                    .await
                    .unwrap();
                let entry = model.keys.entry(KEYS[k].into()).or_default();
                entry.0.push(7);
                entry.1 = true;
            }
            Step::DeleteKey(k) => {
                tree.delete(KEYS[k], None).await.unwrap();
                model.keys.remove(KEYS[k]);
            }
            Step::Cut(ms) => {
                ensemble
                    .faults()
                    .disconnect(reader.session_id(), Duration::from_millis(ms));
            }
            Step::Expire => {
                ensemble.faults().expire_session(reader.session_id());
            }
            Step::LoseReply => ensemble.faults().fail_next(
                OpMatcher::op(OpKind::SetData).session(writer.session_id()),
                Fault::ConnectionLossAfterApply,
            ),
            Step::Wait(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
        }
    }
    ensemble.faults().clear();

    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let value_ok = model.value_converged(&live_value.borrow_and_update());
            let tree_ok = model.tree_converged(&live_tree.borrow_and_update());
            if value_ok && tree_ok {
                return;
            }
            tokio::select! {
                changed = live_value.changed() => changed.expect("the value watch ended"),
                changed = live_tree.changed() => changed.expect("the tree watch ended"),
            }
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "did not converge: value {:?} tree {:?}, expected {model:?}",
        live_value.borrow(),
        live_tree.borrow()
    );
}

proptest! {
    #![proptest_config(zk_testkit::fault_world::strategy::config())]

    #[test]
    fn watchers_converge_to_the_last_write_after_faults(steps in proptest::collection::vec(step(), 1..30)) {
        zk_testkit::fault_world::block_on_paused(run(steps));
    }
}
