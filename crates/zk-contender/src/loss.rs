//! Knowing when something held through ZooKeeper (a lock, a leadership, a lease) is lost:
//! session expiry, a deleted node, a closed handle, or, per policy, a suspended connection.
//!
//! Nothing runs in the background until someone asks for [`Holding::lost`]: an uncontended
//! acquire and release spawn no task. [`Holding::is_held`] answers from the session state the
//! handle already keeps.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use tokio::task::JoinHandle;
use zk_core::{Coordinator, EventType, OneshotWatch, SessionState};

use crate::removal::{Cleanup, delete_node};

/// When something held counts as lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LostPolicy {
    /// As soon as the connection is suspended (`Disconnected`): the session might expire at the
    /// server, and another client take over, before this client can know. The safe default,
    /// like Curator's standard policy.
    #[default]
    SuspendedIsLost,
    /// Only when the session is gone (expired, closed) or the node deleted: tolerates short
    /// disconnections at the price of a window in which two clients may both believe they hold.
    /// Use fencing tokens if you choose this.
    OnlySessionLoss,
}

/// Why something held can no longer be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LossReason {
    /// The holder released it.
    Released,
    /// The node was deleted by someone else.
    NodeDeleted,
    /// The session that holds it expired (or the handle moved to a new one).
    SessionExpired,
    /// The connection was suspended (`Disconnected`) and the policy counts that as a loss: the
    /// session may expire at the server before the client can know.
    Suspended,
    /// The session handle was closed, or failed authentication.
    Closed,
}

/// A node held by a session, and how to learn it was lost.
pub struct Holding<C: Coordinator + Clone + 'static> {
    zk: C,
    path: String,
    session_id: i64,
    policy: LostPolicy,
    /// The handle's session state, as seen when the node came to be held.
    since: watch::Receiver<SessionState>,
    lost_tx: Arc<watch::Sender<Option<LossReason>>>,
    lost: watch::Receiver<Option<LossReason>>,
    monitor: Mutex<Option<JoinHandle<()>>>,
}

impl<C: Coordinator + Clone + 'static> fmt::Debug for Holding<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Holding")
            .field("path", &self.path)
            .field("session_id", &self.session_id)
            .field("policy", &self.policy)
            .field("lost", &*self.lost.borrow())
            .finish()
    }
}

impl<C: Coordinator + Clone + 'static> Holding<C> {
    /// Starts tracking `path`, held by session `session_id` of `zk`, as of now.
    pub fn new(zk: C, path: String, session_id: i64, policy: LostPolicy) -> Holding<C> {
        let mut since = zk.session_state();
        since.borrow_and_update();
        let (lost_tx, lost) = watch::channel(None);
        Holding {
            zk,
            path,
            session_id,
            policy,
            since,
            lost_tx: Arc::new(lost_tx),
            lost,
            monitor: Mutex::new(None),
        }
    }

    /// The held node's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The session that holds the node.
    pub fn session_id(&self) -> i64 {
        self.session_id
    }

    /// Whether the node is still held as far as this client knows: no loss was reported, the
    /// handle is still in the holding session and it has not ended, and, under
    /// [`LostPolicy::SuspendedIsLost`], the connection has not changed state since the node
    /// came to be held (from a connected state every change is a suspension or an end).
    ///
    /// A deletion of the node by someone else is seen only once [`Holding::lost`] was called.
    pub fn is_held(&self) -> bool {
        self.lost.borrow().is_none() && self.reason_now().is_none()
    }

    /// The loss visible without any request, if there is one.
    fn reason_now(&self) -> Option<LossReason> {
        reason(
            &self.zk,
            self.session_id,
            self.policy,
            *self.since.borrow(),
            self.since.has_changed().unwrap_or(true),
        )
    }

    /// Resolves when the node is no longer safely held, with the reason.
    ///
    /// The first call starts the monitor, which also watches the node, so a deletion by
    /// someone else is noticed; earlier session changes count as well.
    pub fn lost(&self) -> impl std::future::Future<Output = LossReason> + Send + 'static {
        self.monitor();
        let mut lost = self.lost.clone();
        async move {
            match lost.wait_for(Option::is_some).await {
                Ok(reason) => reason.unwrap_or(LossReason::Released),
                Err(_) => LossReason::Released,
            }
        }
    }

    /// Starts the monitor now, without waiting for a [`Holding::lost`] call: for holders whose
    /// [`Holding::is_held`] must see a deletion by someone else too (a leader, say). Does
    /// nothing if it runs already, or outside a tokio runtime.
    pub fn monitor(&self) {
        let mut monitor = self.monitor.lock().unwrap_or_else(PoisonError::into_inner);
        if monitor.is_some() || self.lost.borrow().is_some() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        *monitor = Some(runtime.spawn(watch_for_loss(
            self.zk.clone(),
            self.path.clone(),
            self.session_id,
            self.policy,
            self.since.clone(),
            self.lost_tx.clone(),
        )));
    }

    /// Stops monitoring (the holder released, or is dropping what it held); pending and later
    /// [`Holding::lost`] futures resolve with [`LossReason::Released`].
    pub fn stop(&self) {
        self.abort_monitor();
        self.lost_tx.send_if_modified(|lost| {
            if lost.is_none() {
                *lost = Some(LossReason::Released);
                true
            } else {
                false
            }
        });
    }
}

