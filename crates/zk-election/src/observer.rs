//! `Observer`: who leads an election, and who stands, without campaigning.

use futures::StreamExt;
use futures::future::join_all;
use tokio::sync::watch;
use zk_cache::{TreeCache, TreeCacheOptions};
use zk_contender::{Engine, sorted_contenders};
use zk_core::Coordinator;
use zk_core::path::{join, validate_path};

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
    /// A background task keeps it current from a [`zk_cache::TreeCache`] of the election path
    /// one level deep (the candidates' nodes): it does nothing between changes, rides out
    /// connection loss (the value may be stale until the connection returns) and session
    /// expiry (it looks again in the new session). It ends, setting the value to `None` and
    /// dropping the sender, when the handle is closed or fails authentication, or on an error
    /// retrying cannot cure (such as no permission to read the path); and when every receiver
    /// is dropped.
    ///
    /// # Errors
    /// Those of the first look, made before this returns (invalid path, a closed handle...).
    pub async fn watch_leader(
        &self,
    ) -> Result<watch::Receiver<Option<Participant>>, ElectionError> {
        validate_path(&self.path)?;
        let options = TreeCacheOptions::new().max_depth(1);
        let (cache, mut events) = TreeCache::start(self.zk.clone(), &self.path, options)?;
        cache.initialized().await?;
        let (tx, rx) = watch::channel(leader_in(&cache));
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    () = tx.closed() => return,
                    event = events.next() => event,
                };
                if event.is_none() {
                    // The cache stopped: the handle ended, or an error it cannot ride out.
                    tx.send_replace(None);
                    return;
                }
                let leader = leader_in(&cache);
                tx.send_if_modified(|current| {
                    if *current == leader {
                        return false;
                    }
                    *current = leader;
                    true
                });
            }
        });
        Ok(rx)
    }
}

/// The leader as `cache` (of the election path, one level deep) holds it: the first contender
/// by sequence among the cached candidates whose node is still cached (the cache's task may
/// remove the head between the listing and the read; the next in line leads then).
fn leader_in(cache: &TreeCache) -> Option<Participant> {
    let names = cache.children(cache.root())?;
    sorted_contenders(&names).into_iter().find_map(|contender| {
        let node = cache.get(&join(cache.root(), &contender.name))?;
        Some(Participant::from_node(&contender, &node.data, &node.stat))
    })
}
