//! Cross-crate scenarios, one module per theme: on the in-memory fake, and against real
//! ZooKeeper servers started by the zk-testkit harness.

mod chroot;
mod config_watch;
mod differential;
mod dyn_coordinator;
mod failover;
mod lock_failover;
mod readme;
mod real_conformance;
mod watch_removal;

use std::future::Future;
use std::time::Duration;

/// How long a scenario waits for something before failing.
///
/// The scenarios run on paused tokio time, so waiting this long costs nothing and a missing
/// event fails at once instead of hanging.
const WAIT: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test naming `what` if it takes longer than [`WAIT`].
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(WAIT, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}
