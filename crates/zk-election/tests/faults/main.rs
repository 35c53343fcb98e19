//! The election under faults on the fake: proptest scenarios of candidates campaigning
//! (waiting, trying, with timeouts, cancelled part-way), resigning or dropping their
//! leadership, while connections drop, replies are lost, sessions expire and nodes vanish, all
//! run by `zk_testkit::fault_world`.
//!
//! Checked throughout (see that module for the exact rules): at most one leader at any
//! instant, and the leader's node heads the queue; terms strictly increase from leader to
//! leader; a lost leadership is told within a second; every campaign ends; only documented
//! errors; no node left once all sessions end. `PROPTEST_CASES` sets the number of cases.

use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use proptest::prelude::*;
use zk_election::{Candidate, CandidateOptions, ElectionError, Leadership, LossReason};
use zk_fake::FakeSession;
use zk_testkit::fault_world::{
    self, Acquired, Contended, Fencing, HolderView, Mode, QueuedNode, Request, strategy,
};

const PATH: &str = "/election/faults";

#[derive(Debug)]
struct Election;

#[async_trait]
impl Contended for Election {
    type Guard = Leadership<FakeSession>;
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
        let options = CandidateOptions::new().lost_policy(policy);
        let candidate = Candidate::with_options(zk, PATH, format!("c{}", ask.client), options);
        let won = match ask.mode {
            Mode::Wait => candidate.campaign().await.map(Some),
            Mode::Try => candidate.try_campaign().await,
            Mode::Timeout(ms) => candidate
                .campaign_timeout(Duration::from_millis(ms))
                .await
                .map(Some),
        };
        match won {
            Ok(Some(leadership)) => Ok(Acquired::Held(leadership)),
            Ok(None) => Ok(Acquired::Blocked),
            Err(ElectionError::Timeout { .. }) => Ok(Acquired::TimedOut),
            Err(error) => Err(format!("{error:?}")),
        }
    }

    fn is_held(&self, guard: &Self::Guard) -> bool {
        guard.is_leader()
    }

    fn lost(&self, guard: &Self::Guard) -> BoxFuture<'static, LossReason> {
        Box::pin(guard.lost())
    }

    fn token(&self, guard: &Self::Guard) -> i64 {
        guard.term()
    }

    fn node_path<'g>(&self, guard: &'g Self::Guard) -> &'g str {
        guard.node_path()
    }

    async fn release(&self, guard: Self::Guard) -> Result<(), String> {
        guard.resign().await.map_err(|e| format!("{e:?}"))
    }

    fn check_holders(&self, holders: &[HolderView], queue: &[QueuedNode]) -> Vec<String> {
        fault_world::at_most(1, holders, queue)
    }

    fn fencing(&self) -> Fencing {
        Fencing::Increasing
    }
}

proptest! {
    #![proptest_config(strategy::config())]
    #[test]
    fn election_under_faults(scenario in strategy::scenario(strategy::Shape::exclusive())) {
        let outcome = fault_world::run(Election, &scenario);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
