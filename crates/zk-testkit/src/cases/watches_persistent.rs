//! Persistent and persistent-recursive watches (`add_watch`).

use futures::StreamExt;
use zk_core::{
    Acl, AddWatchMode, CoordinatorExt, CreateOptions, EventType, Op, PersistentWatch, SessionState,
};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{assert_quiet, barrier, event, next, node, persistent, session, supports};
use crate::timing::within;

fn has_persistent_watches(backend: &dyn Backend) -> bool {
    supports(backend, |c| c.persistent_watches, "persistent watches")
}

/// A persistent watch on a node (which need not exist) reports its creation, every data change,
/// child creates and deletes, and its deletion (vector addwatch-persistent).
pub async fn persistent_watch_sees_node_events(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("pw");
    let kid = root.join("pw/c");
    let mut watch = zk.add_watch(&path, AddWatchMode::Persistent).await.unwrap();
    writer.create(&path, b"", &persistent()).await.unwrap();
    assert_eq!(next(&mut watch).await, node(EventType::NodeCreated, &path));
    writer.set_data(&path, b"1", None).await.unwrap();
    writer.set_data(&path, b"2", None).await.unwrap();
    assert_eq!(
        next(&mut watch).await,
        node(EventType::NodeDataChanged, &path)
    );
    assert_eq!(
        next(&mut watch).await,
        node(EventType::NodeDataChanged, &path)
    );
    writer.create(&kid, b"", &persistent()).await.unwrap();
    assert_eq!(
        next(&mut watch).await,
        node(EventType::NodeChildrenChanged, &path)
    );
    writer.delete(&kid, None).await.unwrap();
    assert_eq!(
        next(&mut watch).await,
        node(EventType::NodeChildrenChanged, &path)
    );
    writer.delete(&path, None).await.unwrap();
    assert_eq!(next(&mut watch).await, node(EventType::NodeDeleted, &path));
    barrier(&*zk, root.path()).await;
    assert_quiet(&mut watch, "after the node's deletion");
    root.finish().await;
}

/// A (non-recursive) persistent watch ignores grandchildren and children's data.
pub async fn persistent_watch_ignores_descendants(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("pw");
    let kid = root.join("pw/c");
    zk.create(&path, b"", &persistent()).await.unwrap();
    zk.create(&kid, b"", &persistent()).await.unwrap();
    let mut watch = zk.add_watch(&path, AddWatchMode::Persistent).await.unwrap();
    writer.set_data(&kid, b"x", None).await.unwrap();
    writer
        .create(&root.join("pw/c/d"), b"", &persistent())
        .await
        .unwrap();
    writer.delete(&root.join("pw/c/d"), None).await.unwrap();
    barrier(&*zk, &path).await;
    assert_quiet(&mut watch, "descendant changes");
    root.finish().await;
}

