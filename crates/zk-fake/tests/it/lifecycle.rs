//! Session lifecycle: expiry, renewal, timed disconnects with catch-up, close, abandonment, auth.

use std::time::Duration;

use futures::StreamExt;
use zk_core::{
    Acl, AddWatchMode, Coordinator, CreateOptions, Error, EventType, Id, Perms, SessionState,
    WatchEvent,
};
use zk_fake::{FakeEnsemble, SessionOptions};

async fn next_state(rx: &mut tokio::sync::watch::Receiver<SessionState>) -> SessionState {
    tokio::time::timeout(Duration::from_secs(120), rx.changed())
        .await
        .expect("a state change within the timeout")
        .expect("the handle is alive");
    *rx.borrow_and_update()
}

#[tokio::test(start_paused = true)]
async fn expiry_removes_ephemerals_ends_watches_and_renews_the_session() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let other = ensemble.connect();
    zk.create("/eph", b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    zk.create("/keep", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    let (_, _, own_watch) = zk.watch_data("/keep").await.unwrap();
    let mut own_stream = zk
        .add_watch("/", AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let (_, other_watch) = other.watch_exists("/eph").await.unwrap();
    let mut state = zk.session_state();
    let old_id = zk.session_id();

    assert!(ensemble.faults().expire_session(old_id));

    assert_eq!(*state.borrow_and_update(), SessionState::Expired);
    assert_eq!(own_watch.await, WatchEvent::session(SessionState::Expired));
    assert_eq!(
        own_stream.next().await,
        Some(WatchEvent::session(SessionState::Expired))
    );
    assert_eq!(
        own_stream.next().await,
        None,
        "the stream ends with its session"
    );
    assert_eq!(
        other_watch.await,
        WatchEvent::node(EventType::NodeDeleted, "/eph")
    );
    assert_eq!(zk.exists("/keep").await, Err(Error::SessionExpired));

    assert_eq!(next_state(&mut state).await, SessionState::SyncConnected);
    assert_ne!(zk.session_id(), old_id);
    assert!(!ensemble.session_ids().contains(&old_id));
    assert_eq!(zk.get_ephemerals("/").await, Ok(vec![]));
    assert!(zk.exists("/keep").await.unwrap().is_some());
    assert!(!ensemble.faults().expire_session(old_id), "already gone");
}

#[tokio::test(start_paused = true)]
async fn terminal_expiry_stays_expired() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect_with(SessionOptions::new().terminal_expiry(true));
    ensemble.faults().expire_session(zk.session_id());
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(*zk.session_state().borrow(), SessionState::Expired);
    assert_eq!(
        zk.get_data("/").await.map(|_| ()),
        Err(Error::SessionExpired)
    );
}

#[tokio::test(start_paused = true)]
async fn a_short_disconnect_keeps_the_session_and_catches_watches_up() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let other = ensemble.connect();
    for path in ["/changed", "/quiet", "/deleted", "/parent"] {
        zk.create(path, b"", &CreateOptions::persistent())
            .await
            .unwrap();
    }
    let (_, _, changed) = zk.watch_data("/changed").await.unwrap();
    let (_, _, mut quiet) = zk.watch_data("/quiet").await.unwrap();
    let (_, _, deleted) = zk.watch_data("/deleted").await.unwrap();
    let (_, created) = zk.watch_exists("/created").await.unwrap();
    let (_, _, children) = zk.watch_children("/parent").await.unwrap();
    let mut stream = zk
        .add_watch("/changed", AddWatchMode::Persistent)
        .await
        .unwrap();
    let mut state = zk.session_state();
    let id = zk.session_id();

    assert!(ensemble.faults().disconnect(id, Duration::from_secs(3)));
    assert_eq!(*state.borrow_and_update(), SessionState::Disconnected);
    assert_eq!(zk.exists("/").await.map(|_| ()), Err(Error::ConnectionLoss));
    other.set_data("/changed", b"1", None).await.unwrap();
    other.set_data("/changed", b"2", None).await.unwrap();
    other.delete("/deleted", None).await.unwrap();
    other
        .create("/created", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    other
        .create("/parent/c", b"", &CreateOptions::persistent())
        .await
        .unwrap();

    assert_eq!(next_state(&mut state).await, SessionState::SyncConnected);
    assert_eq!(zk.session_id(), id, "same session");
    assert_eq!(changed.await.event_type, EventType::NodeDataChanged);
    assert_eq!(deleted.await.event_type, EventType::NodeDeleted);
    assert_eq!(created.await.event_type, EventType::NodeCreated);
    assert_eq!(children.await.event_type, EventType::NodeChildrenChanged);
    zk.sync("/").await.unwrap();
    assert_eq!(quiet.try_event(), None, "an unchanged node fires nothing");
    // The persistent watch saw the connection drop and return, but not the changes meanwhile.
    assert_eq!(
        stream.next().await,
        Some(WatchEvent::session(SessionState::Disconnected))
    );
    assert_eq!(
        stream.next().await,
        Some(WatchEvent::session(SessionState::SyncConnected))
    );
    // The one catch-up notification for /changed reaches every local watcher of the path, the
    // persistent one included, once for both changes.
    assert_eq!(
        stream.next().await,
        Some(WatchEvent::node(EventType::NodeDataChanged, "/changed"))
    );
    assert_eq!(stream.try_next_event(), None);
    other.set_data("/changed", b"3", None).await.unwrap();
    assert_eq!(
        stream.next().await,
        Some(WatchEvent::node(EventType::NodeDataChanged, "/changed"))
    );
}

#[tokio::test(start_paused = true)]
async fn a_long_disconnect_expires_the_session_then_renews_on_return() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect_with(SessionOptions::new().timeout(Duration::from_secs(6)));
    assert_eq!(zk.session_timeout(), Duration::from_secs(6));
    let other = ensemble.connect();
    zk.create("/eph", b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let (_, gone) = other.watch_exists("/eph").await.unwrap();
    let mut state = zk.session_state();
    let id = zk.session_id();
    let start = tokio::time::Instant::now();

    assert!(ensemble.faults().disconnect(id, Duration::from_secs(20)));
    assert_eq!(*state.borrow_and_update(), SessionState::Disconnected);
    assert_eq!(gone.await.event_type, EventType::NodeDeleted);
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(6),
        "expired at the timeout"
    );
    assert_eq!(next_state(&mut state).await, SessionState::Expired);
    assert_eq!(next_state(&mut state).await, SessionState::SyncConnected);
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(20),
        "renewed when the link returned"
    );
    assert_ne!(zk.session_id(), id);
}

