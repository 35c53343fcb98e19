//! Contender node names: ours, kazoo's and Curator's, so locks of all three exclude each other.

use uuid::Uuid;

/// How contender nodes are named, for interoperating with other ZooKeeper lock libraries on the
/// same lock path.
///
/// Every scheme's contenders are recognised and ordered by their sequence suffix whichever
/// scheme this lock writes; the scheme only decides what this lock's own nodes look like, so
/// that the other library sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Naming {
    /// `<uuid>-lock-<seq>` (readers `<uuid>-read-<seq>`, writers `<uuid>-write-<seq>`).
    #[default]
    Native,
    /// kazoo's `Lock`, `ReadLock` and `WriteLock`: `<uuid hex>__lock__<seq>` and
    /// `<uuid hex>__rlock__<seq>`.
    Kazoo,
    /// Curator's `InterProcessMutex` and `InterProcessReadWriteLock`: `_c_<uuid>-lock-<seq>`,
    /// `_c_<uuid>-__READ__<seq>` and `_c_<uuid>-__WRIT__<seq>`.
    Curator,
}

/// Whether a contender wants to share the lock or have it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContenderKind {
    /// A reader: shares the lock with other readers.
    Read,
    /// A writer, or a plain mutex contender: holds the lock alone.
    Exclusive,
}

/// One contender node found under a lock path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contender {
    /// The node's name (not its full path).
    pub name: String,
    /// The sequence number ZooKeeper appended; contenders are served in this order.
    pub sequence: i32,
    /// What the contender wants.
    pub kind: ContenderKind,
}

/// Markers of read contenders in every known scheme.
const READ_MARKERS: [&str; 3] = ["-read-", "__rlock__", "__READ__"];

impl Contender {
    /// Recognises a contender node by its name; `None` for nodes that are not contenders (no
    /// sequence suffix).
    pub fn parse(name: &str) -> Option<Contender> {
        let sequence = zk_core::path::sequence_number(name)?;
        let kind = if READ_MARKERS.iter().any(|m| name.contains(m)) {
            ContenderKind::Read
        } else {
            ContenderKind::Exclusive
        };
        Some(Contender {
            name: name.to_owned(),
            sequence,
            kind,
        })
    }
}

/// Parses and orders the children of a lock path: contenders only, by sequence.
pub(crate) fn sorted_contenders(children: &[String]) -> Vec<Contender> {
    let mut contenders: Vec<Contender> = children
        .iter()
        .filter_map(|c| Contender::parse(c))
        .collect();
    contenders.sort_by_key(|c| c.sequence);
    contenders
}

/// The name prefix of one acquisition attempt, and the tag that finds its node again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodePrefix {
    /// What the create request names (the server appends the sequence).
    pub(crate) prefix: String,
    /// A string only this attempt's node contains.
    pub(crate) tag: String,
}

impl NodePrefix {
    /// A fresh prefix for an attempt of `kind` under `naming`.
    pub(crate) fn new(naming: Naming, kind: ContenderKind) -> NodePrefix {
        let id = Uuid::new_v4();
        match naming {
            Naming::Native => {
                let tag = id.simple().to_string();
                let role = match kind {
                    ContenderKind::Read => "read",
                    ContenderKind::Exclusive => "lock",
                };
                NodePrefix {
                    prefix: format!("{tag}-{role}-"),
                    tag,
                }
            }
            Naming::Kazoo => {
                let tag = id.simple().to_string();
                let role = match kind {
                    ContenderKind::Read => "__rlock__",
                    ContenderKind::Exclusive => "__lock__",
                };
                NodePrefix {
                    prefix: format!("{tag}{role}"),
                    tag,
                }
            }
            Naming::Curator => {
                let tag = format!("_c_{}", id.hyphenated());
                NodePrefix {
                    prefix: format!("{tag}-{}", curator_lock_name(kind)),
                    tag,
                }
            }
        }
    }

    /// Like [`NodePrefix::new`], but a read/write lock's writer in the native scheme is named
    /// `-write-` and Curator's writer `__WRIT__`.
    pub(crate) fn for_rw(naming: Naming, kind: ContenderKind) -> NodePrefix {
        let mut prefix = NodePrefix::new(naming, kind);
        if kind == ContenderKind::Exclusive {
            match naming {
                Naming::Native => prefix.prefix = format!("{}-write-", prefix.tag),
                Naming::Curator => prefix.prefix = format!("{}-__WRIT__", prefix.tag),
                Naming::Kazoo => {}
            }
        }
        prefix
    }
}

fn curator_lock_name(kind: ContenderKind) -> &'static str {
    match kind {
        ContenderKind::Read => "__READ__",
        ContenderKind::Exclusive => "lock-",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_parses_with_its_kind_and_sequence() {
        let cases = [
            ("0f0e-lock-0000000007", 7, ContenderKind::Exclusive),
            ("0f0e-write-0000000008", 8, ContenderKind::Exclusive),
            ("0f0e-read-0000000009", 9, ContenderKind::Read),
            ("3c2a__lock__0000000001", 1, ContenderKind::Exclusive),
            ("3c2a__rlock__0000000002", 2, ContenderKind::Read),
            ("_c_9b1d-3f-lock-0000000003", 3, ContenderKind::Exclusive),
            ("_c_9b1d-3f-__WRIT__0000000004", 4, ContenderKind::Exclusive),
            ("_c_9b1d-3f-__READ__0000000005", 5, ContenderKind::Read),
        ];
        for (name, sequence, kind) in cases {
            let c = Contender::parse(name).unwrap();
            assert_eq!((c.sequence, c.kind), (sequence, kind), "{name}");
        }
        assert_eq!(Contender::parse("leases"), None);
    }

    #[test]
    fn mixed_schemes_sort_by_sequence() {
        let children = [
            "_c_x-lock-0000000012".to_owned(),
            "ab__lock__0000000003".to_owned(),
            "not-a-contender".to_owned(),
            "cd-lock-0000000007".to_owned(),
        ];
        let order: Vec<i32> = sorted_contenders(&children)
            .iter()
            .map(|c| c.sequence)
            .collect();
        assert_eq!(order, vec![3, 7, 12]);
    }

    #[test]
    fn prefixes_carry_their_tag_and_match_the_other_libraries() {
        let native = NodePrefix::new(Naming::Native, ContenderKind::Exclusive);
        assert!(native.prefix.starts_with(&native.tag) && native.prefix.ends_with("-lock-"));
        let kazoo = NodePrefix::new(Naming::Kazoo, ContenderKind::Read);
        assert_eq!(kazoo.tag.len(), 32);
        assert_eq!(kazoo.prefix, format!("{}__rlock__", kazoo.tag));
        let curator = NodePrefix::new(Naming::Curator, ContenderKind::Exclusive);
        assert!(curator.tag.starts_with("_c_") && curator.tag.len() == 39);
        assert_eq!(curator.prefix, format!("{}-lock-", curator.tag));
        let writer = NodePrefix::for_rw(Naming::Curator, ContenderKind::Exclusive);
        assert_eq!(writer.prefix, format!("{}-__WRIT__", writer.tag));
        let writer = NodePrefix::for_rw(Naming::Native, ContenderKind::Exclusive);
        assert!(writer.prefix.ends_with("-write-"));
        for p in [native, kazoo, curator, writer] {
            assert!(zk_core::path::validate_sequential_path(&format!("/l/{}", p.prefix)).is_ok());
        }
    }
}
