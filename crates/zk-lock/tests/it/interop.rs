//! Interop with the real thing: kazoo (Debian `python3-kazoo`) and Curator (Debian
//! `libcurator-recipes-java`) processes contend with zk-lock on the same lock path of the shared
//! real server.
//!
//! The lock helpers live in `tests/interop/`: `kazoo_lock.py` and `CuratorLock.java`, run by
//! zk-testkit's interop harness ([`zk_testkit::interop`]), which finds kazoo, the JDK and
//! Curator (failing the test with the command that installs what is missing), compiles the Java
//! helper once per test binary and kills every helper by its PID when its handle drops. Both
//! helpers speak the same small protocol (see their headers): `count` bumps a counter file
//! under the lock, `hold` takes the lock until told to release it, `try` takes it without
//! waiting.
//!
//! The counter is zk-testkit's [`SharedCounter`]: a plain file in a scratch directory shared by
//! every contender; each holder also creates a `holder` file exclusively and removes it before
//! releasing, so two holders at once are caught in the act, not only by a short total.

use std::sync::Arc;
use std::time::Duration;

use zk_core::{Coordinator, CoordinatorExt, Error};
use zk_lock::{ContenderKind, Lock, LockOptions, Naming, ReadWriteLock};
use zk_testkit::WireBackend;
use zk_testkit::interop::{Helper, Library, RecipeHelpers, SharedCounter, reply_timeout};
use zk_testkit::server::ZkServer;
use zk_testkit::timing::{scale, test_timeout, within, within_for};

use crate::teardown::{no_contender_left_then_close, remove_root};

type Zk = Arc<dyn Coordinator>;

/// How long a whole counter run may take.
fn count_timeout() -> Duration {
    test_timeout() * 8
}

// ---------------------------------------------------------------------------------------------
// Helper processes

/// The lock helpers in `tests/interop/`.
static HELPERS: RecipeHelpers =
    RecipeHelpers::new(env!("CARGO_MANIFEST_DIR"), env!("CARGO_TARGET_TMPDIR"))
        .kazoo("kazoo_lock.py")
        .curator("CuratorLock");

/// Starts `library`'s lock helper in `mode` on `path`'s `kind` lock, with `extra` arguments.
#[track_caller]
fn start_helper(library: Library, mode: &str, path: &str, kind: &str, extra: &[&str]) -> Helper {
    HELPERS.start(library, mode, path, &[&[kind], extra].concat())
}

/// Runs a `try` helper to completion: true when it took the lock.
async fn helper_try(library: Library, path: &str, kind: &str) -> bool {
    let helper = start_helper(library, "try", path, kind, &[]);
    let printed = helper.finish(reply_timeout()).await;
    match printed.as_slice() {
        [word] if word == "acquired" => true,
        [word] if word == "blocked" => false,
        other => panic!("{library:?} try {kind}: unexpected output {other:?}"),
    }
}

/// Starts a `hold` helper and waits until it holds the lock.
async fn helper_hold(library: Library, path: &str, kind: &str) -> Helper {
    let mut helper = start_helper(library, "hold", path, kind, &[]);
    helper.expect("held").await;
    helper
}

/// Tells a `hold` helper to release and waits for it to exit.
async fn helper_release(mut helper: Helper) {
    helper.send("release");
    helper.expect("released").await;
    helper.finish(reply_timeout()).await;
}

/// `cycles` times: take `lock`, bump the counter, release.
async fn count_in_rust(lock: Lock<Zk>, counter: Arc<SharedCounter>, cycles: usize, me: String) {
    for _ in 0..cycles {
        let guard = lock.acquire().await.unwrap();
        counter.bump(&me).await;
        guard.release().await.unwrap();
    }
}

