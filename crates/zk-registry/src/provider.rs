//! [`Provider`]: picks an instance of a service for each call, skipping instances the caller
//! found failing.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::instance::Instance;
use crate::service_watch::ServiceWatch;

/// How a [`Provider`] picks among the usable instances.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Any one, uniformly at random.
    #[default]
    Random,
    /// Each in turn, in id order.
    RoundRobin,
    /// The same one for as long as it is usable, then another (round robin).
    Sticky,
}

/// When an instance counts as down: after `errors` failures noted within `window`, for
/// `window` after the last one (Curator's `DownInstancePolicy`: 2 errors, 30 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownPolicy {
    /// Failures that make an instance down.
    pub errors: u32,
    /// How long failures count, and how long a down instance stays down.
    pub window: Duration,
}

impl Default for DownPolicy {
    fn default() -> Self {
        DownPolicy {
            errors: 2,
            window: Duration::from_secs(30),
        }
    }
}

/// The failures noted per instance id: count and time of the last one.
#[derive(Debug, Default)]
struct DownList(HashMap<String, (u32, Instant)>);

impl DownList {
    fn note(&mut self, id: &str, now: Instant, policy: DownPolicy) {
        let entry = self.0.entry(id.to_owned()).or_insert((0, now));
        if now.duration_since(entry.1) > policy.window {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.1 = now;
    }

    fn is_down(&mut self, id: &str, now: Instant, policy: DownPolicy) -> bool {
        match self.0.get(id) {
            Some(&(errors, last)) if now.duration_since(last) <= policy.window => {
                errors >= policy.errors
            }
            Some(_) => {
                self.0.remove(id); // the window passed: forgiven
                false
            }
            None => false,
        }
    }
}

/// What the strategies remember between picks.
#[derive(Debug, Default)]
struct PickState {
    next: usize,
    sticky: Option<String>,
}

/// Picks one of `ids` (the usable instances, in id order) by `strategy`; `random` is a fresh
/// random number. Pure, so each strategy is tested apart from any I/O.
fn pick(ids: &[&str], strategy: Strategy, state: &mut PickState, random: u64) -> Option<usize> {
    if ids.is_empty() {
        return None;
    }
    let turn = |state: &mut PickState| {
        let at = state.next % ids.len();
        state.next = state.next.wrapping_add(1);
        at
    };
    Some(match strategy {
        Strategy::Random => usize::try_from(random % ids.len() as u64).unwrap_or(0),
        Strategy::RoundRobin => turn(state),
        Strategy::Sticky => match state
            .sticky
            .as_deref()
            .and_then(|s| ids.iter().position(|i| *i == s))
        {
            Some(at) => at,
            None => {
                let at = turn(state);
                state.sticky = Some(ids[at].to_owned());
                at
            }
        },
    })
}

/// A filter on instances: only those it accepts are picked.
type Filter<M> = Arc<dyn Fn(&Instance<M>) -> bool + Send + Sync>;

/// Picks an instance of a service for each call from a live [`ServiceWatch`]: enabled
/// instances that pass the filter and are not down, by the [`Strategy`].
///
/// Callers report failed calls with [`Provider::note_error`]; an instance with enough recent
/// failures ([`DownPolicy`]) is skipped until its window passes.
pub struct Provider<M> {
    watch: ServiceWatch<M>,
    strategy: Strategy,
    filter: Option<Filter<M>>,
    policy: DownPolicy,
    state: Mutex<(PickState, DownList)>,
}

impl<M> fmt::Debug for Provider<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("strategy", &self.strategy)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<M: Clone> Provider<M> {
    /// A provider over `watch`, picking by `strategy`.
    pub fn new(watch: ServiceWatch<M>, strategy: Strategy) -> Provider<M> {
        Provider {
            watch,
            strategy,
            filter: None,
            policy: DownPolicy::default(),
            state: Mutex::new((PickState::default(), DownList::default())),
        }
    }

    /// Only instances that `accept` accepts (say, with a payload field of some value).
    pub fn filter(mut self, accept: impl Fn(&Instance<M>) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(Arc::new(accept));
        self
    }

