//! The policy seam: given the ordered contenders and my place among them, do I hold, or which
//! contenders must I watch? Pure functions, tested apart from any I/O.

use crate::contender::{Contender, ContenderKind};

/// What a contender should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It holds (the lock, the leadership, a lease).
    Hold,
    /// It must wait; re-check when any of these contenders (indices into the ordered list,
    /// all before it) goes. Never empty.
    Wait(Vec<usize>),
}

/// Decides, from the ordered contenders and the index of the one asking, whether it holds.
///
/// A policy must be:
/// - **herd-free**: a waiter watches only contenders whose departure can change its answer, so
///   one departure wakes as few waiters as possible;
/// - **monotone**: removing contenders before `me` never turns [`Decision::Hold`] into
///   [`Decision::Wait`]. The engine relies on it when a watched contender is deleted: it
///   re-decides on its listing minus that contender, without listing again, since contenders
///   only ever join behind it.
pub trait Policy: Send + Sync {
    /// The decision for `contenders[me]`; `contenders` is sorted by sequence.
    fn decide(&self, contenders: &[Contender], me: usize) -> Decision;

    /// A contender before every one that [`Policy::decide`] names for a waiting `me`, whose
    /// departure cannot let `me` hold but is worth hearing about: the engine lists again when
    /// it goes, so by the time the watched contenders go the listing is fresh and the hold is
    /// decided with no round trip. It trades one more wake-up per departure (off the hand-off's
    /// path) for one round trip less on it. `None` (the default): no lookahead.
    fn lookahead(&self, _contenders: &[Contender], _me: usize) -> Option<usize> {
        None
    }
}

/// One holder at a time, in arrival order; each waiter watches its immediate predecessor
/// (a mutex, a writer, a leadership candidate), and looks ahead to the one before that.
///
/// The lookahead makes a hand-off one notification: when the contender two places ahead goes
/// (usually the holder), the waiter lists again while its predecessor holds, so when the
/// predecessor goes the waiter's listing already shows it next and it holds at once. So a
/// departure wakes two waiters, the next one to hold and the one after it to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exclusive;

impl Policy for Exclusive {
    fn decide(&self, _contenders: &[Contender], me: usize) -> Decision {
        match me.checked_sub(1) {
            None => Decision::Hold,
            Some(previous) => Decision::Wait(vec![previous]),
        }
    }

    fn lookahead(&self, _contenders: &[Contender], me: usize) -> Option<usize> {
        me.checked_sub(2)
    }
}

/// Readers share, writers hold alone, served in arrival order so writers never starve:
/// a writer watches its immediate predecessor, a reader only the nearest writer before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadWrite;

impl Policy for ReadWrite {
    fn decide(&self, contenders: &[Contender], me: usize) -> Decision {
        match contenders[me].kind {
            ContenderKind::Exclusive => Exclusive.decide(contenders, me),
            ContenderKind::Read => match contenders[..me]
                .iter()
                .rposition(|c| c.kind == ContenderKind::Exclusive)
            {
                None => Decision::Hold,
                Some(writer) => Decision::Wait(vec![writer]),
            },
        }
    }

    /// A writer looks ahead as an exclusive contender does; a reader does not (the contender
    /// before the writer it waits for need not be another writer).
    fn lookahead(&self, contenders: &[Contender], me: usize) -> Option<usize> {
        match contenders[me].kind {
            ContenderKind::Exclusive => Exclusive.lookahead(contenders, me),
            ContenderKind::Read => None,
        }
    }
}

/// Up to `n` holders at once (a semaphore's leases), in arrival order: the first `n`
/// contenders hold. A waiter watches the `n` contenders just ahead of it, since it holds once
/// any one of them goes, and the departure of a contender further ahead cannot make it hold;
/// so one release wakes at most `n` waiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leases(pub usize);

