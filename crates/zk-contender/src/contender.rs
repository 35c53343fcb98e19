//! Contender nodes as found under a recipe path: their order and what they want.

/// Whether a contender wants to share what it contends for or have it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContenderKind {
    /// A reader: shares with other readers.
    Read,
    /// A writer, a mutex contender, a leadership candidate or a lease holder.
    Exclusive,
}

/// One contender node found under a recipe path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contender {
    /// The node's name (not its full path).
    pub name: String,
    /// The sequence number ZooKeeper appended; contenders are served in this order.
    pub sequence: i32,
    /// What the contender wants, from the read markers of every known naming scheme.
    pub kind: ContenderKind,
}

/// Markers of read contenders in every known scheme: ours, kazoo's and Curator's.
const READ_MARKERS: [&str; 3] = ["-read-", "__rlock__", "__READ__"];

impl Contender {
    /// Recognises a contender node by its name; `None` for nodes that are not contenders (no
    /// ten-digit sequence suffix).
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

/// Parses and orders the children of a recipe path: contenders only, by sequence number, in
/// whatever scheme each was named.
pub fn sorted_contenders(children: &[String]) -> Vec<Contender> {
    let mut contenders: Vec<Contender> = children
        .iter()
        .filter_map(|c| Contender::parse(c))
        .collect();
    contenders.sort_by_key(|c| c.sequence);
    contenders
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
            ("_c_9b1d-3f-latch-0000000006", 6, ContenderKind::Exclusive),
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
}
