//! Helpers: bounded polling while a process comes up or goes down, and `/proc` checks.

use std::path::Path;
use std::time::{Duration, Instant};

/// Polls `condition` every 20 ms until it holds; panics after `limit` with `what`.
#[track_caller]
pub(crate) fn wait_until(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a process with this PID exists (a zombie counts).
pub(crate) fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// The command line of a live process, arguments joined by spaces.
pub(crate) fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .unwrap_or_default()
}

/// The time a process may take to go away after a signal or a watchdog tick.
pub(crate) fn exit_limit() -> Duration {
    zk_testkit::timing::test_timeout() * 2
}
