//! The in-memory copy of a subtree, and the events each change to it makes. Pure: the rules of
//! what is added, updated and removed are tested apart from any I/O.

use std::collections::{BTreeMap, BTreeSet};

use crate::source::NodeData;

/// What changed in a [`TreeCache`](crate::TreeCache).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeEvent {
    /// A node appeared in the cache (the initial load reports every node this way).
    Added {
        /// The node's full path.
        path: String,
        /// Its data and Stat.
        node: NodeData,
    },
    /// A cached node's data changed (a newer `mzxid`).
    Updated {
        /// The node's full path.
        path: String,
        /// Its new data and Stat.
        node: NodeData,
    },
    /// A node left the cache (deleted, or the whole subtree went); children are reported
    /// before their parent.
    Removed {
        /// The node's full path.
        path: String,
        /// Its last data and Stat.
        node: NodeData,
    },
    /// The initial load is complete: the cache holds the whole subtree as read.
    Initialized,
    /// This subscriber fell behind and `missed` events were dropped for it (the cache itself
    /// is complete): read what you need from the cache again.
    Lagged {
        /// How many events were dropped.
        missed: u64,
    },
}

/// One cached node.
#[derive(Debug, Clone)]
struct Entry {
    node: NodeData,
    /// The names of its children in the cache.
    children: BTreeSet<String>,
}

/// The cached subtree, keyed by full path.
#[derive(Debug, Default)]
pub(crate) struct Mirror {
    nodes: BTreeMap<String, Entry>,
}

/// The parent of `path` and the name in it (`None` for the root of the namespace).
fn split(path: &str) -> Option<(&str, &str)> {
    Some((zk_core::path::parent(path)?, zk_core::path::name(path)))
}

/// The half-open range of keys strictly below `path`.
fn below(path: &str) -> (String, String) {
    if path == "/" {
        // Every other absolute path sorts after "/" and before "0" ('/' + 1).
        ("/\u{1}".to_owned(), "0".to_owned())
    } else {
        (format!("{path}/"), format!("{path}0"))
    }
}

impl Mirror {
    /// The cached node at `path`.
    pub(crate) fn get(&self, path: &str) -> Option<&NodeData> {
        self.nodes.get(path).map(|e| &e.node)
    }

    /// The names of the cached children of `path`, sorted; `None` if `path` is not cached.
    pub(crate) fn children(&self, path: &str) -> Option<Vec<String>> {
        self.nodes
            .get(path)
            .map(|e| e.children.iter().cloned().collect())
    }

    /// Every cached path, sorted.
    pub(crate) fn paths(&self) -> impl Iterator<Item = &str> {
        self.nodes.keys().map(String::as_str)
    }

