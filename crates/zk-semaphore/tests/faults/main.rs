//! The semaphore under faults on the fake: proptest scenarios of clients acquiring permits
//! (waiting, trying, with timeouts, cancelled part-way), releasing or dropping them, while
//! connections drop, replies are lost, sessions expire and nodes vanish, all run by
//! `zk_testkit::fault_world`.
//!
//! Checked throughout (see that module for the exact rules): never more than `PERMITS`
//! holders, each among the first `PERMITS` nodes of the queue; a lost permit is told within a
//! second; every acquire ends; only documented errors; no lease node left once all sessions
//! end. Tokens (czxids) are not ordered between concurrent holders, so fencing is not checked.
//! `PROPTEST_CASES` sets the number of cases.

use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use proptest::prelude::*;
use zk_fake::FakeSession;
use zk_semaphore::{LossReason, Permit, Semaphore, SemaphoreError, SemaphoreOptions};
use zk_testkit::fault_world::{
    self, Acquired, Contended, Fencing, HolderView, Mode, QueuedNode, Request, strategy,
};

const PATH: &str = "/semaphores/faults";

/// Permits: fewer than the scenarios' clients, so some always wait.
const PERMITS: u32 = 2;

#[derive(Debug)]
struct Permits;

#[async_trait]
impl Contended for Permits {
    type Guard = Permit<FakeSession>;
    type Loss = LossReason;

    fn path(&self) -> &str {
        PATH
    }

    async fn acquire(
        &self,
        zk: FakeSession,
        ask: Request,
    ) -> Result<Acquired<Self::Guard>, String> {
        let policy = ask.loss;
        let options = SemaphoreOptions::new().lost_policy(policy);
        let semaphore =
            Semaphore::with_options(zk, PATH, PERMITS, options).map_err(|e| format!("{e:?}"))?;
        let got = match ask.mode {
            Mode::Wait => semaphore.acquire().await.map(Some),
            Mode::Try => semaphore.try_acquire().await,
            Mode::Timeout(ms) => semaphore
                .acquire_timeout(Duration::from_millis(ms))
                .await
                .map(Some),
        };
        match got {
            Ok(Some(permit)) => Ok(Acquired::Held(permit)),
            Ok(None) => Ok(Acquired::Blocked),
            Err(SemaphoreError::Timeout { .. }) => Ok(Acquired::TimedOut),
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
        guard.token()
    }

    fn node_path<'g>(&self, guard: &'g Self::Guard) -> &'g str {
        guard.node_path()
    }

    async fn release(&self, guard: Self::Guard) -> Result<(), String> {
        guard.release().await.map_err(|e| format!("{e:?}"))
    }

    fn check_holders(&self, holders: &[HolderView], queue: &[QueuedNode]) -> Vec<String> {
        fault_world::at_most(PERMITS as usize, holders, queue)
    }

    fn fencing(&self) -> Fencing {
        Fencing::Unordered
    }
}

proptest! {
    #![proptest_config(strategy::config())]
    #[test]
    fn semaphore_under_faults(scenario in strategy::scenario(strategy::Shape::exclusive())) {
        let outcome = fault_world::run(Permits, &scenario);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