/// `helpers` processes of `library` and `tasks` zk-lock tasks (each on its own session, with
/// `lock_for` making their lock) take turns `cycles` times each on one lock path; the total
/// must be exact and no node may be left behind.
async fn shared_counter(
    library: Library,
    kind: &str,
    helpers: usize,
    tasks: usize,
    cycles: usize,
    lock_for: impl Fn(Zk, &str) -> Lock<Zk>,
) {
    let path = lock_path();
    let admin = connect().await;
    persistent_path_for(library, &admin, &path).await;
    let scratch = Arc::new(SharedCounter::new(
        env!("CARGO_TARGET_TMPDIR"),
        "zk-lock-interop",
    ));
    let cycles_arg = cycles.to_string();
    let mut processes: Vec<Helper> = (0..helpers)
        .map(|_| start_helper(library, "count", &path, kind, &[scratch.arg(), &cycles_arg]))
        .collect();
    let mut sessions = Vec::new();
    let mut handles = Vec::new();
    for i in 0..tasks {
        let zk = connect().await;
        sessions.push(zk.clone());
        let lock = lock_for(zk, &path);
        handles.push(tokio::spawn(count_in_rust(
            lock,
            scratch.clone(),
            cycles,
            format!("zk-lock-task-{i}"),
        )));
    }
    for handle in handles {
        within_for(count_timeout(), handle).await.unwrap();
    }
    for helper in processes.drain(..) {
        let printed = helper.finish(count_timeout()).await;
        assert_eq!(printed, vec!["done".to_owned()]);
    }
    assert_eq!(
        scratch.value(),
        ((helpers + tasks) * cycles) as u64,
        "every increment under the lock survived"
    );
    no_contender_left_then_close(sessions, &path).await;
    admin.close().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// ZooKeeper side

fn backend() -> WireBackend {
    WireBackend::new(ZkServer::shared().connect_string())
}

async fn connect() -> Zk {
    zk_testkit::Backend::connect(&backend()).await
}

fn lock_path() -> String {
    format!("/interop-{}/l", uuid::Uuid::new_v4())
}

fn with_naming(naming: Naming) -> LockOptions {
    LockOptions::new().naming(naming)
}

/// Creates the lock path as a persistent node when kazoo is one of the contenders, as kazoo's
/// own `Lock` would have.
///
/// kazoo ensures the lock path once per `Lock` object and never again, while zk-lock creates a
/// missing lock path as a container, which the server removes whenever it empties (see
/// `kazoo_lock_survives_an_idle_lock_path_that_zk_lock_created`). Without this, the other kazoo
/// tests would fail now and then on that, instead of checking what they are about.
async fn persistent_path_for(library: Library, zk: &Zk, path: &str) {
    if library == Library::Kazoo {
        zk.ensure_path(path).await.unwrap();
    }
}

/// True when `path` is gone within `limit` (its removal awaited with a watch).
async fn removed_within(zk: &Zk, path: &str, limit: Duration) -> bool {
    let removed = async {
        loop {
            let (stat, watch) = zk.watch_exists(path).await.unwrap();
            if stat.is_none() {
                return;
            }
            watch.await;
        }
    };
    tokio::time::timeout(limit, removed).await.is_ok()
}

/// Waits until `path` has at least `n` children and returns them.
async fn wait_for_children(zk: &Zk, path: &str, n: usize) -> Vec<String> {
    within_for(reply_timeout(), async {
        loop {
            match zk.watch_children(path).await {
                Ok((children, _, _)) if children.len() >= n => return children,
                Ok((_, _, watch)) => {
                    watch.await;
                }
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
    .await
}

/// The only child of `path` (the node of the one contender there).
async fn only_child(zk: &Zk, path: &str) -> String {
    let (children, _) = zk.get_children(path).await.unwrap();
    match children.as_slice() {
        [only] => only.clone(),
        other => panic!("expected one contender under {path}, found {other:?}"),
    }
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A ten-digit sequence suffix, as ZooKeeper appends it.
fn is_sequence(text: &str) -> bool {
    text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit())
}

/// kazoo's `<uuid4().hex><marker><seq>`, `marker` being `__lock__` or `__rlock__`.
fn is_kazoo_node(name: &str, marker: &str) -> bool {
    name.len() > 32
        && is_hex(&name[..32], 32)
        && name[32..].strip_prefix(marker).is_some_and(is_sequence)
}

/// Curator's protected `_c_<uuid>-<lock name><seq>`, `lock_name` being `lock-`, `__READ__` or
/// `__WRIT__`.
fn is_curator_node(name: &str, lock_name: &str) -> bool {
    let Some(rest) = name.strip_prefix("_c_") else {
        return false;
    };
    rest.len() > 37
        && uuid::Uuid::try_parse(&rest[..36]).is_ok()
        && rest[36..]
            .strip_prefix('-')
            .and_then(|r| r.strip_prefix(lock_name))
            .is_some_and(is_sequence)
}

/// zk-lock's native `<uuid simple>-<role>-<seq>`.
fn is_native_node(name: &str, role: &str) -> bool {
    name.len() > 32
        && is_hex(&name[..32], 32)
        && name[32..]
            .strip_prefix(&format!("-{role}-"))
            .is_some_and(is_sequence)
}

/// Waiters wake when the other library's holder releases: `library`'s reader queued behind our
/// writer, then our reader queued behind `library`'s writer.
async fn read_write_waiters_wake_across(library: Library, naming: Naming) {
    let path = lock_path();
    let zk = connect().await;
    persistent_path_for(library, &zk, &path).await;
    let rw = ReadWriteLock::with_options(zk.clone(), path.clone(), with_naming(naming));

    let ours = rw.write_lock().acquire().await.unwrap();
    let mut reader = start_helper(library, "hold", &path, "read", &[]);
    wait_for_children(&zk, &path, 2).await;
    ours.release().await.unwrap();
    reader.expect("held").await;
    assert!(
        rw.write_lock().try_acquire().await.unwrap().is_none(),
        "our writer got past {library:?}'s reader"
    );
    helper_release(reader).await;

    let writer = helper_hold(library, &path, "write").await;
    let read = rw.read_lock().clone();
    let waiting = tokio::spawn(async move { read.acquire().await.unwrap() });
    wait_for_children(&zk, &path, 2).await;
    assert!(
        !waiting.is_finished(),
        "our reader got past {library:?}'s writer"
    );
    helper_release(writer).await;
    let guard = within(waiting).await.unwrap();
    assert!(guard.is_shared());
    guard.release().await.unwrap();

    remove_root(&zk, &path).await;
    zk.close().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// kazoo

/// 2 kazoo `Lock` processes and 2 zk-lock tasks with `Naming::Kazoo` bump one counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_lock_and_zk_lock_keep_a_shared_counter_exact() {
    shared_counter(Library::Kazoo, "lock", 2, 2, 40, |zk, path| {
        Lock::with_options(zk, path, with_naming(Naming::Kazoo))
    })
    .await;
}

/// A kazoo `WriteLock` process and a zk-lock writer with `Naming::Kazoo` bump one counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_write_lock_and_zk_writer_keep_a_shared_counter_exact() {
    shared_counter(Library::Kazoo, "write", 1, 1, 40, |zk, path| {
        ReadWriteLock::with_options(zk, path, with_naming(Naming::Kazoo))
            .write_lock()
            .clone()
    })
    .await;
}

/// While zk-lock holds the lock with kazoo's names, kazoo's `acquire(blocking=False)` fails,
/// and while kazoo holds it our `try_acquire` finds it taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_and_zk_lock_try_acquire_fail_while_the_other_holds() {
    let path = lock_path();
    let zk = connect().await;
    persistent_path_for(Library::Kazoo, &zk, &path).await;
    let ours = Lock::with_options(zk.clone(), path.clone(), with_naming(Naming::Kazoo));

    let guard = ours.try_acquire().await.unwrap().expect("a free lock");
    let node = only_child(&zk, &path).await;
    assert!(is_kazoo_node(&node, "__lock__"), "our node {node}");
    assert!(
        !helper_try(Library::Kazoo, &path, "lock").await,
        "kazoo took the lock zk-lock holds"
    );
    guard.release().await.unwrap();
    assert!(
        helper_try(Library::Kazoo, &path, "lock").await,
        "kazoo takes the free lock"
    );

    let kazoo = helper_hold(Library::Kazoo, &path, "lock").await;
    let node = only_child(&zk, &path).await;
    assert!(is_kazoo_node(&node, "__lock__"), "kazoo's node {node}");
    assert!(
        ours.try_acquire().await.unwrap().is_none(),
        "zk-lock took the lock kazoo holds"
    );
    helper_release(kazoo).await;
    let guard = ours.try_acquire().await.unwrap().expect("free again");
    guard.release().await.unwrap();

    remove_root(&zk, &path).await;
    zk.close().await.unwrap();
}

/// `contenders()` lists kazoo's nodes and ours in one queue, ordered by sequence number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contenders_orders_kazoo_and_native_nodes_by_sequence() {
    let path = lock_path();
    let zk = connect().await;
    persistent_path_for(Library::Kazoo, &zk, &path).await;
    // kazoo holds; then a native waiter, a second kazoo waiter and a kazoo-named waiter queue
    // up, each after the previous one's node exists.
    let first = helper_hold(Library::Kazoo, &path, "lock").await;
    let native = Lock::new(connect().await, path.clone());
    let native_wait = tokio::spawn(async move { native.acquire().await.map(|_| ()) });
    wait_for_children(&zk, &path, 2).await;
    let second = start_helper(Library::Kazoo, "hold", &path, "lock", &[]);
    wait_for_children(&zk, &path, 3).await;
    let named = Lock::with_options(connect().await, path.clone(), with_naming(Naming::Kazoo));
    let named_wait = tokio::spawn(async move { named.acquire().await.map(|_| ()) });
    wait_for_children(&zk, &path, 4).await;

    let contenders = Lock::new(zk.clone(), path.clone())
        .contenders()
        .await
        .unwrap();
    let sequences: Vec<i32> = contenders.iter().map(|c| c.sequence).collect();
    assert!(
        sequences.windows(2).all(|w| w[0] < w[1]),
        "ordered by sequence: {contenders:?}"
    );
    let names: Vec<&str> = contenders.iter().map(|c| c.name.as_str()).collect();
    assert!(
        matches!(
            names.as_slice(),
            [a, b, c, d] if is_kazoo_node(a, "__lock__")
                && is_native_node(b, "lock")
                && is_kazoo_node(c, "__lock__")
                && is_kazoo_node(d, "__lock__")
        ),
        "kazoo, native, kazoo, kazoo-named in arrival order: {names:?}"
    );
    assert!(
        contenders
            .iter()
            .all(|c| c.kind == ContenderKind::Exclusive)
    );
    assert!(
        !native_wait.is_finished() && !named_wait.is_finished(),
        "both zk-lock waiters queue behind kazoo's holder"
    );

    // Stop every contender before removing the path, so none queues again.
    drop((first, second));
    for waiter in [native_wait, named_wait] {
        waiter.abort();
        assert!(waiter.await.unwrap_err().is_cancelled());
    }
    remove_root(&zk, &path).await;
    zk.close().await.unwrap();
}

/// kazoo's `WriteLock`/`ReadLock` and our `ReadWriteLock` with `Naming::Kazoo`: a kazoo writer
/// blocks our readers and writers, our writer blocks kazoo's readers and writers, and readers
/// of both share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_read_write_locks_and_zk_read_write_lock_exclude_each_other() {
    let path = lock_path();
    let zk = connect().await;
    persistent_path_for(Library::Kazoo, &zk, &path).await;
    let rw = ReadWriteLock::with_options(zk.clone(), path.clone(), with_naming(Naming::Kazoo));

    let writer = helper_hold(Library::Kazoo, &path, "write").await;
    assert!(is_kazoo_node(&only_child(&zk, &path).await, "__lock__"));
    assert!(
        rw.read_lock().try_acquire().await.unwrap().is_none(),
        "our reader got past kazoo's writer"
    );
    assert!(
        rw.write_lock().try_acquire().await.unwrap().is_none(),
        "our writer got past kazoo's writer"
    );
    helper_release(writer).await;

    let ours = rw.write_lock().try_acquire().await.unwrap().expect("free");
    assert!(is_kazoo_node(&only_child(&zk, &path).await, "__lock__"));
    let (read, write) = futures::join!(
        helper_try(Library::Kazoo, &path, "read"),
        helper_try(Library::Kazoo, &path, "write")
    );
    assert!(!read, "kazoo's reader got past our writer");
    assert!(!write, "kazoo's writer got past our writer");
    ours.release().await.unwrap();

    let ours = rw.read_lock().try_acquire().await.unwrap().expect("free");
    assert!(is_kazoo_node(&only_child(&zk, &path).await, "__rlock__"));
    // One after the other: a kazoo writer's node would block kazoo's reader.
    assert!(
        helper_try(Library::Kazoo, &path, "read").await,
        "kazoo's reader shares with ours"
    );
    assert!(
        !helper_try(Library::Kazoo, &path, "write").await,
        "kazoo's writer got past our reader"
    );
    ours.release().await.unwrap();

    let reader = helper_hold(Library::Kazoo, &path, "read").await;
    assert!(is_kazoo_node(&only_child(&zk, &path).await, "__rlock__"));
    let shared = rw.read_lock().try_acquire().await.unwrap();
    assert!(shared.is_some(), "our reader shares with kazoo's");
    assert!(
        rw.write_lock().try_acquire().await.unwrap().is_none(),
        "our writer got past kazoo's reader"
    );
    shared.unwrap().release().await.unwrap();
    helper_release(reader).await;

    remove_root(&zk, &path).await;
    zk.close().await.unwrap();
}

/// A kazoo `ReadLock` waiting behind our writer gets the lock when we release, and our reader
/// waiting behind a kazoo `WriteLock` gets it when kazoo releases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_and_zk_read_write_waiters_wake_when_the_other_releases() {
    read_write_waiters_wake_across(Library::Kazoo, Naming::Kazoo).await;
}

