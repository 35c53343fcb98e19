//! Election behaviour written once, run against every backend (the fake and a real server).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use zk_contender::Contender;
use zk_core::{Coordinator, CoordinatorExt, CreateMode, CreateOptions, Error, SessionState};
use zk_election::{
    Candidate, CandidateOptions, ElectionError, LossReason, LostPolicy, Naming, Observer,
    Participant, Rejoin, RunOutcome,
};
use zk_testkit::Backend;
use zk_testkit::timing::within;

type Zk = Arc<dyn Coordinator>;

fn election_path() -> String {
    format!("/election-{}/e", uuid::Uuid::new_v4().simple())
}

/// Removes the test's root, the parent of the election `path`, and closes `sessions`.
async fn teardown(admin: &Zk, path: &str, sessions: &[Zk]) {
    let root = zk_core::path::parent(path).unwrap();
    admin.delete_all(root).await.unwrap();
    for zk in sessions {
        zk.close().await.unwrap();
    }
}

/// Waits until exactly `n` candidate nodes stand under `path`, watching its children.
async fn wait_for_candidates(zk: &Zk, path: &str, n: usize) {
    within(async {
        loop {
            match zk.watch_children(path).await {
                Ok((children, _, watch)) => {
                    let standing = children
                        .iter()
                        .filter(|c| Contender::parse(c).is_some())
                        .count();
                    if standing == n {
                        return;
                    }
                    watch.await;
                }
                Err(Error::NoNode { .. }) if n == 0 => return,
                Err(Error::NoNode { .. }) => {
                    let (stat, watch) = zk.watch_exists(path).await.unwrap();
                    if stat.is_none() {
                        watch.await;
                    }
                }
                Err(e) => panic!("listing {path}: {e}"),
            }
        }
    })
    .await;
}

/// Waits until `zk` is connected in a session other than `old`.
async fn new_session(zk: &Zk, old: i64) {
    let mut state = zk.session_state();
    within(state.wait_for(|s| *s == SessionState::SyncConnected && zk.session_id() != old))
        .await
        .unwrap();
}

/// Waits until the followed leader's id is `want` (`None`: nobody leads), and returns it.
async fn leader_becomes(
    rx: &mut watch::Receiver<Option<Participant>>,
    want: Option<&str>,
) -> Option<Participant> {
    let seen = within(rx.wait_for(|leader| leader.as_ref().map(|p| p.id.as_str()) == want))
        .await
        .expect("the follower is running");
    seen.clone()
}

/// The ids of `candidates`.
fn ids(candidates: &[Participant]) -> Vec<&str> {
    candidates.iter().map(|p| p.id.as_str()).collect()
}

/// Four candidates take 5 terms each: never two leaders at once (each checks an in-process
/// counter and what an observer on another session says), and every term beats the last.
pub(crate) async fn one_leader_at_a_time_and_terms_grow(backend: &dyn Backend) {
    let path = election_path();
    let leaders = Arc::new(AtomicUsize::new(0));
    let last_term = Arc::new(AtomicI64::new(0));
    let terms = Arc::new(AtomicUsize::new(0));
    let observer = Observer::new(backend.connect().await, path.clone());
    let mut sessions = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let zk = backend.connect().await;
        sessions.push(zk.clone());
        let candidate = Candidate::new(zk, path.clone(), format!("candidate-{i}"));
        let (leaders, last_term, terms, observer) = (
            leaders.clone(),
            last_term.clone(),
            terms.clone(),
            observer.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                let leading = within(candidate.campaign()).await.unwrap();
                assert_eq!(leaders.fetch_add(1, Ordering::SeqCst), 0, "two leaders");
                assert!(leading.is_leader());
                let term = leading.term();
                assert!(term > last_term.swap(term, Ordering::SeqCst), "terms grow");
                let seen = observer.leader().await.unwrap().expect("a leader");
                assert_eq!((seen.id.as_str(), seen.term), (candidate.id(), term));
                tokio::task::yield_now().await;
                leaders.fetch_sub(1, Ordering::SeqCst);
                terms.fetch_add(1, Ordering::SeqCst);
                within(leading.resign()).await.unwrap();
            }
        }));
    }
    // Each wait inside the tasks is bounded; the whole run is not, since its length grows
    // with the work and a loaded machine (not a stuck waiter) would then fail it.
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(terms.load(Ordering::SeqCst), 20);
    assert_eq!(observer.leader().await.unwrap(), None);
    assert!(
        observer.candidates().await.unwrap().is_empty(),
        "no node left"
    );
    let admin = backend.connect().await;
    teardown(&admin, &path, &sessions).await;
    admin.close().await.unwrap();
}