    /// How many nodes are cached.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Every cached node.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, NodeData> {
        self.nodes
            .iter()
            .map(|(path, e)| (path.clone(), e.node.clone()))
            .collect()
    }

    /// Records a read of the node at `path`: `Added` when it is new, `Updated` when its data
    /// is newer than the cached data, nothing when it is not. A node deleted and created again
    /// (another `czxid`) is the old one removed, with its subtree, and the new one added.
    pub(crate) fn put(&mut self, path: &str, node: NodeData) -> Vec<TreeEvent> {
        let mut events = Vec::new();
        match self.nodes.get_mut(path) {
            Some(entry) if entry.node.stat.czxid == node.stat.czxid => {
                if node.stat.mzxid > entry.node.stat.mzxid {
                    entry.node = node.clone();
                    events.push(TreeEvent::Updated {
                        path: path.to_owned(),
                        node,
                    });
                }
                return events;
            }
            Some(_) => events = self.remove(path),
            None => {}
        }
        if let Some((parent, name)) = split(path)
            && let Some(parent) = self.nodes.get_mut(parent)
        {
            parent.children.insert(name.to_owned());
        }
        self.nodes.insert(
            path.to_owned(),
            Entry {
                node: node.clone(),
                children: BTreeSet::new(),
            },
        );
        events.push(TreeEvent::Added {
            path: path.to_owned(),
            node,
        });
        events
    }

    /// Records a listing of the children of `path`: cached children no longer listed are
    /// removed (with their subtrees; their events are returned), and the listed names not
    /// cached yet are returned for the caller to read.
    pub(crate) fn list(&mut self, path: &str, names: &[String]) -> (Vec<String>, Vec<TreeEvent>) {
        let Some(entry) = self.nodes.get(path) else {
            return (Vec::new(), Vec::new());
        };
        let listed: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        let gone: Vec<String> = entry
            .children
            .iter()
            .filter(|c| !listed.contains(c.as_str()))
            .cloned()
            .collect();
        let mut events = Vec::new();
        for name in gone {
            events.extend(self.remove(&zk_core::path::join(path, &name)));
        }
        let fresh = names
            .iter()
            .filter(|name| !self.nodes.contains_key(&zk_core::path::join(path, name)))
            .cloned()
            .collect();
        (fresh, events)
    }

    /// Removes `path` and everything cached below it; `Removed` events, deepest paths first.
    pub(crate) fn remove(&mut self, path: &str) -> Vec<TreeEvent> {
        if !self.nodes.contains_key(path) {
            return Vec::new();
        }
        let (from, to) = below(path);
        let mut doomed: Vec<String> = self.nodes.range(from..to).map(|(p, _)| p.clone()).collect();
        doomed.push(path.to_owned());
        // Deepest first, so every child is reported before its parent.
        doomed.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
        if let Some((parent, name)) = split(path)
            && let Some(parent) = self.nodes.get_mut(parent)
        {
            parent.children.remove(name);
        }
        doomed
            .into_iter()
            .filter_map(|p| {
                let entry = self.nodes.remove(&p)?;
                Some(TreeEvent::Removed {
                    path: p,
                    node: entry.node,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use zk_core::Stat;

    fn node(czxid: i64, mzxid: i64, data: &str) -> NodeData {
        NodeData {
            data: data.as_bytes().to_vec(),
            stat: Stat {
                czxid,
                mzxid,
                ..Stat::default()
            },
        }
    }

    fn kinds(events: &[TreeEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                TreeEvent::Added { path, .. } => format!("+{path}"),
                TreeEvent::Updated { path, .. } => format!("~{path}"),
                TreeEvent::Removed { path, .. } => format!("-{path}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn reads_add_then_update_only_when_newer() {
        let mut m = Mirror::default();
        assert_eq!(kinds(&m.put("/a", node(1, 1, "x"))), ["+/a"]);
        assert_eq!(kinds(&m.put("/a", node(1, 1, "x"))), Vec::<String>::new());
        assert_eq!(kinds(&m.put("/a", node(1, 5, "y"))), ["~/a"]);
        assert_eq!(
            kinds(&m.put("/a", node(1, 3, "old"))),
            Vec::<String>::new(),
            "never back"
        );
        assert_eq!(m.get("/a").unwrap().data, b"y");
    }

    #[test]
    fn listings_name_new_children_and_drop_vanished_subtrees_children_first() {
        let mut m = Mirror::default();
        m.put("/r", node(1, 1, ""));
        m.put("/r/a", node(2, 2, ""));
        m.put("/r/a/x", node(3, 3, ""));
        m.put("/r/ab", node(4, 4, ""));
        assert_eq!(m.children("/r").unwrap(), ["a", "ab"]);
        let (fresh, events) = m.list("/r", &["ab".to_owned(), "c".to_owned()]);
        assert_eq!(fresh, ["c"]);
        assert_eq!(kinds(&events), ["-/r/a/x", "-/r/a"]);
        assert_eq!(m.children("/r").unwrap(), ["ab"], "/r/ab is not below /r/a");
        assert!(m.get("/r/ab").is_some());
    }

    #[test]
    fn a_recreated_node_is_removed_with_its_subtree_and_added_again() {
        let mut m = Mirror::default();
        m.put("/r", node(1, 1, ""));
        m.put("/r/k", node(2, 2, ""));
        assert_eq!(kinds(&m.put("/r", node(9, 9, ""))), ["-/r/k", "-/r", "+/r"]);
        assert_eq!(m.children("/r").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn the_namespace_root_can_be_mirrored() {
        let mut m = Mirror::default();
        m.put("/", node(0, 0, ""));
        m.put("/a", node(1, 1, ""));
        m.put("/a/b", node(2, 2, ""));
        assert_eq!(m.children("/").unwrap(), ["a"]);
        assert_eq!(kinds(&m.remove("/")), ["-/a/b", "-/a", "-/"]);
        assert_eq!(m.len(), 0);
    }

    /// A tree as a set of paths, for the property: after any sequence of puts, listings and
    /// removals, every cached node's parent is cached and lists it, and events replay to the
    /// same set of paths.
    fn apply(paths: &mut BTreeSet<String>, events: &[TreeEvent]) {
        for e in events {
            match e {
                TreeEvent::Added { path, .. } => {
                    assert!(paths.insert(path.clone()), "added twice: {path}")
                }
                TreeEvent::Removed { path, .. } => {
                    assert!(paths.remove(path), "removed unknown {path}")
                }
                _ => {}
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        Put(String, i64),
        List(String, Vec<String>),
        Remove(String),
    }

    fn path() -> impl Strategy<Value = String> {
        proptest::collection::vec(prop_oneof!["a", "b", "ab"], 1..4)
            .prop_map(|parts| format!("/r/{}", parts.join("/")))
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (path(), 1i64..4).prop_map(|(p, c)| Step::Put(p, c)),
            (
                path(),
                proptest::collection::vec(prop_oneof!["a", "b", "ab"].prop_map(String::from), 0..3)
            )
                .prop_map(|(p, n)| Step::List(p, n)),
            path().prop_map(Step::Remove),
        ]
    }

    proptest! {
        #[test]
        fn events_replay_to_the_cache_and_parents_list_their_children(steps in proptest::collection::vec(step(), 0..40)) {
            let mut m = Mirror::default();
            let mut replayed = BTreeSet::new();
            apply(&mut replayed, &m.put("/r", node(1, 1, "")));
            for (zxid, step) in steps.into_iter().enumerate() {
                let zxid = zxid as i64 + 10;
                let events = match step {
                    // A node is only read once its parent is cached (the cache reads top-down).
                    Step::Put(p, czxid) => {
                        let parent = zk_core::path::parent(&p).unwrap();
                        if m.get(parent).is_none() { continue; }
                        m.put(&p, node(czxid, zxid, ""))
                    }
                    Step::List(p, names) => m.list(&p, &names).1,
                    Step::Remove(p) => m.remove(&p),
                };
                apply(&mut replayed, &events);
                let cached: BTreeSet<String> = m.paths().map(str::to_owned).collect();
                prop_assert_eq!(&cached, &replayed);
                for p in m.paths().filter(|p| *p != "/r") {
                    let (parent, name) = split(p).unwrap();
                    prop_assert!(m.children(parent).unwrap().contains(&name.to_owned()), "{} not listed", p);
                }
            }
        }
    }
}
