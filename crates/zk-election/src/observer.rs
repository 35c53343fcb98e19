//! `Observer`: who leads an election, and who stands, without campaigning.

use futures::future::{join_all, select_all};
use tokio::sync::watch;
use zk_contender::{Engine, sorted_contenders};
use zk_core::path::{join, validate_path};
use zk_core::{Coordinator, CoordinatorExt, Error, EventType, OneshotWatch, SessionState};

use crate::error::ElectionError;
use crate::participant::{Participant, read};

/// Looks at an election without taking part: the current leader, the candidates in order,
/// and a watch that follows the leader.
///
/// The leader is the candidate with the lowest sequence number, in whatever scheme it was
/// named ([`crate::Naming`]); ids are read from node data, so kazoo's and Curator's candidates
/// appear with their own ids.
///
/// ```
/// use zk_election::{Candidate, Observer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), zk_election::ElectionError> {
/// let ensemble = zk_fake::FakeEnsemble::new();
/// let observer = Observer::new(ensemble.connect(), "/election");
/// let mut leader = observer.watch_leader().await?;
/// assert_eq!(*leader.borrow(), None);
///
/// let leading = Candidate::new(ensemble.connect(), "/election", "node-1").campaign().await?;
/// leader.changed().await.unwrap();
/// let current = leader.borrow_and_update().clone().unwrap();
/// assert_eq!((current.id.as_str(), current.term), ("node-1", leading.term()));
/// leading.resign().await?;
/// leader.changed().await.unwrap();
/// assert_eq!(*leader.borrow(), None);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Observer<C: Coordinator + Clone + 'static> {
    zk: C,
    path: String,
}

impl<C: Coordinator + Clone + 'static> Observer<C> {
    /// An observer of the election on `path`.
    pub fn new(zk: C, path: impl Into<String>) -> Observer<C> {
        Observer {
            zk,
            path: path.into(),
        }
    }

    /// The election path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The current leader, or `None` when nobody stands (or the path does not exist).
    ///
    /// A leader that leaves while it is being read is skipped for the next in line, who leads
    /// then.
    ///
    /// # Errors
    /// ZooKeeper errors that retrying cannot cure (invalid path, no permission, a closed
    /// handle); connection loss is ridden out.
    pub async fn leader(&self) -> Result<Option<Participant>, ElectionError> {
        validate_path(&self.path)?;
        let engine = Engine::new(&self.zk, &self.path);
        for contender in engine.contenders().await? {
            if let Some(leader) = read(&self.zk, &self.path, &contender).await? {
                return Ok(Some(leader));
            }
        }
        Ok(None)
    }

    /// Every candidate, leader first, in the order they would lead; candidates that leave
    /// while being read are left out.
    ///
    /// # Errors
    /// As [`Observer::leader`].
    pub async fn candidates(&self) -> Result<Vec<Participant>, ElectionError> {
        validate_path(&self.path)?;
        let contenders = Engine::new(&self.zk, &self.path).contenders().await?;
        // Pipelined: one round trip for every read.
        let read = join_all(
            contenders
                .iter()
                .map(|contender| read(&self.zk, &self.path, contender)),
        )
        .await;
        let mut candidates = Vec::with_capacity(read.len());
        for participant in read {
            candidates.extend(participant?);
        }
        Ok(candidates)
    }

    /// Follows the leader: a receiver whose value is the current leader (`None` when nobody
    /// leads), updated on every change of leader or of the leader's node data.
    ///
    /// A background task keeps it current with one watch on the election path's children and
    /// one on the leader's node (or, while the path does not exist, one on the path), set again
    /// after each event: it does nothing between changes. It rides out connection loss (the
    /// value may be stale until the connection returns) and session expiry (it looks again in
    /// the new session). It ends, setting the value to `None` and dropping the sender, when the
    /// handle is closed or fails authentication, or on an error retrying cannot cure (such as no
    /// permission to read the path); and when every receiver is dropped.
    ///
    /// # Errors
    /// Those of the first look, made before this returns (invalid path, a closed handle...).
    pub async fn watch_leader(
        &self,
    ) -> Result<watch::Receiver<Option<Participant>>, ElectionError> {
        validate_path(&self.path)?;
        let (tx, rx) = watch::channel(None);
        let follower = Follower {
            zk: self.zk.clone(),
            path: self.path.clone(),
            tx,
        };
        let pending = loop {
            match follower.look().await? {
                Pending::Reconnect => self.zk.connected().await?,
                Pending::NewSession => self.zk.recover(Error::SessionExpired).await?,
                pending => break pending,
            }
        };
        tokio::spawn(follower.follow(pending));
        Ok(rx)
    }
}

