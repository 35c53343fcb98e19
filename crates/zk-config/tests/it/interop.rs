//! Interop with the real thing: kazoo's `Counter` (Debian `python3-kazoo`) and Curator's
//! `SharedCount` (Debian `libcurator-recipes-java`) processes add to the same node as
//! zk-config's [`Counter`], all at once, on the shared real server; not one addition is lost.
//!
//! The helpers live in `tests/interop/`: `kazoo_counter.py` and `CuratorCounter.java`, run by
//! zk-testkit's interop harness ([`zk_testkit::interop`]), which finds kazoo, the JDK and
//! Curator (failing the test with the command that installs what is missing), compiles the Java
//! helper once per test binary and kills every helper by its PID when its handle drops. Both
//! speak the protocol their headers describe: they read the counter and print `ready VALUE`,
//! add 1 COUNT times on `go` and print `done`, then on `read` print `value VALUE` as their own
//! library reads it, and exit.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use zk_config::{Codec, Counter};
use zk_core::{Coordinator, CoordinatorExt};
use zk_testkit::interop::{Helper, Library, RecipeHelpers, reply_timeout};
use zk_testkit::server::ZkServer;
use zk_testkit::timing::{test_timeout, within_for};
use zk_testkit::{Backend, WireBackend};

type Zk = Arc<dyn Coordinator>;

/// The counter helpers in `tests/interop/`.
static HELPERS: RecipeHelpers =
    RecipeHelpers::new(env!("CARGO_MANIFEST_DIR"), env!("CARGO_TARGET_TMPDIR"))
        .kazoo("kazoo_counter.py")
        .curator("CuratorCounter");

/// How many times each writer (a helper process, or one of our sessions) adds 1.
const ADDS: i64 = 200;

/// The pause between two additions of one of our sessions.
const PAUSE: Duration = Duration::from_millis(1);

async fn connect() -> Zk {
    WireBackend::new(ZkServer::shared().connect_string())
        .connect()
        .await
}

/// A fresh counter path under a root of its own.
fn counter_path() -> String {
    format!("/interop-{}/counter", uuid::Uuid::new_v4().simple())
}

/// Starts `library`'s helper in `mode` on `path` and waits until it read the counter as
/// `value`.
async fn start_ready(library: Library, mode: &str, path: &str, value: i64) -> Helper {
    let adds = ADDS.to_string();
    let mut helper = HELPERS.start(library, mode, path, &[&adds]);
    helper.expect(&format!("ready {value}")).await;
    helper
}

/// Lets the helpers and our `counters` (one per session) add [`ADDS`] each, all at once, and
/// waits for every writer to finish, checking that ours wrote distinct values. Then each helper reads the counter through its own library and must
/// see `total`.
async fn add_together<K: Codec<i64> + Clone>(
    mut helpers: Vec<Helper>,
    counters: &[Counter<Zk, K>],
    total: i64,
) {
    for helper in &mut helpers {
        helper.send("go");
    }
    let tasks: Vec<JoinHandle<Vec<i64>>> = counters
        .iter()
        .cloned()
        .map(|counter| {
            tokio::spawn(async move {
                let mut written = Vec::new();
                for _ in 0..ADDS {
                    written.push(counter.add(1).await.unwrap());
                    // A breath between additions, so the slower helpers' writes land among
                    // ours instead of after them.
                    tokio::time::sleep(PAUSE).await;
                }
                written
            })
        })
        .collect();
    let mut ours = Vec::new();
    for task in tasks {
        ours.extend(within_for(test_timeout() * 8, task).await.unwrap());
    }
    // Each successful compare-and-set writes the value it read plus one, so the writes of all
    // the writers together are 1..=total, each once: a value written twice is a lost update.
    ours.sort_unstable();
    let before = ours.len();
    ours.dedup();
    assert_eq!(ours.len(), before, "our sessions wrote a value twice");
    assert!(
        ours.iter().all(|v| (1..=total).contains(v)),
        "{ours:?} leave 1..={total}"
    );
    for helper in &mut helpers {
        helper.expect("done").await;
    }
    for mut helper in helpers {
        helper.send("read");
        let label = helper.label().to_owned();
        assert_eq!(
            helper.finish(reply_timeout()).await,
            [format!("value {total}")],
            "what {label} reads at the end"
        );
    }
}

/// The node's data as stored.
async fn raw(zk: &Zk, path: &str) -> Vec<u8> {
    zk.get_data(path).await.unwrap().0
}

/// Removes the test's root and closes `sessions`.
async fn clean_up(sessions: Vec<Zk>, path: &str) {
    sessions[0]
        .delete_all(zk_core::path::parent(path).unwrap())
        .await
        .unwrap();
    for zk in sessions {
        zk.close().await.unwrap();
    }
}

/// One node in Curator's `SharedCount` format (4 big-endian bytes): a kazoo process (with
/// `support_curator=True`), a Curator process and two sessions of ours each add 1 [`ADDS`]
/// times at once, and all three libraries read exactly the sum.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_curator_and_zk_config_share_a_shared_count_exactly() {
    let path = counter_path();
    let sessions = vec![connect().await, connect().await];
    let counters: Vec<_> = sessions
        .iter()
        .map(|zk| Counter::shared_count(zk.clone(), &path).unwrap())
        .collect();
    // Curator cannot read an empty node (which kazoo's ensure_path would leave): write the
    // 4-byte 0 first.
    counters[0].set(0).await.unwrap();
    assert_eq!(raw(&sessions[0], &path).await, [0, 0, 0, 0]);

    let helpers = vec![
        start_ready(Library::Kazoo, "add-curator", &path, 0).await,
        start_ready(Library::Curator, "add", &path, 0).await,
    ];
    let total = 4 * ADDS;
    add_together(helpers, &counters, total).await;

    assert_eq!(counters[1].get().await.unwrap().value, total);
    let expected = i32::try_from(total).unwrap().to_be_bytes();
    assert_eq!(raw(&sessions[0], &path).await, expected);
    clean_up(sessions, &path).await;
}

/// kazoo's own format (ASCII decimal text): the kazoo process creates the node empty, which we
/// read as 0; then it and two sessions of ours each add 1 [`ADDS`] times at once, and the node
/// ends with exactly the sum, in decimal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_and_zk_config_share_a_decimal_counter_exactly() {
    let path = counter_path();
    let sessions = vec![connect().await, connect().await];
    let counters: Vec<_> = sessions
        .iter()
        .map(|zk| Counter::kazoo(zk.clone(), &path).unwrap())
        .collect();
    assert_eq!(
        counters[0].get().await.unwrap().version,
        None,
        "no node yet"
    );

    let kazoo = start_ready(Library::Kazoo, "add", &path, 0).await;
    // kazoo's ensure_path left the node empty: a value of 0 at data version 0.
    assert_eq!(raw(&sessions[0], &path).await, b"");
    let empty = counters[0].get().await.unwrap();
    assert_eq!(empty.value, 0);
    assert_eq!(empty.expected(), Some(0));

    let total = 3 * ADDS;
    add_together(vec![kazoo], &counters, total).await;

    assert_eq!(counters[1].get().await.unwrap().value, total);
    assert_eq!(raw(&sessions[0], &path).await, total.to_string().as_bytes());
    clean_up(sessions, &path).await;
}
