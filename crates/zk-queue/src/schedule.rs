//! What a consumer may take now, in which order, and what it must wait for: a pure function
//! of the queue's listings and the time, tested apart from any I/O.

use std::collections::HashSet;

use crate::name::{ItemKey, parse};

/// An item node found in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The node's name.
    pub(crate) name: String,
    /// What the name says.
    pub(crate) key: ItemKey,
}

/// The queue as one listing shows it to a consumer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Schedule {
    /// Items that may be taken now (due, not under a lease), in queue order.
    pub(crate) ready: Vec<Entry>,
    /// Names of items under a lease: they come back if the lease goes unacknowledged.
    pub(crate) leased: Vec<String>,
    /// How many items are not due yet (and not under a lease).
    pub(crate) delayed: usize,
    /// The earliest time a delayed item falls due, in milliseconds since the Unix epoch.
    pub(crate) next_due: Option<u64>,
    /// Children that are not items (another program's nodes, or garbage), by name.
    pub(crate) foreign: Vec<String>,
}

/// Sorts the children of the items node (`entries`) given the names of the leases
/// (`taken`, a lease is named after its item) at time `now`.
pub(crate) fn schedule(entries: &[String], taken: &[String], now: u64) -> Schedule {
    let taken: HashSet<&str> = taken.iter().map(String::as_str).collect();
    let mut schedule = Schedule::default();
    for name in entries {
        let Some(key) = parse(name) else {
            schedule.foreign.push(name.clone());
            continue;
        };
        if taken.contains(name.as_str()) {
            schedule.leased.push(name.clone());
        } else if key.is_due(now) {
            schedule.ready.push(Entry {
                name: name.clone(),
                key,
            });
        } else {
            schedule.delayed += 1;
            schedule.next_due = schedule.next_due.min(key.not_before).or(key.not_before);
        }
    }
    schedule.ready.sort_by_key(|entry| entry.key.order());
    schedule
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::{MAX_PRIORITY, prefix};
    use proptest::prelude::*;
    use zk_core::path::format_sequence;

    fn item(priority: u16, not_before: Option<u64>, sequence: i32) -> String {
        format!(
            "{}{}",
            prefix(priority, not_before),
            format_sequence(sequence)
        )
    }

    #[test]
    fn priority_then_arrival_and_the_rest_set_aside() {
        let entries = vec![
            item(100, None, 3),
            item(5, None, 7),
            item(100, None, 1),
            item(5, Some(2_000), 2),
            item(100, Some(500), 4),
            item(0, None, 9),
            "not-an-item".to_owned(),
        ];
        let taken = vec![item(0, None, 9), "lease-of-nothing".to_owned()];
        let s = schedule(&entries, &taken, 1_000);
        let ready: Vec<&str> = s.ready.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            ready,
            [
                item(5, None, 7),
                item(100, None, 1),
                item(100, None, 3),
                item(100, Some(500), 4)
            ]
        );
        assert_eq!(s.leased, [item(0, None, 9)]);
        assert_eq!((s.delayed, s.next_due), (1, Some(2_000)));
        assert_eq!(s.foreign, ["not-an-item"]);
        assert_eq!(s.ready.len() + s.leased.len() + s.delayed, 6);
    }

    fn entry() -> impl Strategy<Value = (u16, Option<u64>)> {
        (0..=MAX_PRIORITY, proptest::option::of(0u64..100))
    }

    proptest! {
        #[test]
        fn every_item_lands_in_exactly_one_place(
            items in proptest::collection::vec((entry(), any::<bool>()), 0..30),
            foreign in proptest::collection::vec("[a-z-]{0,12}", 0..4),
            now in 0u64..100,
        ) {
            // Sequences are unique per queue: the index.
            let named: Vec<(String, u16, Option<u64>, bool)> = items
                .iter()
                .enumerate()
                .map(|(i, ((p, at), leased))| {
                    (item(*p, *at, i32::try_from(i).unwrap()), *p, *at, *leased)
                })
                .collect();
            let mut entries: Vec<String> = named.iter().map(|n| n.0.clone()).collect();
            entries.extend(foreign.iter().cloned());
            let taken: Vec<String> =
                named.iter().filter(|n| n.3).map(|n| n.0.clone()).collect();
            let s = schedule(&entries, &taken, now);

            prop_assert_eq!(s.ready.len() + s.leased.len() + s.delayed, named.len());
            prop_assert_eq!(&s.foreign, &foreign);
            for (name, _, at, leased) in &named {
                let ready = s.ready.iter().any(|e| &e.name == name);
                let in_lease = s.leased.contains(name);
                prop_assert_eq!(in_lease, *leased);
                prop_assert_eq!(ready, !leased && at.is_none_or(|at| at <= now));
            }
            // Ready items in priority order, arrival order within a priority.
            for pair in s.ready.windows(2) {
                prop_assert!(pair[0].key.order() < pair[1].key.order());
            }
            let waiting = named
                .iter()
                .filter(|n| !n.3)
                .filter_map(|n| n.2)
                .filter(|&at| at > now)
                .min();
            prop_assert_eq!(s.next_due, waiting);
        }
    }
}
