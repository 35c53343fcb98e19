//! Tree and node caches, written once, run against every backend (the fake and a real server).

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use zk_cache::{NodeCache, TreeCache, TreeCacheOptions, TreeEvent, TreeEvents, WatchMode};
use zk_core::path::join;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions};
use zk_testkit::Backend;
use zk_testkit::timing::within;

type Zk = Arc<dyn Coordinator>;

fn root() -> String {
    format!("/trees-{}", uuid::Uuid::new_v4())
}

/// The subtree at `root` as a fresh walk reads it after a `sync` (so a session connected to
/// another ensemble member sees every write made before): path -> data.
pub(crate) async fn fresh_read(zk: &dyn Coordinator, root: &str) -> BTreeMap<String, Vec<u8>> {
    zk.sync(root).await.unwrap();
    let mut tree = BTreeMap::new();
    let mut todo = vec![root.to_owned()];
    while let Some(path) = todo.pop() {
        let Some((data, _)) = zk.get_if_exists(&path).await.unwrap() else {
            continue;
        };
        tree.insert(path.clone(), data);
        if let Ok((children, _)) = zk.get_children(&path).await {
            todo.extend(children.iter().map(|c| join(&path, c)));
        }
    }
    tree
}

fn cached(cache: &TreeCache) -> BTreeMap<String, Vec<u8>> {
    cache
        .snapshot()
        .into_iter()
        .map(|(path, node)| (path, node.data))
        .collect()
}

/// Waits (bounded) until the cache equals a fresh read of its subtree, reading again after
/// each event.
async fn settles(cache: &TreeCache, events: &mut TreeEvents, zk: &Zk) {
    within(async {
        loop {
            if cached(cache) == fresh_read(zk.as_ref(), cache.root()).await {
                return;
            }
            events.next().await.expect("the cache stopped");
        }
    })
    .await;
}

/// Creates `paths` (with parents) holding their own names.
async fn make(zk: &Zk, paths: &[String]) {
    for path in paths {
        zk.create_with_parents(path, path.as_bytes(), &CreateOptions::persistent())
            .await
            .unwrap();
    }
}

async fn clean_up(root: &str, sessions: Vec<Zk>) {
    sessions[0].delete_all(root).await.unwrap();
    for zk in sessions {
        zk.close().await.unwrap();
    }
}

pub(crate) async fn a_tree_cache_loads_then_follows_every_change(backend: &dyn Backend) {
    a_tree_cache_loads_then_follows_every_change_with(backend, WatchMode::OneShot).await;
}

/// The same with one persistent recursive watch.
pub(crate) async fn a_tree_cache_loads_then_follows_every_change_recursively(
    backend: &dyn Backend,
) {
    a_tree_cache_loads_then_follows_every_change_with(backend, WatchMode::PersistentRecursive)
        .await;
}

