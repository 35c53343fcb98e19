//! `get_children`, `get_all_children_number` and `get_ephemerals`.

use zk_core::{CreateOptions, Error, Perms};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{persistent, sorted, supports, world};

/// `get_children` lists bare child names (any order) with the parent's own Stat.
pub async fn get_children_lists_names_and_stat(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("dir");
    zk.create(&parent, b"meta", &persistent()).await.unwrap();
    for name in ["b", "a", "c"] {
        zk.create(&format!("{parent}/{name}"), b"", &persistent())
            .await
            .unwrap();
    }
    zk.create(&format!("{parent}/a/deep"), b"", &persistent())
        .await
        .unwrap();
    let (children, stat) = zk.get_children(&parent).await.unwrap();
    assert_eq!(sorted(children), vec!["a", "b", "c"]);
    assert_eq!(stat, zk.exists(&parent).await.unwrap().unwrap());
    assert_eq!(
        (stat.num_children, stat.cversion, stat.data_length),
        (3, 3, 4)
    );
    root.finish().await;
}

/// A node without children lists none.
pub async fn get_children_of_leaf_is_empty(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let leaf = root.join("leaf");
    zk.create(&leaf, b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let (children, stat) = zk.get_children(&leaf).await.unwrap();
    assert!(children.is_empty());
    assert_eq!(stat.num_children, 0);
    assert_eq!(stat.ephemeral_owner, zk.session_id());
    root.finish().await;
}

/// Listing a missing node fails with `NoNode`; without READ it fails with `NoAuth`.
pub async fn get_children_errors(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let missing = root.join("missing");
    assert_eq!(
        zk.get_children(&missing).await.unwrap_err(),
        Error::NoNode { path: missing }
    );
    let hidden = root.join("hidden");
    let acl = TestRoot::with_admin(vec![world(Perms::CREATE | Perms::WRITE)]);
    zk.create(&hidden, b"", &CreateOptions::persistent().with_acl(acl))
        .await
        .unwrap();
    zk.create(&format!("{hidden}/kid"), b"", &persistent())
        .await
        .unwrap();
    let err = zk.get_children(&hidden).await.unwrap_err();
    assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
    root.finish().await;
}

/// `get_all_children_number` counts every descendant, not the node itself.
pub async fn all_children_number_counts_descendants(backend: &dyn Backend) {
    if !supports(backend, |c| c.get_ephemerals, "getAllChildrenNumber") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let top = root.join("count");
    zk.create(&top, b"", &persistent()).await.unwrap();
    for rel in ["a", "a/b", "c", "a/b/d"] {
        zk.create(&format!("{top}/{rel}"), b"", &persistent())
            .await
            .unwrap();
    }
    assert_eq!(zk.get_all_children_number(&top).await.unwrap(), 4);
    assert_eq!(
        zk.get_all_children_number(&format!("{top}/a"))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        zk.get_all_children_number(&format!("{top}/c"))
            .await
            .unwrap(),
        0
    );
    let err = zk
        .get_all_children_number(&root.join("missing"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoNode { .. }), "{err:?}");
    let acl = TestRoot::with_admin(vec![world(Perms::WRITE | Perms::CREATE)]);
    zk.set_acl(&top, &acl, None).await.unwrap();
    let err = zk.get_all_children_number(&top).await.unwrap_err();
    assert!(
        matches!(err, Error::NoAuth { .. }),
        "READ is needed: {err:?}"
    );
    root.finish().await;
}

/// `get_ephemerals` lists this session's ephemeral nodes by plain string prefix, as absolute
/// paths, and nothing of other sessions or persistent nodes.
pub async fn get_ephemerals_by_prefix(backend: &dyn Backend) {
    if !supports(backend, |c| c.get_ephemerals, "getEphemerals") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let other = root.session().await;
    let eph = CreateOptions::ephemeral();
    for dir in ["count", "counter"] {
        zk.create(&root.join(dir), b"", &persistent())
            .await
            .unwrap();
    }
    zk.create(&root.join("count/e1"), b"", &eph).await.unwrap();
    zk.create(&root.join("counter/e2"), b"", &eph)
        .await
        .unwrap();
    zk.create(&root.join("count/p"), b"", &persistent())
        .await
        .unwrap();
    other
        .create(&root.join("count/theirs"), b"", &eph)
        .await
        .unwrap();
    let both = vec![root.join("count/e1"), root.join("counter/e2")];
    assert_eq!(
        sorted(zk.get_ephemerals(&root.join("count")).await.unwrap()),
        both
    );
    assert_eq!(
        zk.get_ephemerals(&root.join("counter")).await.unwrap(),
        vec![root.join("counter/e2")]
    );
    let all: Vec<String> = zk
        .get_ephemerals("/")
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.starts_with(root.path()))
        .collect();
    assert_eq!(sorted(all), both);
    assert_eq!(
        other.get_ephemerals(root.path()).await.unwrap(),
        vec![root.join("count/theirs")]
    );
    assert!(
        zk.get_ephemerals(&root.join("nothing-here"))
            .await
            .unwrap()
            .is_empty()
    );
    root.finish().await;
}

/// Deleting a child shows in the listing and in `numChildren` at once.
pub async fn children_follow_creates_and_deletes(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let other = root.session().await;
    let parent = root.join("set");
    zk.create(&parent, b"", &persistent()).await.unwrap();
    for name in ["x", "y", "z"] {
        other
            .create(&format!("{parent}/{name}"), b"", &persistent())
            .await
            .unwrap();
    }
    other.delete(&format!("{parent}/y"), None).await.unwrap();
    zk.sync(&parent).await.unwrap();
    let (children, stat) = zk.get_children(&parent).await.unwrap();
    assert_eq!(sorted(children), vec!["x", "z"]);
    assert_eq!((stat.num_children, stat.cversion), (2, 4));
    root.finish().await;
}
