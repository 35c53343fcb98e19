//! The operations as the server runs them: checks in the server's order, then the change.

use zk_core::path::{format_sequence, name, parent, validate_path};
use zk_core::{
    Acl, CreateOptions, Created, Error, EventType, Op, OpResult, Perms, ReadOp, ReadResult, Result,
    Stat,
};

use crate::acl_check::{allows, fix_acl, mask_digests};
use crate::ensemble::ServerState;
use crate::tree::{Node, NodeKind, SYSTEM_PATHS, Tree};

/// The original state of every node a multi touched, to put back if a later op fails.
#[derive(Debug, Default)]
pub(crate) struct Undo {
    saved: Vec<(String, Option<Node>)>,
}

impl Undo {
    fn save(undo: &mut Option<&mut Undo>, tree: &Tree, path: &str) {
        if let Some(undo) = undo.as_deref_mut() {
            if !undo.saved.iter().any(|(p, _)| p == path) {
                undo.saved.push((path.to_owned(), tree.get(path).cloned()));
            }
        }
    }

    fn rollback(self, tree: &mut Tree) {
        for (path, node) in self.saved.into_iter().rev() {
            tree.restore(path, node);
        }
    }
}

fn no_node(path: &str) -> Error {
    Error::NoNode {
        path: path.to_owned(),
    }
}

fn no_auth(path: &str) -> Error {
    Error::NoAuth {
        path: path.to_owned(),
    }
}

fn version_matches(expected: Option<i32>, actual: i32) -> bool {
    match expected {
        None | Some(-1) => true,
        Some(v) => v == actual,
    }
}

fn bad_version(path: &str, expected: Option<i32>) -> Error {
    Error::BadVersion {
        path: path.to_owned(),
        expected: expected.unwrap_or(-1),
    }
}

impl ServerState {
    /// The session id if the client can issue requests now, else the error it gets.
    pub(crate) fn usable(&self, client: u64) -> Result<i64> {
        use crate::ensemble::Link;
        let c = self.client(client);
        match c.link {
            Link::Connected => Ok(c.session_id),
            Link::Disconnected { .. } => Err(Error::ConnectionLoss),
            Link::Expired => Err(Error::SessionExpired),
            Link::AuthFailed => Err(Error::AuthFailed),
            Link::Closed => Err(Error::Closed),
        }
    }

    /// The node at `path`, if the client holds `perm` on it.
    fn readable(&self, client: u64, path: &str, perm: Perms) -> Result<&Node> {
        let node = self.tree.get(path).ok_or_else(|| no_node(path))?;
        if !allows(&node.acl, &self.client(client).identities, perm) {
            return Err(no_auth(path));
        }
        Ok(node)
    }

    /// Queues a node event for delivery when the operation completes.
    fn event(&mut self, kind: EventType, path: &str, acl: Vec<Acl>) {
        self.events.push(crate::ensemble::NodeEvent {
            kind,
            path: path.to_owned(),
            acl,
        });
    }

    /// Queues `NodeChildrenChanged` for `parent`, judged by the parent's ACL.
    fn child_event(&mut self, parent: &str) {
        let acl = self
            .tree
            .get(parent)
            .map(|p| p.acl.clone())
            .unwrap_or_default();
        self.event(EventType::NodeChildrenChanged, parent, acl);
    }

    /// Removes a node as part of transaction `zxid` and queues its events.
    pub(crate) fn remove_node(&mut self, path: &str, zxid: i64) {
        let parent_path = parent(path).unwrap_or("/");
        let removed = self.tree.remove(parent_path, name(path), path, zxid);
        if let (Some(node), true) = (removed, self.watched) {
            self.event(EventType::NodeDeleted, path, node.acl);
            self.child_event(parent_path);
        }
    }

