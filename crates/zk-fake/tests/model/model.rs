//! A tiny reference model of a ZooKeeper 3.8 server's data tree, written from the protocol
//! reference (sections 5.2, 7.1–7.13 and 8), not from the fake's code.
//!
//! It keeps a `BTreeMap` of nodes with their data, versions, zxids, ephemeral owner (a session
//! id), children and a per-parent create counter for sequence suffixes, and computes the exact
//! result, or the error the server's check order gives, for each operation.
//! Times (`ctime`/`mtime`) are left out: the tests run on a paused clock.

use std::collections::{BTreeMap, BTreeSet};

use zk_core::{Acl, CreateMode, CreateOptions, Error, Op, Stat};

/// The create mode of `options`, once they are checked to be within the model: the persistent
/// and ephemeral modes, plain or sequential, with the open ACL (containers, TTL nodes and ACL
/// checks are left out).
fn modelled_mode(options: &CreateOptions) -> CreateMode {
    let mode = options.mode;
    assert!(
        !mode.is_container() && !mode.is_ttl(),
        "the model has no containers or TTL nodes: {options:?}"
    );
    assert_open(&options.acl);
    mode
}

fn assert_open(acl: &[Acl]) {
    assert_eq!(acl, Acl::open_unsafe(), "the model checks no ACLs");
}

/// The Stat fields the model predicts: everything but the wall-clock times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatView {
    pub(crate) czxid: i64,
    pub(crate) mzxid: i64,
    pub(crate) pzxid: i64,
    pub(crate) version: i32,
    pub(crate) cversion: i32,
    pub(crate) aversion: i32,
    pub(crate) ephemeral_owner: i64,
    pub(crate) data_length: i32,
    pub(crate) num_children: i32,
}

impl From<&Stat> for StatView {
    fn from(s: &Stat) -> Self {
        StatView {
            czxid: s.czxid,
            mzxid: s.mzxid,
            pzxid: s.pzxid,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: s.ephemeral_owner,
            data_length: s.data_length,
            num_children: s.num_children,
        }
    }
}

/// One node of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    data: Vec<u8>,
    czxid: i64,
    mzxid: i64,
    pzxid: i64,
    version: i32,
    /// Creates plus deletes of children (section 8.3).
    cversion: i32,
    aversion: i32,
    /// The owning session's id, 0 for persistent nodes.
    ephemeral_owner: i64,
    children: BTreeSet<String>,
    /// Children ever created here: the next sequence suffix (section 8.3), never decremented.
    create_count: i32,
}

impl Node {
    fn new(data: &[u8], owner: i64, zxid: i64) -> Node {
        Node {
            data: data.to_vec(),
            czxid: zxid,
            mzxid: zxid,
            pzxid: zxid,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: owner,
            children: BTreeSet::new(),
            create_count: 0,
        }
    }

    pub(crate) fn stat(&self) -> StatView {
        StatView {
            czxid: self.czxid,
            mzxid: self.mzxid,
            pzxid: self.pzxid,
            version: self.version,
            cversion: self.cversion,
            aversion: self.aversion,
            ephemeral_owner: self.ephemeral_owner,
            data_length: self.data.len() as i32,
            num_children: self.children.len() as i32,
        }
    }
}

/// The expected result of one successful operation of a multi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MultiOut {
    /// The actual path; 3.8.0 reports no Stat for plain creates inside multi.
    Create(String),
    Delete,
    SetData(StatView),
    Check,
}

/// The whole model: the tree, the last zxid and the live sessions.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    nodes: BTreeMap<String, Node>,
    /// The zxid of the last transaction.
    pub(crate) zxid: i64,
    /// Ids of the live sessions.
    pub(crate) sessions: BTreeSet<i64>,
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn name(path: &str) -> &str {
    &path[path.rfind('/').map_or(0, |i| i + 1)..]
}

fn no_node(path: &str) -> Error {
    Error::NoNode {
        path: path.to_owned(),
    }
}

fn bad_version(path: &str, version: Option<i32>) -> Error {
    Error::BadVersion {
        path: path.to_owned(),
        expected: version.unwrap_or(-1),
    }
}

fn version_ok(expected: Option<i32>, actual: i32) -> bool {
    matches!(expected, None | Some(-1)) || expected == Some(actual)
}

