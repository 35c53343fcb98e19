//! `multi`: atomic transactions, result shapes, rollback and per-operation errors.

use zk_core::{Acl, CreateOptions, Error, Id, Op, OpResult, Perms};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::persistent;

/// Every op kind succeeds in one transaction, with one result of the matching kind per op.
pub async fn multi_applies_every_op_kind(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let (keep, old) = (root.join("keep"), root.join("old"));
    zk.create(&keep, b"k", &persistent()).await.unwrap();
    zk.create(&old, b"", &persistent()).await.unwrap();
    let new = root.join("new");
    let results = zk
        .multi(&[
            Op::create(new.clone(), b"n".to_vec(), persistent()),
            Op::set_data(keep.clone(), b"k2".to_vec(), Some(0)),
            Op::check(keep.clone(), Some(1)),
            Op::delete(old.clone(), Some(0)),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 4);
    assert!(
        matches!(&results[0], OpResult::Create { path, .. } if *path == new),
        "{:?}",
        results[0]
    );
    let OpResult::SetData { stat } = &results[1] else {
        panic!("expected a SetData result, got {:?}", results[1]);
    };
    assert_eq!((stat.version, stat.data_length), (1, 2));
    assert_eq!(results[2], OpResult::Check);
    assert_eq!(results[3], OpResult::Delete);
    assert_eq!(zk.get_data(&new).await.unwrap().0, b"n");
    assert_eq!(zk.get_data(&keep).await.unwrap().0, b"k2");
    assert!(zk.exists(&old).await.unwrap().is_none());
    root.finish().await;
}

/// A failing op rolls back the whole transaction and is named by its index
/// (vector multi-error).
pub async fn multi_failure_rolls_back(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let existing = root.join("existing");
    zk.create(&existing, b"", &persistent()).await.unwrap();
    let new = root.join("multi-new");
    let err = zk
        .multi(&[
            Op::create(new.clone(), Vec::new(), persistent()),
            Op::check(existing.clone(), Some(7)),
            Op::delete(existing.clone(), None),
        ])
        .await
        .unwrap_err();
    let Error::Multi { index, source } = &err else {
        panic!("expected Error::Multi, got {err:?}");
    };
    assert_eq!(*index, 1);
    assert!(
        matches!(**source, Error::BadVersion { expected: 7, .. }),
        "{source:?}"
    );
    assert!(
        zk.exists(&new).await.unwrap().is_none(),
        "create rolled back"
    );
    assert!(zk.exists(&existing).await.unwrap().is_some());
    root.finish().await;
}

/// Each op sees the tree as changed by the earlier ops of the same transaction.
pub async fn multi_ops_see_earlier_ops(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let dir = root.join("dir");
    let kid = root.join("dir/kid");
    let results = zk
        .multi(&[
            Op::create(dir.clone(), Vec::new(), persistent()),
            Op::create(kid.clone(), Vec::new(), persistent()),
            Op::set_data(kid.clone(), b"x".to_vec(), Some(0)),
            Op::check(kid.clone(), Some(1)),
            Op::delete(kid.clone(), Some(1)),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 5);
    let stat = zk.exists(&dir).await.unwrap().unwrap();
    assert_eq!((stat.num_children, stat.cversion), (0, 2));
    assert!(zk.exists(&kid).await.unwrap().is_none());
    root.finish().await;
}

/// All writes of a transaction share one zxid.
pub async fn multi_uses_one_zxid(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let (a, b) = (root.join("a"), root.join("b"));
    zk.multi(&[
        Op::create(a.clone(), Vec::new(), persistent()),
        Op::create(b.clone(), Vec::new(), persistent()),
    ])
    .await
    .unwrap();
    let (sa, sb) = (
        zk.exists(&a).await.unwrap().unwrap(),
        zk.exists(&b).await.unwrap().unwrap(),
    );
    assert_eq!(sa.czxid, sb.czxid);
    assert_eq!(
        zk.exists(root.path()).await.unwrap().unwrap().pzxid,
        sa.czxid
    );
    root.finish().await;
}

/// Sequential and ephemeral creates inside a transaction get their suffix and owner.
pub async fn multi_sequential_and_ephemeral_creates(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let prefix = root.join("s-");
    let results = zk
        .multi(&[
            Op::create(
                prefix.clone(),
                Vec::new(),
                CreateOptions::persistent_sequential(),
            ),
            Op::create(
                prefix.clone(),
                Vec::new(),
                CreateOptions::ephemeral_sequential(),
            ),
        ])
        .await
        .unwrap();
    let paths: Vec<&str> = results
        .iter()
        .map(|r| match r {
            OpResult::Create { path, .. } => path.as_str(),
            other => panic!("expected a create result, got {other:?}"),
        })
        .collect();
    assert_eq!(
        paths,
        vec![format!("{prefix}0000000000"), format!("{prefix}0000000001")]
    );
    let stat = zk.exists(paths[1]).await.unwrap().unwrap();
    assert_eq!(stat.ephemeral_owner, zk.session_id());
    root.finish().await;
}

/// Recognises one error variant.
type ErrorCheck = fn(&Error) -> bool;

/// Per-op server errors come back inside `Error::Multi` with the failing index: `NoNode` of a
/// check, `NodeExists`, `NotEmpty`.
pub async fn multi_reports_per_op_errors(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let dir = root.join("dir");
    zk.create(&dir, b"", &persistent()).await.unwrap();
    zk.create(&root.join("dir/kid"), b"", &persistent())
        .await
        .unwrap();
    let cases: Vec<(Vec<Op>, usize, ErrorCheck)> = vec![
        (vec![Op::check(root.join("missing"), None)], 0, |e| {
            matches!(e, Error::NoNode { .. })
        }),
        (
            vec![
                Op::create(root.join("fresh"), Vec::new(), persistent()),
                Op::create(dir.clone(), Vec::new(), persistent()),
            ],
            1,
            |e| matches!(e, Error::NodeExists { .. }),
        ),
        (
            vec![
                Op::set_data(dir.clone(), b"x".to_vec(), None),
                Op::check(dir.clone(), Some(1)),
                Op::delete(dir.clone(), None),
            ],
            2,
            |e| matches!(e, Error::NotEmpty { .. }),
        ),
    ];
    for (ops, expected_index, is_expected) in cases {
        let err = zk.multi(&ops).await.unwrap_err();
        assert_eq!(err.multi_index(), Some(expected_index), "{err:?}");
        assert!(is_expected(err.root()), "{err:?}");
    }
    assert!(zk.exists(&root.join("fresh")).await.unwrap().is_none());
    assert_eq!(zk.exists(&dir).await.unwrap().unwrap().version, 0);
    root.finish().await;
}

/// Ops inside a multi check the same permissions as on their own: READ for check, WRITE for
/// set_data, CREATE on the parent for create; a denied op fails the transaction with `NoAuth`.
pub async fn multi_checks_permissions(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let dir = root.join("dir");
    let acl = TestRoot::with_admin(vec![Acl::new(Perms::ADMIN, Id::anyone())]);
    zk.create(&dir, b"", &CreateOptions::persistent().with_acl(acl))
        .await
        .unwrap();
    let open = root.join("open");
    for ops in [
        vec![Op::check(dir.clone(), Some(0))],
        vec![Op::set_data(dir.clone(), b"x".to_vec(), None)],
        vec![
            Op::create(open.clone(), Vec::new(), persistent()),
            Op::create(format!("{dir}/kid"), Vec::new(), persistent()),
        ],
    ] {
        let index = ops.len() - 1;
        let err = zk.multi(&ops).await.unwrap_err();
        assert_eq!(err.multi_index(), Some(index), "{err:?}");
        assert!(matches!(err.root(), Error::NoAuth { .. }), "{err:?}");
    }
    assert!(zk.exists(&open).await.unwrap().is_none());
    root.finish().await;
}

/// An empty transaction succeeds with no results.
pub async fn multi_empty_succeeds(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    assert_eq!(zk.multi(&[]).await.unwrap(), Vec::new());
    assert_eq!(
        zk.exists(root.path()).await.unwrap().unwrap().num_children,
        0
    );
    root.finish().await;
}
