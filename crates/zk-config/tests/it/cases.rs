//! Configuration behaviour written once, run against every backend (the fake and a real
//! server).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use zk_config::{ConfigError, ConfigStore, ConfigTree, Counter, TreeSnapshot, Watched};
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error};
use zk_testkit::Backend;
use zk_testkit::timing::within;

type Zk = Arc<dyn Coordinator>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Settings {
    level: String,
    workers: u32,
}

fn settings(level: &str, workers: u32) -> Settings {
    Settings {
        level: level.to_owned(),
        workers,
    }
}

fn base() -> String {
    format!("/config-{}", uuid::Uuid::new_v4())
}

fn store(zk: Zk, path: &str) -> ConfigStore<Zk, Settings> {
    ConfigStore::new(zk, path, settings("info", 1))
        .unwrap()
        .validate(|s: &Settings| {
            if s.workers == 0 {
                Err("workers must be positive".into())
            } else {
                Ok(())
            }
        })
}

/// Waits (bounded) until the watched value satisfies `done` (tokio's `wait_for`), and returns it.
async fn until_watched<T: Clone>(rx: &mut watch::Receiver<T>, done: impl FnMut(&T) -> bool) -> T {
    within(rx.wait_for(done))
        .await
        .expect("the watch ended")
        .clone()
}