async fn a_tree_cache_loads_then_follows_every_change_with(backend: &dyn Backend, mode: WatchMode) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    let paths: Vec<String> = ["a", "a/x", "a/y", "b", "b/z/deep"]
        .iter()
        .map(|p| format!("{root}/{p}"))
        .collect();
    make(&writer, &paths).await;
    let (cache, mut events) =
        TreeCache::start(zk.clone(), &root, TreeCacheOptions::new().watch_mode(mode)).unwrap();
    within(cache.initialized()).await.unwrap();
    assert_eq!(cached(&cache), fresh_read(writer.as_ref(), &root).await);
    assert_eq!(cache.children(&format!("{root}/a")).unwrap(), ["x", "y"]);
    // The initial load: one Added per node, then Initialized.
    let mut added = 0;
    loop {
        match within(events.next()).await.unwrap() {
            TreeEvent::Added { .. } => added += 1,
            TreeEvent::Initialized => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(added, cache.len());

    writer.set_data(&paths[1], b"changed", None).await.unwrap();
    writer
        .create(&format!("{root}/c"), b"new", &CreateOptions::persistent())
        .await
        .unwrap();
    writer.delete_all(&format!("{root}/b")).await.unwrap();
    settles(&cache, &mut events, &writer).await;
    assert_eq!(cache.get(&paths[1]).unwrap().data, b"changed");
    assert!(cache.get(&format!("{root}/b/z")).is_none());
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn removals_come_children_first(backend: &dyn Backend) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    make(&writer, &[format!("{root}/p/q")]).await;
    let (cache, _) = TreeCache::start(zk.clone(), &root, TreeCacheOptions::new()).unwrap();
    within(cache.initialized()).await.unwrap();
    let mut events = cache.subscribe();
    writer.delete(&format!("{root}/p/q"), None).await.unwrap();
    writer
        .set_data(&format!("{root}/p"), b"2", None)
        .await
        .unwrap();
    writer.delete(&format!("{root}/p"), None).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 || !seen.contains(&format!("-{root}/p")) {
        match within(events.next()).await.unwrap() {
            TreeEvent::Removed { path, .. } => seen.push(format!("-{path}")),
            TreeEvent::Updated { path, .. } => seen.push(format!("~{path}")),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen.first().unwrap(), &format!("-{root}/p/q"));
    assert_eq!(seen.last().unwrap(), &format!("-{root}/p"));
    assert_eq!(cache.len(), 1, "the root is left");
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn a_missing_root_fills_when_created_and_empties_when_deleted(
    backend: &dyn Backend,
) {
    a_missing_root_fills_when_created_and_empties_when_deleted_with(backend, WatchMode::OneShot)
        .await;
}

/// The same with one persistent recursive watch.
pub(crate) async fn a_missing_root_fills_when_created_and_empties_when_deleted_recursively(
    backend: &dyn Backend,
) {
    a_missing_root_fills_when_created_and_empties_when_deleted_with(
        backend,
        WatchMode::PersistentRecursive,
    )
    .await;
}

async fn a_missing_root_fills_when_created_and_empties_when_deleted_with(
    backend: &dyn Backend,
    mode: WatchMode,
) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    let (cache, mut events) =
        TreeCache::start(zk.clone(), &root, TreeCacheOptions::new().watch_mode(mode)).unwrap();
    within(cache.initialized()).await.unwrap();
    assert!(cache.is_empty());
    make(&writer, &[format!("{root}/k")]).await;
    settles(&cache, &mut events, &writer).await;
    assert_eq!(cache.len(), 2);
    writer.delete_all(&root).await.unwrap();
    settles(&cache, &mut events, &writer).await;
    assert!(cache.is_empty());
    // And again: the exist watch was set once more.
    make(&writer, std::slice::from_ref(&root)).await;
    settles(&cache, &mut events, &writer).await;
    assert_eq!(cache.len(), 1);
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn depth_and_filter_bound_what_is_cached(backend: &dyn Backend) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    let paths: Vec<String> = ["keep/one/two", "skip/x"]
        .iter()
        .map(|p| format!("{root}/{p}"))
        .collect();
    make(&writer, &paths).await;
    let options = TreeCacheOptions::new()
        .max_depth(2)
        .filter(|path| !path.contains("/skip"));
    let (cache, _) = TreeCache::start(zk.clone(), &root, options).unwrap();
    within(cache.initialized()).await.unwrap();
    let keys: Vec<String> = cache.snapshot().into_keys().collect();
    assert_eq!(
        keys,
        [
            root.clone(),
            format!("{root}/keep"),
            format!("{root}/keep/one")
        ]
    );
    assert_eq!(
        cache.children(&format!("{root}/keep/one")).unwrap(),
        Vec::<String>::new(),
        "depth 2 lists nothing"
    );
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn a_node_cache_follows_one_node(backend: &dyn Backend) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    let (cache, mut events) = NodeCache::start(zk.clone(), &root).unwrap();
    within(cache.initialized()).await.unwrap();
    assert_eq!(cache.get(), None);
    writer
        .create(&root, b"1", &CreateOptions::persistent())
        .await
        .unwrap();
    writer
        .create(&format!("{root}/child"), b"", &CreateOptions::persistent())
        .await
        .unwrap();
    writer.set_data(&root, b"2", None).await.unwrap();
    within(async {
        while cache.get().map(|n| n.data) != Some(b"2".to_vec()) {
            events.next().await.unwrap();
        }
    })
    .await;
    writer.delete_all(&root).await.unwrap();
    within(async {
        while cache.get().is_some() {
            events.next().await.unwrap();
        }
    })
    .await;
    writer.close().await.unwrap();
    zk.close().await.unwrap();
}

pub(crate) async fn after_expiry_the_cache_resyncs_and_reports_only_differences(
    backend: &dyn Backend,
) {
    after_expiry_the_cache_resyncs_and_reports_only_differences_with(backend, WatchMode::OneShot)
        .await;
}

/// The same with one persistent recursive watch.
pub(crate) async fn after_expiry_the_cache_resyncs_and_reports_only_differences_recursively(
    backend: &dyn Backend,
) {
    after_expiry_the_cache_resyncs_and_reports_only_differences_with(
        backend,
        WatchMode::PersistentRecursive,
    )
    .await;
}

async fn after_expiry_the_cache_resyncs_and_reports_only_differences_with(
    backend: &dyn Backend,
    mode: WatchMode,
) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    let stable: Vec<String> = (0..5).map(|n| format!("{root}/n{n}")).collect();
    make(&writer, &stable).await;
    let (cache, _) =
        TreeCache::start(zk.clone(), &root, TreeCacheOptions::new().watch_mode(mode)).unwrap();
    within(cache.initialized()).await.unwrap();
    let mut events = cache.subscribe();
    let old = zk.session_id();
    assert!(
        backend.expire_session(zk.as_ref()).await,
        "{} cannot expire sessions",
        backend.name()
    );
    let added = format!("{root}/after");
    writer
        .create(&added, b"", &CreateOptions::persistent())
        .await
        .unwrap();
    within(async {
        while zk.session_id() == old || cache.get(&added).is_none() {
            events.next().await.unwrap();
        }
    })
    .await;
    // Drain what is queued: nothing about the nodes that did not change.
    settles(&cache, &mut events, &writer).await;
    let mut reported = Vec::new();
    while let Some(Some(event)) = futures::FutureExt::now_or_never(events.next()) {
        reported.push(event);
    }
    for event in &reported {
        if let TreeEvent::Added { path, .. } | TreeEvent::Removed { path, .. } = event {
            assert!(
                !stable.contains(path),
                "an unchanged node was reported: {event:?}"
            );
        }
    }
    // The new session's watches work.
    writer.set_data(&stable[0], b"later", None).await.unwrap();
    settles(&cache, &mut events, &writer).await;
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn closing_the_handle_stops_the_cache(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let root = root();
    let (cache, mut events) = TreeCache::start(zk.clone(), &root, TreeCacheOptions::new()).unwrap();
    within(cache.initialized()).await.unwrap();
    zk.close().await.unwrap();
    within(async { while events.next().await.is_some() {} }).await;
    assert_eq!(
        within(cache.initialized()).await,
        Err(zk_core::Error::Closed)
    );
}

zk_testkit::recipe_suite! {
    /// Stamps every tree cache case for one backend: `tree_cases!(backend = ..., time = paused | real)`.
    macro tree_cases;
    module = crate::tree_cases;
    source = include_str!("tree_cases.rs");
    cases = [
        a_tree_cache_loads_then_follows_every_change,
        a_tree_cache_loads_then_follows_every_change_recursively,
        removals_come_children_first,
        a_missing_root_fills_when_created_and_empties_when_deleted,
        a_missing_root_fills_when_created_and_empties_when_deleted_recursively,
        depth_and_filter_bound_what_is_cached,
        a_node_cache_follows_one_node,
        after_expiry_the_cache_resyncs_and_reports_only_differences,
        after_expiry_the_cache_resyncs_and_reports_only_differences_recursively,
        closing_the_handle_stops_the_cache,
    ];
}
