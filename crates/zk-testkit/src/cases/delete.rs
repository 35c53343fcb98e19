//! `delete`: versions, missing nodes, children, permissions and the protected system paths.

use zk_core::{Acl, CreateOptions, Error, Perms};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{persistent, world};

/// A delete removes the node.
pub async fn delete_removes_node(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("gone");
    zk.create(&path, b"x", &persistent()).await.unwrap();
    zk.delete(&path, None).await.unwrap();
    assert!(zk.exists(&path).await.unwrap().is_none());
    let err = zk.get_data(&path).await.unwrap_err();
    assert_eq!(err, Error::NoNode { path: path.clone() });
    root.finish().await;
}

/// Deleting a missing node, or a node below a missing parent, fails with `NoNode`.
pub async fn delete_missing_is_no_node(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("missing");
    assert_eq!(
        zk.delete(&path, None).await.unwrap_err(),
        Error::NoNode { path: path.clone() }
    );
    let deeper = root.join("missing/child");
    let err = zk.delete(&deeper, Some(3)).await.unwrap_err();
    assert!(matches!(err, Error::NoNode { .. }), "{err:?}");
    root.finish().await;
}

/// A delete at the wrong data version fails with `BadVersion` and keeps the node.
pub async fn delete_with_wrong_version_is_bad_version(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("v");
    zk.create(&path, b"", &persistent()).await.unwrap();
    zk.set_data(&path, b"1", None).await.unwrap();
    let err = zk.delete(&path, Some(0)).await.unwrap_err();
    assert_eq!(
        err,
        Error::BadVersion {
            path: path.clone(),
            expected: 0
        }
    );
    assert!(zk.exists(&path).await.unwrap().is_some());
    zk.delete(&path, Some(1)).await.unwrap();
    assert!(zk.exists(&path).await.unwrap().is_none());
    root.finish().await;
}

/// Version `-1` (like `None`) means any version.
pub async fn delete_with_any_version(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("any");
    zk.create(&path, b"", &persistent()).await.unwrap();
    zk.set_data(&path, b"1", None).await.unwrap();
    zk.set_data(&path, b"2", None).await.unwrap();
    zk.delete(&path, Some(-1)).await.unwrap();
    assert!(zk.exists(&path).await.unwrap().is_none());
    root.finish().await;
}

/// A node with children cannot be deleted: `NotEmpty`.
pub async fn delete_with_children_is_not_empty(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("parent");
    zk.create(&path, b"", &persistent()).await.unwrap();
    zk.create(&format!("{path}/kid"), b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    assert_eq!(
        zk.delete(&path, None).await.unwrap_err(),
        Error::NotEmpty { path: path.clone() }
    );
    assert!(zk.exists(&path).await.unwrap().is_some());
    root.finish().await;
}

/// The version check comes before the children check: `BadVersion` beats `NotEmpty`.
pub async fn delete_bad_version_beats_not_empty(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("parent");
    zk.create(&path, b"", &persistent()).await.unwrap();
    zk.create(&format!("{path}/kid"), b"", &persistent())
        .await
        .unwrap();
    let err = zk.delete(&path, Some(5)).await.unwrap_err();
    assert!(
        matches!(err, Error::BadVersion { expected: 5, .. }),
        "{err:?}"
    );
    let err = zk.delete(&path, Some(0)).await.unwrap_err();
    assert!(matches!(err, Error::NotEmpty { .. }), "{err:?}");
    root.finish().await;
}

/// `/` and the `/zookeeper` system nodes cannot be deleted: `BadArguments`.
pub async fn delete_system_paths_is_bad_arguments(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    for path in ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"] {
        let err = zk.delete(path, None).await.unwrap_err();
        assert!(matches!(err, Error::BadArguments(_)), "{path}: {err:?}");
    }
    assert!(zk.exists("/zookeeper").await.unwrap().is_some());
    root.finish().await;
}

/// A delete updates the parent: `numChildren` down, `cversion` up (creates plus deletes),
/// `pzxid` to the delete's zxid.
pub async fn delete_updates_parent_stat(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("p");
    zk.create(&parent, b"", &persistent()).await.unwrap();
    let a = zk
        .create(&format!("{parent}/a"), b"", &persistent())
        .await
        .unwrap();
    let b = zk
        .create(&format!("{parent}/b"), b"", &persistent())
        .await
        .unwrap();
    let touched = zk.set_data(&b.path, b"x", None).await.unwrap();
    zk.delete(&a.path, None).await.unwrap();
    let stat = zk.exists(&parent).await.unwrap().unwrap();
    assert_eq!((stat.num_children, stat.cversion), (1, 3));
    assert!(
        stat.pzxid > touched.mzxid,
        "pzxid {} must be the delete's zxid, after {}",
        stat.pzxid,
        touched.mzxid
    );
    assert_eq!(stat.version, 0);
    root.finish().await;
}

/// The DELETE permission is checked on the parent, before the node's existence:
/// `NoAuth` even for a missing child; the node's own ACL does not matter.
pub async fn delete_checks_parent_delete_permission(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("guarded");
    zk.create(&parent, b"", &persistent()).await.unwrap();
    let kid = format!("{parent}/kid");
    zk.create(&kid, b"", &persistent()).await.unwrap();
    let acl = TestRoot::with_admin(vec![world(Perms::READ | Perms::CREATE)]);
    zk.set_acl(&parent, &acl, None).await.unwrap();
    let err = zk.delete(&kid, None).await.unwrap_err();
    assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
    let err = zk.delete(&kid, Some(9)).await.unwrap_err();
    assert!(
        matches!(err, Error::NoAuth { .. }),
        "NoAuth beats BadVersion: {err:?}"
    );
    let err = zk
        .delete(&format!("{parent}/missing"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NoAuth { .. }),
        "NoAuth beats NoNode: {err:?}"
    );
    assert!(zk.exists(&kid).await.unwrap().is_some());

    // A node whose own ACL is read-only is deletable when its parent allows it.
    let locked = root.join("locked");
    let options = CreateOptions::persistent().with_acl(Acl::read_unsafe());
    zk.create(&locked, b"", &options).await.unwrap();
    zk.delete(&locked, None).await.unwrap();
    assert!(zk.exists(&locked).await.unwrap().is_none());
    root.finish().await;
}
