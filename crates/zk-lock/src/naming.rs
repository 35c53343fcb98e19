//! Contender node names: ours, kazoo's and Curator's, so locks of all three exclude each other.
//!
//! The engine ([`zk_contender`]) recognises and orders every scheme; this file only says what
//! this lock's own nodes look like under each [`Naming`]:
//!
//! - [`Naming::Native`]: `<uuid>-lock-<seq>` (readers `<uuid>-read-<seq>`, writers
//!   `<uuid>-write-<seq>`).
//! - [`Naming::Kazoo`]: kazoo's `Lock`, `ReadLock` and `WriteLock`, `<uuid hex>__lock__<seq>`
//!   and `<uuid hex>__rlock__<seq>`.
//! - [`Naming::Curator`]: Curator's `InterProcessMutex` and `InterProcessReadWriteLock`,
//!   `_c_<uuid>-lock-<seq>`, `_c_<uuid>-__READ__<seq>` and `_c_<uuid>-__WRIT__<seq>`.

use zk_contender::{ContenderKind, Naming, NodePrefix};

/// A fresh prefix for an attempt of `kind` under `naming`; `read_write` names a read/write
/// lock's writer `-write-` (native) or `__WRIT__` (Curator) rather than a mutex's `lock`.
pub(crate) fn node_prefix(naming: Naming, kind: ContenderKind, read_write: bool) -> NodePrefix {
    use ContenderKind::{Exclusive, Read};
    let marker = match (naming, kind, read_write) {
        (Naming::Native, Read, _) => "-read-",
        (Naming::Native, Exclusive, true) => "-write-",
        (Naming::Native, Exclusive, false) => "-lock-",
        (Naming::Kazoo, Read, _) => "__rlock__",
        (Naming::Kazoo, Exclusive, _) => "__lock__",
        (Naming::Curator, Read, _) => "-__READ__",
        (Naming::Curator, Exclusive, true) => "-__WRIT__",
        (Naming::Curator, Exclusive, false) => "-lock-",
    };
    NodePrefix::new(naming.tag_style(), marker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_contender::Contender;

    #[test]
    fn prefixes_match_the_other_libraries_and_parse_back_to_their_kind() {
        use ContenderKind::{Exclusive, Read};
        let native = node_prefix(Naming::Native, Exclusive, false);
        assert!(native.prefix.starts_with(&native.tag) && native.prefix.ends_with("-lock-"));
        let kazoo = node_prefix(Naming::Kazoo, Read, true);
        assert_eq!(kazoo.tag.len(), 32);
        assert_eq!(kazoo.prefix, format!("{}__rlock__", kazoo.tag));
        let curator = node_prefix(Naming::Curator, Exclusive, false);
        assert!(curator.tag.starts_with("_c_") && curator.tag.len() == 39);
        assert_eq!(curator.prefix, format!("{}-lock-", curator.tag));
        let writer = node_prefix(Naming::Curator, Exclusive, true);
        assert_eq!(writer.prefix, format!("{}-__WRIT__", writer.tag));
        assert!(
            node_prefix(Naming::Native, Exclusive, true)
                .prefix
                .ends_with("-write-")
        );
        for naming in [Naming::Native, Naming::Kazoo, Naming::Curator] {
            for kind in [Read, Exclusive] {
                for rw in [false, true] {
                    let p = node_prefix(naming, kind, rw);
                    let node = format!("{}0000000042", p.prefix);
                    assert_eq!(Contender::parse(&node).unwrap().kind, kind, "{node}");
                    assert!(
                        zk_core::path::validate_sequential_path(&format!("/l/{}", p.prefix))
                            .is_ok()
                    );
                }
            }
        }
    }
}
