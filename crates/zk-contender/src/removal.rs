//! Guaranteed removal of contender nodes: a lock node is deleted even when the acquire future is
//! dropped, its reply was lost, or the connection is down for a while.

use zk_core::{Coordinator, Error, SessionState};

/// Waits until the handle is connected; fails once it never will be again.
pub(crate) async fn connected<C: Coordinator + ?Sized>(zk: &C) -> Result<(), Error> {
    let mut state = zk.session_state();
    let state = state
        .wait_for(|s| s.is_connected() || s.is_terminal())
        .await
        .map_err(|_| Error::Closed)?;
    match *state {
        SessionState::AuthFailed => Err(Error::AuthFailed),
        SessionState::Closed => Err(Error::Closed),
        _ => Ok(()),
    }
}

/// Waits out `error` when waiting can cure it: connection loss (until the handle reconnects),
/// or the session's expiry when the handle opens a new session (for at most a few session
/// timeouts, since a handle built with terminal expiry never will).
///
/// # Errors
/// `error` itself when waiting cannot help, or the handle's final failure.
pub(crate) async fn recover<C: Coordinator + ?Sized>(zk: &C, error: Error) -> Result<(), Error> {
    if error.is_retryable() {
        return connected(zk).await;
    }
    if error == Error::SessionExpired {
        let patience = zk.session_timeout() * 3 + std::time::Duration::from_secs(1);
        return match tokio::time::timeout(patience, connected(zk)).await {
            Ok(result) => result,
            Err(_) => Err(error),
        };
    }
    Err(error)
}

/// Deletes an ephemeral node of session `session_id`, retrying through connection loss, until
/// it is gone or the session has ended (which removes the node too).
pub(crate) async fn delete_node<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
    session_id: i64,
) -> Result<(), Error> {
    loop {
        if zk.session_id() != session_id {
            return Ok(());
        }
        match zk.delete(path, None).await {
            Ok(()) | Err(Error::NoNode { .. }) => return Ok(()),
            Err(e) if e.is_session_fatal() => return Ok(()),
            Err(e) if e.is_retryable() => {
                if connected(zk).await.is_err() {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes every node of `dir` whose name contains `tag` (an attempt whose create reply was
/// lost, or never came).
pub(crate) async fn delete_tagged<C: Coordinator + ?Sized>(
    zk: &C,
    dir: &str,
    tag: &str,
) -> Result<(), Error> {
    let session_id = zk.session_id();
    loop {
        match zk.get_children(dir).await {
            Ok((children, _)) => {
                for child in children.iter().filter(|c| c.contains(tag)) {
                    delete_node(zk, &zk_core::path::join(dir, child), session_id).await?;
                }
                return Ok(());
            }
            Err(Error::NoNode { .. }) => return Ok(()),
            Err(e) if e.is_session_fatal() => return Ok(()),
            Err(e) if e.is_retryable() => {
                if connected(zk).await.is_err() {
                    return Ok(());
                }
                if zk.session_id() != session_id {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// What an attempt must remove if it is abandoned.
#[derive(Debug, Clone)]
enum Pending {
    /// Nothing created, or it was handed over.
    Nothing,
    /// A create may be in flight: remove whatever carries the tag.
    Tagged { dir: String, tag: String },
    /// This node of this session.
    Node { path: String, session_id: i64 },
}

/// Removes an attempt's node in the background if the attempt is dropped before it is
/// disarmed: acquire futures are cancel-safe.
pub(crate) struct Cleanup<C: Coordinator + Clone + 'static> {
    zk: C,
    pending: Pending,
}

impl<C: Coordinator + Clone + 'static> Cleanup<C> {
    /// Armed for an attempt whose create (tagged `tag`) is about to be sent.
    pub(crate) fn tagged(zk: C, dir: &str, tag: &str) -> Cleanup<C> {
        Cleanup {
            zk,
            pending: Pending::Tagged {
                dir: dir.to_owned(),
                tag: tag.to_owned(),
            },
        }
    }

    /// The attempt's node is known.
    pub(crate) fn node(&mut self, path: &str, session_id: i64) {
        self.pending = Pending::Node {
            path: path.to_owned(),
            session_id,
        };
    }

    /// Nothing is left to remove (the node became a held lock, or is already gone).
    pub(crate) fn disarm(&mut self) {
        self.pending = Pending::Nothing;
    }

    /// Removes the attempt's node now, waiting at most `limit`; past that (the connection is
    /// down, say) the removal goes on in the background so the caller is not held up.
    pub(crate) async fn run_within(mut self, limit: std::time::Duration) -> Result<(), Error> {
        let pending = self.pending.clone();
        match tokio::time::timeout(limit, remove(&self.zk, pending)).await {
            Ok(result) => {
                self.pending = Pending::Nothing;
                result
            }
            // Still armed: dropping `self` finishes the job in the background.
            Err(_) => Ok(()),
        }
    }
}

async fn remove<C: Coordinator + ?Sized>(zk: &C, pending: Pending) -> Result<(), Error> {
    match pending {
        Pending::Nothing => Ok(()),
        Pending::Tagged { dir, tag } => delete_tagged(zk, &dir, &tag).await,
        Pending::Node { path, session_id } => delete_node(zk, &path, session_id).await,
    }
}

impl<C: Coordinator + Clone + 'static> Drop for Cleanup<C> {
    fn drop(&mut self) {
        let pending = std::mem::replace(&mut self.pending, Pending::Nothing);
        if matches!(pending, Pending::Nothing) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no tokio runtime to remove an abandoned lock node; its session will");
            return;
        };
        let zk = self.zk.clone();
        runtime.spawn(async move {
            if let Err(error) = remove(&zk, pending).await {
                tracing::warn!(%error, "could not remove an abandoned lock node");
            }
        });
    }
}
