//! What a followed watch reads: a node's data or its children, with the one-shot watch that
//! tells of the next change, and the zxid that versions each value.

use async_trait::async_trait;
use zk_core::{Coordinator, Error, OneshotWatch, Stat};

/// A node's data and Stat, as a data watch yields it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeData {
    /// The node's data.
    pub data: Vec<u8>,
    /// The node's Stat when the data was read.
    pub stat: Stat,
}

/// A node's children, sorted by name, and the node's Stat, as a children watch yields them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Children {
    /// The children's names, sorted.
    pub names: Vec<String>,
    /// The parent's Stat when the children were listed.
    pub stat: Stat,
}

/// How to read one kind of value and watch it.
#[async_trait]
pub(crate) trait Source: Send + Sync + 'static {
    /// What is read.
    type Value: Clone + Send + Sync + 'static;

    /// Reads the value at `path` and sets a watch that fires on its next change; `NoNode`
    /// when there is no such node.
    async fn read(
        &self,
        zk: &dyn Coordinator,
        path: &str,
    ) -> Result<(Self::Value, OneshotWatch), Error>;

    /// Reads the value at `path` without setting a watch (another watch covers it); `NoNode`
    /// when there is no such node.
    async fn peek(&self, zk: &dyn Coordinator, path: &str) -> Result<Self::Value, Error>;

    /// The zxid that changes whenever the value does: equal versions mean equal values.
    fn version(value: &Self::Value) -> i64;
}

/// A node's data, versioned by `mzxid` (a re-created node has a new one).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Data;

/// A node's children, versioned by `pzxid` (a re-created node starts from its own czxid).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChildList;

#[async_trait]
impl Source for Data {
    type Value = NodeData;

    async fn read(
        &self,
        zk: &dyn Coordinator,
        path: &str,
    ) -> Result<(NodeData, OneshotWatch), Error> {
        let (data, stat, watch) = zk.watch_data(path).await?;
        Ok((NodeData { data, stat }, watch))
    }

    async fn peek(&self, zk: &dyn Coordinator, path: &str) -> Result<NodeData, Error> {
        let (data, stat) = zk.get_data(path).await?;
        Ok(NodeData { data, stat })
    }

    fn version(value: &NodeData) -> i64 {
        value.stat.mzxid
    }
}

#[async_trait]
impl Source for ChildList {
    type Value = Children;

    async fn read(
        &self,
        zk: &dyn Coordinator,
        path: &str,
    ) -> Result<(Children, OneshotWatch), Error> {
        let (mut names, stat, watch) = zk.watch_children(path).await?;
        names.sort_unstable();
        Ok((Children { names, stat }, watch))
    }

    async fn peek(&self, zk: &dyn Coordinator, path: &str) -> Result<Children, Error> {
        let (mut names, stat) = zk.get_children(path).await?;
        names.sort_unstable();
        Ok(Children { names, stat })
    }

    fn version(value: &Children) -> i64 {
        value.stat.pzxid
    }
}