    pub(crate) fn create(
        &mut self,
        client: u64,
        path: &str,
        data: &[u8],
        options: &CreateOptions,
        zxid: i64,
        mut undo: Option<&mut Undo>,
    ) -> Result<Created> {
        let mode = options.mode;
        if mode.is_ttl() && !self.config.extended_types {
            return Err(Error::Unimplemented {
                operation: "create with TTL (extended types are disabled)",
            });
        }
        let identities = &self.client(client).identities;
        let acl = fix_acl(&options.acl, identities).ok_or_else(|| Error::InvalidAcl {
            path: path.to_owned(),
        })?;
        let parent_path = if path == "/" {
            "/"
        } else {
            parent(path).unwrap_or("/")
        };
        let parent_node = self.tree.get(parent_path).ok_or_else(|| no_node(path))?;
        if !allows(&parent_node.acl, identities, Perms::CREATE) {
            return Err(no_auth(path));
        }
        let final_path = if mode.is_sequential() {
            format!("{path}{}", format_sequence(parent_node.create_count))
        } else {
            path.to_owned()
        };
        // The client checked the requested path; only a sequence suffix can still break it.
        if mode.is_sequential() && validate_path(&final_path).is_err() {
            return Err(Error::BadArguments("invalid path"));
        }
        if self.tree.contains(&final_path) {
            // The server's error reply has no body, so a client can only name the path it sent.
            return Err(Error::NodeExists {
                path: path.to_owned(),
            });
        }
        if matches!(parent_node.kind, NodeKind::Ephemeral(_)) {
            return Err(Error::NoChildrenForEphemerals {
                path: path.to_owned(),
            });
        }
        let session_id = self.client(client).session_id;
        let kind = if mode.is_ephemeral() {
            NodeKind::Ephemeral(session_id)
        } else if mode.is_container() {
            NodeKind::Container
        } else if mode.is_ttl() {
            NodeKind::Ttl(options.ttl_millis()?.unwrap_or(i64::MAX))
        } else {
            NodeKind::Persistent
        };
        let now = self.now_millis();
        let stat = Stat {
            czxid: zxid,
            mzxid: zxid,
            ctime: now,
            mtime: now,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: if mode.is_ephemeral() { session_id } else { 0 },
            data_length: data.len() as i32,
            num_children: 0,
            pzxid: zxid,
        };
        let node = Node {
            data: data.to_vec(),
            acl,
            stat,
            children: Default::default(),
            create_count: 0,
            kind,
        };
        Undo::save(&mut undo, &self.tree, parent_path);
        Undo::save(&mut undo, &self.tree, &final_path);
        let parent_path = parent_path.to_owned();
        let acl = self.watched.then(|| node.acl.clone());
        self.tree
            .insert_child(&parent_path, name(&final_path), final_path.clone(), node);
        if let Some(acl) = acl {
            self.event(EventType::NodeCreated, &final_path, acl);
            self.child_event(&parent_path);
        }
        if matches!(kind, NodeKind::Container | NodeKind::Ttl(_)) {
            self.sweep_wanted = true;
        }
        Ok(Created {
            path: final_path,
            stat,
        })
    }

    pub(crate) fn delete(
        &mut self,
        client: u64,
        path: &str,
        version: Option<i32>,
        zxid: i64,
        mut undo: Option<&mut Undo>,
    ) -> Result<()> {
        if SYSTEM_PATHS.contains(&path) {
            return Err(Error::BadArguments("cannot delete a system node"));
        }
        let parent_path = parent(path).unwrap_or("/");
        let parent_node = self.tree.get(parent_path).ok_or_else(|| no_node(path))?;
        if !allows(
            &parent_node.acl,
            &self.client(client).identities,
            Perms::DELETE,
        ) {
            return Err(no_auth(path));
        }
        let node = self.tree.get(path).ok_or_else(|| no_node(path))?;
        if !version_matches(version, node.stat.version) {
            return Err(bad_version(path, version));
        }
        if !node.children.is_empty() {
            return Err(Error::NotEmpty {
                path: path.to_owned(),
            });
        }
        Undo::save(&mut undo, &self.tree, parent_path);
        Undo::save(&mut undo, &self.tree, path);
        self.remove_node(path, zxid);
        Ok(())
    }

    pub(crate) fn set_data(
        &mut self,
        client: u64,
        path: &str,
        data: &[u8],
        version: Option<i32>,
        zxid: i64,
        mut undo: Option<&mut Undo>,
    ) -> Result<Stat> {
        let node = self.readable(client, path, Perms::WRITE)?;
        if !version_matches(version, node.stat.version) {
            return Err(bad_version(path, version));
        }
        Undo::save(&mut undo, &self.tree, path);
        let now = self.now_millis();
        let node = self.tree.get_mut(path).ok_or_else(|| no_node(path))?;
        node.data.clear();
        node.data.extend_from_slice(data);
        node.stat.version = node.stat.version.wrapping_add(1);
        node.stat.mzxid = zxid;
        node.stat.mtime = now;
        node.stat.data_length = data.len() as i32;
        let stat = node.stat;
        if self.watched {
            let acl = node.acl.clone();
            self.event(EventType::NodeDataChanged, path, acl);
        }
        Ok(stat)
    }

    fn check(&self, client: u64, path: &str, version: Option<i32>) -> Result<()> {
        let node = self.readable(client, path, Perms::READ)?;
        if !version_matches(version, node.stat.version) {
            return Err(bad_version(path, version));
        }
        Ok(())
    }

