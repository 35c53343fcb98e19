//! Fault injection: lost connections before and after apply, failures, delayed replies.

use std::time::Duration;

use futures::StreamExt;
use zk_core::{
    AddWatchMode, Coordinator, CreateOptions, Error, EventType, Op, SessionState, WatchEvent,
};
use zk_fake::{FakeEnsemble, Fault, OpKind, OpMatcher};

async fn next_state(rx: &mut tokio::sync::watch::Receiver<SessionState>) -> SessionState {
    tokio::time::timeout(Duration::from_secs(30), rx.changed())
        .await
        .expect("a state change within the timeout")
        .expect("the handle is alive");
    *rx.borrow_and_update()
}

#[tokio::test(start_paused = true)]
async fn a_create_applied_before_connection_loss_is_visible_afterwards() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let other = ensemble.connect();
    let mut state = zk.session_state();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create),
        Fault::ConnectionLossAfterApply,
    );

    let result = zk
        .create("/job-", b"x", &CreateOptions::ephemeral_sequential())
        .await;
    assert_eq!(result, Err(Error::ConnectionLoss));
    assert_eq!(*state.borrow_and_update(), SessionState::Disconnected);
    // While disconnected, requests fail fast.
    assert_eq!(
        zk.exists("/job-0000000000").await,
        Err(Error::ConnectionLoss)
    );
    assert_eq!(next_state(&mut state).await, SessionState::SyncConnected);

    // The node exists and belongs to the same session: the connection was lost, not the session.
    let stat = other.exists("/job-0000000000").await.unwrap().unwrap();
    assert_eq!(stat.ephemeral_owner, zk.session_id());
    assert_eq!(ensemble.faults().pending(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_create_lost_before_apply_changes_nothing() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let zxid = ensemble.last_zxid();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create),
        Fault::ConnectionLossBeforeApply,
    );
    let result = zk.create("/a", b"", &CreateOptions::persistent()).await;
    assert_eq!(result, Err(Error::ConnectionLoss));
    assert_eq!(
        ensemble.last_zxid(),
        zxid,
        "the request never reached the server"
    );
    zk.session_state()
        .wait_for(|s| s.is_connected())
        .await
        .unwrap();
    assert_eq!(zk.exists("/a").await, Ok(None));
    zk.create("/a", b"", &CreateOptions::persistent())
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn persistent_watches_see_the_connection_drop_and_return() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let mut stream = zk
        .add_watch("/", AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::SetData),
        Fault::ConnectionLossBeforeApply,
    );
    assert_eq!(
        zk.set_data("/", b"", None).await,
        Err(Error::ConnectionLoss)
    );
    assert_eq!(
        stream.next().await,
        Some(WatchEvent::session(SessionState::Disconnected))
    );
    assert_eq!(
        stream.next().await,
        Some(WatchEvent::session(SessionState::SyncConnected))
    );
    zk.create("/n", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    assert_eq!(
        stream.next().await,
        Some(WatchEvent::node(EventType::NodeCreated, "/n"))
    );
}

#[tokio::test(start_paused = true)]
async fn matchers_select_by_kind_path_and_session() {
    let ensemble = FakeEnsemble::new();
    let a = ensemble.connect();
    let b = ensemble.connect();
    a.create("/locks", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    ensemble.faults().inject(
        OpMatcher::op(OpKind::GetData)
            .path_prefix("/locks")
            .session(b.session_id()),
        Fault::Fail(Error::OperationTimeout),
        None,
    );
    assert!(a.get_data("/locks").await.is_ok(), "other session");
    assert!(b.exists("/locks").await.is_ok(), "other kind");
    assert!(b.get_data("/").await.is_ok(), "other path");
    for _ in 0..3 {
        assert_eq!(b.get_data("/locks").await, Err(Error::OperationTimeout));
    }
    assert_eq!(ensemble.faults().pending(), 1, "an unlimited rule stays");
    ensemble.faults().clear();
    assert!(b.get_data("/locks").await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_multi_matches_on_any_of_its_paths() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    ensemble.faults().fail_next(
        OpMatcher::any().path_prefix("/b"),
        Fault::ConnectionLossAfterApply,
    );
    let ops = [
        Op::create("/a", "", CreateOptions::persistent()),
        Op::create("/b", "", CreateOptions::persistent()),
    ];
    assert_eq!(zk.multi(&ops).await, Err(Error::ConnectionLoss));
    zk.session_state()
        .wait_for(|s| s.is_connected())
        .await
        .unwrap();
    assert!(zk.exists("/a").await.unwrap().is_some());
    assert!(zk.exists("/b").await.unwrap().is_some());
}

#[tokio::test(start_paused = true)]
async fn delayed_replies_arrive_late_but_in_order() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let observer = ensemble.connect();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create),
        Fault::DelayReply(Duration::from_secs(5)),
    );
    let start = tokio::time::Instant::now();
    let slow = {
        let zk = zk.clone();
        tokio::spawn(async move {
            zk.create("/slow", b"", &CreateOptions::persistent())
                .await
                .unwrap();
            tokio::time::Instant::now()
        })
    };
    tokio::task::yield_now().await;
    // Applied at once: another session sees it before the reply arrives.
    assert!(observer.exists("/slow").await.unwrap().is_some());
    // A later request of the same session is answered only after the delayed one.
    zk.exists("/slow").await.unwrap();
    let fast_done = tokio::time::Instant::now();
    let slow_done = slow.await.unwrap();
    assert!(slow_done - start >= Duration::from_secs(5));
    assert!(fast_done >= slow_done);
}

#[tokio::test(start_paused = true)]
async fn injected_errors_do_not_apply_the_operation() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    ensemble.faults().fail_next(
        OpMatcher::op(OpKind::Create),
        Fault::Fail(Error::SessionMoved),
    );
    assert_eq!(
        zk.create("/x", b"", &CreateOptions::persistent()).await,
        Err(Error::SessionMoved)
    );
    assert_eq!(zk.exists("/x").await, Ok(None));
}