/// kazoo ensures the lock path once per `Lock` object (its `assured_path`) and never creates it
/// again, so a kazoo `Lock` kept for the life of a service needs the path to outlive idle spells.
/// zk-lock creates a missing lock path as a container, which the server deletes once it is
/// empty (every second on the test server, every minute by default); kazoo's next `acquire`
/// then fails with `NoNodeError`, and so does every later one on that `Lock`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kazoo_lock_survives_an_idle_lock_path_that_zk_lock_created() {
    let path = lock_path();
    let zk = connect().await;
    let ours = Lock::with_options(zk.clone(), path.clone(), with_naming(Naming::Kazoo));
    // zk-lock creates the path. kazoo queues behind it before it is ever empty, so the path
    // cannot be swept (and re-created by kazoo) in between.
    let guard = ours.acquire().await.unwrap();
    let mut kazoo = start_helper(Library::Kazoo, "serve", &path, "lock", &[]);
    kazoo.send("acquire");
    wait_for_children(&zk, &path, 2).await;
    guard.release().await.unwrap();
    kazoo.expect("held").await;
    kazoo.send("release");
    kazoo.expect("released").await;

    // The lock is idle, as between two uses in a service. A container goes at the next sweep.
    let swept = removed_within(&zk, &path, Duration::from_secs(3).mul_f64(scale())).await;
    kazoo.send("acquire");
    let answer = kazoo.next_line().await;
    assert_eq!(
        answer.as_deref(),
        Some("held"),
        "kazoo's second acquire on the path zk-lock created (the path was {}removed while \
         idle); kazoo's stderr:\n{}",
        if swept { "" } else { "not " },
        kazoo.stderr()
    );
    kazoo.send("release");
    kazoo.expect("released").await;
    kazoo.send("quit");
    kazoo.finish(reply_timeout()).await;

    remove_root(&zk, &path).await;
    zk.close().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Curator

