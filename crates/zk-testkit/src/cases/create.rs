//! `create`: node kinds, returned Stat, sequence suffixes and the server's error precedence.

use zk_core::{Acl, CreateMode, CreateOptions, Error, Id, Perms};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{persistent, sorted, world};

/// A persistent create returns the path and a fresh Stat, and the data reads back.
pub async fn create_persistent_returns_path_and_stat(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("node");
    let created = zk.create(&path, b"hello", &persistent()).await.unwrap();
    assert_eq!(created.path, path);
    let stat = created.stat;
    assert!(stat.czxid > 0);
    assert_eq!(stat.mzxid, stat.czxid);
    assert_eq!(stat.pzxid, stat.czxid);
    assert_eq!(stat.mtime, stat.ctime);
    assert!(stat.ctime > 0, "ctime is milliseconds since the epoch");
    assert_eq!((stat.version, stat.cversion, stat.aversion), (0, 0, 0));
    assert_eq!(stat.ephemeral_owner, 0);
    assert_eq!(stat.data_length, 5);
    assert_eq!(stat.num_children, 0);
    let (data, read) = zk.get_data(&path).await.unwrap();
    assert_eq!(data, b"hello");
    assert_eq!(read, stat);
    root.finish().await;
}

/// Empty data is stored as empty and reported with `dataLength` 0.
pub async fn create_with_empty_data(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("empty");
    let created = zk.create(&path, b"", &persistent()).await.unwrap();
    assert_eq!(created.stat.data_length, 0);
    let (data, stat) = zk.get_data(&path).await.unwrap();
    assert!(data.is_empty());
    assert_eq!(stat.data_length, 0);
    root.finish().await;
}

/// Creating an existing node fails with `NodeExists` naming the path, and changes nothing.
pub async fn create_existing_node_is_node_exists(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("dup");
    zk.create(&path, b"first", &persistent()).await.unwrap();
    let err = zk
        .create(&path, b"second", &persistent())
        .await
        .unwrap_err();
    assert_eq!(err, Error::NodeExists { path: path.clone() });
    let (data, stat) = zk.get_data(&path).await.unwrap();
    assert_eq!((data.as_slice(), stat.version), (&b"first"[..], 0));
    root.finish().await;
}

/// Creating below a missing parent fails with `NoNode`.
pub async fn create_without_parent_is_no_node(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("missing/child");
    let err = zk.create(&path, b"", &persistent()).await.unwrap_err();
    assert!(matches!(err, Error::NoNode { .. }), "{err:?}");
    assert!(zk.exists(&root.join("missing")).await.unwrap().is_none());
    root.finish().await;
}

/// An ephemeral node's `ephemeralOwner` is the creating session's id, seen by every session.
pub async fn create_ephemeral_sets_owner(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let other = root.session().await;
    let path = root.join("eph");
    let created = zk
        .create(&path, b"x", &CreateOptions::ephemeral())
        .await
        .unwrap();
    assert_ne!(zk.session_id(), 0);
    assert_eq!(created.stat.ephemeral_owner, zk.session_id());
    assert!(created.stat.is_ephemeral());
    let seen = other
        .exists(&path)
        .await
        .unwrap()
        .expect("visible to others");
    assert_eq!(seen.ephemeral_owner, zk.session_id());
    assert_ne!(seen.ephemeral_owner, other.session_id());
    root.finish().await;
}

/// Ephemeral nodes cannot have children of any kind: `NoChildrenForEphemerals`.
pub async fn create_under_ephemeral_is_no_children_for_ephemerals(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("eph");
    zk.create(&parent, b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    for options in [
        CreateOptions::persistent(),
        CreateOptions::ephemeral(),
        CreateOptions::persistent_sequential(),
    ] {
        let err = zk
            .create(&format!("{parent}/child"), b"", &options)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::NoChildrenForEphemerals { .. }),
            "{:?}: {err:?}",
            options.mode
        );
    }
    let (children, _) = zk.get_children(&parent).await.unwrap();
    assert!(children.is_empty());
    root.finish().await;
}

/// Sequential creates append a ten-digit counter, starting at 0 for a fresh parent.
pub async fn create_sequential_appends_ten_digits(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("seq");
    zk.create(&parent, b"", &persistent()).await.unwrap();
    let prefix = format!("{parent}/n-");
    let first = zk
        .create(&prefix, b"", &CreateOptions::persistent_sequential())
        .await
        .unwrap();
    let second = zk
        .create(&prefix, b"", &CreateOptions::ephemeral_sequential())
        .await
        .unwrap();
    assert_eq!(first.path, format!("{prefix}0000000000"));
    assert_eq!(second.path, format!("{prefix}0000000001"));
    assert_eq!(first.stat.ephemeral_owner, 0);
    assert_eq!(second.stat.ephemeral_owner, zk.session_id());
    assert!(second.stat.czxid > first.stat.czxid);
    assert_eq!(
        zk.get_children(&parent).await.unwrap().0.len(),
        2,
        "both sequential nodes exist"
    );
    root.finish().await;
}

