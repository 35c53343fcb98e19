//! The lock engine, written once for every lock kind (and later recipes): protected creation of
//! an ephemeral sequential contender node, then waiting on the one contender that blocks it.

use tokio::time::Instant;
use zk_core::path::{join, name};
use zk_core::{
    Coordinator, CoordinatorExt, CreateMode, CreateOptions, Error, EventType, SessionState,
};

use crate::cleanup::{connected, recover};
use crate::naming::{Contender, ContenderKind, NodePrefix, sorted_contenders};

/// A contender node this attempt owns.
#[derive(Debug, Clone)]
pub(crate) struct Entered {
    pub(crate) name: String,
    pub(crate) path: String,
    /// The node's czxid: the lock's fencing token once held.
    pub(crate) czxid: i64,
    /// The session that owns the node.
    pub(crate) session_id: i64,
    /// A listing of the lock path taken after the node existed.
    pub(crate) listing: Vec<String>,
}

/// How waiting ended.
#[derive(Debug)]
pub(crate) enum Turn {
    /// Nothing blocks this contender: the lock is held.
    Acquired,
    /// Something blocks it and the caller does not want to wait.
    Blocked,
    /// The node is gone (its session ended, or someone deleted it): start again.
    NodeGone,
    /// The deadline passed.
    TimedOut,
}

/// The contender that must go before `contenders[index]` may hold the lock, if any.
///
/// Exclusive contenders wait for their immediate predecessor; readers wait for the nearest
/// earlier exclusive contender only, so no contender wakes for a change that cannot help it.
pub(crate) fn blocker(
    contenders: &[Contender],
    index: usize,
    kind: ContenderKind,
) -> Option<&Contender> {
    match kind {
        ContenderKind::Exclusive => index.checked_sub(1).map(|i| &contenders[i]),
        ContenderKind::Read => contenders[..index]
            .iter()
            .rev()
            .find(|c| c.kind == ContenderKind::Exclusive),
    }
}

/// Runs `fut` until `deadline`, if there is one; `None` when it passed.
pub(crate) async fn until<F: std::future::Future>(
    deadline: Option<Instant>,
    fut: F,
) -> Option<F::Output> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, fut).await.ok(),
        None => Some(fut.await),
    }
}

/// The lock engine for one lock path.
#[derive(Debug)]
pub(crate) struct Engine<'a, C: Coordinator> {
    pub(crate) zk: &'a C,
    pub(crate) dir: &'a str,
    pub(crate) data: &'a [u8],
    /// Create missing lock paths as containers (swept once empty) rather than persistent
    /// nodes. Off for kazoo interop: a kazoo `Lock` creates its path once and fails for good if
    /// the path later vanishes.
    pub(crate) containers: bool,
}

