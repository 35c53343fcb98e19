//! The test kit every zk-recipes crate shares: the conformance suite for every
//! [`zk_core::Coordinator`] backend, the recipe-case stamping macro, the backends themselves,
//! the real-server harness and test timing helpers.
//!
//! - **Conformance suite.** The same cases run against the in-memory `zk-fake` ensemble and,
//!   through the wire client, against a real ZooKeeper 3.8 server, so both backends are held to
//!   ZooKeeper's documented behaviour: error precedence, Stat bookkeeping, sequence counters,
//!   ACLs, watch firing rules, sessions, containers and TTL nodes. A backend implements
//!   [`Backend`] (open a session, report [`Capabilities`], expire a session if it can), then
//!   stamps one test per case with [`conformance_suite!`].
//! - **Recipe cases.** A recipe writes each behaviour once as an async fn taking
//!   `&dyn Backend`, lists them with [`recipe_suite!`], and stamps them on the fake (paused
//!   time) and on a real server, each with a per-case timeout and a checked case list.
//! - **Backends.** [`FakeBackend`] (a `zk-fake` ensemble) and [`WireBackend`] (real servers
//!   through the wire client, with Curator-style remote expiry; [`WireBackend::shared`] uses
//!   the harness's shared server).
//! - **Harness.** [`server`] starts real ZooKeeper servers and ensembles on loopback ports.
//!
//! A conformance case run by hand on the fake:
//!
//! ```
//! use zk_testkit::{Backend, FakeBackend};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
//! let backend = FakeBackend::new();
//! zk_testkit::cases::create::create_sequential_appends_ten_digits(&backend).await;
//! assert_eq!(backend.name(), "zk-fake");
//! # });
//! ```
//!
//! Interop tests run helper processes in kazoo and Curator next to a recipe: see [`interop`].
//! [`counting::Counting`] wraps a session and counts its requests, for checks of how much a
//! recipe asks of the server.
//!
//! Each case creates its own root `/t-<uuid>` ([`TestRoot`]) and removes it at the end.
//! Waits are bounded by [`timing::within`], whose limit [`timing::test_timeout`] scales with
//! the `ZK_TEST_TIMEOUT_SCALE` environment variable; the suite never sleeps.
#![forbid(unsafe_code)]

mod backend;
pub mod bench;
pub mod cases;
pub mod counting;
pub mod failover;
mod fake_backend;
pub mod fault_world;
pub mod interop;
pub mod op_strategy;
pub mod recipe_suite;
pub mod relay;
mod root;
pub mod server;
mod suite;
mod support;
pub mod timing;
mod wire_backend;

use std::time::Duration;

pub use backend::{Backend, Capabilities};
pub use fake_backend::FakeBackend;
pub use root::{ADMIN_PASSWORD, ADMIN_USER, TestRoot};
pub use wire_backend::{WireBackend, expire_session};

__with_cases!(__case_names!(()));

/// The overall limit for one case: six times [`timing::test_timeout`], since a case may wait
/// several times.
pub fn case_timeout() -> Duration {
    timing::test_timeout() * 6
}

/// Re-exports the generated tests rely on; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use tokio;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const SOURCES: &[(&str, &str)] = &[
        ("create", include_str!("cases/create.rs")),
        ("delete", include_str!("cases/delete.rs")),
        ("data", include_str!("cases/data.rs")),
        ("children", include_str!("cases/children.rs")),
        ("acl_auth", include_str!("cases/acl_auth.rs")),
        ("multi", include_str!("cases/multi.rs")),
        ("multi_read", include_str!("cases/multi_read.rs")),
        ("watches_oneshot", include_str!("cases/watches_oneshot.rs")),
        (
            "watches_persistent",
            include_str!("cases/watches_persistent.rs"),
        ),
        (
            "sessions_ephemerals",
            include_str!("cases/sessions_ephemerals.rs"),
        ),
        ("containers_ttl", include_str!("cases/containers_ttl.rs")),
        ("ext_helpers", include_str!("cases/ext_helpers.rs")),
        ("validation", include_str!("cases/validation.rs")),
    ];

    #[test]
    fn there_are_enough_cases() {
        assert!(CASES.len() >= 60, "only {} cases", CASES.len());
    }

    #[test]
    fn case_names_are_unique_and_qualified() {
        let unique: HashSet<&str> = CASES.iter().copied().collect();
        assert_eq!(unique.len(), CASES.len());
        assert!(
            CASES.iter().all(|c| c.split("::").count() == 2),
            "{CASES:?}"
        );
    }

    #[test]
    fn every_case_function_is_in_the_suite() {
        let mut defined = Vec::new();
        for (module, source) in SOURCES {
            for line in source.lines() {
                if let Some(rest) = line.strip_prefix("pub async fn ") {
                    let name = rest.split('(').next().unwrap_or_default();
                    defined.push(format!("{module}::{name}"));
                }
            }
        }
        let listed: Vec<String> = CASES.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(defined, listed, "the case list in suite.rs is out of date");
    }

    #[test]
    fn case_timeout_covers_several_waits() {
        assert_eq!(case_timeout(), timing::test_timeout() * 6);
        assert!(case_timeout() > timing::test_timeout());
    }
}