/// The sequence suffix counts every create under the parent, never decremented by deletes,
/// while the reported `cversion` counts creates plus deletes (vector sequence-counter).
pub async fn sequence_counter_differs_from_cversion(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("seqc");
    zk.create(&parent, b"", &persistent()).await.unwrap();
    let seq = CreateOptions::persistent_sequential();
    let prefix = format!("{parent}/n-");
    let first = zk.create(&prefix, b"", &seq).await.unwrap();
    assert_eq!(first.path, format!("{prefix}0000000000"));
    zk.delete(&first.path, None).await.unwrap();
    assert_eq!(zk.exists(&parent).await.unwrap().unwrap().cversion, 2);
    let second = zk.create(&prefix, b"", &seq).await.unwrap();
    assert_eq!(second.path, format!("{prefix}0000000001"));
    assert_eq!(zk.exists(&parent).await.unwrap().unwrap().cversion, 3);
    root.finish().await;
}

/// Plain (non-sequential) creates advance the parent's sequence counter too.
pub async fn sequence_counter_counts_plain_creates(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("mixed");
    zk.create(&parent, b"", &persistent()).await.unwrap();
    zk.create(&format!("{parent}/plain"), b"", &persistent())
        .await
        .unwrap();
    let seq = CreateOptions::persistent_sequential();
    let first = zk.create(&format!("{parent}/n-"), b"", &seq).await.unwrap();
    assert_eq!(first.path, format!("{parent}/n-0000000001"));
    zk.delete(&format!("{parent}/plain"), None).await.unwrap();
    let second = zk.create(&format!("{parent}/n-"), b"", &seq).await.unwrap();
    assert_eq!(second.path, format!("{parent}/n-0000000002"));
    let stat = zk.exists(&parent).await.unwrap().unwrap();
    assert_eq!((stat.cversion, stat.num_children), (4, 2));
    root.finish().await;
}

/// A sequential path may end in `/`: the node's name is then just the number.
pub async fn sequential_name_may_be_only_the_number(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("q");
    zk.create(&parent, b"", &persistent()).await.unwrap();
    let created = zk
        .create(
            &format!("{parent}/"),
            b"item",
            &CreateOptions::persistent_sequential(),
        )
        .await
        .unwrap();
    assert_eq!(created.path, format!("{parent}/0000000000"));
    assert_eq!(zk.get_data(&created.path).await.unwrap().0, b"item");
    root.finish().await;
}

/// A create updates the parent's `cversion`, `numChildren` and `pzxid`, not its data stat.
pub async fn create_updates_parent_stat(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("p");
    let before = zk.create(&parent, b"", &persistent()).await.unwrap().stat;
    let child = zk
        .create(&format!("{parent}/c"), b"", &persistent())
        .await
        .unwrap()
        .stat;
    let after = zk.exists(&parent).await.unwrap().unwrap();
    assert!(child.czxid > before.czxid);
    assert_eq!(after.pzxid, child.czxid);
    assert_eq!((after.cversion, after.num_children), (1, 1));
    assert_eq!(
        (after.version, after.mzxid, after.mtime),
        (0, before.mzxid, before.mtime)
    );
    assert_eq!(after.czxid, before.czxid);
    root.finish().await;
}

/// A failed write still consumes a zxid on the server.
pub async fn failed_create_consumes_a_zxid(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let a = zk
        .create(&root.join("a"), b"", &persistent())
        .await
        .unwrap()
        .stat;
    assert!(
        zk.create(&root.join("a"), b"", &persistent())
            .await
            .is_err()
    );
    let b = zk
        .create(&root.join("b"), b"", &persistent())
        .await
        .unwrap()
        .stat;
    assert!(
        b.czxid >= a.czxid + 2,
        "the failed create must have used a zxid: {} then {}",
        a.czxid,
        b.czxid
    );
    root.finish().await;
}

