//! The lock as a [`Contended`] recipe: a mutex, or a read/write lock whose writers hold alone.

use async_trait::async_trait;
use futures::future::BoxFuture;
use std::time::Duration;
use zk_fake::FakeSession;
use zk_lock::{Lock, LockError, LockGuard, LockOptions, LossReason, ReadWriteLock};
use zk_testkit::fault_world::{
    self, Acquired, Contended, Fencing, HolderView, Mode, QueuedNode, Request, Role,
};

/// The lock path every client contends on.
pub(crate) const LOCK_PATH: &str = "/locks/faults";

/// Which lock the clients share.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LockRecipe {
    /// `Lock`: one holder at a time.
    Mutex,
    /// `ReadWriteLock`: readers share, a writer holds alone.
    ReadWrite,
}

impl LockRecipe {
    fn handle(self, zk: FakeSession, request: Request) -> Lock<FakeSession> {
        let options = LockOptions::new().lost_policy(request.loss);
        match (self, request.role) {
            (LockRecipe::Mutex, _) => Lock::with_options(zk, LOCK_PATH, options),
            (LockRecipe::ReadWrite, role) => {
                let rw = ReadWriteLock::with_options(zk, LOCK_PATH, options);
                match role {
                    Role::Exclusive => rw.write_lock().clone(),
                    Role::Shared => rw.read_lock().clone(),
                }
            }
        }
    }
}

#[async_trait]
impl Contended for LockRecipe {
    type Guard = LockGuard<FakeSession>;
    type Loss = LossReason;

    fn path(&self) -> &str {
        LOCK_PATH
    }

    async fn acquire(
        &self,
        session: FakeSession,
        request: Request,
    ) -> Result<Acquired<Self::Guard>, String> {
        let lock = self.handle(session, request);
        let acquired = match request.mode {
            Mode::Wait => lock.acquire().await.map(Some),
            Mode::Try => lock.try_acquire().await,
            Mode::Timeout(ms) => lock
                .acquire_timeout(Duration::from_millis(ms))
                .await
                .map(Some),
        };
        match acquired {
            Ok(Some(guard)) => Ok(Acquired::Held(guard)),
            Ok(None) => Ok(Acquired::Blocked),
            Err(LockError::Timeout { .. }) => Ok(Acquired::TimedOut),
            Err(error) => Err(format!("{error:?}")),
        }
    }

    fn is_held(&self, guard: &Self::Guard) -> bool {
        guard.is_held()
    }

    fn lost(&self, guard: &Self::Guard) -> BoxFuture<'static, LossReason> {
        Box::pin(guard.lost())
    }

    fn token(&self, guard: &Self::Guard) -> i64 {
        guard.fencing_token()
    }

    fn node_path<'g>(&self, guard: &'g Self::Guard) -> &'g str {
        guard.node_path()
    }

    async fn release(&self, guard: Self::Guard) -> Result<(), String> {
        guard.release().await.map_err(|error| format!("{error:?}"))
    }

    fn check_holders(&self, holders: &[HolderView], queue: &[QueuedNode]) -> Vec<String> {
        match self {
            LockRecipe::Mutex => fault_world::at_most(1, holders, queue),
            LockRecipe::ReadWrite => fault_world::readers_share(holders, queue),
        }
    }

    fn fencing(&self) -> Fencing {
        Fencing::Increasing
    }
}