/// Successive leaders' terms grow however the previous leader went: it resigned, its session
/// was closed, or its session expired.
pub(crate) async fn terms_grow_across_resign_close_and_expiry(backend: &dyn Backend) {
    let path = election_path();
    let mut sessions = Vec::new();
    let mut candidates = Vec::new();
    for id in ["a", "b", "c", "d"] {
        let zk = backend.connect().await;
        sessions.push(zk.clone());
        candidates.push(Candidate::new(zk, path.clone(), id));
    }
    let admin = backend.connect().await;
    let first = candidates[0].campaign().await.unwrap();
    let mut waiting = Vec::new();
    for (n, candidate) in candidates[1..].iter().enumerate() {
        let candidate = candidate.clone();
        waiting.push(tokio::spawn(
            async move { candidate.campaign().await.unwrap() },
        ));
        wait_for_candidates(&admin, &path, n + 2).await;
    }
    let mut waiting = waiting.into_iter();

    let term_a = first.term();
    first.resign().await.unwrap();
    let b = within(waiting.next().unwrap()).await.unwrap();
    assert!(b.term() > term_a, "after a resignation");

    let b_lost = b.lost();
    sessions[1].close().await.unwrap();
    let c = within(waiting.next().unwrap()).await.unwrap();
    assert!(c.term() > b.term(), "after a closed session");
    // Closing deletes the node too; whichever the monitor hears first is the reason.
    let reason = within(b_lost).await;
    assert!(
        matches!(reason, LossReason::Closed | LossReason::NodeDeleted),
        "{reason:?}"
    );
    assert!(!b.is_leader());

    let leader = if backend.capabilities().expire_session {
        assert!(backend.expire_session(&*sessions[2]).await);
        let d = within(waiting.next().unwrap()).await.unwrap();
        assert!(d.term() > c.term(), "after an expired session");
        within(c.lost()).await;
        assert!(!c.is_leader());
        d
    } else {
        c
    };
    let seen = Observer::new(admin.clone(), path.clone())
        .leader()
        .await
        .unwrap()
        .unwrap();
    assert_eq!((seen.id.as_str(), seen.term), (leader.id(), leader.term()));
    leader.resign().await.unwrap();
    teardown(&admin, &path, &sessions).await;
    admin.close().await.unwrap();
}

/// A resignation hands leadership to the next candidate in arrival order, and only to it.
pub(crate) async fn resign_hands_over_in_arrival_order(backend: &dyn Backend) {
    let path = election_path();
    let admin = backend.connect().await;
    let a = Candidate::new(backend.connect().await, path.clone(), "a");
    let leading = a.campaign().await.unwrap();
    let mut waiting = Vec::new();
    for (n, id) in ["b", "c"].into_iter().enumerate() {
        let candidate = Candidate::new(backend.connect().await, path.clone(), id);
        waiting.push(tokio::spawn(
            async move { candidate.campaign().await.unwrap() },
        ));
        wait_for_candidates(&admin, &path, n + 2).await;
    }
    let c = waiting.pop().unwrap();
    let b = waiting.pop().unwrap();
    leading.resign().await.unwrap();
    let b = within(b).await.unwrap();
    assert_eq!(b.id(), "b");
    wait_for_candidates(&admin, &path, 2).await;
    assert!(!c.is_finished(), "c waits behind b");
    b.resign().await.unwrap();
    let c = within(c).await.unwrap();
    assert_eq!(c.id(), "c");
    c.resign().await.unwrap();
    teardown(&admin, &path, &[]).await;
    admin.close().await.unwrap();
}

