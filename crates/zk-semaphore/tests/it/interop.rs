//! Interop with the real thing: Curator `InterProcessSemaphoreV2` processes (Debian
//! `libcurator-recipes-java`) share permits with zk-semaphore's [`Layout::Curator`] on one
//! semaphore path of the shared real server.
//!
//! The helper, `tests/interop/CuratorSemaphore.java`, runs through zk-testkit's interop harness
//! ([`zk_testkit::interop`]), which finds the JDK and Curator (failing the test with the
//! command that installs what is missing), compiles it once per test binary and kills every
//! helper by its PID when its handle drops. Its modes (see its header): `count` takes leases in
//! a loop, `hold` takes one until told to release it, `try` takes one without waiting.
//!
//! Holders of both libraries claim one of N slot files in a shared scratch directory by
//! creating it exclusively while they hold a permit, so N + 1 holders at once are caught in
//! the act.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use zk_core::{Coordinator, CoordinatorExt};
use zk_semaphore::{Layout, Semaphore, SemaphoreOptions};
use zk_testkit::WireBackend;
use zk_testkit::interop::{Helper, Library, RecipeHelpers, reply_timeout};
use zk_testkit::server::ZkServer;
use zk_testkit::timing::{test_timeout, within, within_for};

type Zk = Arc<dyn Coordinator>;

/// The Curator helper in `tests/interop/`, compiled once per test binary.
static HELPERS: RecipeHelpers =
    RecipeHelpers::new(env!("CARGO_MANIFEST_DIR"), env!("CARGO_TARGET_TMPDIR"))
        .curator("CuratorSemaphore");

/// Starts the helper in `mode` on the semaphore at `path` with `permits`, plus `extra`.
#[track_caller]
fn start(mode: &str, path: &str, permits: u32, extra: &[&str]) -> Helper {
    let permits = permits.to_string();
    HELPERS.start(
        Library::Curator,
        mode,
        path,
        &[&[permits.as_str()], extra].concat(),
    )
}

/// Runs a `try` helper to completion: true when it got a lease.
async fn curator_try(path: &str, permits: u32) -> bool {
    let printed = start("try", path, permits, &[])
        .finish(reply_timeout())
        .await;
    match printed.as_slice() {
        [word] if word == "acquired" => true,
        [word] if word == "blocked" => false,
        other => panic!("Curator try: unexpected output {other:?}"),
    }
}

/// Starts a `hold` helper and waits until it holds a lease.
async fn curator_hold(path: &str, permits: u32) -> Helper {
    let mut helper = start("hold", path, permits, &[]);
    helper.expect("held").await;
    helper
}

/// Tells a `hold` helper to return its lease and waits for it to exit.
async fn curator_release(mut helper: Helper) {
    helper.send("release");
    helper.expect("released").await;
    helper.finish(reply_timeout()).await;
}

async fn connect() -> Zk {
    zk_testkit::Backend::connect(&WireBackend::new(ZkServer::shared().connect_string())).await
}

fn semaphore_path() -> String {
    format!("/interop-{}/s", uuid::Uuid::new_v4())
}

fn curator_layout(zk: Zk, path: &str, permits: u32) -> Semaphore<Zk> {
    let options = SemaphoreOptions::new().layout(Layout::Curator);
    Semaphore::with_options(zk, path, permits, options).unwrap()
}

/// The children of `<path>/<dir>`; none once the server swept the empty container.
async fn children(zk: &Zk, path: &str, dir: &str) -> Vec<String> {
    match zk.get_children(&format!("{path}/{dir}")).await {
        Ok((children, _)) => children,
        Err(zk_core::Error::NoNode { .. }) => Vec::new(),
        Err(e) => panic!("listing {path}/{dir}: {e}"),
    }
}

/// Curator's protected lease name, `_c_<uuid>-lease-<ten-digit sequence>`.
fn is_curator_lease(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("_c_") else {
        return false;
    };
    rest.len() == 36 + "-lease-".len() + 10
        && uuid::Uuid::try_parse(&rest[..36]).is_ok()
        && rest[36..].starts_with("-lease-")
        && rest[43..].bytes().all(|b| b.is_ascii_digit())
}

/// Asserts that no lease or mutex node is left, removes the test's root and closes `zk`.
async fn nothing_left_then_close(zk: Zk, path: &str) {
    assert_eq!(children(&zk, path, "leases").await, Vec::<String>::new());
    assert_eq!(children(&zk, path, "locks").await, Vec::<String>::new());
    zk.delete_all(zk_core::path::parent(path).unwrap())
        .await
        .unwrap();
    zk.close().await.unwrap();
}

/// A scratch directory for the slot files, removed on drop.
#[derive(Debug)]
struct Slots(PathBuf);

impl Slots {
    fn new() -> Slots {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "zk-semaphore-slots-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Slots(dir)
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("a UTF-8 scratch path")
    }

