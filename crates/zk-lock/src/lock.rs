//! `Lock`: the distributed mutex (and, with a role, either side of a read/write lock).

use std::time::Duration;

use tokio::time::Instant;
use zk_core::Coordinator;

use zk_contender::{
    Contender, ContenderKind, Engine, Exclusive, HeldNode, HoldSlot, LostPolicy, Naming, Policy,
    ReadWrite, SlotClaim, no_check,
};

use crate::error::LockError;
use crate::guard::LockGuard;
use crate::naming::node_prefix;

/// Options of a lock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockOptions {
    /// How this lock names its contender nodes (for kazoo or Curator interop):
    /// [`Naming::Native`] `<uuid>-lock-<seq>` (`-read-`, `-write-` for a read/write lock),
    /// [`Naming::Kazoo`] as kazoo's locks (`__lock__`, `__rlock__`), [`Naming::Curator`] as
    /// Curator's (`_c_<uuid>-lock-`, `-__READ__`, `-__WRIT__`).
    pub naming: Naming,
    /// When a held lock counts as lost.
    pub lost_policy: LostPolicy,
    /// Data stored in this lock's contender nodes (an identifier of the holder, say).
    pub data: Vec<u8>,
}

impl LockOptions {
    /// Default options: native naming, suspension counts as loss, no data.
    pub fn new() -> LockOptions {
        LockOptions::default()
    }

    /// Sets the naming scheme.
    pub fn naming(mut self, naming: Naming) -> LockOptions {
        self.naming = naming;
        self
    }

    /// Sets the loss policy.
    pub fn lost_policy(mut self, policy: LostPolicy) -> LockOptions {
        self.lost_policy = policy;
        self
    }

    /// Sets the data written into contender nodes.
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> LockOptions {
        self.data = data.into();
        self
    }
}

/// A distributed, non-reentrant mutex on a ZooKeeper path.
///
/// Contenders queue as ephemeral sequential children of the path and are served in order;
/// each waits for the one right before it and looks ahead to the one before that, so a
/// release wakes two waiters, never a herd: the next, which holds at once, and the one after
/// it, which lists the path again while the next holds (see `zk_contender::Exclusive`).
/// One handle holds the lock at most once at a time: acquiring again while holding it fails with
/// [`LockError::AlreadyHeld`] instead of deadlocking.
///
/// # Cancel safety
/// Every acquire method is cancel-safe: dropping its future removes the contender node it
/// created (in the background), even if the create's reply was never seen.
#[derive(Debug, Clone)]
pub struct Lock<C: Coordinator + Clone + 'static> {
    zk: C,
    path: String,
    options: LockOptions,
    kind: ContenderKind,
    read_write: bool,
    held: HoldSlot,
}

impl<C: Coordinator + Clone + 'static> Lock<C> {
    /// A mutex on `path` with default options.
    pub fn new(zk: C, path: impl Into<String>) -> Lock<C> {
        Lock::with_options(zk, path, LockOptions::default())
    }

    /// A mutex on `path` with `options`.
    pub fn with_options(zk: C, path: impl Into<String>, options: LockOptions) -> Lock<C> {
        Lock::role(zk, path.into(), options, ContenderKind::Exclusive, false)
    }

    pub(crate) fn role(
        zk: C,
        path: String,
        options: LockOptions,
        kind: ContenderKind,
        read_write: bool,
    ) -> Lock<C> {
        Lock {
            zk,
            path,
            options,
            kind,
            read_write,
            held: HoldSlot::new(),
        }
    }

    /// The lock path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The options.
    pub fn options(&self) -> &LockOptions {
        &self.options
    }

    pub(crate) fn zk_handle(&self) -> C {
        self.zk.clone()
    }

    /// Waits for the lock.
    ///
    /// # Errors
    /// [`LockError::AlreadyHeld`]; ZooKeeper errors that retrying cannot cure (invalid path,
    /// no permission, a closed handle). Connection loss and session expiry while waiting are
    /// ridden out: the wait goes on, with a new contender node if the session changed.
    pub async fn acquire(&self) -> Result<LockGuard<C>, LockError> {
        self.acquire_until(None, true)
            .await
            .map(|guard| guard.expect("a waiting acquire ends with the lock"))
    }

    /// Waits at most `timeout` for the lock.
    ///
    /// # Errors
    /// [`LockError::Timeout`] when the time ran out (the contender node is removed), and those of
    /// [`Lock::acquire`].
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<LockGuard<C>, LockError> {
        match self
            .acquire_until(Some(Instant::now() + timeout), true)
            .await?
        {
            Some(guard) => Ok(guard),
            None => Err(LockError::Timeout {
                path: self.path.clone(),
            }),
        }
    }

    /// Takes the lock only if nobody holds it or waits for it before us; never waits.
    ///
    /// # Errors
    /// Those of [`Lock::acquire`].
    pub async fn try_acquire(&self) -> Result<Option<LockGuard<C>>, LockError> {
        self.acquire_until(None, false).await
    }

    /// The current contenders of this lock path, holders first, in every known naming scheme.
    ///
    /// # Errors
    /// ZooKeeper errors; a missing lock path is an empty list.
    pub async fn contenders(&self) -> Result<Vec<Contender>, LockError> {
        Ok(self.engine().contenders().await?)
    }

    fn engine(&self) -> Engine<'_, C> {
        Engine::new(&self.zk, &self.path)
            .data(&self.options.data)
            .containers(self.options.naming.containers())
    }

    /// Who holds given the queue: a mutex serves one at a time; the sides of a read/write lock
    /// share among readers.
    fn policy(&self) -> &'static dyn Policy {
        if self.read_write {
            &ReadWrite
        } else {
            &Exclusive
        }
    }

    async fn acquire_until(
        &self,
        deadline: Option<Instant>,
        wait: bool,
    ) -> Result<Option<LockGuard<C>>, LockError> {
        zk_core::path::validate_path(&self.path)?;
        // Dropped, and so freed, unless the guard takes it.
        let Some(claim) = self.held.claim() else {
            return Err(LockError::AlreadyHeld {
                path: self.path.clone(),
            });
        };
        self.contend(claim, deadline, wait).await
    }

    async fn contend(
        &self,
        claim: SlotClaim,
        deadline: Option<Instant>,
        wait: bool,
    ) -> Result<Option<LockGuard<C>>, LockError> {
        let prefix = || node_prefix(self.options.naming, self.kind, self.read_write);
        let taken = self
            .engine()
            .take_turn(prefix, self.policy(), wait, deadline, no_check::<LockError>)
            .await?;
        Ok(taken.map(|entered| {
            let policy = self.options.lost_policy;
            let node = HeldNode::new(self.zk.clone(), &entered, policy, Some(claim));
            LockGuard::new(node, self.kind)
        }))
    }
}
