//! `Candidate`: campaigning for leadership, and running something only while leading.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;
use zk_contender::{Engine, Exclusive, HoldSlot, LossReason, LostPolicy, Naming, no_check};
use zk_core::Coordinator;

use crate::error::ElectionError;
use crate::leadership::Leadership;
use crate::naming::{holds_data, node_data, node_prefix};
use crate::observer::Observer;

/// Options of a candidate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CandidateOptions {
    /// How this candidate names its node, for elections shared with kazoo or Curator:
    /// [`Naming::Native`] `<uuid hex>-candidate-<seq>`, [`Naming::Kazoo`] as a kazoo
    /// `Election` (`<uuid hex>__lock__<seq>`, on a persistent path), [`Naming::Curator`] as a
    /// `LeaderLatch` (`_c_<uuid>-latch-<seq>`). kazoo's and Curator's nodes hold the id alone,
    /// in UTF-8; native ones the id, then a NUL byte and [`CandidateOptions::data`] if any.
    pub naming: Naming,
    /// When leadership counts as lost.
    pub lost_policy: LostPolicy,
    /// Data published with the id, for observers (an address, say); only
    /// [`Naming::Native`] nodes can hold it.
    pub data: Vec<u8>,
}

impl CandidateOptions {
    /// Default options: native naming, suspension counts as loss, no data.
    pub fn new() -> CandidateOptions {
        CandidateOptions::default()
    }

    /// Sets the naming scheme.
    pub fn naming(mut self, naming: Naming) -> CandidateOptions {
        self.naming = naming;
        self
    }

    /// Sets the loss policy.
    pub fn lost_policy(mut self, policy: LostPolicy) -> CandidateOptions {
        self.lost_policy = policy;
        self
    }

    /// Sets the data published with the id.
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> CandidateOptions {
        self.data = data.into();
        self
    }
}

/// How [`Candidate::run_rejoining`] carries on after losing leadership.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rejoin {
    /// Not at all: report the loss (what [`Candidate::run`] does).
    #[default]
    Never,
    /// Campaign again at most this many times in all.
    Times(u32),
    /// Campaign again after every loss, until the handle is closed (or fails authentication):
    /// a loss for that reason, or a campaign failing for it, ends the call.
    UntilClosed,
}

impl Rejoin {
    /// Whether to campaign again after `rejoined` rejoins so far and a loss for `reason`.
    fn again(self, rejoined: u32, reason: LossReason) -> bool {
        reason != LossReason::Closed
            && match self {
                Rejoin::Never => false,
                Rejoin::Times(n) => rejoined < n,
                Rejoin::UntilClosed => true,
            }
    }
}

/// How [`Candidate::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum RunOutcome<T> {
    /// The future finished while this candidate led, with this output; the candidate then
    /// resigned.
    Finished(T),
    /// Leadership was lost, for this reason, before the future finished; the future was
    /// dropped and never polled again once the loss was known.
    Lost(LossReason),
}

/// A candidate in the leader election on a ZooKeeper path.
///
/// Candidates queue as ephemeral sequential children of the path; the first leads, and each
/// other watches the one right before it (and looks ahead to the one before that), so a
/// leader's departure wakes its successor, which leads at once, and one more candidate, never
/// a herd. Each candidate has an id (and, with [`Naming::Native`], optional data), which
/// observers read from its node.
///
/// A handle takes part once at a time: campaigning again (through it or a clone) while it
/// campaigns or leads fails with [`ElectionError::AlreadyCampaigning`].
///
/// # Cancel safety
/// Every campaign method is cancel-safe: dropping its future removes the candidate node it
/// created (in the background), even if the create's reply was never seen.
#[derive(Debug, Clone)]
pub struct Candidate<C: Coordinator + Clone + 'static> {
    zk: C,
    path: String,
    id: String,
    options: CandidateOptions,
    slot: HoldSlot,
}

