//! Building blocks for failover tests on a real ZooKeeper ensemble, through the wire client:
//! kill, pause, resume and restart members while sessions run, and record what the sessions
//! saw.
//!
//! [`FailoverEnsemble::start`] takes the process-wide ensemble turn ([`take_turn`]), starts a
//! [`ZkEnsemble`] and waits for its leader. Harness calls block (they wait for JVMs), so the
//! ensemble's methods run them on tokio's blocking pool: the clients' session tasks keep
//! running meanwhile, which is what a failover test needs to observe. [`StateLog`] keeps every
//! session state a client reports, with when, since a `watch::Receiver` only keeps the latest.
//!
//! Waits are bounded and use real time; every limit here scales with `ZK_TEST_TIMEOUT_SCALE`
//! (see [`limit`]).
//!
//! ```no_run
//! use zk_core::SessionState;
//! use zk_testkit::failover::{FailoverEnsemble, LONG_SESSION, StateLog, connect, limit};
//! use zk_testkit::server::ZkEnsemble;
//!
//! # async fn example() {
//! let (ensemble, leader) = FailoverEnsemble::start(ZkEnsemble::builder().size(3)).await;
//! let zk = connect(&ensemble.preferring(leader), LONG_SESSION).await;
//! let mut log = StateLog::start(&zk);
//! ensemble.kill(leader).await;
//! log.wait_for(SessionState::SyncConnected, limit(20)).await;
//! assert_ne!(ensemble.connected_member(&zk), leader);
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use zk_core::client::ZkClient;
use zk_core::{Coordinator, SessionState};

use crate::server::{ZkEnsemble, ZkEnsembleBuilder};
use crate::timing::{scale, within_for};

/// The shortest session timeout the harness's members grant: 2 × their default `tickTime` of
/// 2 s. The wire client's read timeout is 2/3 of it.
pub const SHORT_SESSION: Duration = Duration::from_secs(4);

/// A session timeout that comfortably outlasts a reconnection to another member, and an
/// election on loopback.
pub const LONG_SESSION: Duration = Duration::from_secs(10);

/// `secs` seconds, scaled by `ZK_TEST_TIMEOUT_SCALE` (see [`crate::timing::scale`]) for slow
/// machines.
pub fn limit(secs: u64) -> Duration {
    Duration::from_secs(secs).mul_f64(scale())
}

/// The turn of one ensemble test; see [`take_turn`].
static TURN: Mutex<()> = Mutex::const_new(());

/// Proof that this test holds the ensemble turn; the turn passes on when it is dropped.
#[derive(Debug)]
pub struct EnsembleTurn {
    _guard: MutexGuard<'static, ()>,
}

/// Waits until no other test in this process holds the ensemble turn, and takes it.
///
/// Every test that starts an ensemble should hold the turn while it runs;
/// [`FailoverEnsemble::start`] takes it. Three JVMs already keep two cores busy, and more at
/// once can stretch an election past a session timeout. The turn is process-wide, so tests in
/// different modules, or from different crates linked into one test binary, take turns too. A
/// test that panics gives the turn up as it unwinds.
pub async fn take_turn() -> EnsembleTurn {
    EnsembleTurn {
        _guard: TURN.lock().await,
    }
}

/// Runs a blocking harness call (start, kill, restart, ...) on tokio's blocking pool, so the
/// runtime's other tasks keep running meanwhile.
///
/// # Panics
/// When `f` panics.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("the harness call panicked")
}

/// Connects to the hosts of `hosts` in the order given (not shuffled), asking for a `session`
/// timeout, and waits at most the session timeout plus [`limit`]`(5)`.
///
/// # Panics
/// When `hosts` is not a valid connect string, or no connection is made in time.
pub async fn connect(hosts: &str, session: Duration) -> ZkClient {
    let builder = ZkClient::builder(hosts)
        .expect("a valid connect string")
        .session_timeout(session)
        .ordered_hosts();
    within_for(session + limit(5), builder.connect())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {hosts}: {e}"))
}

