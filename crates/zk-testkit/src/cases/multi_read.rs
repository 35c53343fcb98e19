//! `multi_read`: independent reads in one round trip.

use zk_core::{Acl, CreateOptions, Error, Perms, ReadOp, ReadResult};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{persistent, sorted, supports, world};

/// Data and children reads return their results in order; a failing read fails alone.
pub async fn multi_read_mixes_results_and_errors(backend: &dyn Backend) {
    if !supports(backend, |c| c.multi_read, "multiRead") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let dir = root.join("dir");
    zk.create(&dir, b"top", &persistent()).await.unwrap();
    zk.create(&root.join("dir/a"), b"", &persistent())
        .await
        .unwrap();
    zk.create(&root.join("dir/b"), b"", &persistent())
        .await
        .unwrap();
    let missing = root.join("missing");
    let results = zk
        .multi_read(&[
            ReadOp::get_data(dir.clone()),
            ReadOp::get_children(missing.clone()),
            ReadOp::get_children(dir.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    match &results[0] {
        Ok(ReadResult::Data { data, stat }) => {
            assert_eq!(data, b"top");
            assert_eq!(stat.num_children, 2);
        }
        other => panic!("expected data, got {other:?}"),
    }
    assert_eq!(results[1], Err(Error::NoNode { path: missing }));
    match &results[2] {
        Ok(ReadResult::Children { children }) => {
            assert_eq!(sorted(children.clone()), vec!["a", "b"]);
        }
        other => panic!("expected children, got {other:?}"),
    }
    root.finish().await;
}

/// A read the caller may not do fails with `NoAuth` on its own.
pub async fn multi_read_checks_permissions_per_op(backend: &dyn Backend) {
    if !supports(backend, |c| c.multi_read, "multiRead") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let hidden = root.join("hidden");
    let open = root.join("open");
    let acl = TestRoot::with_admin(vec![world(Perms::WRITE)]);
    zk.create(&hidden, b"h", &CreateOptions::persistent().with_acl(acl))
        .await
        .unwrap();
    zk.create(
        &open,
        b"o",
        &CreateOptions::persistent().with_acl(Acl::read_unsafe()),
    )
    .await
    .unwrap();
    let results = zk
        .multi_read(&[ReadOp::get_data(hidden.clone()), ReadOp::get_data(open)])
        .await
        .unwrap();
    assert!(
        matches!(results[0], Err(Error::NoAuth { .. })),
        "{:?}",
        results[0]
    );
    assert!(
        matches!(&results[1], Ok(ReadResult::Data { data, .. }) if data == b"o"),
        "{:?}",
        results[1]
    );
    root.finish().await;
}

/// An empty `multi_read` returns no results.
pub async fn multi_read_empty_returns_nothing(backend: &dyn Backend) {
    if !supports(backend, |c| c.multi_read, "multiRead") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    assert!(zk.multi_read(&[]).await.unwrap().is_empty());
    let results = zk
        .multi_read(&[ReadOp::get_children(root.path())])
        .await
        .unwrap();
    assert_eq!(
        results,
        vec![Ok(ReadResult::Children {
            children: Vec::new()
        })]
    );
    root.finish().await;
}