    pub(crate) fn set_acl(
        &mut self,
        client: u64,
        path: &str,
        acl: &[Acl],
        version: Option<i32>,
    ) -> Result<Stat> {
        let acl =
            fix_acl(acl, &self.client(client).identities).ok_or_else(|| Error::InvalidAcl {
                path: path.to_owned(),
            })?;
        let node = self.readable(client, path, Perms::ADMIN)?;
        if !version_matches(version, node.stat.aversion) {
            return Err(bad_version(path, version));
        }
        let node = self.tree.get_mut(path).ok_or_else(|| no_node(path))?;
        node.acl = acl;
        node.stat.aversion = node.stat.aversion.wrapping_add(1);
        Ok(node.stat)
    }

    pub(crate) fn multi(&mut self, client: u64, ops: &[Op]) -> Result<Vec<OpResult>> {
        let zxid = self.next_zxid();
        let mut undo = Undo::default();
        let mark = self.events.len();
        let mut results = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            let result = match op {
                Op::Create {
                    path,
                    data,
                    options,
                } => self
                    .create(client, path, data, options, zxid, Some(&mut undo))
                    .map(|created| {
                        let with_stat = options.mode.is_container()
                            || options.mode.is_ttl()
                            || self.config.multi_create_stat;
                        OpResult::Create {
                            path: created.path,
                            stat: with_stat.then_some(created.stat),
                        }
                    }),
                Op::Delete { path, version } => self
                    .delete(client, path, *version, zxid, Some(&mut undo))
                    .map(|()| OpResult::Delete),
                Op::SetData {
                    path,
                    data,
                    version,
                } => self
                    .set_data(client, path, data, *version, zxid, Some(&mut undo))
                    .map(|stat| OpResult::SetData { stat }),
                Op::Check { path, version } => {
                    self.check(client, path, *version).map(|()| OpResult::Check)
                }
                _ => Err(Error::Unimplemented {
                    operation: "this multi operation",
                }),
            };
            match result {
                Ok(result) => results.push(result),
                Err(source) => {
                    undo.rollback(&mut self.tree);
                    self.events.truncate(mark);
                    return Err(Error::Multi {
                        index,
                        source: Box::new(source),
                    });
                }
            }
        }
        Ok(results)
    }

    pub(crate) fn exists(&self, path: &str) -> Option<Stat> {
        self.tree.get(path).map(|node| node.stat)
    }

    pub(crate) fn get_data(&self, client: u64, path: &str) -> Result<(Vec<u8>, Stat)> {
        let node = self.readable(client, path, Perms::READ)?;
        Ok((node.data.clone(), node.stat))
    }

    pub(crate) fn get_children(&self, client: u64, path: &str) -> Result<(Vec<String>, Stat)> {
        let node = self.readable(client, path, Perms::READ)?;
        Ok((node.children.iter().cloned().collect(), node.stat))
    }

    pub(crate) fn get_acl(&self, client: u64, path: &str) -> Result<(Vec<Acl>, Stat)> {
        let node = self.tree.get(path).ok_or_else(|| no_node(path))?;
        let identities = &self.client(client).identities;
        if allows(&node.acl, identities, Perms::ADMIN) {
            Ok((node.acl.clone(), node.stat))
        } else if allows(&node.acl, identities, Perms::READ) {
            Ok((mask_digests(&node.acl), node.stat))
        } else {
            Err(no_auth(path))
        }
    }

    pub(crate) fn multi_read(&self, client: u64, ops: &[ReadOp]) -> Vec<Result<ReadResult>> {
        ops.iter()
            .map(|op| match op {
                ReadOp::GetData { path } => self
                    .get_data(client, path)
                    .map(|(data, stat)| ReadResult::Data { data, stat }),
                ReadOp::GetChildren { path } => self
                    .get_children(client, path)
                    .map(|(children, _)| ReadResult::Children { children }),
                _ => Err(Error::Unimplemented {
                    operation: "this multi_read operation",
                }),
            })
            .collect()
    }

    pub(crate) fn get_ephemerals(&self, session_id: i64, prefix: &str) -> Vec<String> {
        let mut found: Vec<String> = self
            .tree
            .iter()
            .filter(|(path, node)| {
                node.kind == NodeKind::Ephemeral(session_id) && path.starts_with(prefix)
            })
            .map(|(path, _)| path.clone())
            .collect();
        found.sort_unstable();
        found
    }

    pub(crate) fn all_children_number(&self, client: u64, path: &str) -> Result<i32> {
        self.readable(client, path, Perms::READ)?;
        Ok(self.tree.descendant_count(path))
    }
}