/// A leader whose session expires loses leadership (even when it tolerates suspensions), is
/// told so, never reports itself leader again, and the next candidate takes over.
pub(crate) async fn expiry_ends_leadership_and_the_next_takes_over(backend: &dyn Backend) {
    if !backend.capabilities().expire_session {
        return;
    }
    let path = election_path();
    let admin = backend.connect().await;
    let zk = backend.connect().await;
    let tolerant = CandidateOptions::new().lost_policy(LostPolicy::OnlySessionLoss);
    let a = Candidate::with_options(zk.clone(), path.clone(), "a", tolerant);
    let leading = a.campaign().await.unwrap();
    let lost = leading.lost();
    let b = Candidate::new(backend.connect().await, path.clone(), "b");
    let next = tokio::spawn(async move { b.campaign().await.unwrap() });
    wait_for_candidates(&admin, &path, 2).await;

    let old = zk.session_id();
    assert!(backend.expire_session(&*zk).await);
    assert_eq!(within(lost).await, LossReason::SessionExpired);
    assert!(!leading.is_leader());
    let next = within(next).await.unwrap();
    assert!(next.is_leader() && next.term() > leading.term());
    new_session(&zk, old).await;
    assert!(
        !leading.is_leader(),
        "not leader again in the handle's new session"
    );
    let seen = Observer::new(admin.clone(), path.clone()).leader().await;
    assert_eq!(seen.unwrap().unwrap().id, "b");
    leading.resign().await.unwrap();
    next.resign().await.unwrap();
    teardown(&admin, &path, &[zk]).await;
    admin.close().await.unwrap();
}

/// `watch_leader` follows every change of leader and of the leader's data, and ends when its
/// handle closes.
pub(crate) async fn watch_leader_follows_changes_and_ends_on_close(backend: &dyn Backend) {
    let path = election_path();
    let observer_zk = backend.connect().await;
    let observer = Observer::new(observer_zk.clone(), path.clone());
    let mut leader = observer.watch_leader().await.unwrap();
    assert_eq!(*leader.borrow_and_update(), None, "nobody stands yet");

    let with_data = CandidateOptions::new().data("10.1.2.3:8080");
    let a = Candidate::with_options(backend.connect().await, path.clone(), "a", with_data);
    let leading = a.campaign().await.unwrap();
    let seen = leader_becomes(&mut leader, Some("a")).await.unwrap();
    assert_eq!(seen.term, leading.term());
    assert_eq!(seen.data, b"10.1.2.3:8080");
    // The leader's node is watched too: a change of its data (an operator's, say) is followed.
    observer_zk
        .set_data(leading.node_path(), b"a\0moved", None)
        .await
        .unwrap();
    within(leader.wait_for(|l| l.as_ref().is_some_and(|p| p.data == b"moved")))
        .await
        .unwrap();

    let b_zk = backend.connect().await;
    let b = Candidate::new(b_zk.clone(), path.clone(), "b");
    let next = tokio::spawn(async move { b.campaign().await.unwrap() });
    wait_for_candidates(&observer_zk, &path, 2).await;
    assert_eq!(
        leader.borrow().as_ref().map(|p| p.id.clone()).as_deref(),
        Some("a"),
        "a waiting candidate changes nothing"
    );
    leading.resign().await.unwrap();
    let seen = leader_becomes(&mut leader, Some("b")).await.unwrap();
    let b = within(next).await.unwrap();
    assert_eq!(seen.term, b.term());

    b_zk.close().await.unwrap();
    leader_becomes(&mut leader, None).await;
    observer_zk.close().await.unwrap();
    within(async { while leader.changed().await.is_ok() {} }).await;
    assert_eq!(*leader.borrow(), None);
    let admin = backend.connect().await;
    teardown(&admin, &path, std::slice::from_ref(&admin)).await;
}

