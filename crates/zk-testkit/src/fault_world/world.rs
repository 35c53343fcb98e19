//! The state clients, chaos events and the checker share, and the continuous checks over it.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use tokio::time::Instant;
use zk_core::Coordinator;
use zk_fake::{FakeEnsemble, FakeSession};

use super::queue::{QueuedNode, queue};
use super::recipe::{Contended, HolderView};
use super::rules::TokenLog;
use super::scenario::Role;

/// The most trace lines kept for a failure report.
const TRACE_LINES: usize = 400;
/// The most violations kept for a failure report.
const VIOLATIONS: usize = 20;

/// What a client is doing, for chaos aimed at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Idle,
    Acquiring,
    Holding,
}

/// A client's guard while it counts as a potential holder.
pub(crate) struct Holder<R: Contended> {
    pub(crate) client: usize,
    pub(crate) round: usize,
    pub(crate) role: Role,
    pub(crate) token: i64,
    pub(crate) guard: Arc<R::Guard>,
    /// Set once `lost()` resolved while the guard was still the client's.
    pub(crate) lost: watch::Receiver<Option<R::Loss>>,
}

/// State shared by the clients, the chaos events and the checker.
pub(crate) struct World<R: Contended> {
    pub(crate) recipe: R,
    pub(crate) ensemble: FakeEnsemble,
    pub(crate) sessions: Vec<FakeSession>,
    pub(crate) status: Vec<watch::Sender<Status>>,
    pub(crate) holders: Mutex<Vec<Holder<R>>>,
    tokens: Mutex<TokenLog>,
    violations: Mutex<Vec<String>>,
    trace: Mutex<Vec<String>>,
    pub(crate) start: Instant,
    pub(crate) done: AtomicBool,
}

/// Locks a mutex whether or not a panicking task poisoned it: the world's state stays
/// meaningful, and the panic is reported as a violation of its own.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<R: Contended> World<R> {
    /// A world of `clients` clients, each on its own session of `ensemble`.
    pub(crate) fn new(recipe: R, ensemble: FakeEnsemble, clients: usize) -> World<R> {
        let sessions: Vec<FakeSession> = (0..clients).map(|_| ensemble.connect()).collect();
        let world = World {
            recipe,
            ensemble,
            status: sessions
                .iter()
                .map(|_| watch::channel(Status::Idle).0)
                .collect(),
            sessions,
            holders: Mutex::new(Vec::new()),
            tokens: Mutex::new(TokenLog::default()),
            violations: Mutex::new(Vec::new()),
            trace: Mutex::new(Vec::new()),
            start: Instant::now(),
            done: AtomicBool::new(false),
        };
        for (i, session) in world.sessions.iter().enumerate() {
            world.log(format!("c{i} is session {:#x}", session.session_id()));
        }
        world
    }

    fn now_ms(&self) -> u128 {
        self.start.elapsed().as_millis()
    }

    /// Adds a line to the trace, keeping the last [`TRACE_LINES`].
    pub(crate) fn log(&self, line: String) {
        let mut trace = lock(&self.trace);
        if trace.len() == TRACE_LINES {
            trace.remove(0);
        }
        trace.push(format!("{:>7}ms {line}", self.now_ms()));
    }

    /// Records a broken invariant.
    pub(crate) fn violation(&self, what: String) {
        self.log(format!("VIOLATION: {what}"));
        let mut violations = lock(&self.violations);
        if violations.len() < VIOLATIONS {
            violations.push(format!("at {}ms: {what}", self.now_ms()));
        }
    }

    /// An acquire ended without a guard: logged if its mode documents that ending, else a
    /// violation.
    pub(crate) fn ended(&self, documented: bool, what: String) {
        if documented {
            self.log(what);
        } else {
            self.violation(format!("{what}, which its mode does not document"));
        }
    }

    pub(crate) fn set_status(&self, client: usize, status: Status) {
        self.status[client].send_replace(status);
    }

    /// The contenders under the recipe path, in sequence order.
    pub(crate) fn queue(&self) -> Vec<QueuedNode> {
        queue(&self.ensemble, self.recipe.path(), |name| {
            self.recipe.role_of(name)
        })
    }

    /// The invariants over the current holders: no holder whose loss was told; each holder's
    /// node in the queue and owned by its client's current session; the recipe's own rule.
    pub(crate) fn check(&self, when: &str) {
        let holders = lock(&self.holders);
        let held: Vec<&Holder<R>> = holders
            .iter()
            .filter(|h| self.recipe.is_held(&h.guard))
            .collect();
        for h in &held {
            if let Some(reason) = &*h.lost.borrow() {
                self.violation(format!(
                    "{when}: c{}#{}'s lost() resolved with {reason:?}, yet it still holds",
                    h.client, h.round
                ));
            }
        }
        if held.is_empty() {
            return;
        }
        let views: Vec<HolderView> = held
            .iter()
            .map(|h| HolderView {
                client: h.client,
                round: h.round,
                role: h.role,
                token: h.token,
                node_path: self.recipe.node_path(&h.guard).to_owned(),
            })
            .collect();
        drop(holders);
        let queue = self.queue();
        for view in &views {
            let Some(node) = queue.iter().find(|n| n.path == view.node_path) else {
                self.violation(format!(
                    "{when}: {view} considers itself holding, but its node is gone"
                ));
                continue;
            };
            let session = self.sessions[view.client].session_id();
            if node.owner != session {
                self.violation(format!(
                    "{when}: {view} holds a node of session {:#x}, not of its session \
                     {session:#x}",
                    node.owner
                ));
            }
        }
        for broken in self.recipe.check_holders(&views, &queue) {
            self.violation(format!("{when}: {broken}"));
        }
    }

    /// Fencing, for a new holding acquisition.
    pub(crate) fn check_token(&self, client: usize, role: Role, token: i64) {
        let broken = lock(&self.tokens).record(self.recipe.fencing(), client, role, token);
        if let Some(broken) = broken {
            self.violation(broken);
        }
    }

    /// The run's report: `Ok` without violations, else the violations and the trace.
    pub(crate) fn report(&self, scenario: &impl std::fmt::Debug) -> Result<(), String> {
        let violations = lock(&self.violations);
        if violations.is_empty() {
            return Ok(());
        }
        let trace = lock(&self.trace);
        Err(format!(
            "{:?}\n{scenario:?}\nviolations:\n  {}\n\ntrace (last {} lines):\n  {}",
            self.recipe,
            violations.join("\n  "),
            trace.len(),
            trace.join("\n  ")
        ))
    }
}