/// The task behind [`Observer::watch_leader`].
struct Follower<C: Coordinator> {
    zk: C,
    path: String,
    tx: watch::Sender<Option<Participant>>,
}

/// What the follower waits for before it looks again.
enum Pending {
    /// Any of these watches to fire.
    Watches(Vec<OneshotWatch>),
    /// The connection to come back.
    Reconnect,
    /// A new session after expiry.
    NewSession,
}

impl<C: Coordinator> Follower<C> {
    /// Publishes `leader` if it differs from the current value, so receivers wake only for a
    /// change.
    fn publish(&self, leader: Option<Participant>) {
        self.tx.send_if_modified(|current| {
            if *current == leader {
                return false;
            }
            *current = leader;
            true
        });
    }

    /// Reads the leader, publishes it and sets the watches that will tell of the next change.
    async fn look(&self) -> Result<Pending, Error> {
        loop {
            let (children, _, children_watch) = match self.zk.watch_children(&self.path).await {
                Ok(listed) => listed,
                Err(Error::NoNode { .. }) => match self.zk.watch_exists(&self.path).await {
                    // Created meanwhile: look again.
                    Ok((Some(_), _)) => continue,
                    Ok((None, created)) => {
                        self.publish(None);
                        return Ok(Pending::Watches(vec![created]));
                    }
                    Err(e) => return trouble(e),
                },
                Err(e) => return trouble(e),
            };
            let Some(head) = sorted_contenders(&children).into_iter().next() else {
                self.publish(None);
                return Ok(Pending::Watches(vec![children_watch]));
            };
            match self.zk.watch_data(&join(&self.path, &head.name)).await {
                Ok((bytes, stat, head_watch)) => {
                    self.publish(Some(Participant::from_node(&head, &bytes, &stat)));
                    return Ok(Pending::Watches(vec![children_watch, head_watch]));
                }
                // The head left after the listing, which changed the children: look again.
                Err(Error::NoNode { .. }) => {}
                Err(e) => return trouble(e),
            }
        }
    }

    /// Waits for what `pending` names; an error means the handle has ended.
    async fn wait(&self, pending: Pending) -> Result<(), Error> {
        match pending {
            Pending::Watches(watches) => {
                let (event, _, _) = select_all(watches).await;
                if event.event_type != EventType::Session {
                    return Ok(());
                }
                match event.state {
                    SessionState::Closed => Err(Error::Closed),
                    SessionState::AuthFailed => Err(Error::AuthFailed),
                    SessionState::Expired => self.zk.recover(Error::SessionExpired).await,
                    _ => Ok(()),
                }
            }
            Pending::Reconnect => self.zk.connected().await,
            Pending::NewSession => self.zk.recover(Error::SessionExpired).await,
        }
    }

    /// Looks and waits, over and over, until the handle ends or nobody listens.
    async fn follow(self, mut pending: Pending) {
        loop {
            let waited = tokio::select! {
                () = self.tx.closed() => return,
                waited = self.wait(pending) => waited,
            };
            let looked = match waited {
                Ok(()) => self.look().await,
                Err(e) => Err(e),
            };
            match looked {
                Ok(next) => pending = next,
                Err(error) => {
                    if !error.is_session_fatal() {
                        tracing::warn!(%error, path = self.path, "stopped following the leader");
                    }
                    self.tx.send_replace(None);
                    return;
                }
            }
        }
    }
}

/// What a failed request means for the follower: wait for the connection, wait for a new
/// session, or stop.
fn trouble(error: Error) -> Result<Pending, Error> {
    if error.is_retryable() {
        Ok(Pending::Reconnect)
    } else if error == Error::SessionExpired {
        Ok(Pending::NewSession)
    } else {
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_trouble_and_expiry_are_waited_out() {
        assert!(matches!(
            trouble(Error::ConnectionLoss),
            Ok(Pending::Reconnect)
        ));
        assert!(matches!(
            trouble(Error::SessionExpired),
            Ok(Pending::NewSession)
        ));
        assert_eq!(trouble(Error::Closed).err(), Some(Error::Closed));
        let denied = Error::NoAuth { path: "/e".into() };
        assert_eq!(trouble(denied.clone()).err(), Some(denied));
    }
}