/// `candidates()` lists everyone in the order they would lead, with ids, data and terms;
/// `leader()` is its first.
pub(crate) async fn candidates_in_order_with_ids_data_and_terms(backend: &dyn Backend) {
    let path = election_path();
    let admin = backend.connect().await;
    let observer = Observer::new(admin.clone(), path.clone());
    assert!(
        observer.candidates().await.unwrap().is_empty(),
        "no path yet"
    );
    assert_eq!(observer.leader().await.unwrap(), None);
    let a = Candidate::new(backend.connect().await, path.clone(), "a");
    let leading = a.campaign().await.unwrap();
    let mut waiting = Vec::new();
    for (n, (id, data)) in [("b", "beta"), ("c", "")].into_iter().enumerate() {
        let options = CandidateOptions::new().data(data);
        let candidate = Candidate::with_options(backend.connect().await, path.clone(), id, options);
        waiting.push(tokio::spawn(async move { candidate.campaign().await }));
        wait_for_candidates(&admin, &path, n + 2).await;
    }
    let candidates = observer.candidates().await.unwrap();
    assert_eq!(ids(&candidates), ["a", "b", "c"]);
    let data: Vec<&[u8]> = candidates.iter().map(|p| p.data.as_slice()).collect();
    assert_eq!(data, [&b""[..], b"beta", b""]);
    assert!(candidates.windows(2).all(|w| w[0].term < w[1].term));
    assert!(candidates.windows(2).all(|w| w[0].sequence < w[1].sequence));
    assert_eq!(candidates[0].term, leading.term());
    assert_eq!(
        observer.leader().await.unwrap().as_ref(),
        Some(&candidates[0])
    );
    for task in waiting {
        task.abort();
    }
    leading.resign().await.unwrap();
    wait_for_candidates(&admin, &path, 0).await;
    teardown(&admin, &path, &[]).await;
}

/// Sets a flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// `run` drops its work when leadership is lost and says why; work that finishes is returned
/// and the candidate resigns.
pub(crate) async fn run_drops_its_work_on_loss(backend: &dyn Backend) {
    let path = election_path();
    let admin = backend.connect().await;
    let zk = backend.connect().await;
    let candidate = Candidate::new(zk.clone(), path.clone(), "runner");
    let dropped = Arc::new(AtomicBool::new(false));
    let (started, mut started_rx) = mpsc::unbounded_channel();
    let flag = dropped.clone();
    let running = tokio::spawn(async move {
        candidate
            .run(move |term| async move {
                let _flag = DropFlag(flag);
                started.send(term).unwrap();
                std::future::pending::<()>().await;
            })
            .await
    });
    let term = within(started_rx.recv()).await.unwrap();
    if backend.capabilities().expire_session {
        assert!(backend.expire_session(&*zk).await);
    } else {
        zk.close().await.unwrap();
    }
    let outcome = within(running).await.unwrap().unwrap();
    assert!(
        matches!(
            outcome,
            RunOutcome::Lost(
                LossReason::SessionExpired | LossReason::Suspended | LossReason::Closed
            )
        ),
        "{outcome:?}"
    );
    assert!(dropped.load(Ordering::SeqCst), "the work was dropped");

    let other = Candidate::new(backend.connect().await, path.clone(), "other");
    let outcome = within(other.run(|term| async move { term })).await.unwrap();
    let RunOutcome::Finished(next_term) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(next_term > term);
    wait_for_candidates(&admin, &path, 0).await;
    teardown(&admin, &path, &[zk]).await;
}

