//! The fault world catches what it promises to catch: a deliberately broken recipe, one bug at
//! a time, on a fixed scenario, must fail with the matching violation; the same recipe without
//! the bug, under a rule it keeps, must pass.
//!
//! The recipe, [`Greedy`], holds as soon as its node exists: it ignores the queue, so it keeps
//! [`at_most`]`(n)` only while at most `n` clients ask at once.

use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use zk_core::{Coordinator, CoordinatorExt, CreateMode, CreateOptions};
use zk_fake::FakeSession;
use zk_testkit::fault_world::{
    Acquired, Action, Cancel, Chaos, Contended, End, Fencing, HolderView, Mode, QueuedNode,
    Request, Role, Round, Scenario, Script, When, at_most, run,
};

const PATH: &str = "/greedy";

/// One way to break the recipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bug {
    None,
    /// Release and drop leave the node.
    Leaks,
    /// Acquire never returns.
    Hangs,
    /// Acquire fails.
    Fails,
    /// `lost()` never resolves.
    Silent,
    /// Tokens shrink.
    CountsDown,
    /// A timed acquire overruns its timeout by 3 s, then times out.
    Overruns,
    /// A waiting acquire says "blocked".
    Refuses,
}

#[derive(Debug, Clone, Copy)]
struct Greedy {
    holders: usize,
    bug: Bug,
}

struct Grab {
    zk: FakeSession,
    path: String,
    session: i64,
    czxid: i64,
    leaks: bool,
}

impl Drop for Grab {
    fn drop(&mut self) {
        if self.leaks {
            return;
        }
        let (zk, path) = (self.zk.clone(), self.path.clone());
        tokio::spawn(async move { zk.delete(&path, None).await });
    }
}

#[async_trait]
impl Contended for Greedy {
    type Guard = Grab;
    type Loss = &'static str;

    fn path(&self) -> &str {
        PATH
    }

    async fn acquire(&self, zk: FakeSession, request: Request) -> Result<Acquired<Grab>, String> {
        match (self.bug, request.mode) {
            (Bug::Hangs, _) => std::future::pending().await,
            (Bug::Fails, _) => return Err("boom".to_owned()),
            (Bug::Overruns, Mode::Timeout(ms)) => {
                tokio::time::sleep(Duration::from_millis(ms + 3_000)).await;
                return Ok(Acquired::TimedOut);
            }
            (Bug::Refuses, Mode::Wait) => return Ok(Acquired::Blocked),
            _ => {}
        }
        zk.ensure_path(PATH).await.map_err(|e| e.to_string())?;
        let options = CreateOptions::new(CreateMode::EphemeralSequential);
        let created = zk
            .create(&format!("{PATH}/n-"), b"", &options)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Acquired::Held(Grab {
            session: zk.session_id(),
            zk,
            path: created.path,
            czxid: created.stat.czxid,
            leaks: self.bug == Bug::Leaks,
        }))
    }

    fn is_held(&self, grab: &Grab) -> bool {
        grab.zk.session_id() == grab.session && grab.zk.session_state().borrow().is_connected()
    }

    fn lost(&self, grab: &Grab) -> BoxFuture<'static, &'static str> {
        if self.bug == Bug::Silent {
            return Box::pin(std::future::pending());
        }
        let (zk, session) = (grab.zk.clone(), grab.session);
        let mut state = zk.session_state();
        Box::pin(async move {
            loop {
                if zk.session_id() != session || !state.borrow_and_update().is_connected() {
                    return "session trouble";
                }
                if state.changed().await.is_err() {
                    return "closed";
                }
            }
        })
    }

    fn token(&self, grab: &Grab) -> i64 {
        if self.bug == Bug::CountsDown {
            -grab.czxid
        } else {
            grab.czxid
        }
    }

    fn node_path<'g>(&self, grab: &'g Grab) -> &'g str {
        &grab.path
    }

    async fn release(&self, grab: Grab) -> Result<(), String> {
        if grab.leaks {
            return Ok(());
        }
        grab.zk
            .delete(&grab.path, None)
            .await
            .map_err(|e| e.to_string())
    }

    fn check_holders(&self, holders: &[HolderView], queue: &[QueuedNode]) -> Vec<String> {
        at_most(self.holders, holders, queue)
    }

    fn fencing(&self) -> Fencing {
        Fencing::Increasing
    }
}

fn round(pause_ms: u64, mode: Mode) -> Round {
    Round {
        pause_ms,
        role: Role::Exclusive,
        mode,
        cancel: Cancel::Never,
        hold_ms: 1_000,
        end: End::Release,
    }
}

/// Two clients; the second asks while the first holds.
fn overlapping(mode: Mode) -> Scenario {
    let script = |pause_ms| Script {
        loss: zk_contender::LostPolicy::SuspendedIsLost,
        rounds: vec![round(pause_ms, mode)],
    };
    Scenario {
        clients: vec![script(0), script(500)],
        chaos: Vec::new(),
    }
}

/// Runs `scenario` and expects a violation containing `wanted`.
fn fails_with(recipe: Greedy, scenario: &Scenario, wanted: &str) {
    match run(recipe, scenario) {
        Ok(()) => panic!("{recipe:?} passed; expected a violation with {wanted:?}"),
        Err(report) => assert!(
            report.contains(wanted),
            "expected {wanted:?} in the report:\n{report}"
        ),
    }
}

/// Two holders may hold, so only `bug` can break the run.
fn with_bug(bug: Bug) -> Greedy {
    Greedy { holders: 2, bug }
}

#[test]
fn a_recipe_keeping_its_rule_passes() {
    for mode in [Mode::Wait, Mode::Try, Mode::Timeout(100)] {
        run(with_bug(Bug::None), &overlapping(mode)).unwrap();
    }
}

#[test]
fn holders_beyond_the_rule_break_exclusion() {
    let recipe = Greedy {
        holders: 1,
        bug: Bug::None,
    };
    let scenario = overlapping(Mode::Wait);
    fails_with(recipe, &scenario, "2 clients hold at once, at most 1 may");
    fails_with(
        recipe,
        &scenario,
        "considers itself holding, but n-0000000000 comes before it",
    );
}

#[test]
fn each_broken_promise_is_reported() {
    let cases = [
        (
            Bug::Leaks,
            Mode::Wait,
            "contender nodes left behind with every script over and sessions open: \
             n-0000000000 of c0",
        ),
        (Bug::Hangs, Mode::Wait, "still pending after 600s: stuck"),
        (Bug::Fails, Mode::Try, "try_acquire() failed with boom"),
        (Bug::CountsDown, Mode::Wait, "not above token"),
        (
            Bug::Overruns,
            Mode::Timeout(100),
            "acquire_timeout(100ms) returned after 3.1s",
        ),
        (
            Bug::Refuses,
            Mode::Wait,
            "acquire() reported blocked, which its mode does not document",
        ),
    ];
    for (bug, mode, wanted) in cases {
        fails_with(with_bug(bug), &overlapping(mode), wanted);
    }
}

#[test]
fn a_loss_never_told_is_reported() {
    let mut scenario = overlapping(Mode::Wait);
    scenario.chaos.push(Chaos {
        at_ms: 0,
        client: 0,
        when: When::Holding,
        delay_ms: 100,
        action: Action::Expire,
    });
    fails_with(
        with_bug(Bug::Silent),
        &scenario,
        "c0#0: the guard no longer holds, but lost() never resolved",
    );
}
