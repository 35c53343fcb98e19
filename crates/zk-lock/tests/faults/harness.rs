//! Runs a [`Scenario`] on a fake ensemble under paused time and checks the lock's invariants
//! while it runs and once it is over.
//!
//! # The invariants, exactly
//! A client *holds* when it has a guard whose `is_held()` is true. On the fake the client's view
//! of its session is exact: an expiry (by `expire_session` or by a disconnection outlasting the
//! timeout) deletes the session's nodes and flips the handle to `Expired` in one step, so a
//! holder whose lock went away with its session stops holding at that very instant, and no
//! grace window is needed for the checks below.
//!
//! 1. **Exclusion.** At every check, the holding guards are at most one (mutex), or, for the
//!    read/write lock, any number of readers or exactly one writer.
//! 2. **Holders own the head of the queue.** At every check, each holding guard's node exists in
//!    the fake's tree, is ephemeral to the client's current session, and no contender that can
//!    block it precedes it in sequence order (any contender for a mutex holder or a writer, a
//!    writer for a reader). This is what makes 1 true rather than lucky.
//! 3. **Fencing.** For acquisitions that returned a holding guard, in the order the acquire
//!    calls returned: a mutex holder's or writer's token is greater than every earlier
//!    acquisition's token; a reader's token is greater than every earlier writer's token
//!    (readers that share the lock are not ordered among themselves).
//! 4. **Loss is told.** A guard that stopped holding without being released has seen `lost()`
//!    resolve within a second of simulated time.
//! 5. **Liveness.** Every acquire call finishes (with the lock, `None`, or an error) within 10
//!    minutes of simulated time, far beyond any scenario's total hold time; so does every
//!    release. A hang is a waiter stuck behind a predecessor that went away.
//!    `acquire_timeout(d)` returns within `d` plus 2 s (the lock gives a failed attempt's
//!    clean-up at most a second before leaving it to the background), whatever the connection
//!    does meanwhile: it "waits at most `timeout`".
//! 6. **Documented errors only.** The lock rides out connection loss and session expiry, so an
//!    acquire ends only with the lock, `None` (try), or `Timeout` (timed acquire); a release
//!    ends with `Ok`.
//! 7. **No leftovers.** Once every script is over and a minute of simulated time has let
//!    reconnections and background clean-ups finish, with every session still open, no contender
//!    node is left under the lock path (a node of a live session would block the lock for
//!    good); after every client closes, none is left either.
//!
//! Checks run at every acquisition, after every chaos event, before every release or drop, and
//! every 250 ms of simulated time while scripts run.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until, timeout};
use zk_core::Coordinator;
use zk_fake::{FakeEnsemble, FakeSession, Fault, OpMatcher};
use zk_lock::{
    Contender, ContenderKind, Lock, LockError, LockGuard, LockOptions, LossReason, ReadWriteLock,
};

use crate::model::{Action, Cancel, Chaos, End, Mode, OpFault, Round, Scenario, Script, When};

/// The lock path every client contends on.
pub(crate) const LOCK_PATH: &str = "/locks/faults";
/// How long any acquire or release may take before it counts as stuck.
pub(crate) const LIVENESS: Duration = Duration::from_secs(600);
/// How much longer than its timeout `acquire_timeout` may take: the lock gives a failed
/// attempt's clean-up one second before leaving it to the background.
const TIMEOUT_SLACK: Duration = Duration::from_secs(2);
/// How long after the scripts end clean-ups and reconnections get to settle.
const SETTLE: Duration = Duration::from_secs(60);
/// How often the invariants are checked besides at events.
const CHECK_EVERY: Duration = Duration::from_millis(250);
/// How long a Waiting/Holding chaos event waits for its moment before giving up.
const MOMENT_WAIT: Duration = Duration::from_secs(30);
/// The most trace lines kept for a failure report.
const TRACE_LINES: usize = 400;

/// What a client is doing, for chaos aimed at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Idle,
    Acquiring,
    Holding,
}

/// A client's guard while it counts as a potential holder.
struct Holder {
    client: usize,
    round: usize,
    write: bool,
    token: i64,
    guard: Arc<LockGuard<FakeSession>>,
    /// Set once `lost()` resolved while the guard was still the client's.
    lost: watch::Receiver<Option<LossReason>>,
}