    /// When an instance counts as down.
    pub fn down_policy(mut self, policy: DownPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// An instance to call, or `None` when no instance is usable.
    pub fn get(&self) -> Option<Instance<M>> {
        let snapshot = self.watch.borrow();
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (picks, down) = &mut *state;
        let usable: Vec<&Instance<M>> = snapshot
            .enabled()
            .filter(|i| self.filter.as_ref().is_none_or(|f| f(i)))
            .filter(|i| !down.is_down(&i.id, now, self.policy))
            .collect();
        let ids: Vec<&str> = usable.iter().map(|i| i.id.as_str()).collect();
        let at = pick(&ids, self.strategy, picks, random())?;
        Some(usable[at].clone())
    }

    /// Notes a failed call to instance `id`: enough of them make it down for a while.
    pub fn note_error(&self, id: &str) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.1.note(id, Instant::now(), self.policy);
    }
}

/// A random number from the standard library's randomly seeded hasher.
fn random() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::{any, prop_assert, prop_assert_eq, proptest};

    #[test]
    fn round_robin_takes_each_in_turn_and_sticky_stays() {
        let ids = ["a", "b", "c"];
        let mut state = PickState::default();
        let picked: Vec<usize> = (0..6)
            .map(|_| pick(&ids, Strategy::RoundRobin, &mut state, 0).unwrap())
            .collect();
        assert_eq!(picked, [0, 1, 2, 0, 1, 2]);
        let mut state = PickState::default();
        let first = pick(&ids, Strategy::Sticky, &mut state, 0).unwrap();
        assert_eq!(pick(&ids, Strategy::Sticky, &mut state, 7).unwrap(), first);
        // The sticky one goes: another is chosen and kept.
        let rest = ["b", "c"];
        let next = pick(&rest, Strategy::Sticky, &mut state, 0).unwrap();
        assert_eq!(pick(&rest, Strategy::Sticky, &mut state, 0).unwrap(), next);
        assert_eq!(pick(&[], Strategy::Random, &mut state, 3), None);
    }

    #[test]
    fn an_instance_is_down_after_enough_errors_and_forgiven_after_the_window() {
        let policy = DownPolicy {
            errors: 2,
            window: Duration::from_secs(30),
        };
        let mut down = DownList::default();
        let t0 = Instant::now();
        down.note("a", t0, policy);
        assert!(!down.is_down("a", t0, policy), "one error is not enough");
        down.note("a", t0 + Duration::from_secs(1), policy);
        assert!(down.is_down("a", t0 + Duration::from_secs(2), policy));
        assert!(!down.is_down("b", t0, policy));
        assert!(
            !down.is_down("a", t0 + Duration::from_secs(32), policy),
            "forgiven"
        );
        // Errors further apart than the window do not add up.
        down.note("c", t0, policy);
        down.note("c", t0 + Duration::from_secs(40), policy);
        assert!(!down.is_down("c", t0 + Duration::from_secs(41), policy));
    }

    proptest! {
        /// Every strategy picks a valid index, and round robin visits every instance once in
        /// any `len` consecutive picks.
        #[test]
        fn picks_are_in_range_and_round_robin_is_fair(len in 1usize..8, randoms in proptest::collection::vec(any::<u64>(), 1..20)) {
            let names: Vec<String> = (0..len).map(|i| i.to_string()).collect();
            let ids: Vec<&str> = names.iter().map(String::as_str).collect();
            for strategy in [Strategy::Random, Strategy::RoundRobin, Strategy::Sticky] {
                let mut state = PickState::default();
                for &r in &randoms {
                    prop_assert!(pick(&ids, strategy, &mut state, r).unwrap() < len);
                }
            }
            let mut state = PickState::default();
            let mut seen: Vec<usize> = (0..len).map(|_| pick(&ids, Strategy::RoundRobin, &mut state, 0).unwrap()).collect();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..len).collect::<Vec<_>>());
        }
    }
}