/// 2 Curator `InterProcessMutex` processes and 2 zk-lock tasks with `Naming::Curator` bump one
/// counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_mutex_and_zk_lock_keep_a_shared_counter_exact() {
    shared_counter(Library::Curator, "lock", 2, 2, 40, |zk, path| {
        Lock::with_options(zk, path, with_naming(Naming::Curator))
    })
    .await;
}

/// A Curator `InterProcessReadWriteLock` writer process and a zk-lock writer with
/// `Naming::Curator` bump one counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_write_lock_and_zk_writer_keep_a_shared_counter_exact() {
    shared_counter(Library::Curator, "write", 1, 1, 40, |zk, path| {
        ReadWriteLock::with_options(zk, path, with_naming(Naming::Curator))
            .write_lock()
            .clone()
    })
    .await;
}

/// While zk-lock holds the lock with Curator's names, `InterProcessMutex.acquire(0, ms)`
/// returns false, and while Curator holds it our `try_acquire` finds it taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_and_zk_lock_try_acquire_fail_while_the_other_holds() {
    let path = lock_path();
    let zk = connect().await;
    let ours = Lock::with_options(zk.clone(), path.clone(), with_naming(Naming::Curator));

    let guard = ours.try_acquire().await.unwrap().expect("a free lock");
    let node = only_child(&zk, &path).await;
    assert!(is_curator_node(&node, "lock-"), "our node {node}");
    assert!(
        !helper_try(Library::Curator, &path, "lock").await,
        "Curator took the lock zk-lock holds"
    );
    guard.release().await.unwrap();
    assert!(
        helper_try(Library::Curator, &path, "lock").await,
        "Curator takes the free lock"
    );

    let curator = helper_hold(Library::Curator, &path, "lock").await;
    let node = only_child(&zk, &path).await;
    assert!(is_curator_node(&node, "lock-"), "Curator's node {node}");
    assert!(
        ours.try_acquire().await.unwrap().is_none(),
        "zk-lock took the lock Curator holds"
    );
    helper_release(curator).await;
    let guard = ours.try_acquire().await.unwrap().expect("free again");
    guard.release().await.unwrap();

    remove_root(&zk, &path).await;
    zk.close().await.unwrap();
}

