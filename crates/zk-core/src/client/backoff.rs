//! The pause between failed connection attempts, one rule for every way an attempt can fail.

use std::time::Duration;

/// The first pause, after a whole round of the servers failed.
const BASE: Duration = Duration::from_millis(50);
/// The longest pause.
const CAP: Duration = Duration::from_millis(800);
/// How long a connection must last before its loss stops counting as a failed attempt.
const STABLE_CONNECTION: Duration = Duration::from_secs(1);

/// Counts failed connection attempts and says how long to wait before the next one: the next
/// server at once while a round of the servers is not through, then after each failed round
/// a pause doubling from 50 ms up to 800 ms, each drawn at random from its upper half so that
/// clients failing together spread out.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    hosts: u32,
    failures: u32,
}

impl Backoff {
    /// A backoff over `hosts` servers.
    pub(crate) fn new(hosts: usize) -> Backoff {
        Backoff {
            hosts: u32::try_from(hosts.max(1)).unwrap_or(u32::MAX),
            failures: 0,
        }
    }

    /// Records a failed attempt; returns the pause before the next (zero within a round).
    pub(crate) fn failed(&mut self) -> Duration {
        self.failed_with(uuid::Uuid::new_v4().as_u128() as u64)
    }

    /// [`Backoff::failed`] with `random` as the jitter's randomness.
    fn failed_with(&mut self, random: u64) -> Duration {
        self.failures = self.failures.saturating_add(1);
        if self.failures % self.hosts != 0 {
            return Duration::ZERO;
        }
        let rounds = self.failures / self.hosts;
        let step = BASE.saturating_mul(1 << (rounds - 1).min(4)).min(CAP);
        // Uniform in [step / 2, step].
        let half = step / 2;
        let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX).max(1);
        half + Duration::from_micros(random % (spread + 1))
    }

    /// Records a connection that proved itself: the next failure starts over.
    pub(crate) fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// After a connection made at `connected_at` ends: one shorter than [`STABLE_CONNECTION`]
    /// counts as a failed attempt (its pause is returned), a lasting one resets the count.
    pub(crate) fn after_connection(&mut self, connected_at: tokio::time::Instant) -> Duration {
        if connected_at.elapsed() < STABLE_CONNECTION {
            self.failed()
        } else {
            self.succeeded();
            Duration::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn each_server_is_tried_before_a_pause_and_pauses_grow_to_the_cap() {
        let mut backoff = Backoff::new(3);
        let pauses: Vec<Duration> = (0..18).map(|_| backoff.failed_with(u64::MAX)).collect();
        let nonzero: Vec<Duration> = pauses.iter().copied().filter(|p| !p.is_zero()).collect();
        assert_eq!(
            pauses[..2],
            [Duration::ZERO; 2],
            "the other servers at once"
        );
        assert_eq!(nonzero.len(), 6, "one pause per round");
        assert!(nonzero.windows(2).all(|w| w[0] <= w[1]), "{nonzero:?}");
        assert!(nonzero.iter().all(|p| *p <= CAP));
        backoff.succeeded();
        assert_eq!(backoff.failed_with(0), Duration::ZERO);
    }

    proptest! {
        /// Every pause lies in the upper half of its step, never over the cap.
        #[test]
        fn pauses_stay_in_their_band(hosts in 1usize..5, failures in 1usize..40, random in any::<u64>()) {
            let mut backoff = Backoff::new(hosts);
            for n in 1..=failures {
                let pause = backoff.failed_with(random);
                if n % hosts != 0 {
                    prop_assert_eq!(pause, Duration::ZERO);
                } else {
                    let rounds = (n / hosts) as u32;
                    let step = (BASE * (1 << (rounds - 1).min(4))).min(CAP);
                    prop_assert!(pause >= step / 2 && pause <= step, "{pause:?} for step {step:?}");
                }
            }
        }
    }
}