#[tokio::test(start_paused = true)]
async fn timeouts_are_negotiated_into_the_server_range() {
    let ensemble = FakeEnsemble::new();
    let short = ensemble.connect_with(SessionOptions::new().timeout(Duration::from_secs(1)));
    let long = ensemble.connect_with(SessionOptions::new().timeout(Duration::from_secs(100)));
    assert_eq!(short.session_timeout(), Duration::from_secs(4));
    assert_eq!(long.session_timeout(), Duration::from_secs(40));
}

#[tokio::test(start_paused = true)]
async fn close_deletes_ephemerals_and_resolves_watches_closed() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let other = ensemble.connect();
    zk.create("/e", b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let (_, _, own) = zk.watch_data("/e").await.unwrap();
    let (_, _, root) = zk.watch_data("/").await.unwrap();
    let (_, seen) = other.watch_exists("/e").await.unwrap();
    zk.close().await.unwrap();
    // The server sends the deletion of the session's own ephemerals before the close reply.
    assert_eq!(own.await, WatchEvent::node(EventType::NodeDeleted, "/e"));
    assert_eq!(root.await, WatchEvent::session(SessionState::Closed));
    assert_eq!(seen.await, WatchEvent::node(EventType::NodeDeleted, "/e"));
    assert_eq!(*zk.session_state().borrow(), SessionState::Closed);
    assert_eq!(zk.exists("/").await, Err(Error::Closed));
    zk.close().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_dropped_handle_closes_its_session_at_once() {
    let ensemble = FakeEnsemble::new();
    let observer = ensemble.connect();
    let zk = ensemble.connect();
    zk.create("/left", b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let (_, gone) = observer.watch_exists("/left").await.unwrap();
    let start = tokio::time::Instant::now();
    drop(zk);
    assert_eq!(gone.await.event_type, EventType::NodeDeleted);
    assert_eq!(start.elapsed(), Duration::ZERO, "closed, not timed out");
    assert_eq!(ensemble.session_ids(), vec![observer.session_id()]);
}

#[tokio::test(start_paused = true)]
async fn a_handle_dropped_while_cut_off_leaves_its_session_to_time_out() {
    let ensemble = FakeEnsemble::new();
    let observer = ensemble.connect();
    let zk = ensemble.connect();
    zk.create("/left", b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let timeout = zk.session_timeout();
    let (_, gone) = observer.watch_exists("/left").await.unwrap();
    assert!(ensemble.faults().disconnect(zk.session_id(), timeout * 10));
    let start = tokio::time::Instant::now();
    drop(zk);
    assert_eq!(gone.await.event_type, EventType::NodeDeleted);
    assert_eq!(start.elapsed(), timeout);
}

#[tokio::test(start_paused = true)]
async fn unknown_auth_schemes_fail_the_handle_for_good() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let (_, watch) = zk.watch_exists("/x").await.unwrap();
    assert_eq!(
        zk.add_auth("kerberos", b"who").await,
        Err(Error::AuthFailed)
    );
    assert_eq!(watch.await, WatchEvent::session(SessionState::AuthFailed));
    assert_eq!(*zk.session_state().borrow(), SessionState::AuthFailed);
    assert_eq!(zk.exists("/").await, Err(Error::AuthFailed));
    assert!(SessionState::AuthFailed.is_terminal());
}

#[tokio::test(start_paused = true)]
async fn credentials_survive_session_renewal() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect_with(SessionOptions::new().auth("digest", b"alice:secret"));
    let acl = vec![Acl::new(Perms::ALL, Id::digest("alice", "secret"))];
    zk.create("/private", b"s", &CreateOptions::persistent().with_acl(acl))
        .await
        .unwrap();
    let stranger = ensemble.connect();
    assert!(matches!(
        stranger.get_data("/private").await,
        Err(Error::NoAuth { .. })
    ));
    ensemble.faults().expire_session(zk.session_id());
    zk.session_state()
        .wait_for(|s| s.is_connected())
        .await
        .unwrap();
    assert_eq!(zk.get_data("/private").await.unwrap().0, b"s");
}

#[tokio::test(start_paused = true)]
async fn super_users_pass_every_acl() {
    let ensemble = FakeEnsemble::builder().super_user("root", "pw").build();
    let owner = ensemble.connect_with(SessionOptions::new().auth("digest", b"alice:secret"));
    owner
        .create(
            "/locked",
            b"",
            &CreateOptions::persistent().with_acl(Acl::creator_all()),
        )
        .await
        .unwrap();
    let admin = ensemble.connect();
    admin.add_auth("digest", b"root:pw").await.unwrap();
    admin.set_data("/locked", b"by root", None).await.unwrap();
    admin.delete("/locked", None).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_session_expired_while_cut_off_is_renewed_when_the_link_returns() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let id = zk.session_id();
    assert!(ensemble.faults().disconnect(id, Duration::from_secs(2)));
    assert!(ensemble.faults().expire_session(id));
    let mut state = zk.session_state();
    assert_eq!(*state.borrow_and_update(), SessionState::Expired);
    assert_eq!(next_state(&mut state).await, SessionState::SyncConnected);
    assert_ne!(zk.session_id(), id);

    // The same when the expiry lands inside a lost request's reconnect delay.
    let id = zk.session_id();
    ensemble.faults().fail_next(
        zk_fake::OpMatcher::any(),
        zk_fake::Fault::ConnectionLossBeforeApply,
    );
    assert_eq!(zk.sync("/").await, Err(Error::ConnectionLoss));
    assert!(ensemble.faults().expire_session(id));
    zk.session_state()
        .wait_for(|s| *s == SessionState::SyncConnected)
        .await
        .unwrap();
    assert_ne!(zk.session_id(), id);
}

#[tokio::test(start_paused = true)]
async fn a_long_disconnect_still_renews_when_the_session_was_expired_meanwhile() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let id = zk.session_id();
    assert!(ensemble.faults().disconnect(id, Duration::from_secs(30)));
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(ensemble.faults().expire_session(id));
    let start = tokio::time::Instant::now();
    zk.session_state()
        .wait_for(|s| *s == SessionState::SyncConnected)
        .await
        .unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(26),
        "when the link returns"
    );
    assert_ne!(zk.session_id(), id);
}