/// Curator's `InterProcessReadWriteLock` and ours with `Naming::Curator`: a Curator writer
/// blocks our readers and writers, our writer blocks Curator's readers and writers, and
/// readers of both share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_read_write_lock_and_zk_read_write_lock_exclude_each_other() {
    let path = lock_path();
    let zk = connect().await;
    let rw = ReadWriteLock::with_options(zk.clone(), path.clone(), with_naming(Naming::Curator));

    let writer = helper_hold(Library::Curator, &path, "write").await;
    assert!(is_curator_node(&only_child(&zk, &path).await, "__WRIT__"));
    assert!(
        rw.read_lock().try_acquire().await.unwrap().is_none(),
        "our reader got past Curator's writer"
    );
    assert!(
        rw.write_lock().try_acquire().await.unwrap().is_none(),
        "our writer got past Curator's writer"
    );
    helper_release(writer).await;

    let ours = rw.write_lock().try_acquire().await.unwrap().expect("free");
    assert!(is_curator_node(&only_child(&zk, &path).await, "__WRIT__"));
    let (read, write) = futures::join!(
        helper_try(Library::Curator, &path, "read"),
        helper_try(Library::Curator, &path, "write")
    );
    assert!(!read, "Curator's reader got past our writer");
    assert!(!write, "Curator's writer got past our writer");
    ours.release().await.unwrap();

    let ours = rw.read_lock().try_acquire().await.unwrap().expect("free");
    assert!(is_curator_node(&only_child(&zk, &path).await, "__READ__"));
    // One after the other: a Curator writer's node would block Curator's reader.
    assert!(
        helper_try(Library::Curator, &path, "read").await,
        "Curator's reader shares with ours"
    );
    assert!(
        !helper_try(Library::Curator, &path, "write").await,
        "Curator's writer got past our reader"
    );
    ours.release().await.unwrap();

    let reader = helper_hold(Library::Curator, &path, "read").await;
    assert!(is_curator_node(&only_child(&zk, &path).await, "__READ__"));
    let shared = rw.read_lock().try_acquire().await.unwrap();
    assert!(shared.is_some(), "our reader shares with Curator's");
    assert!(
        rw.write_lock().try_acquire().await.unwrap().is_none(),
        "our writer got past Curator's reader"
    );
    shared.unwrap().release().await.unwrap();
    helper_release(reader).await;

    remove_root(&zk, &path).await;
    zk.close().await.unwrap();
}