/// A running ensemble of a failover test, with the ensemble turn.
///
/// Dropping it kills the JVMs, then passes the turn on.
#[derive(Debug)]
pub struct FailoverEnsemble {
    // Declared before the turn, so the JVMs are gone before the next test starts its own.
    ensemble: Arc<ZkEnsemble>,
    began: Instant,
    _turn: EnsembleTurn,
}

impl FailoverEnsemble {
    /// Takes the ensemble turn, starts the ensemble `builder` describes and waits until it has
    /// a leader; returns it with the leader's index.
    ///
    /// # Panics
    /// When the ensemble does not start or elect a leader.
    pub async fn start(builder: ZkEnsembleBuilder) -> (FailoverEnsemble, usize) {
        let turn = take_turn().await;
        let began = Instant::now();
        let ensemble = blocking(move || builder.start())
            .await
            .unwrap_or_else(|e| panic!("cannot start the ensemble: {e}"));
        let ensemble = FailoverEnsemble {
            ensemble: Arc::new(ensemble),
            began,
            _turn: turn,
        };
        let leader = ensemble.wait_for_leader().await;
        (ensemble, leader)
    }

    /// The harness's ensemble, for what these methods do not cover.
    pub fn ensemble(&self) -> &ZkEnsemble {
        &self.ensemble
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.ensemble.len()
    }

    /// Always false: an ensemble has at least one member.
    pub fn is_empty(&self) -> bool {
        self.ensemble.is_empty()
    }

    /// How long since this test got its turn and began starting the ensemble.
    pub fn elapsed(&self) -> Duration {
        self.began.elapsed()
    }

    /// Every member but `member`, in index order.
    pub fn others(&self, member: usize) -> Vec<usize> {
        (0..self.len()).filter(|&i| i != member).collect()
    }

