//! Interop with the real thing: kazoo's `Election` (Debian `python3-kazoo`) and Curator's
//! `LeaderLatch` (Debian `libcurator-recipes-java`) processes campaign with zk-election on the
//! same election path of the shared real server.
//!
//! The helpers live in `tests/interop/`: `kazoo_election.py` and `CuratorLatch.java`, run by
//! zk-testkit's interop harness ([`zk_testkit::interop`]), which finds kazoo, the JDK and
//! Curator (failing the test with the command that installs what is missing), compiles the Java
//! helper once per test binary and kills every helper by its PID when its handle drops. Both
//! speak the protocol their headers describe: `count` takes terms around a shared counter,
//! `serve` campaigns, resigns and reports the leader as its own library sees it.

use std::sync::Arc;

use zk_core::{Coordinator, CoordinatorExt, Error};
use zk_election::{Candidate, CandidateOptions, LossReason, Naming, Observer, Participant};
use zk_testkit::interop::{Helper, Library, RecipeHelpers, SharedCounter, reply_timeout};
use zk_testkit::server::ZkServer;
use zk_testkit::timing::{test_timeout, within, within_for};
use zk_testkit::{Backend, WireBackend};

type Zk = Arc<dyn Coordinator>;

/// The election helpers in `tests/interop/`.
static HELPERS: RecipeHelpers =
    RecipeHelpers::new(env!("CARGO_MANIFEST_DIR"), env!("CARGO_TARGET_TMPDIR"))
        .kazoo("kazoo_election.py")
        .curator("CuratorLatch");

/// How each library's helper is driven.
trait ElectionHelper {
    /// The naming that makes our candidates visible to this library.
    fn naming(self) -> Naming;
    /// The serve-mode commands that start and end this library's candidacy, and what it
    /// prints after each.
    fn campaign(self) -> &'static str;
    fn resign(self) -> (&'static str, &'static str);
    /// The serve-mode command listing candidates in order, and the word its answer starts with.
    fn list(self) -> &'static str;
}

impl ElectionHelper for Library {
    fn naming(self) -> Naming {
        match self {
            Library::Kazoo => Naming::Kazoo,
            Library::Curator => Naming::Curator,
        }
    }

    fn campaign(self) -> &'static str {
        match self {
            Library::Kazoo => "campaign",
            Library::Curator => "start",
        }
    }

    fn resign(self) -> (&'static str, &'static str) {
        match self {
            Library::Kazoo => ("resign", "resigned"),
            Library::Curator => ("close", "closed"),
        }
    }

    fn list(self) -> &'static str {
        match self {
            Library::Kazoo => "contenders",
            Library::Curator => "participants",
        }
    }
}

/// Starts `library`'s helper in `mode` on `path` with candidate `id` and `extra` arguments.
#[track_caller]
fn start_helper(library: Library, mode: &str, path: &str, id: &str, extra: &[&str]) -> Helper {
    HELPERS.start(library, mode, path, &[&[id], extra].concat())
}

/// Asks a serve-mode helper a question and returns its one-line answer.
async fn ask(helper: &mut Helper, command: &str) -> String {
    helper.send(command);
    helper.next_line().await.unwrap_or_else(|| {
        panic!(
            "{} exited; its stderr:\n{}",
            helper.label(),
            helper.stderr()
        )
    })
}

/// Who leads, as the helper's library sees it: `leader ID` or `none`.
async fn their_view_of_the_leader(helper: &mut Helper) -> String {
    ask(helper, "leader").await
}

async fn connect() -> Zk {
    WireBackend::new(ZkServer::shared().connect_string())
        .connect()
        .await
}

/// A fresh election path, created persistent as kazoo's `Election` would (zk-election does
/// the same for `Naming::Kazoo`; for Curator a container would do, but one path for both keeps
/// the tests alike).
async fn election_path(zk: &Zk) -> String {
    let path = format!("/interop-{}/election", uuid::Uuid::new_v4().simple());
    zk.ensure_path(&path).await.unwrap();
    path
}

async fn remove_root(zk: &Zk, path: &str) {
    zk.delete_all(zk_core::path::parent(path).unwrap())
        .await
        .unwrap();
}

/// Waits until exactly `n` children stand under `path`.
async fn wait_for_children(zk: &Zk, path: &str, n: usize) {
    within_for(reply_timeout(), async {
        loop {
            match zk.watch_children(path).await {
                Ok((children, _, _)) if children.len() == n => return,
                Ok((_, _, watch)) => {
                    watch.await;
                }
                Err(Error::NoNode { .. }) if n == 0 => return,
                Err(e) => panic!("listing {path}: {e}"),
            }
        }
    })
    .await;
}

/// Waits until the followed leader is `want`, and returns it.
async fn followed_leader_is(
    rx: &mut tokio::sync::watch::Receiver<Option<Participant>>,
    want: Option<&str>,
) -> Option<Participant> {
    within_for(
        reply_timeout(),
        rx.wait_for(|leader| leader.as_ref().map(|p| p.id.as_str()) == want),
    )
    .await
    .expect("the follower is running")
    .clone()
}

