//! Sessions: ids, state, close and expiry, and what they do to ephemeral nodes and watches.

use futures::StreamExt;
use zk_core::{AddWatchMode, CreateOptions, EventType, SessionState};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{event, next_past_reconnects, node, persistent, session, supports};
use crate::timing::within;

/// Sessions have distinct non-zero ids, start `SyncConnected` and have a positive timeout.
pub async fn sessions_are_independent(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (a, b) = (root.session().await, root.session().await);
    assert_ne!(a.session_id(), 0);
    assert_ne!(a.session_id(), b.session_id());
    assert_eq!(*a.session_state().borrow(), SessionState::SyncConnected);
    assert!(!a.session_timeout().is_zero());
    a.create(&root.join("from-a"), b"a", &persistent())
        .await
        .unwrap();
    b.sync(&root.join("from-a")).await.unwrap();
    assert_eq!(b.get_data(&root.join("from-a")).await.unwrap().0, b"a");
    root.finish().await;
}

/// Closing a session deletes its ephemeral nodes (not its persistent ones) and notifies other
/// sessions' watches: `NodeDeleted` on the node, `NodeChildrenChanged` on the parent.
pub async fn close_deletes_ephemerals_and_notifies(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (owner, watcher) = (root.session().await, root.session().await);
    let dir = root.join("dir");
    watcher.create(&dir, b"", &persistent()).await.unwrap();
    let eph = root.join("dir/eph");
    let kept = root.join("kept");
    owner
        .create(&eph, b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    owner.create(&kept, b"", &persistent()).await.unwrap();
    let before = watcher.exists(&dir).await.unwrap().unwrap();
    let (_, deleted) = watcher.watch_exists(&eph).await.unwrap();
    let (_, _, children) = watcher.watch_children(&dir).await.unwrap();
    owner.close().await.unwrap();
    assert_eq!(event(deleted).await, node(EventType::NodeDeleted, &eph));
    assert_eq!(
        event(children).await,
        node(EventType::NodeChildrenChanged, &dir)
    );
    assert!(watcher.exists(&eph).await.unwrap().is_none());
    assert!(watcher.exists(&kept).await.unwrap().is_some());
    let after = watcher.exists(&dir).await.unwrap().unwrap();
    assert!(after.pzxid > before.pzxid, "the cleanup moves pzxid");
    assert_eq!(
        (after.cversion, after.num_children),
        (before.cversion + 1, 0)
    );
    root.finish().await;
}

/// `close` is idempotent, ends in `Closed`, and later requests fail with a session-fatal error.
pub async fn closed_session_refuses_requests(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    zk.close().await.unwrap();
    zk.close().await.unwrap();
    assert_eq!(*zk.session_state().borrow(), SessionState::Closed);
    let err = zk.exists(root.path()).await.unwrap_err();
    assert!(err.is_session_fatal(), "{err:?}");
    let err = zk
        .create(&root.join("late"), b"", &persistent())
        .await
        .unwrap_err();
    assert!(err.is_session_fatal(), "{err:?}");
    assert!(
        root.admin()
            .exists(&root.join("late"))
            .await
            .unwrap()
            .is_none()
    );
    root.finish().await;
}

/// The session-state receiver reports `Closed` to a follower waiting on it.
pub async fn session_state_follows_close(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let mut state = zk.session_state();
    assert!(state.borrow().is_connected());
    let closer = zk.clone();
    let (closed, waited) = tokio::join!(closer.close(), async {
        within(state.wait_for(|s| *s == SessionState::Closed))
            .await
            .is_ok()
    });
    closed.unwrap();
    assert!(waited, "the receiver must see Closed");
    assert!(state.borrow().is_terminal());
    root.finish().await;
}

/// An expired session loses its ephemeral nodes (other sessions see `NodeDeleted`), and its
/// pending one-shot watches resolve with an `Expired` session event.
pub async fn expiry_deletes_ephemerals_and_ends_watches(backend: &dyn Backend) {
    if !supports(backend, |c| c.expire_session, "session expiry") {
        return;
    }
    let root = TestRoot::new(backend).await;
    let (doomed, watcher) = (root.session().await, root.session().await);
    let eph = root.join("eph");
    doomed
        .create(&eph, b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let (_, _, own_watch) = doomed.watch_data(&eph).await.unwrap();
    let (_, others_watch) = watcher.watch_exists(&eph).await.unwrap();
    assert!(
        backend.expire_session(&*doomed).await,
        "expiry is supported"
    );
    assert_eq!(
        event(others_watch).await,
        node(EventType::NodeDeleted, &eph)
    );
    assert_eq!(event(own_watch).await, session(SessionState::Expired));
    assert!(watcher.exists(&eph).await.unwrap().is_none());
    assert!(
        !watcher
            .get_children(root.path())
            .await
            .unwrap()
            .0
            .contains(&"eph".to_owned())
    );
    root.finish().await;
}

/// On expiry a persistent watch yields an `Expired` session event, then ends.
pub async fn expiry_ends_persistent_watches(backend: &dyn Backend) {
    if !supports(backend, |c| c.expire_session, "session expiry")
        || !supports(backend, |c| c.persistent_watches, "persistent watches")
    {
        return;
    }
    let root = TestRoot::new(backend).await;
    let doomed = root.session().await;
    let mut watch = doomed
        .add_watch(root.path(), AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    assert!(backend.expire_session(&*doomed).await);
    assert_eq!(
        next_past_reconnects(&mut watch).await,
        session(SessionState::Expired)
    );
    assert_eq!(within(watch.next()).await, None, "the stream ends");
    root.finish().await;
}

/// Ephemeral nodes belong to their session only: another session's close leaves them alone.
pub async fn ephemerals_belong_to_their_session(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (a, b) = (root.session().await, root.session().await);
    let (ea, eb) = (root.join("a"), root.join("b"));
    a.create(&ea, b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let stat = b
        .create(&eb, b"", &CreateOptions::ephemeral())
        .await
        .unwrap()
        .stat;
    assert_eq!(stat.ephemeral_owner, b.session_id());
    let (_, gone) = b.watch_exists(&ea).await.unwrap();
    a.close().await.unwrap();
    assert_eq!(event(gone).await, node(EventType::NodeDeleted, &ea));
    let still = b.exists(&eb).await.unwrap().expect("b's node survives");
    assert_eq!(still.ephemeral_owner, b.session_id());
    root.finish().await;
}

/// Another session may delete an ephemeral node; a persistent node later created at the same
/// path belongs to nobody and survives the first owner's close.
pub async fn ephemeral_deleted_by_another_session(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let (owner, other) = (root.session().await, root.session().await);
    let path = root.join("e");
    owner
        .create(&path, b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    other.delete(&path, None).await.unwrap();
    let recreated = other.create(&path, b"p", &persistent()).await.unwrap();
    assert_eq!(recreated.stat.ephemeral_owner, 0);
    if backend.capabilities().get_ephemerals {
        assert!(owner.get_ephemerals(root.path()).await.unwrap().is_empty());
    }
    owner.close().await.unwrap();
    other.sync(&path).await.unwrap();
    let (data, stat) = other.get_data(&path).await.unwrap();
    assert_eq!(
        (data.as_slice(), stat.czxid),
        (&b"p"[..], recreated.stat.czxid)
    );
    root.finish().await;
}