/// `run_rejoining` campaigns again after a loss only as often as allowed, and stops once the
/// handle is closed instead of looping on it.
pub(crate) async fn run_rejoining_is_bounded(backend: &dyn Backend) {
    let path = election_path();
    let admin = backend.connect().await;
    if backend.capabilities().expire_session {
        let zk = backend.connect().await;
        let candidate = Candidate::new(zk.clone(), path.clone(), "rejoiner");
        let (terms, mut terms_rx) = mpsc::unbounded_channel();
        let running = tokio::spawn(async move {
            candidate
                .run_rejoining(Rejoin::Times(1), move |term| {
                    terms.send(term).unwrap();
                    std::future::pending::<()>()
                })
                .await
        });
        let first = within(terms_rx.recv()).await.unwrap();
        let old = zk.session_id();
        assert!(backend.expire_session(&*zk).await);
        let second = within(terms_rx.recv()).await.unwrap();
        assert!(second > first, "a new term after rejoining");
        new_session(&zk, old).await;
        assert!(backend.expire_session(&*zk).await);
        let outcome = within(running).await.unwrap().unwrap();
        assert!(matches!(outcome, RunOutcome::Lost(_)), "{outcome:?}");
        assert!(terms_rx.recv().await.is_none(), "no third term");
        zk.close().await.unwrap();
    }

    let zk = backend.connect().await;
    let candidate = Candidate::new(zk.clone(), path.clone(), "until-closed");
    let (terms, mut terms_rx) = mpsc::unbounded_channel();
    let running = tokio::spawn(async move {
        candidate
            .run_rejoining(Rejoin::UntilClosed, move |term| {
                terms.send(term).unwrap();
                std::future::pending::<()>()
            })
            .await
    });
    within(terms_rx.recv()).await.unwrap();
    zk.close().await.unwrap();
    let outcome = within(running).await.unwrap();
    assert!(
        matches!(
            outcome,
            Ok(RunOutcome::Lost(LossReason::Closed)) | Err(ElectionError::Zk(Error::Closed))
        ),
        "{outcome:?}"
    );
    teardown(&admin, &path, std::slice::from_ref(&admin)).await;
}

/// A dropped campaign, a timed-out one and a failed `try_campaign` leave no node behind, and
/// the next candidate is not stuck behind them.
pub(crate) async fn abandoned_campaigns_leave_no_node(backend: &dyn Backend) {
    let path = election_path();
    let admin = backend.connect().await;
    let a = Candidate::new(backend.connect().await, path.clone(), "a");
    let b = Candidate::new(backend.connect().await, path.clone(), "b");
    let leading = a.campaign().await.unwrap();

    let dropped = b.clone();
    let campaign = tokio::spawn(async move { dropped.campaign().await.map(|l| l.term()) });
    wait_for_candidates(&admin, &path, 2).await;
    campaign.abort();
    assert!(campaign.await.unwrap_err().is_cancelled());
    wait_for_candidates(&admin, &path, 1).await;

    let timed_out = b.campaign_timeout(Duration::from_millis(300)).await;
    assert!(
        matches!(timed_out, Err(ElectionError::Timeout { .. })),
        "{timed_out:?}"
    );
    wait_for_candidates(&admin, &path, 1).await;
    assert!(b.try_campaign().await.unwrap().is_none());
    wait_for_candidates(&admin, &path, 1).await;

    leading.resign().await.unwrap();
    let next = within(b.campaign()).await.unwrap();
    assert_eq!(next.id(), "b");
    next.resign().await.unwrap();
    teardown(&admin, &path, &[]).await;
}

/// A handle campaigns once at a time: a second campaign through it, or a clone, fails while
/// it waits or leads, and works again once it resigned.
pub(crate) async fn a_handle_campaigns_once_at_a_time(backend: &dyn Backend) {
    let path = election_path();
    let admin = backend.connect().await;
    let a = Candidate::new(backend.connect().await, path.clone(), "a");
    let b = Candidate::new(backend.connect().await, path.clone(), "b");
    let leading = a.campaign().await.unwrap();
    assert!(matches!(
        a.campaign().await,
        Err(ElectionError::AlreadyCampaigning { .. })
    ));
    let waiting = b.clone();
    let campaign = tokio::spawn(async move { waiting.campaign().await });
    wait_for_candidates(&admin, &path, 2).await;
    assert!(matches!(
        b.try_campaign().await,
        Err(ElectionError::AlreadyCampaigning { .. })
    ));
    leading.resign().await.unwrap();
    let b_leads = within(campaign).await.unwrap().unwrap();
    let again = within(a.campaign_timeout(Duration::from_millis(200))).await;
    assert!(
        matches!(again, Err(ElectionError::Timeout { .. })),
        "{again:?}"
    );
    b_leads.resign().await.unwrap();
    let again = a.campaign().await.unwrap();
    again.resign().await.unwrap();
    teardown(&admin, &path, &[]).await;
}