impl<C: Coordinator + Clone + 'static> Candidate<C> {
    /// A candidate with `id` in the election on `path`, with default options.
    pub fn new(zk: C, path: impl Into<String>, id: impl Into<String>) -> Candidate<C> {
        Candidate::with_options(zk, path, id, CandidateOptions::default())
    }

    /// A candidate with `id` in the election on `path`, with `options`.
    pub fn with_options(
        zk: C,
        path: impl Into<String>,
        id: impl Into<String>,
        options: CandidateOptions,
    ) -> Candidate<C> {
        Candidate {
            zk,
            path: path.into(),
            id: id.into(),
            options,
            slot: HoldSlot::new(),
        }
    }

    /// The election path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The candidate's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The options.
    pub fn options(&self) -> &CandidateOptions {
        &self.options
    }

    /// An observer of this election on the same session handle.
    pub fn observer(&self) -> Observer<C> {
        Observer::new(self.zk.clone(), self.path.clone())
    }

    /// Campaigns until elected.
    ///
    /// Leadership is claimed only once the candidate's own node is first among the candidates
    /// while the handle is still in the session that created it: a listing from an earlier
    /// session never elects.
    ///
    /// # Errors
    /// [`ElectionError::AlreadyCampaigning`], [`ElectionError::InvalidId`],
    /// [`ElectionError::DataNeedsNativeNaming`]; ZooKeeper errors that retrying cannot cure
    /// (invalid path, no permission, a closed handle). Connection loss and session expiry while
    /// waiting are ridden out: the campaign goes on, with a new node if the session changed.
    pub async fn campaign(&self) -> Result<Leadership<C>, ElectionError> {
        self.campaign_until(None, true)
            .await
            .map(|won| won.expect("a waiting campaign ends elected"))
    }

    /// Campaigns for at most `timeout`.
    ///
    /// # Errors
    /// [`ElectionError::Timeout`] when the time ran out (the candidate node is removed), and
    /// those of [`Candidate::campaign`].
    pub async fn campaign_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Leadership<C>, ElectionError> {
        match self
            .campaign_until(Some(Instant::now() + timeout), true)
            .await?
        {
            Some(leadership) => Ok(leadership),
            None => Err(ElectionError::Timeout {
                path: self.path.clone(),
            }),
        }
    }

    /// Becomes leader only if nobody leads or waits ahead; never waits, and leaves no node
    /// behind when it is not elected.
    ///
    /// # Errors
    /// Those of [`Candidate::campaign`].
    pub async fn try_campaign(&self) -> Result<Option<Leadership<C>>, ElectionError> {
        self.campaign_until(None, false).await
    }

    /// Campaigns, then runs `f(term)` for as long as this candidate leads.
    ///
    /// When `f`'s future finishes, the candidate resigns and the call returns
    /// [`RunOutcome::Finished`] with its output. When leadership is lost first, the future is
    /// dropped (it is not polled again once this client knows of the loss) and the call returns
    /// [`RunOutcome::Lost`] with the reason; the candidate node is removed in the background.
    ///
    /// # Errors
    /// Those of [`Candidate::campaign`], and of [`Leadership::resign`] after `f` finished.
    pub async fn run<F, Fut>(&self, f: F) -> Result<RunOutcome<Fut::Output>, ElectionError>
    where
        F: FnOnce(i64) -> Fut,
        Fut: Future,
    {
        let leadership = self.campaign().await?;
        let work = f(leadership.term());
        lead(leadership, work).await
    }

    /// Like [`Candidate::run`], campaigning again after a loss as `rejoin` allows; each term
    /// calls `f` anew.
    ///
    /// It never loops on a handle that has ended: a loss because the handle closed ends the
    /// call with [`RunOutcome::Lost`], and a campaign on a closed handle fails.
    ///
    /// # Errors
    /// As [`Candidate::run`].
    pub async fn run_rejoining<F, Fut>(
        &self,
        rejoin: Rejoin,
        mut f: F,
    ) -> Result<RunOutcome<Fut::Output>, ElectionError>
    where
        F: FnMut(i64) -> Fut,
        Fut: Future,
    {
        let mut rejoined = 0;
        loop {
            match self.run(&mut f).await? {
                RunOutcome::Lost(reason) if rejoin.again(rejoined, reason) => {
                    rejoined += 1;
                    tracing::debug!(
                        path = self.path,
                        ?reason,
                        rejoined,
                        "leadership lost; campaigning again"
                    );
                }
                outcome => return Ok(outcome),
            }
        }
    }

    /// Checks what the candidate would write, before anything is sent.
    fn check(&self) -> Result<(), ElectionError> {
        zk_core::path::validate_path(&self.path)?;
        let naming = self.options.naming;
        if naming == Naming::Native && self.id.contains('\0') {
            return Err(ElectionError::InvalidId {
                id: self.id.clone(),
                reason: "a native candidate id may not contain NUL, which ends it in the node",
            });
        }
        if !holds_data(naming) && !self.options.data.is_empty() {
            return Err(ElectionError::DataNeedsNativeNaming { naming });
        }
        Ok(())
    }

    async fn campaign_until(
        &self,
        deadline: Option<Instant>,
        wait: bool,
    ) -> Result<Option<Leadership<C>>, ElectionError> {
        self.check()?;
        let claim = self
            .slot
            .claim()
            .ok_or_else(|| ElectionError::AlreadyCampaigning {
                path: self.path.clone(),
            })?;
        let naming = self.options.naming;
        let data = node_data(naming, &self.id, &self.options.data);
        let engine = Engine::new(&self.zk, &self.path)
            .data(&data)
            .containers(naming.containers());
        let won = engine
            .take_turn(
                || node_prefix(naming),
                &Exclusive,
                wait,
                deadline,
                no_check::<zk_core::Error>,
            )
            .await?;
        Ok(won.map(|entered| {
            Leadership::new(
                self.zk.clone(),
                &entered,
                self.id.clone(),
                self.options.lost_policy,
                claim,
            )
        }))
    }
}