/// The client-side path rules the generated paths can break (section 15): a trailing `/` is
/// only allowed on a sequential create. Such requests never reach the server.
fn client_check(path: &str, sequential: bool) -> Result<(), Error> {
    let invalid = |reason| {
        Err(Error::InvalidPath {
            path: path.to_owned(),
            reason,
        })
    };
    if !path.starts_with('/') {
        return invalid("path must start with /");
    }
    if path.len() > 1 && path.ends_with('/') && !sequential {
        return invalid("path must not end with /");
    }
    let body = path[1..].strip_suffix('/').unwrap_or(&path[1..]);
    if !body.is_empty() && body.split('/').any(str::is_empty) {
        return invalid("empty segment");
    }
    Ok(())
}

/// Compares errors by variant and path (and the other fields), but `InvalidPath` only by path:
/// the reason text is the client library's wording.
pub(crate) fn same_error(actual: &Error, expected: &Error) -> bool {
    match (actual, expected) {
        (Error::InvalidPath { path: a, .. }, Error::InvalidPath { path: b, .. }) => a == b,
        (
            Error::Multi {
                index: i,
                source: a,
            },
            Error::Multi {
                index: j,
                source: b,
            },
        ) => i == j && same_error(a, b),
        _ => actual == expected,
    }
}

impl Model {
    /// A fresh server: the root with its `/zookeeper` child (whose subtree the model leaves out),
    /// `zxid` transactions done and the given sessions open.
    pub(crate) fn new(zxid: i64, sessions: impl IntoIterator<Item = i64>) -> Model {
        let mut root = Node::new(b"", 0, 0);
        root.children.insert("zookeeper".to_owned());
        Model {
            nodes: BTreeMap::from([("/".to_owned(), root)]),
            zxid,
            sessions: sessions.into_iter().collect(),
        }
    }

    fn next_zxid(&mut self) -> i64 {
        self.zxid += 1;
        self.zxid
    }

    /// The checks of section 7.1 in order, then the change; `zxid` is the transaction's.
    fn apply_create(
        &mut self,
        path: &str,
        data: &[u8],
        mode: CreateMode,
        session: i64,
        zxid: i64,
    ) -> Result<(String, StatView), Error> {
        let parent_path = parent(path);
        let parent_node = self.nodes.get(parent_path).ok_or_else(|| no_node(path))?;
        let actual = if mode.is_sequential() {
            format!("{path}{:010}", parent_node.create_count)
        } else {
            path.to_owned()
        };
        // The error reply has no body (section 5.2): a client can only name the path it sent.
        if self.nodes.contains_key(&actual) {
            return Err(Error::NodeExists {
                path: path.to_owned(),
            });
        }
        if parent_node.ephemeral_owner != 0 {
            return Err(Error::NoChildrenForEphemerals {
                path: path.to_owned(),
            });
        }
        let owner = if mode.is_ephemeral() { session } else { 0 };
        let node = Node::new(data, owner, zxid);
        let stat = node.stat();
        let p = self.nodes.get_mut(parent_path).expect("checked above");
        p.children.insert(name(&actual).to_owned());
        p.cversion += 1;
        p.create_count += 1;
        p.pzxid = zxid;
        self.nodes.insert(actual.clone(), node);
        Ok((actual, stat))
    }

    /// Section 7.5: parent, node, version, children.
    fn apply_delete(&mut self, path: &str, version: Option<i32>, zxid: i64) -> Result<(), Error> {
        let parent_path = parent(path);
        if !self.nodes.contains_key(parent_path) {
            return Err(no_node(path));
        }
        let node = self.nodes.get(path).ok_or_else(|| no_node(path))?;
        if !version_ok(version, node.version) {
            return Err(bad_version(path, version));
        }
        if !node.children.is_empty() {
            return Err(Error::NotEmpty {
                path: path.to_owned(),
            });
        }
        self.remove(path, zxid);
        Ok(())
    }

    fn remove(&mut self, path: &str, zxid: i64) {
        self.nodes.remove(path);
        let p = self
            .nodes
            .get_mut(parent(path))
            .expect("a node's parent exists");
        p.children.remove(name(path));
        p.cversion += 1;
        p.pzxid = zxid;
    }