/// A recursive watch reports creates, data changes and deletes in the whole subtree, and
/// never `NodeChildrenChanged` (vector addwatch-persistent-recursive).
pub async fn recursive_watch_sees_the_subtree(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let tree = root.join("tree");
    let (a, b) = (root.join("tree/a"), root.join("tree/a/b"));
    let mut watch = zk
        .add_watch(&tree, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    writer.create(&tree, b"", &persistent()).await.unwrap();
    writer.create(&a, b"", &persistent()).await.unwrap();
    writer.create(&b, b"", &persistent()).await.unwrap();
    writer.set_data(&a, b"1", None).await.unwrap();
    writer.set_data(&a, b"2", None).await.unwrap();
    writer.delete(&b, None).await.unwrap();
    let expected = vec![
        node(EventType::NodeCreated, &tree),
        node(EventType::NodeCreated, &a),
        node(EventType::NodeCreated, &b),
        node(EventType::NodeDataChanged, &a),
        node(EventType::NodeDataChanged, &a),
        node(EventType::NodeDeleted, &b),
    ];
    for want in expected {
        assert_eq!(next(&mut watch).await, want);
    }
    barrier(&*zk, &tree).await;
    assert_quiet(&mut watch, "recursive watches get no NodeChildrenChanged");
    root.finish().await;
}

/// A recursive watch gets no `NodeChildrenChanged` even when the same session also holds a
/// one-shot child watch below it, which does get it (ZOOKEEPER-4475).
pub async fn recursive_watch_never_gets_children_changed(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let tree = root.join("tree");
    let dir = root.join("tree/dir");
    zk.create(&tree, b"", &persistent()).await.unwrap();
    zk.create(&dir, b"", &persistent()).await.unwrap();
    let mut watch = zk
        .add_watch(&tree, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let (_, _, child_watch) = zk.watch_children(&dir).await.unwrap();
    let kid = root.join("tree/dir/kid");
    writer.create(&kid, b"", &persistent()).await.unwrap();
    assert_eq!(
        event(child_watch).await,
        node(EventType::NodeChildrenChanged, &dir)
    );
    assert_eq!(next(&mut watch).await, node(EventType::NodeCreated, &kid));
    barrier(&*zk, &tree).await;
    assert_quiet(&mut watch, "no NodeChildrenChanged for the recursive watch");
    root.finish().await;
}

/// Every persistent watch of a session on a path gets each event.
pub async fn persistent_watches_fan_out(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, other, writer) = (
        root.session().await,
        root.session().await,
        root.session().await,
    );
    let path = root.join("n");
    let mut first = zk.add_watch(&path, AddWatchMode::Persistent).await.unwrap();
    let mut second = zk.add_watch(&path, AddWatchMode::Persistent).await.unwrap();
    let mut recursive = zk
        .add_watch(root.path(), AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let mut theirs = other
        .add_watch(&path, AddWatchMode::Persistent)
        .await
        .unwrap();
    writer.create(&path, b"", &persistent()).await.unwrap();
    let created = node(EventType::NodeCreated, &path);
    for watch in [&mut first, &mut second, &mut recursive, &mut theirs] {
        assert_eq!(next(watch).await, created);
    }
    root.finish().await;
}

/// `set_acl` fires nothing on persistent watches; a multi fires each op's events after the
/// transaction, in order.
pub async fn persistent_watch_set_acl_and_multi(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let tree = root.join("tree");
    zk.create(&tree, b"", &persistent()).await.unwrap();
    let mut watch = zk
        .add_watch(&tree, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    writer
        .set_acl(&tree, &Acl::open_unsafe(), None)
        .await
        .unwrap();
    barrier(&*zk, &tree).await;
    assert_quiet(&mut watch, "setACL");
    let (a, b) = (root.join("tree/a"), root.join("tree/b"));
    writer
        .multi(&[
            Op::create(a.clone(), Vec::new(), persistent()),
            Op::create(b.clone(), Vec::new(), persistent()),
            Op::set_data(tree.clone(), b"x".to_vec(), None),
        ])
        .await
        .unwrap();
    assert_eq!(next(&mut watch).await, node(EventType::NodeCreated, &a));
    assert_eq!(next(&mut watch).await, node(EventType::NodeCreated, &b));
    assert_eq!(
        next(&mut watch).await,
        node(EventType::NodeDataChanged, &tree)
    );
    root.finish().await;
}

/// A recursive watch sees an ephemeral node of another session vanish when that session closes.
pub async fn recursive_watch_sees_ephemeral_cleanup(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, owner) = (root.session().await, root.session().await);
    let tree = root.join("tree");
    zk.create(&tree, b"", &persistent()).await.unwrap();
    let mut watch = zk
        .add_watch(&tree, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let eph = root.join("tree/e");
    owner
        .create(&eph, b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    assert_eq!(next(&mut watch).await, node(EventType::NodeCreated, &eph));
    owner.close().await.unwrap();
    assert_eq!(next(&mut watch).await, node(EventType::NodeDeleted, &eph));
    root.finish().await;
}

/// When its session closes, a persistent watch yields a `Closed` session event, then ends.
pub async fn persistent_watch_ends_with_closed(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let mut watch = zk
        .add_watch(&root.join("n"), AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    zk.close().await.unwrap();
    assert_eq!(next(&mut watch).await, session(SessionState::Closed));
    assert_eq!(within(watch.next()).await, None, "the stream ends");
    // The session is gone; the admin session still sees the tree unharmed.
    assert!(
        root.admin()
            .get_if_exists(root.path())
            .await
            .unwrap()
            .is_some()
    );
    root.finish().await;
}

/// A session hears only of nodes it may read: the fix for CVE-2024-23944, in ZooKeeper 3.8.4+,
/// 3.9.2+ and patched 3.8.0 builds such as Debian's. Creating a node readable only by `alice`
/// reaches neither an anonymous session's recursive watch nor its exist watch on that path,
/// while an open sibling does.
pub async fn notifications_need_read_permission(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (alice, stranger) = (root.session().await, root.session().await);
    alice.add_auth("digest", b"alice:secret").await.unwrap();
    let (secret, public) = (root.join("secret"), root.join("public"));
    let mut stream = stranger
        .add_watch(root.path(), AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let (_, mut exist_watch) = stranger.watch_exists(&secret).await.unwrap();
    let only_alice = TestRoot::with_admin(vec![zk_core::Acl::new(
        zk_core::Perms::ALL,
        zk_core::Id::digest("alice", "secret"),
    )]);
    alice
        .create(&secret, b"", &persistent().with_acl(only_alice))
        .await
        .unwrap();
    alice.create(&public, b"", &persistent()).await.unwrap();
    assert_eq!(
        next(&mut stream).await,
        node(EventType::NodeCreated, &public)
    );
    barrier(&*stranger, root.path()).await;
    assert_quiet(&mut stream, "no event for an unreadable node");
    crate::support::assert_pending(&mut exist_watch, "exist watch on an unreadable node");
    root.finish().await;
}

/// A consumer that does not keep up never makes memory grow: once the watch's queue is full,
/// further events are dropped and the watch says so with one `Lagged` event, then yields what
/// it kept.
pub async fn a_slow_persistent_watch_reports_lag(backend: &dyn Backend) {
    if !has_persistent_watches(backend) {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let tree = root.join("lag");
    writer.create(&tree, b"", &persistent()).await.unwrap();
    let mut watch = zk
        .add_watch(&tree, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let paths: Vec<String> = (0..PersistentWatch::CAPACITY + 50)
        .map(|n| format!("{tree}/n{n}"))
        .collect();
    let options = persistent();
    for chunk in paths.chunks(500) {
        let creates = chunk.iter().map(|p| writer.create(p, b"", &options));
        for created in futures::future::join_all(creates).await {
            created.unwrap();
        }
    }
    // Every event has reached the watching session once its own sync returns.
    barrier(&*zk, &tree).await;
    assert_eq!(
        watch.try_next_event().map(|e| e.event_type),
        Some(EventType::Lagged)
    );
    let mut kept = 0;
    while let Some(event) = watch.try_next_event() {
        assert_eq!(event, node(EventType::NodeCreated, &paths[kept]));
        kept += 1;
    }
    assert_eq!(kept, PersistentWatch::CAPACITY);
    // Room again: the next event arrives, and the lag is not reported twice.
    writer.delete(&paths[0], None).await.unwrap();
    assert_eq!(
        next(&mut watch).await,
        node(EventType::NodeDeleted, &paths[0])
    );
    drop(watch);
    // Pipelined, as they were made: a node-by-node delete_all would take a round trip each.
    // (The first one is deleted already.)
    for chunk in paths[1..].chunks(500) {
        let deletes = chunk.iter().map(|p| writer.delete(p, None));
        for deleted in futures::future::join_all(deletes).await {
            deleted.unwrap();
        }
    }
    root.finish().await;
}
