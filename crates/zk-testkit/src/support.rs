//! Small helpers shared by the cases: waiting for events, barriers, capability gates.

use futures::StreamExt;
use zk_core::{
    Acl, Coordinator, CreateOptions, EventType, Id, OneshotWatch, Perms, PersistentWatch,
    SessionState, WatchEvent,
};

use crate::backend::{Backend, Capabilities};
use crate::timing::within;

/// A node event as the server reports it.
pub(crate) fn node(event_type: EventType, path: &str) -> WatchEvent {
    WatchEvent::node(event_type, path)
}

/// A session event.
pub(crate) fn session(state: SessionState) -> WatchEvent {
    WatchEvent::session(state)
}

/// Persistent create options.
pub(crate) fn persistent() -> CreateOptions {
    CreateOptions::persistent()
}

/// Waits (bounded) for a one-shot watch to resolve.
#[track_caller]
pub(crate) fn event(watch: OneshotWatch) -> impl std::future::Future<Output = WatchEvent> {
    within(watch)
}

/// Waits (bounded) for the next event of a persistent watch; panics if the stream ended.
pub(crate) async fn next(watch: &mut PersistentWatch) -> WatchEvent {
    within(watch.next())
        .await
        .expect("the persistent watch ended unexpectedly")
}

/// The next event of a persistent watch that is not a connection change (`Disconnected`,
/// `SyncConnected`): on a real server, ending a session from outside first cuts its client's
/// connection, and a persistent watch reports that too.
pub(crate) async fn next_past_reconnects(watch: &mut PersistentWatch) -> WatchEvent {
    loop {
        let event = next(watch).await;
        let reconnect = event.is_session_event()
            && matches!(
                event.state,
                zk_core::SessionState::Disconnected | zk_core::SessionState::SyncConnected
            );
        if !reconnect {
            return event;
        }
    }
}

/// Makes sure every notification caused by changes that completed before this call has reached
/// `zk`: ZooKeeper delivers a session's notifications before any later reply on that session,
/// and `sync` first makes the session's server catch up with the leader.
pub(crate) async fn barrier(zk: &dyn Coordinator, path: &str) {
    zk.sync(path).await.expect("barrier sync");
    zk.exists(path).await.expect("barrier read");
}

/// Asserts that a pending one-shot watch has not fired (call after [`barrier`]).
#[track_caller]
pub(crate) fn assert_pending(watch: &mut OneshotWatch, what: &str) {
    let event = watch.try_event();
    assert_eq!(event, None, "{what}: the watch fired unexpectedly");
}

/// Asserts that no event is queued on a persistent watch (call after [`barrier`]).
#[track_caller]
pub(crate) fn assert_quiet(watch: &mut PersistentWatch, what: &str) {
    let event = watch.try_next_event();
    assert_eq!(event, None, "{what}: unexpected persistent watch event");
}

/// True when the backend has the capability; otherwise reports the skip and returns false.
///
/// The suite macro's `capabilities` test asserts the backend's set against the expected set,
/// so a skipped case is always a deliberate one.
pub(crate) fn supports(
    backend: &dyn Backend,
    has: impl Fn(&Capabilities) -> bool,
    what: &str,
) -> bool {
    let supported = has(&backend.capabilities());
    if !supported {
        eprintln!("skipped on {}: no {what} support", backend.name());
    }
    supported
}

/// An ACL entry for `world:anyone`.
pub(crate) fn world(perms: Perms) -> Acl {
    Acl::new(perms, Id::anyone())
}

/// The digest identity `alice:secret` used by the ACL cases.
pub(crate) fn alice() -> Id {
    Id::digest("alice", "secret")
}

/// Sorted copy of a list of names.
pub(crate) fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort_unstable();
    names
}