/// An empty ACL is refused with `InvalidAcl`, and that check comes before the parent check.
pub async fn create_with_empty_acl_is_invalid_acl(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let empty = CreateOptions::persistent().with_acl(Vec::new());
    let err = zk.create(&root.join("n"), b"", &empty).await.unwrap_err();
    assert!(matches!(err, Error::InvalidAcl { .. }), "{err:?}");
    let err = zk
        .create(&root.join("missing/n"), b"", &empty)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidAcl { .. }),
        "InvalidAcl beats NoNode: {err:?}"
    );
    assert!(zk.exists(&root.join("n")).await.unwrap().is_none());
    root.finish().await;
}

/// Malformed ACL ids are refused with `InvalidAcl`: `world` other than `anyone`, a digest id
/// without a hash, an unparsable `ip`.
pub async fn create_with_malformed_acl_is_invalid_acl(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    for id in [
        Id::new("world", "bob"),
        Id::new("digest", "alice"),
        Id::new("ip", "not-an-ip"),
    ] {
        let options = CreateOptions::persistent().with_acl(vec![Acl::new(Perms::ALL, id.clone())]);
        let err = zk.create(&root.join("n"), b"", &options).await.unwrap_err();
        assert!(matches!(err, Error::InvalidAcl { .. }), "{id:?}: {err:?}");
    }
    assert!(zk.exists(&root.join("n")).await.unwrap().is_none());
    root.finish().await;
}

/// Without CREATE on the parent a create fails with `NoAuth`, even when the node exists
/// (NoAuth beats NodeExists); a missing parent still gives `NoNode`.
pub async fn create_without_create_permission_is_no_auth(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("locked");
    zk.create(&parent, b"", &persistent()).await.unwrap();
    zk.create(&format!("{parent}/existing"), b"", &persistent())
        .await
        .unwrap();
    let acl = TestRoot::with_admin(vec![world(Perms::READ | Perms::DELETE)]);
    zk.set_acl(&parent, &acl, None).await.unwrap();
    let err = zk
        .create(&format!("{parent}/new"), b"", &persistent())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
    let err = zk
        .create(&format!("{parent}/existing"), b"", &persistent())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NoAuth { .. }),
        "NoAuth beats NodeExists: {err:?}"
    );
    let empty_acl = CreateOptions::persistent().with_acl(Vec::new());
    let err = zk
        .create(&format!("{parent}/new"), b"", &empty_acl)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidAcl { .. }),
        "InvalidAcl beats NoAuth: {err:?}"
    );
    let err = zk
        .create(&format!("{parent}/missing/x"), b"", &persistent())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoNode { .. }), "{err:?}");
    assert_eq!(
        sorted(zk.get_children(&parent).await.unwrap().0),
        vec!["existing".to_owned()]
    );
    root.finish().await;
}

/// The `auth` scheme needs an authenticated identity: `InvalidAcl` without one.
pub async fn creator_acl_without_identity_is_invalid_acl(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let options = CreateOptions::persistent().with_acl(Acl::creator_all());
    let err = zk.create(&root.join("n"), b"", &options).await.unwrap_err();
    assert!(matches!(err, Error::InvalidAcl { .. }), "{err:?}");
    assert!(zk.exists(&root.join("n")).await.unwrap().is_none());
    root.finish().await;
}

/// The `auth` scheme is stored as the caller's digest identity.
pub async fn creator_acl_expands_to_digest_identity(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    zk.add_auth("digest", b"alice:secret").await.unwrap();
    let path = root.join("mine");
    let options = CreateOptions::persistent().with_acl(Acl::creator_all());
    zk.create(&path, b"", &options).await.unwrap();
    let (acl, stat) = zk.get_acl(&path).await.unwrap();
    assert_eq!(
        acl,
        vec![Acl::new(Perms::ALL, Id::digest("alice", "secret"))]
    );
    assert_eq!(stat.aversion, 0);
    // Only alice may read it, so remove it here rather than in the cleanup.
    zk.delete(&path, None).await.unwrap();
    root.finish().await;
}

/// Every create mode reports the right `ephemeralOwner`; modes map to distinct behaviours.
pub async fn create_modes_report_owner(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    for (name, mode, ephemeral) in [
        ("p", CreateMode::Persistent, false),
        ("e", CreateMode::Ephemeral, true),
        ("ps-", CreateMode::PersistentSequential, false),
        ("es-", CreateMode::EphemeralSequential, true),
    ] {
        let created = zk
            .create(&root.join(name), b"", &CreateOptions::new(mode))
            .await
            .unwrap();
        let expected = if ephemeral { zk.session_id() } else { 0 };
        assert_eq!(created.stat.ephemeral_owner, expected, "{mode:?}");
        assert_eq!(
            created.path.len() - root.join(name).len(),
            if mode.is_sequential() { 10 } else { 0 },
            "{mode:?}"
        );
    }
    root.finish().await;
}