/// Runs `work` while `leadership` lasts: polls it only while the leadership holds, drops it
/// on loss, resigns when it finishes.
async fn lead<C, Fut>(
    leadership: Leadership<C>,
    work: Fut,
) -> Result<RunOutcome<Fut::Output>, ElectionError>
where
    C: Coordinator + Clone + 'static,
    Fut: Future,
{
    let ended = {
        let mut work = pin!(work);
        let mut lost = pin!(leadership.lost());
        std::future::poll_fn(|cx| {
            if let Poll::Ready(reason) = lost.as_mut().poll(cx) {
                return Poll::Ready(Err(reason));
            }
            if !leadership.is_leader() {
                // The monitor sees what `is_leader` saw and reports it; `lost` wakes us then.
                return Poll::Pending;
            }
            work.as_mut().poll(cx).map(Ok)
        })
        .await
    };
    match ended {
        Ok(output) => {
            leadership.resign().await?;
            Ok(RunOutcome::Finished(output))
        }
        Err(reason) => Ok(RunOutcome::Lost(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejoin_is_bounded_and_stops_on_a_closed_handle() {
        use LossReason::{Closed, SessionExpired, Suspended};
        assert!(!Rejoin::Never.again(0, SessionExpired));
        assert!(Rejoin::Times(2).again(0, Suspended));
        assert!(Rejoin::Times(2).again(1, SessionExpired));
        assert!(!Rejoin::Times(2).again(2, SessionExpired));
        assert!(Rejoin::UntilClosed.again(1_000_000, SessionExpired));
        for rejoin in [Rejoin::Never, Rejoin::Times(5), Rejoin::UntilClosed] {
            assert!(!rejoin.again(0, Closed), "{rejoin:?} on a closed handle");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn bad_input_is_refused_before_anything_is_sent() {
        let zk = zk_fake::FakeEnsemble::new().connect();
        let nul = Candidate::new(zk.clone(), "/e", "a\0b");
        assert!(matches!(
            nul.try_campaign().await,
            Err(ElectionError::InvalidId { .. })
        ));
        let kazoo_nul = CandidateOptions::new().naming(Naming::Kazoo);
        assert!(
            Candidate::with_options(zk.clone(), "/e", "a\0b", kazoo_nul)
                .try_campaign()
                .await
                .unwrap()
                .is_some(),
            "kazoo's nodes hold the id alone, NUL and all"
        );
        let data = CandidateOptions::new().naming(Naming::Curator).data("x");
        assert_eq!(
            Candidate::with_options(zk.clone(), "/f", "c", data)
                .try_campaign()
                .await
                .unwrap_err(),
            ElectionError::DataNeedsNativeNaming {
                naming: Naming::Curator
            }
        );
        let bad_path = Candidate::new(zk.clone(), "no-slash", "a");
        assert!(matches!(
            bad_path.campaign().await,
            Err(ElectionError::Zk(zk_core::Error::InvalidPath { .. }))
        ));
        assert_eq!(zk.exists("/f").await.unwrap(), None, "nothing was created");
    }
}