/// State shared by the clients, the chaos events and the checker.
struct World {
    rw: bool,
    ensemble: FakeEnsemble,
    sessions: Vec<FakeSession>,
    status: Vec<watch::Sender<Status>>,
    holders: Mutex<Vec<Holder>>,
    /// `(client, write, token)` of each holding acquisition, in order.
    acquisitions: Mutex<Vec<(usize, bool, i64)>>,
    violations: Mutex<Vec<String>>,
    trace: Mutex<Vec<String>>,
    start: Instant,
    done: AtomicBool,
}

impl World {
    fn now_ms(&self) -> u128 {
        self.start.elapsed().as_millis()
    }

    fn log(&self, line: String) {
        let mut trace = self.trace.lock().unwrap();
        if trace.len() == TRACE_LINES {
            trace.remove(0);
        }
        trace.push(format!("{:>7}ms {line}", self.now_ms()));
    }

    fn violation(&self, what: String) {
        self.log(format!("VIOLATION: {what}"));
        let mut violations = self.violations.lock().unwrap();
        if violations.len() < 20 {
            violations.push(format!("at {}ms: {what}", self.now_ms()));
        }
    }

    fn set_status(&self, client: usize, status: Status) {
        self.status[client].send_replace(status);
    }

    /// The contenders under the lock path, in sequence order, with their owners.
    fn contenders(&self) -> Vec<(Contender, i64)> {
        let prefix = format!("{LOCK_PATH}/");
        let mut found: Vec<(Contender, i64)> = self
            .ensemble
            .snapshot()
            .into_iter()
            .filter_map(|(path, (_, stat))| {
                let name = path.strip_prefix(&prefix)?;
                Contender::parse(name).map(|c| (c, stat.ephemeral_owner))
            })
            .collect();
        found.sort_by_key(|(c, _)| c.sequence);
        found
    }

    /// Invariants 1 and 2.
    fn check(&self, when: &str) {
        let holders = self.holders.lock().unwrap();
        let held: Vec<&Holder> = holders.iter().filter(|h| h.guard.is_held()).collect();
        for h in &held {
            if let Some(reason) = *h.lost.borrow() {
                self.violation(format!(
                    "{when}: c{}#{}'s lost() resolved with {reason:?}, yet is_held() is true",
                    h.client, h.round
                ));
            }
        }
        if held.is_empty() {
            return;
        }
        let describe = |h: &Holder| {
            format!(
                "c{}#{} ({}, token {}, {})",
                h.client,
                h.round,
                if h.write { "W" } else { "R" },
                h.token,
                h.guard.node_path()
            )
        };
        let writers = held.iter().filter(|h| h.write).count();
        if held.len() > 1 && (!self.rw || writers > 0) {
            let who: Vec<String> = held.iter().map(|h| describe(h)).collect();
            self.violation(format!(
                "{when}: {} clients hold the lock at once: {}",
                held.len(),
                who.join(", ")
            ));
        }
        let contenders = self.contenders();
        for h in &held {
            let name = zk_core::path::name(h.guard.node_path());
            let Some(index) = contenders.iter().position(|(c, _)| c.name == name) else {
                self.violation(format!(
                    "{when}: {} considers itself holding, but its node is gone",
                    describe(h)
                ));
                continue;
            };
            let owner = contenders[index].1;
            let session = self.sessions[h.client].session_id();
            if owner != session {
                self.violation(format!(
                    "{when}: {} holds a node of session {owner:#x}, not of its session {session:#x}",
                    describe(h)
                ));
            }
            let blocked_by = contenders[..index]
                .iter()
                .find(|(c, _)| h.write || c.kind == ContenderKind::Exclusive);
            if let Some((c, _)) = blocked_by {
                self.violation(format!(
                    "{when}: {} considers itself holding, but {} comes before it",
                    describe(h),
                    c.name
                ));
            }
        }
    }

