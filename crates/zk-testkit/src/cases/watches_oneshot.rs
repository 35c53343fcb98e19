//! One-shot data, exist and child watches: what fires them, fan-out, and session ends.

use zk_core::{Acl, CoordinatorExt, CreateOptions, Error, EventType, Op, SessionState};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{assert_pending, barrier, event, node, persistent, session};

/// A data watch fires `NodeDataChanged` when another session sets the data.
pub async fn data_watch_fires_on_set_data(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("w");
    zk.create(&path, b"v1", &persistent()).await.unwrap();
    let (data, stat, watch) = zk.watch_data(&path).await.unwrap();
    assert_eq!((data.as_slice(), stat.version), (&b"v1"[..], 0));
    writer.set_data(&path, b"v2", None).await.unwrap();
    let fired = event(watch).await;
    assert_eq!(fired, node(EventType::NodeDataChanged, &path));
    assert_eq!(fired.state, SessionState::SyncConnected);
    root.finish().await;
}

/// A data watch fires `NodeDeleted` when the node is deleted.
pub async fn data_watch_fires_on_delete(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("w");
    zk.create(&path, b"", &persistent()).await.unwrap();
    let (_, _, watch) = zk.watch_data(&path).await.unwrap();
    writer.delete(&path, None).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeDeleted, &path));
    root.finish().await;
}

/// Standard watches are one-shot: after firing, a new watch is needed, and it reports only
/// changes made after it was set.
pub async fn oneshot_watch_needs_rearming(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("w");
    zk.create(&path, b"0", &persistent()).await.unwrap();
    let (_, _, first) = zk.watch_data(&path).await.unwrap();
    writer.set_data(&path, b"1", None).await.unwrap();
    writer.set_data(&path, b"2", None).await.unwrap();
    assert_eq!(event(first).await, node(EventType::NodeDataChanged, &path));
    barrier(&*zk, &path).await;
    let (data, stat, mut second) = zk.watch_data(&path).await.unwrap();
    assert_eq!((data.as_slice(), stat.version), (&b"2"[..], 2));
    barrier(&*zk, &path).await;
    assert_pending(&mut second, "no change since the watch was set");
    writer.set_data(&path, b"3", None).await.unwrap();
    assert_eq!(event(second).await, node(EventType::NodeDataChanged, &path));
    root.finish().await;
}

/// A change made by the watching session itself is notified before that session's write
/// returns (ZooKeeper delivers the notification before the reply).
pub async fn own_write_notifies_before_its_reply(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("self");
    zk.create(&path, b"", &persistent()).await.unwrap();
    let (_, _, mut data_watch) = zk.watch_data(&path).await.unwrap();
    let (_, _, mut child_watch) = zk.watch_children(&path).await.unwrap();
    zk.set_data(&path, b"x", None).await.unwrap();
    assert_eq!(
        data_watch.try_event(),
        Some(node(EventType::NodeDataChanged, &path))
    );
    zk.create(&format!("{path}/kid"), b"", &persistent())
        .await
        .unwrap();
    assert_eq!(
        child_watch.try_event(),
        Some(node(EventType::NodeChildrenChanged, &path))
    );
    root.finish().await;
}

/// An exist watch on a missing node fires `NodeCreated`.
pub async fn exist_watch_fires_on_create(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("later");
    let (stat, watch) = zk.watch_exists(&path).await.unwrap();
    assert_eq!(stat, None);
    writer.create(&path, b"", &persistent()).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeCreated, &path));
    root.finish().await;
}

/// An exist watch on an existing node fires `NodeDataChanged` and (re-armed) `NodeDeleted`.
pub async fn exist_watch_on_existing_node(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("n");
    zk.create(&path, b"", &persistent()).await.unwrap();
    let (stat, watch) = zk.watch_exists(&path).await.unwrap();
    assert_eq!(stat.expect("exists").version, 0);
    writer.set_data(&path, b"x", None).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeDataChanged, &path));
    let (stat, watch) = zk.watch_exists(&path).await.unwrap();
    assert_eq!(stat.expect("exists").version, 1);
    writer.delete(&path, None).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeDeleted, &path));
    root.finish().await;
}

/// A child watch fires `NodeChildrenChanged` on the parent when a child is created.
pub async fn child_watch_fires_on_child_create(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let dir = root.join("dir");
    zk.create(&dir, b"", &persistent()).await.unwrap();
    let (children, _, watch) = zk.watch_children(&dir).await.unwrap();
    assert!(children.is_empty());
    writer
        .create(
            &format!("{dir}/n-"),
            b"",
            &CreateOptions::ephemeral_sequential(),
        )
        .await
        .unwrap();
    assert_eq!(
        event(watch).await,
        node(EventType::NodeChildrenChanged, &dir)
    );
    root.finish().await;
}

