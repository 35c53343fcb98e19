//! The contender queue as the fake's tree holds it, read without any request.

use zk_contender::Contender;
use zk_fake::FakeEnsemble;

use super::scenario::Role;

/// A contender node under a recipe path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedNode {
    /// The node's name.
    pub name: String,
    /// The node's full path.
    pub path: String,
    /// Its sequence number: the queue's order.
    pub sequence: i32,
    /// What it contends for.
    pub role: Role,
    /// The session that owns it (`0` for a persistent node).
    pub owner: i64,
}

/// The children of `path` that `role_of` calls contenders, in sequence order, straight from
/// the fake's tree.
pub fn queue(
    ensemble: &FakeEnsemble,
    path: &str,
    role_of: impl Fn(&str) -> Option<Role>,
) -> Vec<QueuedNode> {
    let prefix = format!("{}/", path.trim_end_matches('/'));
    let mut found: Vec<QueuedNode> = ensemble
        .snapshot()
        .into_iter()
        .filter_map(|(full, (_, stat))| {
            let name = full.strip_prefix(&prefix)?;
            if name.contains('/') {
                return None;
            }
            let role = role_of(name)?;
            Some(QueuedNode {
                name: name.to_owned(),
                sequence: zk_core::path::sequence_number(name)?,
                path: full,
                role,
                owner: stat.ephemeral_owner,
            })
        })
        .collect();
    found.sort_by_key(|n| n.sequence);
    found
}

/// The default contender test: what [`zk_contender::Contender::parse`] makes of the name, so
/// a child with a sequence suffix is a contender, shared when it carries a read marker of any
/// known scheme (ours, kazoo's, Curator's).
pub fn contender_role(name: &str) -> Option<Role> {
    Contender::parse(name).map(|c| Role::from(c.kind))
}