    /// Invariant 3, for a new holding acquisition.
    fn check_token(&self, client: usize, write: bool, token: i64) {
        let mut acquisitions = self.acquisitions.lock().unwrap();
        let earlier = acquisitions
            .iter()
            .filter(|(_, w, _)| write || *w)
            .max_by_key(|(_, _, t)| *t);
        if let Some(&(other, _, max)) = earlier
            && token <= max
        {
            self.violation(format!(
                "c{client} acquired with token {token}, not above token {max} of an earlier \
                 acquisition by c{other}"
            ));
        }
        acquisitions.push((client, write, token));
    }
}

/// Drops the inner future at the wake-up after its `n`-th poll: cancellation at the `n`-th
/// await point reached.
struct PollLimit<F: Future> {
    inner: Pin<Box<F>>,
    left: u32,
}

impl<F: Future> Future for PollLimit<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        self.inner.as_mut().poll(cx).map(Some)
    }
}

/// Cancels `fut` after `n` polls; `None` when it was cancelled.
pub(crate) async fn cancel_after_polls<F: Future>(fut: F, n: u32) -> Option<F::Output> {
    PollLimit {
        inner: Box::pin(fut),
        left: n,
    }
    .await
}

type Acquired = Result<Option<LockGuard<FakeSession>>, LockError>;

/// One acquire call of a round: `None` if the round cancelled it, `Err(())` if it hung.
async fn acquire(lock: Lock<FakeSession>, round: &Round) -> Result<Option<Acquired>, ()> {
    let mode = round.mode;
    let call = async move {
        match mode {
            Mode::Acquire => lock.acquire().await.map(Some),
            Mode::Try => lock.try_acquire().await,
            Mode::Timeout(ms) => lock
                .acquire_timeout(Duration::from_millis(ms))
                .await
                .map(Some),
        }
    };
    let cancellable = async move {
        match round.cancel {
            Cancel::Never => Some(call.await),
            Cancel::AfterPolls(n) => cancel_after_polls(call, n).await,
            Cancel::AfterMs(ms) => timeout(Duration::from_millis(ms), call).await.ok(),
        }
    };
    timeout(LIVENESS, cancellable).await.map_err(|_| ())
}

fn make_lock(world: &World, client: usize, script: &Script, write: bool) -> Lock<FakeSession> {
    let zk = world.sessions[client].clone();
    let options = LockOptions::new().lost_policy(script.policy);
    if !world.rw {
        return Lock::with_options(zk, LOCK_PATH, options);
    }
    let rw = ReadWriteLock::with_options(zk, LOCK_PATH, options);
    if write {
        rw.write_lock().clone()
    } else {
        rw.read_lock().clone()
    }
}

/// Runs one client's script.
async fn client(world: Arc<World>, client: usize, script: Script) {
    for (index, round) in script.rounds.iter().enumerate() {
        sleep(Duration::from_millis(round.pause_ms)).await;
        let write = round.write || !world.rw;
        let lock = make_lock(&world, client, &script, write);
        world.log(format!("c{client}#{index} {round:?}"));
        world.set_status(client, Status::Acquiring);
        let started = Instant::now();
        let outcome = acquire(lock, round).await;
        world.set_status(client, Status::Idle);
        if let (Mode::Timeout(ms), Ok(Some(_))) = (round.mode, &outcome) {
            let bound = Duration::from_millis(ms) + TIMEOUT_SLACK;
            if started.elapsed() > bound {
                world.violation(format!(
                    "c{client}#{index}: acquire_timeout({ms}ms) returned after {:?}",
                    started.elapsed()
                ));
            }
        }
        let guard = match outcome {
            Err(()) => {
                world.violation(format!(
                    "c{client}#{index}: {:?} still pending after {LIVENESS:?}: stuck",
                    round.mode
                ));
                continue;
            }
            Ok(None) => {
                world.log(format!("c{client}#{index} cancelled the acquire"));
                continue;
            }
            Ok(Some(Ok(None))) => {
                world.log(format!("c{client}#{index} try_acquire: blocked"));
                continue;
            }
            Ok(Some(Err(LockError::Timeout { .. }))) if matches!(round.mode, Mode::Timeout(_)) => {
                world.log(format!("c{client}#{index} timed out"));
                continue;
            }
            Ok(Some(Err(error))) => {
                world.violation(format!(
                    "c{client}#{index}: {:?} failed with {error:?} (the lock promises to ride out \
                     connection loss and session expiry)",
                    round.mode
                ));
                continue;
            }
            Ok(Some(Ok(Some(guard)))) => guard,
        };
        hold(&world, client, index, round, write, guard).await;
    }
    world.set_status(client, Status::Idle);
    world.log(format!("c{client} done"));
}

