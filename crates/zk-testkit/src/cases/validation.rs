//! Client-side checks: invalid paths, oversize requests and bad TTLs fail before anything is sent.

use std::time::Duration;

use zk_core::{CreateMode, CreateOptions, DEFAULT_MAX_PACKET, Error, MAX_TTL, Op, validate};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{persistent, sorted};

fn invalid_paths(root: &str) -> Vec<String> {
    let mut paths: Vec<String> = vec!["".into(), "relative".into(), "/".repeat(2)];
    for suffix in [
        "/trailing/",
        "//double",
        "/a/./b",
        "/a/..",
        "/.",
        "/nul\0",
        "/ctl\u{1}",
        "/del\u{7f}",
        "/c1\u{9f}",
        "/private\u{e000}",
        "/special\u{fff0}",
        "/emoji\u{1f600}",
    ] {
        paths.push(format!("{root}{suffix}"));
    }
    paths
}

fn is_invalid_path(result: &Error) -> bool {
    matches!(result, Error::InvalidPath { .. })
}

/// Invalid paths fail with `InvalidPath` for every operation, before anything is sent (reads of
/// such paths would otherwise come back `NoNode` from a server).
pub async fn invalid_paths_are_rejected_locally(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    for path in invalid_paths(root.path()) {
        let p = path.as_str();
        let errors = [
            zk.exists(p).await.map(|_| ()).unwrap_err(),
            zk.get_data(p).await.map(|_| ()).unwrap_err(),
            zk.get_children(p).await.map(|_| ()).unwrap_err(),
            zk.set_data(p, b"", None).await.map(|_| ()).unwrap_err(),
            zk.delete(p, None).await.unwrap_err(),
            zk.create(p, b"", &persistent())
                .await
                .map(|_| ())
                .unwrap_err(),
            zk.get_acl(p).await.map(|_| ()).unwrap_err(),
            zk.watch_exists(p).await.map(|_| ()).unwrap_err(),
        ];
        for (op, err) in errors.iter().enumerate() {
            assert!(is_invalid_path(err), "{path:?} op #{op}: {err:?}");
        }
    }
    assert!(zk.get_children(root.path()).await.unwrap().0.is_empty());
    root.finish().await;
}

/// Names merely containing dots, and BMP characters outside the forbidden ranges, are valid.
pub async fn unusual_but_valid_names_work(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let names = [
        "a.b",
        "..a",
        "a..",
        "...",
        "caf\u{e9}",
        "\u{4e2d}\u{6587}",
        "sp ace",
    ];
    for name in names {
        let path = root.join(name);
        assert!(validate::create(&path, b"", &persistent(), DEFAULT_MAX_PACKET).is_ok());
        zk.create(&path, b"", &persistent()).await.unwrap();
    }
    let mut expected: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    expected.sort_unstable();
    assert_eq!(
        sorted(zk.get_children(root.path()).await.unwrap().0),
        expected
    );
    root.finish().await;
}

/// A request over the packet limit fails with `TooLarge` and changes nothing.
pub async fn oversize_data_is_too_large(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("n");
    let huge = vec![7u8; DEFAULT_MAX_PACKET];
    let err = zk.create(&path, &huge, &persistent()).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    assert!(zk.exists(&path).await.unwrap().is_none());
    zk.create(&path, b"small", &persistent()).await.unwrap();
    let err = zk.set_data(&path, &huge, None).await.unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    let err = zk
        .multi(&[Op::set_data(path.clone(), huge, None)])
        .await
        .unwrap_err();
    assert!(matches!(err.root(), Error::TooLarge { .. }), "{err:?}");
    assert_eq!(zk.get_data(&path).await.unwrap().0, b"small");
    root.finish().await;
}

