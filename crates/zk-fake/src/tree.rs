//! The data tree: nodes, their kinds and the Stat bookkeeping of creates, deletes and writes.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;
use zk_core::{Acl, Stat};

/// What kind of node this is, beyond what its Stat shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Persistent,
    Ephemeral(i64),
    Container,
    Ttl(i64),
}

/// One node of the tree.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) data: Vec<u8>,
    pub(crate) acl: Vec<Acl>,
    pub(crate) stat: Stat,
    pub(crate) children: BTreeSet<String>,
    /// Children ever created under this node: the next sequence number.
    /// Kept apart from `stat.cversion`, which counts deletes too.
    pub(crate) create_count: i32,
    pub(crate) kind: NodeKind,
}

impl Node {
    fn system(acl: Vec<Acl>) -> Node {
        Node {
            data: Vec::new(),
            acl,
            stat: Stat::default(),
            children: BTreeSet::new(),
            create_count: 0,
            kind: NodeKind::Persistent,
        }
    }
}

/// The node table, keyed by full path.
#[derive(Debug)]
pub(crate) struct Tree {
    nodes: FxHashMap<String, Node>,
}

/// Paths the server owns; they cannot be deleted.
pub(crate) const SYSTEM_PATHS: [&str; 4] =
    ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"];

impl Tree {
    /// A fresh tree: the root and the `/zookeeper` system nodes.
    pub(crate) fn new() -> Tree {
        let mut nodes = FxHashMap::default();
        let mut root = Node::system(Acl::open_unsafe());
        root.children.insert("zookeeper".to_owned());
        root.stat.num_children = 1;
        let mut system = Node::system(Acl::open_unsafe());
        system.children.insert("quota".to_owned());
        system.children.insert("config".to_owned());
        system.stat.num_children = 2;
        let mut config = Node::system(Acl::read_unsafe());
        config.stat.aversion = -1;
        nodes.insert("/".to_owned(), root);
        nodes.insert("/zookeeper".to_owned(), system);
        nodes.insert(
            "/zookeeper/quota".to_owned(),
            Node::system(Acl::open_unsafe()),
        );
        nodes.insert("/zookeeper/config".to_owned(), config);
        Tree { nodes }
    }

    pub(crate) fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    pub(crate) fn get_mut(&mut self, path: &str) -> Option<&mut Node> {
        self.nodes.get_mut(path)
    }

    pub(crate) fn contains(&self, path: &str) -> bool {
        self.nodes.contains_key(path)
    }

    /// Puts a node back exactly as it was (or removes it), for rolling back a failed multi.
    pub(crate) fn restore(&mut self, path: String, node: Option<Node>) {
        match node {
            Some(node) => {
                self.nodes.insert(path, node);
            }
            None => {
                self.nodes.remove(&path);
            }
        }
    }

    /// Inserts a new child and updates the parent's children, counters and pzxid.
    pub(crate) fn insert_child(&mut self, parent: &str, name: &str, path: String, node: Node) {
        let zxid = node.stat.czxid;
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.insert(name.to_owned());
            p.stat.num_children += 1;
            p.stat.cversion += 1;
            p.stat.pzxid = zxid;
            p.create_count = p.create_count.wrapping_add(1);
        }
        self.nodes.insert(path, node);
    }

    /// Removes a childless node and updates its parent.
    pub(crate) fn remove(
        &mut self,
        parent: &str,
        name: &str,
        path: &str,
        zxid: i64,
    ) -> Option<Node> {
        let node = self.nodes.remove(path)?;
        if let Some(p) = self.nodes.get_mut(parent) {
            p.children.remove(name);
            p.stat.num_children -= 1;
            p.stat.cversion += 1;
            p.stat.pzxid = zxid;
        }
        Some(node)
    }

    /// All nodes, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    /// The number of descendants of `path` (not counting itself).
    pub(crate) fn descendant_count(&self, path: &str) -> i32 {
        let mut count = 0;
        let mut stack = vec![path.to_owned()];
        while let Some(p) = stack.pop() {
            if let Some(node) = self.nodes.get(&p) {
                for child in &node.children {
                    count += 1;
                    stack.push(zk_core::path::join(&p, child));
                }
            }
        }
        count
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }
}
