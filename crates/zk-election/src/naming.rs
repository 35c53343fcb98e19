//! Candidate nodes of all three libraries: what this crate's nodes are called and hold under
//! each [`Naming`], and how any candidate's node is read back.
//!
//! The engine ([`zk_contender`]) orders every scheme's nodes by sequence number; this file says
//! only what an election node looks like, and where the id is in its data.

use zk_contender::{Naming, NodePrefix};

/// The role marker of native candidate nodes.
const NATIVE_MARKER: &str = "-candidate-";

/// A fresh prefix for one attempt under `naming`: `<uuid hex>-candidate-` (native),
/// `<uuid hex>__lock__` (kazoo's `Election`, which is a kazoo `Lock`), or `_c_<uuid>-latch-`
/// (Curator's `LeaderLatch`).
pub(crate) fn node_prefix(naming: Naming) -> NodePrefix {
    let marker = match naming {
        Naming::Native => NATIVE_MARKER,
        Naming::Kazoo => "__lock__",
        Naming::Curator => "-latch-",
    };
    NodePrefix::new(naming.tag_style(), marker)
}

/// Whether `naming`'s nodes can hold candidate data besides the id: only native ones, since
/// kazoo and Curator read the whole node as the id.
pub(crate) fn holds_data(naming: Naming) -> bool {
    naming == Naming::Native
}

/// What a candidate with `id` and `data` writes into its node: the id in UTF-8, and for a
/// native node with data a NUL byte and the data.
pub(crate) fn node_data(naming: Naming, id: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = id.as_bytes().to_vec();
    if holds_data(naming) && !data.is_empty() {
        bytes.push(0);
        bytes.extend_from_slice(data);
    }
    bytes
}

/// Splits the data of the candidate node `name` into the id and the candidate data, as the
/// node's scheme wrote them: a native node's id ends at the first NUL byte; every other node
/// (kazoo's, Curator's, or one this crate does not know) is all id.
pub(crate) fn split_node_data<'a>(name: &str, bytes: &'a [u8]) -> (&'a [u8], &'a [u8]) {
    let native = !name.starts_with("_c_") && name.contains(NATIVE_MARKER);
    match bytes.iter().position(|&b| b == 0) {
        Some(nul) if native => (&bytes[..nul], &bytes[nul + 1..]),
        _ => (bytes, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_contender::{Contender, ContenderKind};

    #[test]
    fn prefixes_match_the_other_libraries() {
        let native = node_prefix(Naming::Native);
        assert_eq!(native.prefix, format!("{}-candidate-", native.tag));
        assert_eq!(native.tag.len(), 32);
        let kazoo = node_prefix(Naming::Kazoo);
        assert_eq!(kazoo.prefix, format!("{}__lock__", kazoo.tag));
        assert!(kazoo.tag.bytes().all(|b| b.is_ascii_hexdigit()) && kazoo.tag.len() == 32);
        let curator = node_prefix(Naming::Curator);
        assert!(curator.tag.starts_with("_c_") && curator.tag.len() == 39);
        assert_eq!(curator.prefix, format!("{}-latch-", curator.tag));
        for naming in [Naming::Native, Naming::Kazoo, Naming::Curator] {
            let p = node_prefix(naming);
            let node = format!("{}0000000042", p.prefix);
            let contender = Contender::parse(&node).unwrap();
            assert_eq!(contender.sequence, 42, "{node}");
            assert_eq!(contender.kind, ContenderKind::Exclusive, "{node}");
            assert!(zk_core::path::validate_sequential_path(&format!("/e/{}", p.prefix)).is_ok());
        }
    }

    #[test]
    fn node_data_round_trips_through_the_node_name() {
        for naming in [Naming::Native, Naming::Kazoo, Naming::Curator] {
            let name = format!("{}0000000001", node_prefix(naming).prefix);
            let bytes = node_data(naming, "worker-7", b"");
            assert_eq!(bytes, b"worker-7", "{naming:?}: the id alone");
            assert_eq!(split_node_data(&name, &bytes), (&b"worker-7"[..], &b""[..]));
        }
        let name = format!("{}0000000001", node_prefix(Naming::Native).prefix);
        let bytes = node_data(Naming::Native, "worker-7", b"10.0.0.7:80\0x");
        assert_eq!(bytes, b"worker-7\x0010.0.0.7:80\0x");
        assert_eq!(
            split_node_data(&name, &bytes),
            (&b"worker-7"[..], &b"10.0.0.7:80\0x"[..]),
            "data may contain NUL; the id ends at the first"
        );
        assert_eq!(node_data(Naming::Kazoo, "k", b"ignored"), b"k");
        assert!(holds_data(Naming::Native));
        assert!(!holds_data(Naming::Kazoo) && !holds_data(Naming::Curator));
    }

    #[test]
    fn foreign_and_garbage_data_is_all_id() {
        // kazoo and Curator ids may hold a NUL; only native nodes are split.
        let kazoo = "0123456789abcdef0123456789abcdef__lock__0000000003";
        assert_eq!(split_node_data(kazoo, b"a\0b"), (&b"a\0b"[..], &b""[..]));
        let curator = "_c_9b1d3f7e-0c4a-4f62-8a55-2e8f3c6d7b10-latch-0000000004";
        assert_eq!(
            split_node_data(curator, b"\xff\xfe"),
            (&b"\xff\xfe"[..], &b""[..])
        );
        let curator_with_marker = "_c_9b1d3f7e-0c4a-4f62-8a55-2e8f3c6d7b10-candidate-0000000004";
        assert_eq!(split_node_data(curator_with_marker, b"a\0b").1, b"");
        let native = "0123456789abcdef0123456789abcdef-candidate-0000000005";
        assert_eq!(split_node_data(native, b""), (&b""[..], &b""[..]));
        assert_eq!(split_node_data(native, b"\0"), (&b""[..], &b""[..]));
        assert_eq!(
            split_node_data(native, b"\xff\0\xfe"),
            (&b"\xff"[..], &b"\xfe"[..])
        );
    }
}
