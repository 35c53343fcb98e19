//! Guaranteed removal of contender nodes: a node is deleted even when the attempt that made it
//! is dropped, its create reply was lost, or the connection is down for a while.

use zk_core::{Coordinator, CoordinatorExt, Error};

/// Deletes an ephemeral node of session `session_id`, retrying through connection loss, until
/// it is gone or the session has ended (which removes the node too).
///
/// # Errors
/// Only failures that retrying cannot cure (an ACL forbidding the delete, say).
pub async fn delete_node<C: Coordinator + ?Sized>(
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
                if zk.connected().await.is_err() {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes the node at `path` if session `session_id` owns it and it holds `mark`, retrying
/// through connection loss, until that is decided or the session has ended (which removes
/// the node too). The delete is conditional on the version read, so a node re-created in
/// between is left alone.
///
/// # Errors
/// Only failures that retrying cannot cure.
pub async fn delete_marked<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
    session_id: i64,
    mark: &[u8],
) -> Result<(), Error> {
    loop {
        if zk.session_id() != session_id {
            return Ok(());
        }
        let outcome = match zk.get_data(path).await {
            Ok((data, stat)) if data == mark && stat.ephemeral_owner == session_id => {
                zk.delete(path, Some(stat.version)).await
            }
            Ok(_) => return Ok(()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) | Err(Error::NoNode { .. } | Error::BadVersion { .. }) => return Ok(()),
            Err(e) if e.is_session_fatal() => return Ok(()),
            Err(e) if e.is_retryable() => {
                if zk.connected().await.is_err() {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes every node of `dir` whose name contains `tag` (an attempt whose create reply was
/// lost, or never came).
///
/// # Errors
/// Only failures that retrying cannot cure.
pub async fn delete_tagged<C: Coordinator + ?Sized>(
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
                if zk.connected().await.is_err() {
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
    /// This node, if this session owns it and it holds this data.
    Marked {
        path: String,
        session_id: i64,
        mark: Vec<u8>,
    },
}

/// Removes an attempt's node in the background if the attempt is dropped before it is
/// disarmed, which makes every acquire, campaign or wait built on it cancel-safe.
pub struct Cleanup<C: Coordinator + Clone + 'static> {
    zk: C,
    pending: Pending,
}

impl<C: Coordinator + Clone + 'static> std::fmt::Debug for Cleanup<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cleanup")
            .field("pending", &self.pending)
            .finish()
    }
}

impl<C: Coordinator + Clone + 'static> Cleanup<C> {
    /// Armed for an attempt whose create (tagged `tag`) is about to be sent.
    pub fn tagged(zk: C, dir: &str, tag: &str) -> Cleanup<C> {
        Cleanup {
            zk,
            pending: Pending::Tagged {
                dir: dir.to_owned(),
                tag: tag.to_owned(),
            },
        }
    }

    /// Armed for a known node of session `session_id` (a held node being let go, say).
    pub fn for_node(zk: C, path: &str, session_id: i64) -> Cleanup<C> {
        let mut cleanup = Cleanup {
            zk,
            pending: Pending::Nothing,
        };
        cleanup.node(path, session_id);
        cleanup
    }

    /// Armed for a node of a fixed name that an attempt of session `session_id` is about to
    /// create with `mark` as its data, where another attempt (of this session or another)
    /// may create the same name: only a node that this session owns and that holds `mark` is
    /// removed.
    pub fn marked(zk: C, path: &str, session_id: i64, mark: &[u8]) -> Cleanup<C> {
        Cleanup {
            zk,
            pending: Pending::Marked {
                path: path.to_owned(),
                session_id,
                mark: mark.to_vec(),
            },
        }
    }

    /// The attempt's node is known.
    pub fn node(&mut self, path: &str, session_id: i64) {
        self.pending = Pending::Node {
            path: path.to_owned(),
            session_id,
        };
    }

    /// Nothing is left to remove (the node became a held lock, or is already gone).
    pub fn disarm(&mut self) {
        self.pending = Pending::Nothing;
    }

    /// Removes the attempt's node now, waiting at most `limit`; past that (the connection is
    /// down, say) the removal goes on in the background so the caller is not held up.
    ///
    /// # Errors
    /// Only failures that retrying cannot cure.
    pub async fn run_within(mut self, limit: std::time::Duration) -> Result<(), Error> {
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
        Pending::Marked {
            path,
            session_id,
            mark,
        } => delete_marked(zk, &path, session_id, &mark).await,
    }
}

impl<C: Coordinator + Clone + 'static> Drop for Cleanup<C> {
    fn drop(&mut self) {
        let pending = std::mem::replace(&mut self.pending, Pending::Nothing);
        if matches!(pending, Pending::Nothing) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                "no tokio runtime to remove an abandoned contender node; its session will"
            );
            return;
        };
        let zk = self.zk.clone();
        runtime.spawn(async move {
            if let Err(error) = remove(&zk, pending).await {
                tracing::warn!(%error, "could not remove an abandoned contender node");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_core::CreateOptions;

    #[tokio::test(start_paused = true)]
    async fn a_marked_cleanup_removes_only_its_own_node() {
        let ensemble = zk_fake::FakeEnsemble::new();
        let (a, b) = (ensemble.connect(), ensemble.connect());
        a.create("/leases", b"", &CreateOptions::persistent())
            .await
            .unwrap();
        // Another session's node, and this session's node of another attempt: both stay.
        b.create("/leases/x", b"mine", &CreateOptions::ephemeral())
            .await
            .unwrap();
        a.create("/leases/y", b"other", &CreateOptions::ephemeral())
            .await
            .unwrap();
        for path in ["/leases/x", "/leases/y", "/leases/absent"] {
            Cleanup::marked(a.clone(), path, a.session_id(), b"mine")
                .run_within(std::time::Duration::from_secs(1))
                .await
                .unwrap();
        }
        assert!(a.exists("/leases/x").await.unwrap().is_some());
        assert!(a.exists("/leases/y").await.unwrap().is_some());
        // This attempt's own node goes, also when the cleanup is dropped armed.
        a.create("/leases/z", b"mine", &CreateOptions::ephemeral())
            .await
            .unwrap();
        drop(Cleanup::marked(
            a.clone(),
            "/leases/z",
            a.session_id(),
            b"mine",
        ));
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        assert!(a.exists("/leases/z").await.unwrap().is_none());
    }
}
