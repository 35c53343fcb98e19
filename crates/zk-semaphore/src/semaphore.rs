//! `Semaphore`: N permits on a ZooKeeper path.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use zk_contender::{
    Contender, Engine, Entered, Exclusive, HeldNode, HoldSlot, Leases, LostPolicy, NodePrefix,
    SlotClaim, TagStyle, no_check, until,
};
use zk_core::path::join;
use zk_core::{Coordinator, Error, Stat};

use crate::error::SemaphoreError;
use crate::permit::Permit;
use crate::permits;

/// How a semaphore lays out its nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Lease nodes `<hex>-lease-<seq>` right under the semaphore path; the first N by sequence
    /// hold, and each waiter watches only the N just ahead of it.
    #[default]
    Native,
    /// Curator's `InterProcessSemaphoreV2`: lease nodes `_c_<uuid>-lease-<seq>` under
    /// `<path>/leases`, taken one acquirer at a time under an `InterProcessMutex` at
    /// `<path>/locks`, so Curator processes and this crate share the permits.
    Curator,
}

/// Options of a semaphore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SemaphoreOptions {
    /// How the semaphore lays out its nodes.
    pub layout: Layout,
    /// When a held permit counts as lost.
    pub lost_policy: LostPolicy,
    /// Data stored in this handle's lease nodes (an identifier of the holder, say).
    pub data: Vec<u8>,
}

impl SemaphoreOptions {
    /// Default options: the native layout, suspension counts as loss, no data.
    pub fn new() -> SemaphoreOptions {
        SemaphoreOptions::default()
    }

    /// Sets the layout.
    pub fn layout(mut self, layout: Layout) -> SemaphoreOptions {
        self.layout = layout;
        self
    }

    /// Sets the loss policy.
    pub fn lost_policy(mut self, policy: LostPolicy) -> SemaphoreOptions {
        self.lost_policy = policy;
        self
    }

    /// Sets the data written into lease nodes.
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> SemaphoreOptions {
        self.data = data.into();
        self
    }
}

/// A distributed counting semaphore: at most `permits` holders at a time on a ZooKeeper path,
/// served in arrival order.
///
/// Every participant must be made with the same number of permits: it is stored in the
/// semaphore path's data when the path is created (or when it has no data yet), and an acquire
/// with another number fails with [`SemaphoreError::PermitsMismatch`].
///
/// One handle holds at most one permit at a time: acquiring again while holding fails with
/// [`SemaphoreError::AlreadyHolding`]. To hold several, make several handles (they may share a
/// session); each queues on its own, so a process asking for k permits cannot jump the queue,
/// but, as with any k-at-a-time acquisition, two processes each holding some and waiting for
/// more can deadlock. Clones of a handle are the same handle.
///
/// # Cancel safety
/// Every acquire method is cancel-safe: dropping its future removes the nodes it created (in
/// the background), even if a create's reply was never seen.
#[derive(Debug, Clone)]
pub struct Semaphore<C: Coordinator + Clone + 'static> {
    zk: C,
    path: String,
    permits: u32,
    options: SemaphoreOptions,
    /// Where the lease nodes go: the path itself, or `<path>/leases`.
    leases: String,
    slot: HoldSlot,
    /// The semaphore node's `mzxid` when its count was last found to agree, 0 before that.
    agreed: Arc<AtomicI64>,
}