/// A candidate whose session expires while it waits is elected only in its new session, with
/// a node that session owns.
pub(crate) async fn elected_only_in_the_session_that_owns_the_node(backend: &dyn Backend) {
    if !backend.capabilities().expire_session {
        return;
    }
    let path = election_path();
    let admin = backend.connect().await;
    let a = Candidate::new(backend.connect().await, path.clone(), "a");
    let leading = a.campaign().await.unwrap();
    let zk = backend.connect().await;
    let b = Candidate::new(zk.clone(), path.clone(), "b");
    let campaign = tokio::spawn(async move { b.campaign().await.unwrap() });
    wait_for_candidates(&admin, &path, 2).await;
    let old = zk.session_id();
    assert!(backend.expire_session(&*zk).await);
    new_session(&zk, old).await;
    // Its old node went with the old session; the campaign entered a new one.
    wait_for_candidates(&admin, &path, 2).await;
    leading.resign().await.unwrap();
    let elected = within(campaign).await.unwrap();
    assert_eq!(elected.session_id(), zk.session_id());
    let owner = admin.exists(elected.node_path()).await.unwrap().unwrap();
    assert_eq!(
        owner.ephemeral_owner,
        zk.session_id(),
        "owned by the new session"
    );
    assert!(elected.is_leader());
    elected.resign().await.unwrap();
    teardown(&admin, &path, &[zk]).await;
}

