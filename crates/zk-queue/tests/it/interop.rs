//! Interop with the real thing: kazoo's `Queue` and `LockingQueue` (Debian `python3-kazoo`)
//! share queues with zk-queue on the shared real server, both ways: items put by either are
//! taken by the other in the same order, and leases (kazoo's locks) are respected by both.
//!
//! The helper is `tests/interop/kazoo_queue.py`, run by zk-testkit's interop harness
//! ([`zk_testkit::interop`]), which finds kazoo (failing the test with the command that
//! installs it) and kills the helper by its PID when its handle drops. Its protocol is in its
//! header.

use std::sync::Arc;
use std::time::Duration;

use zk_core::{Coordinator, CoordinatorExt};
use zk_queue::{PutOptions, Queue};
use zk_testkit::interop::{Helper, Library, RecipeHelpers, reply_timeout};
use zk_testkit::server::ZkServer;
use zk_testkit::timing::within;
use zk_testkit::{Backend, WireBackend};

type Zk = Arc<dyn Coordinator>;

/// The queue helper in `tests/interop/`.
static HELPERS: RecipeHelpers =
    RecipeHelpers::new(env!("CARGO_MANIFEST_DIR"), env!("CARGO_TARGET_TMPDIR"))
        .kazoo("kazoo_queue.py");

async fn connect() -> Zk {
    WireBackend::new(ZkServer::shared().connect_string())
        .connect()
        .await
}

/// A fresh root for one test.
fn root() -> String {
    format!("/interop-{}", uuid::Uuid::new_v4().simple())
}

/// Starts the kazoo helper on `path` in `mode` and waits until it is ready.
async fn kazoo(mode: &str, path: &str) -> Helper {
    let mut helper = HELPERS.start(Library::Kazoo, mode, path, &[]);
    helper.expect("ready").await;
    helper
}

/// Sends `command` and waits for `reply`.
async fn ask(helper: &mut Helper, command: &str, reply: &str) {
    helper.send(command);
    helper.expect(reply).await;
}

/// Takes everything there is now from `queue`, at most once, as text.
async fn drain(queue: &Queue<Zk>) -> Vec<String> {
    let mut taken = Vec::new();
    while let Some(item) = queue.try_take().await.unwrap() {
        taken.push(String::from_utf8(item.into_data()).unwrap());
    }
    taken
}

/// kazoo's plain `Queue` and ours on one path: each takes what the other put, lowest priority
/// first and in arrival order within a priority.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_queue_and_zk_queue_share_a_flat_queue() {
    let root = root();
    let path = format!("{root}/jobs");
    let zk = connect().await;
    let ours = Queue::kazoo_queue(zk.clone(), &path, &format!("{root}/line")).unwrap();
    let mut theirs = kazoo("queue", &path).await;

    ask(&mut theirs, "put 100 k1", "put").await;
    ask(&mut theirs, "put 5 k2", "put").await;
    ours.put(b"r1".to_vec()).await.unwrap();
    ask(&mut theirs, "put 100 k3", "put").await;
    ours.put_with(b"r2".to_vec(), &PutOptions::new().priority(0))
        .await
        .unwrap();
    ask(&mut theirs, "put 5 k4", "put").await;
    assert_eq!(drain(&ours).await, ["r2", "k2", "k4", "k1", "r1", "k3"]);

    ours.put(b"a".to_vec()).await.unwrap();
    ours.put_with(b"b".to_vec(), &PutOptions::new().priority(1))
        .await
        .unwrap();
    ours.put(b"c".to_vec()).await.unwrap();
    for reply in ["got b", "got a", "got c", "empty"] {
        ask(&mut theirs, "get", reply).await;
    }
    ask(&mut theirs, "len", "len 0").await;
    theirs.send("exit");
    assert!(theirs.finish(reply_timeout()).await.is_empty());
    zk.delete_all(&root).await.unwrap();
}

/// kazoo's `LockingQueue` and ours on one path: items go both ways, and each side's leases
/// (kazoo's locks) keep the other side off the item until it is consumed, or until the
/// holder's session ends, when the item comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_locking_queue_and_zk_queue_share_items_and_leases() {
    let path = root();
    let zk = connect().await;
    let ours = Queue::new(zk.clone(), &path).unwrap();
    let mut theirs = kazoo("locking", &path).await;

    ask(&mut theirs, "putall 100 k1,k2,k3", "put").await;
    ask(&mut theirs, "put 0 k0", "put").await;
    let k0 = ours.take_leased().await.unwrap();
    assert_eq!(k0.data(), b"k0");
    // kazoo passes over our lease, and we over its lock.
    ask(&mut theirs, "get", "got k1").await;
    let k2 = ours.try_take_leased().await.unwrap().expect("k2");
    assert_eq!(k2.data(), b"k2");
    ask(&mut theirs, "len", "len 4").await;
    k0.ack().await.unwrap();
    k2.ack().await.unwrap();
    ask(&mut theirs, "consume", "consumed True").await;
    assert_eq!(ours.take().await.unwrap().data(), b"k3");
    ask(&mut theirs, "len", "len 0").await;

    // Ours to kazoo, priority first.
    ours.put(b"r1".to_vec()).await.unwrap();
    ours.put_with(b"r0".to_vec(), &PutOptions::new().priority(0))
        .await
        .unwrap();
    ask(&mut theirs, "get", "got r0").await;
    ask(&mut theirs, "consume", "consumed True").await;

    // kazoo locks r1 and goes away without consuming it: our waiting consumer gets it.
    ask(&mut theirs, "get", "got r1").await;
    let waiting = tokio::spawn({
        let ours = ours.clone();
        async move { ours.take_leased().await }
    });
    theirs.send("exit");
    assert!(theirs.finish(reply_timeout()).await.is_empty());
    let r1 = within(waiting).await.unwrap().unwrap();
    assert_eq!(r1.data(), b"r1");
    r1.ack().await.unwrap();
    assert_eq!(ours.len().await.unwrap(), 0);
    assert_eq!(
        ours.take_timeout(Duration::from_millis(100)).await.unwrap(),
        None
    );
    zk.delete_all(&path).await.unwrap();
}
