//! Property tests of zk-lock under faults, on the fake ensemble, through
//! [`zk_testkit::fault_world`]: clients on their own sessions run scripts of acquires, holds,
//! releases, drops and cancellations while connection loss (before or after an operation
//! applies), slow replies, session expiry and disconnections strike at chosen moments. The
//! invariants are spelled out in `fault_world`'s docs; the lock picks its exclusion rule and
//! growing fencing tokens in [`recipe`]. The fault points the lock's requirements name each
//! have a deterministic test in [`regressions`].
//!
//! Time is tokio's paused clock, so every run is quick and repeatable.
//! `PROPTEST_CASES` sets the number of cases (128 by default).

mod recipe;
mod regressions;

use proptest::prelude::*;
use zk_testkit::fault_world::{self, strategy};

use crate::recipe::LockRecipe;

proptest! {
    #![proptest_config(strategy::config())]

    /// A mutex under faults: exclusion, head-of-queue holders, growing tokens, loss reported,
    /// no stuck waiter, documented errors only, no node left behind.
    #[test]
    fn mutex_under_faults(scenario in strategy::scenario(strategy::Shape::exclusive())) {
        let outcome = fault_world::run(LockRecipe::Mutex, &scenario);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }

    /// The read/write lock under faults: a writer never together with anyone else, and the same
    /// other invariants.
    #[test]
    fn read_write_lock_under_faults(
        scenario in strategy::scenario(strategy::Shape::shared_and_exclusive())
    ) {
        let outcome = fault_world::run(LockRecipe::ReadWrite, &scenario);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}
