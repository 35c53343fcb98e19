//! Property tests of zk-lock under faults, on the fake ensemble: clients on their own sessions
//! run scripts of acquires, holds, releases, drops and cancellations while connection loss
//! (before or after an operation applies), slow replies, session expiry and disconnections
//! strike at chosen moments. The invariants are spelled out in [`harness`]; the fault points the
//! lock's requirements name each have a deterministic test in [`regressions`].
//!
//! Time is tokio's paused clock, so every run is quick and repeatable.
//! `PROPTEST_CASES` sets the number of cases (128 by default).

mod harness;
mod model;
mod regressions;

use proptest::prelude::*;
use proptest::test_runner::Config;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    Config {
        cases,
        max_shrink_iters: 400,
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// A mutex under faults: exclusion, head-of-queue holders, growing tokens, loss reported,
    /// no stuck waiter, documented errors only, no node left behind.
    #[test]
    fn mutex_under_faults(scenario in model::scenario(false)) {
        let outcome = harness::run(&scenario);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }

    /// The read/write lock under faults: a writer never together with anyone else, and the same
    /// other invariants.
    #[test]
    fn read_write_lock_under_faults(scenario in model::scenario(true)) {
        let outcome = harness::run(&scenario);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