    /// Section 7.8: node, version.
    fn apply_set_data(
        &mut self,
        path: &str,
        data: &[u8],
        version: Option<i32>,
        zxid: i64,
    ) -> Result<StatView, Error> {
        let node = self.nodes.get_mut(path).ok_or_else(|| no_node(path))?;
        if !version_ok(version, node.version) {
            return Err(bad_version(path, version));
        }
        node.data = data.to_vec();
        node.version += 1;
        node.mzxid = zxid;
        Ok(node.stat())
    }

    /// Section 7.9 with a valid open ACL: node, aversion.
    fn apply_set_acl(&mut self, path: &str, version: Option<i32>) -> Result<StatView, Error> {
        let node = self.nodes.get_mut(path).ok_or_else(|| no_node(path))?;
        if !version_ok(version, node.aversion) {
            return Err(bad_version(path, version));
        }
        node.aversion += 1;
        Ok(node.stat())
    }

    /// Section 7.12.
    fn apply_check(&self, path: &str, version: Option<i32>) -> Result<(), Error> {
        let node = self.nodes.get(path).ok_or_else(|| no_node(path))?;
        if !version_ok(version, node.version) {
            return Err(bad_version(path, version));
        }
        Ok(())
    }

    /// A standalone create; a client-side rejection consumes no zxid, a server failure does.
    pub(crate) fn create(
        &mut self,
        path: &str,
        data: &[u8],
        options: &CreateOptions,
        session: i64,
    ) -> Result<(String, StatView), Error> {
        let mode = modelled_mode(options);
        client_check(path, mode.is_sequential())?;
        let zxid = self.next_zxid();
        self.apply_create(path, data, mode, session, zxid)
    }

    pub(crate) fn delete(&mut self, path: &str, version: Option<i32>) -> Result<(), Error> {
        client_check(path, false)?;
        let zxid = self.next_zxid();
        self.apply_delete(path, version, zxid)
    }

    pub(crate) fn set_data(
        &mut self,
        path: &str,
        data: &[u8],
        version: Option<i32>,
    ) -> Result<StatView, Error> {
        client_check(path, false)?;
        let zxid = self.next_zxid();
        self.apply_set_data(path, data, version, zxid)
    }

    /// A set_acl of the open ACL (the only one the model knows).
    pub(crate) fn set_acl(
        &mut self,
        path: &str,
        acl: &[Acl],
        version: Option<i32>,
    ) -> Result<StatView, Error> {
        assert_open(acl);
        client_check(path, false)?;
        self.next_zxid();
        self.apply_set_acl(path, version)
    }

    /// Section 7.13: all or nothing, one zxid, ops checked against the tree as changed by the
    /// earlier ops. An empty multi never reaches the server (the `Coordinator` contract).
    pub(crate) fn multi(&mut self, ops: &[Op], session: i64) -> Result<Vec<MultiOut>, Error> {
        for (index, op) in ops.iter().enumerate() {
            let checked = match op {
                Op::Create { path, options, .. } => {
                    client_check(path, modelled_mode(options).is_sequential())
                }
                other => client_check(other.path(), false),
            };
            checked.map_err(|source| Error::Multi {
                index,
                source: Box::new(source),
            })?;
        }
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let zxid = self.next_zxid();
        let mut scratch = self.clone();
        let mut results = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            let result = match op {
                Op::Create {
                    path,
                    data,
                    options,
                } => scratch
                    .apply_create(path, data, options.mode, session, zxid)
                    .map(|(actual, _)| MultiOut::Create(actual)),
                Op::Delete { path, version } => scratch
                    .apply_delete(path, *version, zxid)
                    .map(|()| MultiOut::Delete),
                Op::SetData {
                    path,
                    data,
                    version,
                } => scratch
                    .apply_set_data(path, data, *version, zxid)
                    .map(MultiOut::SetData),
                Op::Check { path, version } => scratch
                    .apply_check(path, *version)
                    .map(|()| MultiOut::Check),
                other => panic!("the model has no multi operation {other:?}"),
            };
            match result {
                Ok(out) => results.push(out),
                Err(source) => {
                    return Err(Error::Multi {
                        index,
                        source: Box::new(source),
                    });
                }
            }
        }
        self.nodes = scratch.nodes;
        Ok(results)
    }

    /// The session ends (close or expiry): one transaction deletes its ephemeral nodes.
    pub(crate) fn end_session(&mut self, session: i64) {
        assert!(
            self.sessions.remove(&session),
            "session {session:#x} is live"
        );
        let zxid = self.next_zxid();
        let owned: Vec<String> = self.ephemerals(session, "/");
        for path in owned {
            self.remove(&path, zxid);
        }
    }

    pub(crate) fn get_data(&self, path: &str) -> Result<(Vec<u8>, StatView), Error> {
        let node = self.nodes.get(path).ok_or_else(|| no_node(path))?;
        Ok((node.data.clone(), node.stat()))
    }

    pub(crate) fn exists(&self, path: &str) -> Option<StatView> {
        self.nodes.get(path).map(Node::stat)
    }

    /// Sorted child names and the node's Stat.
    pub(crate) fn get_children(&self, path: &str) -> Result<(Vec<String>, StatView), Error> {
        let node = self.nodes.get(path).ok_or_else(|| no_node(path))?;
        Ok((node.children.iter().cloned().collect(), node.stat()))
    }

    /// The session's ephemeral nodes whose path starts with `prefix` (a string prefix), sorted.
    pub(crate) fn ephemerals(&self, session: i64, prefix: &str) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(path, node)| node.ephemeral_owner == session && path.starts_with(prefix))
            .map(|(path, _)| path.clone())
            .collect()
    }

    /// Every node (the `/zookeeper` subtree aside) with its data and Stat.
    pub(crate) fn tree(&self) -> BTreeMap<String, (Vec<u8>, StatView)> {
        self.nodes
            .iter()
            .map(|(path, node)| (path.clone(), (node.data.clone(), node.stat())))
            .collect()
    }
}