impl<C: Coordinator> Engine<'_, C> {
    /// Creates the lock path and its missing ancestors: as containers (as Curator does), so empty
    /// lock paths are swept by the server, falling back to persistent nodes on servers before
    /// 3.5.1; or as persistent nodes when containers are off.
    async fn ensure_dir(&self) -> Result<(), Error> {
        loop {
            match self.try_ensure_dir().await {
                Err(e) => recover(self.zk, e).await?,
                done => return done,
            }
        }
    }

    async fn try_ensure_dir(&self) -> Result<(), Error> {
        let mut missing = vec![self.dir];
        for ancestor in zk_core::path::ancestors(self.dir) {
            if ancestor == "/" || self.zk.exists(ancestor).await?.is_some() {
                break;
            }
            missing.push(ancestor);
        }
        if !self.containers {
            return self.zk.ensure_path(self.dir).await;
        }
        for dir in missing.into_iter().rev() {
            let made = self.zk.create(dir, &[], &CreateOptions::container()).await;
            match made {
                Ok(_) | Err(Error::NodeExists { .. }) | Err(Error::NoNode { .. }) => {}
                Err(Error::Unimplemented { .. }) => self.zk.ensure_path(dir).await?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Creates this attempt's contender node and lists the lock path, in one round trip when
    /// nothing goes wrong: ZooKeeper answers a session's requests in order, so a listing sent
    /// right behind the create already contains the new node.
    ///
    /// After a lost reply it looks for its own node by the attempt's tag and adopts it only if
    /// the current session owns it (Curator's fix for double ownership), deleting any other.
    pub(crate) async fn enter(&self, prefix: &NodePrefix) -> Result<Entered, Error> {
        let create_path = join(self.dir, &prefix.prefix);
        let options = CreateOptions::new(CreateMode::EphemeralSequential);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let (created, listed) = futures::join!(
                self.zk.create(&create_path, self.data, &options),
                self.zk.get_children(self.dir),
            );
            match created {
                Ok(created) => {
                    let name = name(&created.path).to_owned();
                    let listing = match listed {
                        Ok((children, _)) if children.contains(&name) => children,
                        _ => self.list().await?,
                    };
                    return Ok(Entered {
                        name,
                        path: created.path,
                        czxid: created.stat.czxid,
                        session_id: created.stat.ephemeral_owner,
                        listing,
                    });
                }
                Err(Error::NoNode { .. }) if attempts < 16 => self.ensure_dir().await?,
                Err(e) if attempts < 1000 => {
                    recover(self.zk, e).await?;
                    if let Some(found) = self.find_own(prefix).await? {
                        return Ok(found);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Looks for a node of this attempt (by its tag) that this session owns, riding out
    /// connection loss.
    async fn find_own(&self, prefix: &NodePrefix) -> Result<Option<Entered>, Error> {
        loop {
            match self.try_find_own(prefix).await {
                Err(e) => recover(self.zk, e).await?,
                found => return found,
            }
        }
    }

    async fn try_find_own(&self, prefix: &NodePrefix) -> Result<Option<Entered>, Error> {
        let listing = self.list().await?;
        let session_id = self.zk.session_id();
        for child in listing.iter().filter(|c| c.contains(&prefix.tag)) {
            let path = join(self.dir, child);
            match self.zk.exists(&path).await? {
                Some(stat) if stat.ephemeral_owner == session_id => {
                    return Ok(Some(Entered {
                        name: child.clone(),
                        path,
                        czxid: stat.czxid,
                        session_id,
                        listing: listing.clone(),
                    }));
                }
                // A node of this attempt from an earlier session: it would never be released.
                Some(_) => crate::cleanup::delete_node(self.zk, &path, session_id).await?,
                None => {}
            }
        }
        Ok(None)
    }

    /// Lists the lock path, riding out connection loss.
    pub(crate) async fn list(&self) -> Result<Vec<String>, Error> {
        loop {
            match self.zk.get_children(self.dir).await {
                Ok((children, _)) => return Ok(children),
                Err(Error::NoNode { .. }) => return Ok(Vec::new()),
                Err(e) => recover(self.zk, e).await?,
            }
        }
    }

    /// Waits until nothing blocks `entered` (or, with `wait` false, reports that something
    /// does), watching only the contender that blocks it.
    pub(crate) async fn wait_turn(
        &self,
        entered: &mut Entered,
        kind: ContenderKind,
        wait: bool,
        deadline: Option<Instant>,
    ) -> Result<Turn, Error> {
        loop {
            if self.zk.session_id() != entered.session_id {
                return Ok(Turn::NodeGone);
            }
            let contenders = sorted_contenders(&entered.listing);
            let Some(index) = contenders.iter().position(|c| c.name == entered.name) else {
                return Ok(Turn::NodeGone);
            };
            let Some(blocking) = blocker(&contenders, index, kind) else {
                return Ok(Turn::Acquired);
            };
            if !wait {
                return Ok(Turn::Blocked);
            }
            let blocking = join(self.dir, &blocking.name);
            match until(deadline, self.zk.watch_data(&blocking)).await {
                None => return Ok(Turn::TimedOut),
                Some(Ok((_, _, watch))) => match until(deadline, watch).await {
                    None => return Ok(Turn::TimedOut),
                    Some(event) if event.event_type == EventType::Session => match event.state {
                        SessionState::Closed => return Err(Error::Closed),
                        SessionState::AuthFailed => return Err(Error::AuthFailed),
                        // Expired: the node went with the session.
                        _ => return Ok(Turn::NodeGone),
                    },
                    Some(_) => {}
                },
                Some(Err(Error::NoNode { .. })) => {}
                Some(Err(e)) if e.is_retryable() => {
                    if until(deadline, connected(self.zk))
                        .await
                        .transpose()?
                        .is_none()
                    {
                        return Ok(Turn::TimedOut);
                    }
                }
                Some(Err(Error::SessionExpired)) => return Ok(Turn::NodeGone),
                Some(Err(e)) => return Err(e),
            }
            entered.listing = match until(deadline, self.list()).await {
                None => return Ok(Turn::TimedOut),
                Some(listing) => listing?,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contenders(spec: &[(i32, ContenderKind)]) -> Vec<Contender> {
        spec.iter()
            .map(|&(sequence, kind)| Contender {
                name: format!("n{sequence}"),
                sequence,
                kind,
            })
            .collect()
    }

    #[test]
    fn exclusive_contenders_wait_for_their_predecessor_only() {
        use ContenderKind::*;
        let c = contenders(&[(1, Read), (2, Exclusive), (3, Read), (4, Exclusive)]);
        assert_eq!(blocker(&c, 0, Exclusive), None);
        assert_eq!(blocker(&c, 3, Exclusive).unwrap().sequence, 3);
    }

    #[test]
    fn readers_wait_for_the_nearest_earlier_writer_only() {
        use ContenderKind::*;
        let c = contenders(&[
            (1, Read),
            (2, Exclusive),
            (3, Read),
            (4, Read),
            (5, Exclusive),
        ]);
        assert_eq!(blocker(&c, 0, Read), None);
        assert_eq!(blocker(&c, 3, Read).unwrap().sequence, 2);
        let readers = contenders(&[(1, Read), (2, Read)]);
        assert_eq!(blocker(&readers, 1, Read), None, "readers share");
    }
}
