//! The scenario model: clients running scripts of rounds (ask, hold, let go) on their own
//! sessions, and chaos events aimed at chosen moments.
//!
//! Every duration is in milliseconds of tokio's paused clock, so a scenario takes simulated time
//! only and replays the same way each run. The `Debug` forms are written for failure reports:
//! one line a round, one line a chaos event.

use std::fmt;
use zk_contender::{ContenderKind, LostPolicy};

use zk_fake::OpKind;

/// How one round asks: the three ways every ordered recipe offers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Wait as long as it takes (`acquire()`, `campaign()`).
    Wait,
    /// Never wait (`try_acquire()`, `try_campaign()`): hold at once or report blocked.
    Try,
    /// Wait at most this many milliseconds (`acquire_timeout(ms)`).
    Timeout(u64),
}

/// When a round's caller gives up on the acquire future by dropping it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// Never: the call runs to its end.
    Never,
    /// Drop it at the wake-up after its `n`-th poll, so after `n` await points were reached
    /// (see [`cancel_after_polls`](super::cancel_after_polls)).
    AfterPolls(u32),
    /// Drop it after this many milliseconds (`tokio::time::timeout`).
    AfterMs(u64),
}

/// What a holder does with its guard at the end of the round.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum End {
    /// The recipe's release (`release()`, `resign()`), awaited.
    Release,
    /// Dropping the guard, which releases in the background.
    Drop,
}

/// What a round asks for: the scenario's name for a [`ContenderKind`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum Role {
    /// To hold alone among exclusive contenders: a mutex contender, a writer, a candidate, a
    /// permit seeker. Shown as `X`.
    Exclusive,
    /// To share with other shared holders: a reader. Shown as `S`.
    Shared,
}

impl From<ContenderKind> for Role {
    fn from(kind: ContenderKind) -> Role {
        match kind {
            ContenderKind::Exclusive => Role::Exclusive,
            ContenderKind::Read => Role::Shared,
        }
    }
}

/// One round of a client's script: pause, ask, and if it comes, hold a while and let go.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// How long to pause before asking.
    pub pause_ms: u64,
    /// What to ask for.
    pub role: Role,
    /// How to ask.
    pub mode: Mode,
    /// When to give up on the call.
    pub cancel: Cancel,
    /// How long to hold what came.
    pub hold_ms: u64,
    /// How to let go.
    pub end: End,
}

/// One client: its own session, a loss policy for its handles, and its rounds in order.
#[derive(Clone, PartialEq, Eq)]
pub struct Script {
    /// The loss policy of every handle the script makes.
    pub loss: LostPolicy,
    /// The rounds, run one after the other.
    pub rounds: Vec<Round>,
}

/// When a chaos event strikes its client.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum When {
    /// At the event's time, whatever the client is doing.
    Now,
    /// The next time the client is inside an acquire call (from the event's time on).
    Waiting,
    /// The next time the client holds a guard (from the event's time on).
    Holding,
}

/// A fault on the next matching operation of the client's session.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum OpFault {
    /// The request never reaches the server; the client sees connection loss.
    LossBeforeApply,
    /// The request applies, its reply is lost; the client sees connection loss.
    LossAfterApply,
    /// The request applies at once, and its reply comes this many milliseconds late.
    DelayReply(u64),
}

/// What a chaos event does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Action {
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
pub struct Chaos {
    /// When to start looking for the moment, from the start of the run.
    pub at_ms: u64,
    /// The client struck (an index into [`Scenario::clients`]).
    pub client: usize,
    /// The moment.
    pub when: When,
    /// Extra delay once the moment came; for [`When::Waiting`] and [`When::Holding`], the
    /// event strikes only if the client is still in that state then.
    pub delay_ms: u64,
    /// What it does.
    pub action: Action,
}

/// A whole run: clients with scripts on one recipe path, and chaos events.
#[derive(Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The clients, each on its own session.
    pub clients: Vec<Script>,
    /// The chaos events, each run by its own task.
    pub chaos: Vec<Chaos>,
}

impl fmt::Debug for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Wait => write!(f, "acquire()"),
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

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Exclusive => "X",
            Role::Shared => "S",
        })
    }
}

impl fmt::Debug for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sleep {}ms, {} {:?}{:?}, hold {}ms, {:?}",
            self.pause_ms, self.role, self.mode, self.cancel, self.hold_ms, self.end
        )
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ", self.loss)?;
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
        writeln!(f, "Scenario:")?;
        for (i, script) in self.clients.iter().enumerate() {
            writeln!(f, "  c{i}: {script:?}")?;
        }
        for chaos in &self.chaos {
            writeln!(f, "  {chaos:?}")?;
        }
        Ok(())
    }
}
