//! Item node names. kazoo's queues name an item `entry-PPP-SEQ`: a three-digit priority (lower
//! first) and the sequence number the server appends, so sorting the names orders the queue.
//! A delayed item adds its "not before" time, in milliseconds since the Unix epoch, after an
//! `@`: `entry-PPP-@MILLIS-SEQ`. Everything is in the name, so one listing orders the queue
//! and says what is due.

/// What every item name starts with (kazoo's `Queue.prefix` and `LockingQueue.entry` + `-`).
const ENTRY: &str = "entry-";

/// The priority an item gets unless told otherwise (kazoo's default).
pub const DEFAULT_PRIORITY: u16 = 100;

/// The largest priority: kazoo's three digits. Lower priorities are taken first.
pub const MAX_PRIORITY: u16 = 999;

/// An item's place in the queue, as its node name tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ItemKey {
    /// 0 (first) to [`MAX_PRIORITY`].
    pub(crate) priority: u16,
    /// Not to be taken before this time, in milliseconds since the Unix epoch.
    pub(crate) not_before: Option<u64>,
    /// The sequence number the server appended.
    pub(crate) sequence: i32,
}

impl ItemKey {
    /// Whether the item may be taken at `now` (milliseconds since the Unix epoch).
    pub(crate) fn is_due(&self, now: u64) -> bool {
        self.not_before.is_none_or(|at| at <= now)
    }

    /// Queue order: priority first, then arrival (the sequence). The delay only decides when
    /// an item may be taken, not its place.
    pub(crate) fn order(&self) -> (u16, i32) {
        (self.priority, self.sequence)
    }
}

/// The name to create (the server appends the sequence) for an item of `priority`, not to be
/// taken before `not_before`.
pub(crate) fn prefix(priority: u16, not_before: Option<u64>) -> String {
    match not_before {
        None => format!("{ENTRY}{priority:03}-"),
        Some(at) => format!("{ENTRY}{priority:03}-@{at}-"),
    }
}

/// Reads an item's key from its node name; `None` for a name that is not an item's.
pub(crate) fn parse(name: &str) -> Option<ItemKey> {
    let rest = name.strip_prefix(ENTRY)?;
    let digits = rest.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let priority = digits.parse().ok()?;
    let rest = rest.get(3..)?.strip_prefix('-')?;
    let (not_before, sequence) = match rest.strip_prefix('@') {
        Some(timed) => {
            let (at, sequence) = timed.split_once('-')?;
            if at.is_empty() || !at.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (Some(at.parse().ok()?), sequence)
        }
        None => (None, rest),
    };
    Some(ItemKey {
        priority,
        not_before,
        sequence: sequence_suffix(sequence)?,
    })
}

/// A whole server-appended sequence: `%010d` of a signed 32-bit counter, so ten digits, or
/// once the counter wrapped a minus sign and nine or ten digits.
fn sequence_suffix(s: &str) -> Option<i32> {
    let (digits, lengths) = match s.strip_prefix('-') {
        Some(digits) => (digits, 10..=11),
        None => (s, 10..=10),
    };
    if !lengths.contains(&s.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use zk_core::path::format_sequence;

    #[test]
    fn kazoo_names_parse() {
        assert_eq!(
            parse("entry-100-0000000042"),
            Some(ItemKey {
                priority: 100,
                not_before: None,
                sequence: 42
            })
        );
        assert_eq!(
            parse("entry-007-@1733241600000-0000000001"),
            Some(ItemKey {
                priority: 7,
                not_before: Some(1_733_241_600_000),
                sequence: 1
            })
        );
        assert_eq!(
            parse("entry-999--2147483648").map(|k| k.sequence),
            Some(i32::MIN)
        );
    }

    #[test]
    fn foreign_names_do_not_parse() {
        for name in [
            "",
            "entry-",
            "entry-100-",
            "entry-10-0000000001",
            "entry-1000-0000000001",
            "entry-+10-0000000001",
            "entry-100-000000001",
            "entry-100-00000000001",
            "entry-100-+000000001",
            "entry-100-@-0000000001",
            "entry-100-@12x-0000000001",
            "entry-100-@99999999999999999999999-0000000001",
            "lock-0000000001",
            "entry_100_0000000001",
            "entry-100-0000000001-",
            "entry-100-é000000001",
        ] {
            assert_eq!(parse(name), None, "{name:?}");
        }
    }

    proptest! {
        #[test]
        fn every_prefix_round_trips(
            priority in 0..=MAX_PRIORITY,
            not_before in proptest::option::of(any::<u64>()),
            sequence in any::<i32>(),
        ) {
            let name = format!("{}{}", prefix(priority, not_before), format_sequence(sequence));
            prop_assert!(zk_core::path::validate_name(&name).is_ok());
            prop_assert_eq!(parse(&name), Some(ItemKey { priority, not_before, sequence }));
        }

        /// Without delays, kazoo's order (sorting names as strings) is ours.
        #[test]
        fn undelayed_names_sort_in_queue_order(
            a in (0..=MAX_PRIORITY, 0..i32::MAX),
            b in (0..=MAX_PRIORITY, 0..i32::MAX),
        ) {
            let name = |(p, s): (u16, i32)| format!("{}{}", prefix(p, None), format_sequence(s));
            let (ka, kb) = (parse(&name(a)).unwrap(), parse(&name(b)).unwrap());
            prop_assert_eq!(name(a).cmp(&name(b)), ka.order().cmp(&kb.order()));
        }

        #[test]
        fn arbitrary_names_never_panic(name in ".{0,40}") {
            let _ = parse(&name);
        }
    }
}