/// Registers a fresh guard, checks the acquisition, holds, and lets go.
async fn hold(
    world: &Arc<World>,
    client: usize,
    index: usize,
    round: &Round,
    write: bool,
    guard: LockGuard<FakeSession>,
) {
    let token = guard.fencing_token();
    let held = guard.is_held();
    world.log(format!(
        "c{client}#{index} acquired {} token {token} (is_held {held})",
        guard.node_path()
    ));
    let guard = Arc::new(guard);
    let (told, mut lost) = watch::channel(None);
    let watcher = {
        let (world, loss) = (world.clone(), guard.lost());
        tokio::spawn(async move {
            let reason = loss.await;
            if reason != LossReason::Released {
                world.log(format!("c{client}#{index} lost(): {reason:?}"));
            }
            told.send_replace(Some(reason));
        })
    };
    if held {
        world.check_token(client, write, token);
        world.holders.lock().unwrap().push(Holder {
            client,
            round: index,
            write,
            token,
            guard: guard.clone(),
            lost: lost.clone(),
        });
        world.check(&format!("c{client}#{index} acquired"));
    }
    world.set_status(client, Status::Holding);
    sleep(Duration::from_millis(round.hold_ms)).await;
    world.set_status(client, Status::Idle);
    world.check(&format!("c{client}#{index} about to let go"));

    // Invariant 4: a lock that stopped being held was reported lost.
    if !guard.is_held() {
        let told = timeout(Duration::from_secs(1), lost.wait_for(Option::is_some)).await;
        if !told.is_ok_and(|r| r.is_ok()) {
            world.violation(format!(
                "c{client}#{index}: the guard is no longer held, but lost() never resolved"
            ));
        }
    }
    world
        .holders
        .lock()
        .unwrap()
        .retain(|h| !Arc::ptr_eq(&h.guard, &guard));
    let Ok(guard) = Arc::try_unwrap(guard) else {
        unreachable!("the registry let go of the guard");
    };
    match round.end {
        End::Drop => {
            world.log(format!("c{client}#{index} drops the guard"));
            drop(guard);
        }
        End::Release => match timeout(LIVENESS, guard.release()).await {
            Ok(Ok(())) => world.log(format!("c{client}#{index} released")),
            Ok(Err(error)) => {
                world.violation(format!("c{client}#{index}: release failed with {error:?}"))
            }
            Err(_) => world.violation(format!(
                "c{client}#{index}: release still pending after {LIVENESS:?}: stuck"
            )),
        },
    }
    // The watcher ends with `Released` once the guard is gone.
    let _ = timeout(Duration::from_secs(1), watcher).await;
}

/// Waits for a client to be in `status`; false if it is not within [`MOMENT_WAIT`].
async fn moment(world: &World, client: usize, status: Status) -> bool {
    let mut rx = world.status[client].subscribe();
    timeout(MOMENT_WAIT, rx.wait_for(|s| *s == status))
        .await
        .is_ok_and(|r| r.is_ok())
}