    /// A connect string naming `members`, in this order.
    pub fn hosts(&self, members: &[usize]) -> String {
        members
            .iter()
            .map(|&i| self.ensemble.member(i).connect_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A connect string naming member `first`, then the others; with [`connect`]'s ordered
    /// hosts, the session starts on `first` and fails over to the others.
    pub fn preferring(&self, first: usize) -> String {
        let mut order = vec![first];
        order.extend(self.others(first));
        self.hosts(&order)
    }

    /// The member `client` is connected to now.
    ///
    /// # Panics
    /// When the client is not connected, or not to a member of this ensemble.
    pub fn connected_member(&self, client: &ZkClient) -> usize {
        let (_, port) = client.connected_server().expect("the client is connected");
        self.ensemble
            .members()
            .iter()
            .position(|m| m.port() == port)
            .expect("the client is connected to a member")
    }

    /// Waits (off the runtime) until every running, unpaused member serves and exactly one
    /// leads, and returns the leader.
    ///
    /// # Panics
    /// When that does not happen within the harness's start timeout.
    pub async fn wait_for_leader(&self) -> usize {
        let e = self.ensemble.clone();
        blocking(move || e.wait_for_leader())
            .await
            .unwrap_or_else(|e| panic!("no leader: {e}"))
    }

    /// Kills `member` with `SIGKILL`, as a crash would (off the runtime).
    pub async fn kill(&self, member: usize) {
        let e = self.ensemble.clone();
        blocking(move || e.member(member).kill()).await;
    }

    /// Pauses `member` with `SIGSTOP` (off the runtime); returns once every thread of its JVM
    /// has stopped.
    ///
    /// # Panics
    /// When the member is not running.
    pub async fn pause(&self, member: usize) {
        let e = self.ensemble.clone();
        blocking(move || e.member(member).pause())
            .await
            .unwrap_or_else(|e| panic!("cannot pause member {member}: {e}"));
    }

    /// Continues a paused `member` with `SIGCONT` (off the runtime).
    ///
    /// # Panics
    /// When the member is not running.
    pub async fn resume(&self, member: usize) {
        let e = self.ensemble.clone();
        blocking(move || e.member(member).resume())
            .await
            .unwrap_or_else(|e| panic!("cannot resume member {member}: {e}"));
    }

    /// Restarts `member` on its port and data (off the runtime), and waits until it serves as
    /// a leader or follower again.
    ///
    /// # Panics
    /// When it does not come back.
    pub async fn restart(&self, member: usize) {
        let e = self.ensemble.clone();
        blocking(move || e.member(member).restart())
            .await
            .unwrap_or_else(|e| panic!("cannot restart member {member}: {e}"));
    }
}

/// True when `states` holds `first` and, later, `second`.
pub fn reported_in_order(
    states: &[SessionState],
    first: SessionState,
    second: SessionState,
) -> bool {
    states
        .iter()
        .position(|s| *s == first)
        .is_some_and(|i| states[i + 1..].contains(&second))
}

/// Every session state a client reported since the log started, in order and with when.
///
/// A task on the current runtime records them; dropping the log stops it.
#[derive(Debug)]
pub struct StateLog {
    log: watch::Receiver<Vec<(SessionState, Instant)>>,
    task: JoinHandle<()>,
}

impl StateLog {
    /// Starts recording the states `client` reports from now on (not the current one).
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(client: &ZkClient) -> StateLog {
        let mut states = client.session_state();
        states.borrow_and_update();
        let (tx, log) = watch::channel(Vec::new());
        let task = tokio::spawn(async move {
            while states.changed().await.is_ok() {
                let state = *states.borrow_and_update();
                tx.send_modify(|log| log.push((state, Instant::now())));
            }
        });
        StateLog { log, task }
    }

    /// Waits at most `limit` until the states so far satisfy `done`, and returns them.
    ///
    /// # Panics
    /// On timeout, naming `what` and the states so far.
    pub async fn wait_until(
        &mut self,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&[SessionState]) -> bool,
    ) -> Vec<SessionState> {
        let waited = tokio::time::timeout(limit, self.log.wait_for(|log| done(&states_of(log))))
            .await
            .map(|log| log.map(|log| states_of(&log)));
        match waited {
            Ok(Ok(states)) => states,
            Ok(Err(_)) => panic!("the state recorder stopped"),
            Err(_) => panic!(
                "timed out after {limit:?} waiting for {what}; states so far: {:?}",
                self.states()
            ),
        }
    }

    /// When `state` was first reported, waiting at most `limit` for it (zero: it must have
    /// been reported already).
    ///
    /// # Panics
    /// On timeout, naming the states so far.
    pub async fn wait_for(&mut self, state: SessionState, limit: Duration) -> Instant {
        self.wait_until(&format!("{state:?}"), limit, |states| {
            states.contains(&state)
        })
        .await;
        self.log
            .borrow()
            .iter()
            .find(|(s, _)| *s == state)
            .map(|(_, at)| *at)
            .expect("just seen")
    }

    /// The states reported so far, in order.
    pub fn states(&self) -> Vec<SessionState> {
        states_of(&self.log.borrow())
    }
}

impl Drop for StateLog {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn states_of(log: &[(SessionState, Instant)]) -> Vec<SessionState> {
    log.iter().map(|(s, _)| *s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use SessionState::{Disconnected, Expired, SyncConnected};

    #[test]
    fn order_of_reports() {
        let log = [Disconnected, Expired, SyncConnected];
        assert!(reported_in_order(&log, Disconnected, SyncConnected));
        assert!(reported_in_order(&log, Expired, SyncConnected));
        assert!(!reported_in_order(&log, SyncConnected, Disconnected));
        assert!(!reported_in_order(&log, Disconnected, Disconnected));
        assert!(!reported_in_order(&[], Disconnected, SyncConnected));
    }

    #[test]
    fn limits_scale_whole_seconds() {
        assert_eq!(limit(2), Duration::from_secs(2).mul_f64(scale()));
    }

    #[tokio::test]
    async fn one_turn_at_a_time() {
        let first = take_turn().await;
        assert!(TURN.try_lock().is_err(), "the turn is held");
        drop(first);
        let _second = take_turn().await;
    }

    #[tokio::test]
    async fn blocking_returns_the_value() {
        assert_eq!(blocking(|| 6 * 7).await, 42);
    }
}