impl<C: Coordinator + Clone + 'static> Holding<C> {
    /// Lets the node go: stops monitoring (as [`Holding::stop`]) and deletes the node, retrying
    /// through connection loss until it is gone or its session has ended (which removes it too).
    ///
    /// # Errors
    /// Only failures that retrying cannot cure (an ACL forbidding the delete, say).
    pub async fn release(&self) -> Result<(), zk_core::Error> {
        self.stop();
        delete_node(&self.zk, &self.path, self.session_id).await
    }

    /// Lets the node go without waiting: stops monitoring and deletes the node in the
    /// background (what a guard dropped without an explicit release does). Without a tokio
    /// runtime the node goes only when its session ends.
    pub fn release_in_background(&self) {
        self.stop();
        drop(Cleanup::for_node(
            self.zk.clone(),
            &self.path,
            self.session_id,
        ));
    }

    fn abort_monitor(&self) {
        let monitor = self
            .monitor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(monitor) = monitor {
            monitor.abort();
        }
    }
}

impl<C: Coordinator + Clone + 'static> Drop for Holding<C> {
    fn drop(&mut self) {
        self.abort_monitor();
    }
}

/// The loss the handle's state shows: `now` is the state, `changed` whether it changed since
/// the node came to be held.
fn reason<C: Coordinator>(
    zk: &C,
    session_id: i64,
    policy: LostPolicy,
    now: SessionState,
    changed: bool,
) -> Option<LossReason> {
    if zk.session_id() != session_id || now == SessionState::Expired {
        Some(LossReason::SessionExpired)
    } else if matches!(now, SessionState::Closed | SessionState::AuthFailed) {
        Some(LossReason::Closed)
    } else if policy == LostPolicy::SuspendedIsLost
        && (changed || now == SessionState::Disconnected)
    {
        Some(LossReason::Suspended)
    } else {
        None
    }
}

/// What the monitor saw.
enum Seen {
    State,
    Node(zk_core::WatchEvent),
    HandleGone,
}

/// Watches the session and the node, and reports the first loss.
async fn watch_for_loss<C: Coordinator>(
    zk: C,
    path: String,
    session_id: i64,
    policy: LostPolicy,
    mut state: watch::Receiver<SessionState>,
    lost: Arc<watch::Sender<Option<LossReason>>>,
) {
    let mut node_watch: Option<OneshotWatch> = None;
    let mut changed = state.has_changed().unwrap_or(true);
    loop {
        let now = *state.borrow_and_update();
        if let Some(found) = reason(&zk, session_id, policy, now, changed) {
            lost.send_replace(Some(found));
            return;
        }
        if node_watch.is_none() && now.is_connected() {
            match zk.watch_exists(&path).await {
                Ok((Some(_), watch)) => node_watch = Some(watch),
                Ok((None, _)) => {
                    lost.send_replace(Some(LossReason::NodeDeleted));
                    return;
                }
                // Connection trouble: the next state change brings us back here.
                Err(_) => {}
            }
        }
        let seen = tokio::select! {
            result = state.changed() => if result.is_ok() { Seen::State } else { Seen::HandleGone },
            event = async {
                match node_watch.as_mut() {
                    Some(watch) => watch.await,
                    None => std::future::pending().await,
                }
            } => Seen::Node(event),
        };
        match seen {
            Seen::State => changed = true,
            Seen::HandleGone => {
                lost.send_replace(Some(LossReason::Closed));
                return;
            }
            Seen::Node(event) => {
                node_watch = None;
                if event.event_type == EventType::NodeDeleted {
                    lost.send_replace(Some(LossReason::NodeDeleted));
                    return;
                }
                // A data change, or a session event the next round judges: watch again.
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_core::CreateOptions;

    #[tokio::test(start_paused = true)]
    async fn release_deletes_the_node_and_reports_released() {
        let zk = zk_fake::FakeEnsemble::new().connect();
        for background in [false, true] {
            let created = zk
                .create("/held", b"", &CreateOptions::ephemeral())
                .await
                .unwrap();
            let holding = Holding::new(
                zk.clone(),
                created.path.clone(),
                zk.session_id(),
                LostPolicy::default(),
            );
            let lost = holding.lost();
            assert!(holding.is_held());
            if background {
                holding.release_in_background();
                while zk.exists("/held").await.unwrap().is_some() {
                    tokio::task::yield_now().await;
                }
            } else {
                holding.release().await.unwrap();
                assert_eq!(zk.exists("/held").await.unwrap(), None);
            }
            assert_eq!(lost.await, LossReason::Released);
            assert!(!holding.is_held());
        }
    }
}
