//! Operations of a `multi` transaction and of a `multi_read`, and their results.

use crate::types::create::CreateOptions;
use crate::types::stat::Stat;

/// One write of a `multi` transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Create a node.
    Create {
        /// Path to create (sequential modes append a suffix).
        path: String,
        /// The node's data.
        data: Vec<u8>,
        /// Mode, ACL and TTL.
        options: CreateOptions,
    },
    /// Delete a node.
    Delete {
        /// Path to delete.
        path: String,
        /// Expected data version; `None` for any.
        version: Option<i32>,
    },
    /// Replace a node's data.
    SetData {
        /// Path to write.
        path: String,
        /// New data.
        data: Vec<u8>,
        /// Expected data version; `None` for any.
        version: Option<i32>,
    },
    /// Assert that a node exists with a data version (and that the caller may read it).
    Check {
        /// Path to check.
        path: String,
        /// Expected data version; `None` for any.
        version: Option<i32>,
    },
}

impl Op {
    /// A create operation.
    pub fn create(path: impl Into<String>, data: impl Into<Vec<u8>>, options: CreateOptions) -> Op {
        Op::Create {
            path: path.into(),
            data: data.into(),
            options,
        }
    }

    /// A delete operation.
    pub fn delete(path: impl Into<String>, version: Option<i32>) -> Op {
        Op::Delete {
            path: path.into(),
            version,
        }
    }

    /// A set-data operation.
    pub fn set_data(path: impl Into<String>, data: impl Into<Vec<u8>>, version: Option<i32>) -> Op {
        Op::SetData {
            path: path.into(),
            data: data.into(),
            version,
        }
    }

    /// A version check.
    pub fn check(path: impl Into<String>, version: Option<i32>) -> Op {
        Op::Check {
            path: path.into(),
            version,
        }
    }

    /// The path the operation is about.
    pub fn path(&self) -> &str {
        match self {
            Op::Create { path, .. }
            | Op::Delete { path, .. }
            | Op::SetData { path, .. }
            | Op::Check { path, .. } => path,
        }
    }
}

/// The result of one operation of a successful `multi`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpResult {
    /// A node was created.
    Create {
        /// The actual path, with any sequence suffix.
        path: String,
        /// The new node's Stat, when the server reports it (ZooKeeper 3.8.0 does not for plain
        /// creates inside multi; containers and TTL nodes always have it).
        stat: Option<Stat>,
    },
    /// A node was deleted.
    Delete,
    /// A node's data was replaced.
    SetData {
        /// The node's new Stat.
        stat: Stat,
    },
    /// A check passed.
    Check,
}

/// One read of a `multi_read`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadOp {
    /// Read a node's data and Stat.
    GetData {
        /// Path to read.
        path: String,
    },
    /// List a node's children.
    GetChildren {
        /// Path to list.
        path: String,
    },
}

impl ReadOp {
    /// A data read.
    pub fn get_data(path: impl Into<String>) -> ReadOp {
        ReadOp::GetData { path: path.into() }
    }

    /// A children listing.
    pub fn get_children(path: impl Into<String>) -> ReadOp {
        ReadOp::GetChildren { path: path.into() }
    }

    /// The path the read is about.
    pub fn path(&self) -> &str {
        match self {
            ReadOp::GetData { path } | ReadOp::GetChildren { path } => path,
        }
    }
}

/// The result of one successful read of a `multi_read`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadResult {
    /// A node's data and Stat.
    Data {
        /// The data.
        data: Vec<u8>,
        /// The Stat.
        stat: Stat,
    },
    /// A node's children (in no particular order).
    Children {
        /// The child names.
        children: Vec<String>,
    },
}
