//! `CoordinatorExt` helpers, which every backend gets from the trait's primitives.

use zk_core::{CoordinatorExt, CreateOptions, EventType};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{event, node, persistent, supports};

/// `ensure_path` creates missing ancestors, keeps existing data, and is idempotent.
pub async fn ensure_path_creates_ancestors(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    zk.create(&root.join("a"), b"keep", &persistent())
        .await
        .unwrap();
    let deep = root.join("a/b/c/d");
    zk.ensure_path(&deep).await.unwrap();
    zk.ensure_path(&deep).await.unwrap();
    assert!(zk.exists(&deep).await.unwrap().is_some());
    assert_eq!(zk.get_data(&root.join("a")).await.unwrap().0, b"keep");
    assert_eq!(
        zk.get_children(&root.join("a/b")).await.unwrap().0,
        vec!["c"]
    );
    root.finish().await;
}

/// `ensure_container_path` creates the missing nodes as containers, which the sweeper removes
/// once emptied, and leaves existing nodes alone.
pub async fn ensure_container_path_creates_containers(backend: &dyn Backend) {
    if !supports(backend, |c| c.containers, "containers") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (zk, watcher) = (root.session().await, root.session().await);
    zk.create(&root.join("kept"), b"keep", &persistent())
        .await
        .unwrap();
    let dir = root.join("kept/box/inner");
    zk.ensure_container_path(&dir).await.unwrap();
    zk.ensure_container_path(&dir).await.unwrap();
    let item = format!("{dir}/item");
    zk.create(&item, b"", &persistent()).await.unwrap();
    let (_, inner_gone) = watcher.watch_exists(&dir).await.unwrap();
    zk.delete(&item, None).await.unwrap();
    // The emptied container goes, then its emptied container parent; the persistent node stays.
    assert_eq!(event(inner_gone).await, node(EventType::NodeDeleted, &dir));
    let outer = root.join("kept/box");
    if let (Some(_), outer_gone) = watcher.watch_exists(&outer).await.unwrap() {
        assert_eq!(
            event(outer_gone).await,
            node(EventType::NodeDeleted, &outer)
        );
    }
    assert_eq!(zk.get_data(&root.join("kept")).await.unwrap().0, b"keep");
    root.finish().await;
}

/// `create_with_parents` creates the missing parents, then the node with its own options.
pub async fn create_with_parents_builds_the_chain(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("x/y/leaf");
    let created = zk
        .create_with_parents(&path, b"leaf", &CreateOptions::ephemeral())
        .await
        .unwrap();
    assert_eq!(created.path, path);
    assert_eq!(created.stat.ephemeral_owner, zk.session_id());
    let parent = zk.exists(&root.join("x/y")).await.unwrap().unwrap();
    assert_eq!(parent.ephemeral_owner, 0, "parents are persistent");
    assert_eq!(zk.get_data(&path).await.unwrap().0, b"leaf");
    root.finish().await;
}

/// `delete_all` removes a whole subtree; a missing node is not an error.
pub async fn delete_all_removes_the_subtree(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    for rel in ["t", "t/a", "t/a/b", "t/c"] {
        zk.create(&root.join(rel), b"", &persistent())
            .await
            .unwrap();
    }
    zk.create(&root.join("t/a/e"), b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    zk.delete_all(&root.join("t")).await.unwrap();
    assert!(zk.exists(&root.join("t")).await.unwrap().is_none());
    zk.delete_all(&root.join("t")).await.unwrap();
    assert_eq!(
        zk.exists(root.path()).await.unwrap().unwrap().num_children,
        0
    );
    root.finish().await;
}

/// `get_if_exists` and `delete_if_exists` turn `NoNode` into `None` and `false`.
pub async fn if_exists_helpers(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("maybe");
    assert_eq!(zk.get_if_exists(&path).await.unwrap(), None);
    assert!(!zk.delete_if_exists(&path, None).await.unwrap());
    zk.create(&path, b"here", &persistent()).await.unwrap();
    let (data, stat) = zk.get_if_exists(&path).await.unwrap().expect("exists");
    assert_eq!((data.as_slice(), stat.version), (&b"here"[..], 0));
    assert!(zk.delete_if_exists(&path, Some(0)).await.unwrap());
    assert!(!zk.delete_if_exists(&path, None).await.unwrap());
    root.finish().await;
}

/// `get_children_sorted` sorts the names (sequence suffixes sort numerically by text).
pub async fn get_children_sorted_sorts(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let mut expected = Vec::new();
    for _ in 0..12 {
        let created = zk
            .create(
                &root.join("n-"),
                b"",
                &CreateOptions::persistent_sequential(),
            )
            .await
            .unwrap();
        expected.push(created.path.rsplit('/').next().unwrap().to_owned());
    }
    zk.create(&root.join("a"), b"", &persistent())
        .await
        .unwrap();
    expected.insert(0, "a".to_owned());
    assert_eq!(zk.get_children_sorted(root.path()).await.unwrap(), expected);
    root.finish().await;
}
