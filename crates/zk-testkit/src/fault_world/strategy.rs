//! Proptest strategies for [`Scenario`]s, and the run configuration every recipe's property
//! test shares.

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::test_runner::Config;
use zk_contender::LostPolicy;
use zk_fake::OpKind;

use super::scenario::{
    Action, Cancel, Chaos, End, Mode, OpFault, Role, Round, Scenario, Script, When,
};

/// The number of cases a property test runs when `PROPTEST_CASES` does not say.
pub const DEFAULT_CASES: u32 = 128;

/// The size and make-up of generated scenarios.
///
/// [`Shape::exclusive`] and [`Shape::shared_and_exclusive`] are the shapes the lock's property
/// tests use: two to five clients, one to three rounds each, up to eight chaos events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    shared: bool,
    clients: RangeInclusive<usize>,
    rounds: RangeInclusive<usize>,
    chaos: RangeInclusive<usize>,
}

impl Shape {
    /// Every round asks for [`Role::Exclusive`]: a mutex, an election, a semaphore.
    pub fn exclusive() -> Shape {
        Shape {
            shared: false,
            clients: 2..=5,
            rounds: 1..=3,
            chaos: 0..=8,
        }
    }

    /// Rounds ask for [`Role::Exclusive`] or [`Role::Shared`] with even odds: a read/write lock.
    pub fn shared_and_exclusive() -> Shape {
        Shape {
            shared: true,
            ..Shape::exclusive()
        }
    }

    /// How many clients a scenario has (at least one).
    pub fn clients(mut self, clients: RangeInclusive<usize>) -> Shape {
        self.clients = clients;
        self
    }

    /// How many rounds each script has (at least one).
    pub fn rounds(mut self, rounds: RangeInclusive<usize>) -> Shape {
        self.rounds = rounds;
        self
    }

    /// How many chaos events a scenario has.
    pub fn chaos(mut self, chaos: RangeInclusive<usize>) -> Shape {
        self.chaos = chaos;
        self
    }
}

/// The proptest configuration of a fault property test: `PROPTEST_CASES` cases
/// ([`DEFAULT_CASES`] when unset), up to 400 shrink steps, and no failure files (a failing
/// scenario is printed whole, ready to paste into a regression test).
pub fn config() -> Config {
    // `Config::default()` reads `PROPTEST_CASES`; only its fallback differs.
    let mut config = Config {
        max_shrink_iters: 400,
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    config
}

/// Scenarios of the given shape.
///
/// # Panics
/// When `shape` asks for no client or no round.
pub fn scenario(shape: Shape) -> impl Strategy<Value = Scenario> {
    assert!(
        *shape.clients.start() >= 1 && *shape.rounds.start() >= 1,
        "a scenario needs clients with rounds: {shape:?}"
    );
    let Shape {
        shared,
        clients,
        rounds,
        chaos: events,
    } = shape;
    clients.prop_flat_map(move |k| {
        (
            proptest::collection::vec(script(shared, rounds.clone()), k),
            proptest::collection::vec(chaos(k), events.clone()),
        )
            .prop_map(|(clients, chaos)| Scenario { clients, chaos })
    })
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        3 => Just(Mode::Wait),
        1 => Just(Mode::Try),
        2 => (1u64..6_000).prop_map(Mode::Timeout),
    ]
}

fn cancel() -> impl Strategy<Value = Cancel> {
    prop_oneof![
        6 => Just(Cancel::Never),
        2 => (1u32..12).prop_map(Cancel::AfterPolls),
        2 => (0u64..4_000).prop_map(Cancel::AfterMs),
    ]
}

fn round(shared: bool) -> impl Strategy<Value = Round> {
    (
        0u64..3_000,
        any::<bool>(),
        mode(),
        cancel(),
        0u64..3_000,
        prop_oneof![3 => Just(End::Release), 1 => Just(End::Drop)],
    )
        .prop_map(
            move |(pause_ms, exclusive, mode, cancel, hold_ms, end)| Round {
                pause_ms,
                role: if exclusive || !shared {
                    Role::Exclusive
                } else {
                    Role::Shared
                },
                mode,
                cancel,
                hold_ms,
                end,
            },
        )
}

fn script(shared: bool, rounds: RangeInclusive<usize>) -> impl Strategy<Value = Script> {
    (
        prop_oneof![
            3 => Just(LostPolicy::SuspendedIsLost),
            1 => Just(LostPolicy::OnlySessionLoss),
        ],
        proptest::collection::vec(round(shared), rounds),
    )
        .prop_map(|(loss, rounds)| Script { loss, rounds })
}

fn op_fault() -> impl Strategy<Value = OpFault> {
    prop_oneof![
        2 => Just(OpFault::LossBeforeApply),
        2 => Just(OpFault::LossAfterApply),
        1 => (1u64..2_000).prop_map(OpFault::DelayReply),
    ]
}

fn action() -> impl Strategy<Value = Action> {
    let kind = prop_oneof![
        3 => Just(OpKind::Create),
        2 => Just(OpKind::Delete),
        2 => Just(OpKind::GetChildren),
        1 => Just(OpKind::GetData),
        1 => Just(OpKind::Exists),
    ];
    prop_oneof![
        6 => (kind, op_fault()).prop_map(|(k, f)| Action::FailNext(k, f)),
        2 => Just(Action::Expire),
        1 => (1u64..9_000).prop_map(Action::Disconnect),
        1 => (10_000u64..20_000).prop_map(Action::Disconnect),
    ]
}

fn chaos(clients: usize) -> impl Strategy<Value = Chaos> {
    (
        0u64..12_000,
        0..clients,
        prop_oneof![
            2 => Just(When::Now),
            2 => Just(When::Waiting),
            1 => Just(When::Holding),
        ],
        prop_oneof![2 => Just(0u64), 1 => 0u64..500],
        action(),
    )
        .prop_map(|(at_ms, client, when, delay_ms, action)| Chaos {
            at_ms,
            client,
            when,
            delay_ms,
            action,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    #[test]
    fn shapes_bound_what_they_generate() {
        let mut runner = TestRunner::deterministic();
        let shape = Shape::exclusive().clients(3..=3).rounds(2..=2).chaos(1..=1);
        let strategy = scenario(shape);
        for _ in 0..50 {
            let s = strategy.new_tree(&mut runner).unwrap().current();
            assert_eq!(s.clients.len(), 3);
            assert!(s.clients.iter().all(|c| c.rounds.len() == 2));
            assert!(
                s.clients
                    .iter()
                    .flat_map(|c| &c.rounds)
                    .all(|r| r.role == Role::Exclusive)
            );
            assert_eq!(s.chaos.len(), 1);
            assert!(s.chaos[0].client < 3);
        }
    }

    #[test]
    fn shared_rounds_appear_only_when_the_shape_allows_them() {
        let mut runner = TestRunner::deterministic();
        let strategy = scenario(Shape::shared_and_exclusive());
        let shared = (0..50)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .flat_map(|s| s.clients)
            .flat_map(|c| c.rounds)
            .filter(|r| r.role == Role::Shared)
            .count();
        assert!(shared > 0);
    }
}
