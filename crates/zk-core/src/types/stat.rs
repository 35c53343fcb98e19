//! The `Stat` record: a node's metadata.

/// A node's metadata, exactly as ZooKeeper reports it (68 bytes on the wire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Stat {
    /// Zxid of the transaction that created the node.
    pub czxid: i64,
    /// Zxid of the last data change; equals `czxid` until the first `set_data`.
    pub mzxid: i64,
    /// Creation time, milliseconds since the Unix epoch.
    pub ctime: i64,
    /// Time of the last data change, milliseconds since the Unix epoch.
    pub mtime: i64,
    /// Number of data changes.
    pub version: i32,
    /// Number of child changes as clients see it: child creates plus child deletes.
    pub cversion: i32,
    /// Number of ACL changes.
    pub aversion: i32,
    /// Session id of the owner for ephemeral nodes, otherwise 0 (containers and TTL nodes too).
    pub ephemeral_owner: i64,
    /// Length of the data in bytes (0 for empty data).
    pub data_length: i32,
    /// Number of direct children.
    pub num_children: i32,
    /// Zxid of the last change to the set of children; equals `czxid` until then.
    pub pzxid: i64,
}

impl Stat {
    /// True when the node is ephemeral (has an owning session).
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral_owner != 0
    }
}
