//! The built-in safety rules a recipe picks from: how many may hold at once and where they must
//! stand in the queue, and how fencing tokens grow.

use super::queue::QueuedNode;
use super::recipe::HolderView;
use super::scenario::Role;

/// At most `n` holders at once, each among the first `n` contenders of the queue: a mutex or a
/// leadership (`n = 1`), a semaphore's permits. Roles play no part.
pub fn at_most(n: usize, holders: &[HolderView], queue: &[QueuedNode]) -> Vec<String> {
    let mut violations = Vec::new();
    if holders.len() > n {
        violations.push(format!(
            "{} clients hold at once, at most {n} may: {}",
            holders.len(),
            list(holders)
        ));
    }
    for (holder, index) in placed(holders, queue) {
        if index >= n {
            let ahead: Vec<&str> = queue[..index].iter().map(|c| c.name.as_str()).collect();
            let verb = if ahead.len() == 1 { "comes" } else { "come" };
            violations.push(format!(
                "{holder} considers itself holding, but {} {verb} before it",
                ahead.join(", ")
            ));
        }
    }
    violations
}

/// Readers share, writers hold alone: any number of [`Role::Shared`] holders or exactly one
/// [`Role::Exclusive`] holder; an exclusive holder has no contender before it in the queue,
/// and a shared holder no exclusive one.
pub fn readers_share(holders: &[HolderView], queue: &[QueuedNode]) -> Vec<String> {
    let mut violations = Vec::new();
    let writers = holders.iter().filter(|h| h.role == Role::Exclusive).count();
    if holders.len() > 1 && writers > 0 {
        violations.push(format!(
            "{} clients hold at once, {writers} of them exclusively: {}",
            holders.len(),
            list(holders)
        ));
    }
    for (holder, index) in placed(holders, queue) {
        let blocker = queue[..index]
            .iter()
            .find(|c| holder.role == Role::Exclusive || c.role == Role::Exclusive);
        if let Some(blocker) = blocker {
            violations.push(format!(
                "{holder} considers itself holding, but {} comes before it",
                blocker.name
            ));
        }
    }
    violations
}

/// Each holder whose node is in the queue, with its index there (the world reports the others).
fn placed<'a>(
    holders: &'a [HolderView],
    queue: &'a [QueuedNode],
) -> impl Iterator<Item = (&'a HolderView, usize)> {
    holders.iter().filter_map(|holder| {
        let index = queue.iter().position(|c| c.path == holder.node_path)?;
        Some((holder, index))
    })
}

fn list(holders: &[HolderView]) -> String {
    let described: Vec<String> = holders.iter().map(ToString::to_string).collect();
    described.join(", ")
}

/// How fencing tokens must grow, over the acquisitions that returned a holding guard, in the
/// order the acquire calls returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fencing {
    /// An exclusive acquisition's token is greater than every earlier acquisition's; a shared
    /// one's is greater than every earlier exclusive one's (shared holders are not ordered
    /// among themselves). With exclusive roles only, tokens (terms) strictly increase.
    Increasing,
    /// No order: holders that hold together (a semaphore's permits) may return out of queue
    /// order.
    Unordered,
}

/// The acquisitions seen so far, for [`Fencing::Increasing`].
#[derive(Debug, Default)]
pub(crate) struct TokenLog {
    /// `(client, role, token)` of each holding acquisition, in order.
    seen: Vec<(usize, Role, i64)>,
}

impl TokenLog {
    /// Records an acquisition; the violation of `fencing` it makes, if any.
    pub(crate) fn record(
        &mut self,
        fencing: Fencing,
        client: usize,
        role: Role,
        token: i64,
    ) -> Option<String> {
        let earlier = self
            .seen
            .iter()
            .filter(|(_, r, _)| role == Role::Exclusive || *r == Role::Exclusive)
            .max_by_key(|(_, _, t)| *t)
            .copied();
        self.seen.push((client, role, token));
        match (fencing, earlier) {
            (Fencing::Increasing, Some((other, _, max))) if token <= max => Some(format!(
                "c{client} acquired with token {token}, not above token {max} of an earlier \
                 acquisition by c{other}"
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(i: i32, role: Role) -> QueuedNode {
        QueuedNode {
            name: format!("n-{i:010}"),
            path: format!("/r/n-{i:010}"),
            sequence: i,
            role,
            owner: 1,
        }
    }

    fn holder(client: usize, i: i32, role: Role) -> HolderView {
        HolderView {
            client,
            round: 0,
            role,
            token: i64::from(i),
            node_path: format!("/r/n-{i:010}"),
        }
    }

    #[test]
    fn at_most_n_counts_holders_and_their_place() {
        let queue = [
            node(1, Role::Exclusive),
            node(2, Role::Exclusive),
            node(3, Role::Exclusive),
        ];
        let two = [holder(0, 1, Role::Exclusive), holder(1, 2, Role::Exclusive)];
        assert!(at_most(2, &two, &queue).is_empty());
        let found = at_most(1, &two, &queue);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("2 clients hold at once"), "{found:?}");
        assert!(
            found[1].contains("n-0000000001 comes before it"),
            "{found:?}"
        );
        let third = [holder(2, 3, Role::Exclusive)];
        assert_eq!(at_most(2, &third, &queue).len(), 1);
    }

    #[test]
    fn readers_share_but_writers_hold_alone() {
        let queue = [
            node(1, Role::Shared),
            node(2, Role::Shared),
            node(3, Role::Exclusive),
            node(4, Role::Shared),
        ];
        let readers = [holder(0, 1, Role::Shared), holder(1, 2, Role::Shared)];
        assert!(readers_share(&readers, &queue).is_empty());
        let writer = [holder(2, 3, Role::Exclusive)];
        assert_eq!(readers_share(&writer, &queue).len(), 1, "readers ahead");
        let late_reader = [holder(3, 4, Role::Shared)];
        let found = readers_share(&late_reader, &queue);
        assert!(
            found[0].contains("n-0000000003 comes before it"),
            "{found:?}"
        );
        let mixed = [holder(0, 1, Role::Shared), holder(2, 3, Role::Exclusive)];
        assert!(readers_share(&mixed, &queue)[0].contains("1 of them exclusively"));
    }

    #[test]
    fn increasing_tokens_order_exclusive_acquisitions_only() {
        let mut log = TokenLog::default();
        let fencing = Fencing::Increasing;
        assert_eq!(log.record(fencing, 0, Role::Shared, 10), None);
        assert_eq!(
            log.record(fencing, 1, Role::Shared, 9),
            None,
            "readers share"
        );
        assert_eq!(log.record(fencing, 2, Role::Exclusive, 11), None);
        assert!(log.record(fencing, 3, Role::Shared, 10).is_some());
        assert!(log.record(fencing, 4, Role::Exclusive, 11).is_some());
        let mut unordered = TokenLog::default();
        assert_eq!(
            unordered.record(Fencing::Unordered, 0, Role::Exclusive, 5),
            None
        );
        assert_eq!(
            unordered.record(Fencing::Unordered, 1, Role::Exclusive, 4),
            None
        );
    }
}