pub(crate) async fn absent_reads_the_default_and_set_creates_parents(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let path = format!("{}/service/settings", base());
    let config = store(zk.clone(), &path);
    let absent = config.get().await.unwrap();
    assert_eq!(absent.value, settings("info", 1));
    assert_eq!(absent.version, None);

    let written = config.set(&settings("debug", 4)).await.unwrap();
    let read = config.get().await.unwrap();
    assert_eq!(read.value, settings("debug", 4));
    assert_eq!(read.version, Some(written));
    assert_eq!(written.data_version, 0);
    let (raw, _) = zk.get_data(&path).await.unwrap();
    assert_eq!(raw, br#"{"level":"debug","workers":4}"#, "JSON by default");

    // An empty node (as ensure_path leaves it) holds no value: the default, with a version.
    let empty = format!("{}/empty", base());
    zk.ensure_path(&empty).await.unwrap();
    let read = store(zk.clone(), &empty).get().await.unwrap();
    assert_eq!(read.value, settings("info", 1));
    assert_eq!(read.expected(), Some(0));
    assert!(config.delete(None).await.unwrap());
    assert_eq!(config.get().await.unwrap().version, None);
}

pub(crate) async fn compare_and_set_refuses_stale_versions_and_writes_nothing(
    backend: &dyn Backend,
) {
    let zk = backend.connect().await;
    let path = format!("{}/settings", base());
    let config = store(zk.clone(), &path);
    let first = config
        .compare_and_set(None, &settings("a", 1))
        .await
        .unwrap();
    let stale = config.compare_and_set(None, &settings("b", 2)).await;
    assert!(
        matches!(stale, Err(ConfigError::Conflict { expected: None, .. })),
        "{stale:?}"
    );
    let second = config
        .compare_and_set(Some(first.data_version), &settings("c", 3))
        .await
        .unwrap();
    assert!(second.mzxid > first.mzxid);
    let stale = config
        .compare_and_set(Some(first.data_version), &settings("d", 4))
        .await;
    assert!(
        matches!(
            stale,
            Err(ConfigError::Conflict {
                expected: Some(0),
                ..
            })
        ),
        "{stale:?}"
    );
    assert_eq!(config.get().await.unwrap().value, settings("c", 3));
    let wrong = config.delete(Some(first.data_version)).await;
    assert!(
        matches!(wrong, Err(ConfigError::Conflict { .. })),
        "{wrong:?}"
    );
}

pub(crate) async fn bad_values_are_refused_before_anything_is_written(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let path = format!("{}/settings", base());
    let config = store(zk.clone(), &path);
    config.set(&settings("info", 2)).await.unwrap();

    let invalid = config.set(&settings("info", 0)).await;
    assert!(
        matches!(invalid, Err(ConfigError::Invalid { .. })),
        "{invalid:?}"
    );
    // Over the server's 1 MiB packet limit: refused by the client, nothing sent.
    let huge = settings(&"x".repeat(1 << 20), 3);
    let too_large = config.set(&huge).await;
    assert!(
        matches!(
            too_large,
            Err(ConfigError::ZooKeeper(Error::TooLarge { .. }))
        ),
        "{too_large:?}"
    );
    let read = config.get().await.unwrap();
    assert_eq!(read.value, settings("info", 2));
    assert_eq!(read.expected(), Some(0), "nothing was written");

    // A foreign write that does not decode, or fails validation, is an error to `get`.
    zk.set_data(&path, b"\xff garbage", None).await.unwrap();
    assert!(matches!(
        config.get().await,
        Err(ConfigError::Decode { version: 1, .. })
    ));
    zk.set_data(&path, br#"{"level":"x","workers":0}"#, None)
        .await
        .unwrap();
    assert!(matches!(
        config.get().await,
        Err(ConfigError::Invalid { .. })
    ));
}

pub(crate) async fn eight_sessions_updating_never_lose_an_increment(backend: &dyn Backend) {
    const SESSIONS: usize = 8;
    const EACH: u32 = 25;
    let path = format!("{}/settings", base());
    let mut tasks = Vec::new();
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        let zk = backend.connect().await;
        sessions.push(zk.clone());
        let config = store(zk, &path);
        tasks.push(tokio::spawn(async move {
            for _ in 0..EACH {
                within(config.update(|s| settings(&s.level, s.workers + 1)))
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let total = store(sessions[0].clone(), &path).get().await.unwrap();
    assert_eq!(total.value.workers, 1 + SESSIONS as u32 * EACH);
    assert_eq!(
        total.expected(),
        Some(SESSIONS as i32 * EACH as i32 - 1),
        "one write per update"
    );
}

pub(crate) async fn a_watcher_follows_changes_and_keeps_the_last_good_value(backend: &dyn Backend) {
    let (writer, reader) = (backend.connect().await, backend.connect().await);
    let path = format!("{}/settings", base());
    let mut live = store(reader, &path).watch().await.unwrap();
    assert_eq!(live.borrow().current.value, settings("info", 1));
    assert_eq!(live.borrow().current.version, None);

    let config = store(writer.clone(), &path);
    let v1 = config.set(&settings("warn", 2)).await.unwrap();
    let seen = until_watched(&mut live, |w| w.current.version == Some(v1)).await;
    assert_eq!(seen.current.value, settings("warn", 2));

    // Someone writes garbage: reported, and the last good value stays current.
    let bad = writer.set_data(&path, b"{not json", None).await.unwrap();
    let seen = until_watched(&mut live, |w| w.rejected.is_some()).await;
    let rejected = seen.rejected.unwrap();
    assert_eq!(rejected.version.mzxid, bad.mzxid);
    assert_eq!(rejected.raw, b"{not json");
    assert_eq!(seen.current.value, settings("warn", 2));
    // ... then a value that decodes but fails validation.
    let invalid = writer
        .set_data(&path, br#"{"level":"x","workers":0}"#, None)
        .await
        .unwrap();
    let seen = until_watched(&mut live, |w: &Watched<Settings>| {
        w.rejected
            .as_ref()
            .is_some_and(|r| r.version.mzxid == invalid.mzxid)
    })
    .await;
    assert_eq!(seen.current.value, settings("warn", 2));
    assert!(seen.rejected.unwrap().reason.contains("positive"));

    // A good value replaces it and clears the refusal; deletion goes back to the default.
    let v2 = config.set(&settings("error", 3)).await.unwrap();
    let seen = until_watched(&mut live, |w| w.current.version == Some(v2)).await;
    assert_eq!(seen.rejected, None);
    config.delete(None).await.unwrap();
    let seen = until_watched(&mut live, |w| w.current.version.is_none()).await;
    assert_eq!(seen.current.value, settings("info", 1));
}

pub(crate) async fn a_watcher_converges_after_its_session_expires(backend: &dyn Backend) {
    let (writer, reader) = (backend.connect().await, backend.connect().await);
    let path = format!("{}/settings", base());
    let mut live = store(reader.clone(), &path).watch().await.unwrap();
    let config = store(writer, &path);
    config.set(&settings("a", 1)).await.unwrap();
    until_watched(&mut live, |w| w.current.value.level == "a").await;
    let old = reader.session_id();
    if !backend.expire_session(&*reader).await {
        panic!("{} cannot expire sessions", backend.name());
    }
    let last = config.set(&settings("b", 2)).await.unwrap();
    let seen = until_watched(&mut live, |w| w.current.version == Some(last)).await;
    assert_eq!(seen.current.value, settings("b", 2));
    within(async {
        while reader.session_id() == old {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

pub(crate) async fn counters_use_kazoo_and_curator_encodings(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let dir = base();
    let decimal = Counter::kazoo(zk.clone(), &format!("{dir}/decimal")).unwrap();
    assert_eq!(decimal.get().await.unwrap().value, 0);
    assert_eq!(decimal.add(41).await.unwrap(), 41);
    assert_eq!(decimal.add(1).await.unwrap(), 42);
    assert_eq!(
        zk.get_data(&format!("{dir}/decimal")).await.unwrap().0,
        b"42"
    );

    let shared = Counter::shared_count(zk.clone(), &format!("{dir}/shared")).unwrap();
    shared.add(-2).await.unwrap();
    assert_eq!(
        zk.get_data(&format!("{dir}/shared")).await.unwrap().0,
        [0xff, 0xff, 0xff, 0xfe]
    );
    let overflow = shared.add(i64::from(i32::MAX) + 10).await;
    assert!(
        matches!(overflow, Err(ConfigError::Encode { .. })),
        "{overflow:?}"
    );
    assert_eq!(shared.get().await.unwrap().value, -2, "nothing written");

    // kazoo's ensure_path leaves the node empty: it counts as 0.
    let empty = format!("{dir}/empty");
    zk.ensure_path(&empty).await.unwrap();
    assert_eq!(
        Counter::kazoo(zk.clone(), &empty)
            .unwrap()
            .add(5)
            .await
            .unwrap(),
        5
    );
    zk.set_data(&empty, b"5.5", None).await.unwrap();
    assert!(matches!(
        Counter::kazoo(zk, &empty).unwrap().get().await,
        Err(ConfigError::Decode { .. })
    ));
}

fn tree(zk: Zk, base: &str) -> ConfigTree<Zk, i64> {
    ConfigTree::new(zk, base).unwrap().validate(|n: &i64| {
        if *n >= 0 {
            Ok(())
        } else {
            Err("negative".into())
        }
    })
}

pub(crate) async fn tree_keys_are_checked_and_read_back(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let base = format!("{}/features", base());
    let features = tree(zk.clone(), &base);
    assert_eq!(features.keys().await.unwrap(), Vec::<String>::new());
    for bad in ["", "a/b", ".", "..", "nul\0"] {
        assert!(
            matches!(
                features.set(bad, &1).await,
                Err(ConfigError::InvalidKey { .. })
            ),
            "{bad:?}"
        );
    }
    features.set("b", &2).await.unwrap();
    features.set("a", &1).await.unwrap();
    assert_eq!(features.keys().await.unwrap(), ["a", "b"]);
    assert_eq!(features.get("a").await.unwrap().unwrap().value, 1);
    assert_eq!(features.get("zz").await.unwrap(), None);
    zk.create(
        &format!("{base}/junk"),
        b"\x00\x01",
        &CreateOptions::persistent(),
    )
    .await
    .unwrap();
    let snapshot = features.read().await.unwrap();
    assert_eq!(snapshot.get("a"), Some(&1));
    assert_eq!(snapshot.get("b"), Some(&2));
    assert!(snapshot.rejected.contains_key("junk"), "{snapshot:?}");
    assert!(features.delete("a", None).await.unwrap());
    assert!(!features.delete("a", None).await.unwrap());
}

pub(crate) async fn a_batch_with_a_stale_version_applies_nothing(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let base = format!("{}/limits", base());
    let limits = tree(zk.clone(), &base);
    // On a missing base node too: the batch creates it.
    limits
        .batch()
        .write("cpu", &2, None)
        .write("memory", &512, None)
        .commit()
        .await
        .unwrap();
    let cpu = limits.get("cpu").await.unwrap().unwrap();
    limits.set("memory", &1024).await.unwrap();
    let stale = limits
        .batch()
        .write("cpu", &4, cpu.expected())
        .write("memory", &2048, Some(0))
        .commit()
        .await;
    assert!(
        matches!(stale, Err(ConfigError::Conflict { .. })),
        "{stale:?}"
    );
    assert_eq!(
        limits.get("cpu").await.unwrap().unwrap().value,
        2,
        "all or nothing"
    );
    let invalid = limits
        .batch()
        .write("cpu", &-1, cpu.expected())
        .commit()
        .await;
    assert!(
        matches!(invalid, Err(ConfigError::Invalid { .. })),
        "{invalid:?}"
    );
    limits
        .batch()
        .write("cpu", &4, cpu.expected())
        .delete("memory", None)
        .check("disk", None)
        .commit()
        .await
        .unwrap();
    assert_eq!(limits.keys().await.unwrap(), ["cpu"]);
}

pub(crate) async fn concurrent_multi_key_updates_keep_the_invariant(backend: &dyn Backend) {
    const SESSIONS: usize = 4;
    const MOVES: usize = 20;
    let base = format!("{}/accounts", base());
    let mut sessions = Vec::new();
    for _ in 0..SESSIONS {
        sessions.push(backend.connect().await);
    }
    let accounts = tree(sessions[0].clone(), &base);
    accounts.set("a", &100).await.unwrap();
    accounts.set("b", &100).await.unwrap();
    let tasks: Vec<_> = sessions
        .iter()
        .enumerate()
        .map(|(i, zk)| {
            let accounts = tree(zk.clone(), &base);
            tokio::spawn(async move {
                let (from, to) = if i % 2 == 0 { ("a", "b") } else { ("b", "a") };
                for _ in 0..MOVES {
                    within(accounts.update(&["a", "b", "moves"], |now| {
                        let mut next = BTreeMap::new();
                        next.insert(from.to_owned(), Some(now[from] - 1));
                        next.insert(to.to_owned(), Some(now[to] + 1));
                        next.insert(
                            "moves".to_owned(),
                            Some(now.get("moves").copied().unwrap_or(0) + 1),
                        );
                        next
                    }))
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let stray = accounts
        .update(&["a", "a"], |_| BTreeMap::from([("b".to_owned(), Some(1))]))
        .await;
    assert!(
        matches!(stray, Err(ConfigError::InvalidKey { .. })),
        "only keys read may change: {stray:?}"
    );
    let end: TreeSnapshot<i64> = accounts.read().await.unwrap();
    assert_eq!(end.get("a").unwrap() + end.get("b").unwrap(), 200);
    assert_eq!(
        end.get("moves"),
        Some(&((SESSIONS * MOVES) as i64)),
        "no update lost"
    );
}

pub(crate) async fn a_tree_watcher_sees_the_map_and_keeps_good_values(backend: &dyn Backend) {
    let (writer, reader) = (backend.connect().await, backend.connect().await);
    let base = format!("{}/flags", base());
    let flags = tree(writer.clone(), &base);
    flags.set("x", &1).await.unwrap();
    let mut live = tree(reader, &base).watch().await.unwrap();
    assert_eq!(live.borrow().get("x"), Some(&1));

    flags
        .batch()
        .write("y", &2, None)
        .write("z", &3, None)
        .commit()
        .await
        .unwrap();
    until_watched(&mut live, |s| s.values.len() == 3).await;
    writer
        .set_data(&format!("{base}/x"), b"-5", None)
        .await
        .unwrap();
    let seen = until_watched(&mut live, |s| s.rejected.contains_key("x")).await;
    assert_eq!(seen.get("x"), Some(&1), "the last good value stays");
    flags.delete("y", None).await.unwrap();
    flags.set("x", &7).await.unwrap();
    let seen = until_watched(&mut live, |s| {
        s.get("x") == Some(&7) && s.get("y").is_none()
    })
    .await;
    assert!(seen.rejected.is_empty());
    assert_eq!(seen.get("z"), Some(&3));
}

zk_testkit::recipe_suite! {
    /// Stamps every configuration case for one backend:
    /// `config_cases!(backend = ..., time = paused | real)`.
    macro config_cases;
    module = crate::cases;
    source = include_str!("cases.rs");
    cases = [
        absent_reads_the_default_and_set_creates_parents,
        compare_and_set_refuses_stale_versions_and_writes_nothing,
        bad_values_are_refused_before_anything_is_written,
        eight_sessions_updating_never_lose_an_increment,
        a_watcher_follows_changes_and_keeps_the_last_good_value,
        a_watcher_converges_after_its_session_expires,
        counters_use_kazoo_and_curator_encodings,
        tree_keys_are_checked_and_read_back,
        a_batch_with_a_stale_version_applies_nothing,
        concurrent_multi_key_updates_keep_the_invariant,
        a_tree_watcher_sees_the_map_and_keeps_good_values,
    ];
}
