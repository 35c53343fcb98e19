//! Reading a whole subtree (for `ls -R`, `tree` and `export`): level by level, with each
//! level's requests pipelined, and walking it depth first without recursion (a tree may be
//! deeper than the stack).

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};
use zk_core::client::ZkClient;
use zk_core::path::join;
use zk_core::{Coordinator, Error, Stat};

use crate::exit::CliError;

/// How many requests are in flight at once while a level is read.
const PIPELINE: usize = 64;

/// One node of a [`Subtree`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    /// The names of its children, sorted.
    pub(crate) children: Vec<String>,
    /// Its Stat.
    pub(crate) stat: Stat,
    /// Its data (empty unless the subtree was read with data).
    pub(crate) data: Vec<u8>,
}

/// A node and everything below it, as read at about one moment: nodes deleted while it was
/// read are left out, with everything below them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subtree {
    /// The path of its top node.
    root: String,
    /// Every node, by full path.
    nodes: HashMap<String, Node>,
}

/// A node reached by [`Subtree::depth_first`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Visit<'a> {
    /// Its full path.
    pub(crate) path: &'a str,
    /// Its name (the root's full path for the root).
    pub(crate) name: &'a str,
    /// How far below the root it is (0 for the root).
    pub(crate) depth: usize,
    /// True when it is its parent's last child (and for the root).
    pub(crate) last: bool,
    /// The node.
    pub(crate) node: &'a Node,
}

impl Subtree {
    /// Reads `root` and every node below it; with `with_data`, their data too.
    ///
    /// # Errors
    /// `root` does not exist, or any request fails for another reason than a node vanishing.
    pub(crate) async fn read(
        zk: &ZkClient,
        root: &str,
        with_data: bool,
    ) -> Result<Subtree, CliError> {
        let top = read_node(zk, root, with_data)
            .await?
            .ok_or_else(|| Error::NoNode {
                path: root.to_owned(),
            })?;
        let mut level = children_paths(root, &top);
        let mut nodes = HashMap::from([(root.to_owned(), top)]);
        while !level.is_empty() {
            let read: Vec<(String, Option<Node>)> = futures::stream::iter(level)
                .map(|path| async move {
                    let node = read_node(zk, &path, with_data).await?;
                    Ok::<_, Error>((path, node))
                })
                .buffered(PIPELINE)
                .try_collect()
                .await?;
            level = Vec::new();
            for (path, node) in read {
                if let Some(node) = node {
                    level.extend(children_paths(&path, &node));
                    nodes.insert(path, node);
                }
            }
        }
        Ok(Subtree::from_nodes(root, nodes))
    }

    /// A subtree from nodes already read; children missing from `nodes` are dropped from
    /// their parent's list.
    pub(crate) fn from_nodes(root: &str, mut nodes: HashMap<String, Node>) -> Subtree {
        let present: Vec<(String, Vec<String>)> = nodes
            .iter()
            .map(|(path, node)| {
                let kept = node
                    .children
                    .iter()
                    .filter(|name| nodes.contains_key(&join(path, name)))
                    .cloned()
                    .collect();
                (path.clone(), kept)
            })
            .collect();
        for (path, kept) in present {
            if let Some(node) = nodes.get_mut(&path) {
                node.children = kept;
            }
        }
        Subtree {
            root: root.to_owned(),
            nodes,
        }
    }

    /// The path of the top node.
    pub(crate) fn root(&self) -> &str {
        &self.root
    }

    /// Every node, parents before their children and siblings in name order.
    pub(crate) fn depth_first(&self) -> Vec<Visit<'_>> {
        let mut visits = Vec::with_capacity(self.nodes.len());
        let mut stack = vec![(self.root.as_str(), self.root.as_str(), 0, true)];
        while let Some((path, name, depth, last)) = stack.pop() {
            let Some((path, node)) = self.nodes.get_key_value(path) else {
                continue;
            };
            visits.push(Visit {
                path,
                name,
                depth,
                last,
                node,
            });
            let count = node.children.len();
            for (i, child) in node.children.iter().enumerate().rev() {
                if let Some((child_path, _)) = self.nodes.get_key_value(&join(path, child)) {
                    stack.push((
                        child_path.as_str(),
                        child.as_str(),
                        depth + 1,
                        i + 1 == count,
                    ));
                }
            }
        }
        visits
    }
}

/// The full paths of `node`'s children.
fn children_paths(path: &str, node: &Node) -> Vec<String> {
    node.children.iter().map(|name| join(path, name)).collect()
}

/// Reads one node: its children (sorted) and Stat, and with `with_data` its data (both
/// requests at once); `None` if it does not exist (any more).
async fn read_node(zk: &ZkClient, path: &str, with_data: bool) -> Result<Option<Node>, Error> {
    let data = async {
        if with_data {
            zk.get_data(path).await.map(Some)
        } else {
            Ok(None)
        }
    };
    let (listed, read) = futures::join!(zk.get_children(path), data);
    let (mut children, stat) = match listed {
        Ok(found) => found,
        Err(Error::NoNode { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    children.sort_unstable();
    let (data, stat) = match read {
        Ok(Some(found)) => found,
        Ok(None) => (Vec::new(), stat),
        Err(Error::NoNode { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Node {
        children,
        stat,
        data,
    }))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A subtree from `(path, data)` pairs; children lists are derived from the paths.
    pub(crate) fn subtree(root: &str, nodes: &[(&str, &[u8])]) -> Subtree {
        let mut map: HashMap<String, Node> = nodes
            .iter()
            .map(|(path, data)| {
                let node = Node {
                    data: data.to_vec(),
                    ..Node::default()
                };
                ((*path).to_owned(), node)
            })
            .collect();
        for (path, _) in nodes {
            if let Some(parent) = zk_core::path::parent(path) {
                if let Some(node) = map.get_mut(parent) {
                    node.children.push(zk_core::path::name(path).to_owned());
                    node.children.sort_unstable();
                }
            }
        }
        Subtree::from_nodes(root, map)
    }

    #[test]
    fn depth_first_visits_parents_first_and_names_in_order() {
        // "/a-x" sorts before "/a/b" as a string, but is a sibling of /a, so it comes after
        // everything below /a.
        let tree = subtree(
            "/",
            &[
                ("/", b""),
                ("/a-x", b""),
                ("/a", b""),
                ("/a/b", b""),
                ("/a/b/c", b""),
                ("/b", b""),
            ],
        );
        let order: Vec<(&str, usize, bool)> = tree
            .depth_first()
            .iter()
            .map(|v| (v.path, v.depth, v.last))
            .collect();
        assert_eq!(
            order,
            [
                ("/", 0, true),
                ("/a", 1, false),
                ("/a/b", 2, true),
                ("/a/b/c", 3, true),
                ("/a-x", 1, false),
                ("/b", 1, true)
            ]
        );
    }

    #[test]
    fn children_that_were_not_read_are_dropped() {
        let mut nodes = HashMap::new();
        nodes.insert(
            "/r".to_owned(),
            Node {
                children: vec!["gone".into(), "here".into()],
                ..Node::default()
            },
        );
        nodes.insert("/r/here".to_owned(), Node::default());
        let tree = Subtree::from_nodes("/r", nodes);
        let paths: Vec<&str> = tree.depth_first().iter().map(|v| v.path).collect();
        assert_eq!(paths, ["/r", "/r/here"]);
        assert!(tree.depth_first()[1].last);
    }
}