/// A leader whose node an operator deletes stops being leader, even if nobody awaits
/// `lost()`, and the next candidate takes over.
pub(crate) async fn deleted_node_ends_leadership(backend: &dyn Backend) {
    let path = election_path();
    let admin = backend.connect().await;
    let tolerant = CandidateOptions::new().lost_policy(LostPolicy::OnlySessionLoss);
    let a = Candidate::with_options(backend.connect().await, path.clone(), "a", tolerant);
    let leading = a.campaign().await.unwrap();
    let b = Candidate::new(backend.connect().await, path.clone(), "b");
    let next = tokio::spawn(async move { b.campaign().await.unwrap() });
    wait_for_candidates(&admin, &path, 2).await;
    admin.delete(leading.node_path(), None).await.unwrap();
    let next = within(next).await.unwrap();
    within(async {
        while leading.is_leader() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(within(leading.lost()).await, LossReason::NodeDeleted);
    assert!(next.is_leader());
    next.resign().await.unwrap();
    teardown(&admin, &path, &[]).await;
}

/// Native, kazoo-named and Curator-named candidates form one election: ordered together,
/// each id (and the native candidate's data) read back, leadership passing between them.
pub(crate) async fn naming_schemes_share_one_election(backend: &dyn Backend) {
    let path = election_path();
    let admin = backend.connect().await;
    // What kazoo would have done; a kazoo-named candidate alone would too.
    admin.ensure_path(&path).await.unwrap();
    let observer = Observer::new(admin.clone(), path.clone());
    let options = [
        CandidateOptions::new().data("native data"),
        CandidateOptions::new().naming(Naming::Kazoo),
        CandidateOptions::new().naming(Naming::Curator),
    ];
    let mut campaigns = Vec::new();
    for (n, (id, options)) in ["native", "kazoo", "curator"]
        .into_iter()
        .zip(options)
        .enumerate()
    {
        let candidate = Candidate::with_options(backend.connect().await, path.clone(), id, options);
        campaigns.push(tokio::spawn(
            async move { candidate.campaign().await.unwrap() },
        ));
        wait_for_candidates(&admin, &path, n + 1).await;
    }
    let candidates = observer.candidates().await.unwrap();
    assert_eq!(ids(&candidates), ["native", "kazoo", "curator"]);
    assert_eq!(candidates[0].data, b"native data");
    assert!(candidates[1].data.is_empty() && candidates[2].data.is_empty());
    let [native, kazoo, curator] = [0, 1, 2].map(|i| candidates[i].node.as_str());
    assert!(native.contains("-candidate-"), "{native}");
    assert!(
        kazoo.len() == 50 && kazoo[32..].starts_with("__lock__"),
        "{kazoo}"
    );
    assert!(
        curator.starts_with("_c_") && curator[39..].starts_with("-latch-"),
        "{curator}"
    );
    let (kazoo_data, _) = admin.get_data(&format!("{path}/{kazoo}")).await.unwrap();
    assert_eq!(kazoo_data, b"kazoo", "kazoo reads the whole node as the id");

    let mut last_term = 0;
    for (campaign, id) in campaigns.into_iter().zip(["native", "kazoo", "curator"]) {
        let leading = within(campaign).await.unwrap();
        assert_eq!(observer.leader().await.unwrap().unwrap().id, id);
        assert!(leading.term() > last_term);
        last_term = leading.term();
        leading.resign().await.unwrap();
    }
    assert_eq!(observer.leader().await.unwrap(), None);
    teardown(&admin, &path, &[]).await;
}

/// Nodes another library (or a broken one) left, with ids that are not UTF-8, no NUL, or no
/// data at all, are read without error and queued behind like any candidate; names without a
/// sequence number are not candidates.
pub(crate) async fn foreign_and_garbage_nodes_are_read_gracefully(backend: &dyn Backend) {
    let path = election_path();
    let admin = backend.connect().await;
    admin.ensure_path(&path).await.unwrap();
    admin
        .create(
            &format!("{path}/not-a-candidate"),
            b"\xff",
            &CreateOptions::persistent(),
        )
        .await
        .unwrap();
    let sequential = CreateOptions::new(CreateMode::EphemeralSequential);
    let foreign: [(String, &[u8]); 3] = [
        (format!("_c_{}-latch-", uuid::Uuid::new_v4()), b"\xff\xfex"),
        (
            format!("{}-candidate-", uuid::Uuid::new_v4().simple()),
            b"no-nul",
        ),
        (format!("{}__lock__", uuid::Uuid::new_v4().simple()), b""),
    ];
    for (prefix, data) in &foreign {
        admin
            .create(&format!("{path}/{prefix}"), data, &sequential)
            .await
            .unwrap();
    }
    let observer = Observer::new(admin.clone(), path.clone());
    let leader = observer.leader().await.unwrap().unwrap();
    assert_eq!(leader.id, "\u{fffd}\u{fffd}x");
    assert_eq!(leader.id_bytes, b"\xff\xfex");
    assert!(!leader.id_is_utf8());
    let candidates = observer.candidates().await.unwrap();
    assert_eq!(ids(&candidates), ["\u{fffd}\u{fffd}x", "no-nul", ""]);
    assert!(candidates.iter().all(|p| p.data.is_empty()));
    let mut follow = observer.watch_leader().await.unwrap();
    assert_eq!(follow.borrow_and_update().as_ref(), Some(&leader));

    let ours = Candidate::new(backend.connect().await, path.clone(), "ours");
    assert!(
        ours.try_campaign().await.unwrap().is_none(),
        "queued behind them"
    );
    admin.close().await.unwrap();
    let leading = within(ours.campaign()).await.unwrap();
    assert_eq!(leading.id(), "ours");
    let admin = backend.connect().await;
    let seen = Observer::new(admin.clone(), path.clone()).leader().await;
    assert_eq!(seen.unwrap().unwrap().id, "ours");
    leading.resign().await.unwrap();
    teardown(&admin, &path, &[]).await;
}

zk_testkit::recipe_suite! {
    /// Stamps every election case for one backend:
    /// `election_cases!(backend = ..., time = paused | real)`.
    macro election_cases;
    module = crate::cases;
    source = include_str!("cases.rs");
    cases = [
        one_leader_at_a_time_and_terms_grow,
        terms_grow_across_resign_close_and_expiry,
        resign_hands_over_in_arrival_order,
        expiry_ends_leadership_and_the_next_takes_over,
        watch_leader_follows_changes_and_ends_on_close,
        candidates_in_order_with_ids_data_and_terms,
        run_drops_its_work_on_loss,
        run_rejoining_is_bounded,
        abandoned_campaigns_leave_no_node,
        a_handle_campaigns_once_at_a_time,
        elected_only_in_the_session_that_owns_the_node,
        deleted_node_ends_leadership,
        naming_schemes_share_one_election,
        foreign_and_garbage_nodes_are_read_gracefully,
    ];
}