/// A Curator reader waiting behind our writer gets the lock when we release, and our reader
/// waiting behind a Curator writer gets it when Curator releases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_and_zk_read_write_waiters_wake_when_the_other_releases() {
    read_write_waiters_wake_across(Library::Curator, Naming::Curator).await;
}

/// The node-name checks above accept what the libraries write and nothing looser.
#[test]
fn node_name_shapes() {
    let hex = "0123456789abcdef0123456789abcdef";
    assert!(is_kazoo_node(
        &format!("{hex}__lock__0000000003"),
        "__lock__"
    ));
    assert!(!is_kazoo_node(
        &format!("{hex}__lock__000000003"),
        "__lock__"
    ));
    assert!(!is_kazoo_node(
        &format!("{hex}__rlock__0000000003"),
        "__lock__"
    ));
    let id = "9b1d3f7e-0c4a-4f62-8a55-2e8f3c6d7b10";
    assert!(is_curator_node(
        &format!("_c_{id}-lock-0000000012"),
        "lock-"
    ));
    assert!(is_curator_node(
        &format!("_c_{id}-__READ__0000000012"),
        "__READ__"
    ));
    assert!(!is_curator_node(&format!("{id}-lock-0000000012"), "lock-"));
    assert!(is_native_node(&format!("{hex}-lock-0000000001"), "lock"));
    assert!(!is_native_node(&format!("{hex}__lock__0000000001"), "lock"));
}