/// Strikes one chaos event.
async fn strike(world: Arc<World>, chaos: Chaos) {
    sleep_until(world.start + Duration::from_millis(chaos.at_ms)).await;
    let wanted = match chaos.when {
        When::Now => None,
        When::Waiting => Some(Status::Acquiring),
        When::Holding => Some(Status::Holding),
    };
    if let Some(status) = wanted
        && !moment(&world, chaos.client, status).await
    {
        return;
    }
    sleep(Duration::from_millis(chaos.delay_ms)).await;
    if let Some(status) = wanted
        && *world.status[chaos.client].borrow() != status
    {
        return;
    }
    let session = world.sessions[chaos.client].session_id();
    let faults = world.ensemble.faults();
    let done = match chaos.action {
        Action::FailNext(kind, fault) => {
            let fault = match fault {
                OpFault::LossBeforeApply => Fault::ConnectionLossBeforeApply,
                OpFault::LossAfterApply => Fault::ConnectionLossAfterApply,
                OpFault::DelayReply(ms) => Fault::DelayReply(Duration::from_millis(ms)),
            };
            faults.fail_next(OpMatcher::op(kind).session(session), fault);
            true
        }
        Action::Expire => faults.expire_session(session),
        Action::Disconnect(ms) => faults.disconnect(session, Duration::from_millis(ms)),
    };
    world.log(format!(
        "chaos c{} ({session:#x}) {:?}{}",
        chaos.client,
        chaos.action,
        if done { "" } else { ": no effect" }
    ));
    world.check(&format!("after {:?} on c{}", chaos.action, chaos.client));
}

/// Runs `scenario` in a fresh current-thread runtime with paused time; `Err` describes every
/// violation with the trace of the run.
pub(crate) fn run(scenario: &Scenario) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(run_in_runtime(scenario))
}

async fn run_in_runtime(scenario: &Scenario) -> Result<(), String> {
    let ensemble = FakeEnsemble::new();
    let sessions: Vec<FakeSession> = scenario
        .clients
        .iter()
        .map(|_| ensemble.connect())
        .collect();
    let world = Arc::new(World {
        rw: scenario.rw,
        ensemble: ensemble.clone(),
        status: sessions
            .iter()
            .map(|_| watch::channel(Status::Idle).0)
            .collect(),
        sessions,
        holders: Mutex::new(Vec::new()),
        acquisitions: Mutex::new(Vec::new()),
        violations: Mutex::new(Vec::new()),
        trace: Mutex::new(Vec::new()),
        start: Instant::now(),
        done: AtomicBool::new(false),
    });
    for (i, session) in world.sessions.iter().enumerate() {
        world.log(format!("c{i} is session {:#x}", session.session_id()));
    }

    let checker = {
        let world = world.clone();
        tokio::spawn(async move {
            while !world.done.load(Ordering::Acquire) {
                sleep(CHECK_EVERY).await;
                world.check("periodic check");
            }
        })
    };
    let chaos: Vec<_> = scenario
        .chaos
        .iter()
        .map(|&c| tokio::spawn(strike(world.clone(), c)))
        .collect();
    let clients: Vec<_> = scenario
        .clients
        .iter()
        .enumerate()
        .map(|(i, script)| tokio::spawn(client(world.clone(), i, script.clone())))
        .collect();
    for (i, task) in clients.into_iter().enumerate() {
        if let Err(error) = task.await {
            world.violation(format!("c{i}'s task failed: {error}"));
        }
    }
    for task in chaos {
        if let Err(error) = task.await {
            world.violation(format!("a chaos task failed: {error}"));
        }
    }

    world.done.store(true, Ordering::Release);
    let _ = checker.await;

    // Invariant 7.
    sleep(SETTLE).await;
    world.check("after the scripts");
    let left = world.contenders();
    if !left.is_empty() {
        let owners: Vec<String> = left
            .iter()
            .map(|(c, owner)| {
                let client = world
                    .sessions
                    .iter()
                    .position(|s| s.session_id() == *owner)
                    .map_or("an expired session".to_owned(), |i| format!("c{i}"));
                format!("{} of {client} ({owner:#x})", c.name)
            })
            .collect();
        world.violation(format!(
            "contender nodes left behind with every script over and sessions open: {}",
            owners.join(", ")
        ));
    }
    for session in &world.sessions {
        let _ = session.close().await;
    }
    sleep(Duration::from_secs(1)).await;
    if !world.contenders().is_empty() {
        world.violation("contender nodes left behind after every client closed".to_owned());
    }
    let violations = world.violations.lock().unwrap();
    if violations.is_empty() {
        return Ok(());
    }
    let trace = world.trace.lock().unwrap();
    Err(format!(
        "{}\n\nviolations:\n  {}\n\ntrace (last {} lines):\n  {}",
        format_args!("{scenario:?}"),
        violations.join("\n  "),
        trace.len(),
        trace.join("\n  ")
    ))
}
