//! Container and TTL nodes: their Stat, and the server's background sweeper.

use std::time::Duration;

use zk_core::{CreateMode, CreateOptions, Error, EventType, Op, OpResult};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{event, node, persistent, supports};

fn ttl(millis: u64) -> CreateOptions {
    CreateOptions::new(CreateMode::PersistentWithTtl).with_ttl(Duration::from_millis(millis))
}

/// A container reports `ephemeralOwner` 0 and a normal fresh Stat.
pub async fn container_reports_zero_owner(backend: &dyn Backend) {
    if !supports(backend, |c| c.containers, "containers") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("box");
    let created = zk
        .create(&path, b"c", &CreateOptions::container())
        .await
        .unwrap();
    assert_eq!(created.path, path);
    assert_eq!(created.stat.ephemeral_owner, 0);
    assert!(!created.stat.is_ephemeral());
    assert_eq!((created.stat.version, created.stat.data_length), (0, 1));
    assert_eq!(zk.exists(&path).await.unwrap(), Some(created.stat));
    root.finish().await;
}

/// Once its last child is gone, a container is deleted by the server's sweeper, and watchers
/// see `NodeDeleted` (vector create-container).
pub async fn emptied_container_is_swept(backend: &dyn Backend) {
    if !supports(backend, |c| c.containers, "containers") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, watcher) = (root.session().await, root.session().await);
    let path = root.join("box");
    zk.create(&path, b"", &CreateOptions::container())
        .await
        .unwrap();
    zk.create(&format!("{path}/item"), b"", &persistent())
        .await
        .unwrap();
    let (stat, watch) = watcher.watch_exists(&path).await.unwrap();
    assert_eq!(stat.expect("container exists").num_children, 1);
    zk.delete(&format!("{path}/item"), None).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeDeleted, &path));
    assert!(watcher.exists(&path).await.unwrap().is_none());
    let err = zk
        .create(&format!("{path}/late"), b"", &persistent())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoNode { .. }), "{err:?}");
    root.finish().await;
}

/// A container that never had a child is not swept (checked once a used one was).
pub async fn unused_container_is_kept(backend: &dyn Backend) {
    if !supports(backend, |c| c.containers, "containers") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let unused = root.join("unused");
    let used = root.join("used");
    zk.create(&unused, b"", &CreateOptions::container())
        .await
        .unwrap();
    zk.create(&used, b"", &CreateOptions::container())
        .await
        .unwrap();
    zk.create(&format!("{used}/x"), b"", &persistent())
        .await
        .unwrap();
    let (_, watch) = zk.watch_exists(&used).await.unwrap();
    zk.delete(&format!("{used}/x"), None).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeDeleted, &used));
    assert!(
        zk.exists(&unused).await.unwrap().is_some(),
        "a never-used container survives the sweep"
    );
    root.finish().await;
}

/// A container may hold ephemeral children; when their session ends, the container is swept.
pub async fn container_swept_after_ephemeral_child_goes(backend: &dyn Backend) {
    if !supports(backend, |c| c.containers, "containers") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, member) = (root.session().await, root.session().await);
    let group = root.join("group");
    zk.create(&group, b"", &CreateOptions::container())
        .await
        .unwrap();
    member
        .create(
            &format!("{group}/m-"),
            b"",
            &CreateOptions::ephemeral_sequential(),
        )
        .await
        .unwrap();
    let (_, watch) = zk.watch_exists(&group).await.unwrap();
    member.close().await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeDeleted, &group));
    root.finish().await;
}

/// TTL nodes report `ephemeralOwner` 0; sequential TTL nodes get a suffix.
pub async fn ttl_nodes_report_zero_owner(backend: &dyn Backend) {
    if !supports(backend, |c| c.ttl, "TTL nodes") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("ttl");
    let created = zk.create(&path, b"t", &ttl(3_600_000)).await.unwrap();
    assert_eq!(created.path, path);
    assert_eq!(created.stat.ephemeral_owner, 0);
    assert_eq!(created.stat.data_length, 1);
    let options = CreateOptions::new(CreateMode::PersistentSequentialWithTtl)
        .with_ttl(Duration::from_secs(3600));
    let seq = zk.create(&root.join("s-"), b"", &options).await.unwrap();
    assert_eq!(seq.path, root.join("s-0000000001"));
    assert_eq!(seq.stat.ephemeral_owner, 0);
    root.finish().await;
}

/// A TTL node without children that is not modified for its TTL is swept, with `NodeDeleted`.
pub async fn ttl_node_expires(backend: &dyn Backend) {
    if !supports(backend, |c| c.ttl, "TTL nodes") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, watcher) = (root.session().await, root.session().await);
    let path = root.join("short");
    zk.create(&path, b"", &ttl(200)).await.unwrap();
    let (stat, watch) = watcher.watch_exists(&path).await.unwrap();
    assert!(stat.is_some());
    assert_eq!(event(watch).await, node(EventType::NodeDeleted, &path));
    assert!(watcher.exists(&path).await.unwrap().is_none());
    root.finish().await;
}

/// A TTL node with children is kept after its TTL (checked once a childless one was swept).
pub async fn ttl_node_with_children_is_kept(backend: &dyn Backend) {
    if !supports(backend, |c| c.ttl, "TTL nodes") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("parent");
    let lonely = root.join("lonely");
    zk.create(&parent, b"", &ttl(200)).await.unwrap();
    zk.create(&format!("{parent}/kid"), b"", &persistent())
        .await
        .unwrap();
    zk.create(&lonely, b"", &ttl(200)).await.unwrap();
    let (_, watch) = zk.watch_exists(&lonely).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeDeleted, &lonely));
    let stat = zk.exists(&parent).await.unwrap();
    assert_eq!(
        stat.map(|s| s.num_children),
        Some(1),
        "a TTL node with a child is kept"
    );
    root.finish().await;
}

/// Container and TTL creates inside a multi return the new node's Stat.
pub async fn container_and_ttl_creates_in_multi(backend: &dyn Backend) {
    if !supports(
        backend,
        |c| c.containers && c.ttl,
        "containers and TTL nodes",
    ) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let (boxed, timed) = (root.join("box"), root.join("timed"));
    let results = zk
        .multi(&[
            Op::create(boxed.clone(), Vec::new(), CreateOptions::container()),
            Op::create(timed.clone(), Vec::new(), ttl(3_600_000)),
        ])
        .await
        .unwrap();
    for (result, path) in results.iter().zip([&boxed, &timed]) {
        match result {
            OpResult::Create {
                path: created,
                stat: Some(stat),
            } => {
                assert_eq!(created, path);
                assert_eq!(stat.ephemeral_owner, 0);
            }
            other => panic!("expected a create result with a Stat, got {other:?}"),
        }
    }
    let (a, b) = (
        zk.exists(&boxed).await.unwrap().unwrap(),
        zk.exists(&timed).await.unwrap().unwrap(),
    );
    assert_eq!(a.czxid, b.czxid);
    root.finish().await;
}