impl Policy for Leases {
    fn decide(&self, _contenders: &[Contender], me: usize) -> Decision {
        let n = self.0.max(1);
        if me < n {
            Decision::Hold
        } else {
            Decision::Wait((me - n..me).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContenderKind::{Exclusive as W, Read as R};
    use proptest::prelude::*;

    fn contenders(kinds: &[ContenderKind]) -> Vec<Contender> {
        kinds
            .iter()
            .enumerate()
            .map(|(i, &kind)| Contender {
                name: format!("n{i}"),
                sequence: i as i32,
                kind,
            })
            .collect()
    }

    #[test]
    fn exclusive_contenders_wait_for_their_predecessor_only() {
        let c = contenders(&[R, W, R, W]);
        assert_eq!(Exclusive.decide(&c, 0), Decision::Hold);
        assert_eq!(Exclusive.decide(&c, 3), Decision::Wait(vec![2]));
        assert_eq!(ReadWrite.decide(&c, 3), Decision::Wait(vec![2]));
    }

    #[test]
    fn readers_wait_for_the_nearest_earlier_writer_only() {
        let c = contenders(&[R, W, R, R, W]);
        assert_eq!(ReadWrite.decide(&c, 0), Decision::Hold);
        assert_eq!(ReadWrite.decide(&c, 3), Decision::Wait(vec![1]));
        let readers = contenders(&[R, R]);
        assert_eq!(
            ReadWrite.decide(&readers, 1),
            Decision::Hold,
            "readers share"
        );
    }

    #[test]
    fn leases_admit_the_first_n_and_waiters_watch_the_n_ahead() {
        let c = contenders(&[W; 6]);
        for me in 0..3 {
            assert_eq!(Leases(3).decide(&c, me), Decision::Hold);
        }
        assert_eq!(Leases(3).decide(&c, 3), Decision::Wait(vec![0, 1, 2]));
        assert_eq!(Leases(3).decide(&c, 5), Decision::Wait(vec![2, 3, 4]));
        assert_eq!(Leases(1).decide(&c, 2), Exclusive.decide(&c, 2));
    }

    fn kinds() -> impl Strategy<Value = Vec<ContenderKind>> {
        proptest::collection::vec(prop_oneof![Just(R), Just(W)], 1..12)
    }

    /// Removes contender `gone` and re-decides for everyone else.
    fn after_departure(c: &[Contender], gone: usize) -> Vec<Contender> {
        let mut rest = c.to_vec();
        rest.remove(gone);
        rest
    }

    /// Whether `policy` still lets every holder of `c` hold once contender `gone` leaves.
    fn monotone(policy: &dyn Policy, c: &[Contender], gone: usize) -> bool {
        let rest = after_departure(c, gone);
        (0..c.len()).filter(|&i| i != gone).all(|i| {
            let j = if i > gone { i - 1 } else { i };
            policy.decide(c, i) != Decision::Hold || policy.decide(&rest, j) == Decision::Hold
        })
    }

    proptest! {
        /// Every built-in policy is monotone, which the engine's no-relist wake-up relies on.
        #[test]
        fn built_in_policies_are_monotone(kinds in kinds(), n in 1usize..5, gone in any::<prop::sample::Index>()) {
            let c = contenders(&kinds);
            let gone = gone.index(c.len());
            prop_assert!(monotone(&Exclusive, &c, gone));
            prop_assert!(monotone(&ReadWrite, &c, gone));
            prop_assert!(monotone(&Leases(n), &c, gone));
        }

        /// A lookahead comes before every watched contender, and its departure alone never
        /// lets the waiter hold (else it would be a watched one).
        #[test]
        fn lookaheads_precede_the_watched_and_never_decide(kinds in kinds(), n in 1usize..5) {
            let c = contenders(&kinds);
            let policies: [&dyn Policy; 3] = [&Exclusive, &ReadWrite, &Leases(n)];
            for policy in policies {
                for me in 0..c.len() {
                    let Some(ahead) = policy.lookahead(&c, me) else { continue };
                    let Decision::Wait(watched) = policy.decide(&c, me) else {
                        prop_assert!(false, "a lookahead for a holder");
                        continue;
                    };
                    prop_assert!(watched.iter().all(|&w| ahead < w));
                    let rest = after_departure(&c, ahead);
                    prop_assert_ne!(policy.decide(&rest, me - 1), Decision::Hold);
                }
            }
        }

        /// Read/write: holders are exactly a prefix-compatible set (all readers before the
        /// first writer, or that writer alone at the head), and a waiter that would hold after
        /// some departure was watching the departed contender.
        #[test]
        fn read_write_is_safe_and_herd_free(kinds in kinds(), gone in any::<prop::sample::Index>()) {
            let c = contenders(&kinds);
            let holders: Vec<usize> = (0..c.len())
                .filter(|&i| ReadWrite.decide(&c, i) == Decision::Hold)
                .collect();
            let writers_holding = holders.iter().filter(|&&i| c[i].kind == W).count();
            prop_assert!(writers_holding == 0 || holders.len() == 1, "{holders:?} {kinds:?}");
            prop_assert!(holders.contains(&0), "the head always holds");
            let gone = gone.index(c.len());
            let rest = after_departure(&c, gone);
            for (i, contender) in c.iter().enumerate() {
                if i == gone { continue; }
                let j = rest.iter().position(|r| r.name == contender.name).unwrap();
                if let Decision::Wait(watched) = ReadWrite.decide(&c, i) {
                    prop_assert!(watched.iter().all(|&w| w < i));
                    if ReadWrite.decide(&rest, j) == Decision::Hold {
                        prop_assert!(watched.contains(&gone), "{i} missed the departure of {gone}");
                    }
                }
            }
        }

        /// Leases: exactly min(n, len) holders; a waiter wakes only for a departure that lets
        /// it hold, and a departure wakes at most n waiters.
        #[test]
        fn leases_are_safe_and_wake_at_most_n(len in 1usize..15, n in 1usize..5, gone in any::<prop::sample::Index>()) {
            let c = contenders(&vec![W; len]);
            let policy = Leases(n);
            let holders = (0..len).filter(|&i| policy.decide(&c, i) == Decision::Hold).count();
            prop_assert_eq!(holders, n.min(len));
            let gone = gone.index(len);
            let rest = after_departure(&c, gone);
            let mut woken = 0;
            for i in (0..len).filter(|&i| i != gone) {
                let j = if i > gone { i - 1 } else { i };
                if let Decision::Wait(watched) = policy.decide(&c, i) {
                    let wakes = watched.contains(&gone);
                    woken += usize::from(wakes);
                    if policy.decide(&rest, j) == Decision::Hold {
                        prop_assert!(wakes, "{i} missed the departure of {gone}");
                    }
                }
            }
            prop_assert!(woken <= n, "{woken} woken by one departure");
        }
    }
}
