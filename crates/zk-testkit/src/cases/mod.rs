//! The conformance cases, one module per area; each case is a `pub async fn(&dyn Backend)`
//! that panics on failure.
//!
//! Every case works under its own [`crate::TestRoot`] and is written against ZooKeeper's
//! documented behaviour (the protocol reference, sections 7 to 10 and 15), so it runs unchanged
//! on the fake and on a real ZooKeeper 3.8 server.

pub mod acl_auth;
pub mod children;
pub mod containers_ttl;
pub mod create;
pub mod data;
pub mod delete;
pub mod ext_helpers;
pub mod multi;
pub mod multi_read;
pub mod sessions_ephemerals;
pub mod validation;
pub mod watches_oneshot;
pub mod watches_persistent;
