//! `get_data`, `set_data`, `exists` and `sync`: data, versions and Stat bookkeeping.

use zk_core::{Acl, CreateOptions, Error, Perms};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{persistent, world};

/// `set_data` bumps `version`, moves `mzxid` and `mtime`, keeps `czxid` and `ctime`.
pub async fn set_data_bumps_version_and_mzxid(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("d");
    let created = zk.create(&path, b"v0", &persistent()).await.unwrap().stat;
    let first = zk.set_data(&path, b"value-1", None).await.unwrap();
    assert_eq!(first.version, 1);
    assert!(first.mzxid > created.mzxid);
    assert_eq!((first.czxid, first.ctime), (created.czxid, created.ctime));
    assert!(first.mtime >= created.mtime);
    assert_eq!(first.data_length, 7);
    assert_eq!(first.pzxid, created.pzxid, "setData does not touch pzxid");
    assert_eq!((first.cversion, first.aversion), (0, 0));
    let second = zk.set_data(&path, b"", None).await.unwrap();
    assert_eq!((second.version, second.data_length), (2, 0));
    assert!(second.mzxid > first.mzxid);
    let (data, stat) = zk.get_data(&path).await.unwrap();
    assert!(data.is_empty());
    assert_eq!(stat, second);
    root.finish().await;
}

/// `set_data` at the expected version succeeds; at another version it fails with `BadVersion`
/// carrying the expected version, and the data stays.
pub async fn set_data_checks_version(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("cas");
    zk.create(&path, b"a", &persistent()).await.unwrap();
    assert_eq!(zk.set_data(&path, b"b", Some(0)).await.unwrap().version, 1);
    let err = zk.set_data(&path, b"c", Some(0)).await.unwrap_err();
    assert_eq!(
        err,
        Error::BadVersion {
            path: path.clone(),
            expected: 0
        }
    );
    assert_eq!(zk.get_data(&path).await.unwrap().0, b"b");
    assert_eq!(zk.set_data(&path, b"d", Some(-1)).await.unwrap().version, 2);
    root.finish().await;
}

/// Reading or writing a missing node fails with `NoNode`; the existence check comes before the
/// version check.
pub async fn data_of_missing_node_is_no_node(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("missing");
    assert_eq!(
        zk.get_data(&path).await.unwrap_err(),
        Error::NoNode { path: path.clone() }
    );
    assert_eq!(
        zk.set_data(&path, b"x", None).await.unwrap_err(),
        Error::NoNode { path: path.clone() }
    );
    let err = zk.set_data(&path, b"x", Some(3)).await.unwrap_err();
    assert!(
        matches!(err, Error::NoNode { .. }),
        "NoNode beats BadVersion: {err:?}"
    );
    assert!(zk.exists(&path).await.unwrap().is_none());
    root.finish().await;
}

/// `exists` gives the same Stat as `get_data`, and `None` for a missing node.
pub async fn exists_reports_stat(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("e");
    assert_eq!(zk.exists(&path).await.unwrap(), None);
    zk.create(&path, b"abc", &persistent()).await.unwrap();
    zk.set_data(&path, b"abcd", None).await.unwrap();
    let stat = zk.exists(&path).await.unwrap().expect("exists");
    assert_eq!(stat, zk.get_data(&path).await.unwrap().1);
    assert_eq!((stat.version, stat.data_length), (1, 4));
    root.finish().await;
}

/// Without WRITE, `set_data` fails with `NoAuth` (before the version check); without READ,
/// `get_data` fails with `NoAuth`.
pub async fn data_permissions_are_enforced(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let read_only = root.join("ro");
    let options = CreateOptions::persistent().with_acl(Acl::read_unsafe());
    zk.create(&read_only, b"keep", &options).await.unwrap();
    assert_eq!(zk.get_data(&read_only).await.unwrap().0, b"keep");
    let err = zk.set_data(&read_only, b"x", None).await.unwrap_err();
    assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
    let err = zk.set_data(&read_only, b"x", Some(9)).await.unwrap_err();
    assert!(
        matches!(err, Error::NoAuth { .. }),
        "NoAuth beats BadVersion: {err:?}"
    );

    let write_only = root.join("wo");
    let acl = TestRoot::with_admin(vec![world(Perms::WRITE)]);
    let options = CreateOptions::persistent().with_acl(acl);
    zk.create(&write_only, b"secret", &options).await.unwrap();
    let err = zk.get_data(&write_only).await.unwrap_err();
    assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
    assert_eq!(
        zk.set_data(&write_only, b"new", None)
            .await
            .unwrap()
            .version,
        1
    );
    root.finish().await;
}

/// A million bytes of data (just under the packet limit) round-trip unchanged.
pub async fn large_data_round_trips(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("big");
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let created = zk.create(&path, &data, &persistent()).await.unwrap();
    assert_eq!(created.stat.data_length, 1_000_000);
    let (read, stat) = zk.get_data(&path).await.unwrap();
    assert!(read == data, "large data came back changed");
    assert_eq!(stat.data_length, 1_000_000);
    root.finish().await;
}

/// `sync` succeeds on existing and missing paths (the server does not check existence).
pub async fn sync_succeeds_on_any_path(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let other = root.session().await;
    zk.sync(root.path()).await.unwrap();
    zk.sync(&root.join("missing/deeper")).await.unwrap();
    zk.sync("/").await.unwrap();
    other
        .create(&root.join("w"), b"from-other", &persistent())
        .await
        .unwrap();
    zk.sync(&root.join("w")).await.unwrap();
    assert_eq!(zk.get_data(&root.join("w")).await.unwrap().0, b"from-other");
    root.finish().await;
}