    /// Claims a free slot file for a moment, as the Java helper does; panics when all
    /// `permits` are taken.
    async fn hold_a_slot(&self, permits: u32, me: &str) {
        for slot in 0..permits {
            let file = self.0.join(format!("slot-{slot}"));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&file)
            {
                Ok(mut f) => {
                    f.write_all(me.as_bytes()).unwrap();
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    std::fs::remove_file(&file).unwrap();
                    return;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => panic!("cannot create {}: {e}", file.display()),
            }
        }
        panic!("{me} holds a permit while all {permits} slots are taken");
    }
}

impl Drop for Slots {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Two Curator processes and two zk-semaphore tasks take leases of one semaphore of two
/// permits in a loop; a third holder at any moment would find both slot files taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_and_zk_semaphore_never_exceed_n_holders_together() {
    const PERMITS: u32 = 2;
    const CYCLES: usize = 30;
    let path = semaphore_path();
    let slots = Arc::new(Slots::new());
    let cycles = CYCLES.to_string();
    let helpers: Vec<Helper> = (0..2)
        .map(|_| start("count", &path, PERMITS, &[slots.arg(), &cycles]))
        .collect();
    let mut sessions = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..2 {
        let zk = connect().await;
        sessions.push(zk.clone());
        let semaphore = curator_layout(zk, &path, PERMITS);
        let slots = slots.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..CYCLES {
                let permit = semaphore.acquire().await.unwrap();
                slots
                    .hold_a_slot(PERMITS, &format!("zk-semaphore task {i}"))
                    .await;
                permit.release().await.unwrap();
            }
        }));
    }
    for task in tasks {
        within_for(test_timeout() * 8, task).await.unwrap();
    }
    for helper in helpers {
        assert_eq!(helper.finish(test_timeout() * 8).await, ["done"]);
    }
    for zk in sessions {
        zk.close().await.unwrap();
    }
    nothing_left_then_close(connect().await, &path).await;
}

/// With a Curator holder and one of ours on two permits, neither library's try gets a third;
/// once Curator returns its lease, ours can take it, and our lease nodes look like Curator's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_and_zk_semaphore_count_each_others_leases() {
    let path = semaphore_path();
    let zk = connect().await;
    let ours = curator_layout(zk.clone(), &path, 2);
    let other = curator_layout(connect().await, &path, 2);

    let curator = curator_hold(&path, 2).await;
    let permit = ours
        .try_acquire()
        .await
        .unwrap()
        .expect("a second permit is free");
    let leases = children(&zk, &path, "leases").await;
    assert_eq!(leases.len(), 2);
    assert!(leases.iter().all(|l| is_curator_lease(l)), "{leases:?}");
    assert!(!curator_try(&path, 2).await, "Curator got a third permit");
    assert!(
        other.try_acquire().await.unwrap().is_none(),
        "we got a third permit"
    );

    curator_release(curator).await;
    let second = other
        .try_acquire()
        .await
        .unwrap()
        .expect("Curator's permit is free");
    assert!(!curator_try(&path, 2).await, "Curator got a third permit");
    second.release().await.unwrap();
    assert!(curator_try(&path, 2).await, "Curator takes the free permit");
    permit.release().await.unwrap();
    nothing_left_then_close(zk, &path).await;
}

/// Waiters wake when the other library's holder releases: ours behind Curator's, then
/// Curator's behind ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_wake_when_the_other_library_releases() {
    let path = semaphore_path();
    let zk = connect().await;
    let ours = curator_layout(zk.clone(), &path, 1);

    let curator = curator_hold(&path, 1).await;
    let waiting = {
        let ours = ours.clone();
        tokio::spawn(async move { ours.acquire().await.unwrap() })
    };
    // Our waiter queues on Curator's mutex with its lease node in place.
    within(async {
        while children(&zk, &path, "leases").await.len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(!waiting.is_finished(), "we got past Curator's holder");
    curator_release(curator).await;
    let permit = within(waiting).await.unwrap();

    let mut curator = start("hold", &path, 1, &[]);
    within_for(reply_timeout(), async {
        while children(&zk, &path, "leases").await.len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    permit.release().await.unwrap();
    curator.expect("held").await;
    assert!(
        ours.try_acquire().await.unwrap().is_none(),
        "Curator holds it"
    );
    curator_release(curator).await;
    nothing_left_then_close(zk, &path).await;
}

/// The lease-name check above accepts Curator's names and nothing looser.
#[test]
fn curator_lease_names() {
    let id = "9b1d3f7e-0c4a-4f62-8a55-2e8f3c6d7b10";
    assert!(is_curator_lease(&format!("_c_{id}-lease-0000000012")));
    assert!(!is_curator_lease(&format!("_c_{id}-lease-000000012")));
    assert!(!is_curator_lease(&format!("_c_{id}-lock-0000000012")));
    assert!(!is_curator_lease(&format!("{id}-lease-0000000012")));
}
