//! Followed watches, written once, run against every backend (the fake and a real server).

use std::sync::Arc;

use futures::StreamExt;
use zk_cache::{Children, NodeData, WatchStream, children_watch, data_watch};
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error};
use zk_testkit::Backend;
use zk_testkit::timing::within;

type Zk = Arc<dyn Coordinator>;

/// A fresh root for one case.
fn root() -> String {
    format!("/watches-{}", uuid::Uuid::new_v4())
}

/// The next item of `stream`, bounded.
async fn next<T>(stream: &mut WatchStream<T>) -> Option<Result<Option<T>, Error>> {
    within(stream.next()).await
}

/// The next value of `stream`, which must come and not be an error.
async fn value<T>(stream: &mut WatchStream<T>) -> Option<T> {
    next(stream)
        .await
        .expect("the stream ended")
        .expect("an error")
}

fn data(value: Option<NodeData>) -> Option<Vec<u8>> {
    value.map(|v| v.data)
}

fn names(value: Option<Children>) -> Option<Vec<String>> {
    value.map(|v| v.names)
}

/// Removes the case's root and closes `sessions`.
async fn clean_up(root: &str, sessions: Vec<Zk>) {
    sessions[0].delete_all(root).await.unwrap();
    for zk in sessions {
        zk.close().await.unwrap();
    }
}