/// An invalid path inside a multi fails the whole transaction as `Error::Multi` with the
/// index of the bad op and `InvalidPath`, and nothing is applied.
pub async fn multi_with_invalid_path_is_rejected_locally(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let good = root.join("good");
    let err = zk
        .multi(&[
            Op::create(good.clone(), Vec::new(), persistent()),
            Op::set_data(format!("{}//bad", root.path()), Vec::new(), None),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.multi_index(), Some(1), "{err:?}");
    assert!(is_invalid_path(err.root()), "{err:?}");
    assert!(zk.exists(&good).await.unwrap().is_none());
    root.finish().await;
}

/// TTL arguments are checked before sending: a TTL mode needs a TTL in `1 ms ..= MAX_TTL`,
/// and other modes take none (`BadArguments`).
pub async fn bad_ttl_arguments_are_rejected(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("t");
    let ttl_mode = CreateOptions::new(CreateMode::PersistentWithTtl);
    for options in [
        ttl_mode.clone(),
        ttl_mode.clone().with_ttl(Duration::ZERO),
        ttl_mode.with_ttl(MAX_TTL + Duration::from_millis(1)),
        CreateOptions::persistent().with_ttl(Duration::from_secs(1)),
        CreateOptions::ephemeral().with_ttl(Duration::from_secs(1)),
    ] {
        let err = zk.create(&path, b"", &options).await.unwrap_err();
        assert!(
            matches!(err, Error::BadArguments(_)),
            "{options:?}: {err:?}"
        );
    }
    assert!(zk.exists(&path).await.unwrap().is_none());
    root.finish().await;
}

/// A sequential create may end in `/`, a plain one may not.
pub async fn trailing_slash_only_for_sequential(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let dir = root.join("dir");
    zk.create(&dir, b"", &persistent()).await.unwrap();
    let err = zk
        .create(&format!("{dir}/"), b"", &persistent())
        .await
        .unwrap_err();
    assert!(is_invalid_path(&err), "{err:?}");
    let created = zk
        .create(
            &format!("{dir}/"),
            b"",
            &CreateOptions::ephemeral_sequential(),
        )
        .await
        .unwrap();
    assert_eq!(created.path, format!("{dir}/0000000000"));
    root.finish().await;
}

/// The remaining path-taking operations reject invalid paths locally too: watched reads,
/// `set_acl`, `sync`, `add_watch`, `get_all_children_number`, `get_ephemerals` and
/// `multi_read` (which names the bad read's index).
pub async fn invalid_paths_are_rejected_by_every_operation(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let caps = backend.capabilities();
    for path in [
        format!("{}/trailing/", root.path()),
        format!("{}//x", root.path()),
        "relative".to_owned(),
    ] {
        let p = path.as_str();
        let mut errors = vec![
            zk.watch_data(p).await.map(|_| ()).unwrap_err(),
            zk.watch_children(p).await.map(|_| ()).unwrap_err(),
            zk.set_acl(p, &zk_core::Acl::open_unsafe(), None)
                .await
                .map(|_| ())
                .unwrap_err(),
            zk.sync(p).await.unwrap_err(),
        ];
        if caps.persistent_watches {
            errors.push(
                zk.add_watch(p, zk_core::AddWatchMode::Persistent)
                    .await
                    .map(|_| ())
                    .unwrap_err(),
            );
        }
        if caps.get_ephemerals {
            errors.push(zk.get_all_children_number(p).await.map(|_| ()).unwrap_err());
            errors.push(zk.get_ephemerals(p).await.map(|_| ()).unwrap_err());
        }
        for (op, err) in errors.iter().enumerate() {
            assert!(is_invalid_path(err), "{path:?} op #{op}: {err:?}");
        }
        if caps.multi_read {
            let err = zk
                .multi_read(&[
                    zk_core::ReadOp::get_data(root.path()),
                    zk_core::ReadOp::get_children(p),
                ])
                .await
                .unwrap_err();
            assert_eq!(err.multi_index(), Some(1), "{err:?}");
            assert!(is_invalid_path(err.root()), "{err:?}");
        }
    }
    root.finish().await;
}
