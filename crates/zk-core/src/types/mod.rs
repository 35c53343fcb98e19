//! Shared value types: Stat, ACLs, create modes, multi operations, events and session states.

pub(crate) mod acl;
pub(crate) mod create;
pub(crate) mod event;
pub(crate) mod op;
pub(crate) mod stat;