pub(crate) async fn data_follows_a_node_through_its_life(backend: &dyn Backend) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    let path = format!("{root}/config");
    let mut watch = data_watch(zk.clone(), &path).unwrap();
    assert_eq!(value(&mut watch).await, None, "absent is a value");

    writer
        .create_with_parents(&path, b"v1", &CreateOptions::persistent())
        .await
        .unwrap();
    let first = value(&mut watch).await.expect("created");
    assert_eq!(first.data, b"v1");
    let updated = writer.set_data(&path, b"v2", None).await.unwrap();
    let second = value(&mut watch).await.expect("updated");
    assert_eq!(
        (second.data.as_slice(), second.stat),
        (b"v2".as_slice(), updated)
    );
    // The same bytes again are a new version: a change.
    writer.set_data(&path, b"v2", None).await.unwrap();
    let third = value(&mut watch).await.expect("set again");
    assert!(third.stat.mzxid > second.stat.mzxid);
    writer.delete(&path, None).await.unwrap();
    assert_eq!(value(&mut watch).await, None, "deleted");
    writer
        .create(&path, b"v3", &CreateOptions::persistent())
        .await
        .unwrap();
    assert_eq!(
        data(value(&mut watch).await),
        Some(b"v3".to_vec()),
        "created again"
    );
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn children_follow_the_set_sorted(backend: &dyn Backend) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    let mut watch = children_watch(zk.clone(), &root).unwrap();
    assert_eq!(value(&mut watch).await, None);
    writer
        .create(&root, b"", &CreateOptions::persistent())
        .await
        .unwrap();
    assert_eq!(names(value(&mut watch).await), Some(vec![]));
    for child in ["b", "a"] {
        writer
            .create(
                &format!("{root}/{child}"),
                b"",
                &CreateOptions::persistent(),
            )
            .await
            .unwrap();
        let seen = names(value(&mut watch).await).unwrap();
        assert!(
            seen.is_sorted() && seen.contains(&child.to_owned()),
            "{seen:?}"
        );
    }
    // A data change of the parent or a child is not a change of the set: nothing is yielded
    // for it; the next value is the deletion.
    writer.set_data(&root, b"x", None).await.unwrap();
    writer
        .set_data(&format!("{root}/a"), b"x", None)
        .await
        .unwrap();
    writer.delete(&format!("{root}/b"), None).await.unwrap();
    assert_eq!(names(value(&mut watch).await), Some(vec!["a".to_owned()]));
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn a_burst_of_changes_ends_at_the_latest_value(backend: &dyn Backend) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    writer
        .create(&root, b"0", &CreateOptions::persistent())
        .await
        .unwrap();
    let mut watch = data_watch(zk.clone(), &root).unwrap();
    assert_eq!(data(value(&mut watch).await), Some(b"0".to_vec()));
    const WRITES: u32 = 50;
    for n in 1..=WRITES {
        writer
            .set_data(&root, n.to_string().as_bytes(), None)
            .await
            .unwrap();
    }
    // Values may be skipped, never repeated or taken back, and the last is the final one.
    let mut last_version = 0;
    loop {
        let seen = value(&mut watch).await.unwrap();
        assert!(seen.stat.version > last_version, "went back or repeated");
        last_version = seen.stat.version;
        if seen.data == WRITES.to_string().as_bytes() {
            break;
        }
    }
    assert_eq!(last_version, WRITES as i32);
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn expiry_is_ridden_out_in_the_new_session(backend: &dyn Backend) {
    if !backend.capabilities().expire_session {
        panic!("{} cannot expire sessions", backend.name());
    }
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    writer
        .create(&root, b"", &CreateOptions::persistent())
        .await
        .unwrap();
    let mine = format!("{root}/mine");
    zk.create(&mine, b"e", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let mut node = data_watch(zk.clone(), &mine).unwrap();
    let mut children = children_watch(zk.clone(), &root).unwrap();
    assert_eq!(data(value(&mut node).await), Some(b"e".to_vec()));
    assert_eq!(
        names(value(&mut children).await),
        Some(vec!["mine".to_owned()])
    );
    let old = zk.session_id();
    assert!(backend.expire_session(zk.as_ref()).await);
    // The ephemeral node went with the session: both streams see it, then keep following in
    // the handle's new session.
    assert_eq!(value(&mut node).await, None);
    assert_eq!(names(value(&mut children).await), Some(vec![]));
    writer
        .create(&mine, b"again", &CreateOptions::persistent())
        .await
        .unwrap();
    assert_eq!(data(value(&mut node).await), Some(b"again".to_vec()));
    assert_eq!(
        names(value(&mut children).await),
        Some(vec!["mine".to_owned()])
    );
    assert_ne!(zk.session_id(), old, "followed in a new session");
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn closing_the_handle_ends_the_stream(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let root = root();
    let mut watch = data_watch(zk.clone(), &root).unwrap();
    assert_eq!(value(&mut watch).await, None);
    let latest = children_watch(zk.clone(), "/")
        .unwrap()
        .into_latest()
        .await
        .unwrap();
    assert!(latest.borrow().is_some(), "the root always exists");
    zk.close().await.unwrap();
    assert!(next(&mut watch).await.is_none(), "ended quietly");
    let mut latest = latest;
    within(async {
        // The task drops its sender once the stream ends.
        while latest.changed().await.is_ok() {}
    })
    .await;
}

pub(crate) async fn latest_always_holds_the_newest_value(backend: &dyn Backend) {
    let (zk, writer) = (backend.connect().await, backend.connect().await);
    let root = root();
    writer
        .create(&root, b"", &CreateOptions::persistent())
        .await
        .unwrap();
    let mut latest = children_watch(zk.clone(), &root)
        .unwrap()
        .into_latest()
        .await
        .unwrap();
    assert_eq!(
        latest.borrow_and_update().as_ref().map(|c| c.names.len()),
        Some(0)
    );
    for n in 0..5 {
        writer
            .create(&format!("{root}/n{n}"), b"", &CreateOptions::persistent())
            .await
            .unwrap();
    }
    within(async {
        while latest.borrow_and_update().as_ref().map(|c| c.names.len()) != Some(5) {
            latest.changed().await.unwrap();
        }
    })
    .await;
    clean_up(&root, vec![writer, zk]).await;
}

pub(crate) async fn bad_paths_and_forbidden_reads_are_errors(backend: &dyn Backend) {
    let zk = backend.connect().await;
    assert!(matches!(
        data_watch(zk.clone(), "no-slash"),
        Err(Error::InvalidPath { .. })
    ));
    assert!(matches!(
        children_watch(zk.clone(), "/trailing/"),
        Err(Error::InvalidPath { .. })
    ));
    // A node nobody may read: the error is yielded once, then the stream ends.
    let root = root();
    let acl = vec![zk_core::Acl::new(
        zk_core::Perms::CREATE | zk_core::Perms::DELETE,
        zk_core::Id::anyone(),
    )];
    zk.create(&root, b"", &CreateOptions::persistent().with_acl(acl))
        .await
        .unwrap();
    let mut watch = data_watch(zk.clone(), &root).unwrap();
    assert!(matches!(
        next(&mut watch).await,
        Some(Err(Error::NoAuth { .. }))
    ));
    assert!(next(&mut watch).await.is_none());
    zk.delete(&root, None).await.unwrap();
    zk.close().await.unwrap();
}

zk_testkit::recipe_suite! {
    /// Stamps every watch case for one backend: `watch_cases!(backend = ..., time = paused | real)`.
    macro watch_cases;
    module = crate::cases;
    source = include_str!("cases.rs");
    cases = [
        data_follows_a_node_through_its_life,
        children_follow_the_set_sorted,
        a_burst_of_changes_ends_at_the_latest_value,
        expiry_is_ridden_out_in_the_new_session,
        closing_the_handle_ends_the_stream,
        latest_always_holds_the_newest_value,
        bad_paths_and_forbidden_reads_are_errors,
    ];
}
