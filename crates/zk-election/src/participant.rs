//! `Participant`: one candidate as an observer sees it, read from its node.

use zk_contender::Contender;
use zk_core::{Coordinator, CoordinatorExt, Error, Stat};

use crate::naming::split_node_data;

/// One candidate in an election, read from its node: who it is, what it published, and its
/// term were it (or is it) the leader.
///
/// Read the same way for every scheme: the id comes from the node's data ([`crate::Naming`]
/// says where), never from its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Participant {
    /// The candidate's id, decoded as UTF-8; bytes that are not UTF-8 (another library's node,
    /// say) are replaced by U+FFFD. [`Participant::id_bytes`] has them as stored.
    pub id: String,
    /// The id exactly as stored.
    pub id_bytes: Vec<u8>,
    /// The candidate's data (empty for kazoo's and Curator's nodes, which hold only an id).
    pub data: Vec<u8>,
    /// The czxid of the candidate's node: strictly increasing from one candidate to the next,
    /// so the leader's is its term and a fencing token.
    pub term: i64,
    /// The node's name under the election path.
    pub node: String,
    /// The node's sequence number: candidates are served in this order.
    pub sequence: i32,
    /// The session that owns the node.
    pub session_id: i64,
}

impl Participant {
    /// A participant from its contender entry and its node's data and Stat.
    pub(crate) fn from_node(contender: &Contender, bytes: &[u8], stat: &Stat) -> Participant {
        let (id, data) = split_node_data(&contender.name, bytes);
        Participant {
            id: String::from_utf8_lossy(id).into_owned(),
            id_bytes: id.to_vec(),
            data: data.to_vec(),
            term: stat.czxid,
            node: contender.name.clone(),
            sequence: contender.sequence,
            session_id: stat.ephemeral_owner,
        }
    }

    /// Whether the stored id is valid UTF-8 (so [`Participant::id`] is exactly it).
    pub fn id_is_utf8(&self) -> bool {
        std::str::from_utf8(&self.id_bytes).is_ok()
    }
}

/// Reads `contender`'s node under `dir`, riding out connection loss; `None` when it is gone.
pub(crate) async fn read<C: Coordinator + ?Sized>(
    zk: &C,
    dir: &str,
    contender: &Contender,
) -> Result<Option<Participant>, Error> {
    let path = zk_core::path::join(dir, &contender.name);
    loop {
        match zk.get_if_exists(&path).await {
            Ok(found) => {
                return Ok(
                    found.map(|(bytes, stat)| Participant::from_node(contender, &bytes, &stat))
                );
            }
            Err(e) => zk.recover(e).await?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(czxid: i64, owner: i64) -> Stat {
        Stat {
            czxid,
            ephemeral_owner: owner,
            ..Stat::default()
        }
    }

    #[test]
    fn every_scheme_reads_its_id_from_the_data() {
        let native =
            Contender::parse("0123456789abcdef0123456789abcdef-candidate-0000000002").unwrap();
        let p = Participant::from_node(&native, b"api-1\0{\"port\":80}", &stat(77, 5));
        assert_eq!(
            (p.id.as_str(), &p.data[..]),
            ("api-1", &b"{\"port\":80}"[..])
        );
        assert_eq!((p.term, p.sequence, p.session_id), (77, 2, 5));
        assert!(p.id_is_utf8());
        let kazoo = Contender::parse("0123456789abcdef0123456789abcdef__lock__0000000003").unwrap();
        let p = Participant::from_node(&kazoo, "kazoo-ü".as_bytes(), &stat(78, 6));
        assert_eq!((p.id.as_str(), p.data.len()), ("kazoo-ü", 0));
        assert_eq!(p.node, kazoo.name);
    }

    #[test]
    fn ids_that_are_not_utf8_are_kept_and_replaced() {
        let curator =
            Contender::parse("_c_9b1d3f7e-0c4a-4f62-8a55-2e8f3c6d7b10-latch-0000000004").unwrap();
        let p = Participant::from_node(&curator, b"ab\xffc", &stat(1, 1));
        assert_eq!(p.id, "ab\u{fffd}c");
        assert_eq!(p.id_bytes, b"ab\xffc");
        assert!(!p.id_is_utf8());
        let p = Participant::from_node(&curator, b"", &stat(1, 1));
        assert_eq!(p.id, "", "no identifier, as kazoo writes for None");
    }
}
