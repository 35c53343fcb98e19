//! Scenarios and their generators: clients running scripts of lock rounds, and the faults
//! injected at chosen moments.
//!
//! Every duration is in milliseconds of tokio's paused clock, so a scenario takes simulated time
//! only and replays the same way each run.

use std::fmt;

use proptest::prelude::*;
use zk_fake::OpKind;
use zk_lock::LostPolicy;

/// How one round asks for the lock.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `acquire()`: waits as long as it takes.
    Acquire,
    /// `try_acquire()`: never waits.
    Try,
    /// `acquire_timeout(ms)`.
    Timeout(u64),
}

/// When the round's caller gives up on the acquire future by dropping it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancel {
    Never,
    /// Drop it at the wake-up after its `n`-th poll (so after `n` await points were reached).
    AfterPolls(u32),
    /// Drop it after this much time (`tokio::time::timeout`).
    AfterMs(u64),
}

/// What a holder does with its guard at the end of the round.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum End {
    Release,
    Drop,
}

/// One round of a client's script: pause, ask for the lock, and if it comes, hold it a while
/// and let it go.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Round {
    pub(crate) pause_ms: u64,
    /// Writer (or mutex contender) rather than reader; readers exist only in read/write runs.
    pub(crate) write: bool,
    pub(crate) mode: Mode,
    pub(crate) cancel: Cancel,
    pub(crate) hold_ms: u64,
    pub(crate) end: End,
}

/// One client: its own session, a loss policy, and its rounds in order.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Script {
    pub(crate) policy: LostPolicy,
    pub(crate) rounds: Vec<Round>,
}

/// When a chaos event strikes its client.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum When {
    /// At the event's time, whatever the client is doing.
    Now,
    /// The next time the client is inside an acquire call (from the event's time on).
    Waiting,
    /// The next time the client holds a guard (from the event's time on).
    Holding,
}

/// A fault on the next matching operation of the client's session.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpFault {
    LossBeforeApply,
    LossAfterApply,
    /// Applied at once, reply this late.
    DelayReply(u64),
}

/// What a chaos event does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// `fail_next(OpMatcher::op(kind).session(current session), fault)`.
    FailNext(OpKind, OpFault),
    /// `expire_session(current session)`.
    Expire,
    /// `disconnect(current session, ms)`; the session timeout is 10 s, so 10 s and more expires
    /// it.
    Disconnect(u64),
}

/// A fault aimed at one client at a chosen moment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chaos {
    pub(crate) at_ms: u64,
    pub(crate) client: usize,
    pub(crate) when: When,
    /// Extra delay once the moment came (for `Waiting`/`Holding`: strike only if the client is
    /// still in that state then).
    pub(crate) delay_ms: u64,
    pub(crate) action: Action,
}

/// A whole run: clients with scripts on one lock path, and chaos events.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Scenario {
    /// A read/write lock (readers and writers) rather than a mutex.
    pub(crate) rw: bool,
    pub(crate) clients: Vec<Script>,
    pub(crate) chaos: Vec<Chaos>,
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Acquire => write!(f, "acquire()"),
            Mode::Try => write!(f, "try_acquire()"),
            Mode::Timeout(ms) => write!(f, "acquire_timeout({ms}ms)"),
        }
    }
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cancel::Never => Ok(()),
            Cancel::AfterPolls(n) => write!(f, " cancelled after {n} polls"),
            Cancel::AfterMs(ms) => write!(f, " cancelled after {ms}ms"),
        }
    }
}

impl fmt::Debug for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sleep {}ms, {} {:?}{:?}, hold {}ms, {:?}",
            self.pause_ms,
            if self.write { "W" } else { "R" },
            self.mode,
            self.cancel,
            self.hold_ms,
            self.end
        )
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ", self.policy)?;
        f.debug_list().entries(&self.rounds).finish()
    }
}

impl fmt::Debug for OpFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpFault::LossBeforeApply => write!(f, "ConnectionLossBeforeApply"),
            OpFault::LossAfterApply => write!(f, "ConnectionLossAfterApply"),
            OpFault::DelayReply(ms) => write!(f, "DelayReply({ms}ms)"),
        }
    }
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::FailNext(kind, fault) => write!(f, "fail_next({kind:?}, {fault:?})"),
            Action::Expire => write!(f, "expire_session"),
            Action::Disconnect(ms) => write!(f, "disconnect({ms}ms)"),
        }
    }
}

impl fmt::Debug for Chaos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "at {}ms c{} {:?}+{}ms: {:?}",
            self.at_ms, self.client, self.when, self.delay_ms, self.action
        )
    }
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Scenario ({}):",
            if self.rw { "read/write lock" } else { "mutex" }
        )?;
        for (i, script) in self.clients.iter().enumerate() {
            writeln!(f, "  c{i}: {script:?}")?;
        }
        for chaos in &self.chaos {
            writeln!(f, "  {chaos:?}")?;
        }
        Ok(())
    }
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        3 => Just(Mode::Acquire),
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

fn round(rw: bool) -> impl Strategy<Value = Round> {
    (
        0u64..3_000,
        any::<bool>(),
        mode(),
        cancel(),
        0u64..3_000,
        prop_oneof![3 => Just(End::Release), 1 => Just(End::Drop)],
    )
        .prop_map(move |(pause_ms, write, mode, cancel, hold_ms, end)| Round {
            pause_ms,
            write: write || !rw,
            mode,
            cancel,
            hold_ms,
            end,
        })
}

fn script(rw: bool) -> impl Strategy<Value = Script> {
    (
        prop_oneof![
            3 => Just(LostPolicy::SuspendedIsLost),
            1 => Just(LostPolicy::OnlySessionLoss),
        ],
        proptest::collection::vec(round(rw), 1..=3),
    )
        .prop_map(|(policy, rounds)| Script { policy, rounds })
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

/// Two to five clients with one to three rounds each, and up to eight chaos events.
pub(crate) fn scenario(rw: bool) -> impl Strategy<Value = Scenario> {
    (2usize..=5).prop_flat_map(move |k| {
        (
            proptest::collection::vec(script(rw), k),
            proptest::collection::vec(chaos(k), 0..=8),
        )
            .prop_map(move |(clients, chaos)| Scenario { rw, clients, chaos })
    })
}