/// A child watch fires `NodeChildrenChanged` when a child is deleted, and `NodeDeleted` when
/// the watched node itself is deleted.
pub async fn child_watch_fires_on_deletes(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let dir = root.join("dir");
    zk.create(&dir, b"", &persistent()).await.unwrap();
    zk.create(&format!("{dir}/kid"), b"", &persistent())
        .await
        .unwrap();
    let (children, _, watch) = zk.watch_children(&dir).await.unwrap();
    assert_eq!(children, vec!["kid"]);
    writer.delete(&format!("{dir}/kid"), None).await.unwrap();
    assert_eq!(
        event(watch).await,
        node(EventType::NodeChildrenChanged, &dir)
    );
    let (_, _, watch) = zk.watch_children(&dir).await.unwrap();
    writer.delete(&dir, None).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeDeleted, &dir));
    root.finish().await;
}

/// A child watch ignores data changes of the node and of its children.
pub async fn child_watch_ignores_data_changes(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let dir = root.join("dir");
    let kid = root.join("dir/kid");
    zk.create(&dir, b"", &persistent()).await.unwrap();
    zk.create(&kid, b"", &persistent()).await.unwrap();
    let (_, _, mut watch) = zk.watch_children(&dir).await.unwrap();
    writer.set_data(&dir, b"x", None).await.unwrap();
    writer.set_data(&kid, b"y", None).await.unwrap();
    writer
        .create(&format!("{kid}/grandchild"), b"", &persistent())
        .await
        .unwrap();
    barrier(&*zk, &dir).await;
    assert_pending(&mut watch, "data changes and grandchildren");
    writer.delete_all(&kid).await.unwrap();
    assert_eq!(
        event(watch).await,
        node(EventType::NodeChildrenChanged, &dir)
    );
    root.finish().await;
}

/// Data and exist watches ignore child changes; a child watch on the same node sees them.
pub async fn data_watch_ignores_child_changes(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let dir = root.join("dir");
    zk.create(&dir, b"", &persistent()).await.unwrap();
    let (_, _, mut data_watch) = zk.watch_data(&dir).await.unwrap();
    let (_, mut exist_watch) = zk.watch_exists(&dir).await.unwrap();
    let (_, _, child_watch) = zk.watch_children(&dir).await.unwrap();
    writer
        .create(&format!("{dir}/kid"), b"", &persistent())
        .await
        .unwrap();
    assert_eq!(
        event(child_watch).await,
        node(EventType::NodeChildrenChanged, &dir)
    );
    barrier(&*zk, &dir).await;
    assert_pending(&mut data_watch, "data watch on a child create");
    assert_pending(&mut exist_watch, "exist watch on a child create");
    root.finish().await;
}

/// Watched reads of a missing node fail with `NoNode` (and set no watch).
pub async fn watched_reads_of_missing_node_are_no_node(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("missing");
    let err = zk.watch_data(&path).await.unwrap_err();
    assert_eq!(err, Error::NoNode { path: path.clone() });
    let err = zk.watch_children(&path).await.unwrap_err();
    assert_eq!(err, Error::NoNode { path: path.clone() });
    let (stat, mut exist_watch) = zk.watch_exists(&path).await.unwrap();
    assert!(stat.is_none());
    barrier(&*zk, root.path()).await;
    assert_pending(&mut exist_watch, "nothing happened yet");
    root.finish().await;
}

/// `set_acl` fires no watch of any kind; the watches stay armed.
pub async fn set_acl_fires_no_watch(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("n");
    zk.create(&path, b"", &persistent()).await.unwrap();
    let (_, _, mut data_watch) = zk.watch_data(&path).await.unwrap();
    let (_, mut exist_watch) = zk.watch_exists(&path).await.unwrap();
    let (_, _, mut child_watch) = zk.watch_children(&path).await.unwrap();
    writer
        .set_acl(&path, &Acl::open_unsafe(), Some(0))
        .await
        .unwrap();
    barrier(&*zk, &path).await;
    assert_pending(&mut data_watch, "data watch after setACL");
    assert_pending(&mut exist_watch, "exist watch after setACL");
    assert_pending(&mut child_watch, "child watch after setACL");
    writer.set_data(&path, b"x", None).await.unwrap();
    assert_eq!(
        event(data_watch).await,
        node(EventType::NodeDataChanged, &path)
    );
    assert_eq!(
        event(exist_watch).await,
        node(EventType::NodeDataChanged, &path)
    );
    root.finish().await;
}

/// One event reaches every local watcher of the session that it matches.
pub async fn one_event_fans_out_to_every_watcher(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("n");
    zk.create(&path, b"", &persistent()).await.unwrap();
    let (_, _, data_1) = zk.watch_data(&path).await.unwrap();
    let (_, _, data_2) = zk.watch_data(&path).await.unwrap();
    let (_, exist) = zk.watch_exists(&path).await.unwrap();
    let (_, _, children) = zk.watch_children(&path).await.unwrap();
    writer.delete(&path, None).await.unwrap();
    let deleted = node(EventType::NodeDeleted, &path);
    assert_eq!(event(data_1).await, deleted);
    assert_eq!(event(data_2).await, deleted);
    assert_eq!(event(exist).await, deleted);
    assert_eq!(event(children).await, deleted);
    root.finish().await;
}