#[test]
fn model_follows_the_sequence_counter_vector() {
    // Vector sequence-counter (section 8.3): the suffix counts creates, cversion creates+deletes.
    let mut m = Model::new(0, [7]);
    m.create("/seqc", b"", &CreateOptions::persistent(), 7)
        .unwrap();
    let (first, _) = m
        .create("/seqc/n-", b"", &CreateOptions::persistent_sequential(), 7)
        .unwrap();
    assert_eq!(first, "/seqc/n-0000000000");
    m.delete(&first, None).unwrap();
    assert_eq!(m.exists("/seqc").unwrap().cversion, 2);
    let (second, _) = m
        .create("/seqc/n-", b"", &CreateOptions::persistent_sequential(), 7)
        .unwrap();
    assert_eq!(second, "/seqc/n-0000000001");
    assert_eq!(m.exists("/seqc").unwrap().cversion, 3);
    assert_eq!(m.zxid, 4);
}

#[test]
fn model_checks_in_server_order() {
    let mut m = Model::new(0, [7]);
    m.create("/e", b"", &CreateOptions::ephemeral(), 7).unwrap();
    // NodeExists is checked before NoChildrenForEphemerals, a missing parent before both.
    assert!(matches!(
        m.create("/e", b"", &CreateOptions::persistent(), 7),
        Err(Error::NodeExists { .. })
    ));
    assert!(matches!(
        m.create("/e/c", b"", &CreateOptions::persistent(), 7),
        Err(Error::NoChildrenForEphemerals { .. })
    ));
    assert!(matches!(
        m.create("/x/c", b"", &CreateOptions::persistent(), 7),
        Err(Error::NoNode { .. })
    ));
    // A bad version is reported before NotEmpty.
    m.create("/p", b"", &CreateOptions::persistent(), 7)
        .unwrap();
    m.create("/p/c", b"", &CreateOptions::persistent(), 7)
        .unwrap();
    assert!(matches!(
        m.delete("/p", Some(3)),
        Err(Error::BadVersion { expected: 3, .. })
    ));
    assert!(matches!(m.delete("/p", None), Err(Error::NotEmpty { .. })));
    // A failed multi consumes one zxid and changes nothing.
    let before = (m.zxid, m.tree());
    let err = m
        .multi(&[Op::delete("/p/c", None), Op::check("/p", Some(9))], 7)
        .unwrap_err();
    assert_eq!(err.multi_index(), Some(1));
    assert_eq!((m.zxid, m.tree()), (before.0 + 1, before.1));
    // Client-side rejections consume nothing.
    assert!(matches!(
        m.create("/p/", b"", &CreateOptions::persistent(), 7),
        Err(Error::InvalidPath { .. })
    ));
    assert_eq!(m.zxid, before.0 + 1);
}