/// `helpers` processes of `library` and `tasks` zk-election candidates (each on its own
/// session, named for `library`) take `cycles` terms each on one election path, bumping a
/// shared counter while leading: never two leaders, or the holder claim fails, and the total
/// is exact.
async fn shared_counter(library: Library, helpers: usize, tasks: usize, cycles: usize) {
    let admin = connect().await;
    let path = election_path(&admin).await;
    let counter = Arc::new(SharedCounter::new(
        env!("CARGO_TARGET_TMPDIR"),
        "zk-election-interop",
    ));
    let cycles_arg = cycles.to_string();
    let processes: Vec<Helper> = (0..helpers)
        .map(|i| {
            let id = format!("{library:?}-{i}");
            start_helper(library, "count", &path, &id, &[counter.arg(), &cycles_arg])
        })
        .collect();
    let mut sessions = Vec::new();
    let mut handles = Vec::new();
    for i in 0..tasks {
        let zk = connect().await;
        sessions.push(zk.clone());
        let options = CandidateOptions::new().naming(library.naming());
        let candidate = Candidate::with_options(zk, path.clone(), format!("rust-{i}"), options);
        let counter = counter.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..cycles {
                let leading = candidate.campaign().await.unwrap();
                counter.bump(candidate.id()).await;
                assert!(leading.is_leader(), "led for the whole term");
                leading.resign().await.unwrap();
            }
        }));
    }
    let whole_run = test_timeout() * 8;
    for handle in handles {
        within_for(whole_run, handle).await.unwrap();
    }
    for helper in processes {
        assert_eq!(helper.finish(whole_run).await, ["done"]);
    }
    assert_eq!(
        counter.value(),
        ((helpers + tasks) * cycles) as u64,
        "every term's increment survived"
    );
    wait_for_children(&admin, &path, 0).await;
    remove_root(&admin, &path).await;
    for zk in sessions {
        zk.close().await.unwrap();
    }
    admin.close().await.unwrap();
}

/// Leadership alternates between a `library` candidate and ours, and each side sees the other
/// lead through its own observer API: kazoo's `contenders()`, Curator's `getLeader()` and
/// `getParticipants()`, our `Observer`. Then our leader's session expires and the other
/// library's candidate takes over.
async fn each_sees_the_other_lead(library: Library) {
    let admin = connect().await;
    let path = election_path(&admin).await;
    let observer = Observer::new(admin.clone(), path.clone());
    let mut followed = observer.watch_leader().await.unwrap();
    let mut theirs = start_helper(library, "serve", &path, "their-1", &[]);
    assert_eq!(their_view_of_the_leader(&mut theirs).await, "none");

    // Ours leads first; theirs queues behind it. Our session comes from a backend of its own,
    // which can expire it later.
    let backend = WireBackend::new(ZkServer::shared().connect_string());
    let ours_zk = backend.connect().await;
    let options = CandidateOptions::new().naming(library.naming());
    let ours = Candidate::with_options(ours_zk.clone(), path.clone(), "rust-1", options);
    let leading = ours.campaign().await.unwrap();
    assert_eq!(their_view_of_the_leader(&mut theirs).await, "leader rust-1");
    theirs.send(library.campaign());
    wait_for_children(&admin, &path, 2).await;
    assert_eq!(their_view_of_the_leader(&mut theirs).await, "leader rust-1");
    assert_eq!(
        ask(&mut theirs, library.list()).await,
        format!("{} rust-1,their-1", library.list())
    );
    let seen = followed_leader_is(&mut followed, Some("rust-1"))
        .await
        .unwrap();
    assert_eq!(seen.term, leading.term());
    let ids: Vec<String> = observer
        .candidates()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["rust-1", "their-1"]);

    // Ours resigns: theirs leads, and we see it.
    let our_term = leading.term();
    leading.resign().await.unwrap();
    theirs.expect("leading").await;
    let seen = followed_leader_is(&mut followed, Some("their-1"))
        .await
        .unwrap();
    assert!(seen.term > our_term);
    assert_eq!(observer.leader().await.unwrap().unwrap().id, "their-1");
    assert_eq!(
        their_view_of_the_leader(&mut theirs).await,
        "leader their-1"
    );

    // Ours queues behind theirs and is elected only once theirs steps down.
    let campaign = {
        let ours = ours.clone();
        tokio::spawn(async move { ours.campaign().await.unwrap() })
    };
    wait_for_children(&admin, &path, 2).await;
    assert!(
        !campaign.is_finished(),
        "ours got past {library:?}'s leader"
    );
    let (resign, resigned) = library.resign();
    theirs.send(resign);
    theirs.expect(resigned).await;
    let leading = within(campaign).await.unwrap();
    assert!(leading.term() > seen.term);
    followed_leader_is(&mut followed, Some("rust-1")).await;
    assert_eq!(their_view_of_the_leader(&mut theirs).await, "leader rust-1");
    theirs.send("quit");
    theirs.finish(reply_timeout()).await;

    // Cross-library failover: a fresh candidate of theirs waits behind ours; ours' session
    // expires; theirs takes over, and ours knows it lost.
    let mut next = start_helper(library, "serve", &path, "their-2", &[]);
    next.send(library.campaign());
    wait_for_children(&admin, &path, 2).await;
    let lost = leading.lost();
    assert!(backend.expire_session(&*ours_zk).await);
    next.expect("leading").await;
    let reason = within(lost).await;
    assert!(
        matches!(reason, LossReason::SessionExpired | LossReason::Suspended),
        "{reason:?}"
    );
    assert!(!leading.is_leader());
    followed_leader_is(&mut followed, Some("their-2")).await;
    drop(leading);
    next.send("quit");
    next.finish(reply_timeout()).await;

    remove_root(&admin, &path).await;
    ours_zk.close().await.unwrap();
    admin.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_election_and_ours_keep_a_shared_counter_exact() {
    shared_counter(Library::Kazoo, 2, 2, 15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_election_and_ours_see_each_other_lead() {
    each_sees_the_other_lead(Library::Kazoo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_latch_and_ours_keep_a_shared_counter_exact() {
    shared_counter(Library::Curator, 2, 2, 15).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_latch_and_ours_see_each_other_lead() {
    each_sees_the_other_lead(Library::Curator).await;
}