impl<C: Coordinator + Clone + 'static> Semaphore<C> {
    /// A semaphore with `permits` permits on `path`, with default options.
    ///
    /// Nothing is sent to ZooKeeper until the first acquire.
    ///
    /// # Errors
    /// [`SemaphoreError::InvalidPermits`] for 0 permits, and an invalid `path`.
    pub fn new(
        zk: C,
        path: impl Into<String>,
        permits: u32,
    ) -> Result<Semaphore<C>, SemaphoreError> {
        Semaphore::with_options(zk, path, permits, SemaphoreOptions::default())
    }

    /// A semaphore with `permits` permits on `path`, with `options`.
    ///
    /// # Errors
    /// Those of [`Semaphore::new`].
    pub fn with_options(
        zk: C,
        path: impl Into<String>,
        permits: u32,
        options: SemaphoreOptions,
    ) -> Result<Semaphore<C>, SemaphoreError> {
        let path = path.into();
        zk_core::path::validate_path(&path)?;
        if permits == 0 {
            return Err(SemaphoreError::InvalidPermits { permits });
        }
        let leases = match options.layout {
            Layout::Native => path.clone(),
            Layout::Curator => join(&path, "leases"),
        };
        Ok(Semaphore {
            zk,
            path,
            permits,
            options,
            leases,
            slot: HoldSlot::new(),
            agreed: Arc::new(AtomicI64::new(0)),
        })
    }

    /// The semaphore path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// How many permits the semaphore has.
    pub fn permits(&self) -> u32 {
        self.permits
    }

    /// The options.
    pub fn options(&self) -> &SemaphoreOptions {
        &self.options
    }

    /// Waits for a permit.
    ///
    /// # Errors
    /// [`SemaphoreError::AlreadyHolding`], [`SemaphoreError::PermitsMismatch`],
    /// [`SemaphoreError::InvalidPermitsData`], and ZooKeeper errors that retrying cannot cure
    /// (no permission, a closed handle). Connection loss and session expiry while waiting are
    /// ridden out: the wait goes on, with a new node if the session changed.
    pub async fn acquire(&self) -> Result<Permit<C>, SemaphoreError> {
        self.acquire_until(None, true)
            .await
            .map(|permit| permit.expect("a waiting acquire ends with a permit"))
    }

    /// Waits at most `timeout` for a permit.
    ///
    /// # Errors
    /// [`SemaphoreError::Timeout`] when the time ran out (this attempt's nodes are removed),
    /// and those of [`Semaphore::acquire`].
    pub async fn acquire_timeout(&self, timeout: Duration) -> Result<Permit<C>, SemaphoreError> {
        match self
            .acquire_until(Some(Instant::now() + timeout), true)
            .await?
        {
            Some(permit) => Ok(permit),
            None => Err(SemaphoreError::Timeout {
                path: self.path.clone(),
            }),
        }
    }

    /// Takes a permit only if one is free and nobody waits for one before us; never waits
    /// (beyond the round trips that find out).
    ///
    /// # Errors
    /// Those of [`Semaphore::acquire`].
    pub async fn try_acquire(&self) -> Result<Option<Permit<C>>, SemaphoreError> {
        self.acquire_until(None, false).await
    }

    /// The current contenders for permits, holders (the first [`Semaphore::permits`]) first.
    ///
    /// # Errors
    /// ZooKeeper errors; a missing semaphore path is an empty list.
    pub async fn contenders(&self) -> Result<Vec<Contender>, SemaphoreError> {
        Ok(Engine::new(&self.zk, &self.leases).contenders().await?)
    }

    /// The permit count stored with the semaphore, if its node exists and has one.
    ///
    /// # Errors
    /// [`SemaphoreError::InvalidPermitsData`] when the data is not a count; ZooKeeper errors.
    pub async fn stored_permits(&self) -> Result<Option<u32>, SemaphoreError> {
        match self.zk.get_data(&self.path).await {
            Ok((data, _)) => match permits::decode(&self.path, &data)? {
                permits::Stored::Permits(n) => Ok(Some(n)),
                permits::Stored::Unset => Ok(None),
            },
            Err(zk_core::Error::NoNode { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn acquire_until(
        &self,
        deadline: Option<Instant>,
        wait: bool,
    ) -> Result<Option<Permit<C>>, SemaphoreError> {
        // Dropped, and so freed, unless the permit takes it.
        let Some(claim) = self.slot.claim() else {
            return Err(SemaphoreError::AlreadyHolding {
                path: self.path.clone(),
            });
        };
        match self.options.layout {
            Layout::Native => self.take_native(claim, deadline, wait).await,
            Layout::Curator => self.take_curator(claim, deadline, wait).await,
        }
    }

    /// Checks that the semaphore node stores our count, and remembers its `mzxid`.
    async fn agree(&self) -> Result<(), SemaphoreError> {
        let stat = permits::ensure(&self.zk, &self.path, self.permits).await?;
        self.agreed.store(stat.mzxid, Ordering::Release);
        Ok(())
    }

    /// Checks the count again unless `dir` (the semaphore node as listed with our lease node
    /// in it) is unchanged since it last agreed.
    ///
    /// Done while our node is in the queue, so the semaphore node cannot be swept and made
    /// again: every participant that holds has checked the same node, whose count, once
    /// written, never changes.
    async fn still_agree(&self, dir: Option<Stat>) -> Result<(), SemaphoreError> {
        match dir {
            Some(stat) if stat.mzxid == self.agreed.load(Ordering::Acquire) => Ok(()),
            _ => self.agree().await,
        }
    }

    fn lease_prefix(&self) -> NodePrefix {
        match self.options.layout {
            Layout::Native => NodePrefix::new(TagStyle::Hex, "-lease-"),
            Layout::Curator => NodePrefix::new(TagStyle::Curator, "-lease-"),
        }
    }

    fn permit(&self, entered: &Entered, claim: SlotClaim) -> Permit<C> {
        let policy = self.options.lost_policy;
        let node = HeldNode::new(self.zk.clone(), entered, policy, Some(claim));
        Permit::new(node)
    }

    /// The native layout: lease nodes under the path, the first N hold.
    async fn take_native(
        &self,
        claim: SlotClaim,
        deadline: Option<Instant>,
        wait: bool,
    ) -> Result<Option<Permit<C>>, SemaphoreError> {
        // The first acquire learns the stored count before queueing, so a mismatch costs no
        // lease node; later ones only compare the listed node's mzxid.
        if self.agreed.load(Ordering::Acquire) == 0
            && until(deadline, self.agree()).await.transpose()?.is_none()
        {
            return Ok(None);
        }
        let permits = Leases(self.permits as usize);
        let taken = Engine::new(&self.zk, &self.leases)
            .data(&self.options.data)
            .take_turn(
                || self.lease_prefix(),
                &permits,
                wait,
                deadline,
                |dir| self.still_agree(dir),
            )
            .await?;
        Ok(taken.map(|entered| self.permit(&entered, claim)))
    }

    /// Curator's layout: hold the `<path>/locks` mutex while taking a lease under
    /// `<path>/leases`, then let the mutex go. A lease may only queue while the mutex is held:
    /// when the session expires during the wait, the mutex node is gone with it, so the lease
    /// is given up and the mutex taken again (a lease re-queued without it could deadlock
    /// with a Curator waiter that holds the mutex and counts leases).
    async fn take_curator(
        &self,
        mut claim: SlotClaim,
        deadline: Option<Instant>,
        wait: bool,
    ) -> Result<Option<Permit<C>>, SemaphoreError> {
        loop {
            match self.take_curator_once(claim, deadline, wait).await {
                Err(Retake::Mutex(returned)) => claim = returned,
                Err(Retake::Failed(error)) => return Err(error),
                Ok(permit) => return Ok(permit),
            }
        }
    }

    async fn take_curator_once(
        &self,
        claim: SlotClaim,
        deadline: Option<Instant>,
        wait: bool,
    ) -> Result<Option<Permit<C>>, Retake> {
        let locks = join(&self.path, "locks");
        let Some(mutex) = Engine::new(&self.zk, &locks)
            .take_turn(
                || NodePrefix::new(TagStyle::Curator, "-lock-"),
                &Exclusive,
                wait,
                deadline,
                no_check::<SemaphoreError>,
            )
            .await?
        else {
            return Ok(None);
        };
        // Dropping this (a cancelled acquire) removes the mutex node in the background.
        let mutex = HeldNode::new(self.zk.clone(), &mutex, LostPolicy::OnlySessionLoss, None);
        let mutex_session = mutex.session_id();
        // Our mutex node keeps the semaphore node from being swept while we check it.
        let taken = match until(deadline, self.agree()).await.transpose() {
            Err(e) => Err(e),
            Ok(None) => Ok(None),
            Ok(Some(())) => {
                let permits = Leases(self.permits as usize);
                // Checked after every (re-)entry of the lease node: a new session lost the
                // mutex, and the check's error removes the lease node again.
                let mutex_held = |_| async move {
                    if self.zk.session_id() == mutex_session {
                        Ok(())
                    } else {
                        Err(SemaphoreError::Zk(Error::SessionExpired))
                    }
                };
                Engine::new(&self.zk, &self.leases)
                    .data(&self.options.data)
                    .take_turn(|| self.lease_prefix(), &permits, wait, deadline, mutex_held)
                    .await
            }
        };
        if matches!(taken, Err(SemaphoreError::Zk(Error::SessionExpired)))
            && self.zk.session_id() != mutex_session
        {
            // The mutex node went with the old session; this only stops its monitor.
            let _ = mutex.release().await;
            return Err(Retake::Mutex(claim));
        }
        // The permit exists before the mutex goes, so a failed release cannot leak the lease:
        // dropping the permit releases it in the background.
        let taken = taken.map(|t| t.map(|entered| self.permit(&entered, claim)));
        let released = mutex.release().await;
        let permit = taken.map_err(Retake::Failed)?;
        released.map_err(|e| Retake::Failed(e.into()))?;
        Ok(permit)
    }
}

/// Why one attempt of the Curator layout's acquire did not end the acquire.
enum Retake {
    /// The session expired while the lease waited: take the mutex again (with this claim).
    Mutex(SlotClaim),
    /// A failure to report.
    Failed(SemaphoreError),
}

impl From<SemaphoreError> for Retake {
    fn from(error: SemaphoreError) -> Retake {
        Retake::Failed(error)
    }
}