/// Dropping one watch leaves the session's other watches on the path working.
pub async fn dropping_a_watch_keeps_the_others(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("n");
    zk.create(&path, b"", &persistent()).await.unwrap();
    let (_, _, dropped) = zk.watch_data(&path).await.unwrap();
    let (_, _, kept) = zk.watch_data(&path).await.unwrap();
    drop(dropped);
    writer.set_data(&path, b"x", None).await.unwrap();
    assert_eq!(event(kept).await, node(EventType::NodeDataChanged, &path));
    root.finish().await;
}

/// Watches of different sessions on the same node all fire.
pub async fn watches_of_several_sessions_fire(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (a, b, writer) = (
        root.session().await,
        root.session().await,
        root.session().await,
    );
    let path = root.join("n");
    writer.create(&path, b"", &persistent()).await.unwrap();
    let (_, _, wa) = a.watch_data(&path).await.unwrap();
    let (_, wb) = b.watch_exists(&path).await.unwrap();
    writer.set_data(&path, b"x", None).await.unwrap();
    assert_eq!(event(wa).await, node(EventType::NodeDataChanged, &path));
    assert_eq!(event(wb).await, node(EventType::NodeDataChanged, &path));
    root.finish().await;
}

/// A multi fires its events after the whole transaction; a failed multi fires nothing.
pub async fn multi_fires_after_the_transaction(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let (a, b) = (root.join("a"), root.join("b"));
    let (_, watch_a) = zk.watch_exists(&a).await.unwrap();
    let (_, mut watch_b) = zk.watch_exists(&b).await.unwrap();
    let err = writer
        .multi(&[
            Op::create(b.clone(), Vec::new(), persistent()),
            Op::check(root.join("missing"), None),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.multi_index(), Some(1));
    barrier(&*zk, root.path()).await;
    assert_pending(&mut watch_b, "a failed multi fires nothing");
    writer
        .multi(&[
            Op::create(a.clone(), Vec::new(), persistent()),
            Op::create(b.clone(), Vec::new(), persistent()),
        ])
        .await
        .unwrap();
    assert_eq!(event(watch_a).await, node(EventType::NodeCreated, &a));
    // When the first event arrives, the whole transaction is visible.
    assert!(zk.exists(&b).await.unwrap().is_some());
    assert_eq!(event(watch_b).await, node(EventType::NodeCreated, &b));
    root.finish().await;
}

/// A pending one-shot watch resolves with a `Closed` session event when its session closes.
pub async fn oneshot_watch_resolves_closed_on_close(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("n");
    zk.create(&path, b"", &persistent()).await.unwrap();
    let (_, _, data_watch) = zk.watch_data(&path).await.unwrap();
    let (_, exist_watch) = zk.watch_exists(&root.join("missing")).await.unwrap();
    zk.close().await.unwrap();
    assert_eq!(event(data_watch).await, session(SessionState::Closed));
    assert_eq!(event(exist_watch).await, session(SessionState::Closed));
    root.finish().await;
}

/// A data watch reports the first event only: a delete followed by a re-create gives
/// `NodeDeleted`, and a new watch sees the new node.
pub async fn data_watch_reports_only_the_first_change(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("n");
    let first = zk.create(&path, b"old", &persistent()).await.unwrap();
    let (_, _, watch) = zk.watch_data(&path).await.unwrap();
    writer.delete(&path, None).await.unwrap();
    let second = writer.create(&path, b"new", &persistent()).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeDeleted, &path));
    barrier(&*zk, &path).await;
    let (data, stat, mut again) = zk.watch_data(&path).await.unwrap();
    assert_eq!(data, b"new");
    assert_eq!(stat.czxid, second.stat.czxid);
    assert!(stat.czxid > first.stat.czxid);
    barrier(&*zk, &path).await;
    assert_pending(&mut again, "nothing changed since the new watch");
    root.finish().await;
}

/// An exist watch on a missing node reports the create, not the delete that follows it.
pub async fn exist_watch_reports_the_create_of_a_short_lived_node(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (zk, writer) = (root.session().await, root.session().await);
    let path = root.join("blip");
    let (_, watch) = zk.watch_exists(&path).await.unwrap();
    writer
        .create(&path, b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    writer.delete(&path, None).await.unwrap();
    assert_eq!(event(watch).await, node(EventType::NodeCreated, &path));
    barrier(&*zk, &path).await;
    let (stat, mut again) = zk.watch_exists(&path).await.unwrap();
    assert_eq!(stat, None);
    barrier(&*zk, &path).await;
    assert_pending(&mut again, "no change since the new watch");
    root.finish().await;
}
