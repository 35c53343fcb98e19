//! Bounded waits for deterministic regression tests on the fake, under paused time.

use std::time::Duration;

use tokio::time::timeout;
use zk_core::Coordinator;
use zk_fake::FakeSession;

/// The bound on every wait here, in simulated time: far longer than any regression scenario
/// needs (the fake's session timeout is 10 s), so only a hang reaches it.
pub const REGRESSION_WAIT: Duration = Duration::from_secs(120);

/// Waits, on child watches set by `observer`, until the children of `path` satisfy `want`.
///
/// # Panics
/// When they do not within [`REGRESSION_WAIT`] (the message names `what`), or when `path` is
/// missing or the observer's session fails.
pub async fn children_become(
    observer: &FakeSession,
    path: &str,
    what: &str,
    want: impl Fn(&[String]) -> bool,
) {
    let waited = timeout(REGRESSION_WAIT, async {
        loop {
            let (children, _, watch) = observer.watch_children(path).await.unwrap();
            if want(&children) {
                return;
            }
            watch.await;
        }
    })
    .await;
    assert!(waited.is_ok(), "waited {REGRESSION_WAIT:?} for {what}");
}

/// Waits until the handle is connected in a session other than `old`: the fake renews a
/// session after its expiry, as a client that hears "expired" opens a new one.
///
/// # Panics
/// When that does not happen within [`REGRESSION_WAIT`].
pub async fn renewed(zk: &FakeSession, old: i64) {
    let mut state = zk.session_state();
    let waited = timeout(REGRESSION_WAIT, async {
        loop {
            if state.borrow_and_update().is_connected() && zk.session_id() != old {
                return;
            }
            if state.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    })
    .await;
    assert!(waited.is_ok(), "the handle never opened a new session");
}
