//! `LockGuard`: proof of holding a lock, its fencing token, and how to learn it was lost.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use zk_core::{Coordinator, EventType, OneshotWatch, SessionState};

use crate::cleanup::delete_node;
use crate::error::{LockError, LossReason};
use crate::lock::LostPolicy;
use crate::naming::ContenderKind;

/// A held lock.
///
/// Release it with [`LockGuard::release`], which removes the lock node, retrying through
/// connection loss until it is gone or the session has ended.
/// Dropping the guard instead releases in the background on a best-effort basis (it needs a
/// tokio runtime); if even that cannot happen, the node goes when the session ends.
///
/// A lock held through ZooKeeper can be lost without the holder doing anything: the session can
/// expire, or the node be deleted by an administrator.
/// Check [`LockGuard::is_held`] before acting, await [`LockGuard::lost`] to stop acting when it
/// happens, and pass [`LockGuard::fencing_token`] to the resources you protect so they can refuse
/// a stale holder.
#[must_use = "dropping the guard releases the lock"]
pub struct LockGuard<C: Coordinator + Clone + 'static> {
    zk: C,
    path: String,
    session_id: i64,
    token: i64,
    kind: ContenderKind,
    lost: watch::Receiver<Option<LossReason>>,
    watch_node: Arc<Notify>,
    monitor: JoinHandle<()>,
    released: bool,
    held_flag: Arc<AtomicBool>,
}

impl<C: Coordinator + Clone + 'static> fmt::Debug for LockGuard<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("path", &self.path)
            .field("fencing_token", &self.token)
            .field("held", &self.is_held())
            .finish()
    }
}

impl<C: Coordinator + Clone + 'static> LockGuard<C> {
    pub(crate) fn new(
        zk: C,
        path: String,
        session_id: i64,
        token: i64,
        kind: ContenderKind,
        policy: LostPolicy,
        held_flag: Arc<AtomicBool>,
    ) -> LockGuard<C> {
        let (lost_tx, lost) = watch::channel(None);
        let watch_node = Arc::new(Notify::new());
        let monitor = tokio::spawn(monitor(
            zk.clone(),
            path.clone(),
            session_id,
            policy,
            lost_tx,
            watch_node.clone(),
        ));
        LockGuard {
            zk,
            path,
            session_id,
            token,
            kind,
            lost,
            watch_node,
            monitor,
            released: false,
            held_flag,
        }
    }

    /// A number that grows strictly from one holder of this lock path to the next: the czxid of
    /// this holder's lock node.
    ///
    /// Hand it to whatever the lock protects (a storage write, say) and have that refuse tokens
    /// lower than the highest it has seen: a holder that lost the lock without noticing (a long
    /// pause, a partition) is then turned away instead of overwriting its successor's work.
    pub fn fencing_token(&self) -> i64 {
        self.token
    }

    /// The full path of this holder's lock node.
    pub fn node_path(&self) -> &str {
        &self.path
    }

    /// Whether this is a shared (read) hold.
    pub fn is_shared(&self) -> bool {
        self.kind == ContenderKind::Read
    }

    /// Whether the lock is still held as far as this client knows: not released, the session
    /// that took it is still the handle's session and has not expired, the connection is not
    /// suspended (under [`LostPolicy::SuspendedIsLost`]), and, once [`LockGuard::lost`] has been
    /// called, the lock node has not been deleted.
    pub fn is_held(&self) -> bool {
        !self.released
            && self.lost.borrow().is_none()
            && self.zk.session_id() == self.session_id
            && *self.zk.session_state().borrow() != SessionState::Expired
    }

    /// Resolves when the lock is no longer safely held, with the reason.
    ///
    /// The first call also starts watching the lock node, so deletion by someone else is
    /// noticed; session expiry and (per policy) suspension are noticed in any case.
    pub fn lost(&self) -> impl std::future::Future<Output = LossReason> + Send + 'static {
        self.watch_node.notify_one();
        let mut lost = self.lost.clone();
        async move {
            match lost.wait_for(Option::is_some).await {
                Ok(reason) => reason.unwrap_or(LossReason::Released),
                Err(_) => LossReason::Released,
            }
        }
    }

    /// Releases the lock: deletes the lock node, retrying through connection loss until it is
    /// gone or the session has ended (which deletes it too).
    ///
    /// # Errors
    /// Only for failures that retrying cannot cure (an ACL forbidding the delete, say).
    pub async fn release(mut self) -> Result<(), LockError> {
        self.released = true;
        self.monitor.abort();
        let result = delete_node(&self.zk, &self.path, self.session_id).await;
        self.held_flag.store(false, Ordering::Release);
        result.map_err(LockError::from)
    }
}

impl<C: Coordinator + Clone + 'static> Drop for LockGuard<C> {
    fn drop(&mut self) {
        self.monitor.abort();
        if self.released {
            return;
        }
        // The handle may queue again at once: a new contender waits behind the old node until
        // the background release removes it.
        self.held_flag.store(false, Ordering::Release);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (zk, path, session_id) = (self.zk.clone(), self.path.clone(), self.session_id);
        runtime.spawn(async move {
            if let Err(error) = delete_node(&zk, &path, session_id).await {
                tracing::warn!(%error, path, "could not release a dropped lock");
            }
        });
    }
}

/// What the monitor saw.
enum Seen {
    State,
    StartWatching,
    Node(zk_core::WatchEvent),
    HandleGone,
}

/// Watches the session (always) and the lock node (once asked), and reports the first loss.
async fn monitor<C: Coordinator>(
    zk: C,
    path: String,
    session_id: i64,
    policy: LostPolicy,
    lost: watch::Sender<Option<LossReason>>,
    watch_node: Arc<Notify>,
) {
    let mut state = zk.session_state();
    let mut node_watch: Option<OneshotWatch> = None;
    let mut watching = false;
    loop {
        let now = *state.borrow_and_update();
        let reason = if zk.session_id() != session_id || now == SessionState::Expired {
            Some(LossReason::SessionExpired)
        } else if matches!(now, SessionState::Closed | SessionState::AuthFailed) {
            Some(LossReason::Closed)
        } else if now == SessionState::Disconnected && policy == LostPolicy::SuspendedIsLost {
            Some(LossReason::Suspended)
        } else {
            None
        };
        if let Some(reason) = reason {
            lost.send_replace(Some(reason));
            return;
        }
        if watching && node_watch.is_none() && now.is_connected() {
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
            changed = state.changed() => if changed.is_ok() { Seen::State } else { Seen::HandleGone },
            _ = watch_node.notified(), if !watching => Seen::StartWatching,
            event = async {
                match node_watch.as_mut() {
                    Some(watch) => watch.await,
                    None => std::future::pending().await,
                }
            } => Seen::Node(event),
        };
        match seen {
            Seen::State => {}
            Seen::StartWatching => watching = true,
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
