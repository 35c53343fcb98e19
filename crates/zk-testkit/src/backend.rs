//! The `Backend` trait: how the conformance suite opens sessions and learns what a backend supports.

use std::sync::Arc;

use async_trait::async_trait;
use zk_core::Coordinator;

/// Optional features a backend (or the server behind it) supports.
///
/// Cases for a missing feature are skipped, so the suite macro also checks the whole set against
/// the set the caller expects: nothing drops out by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// TTL nodes (ZooKeeper 3.5.3+ with `extendedTypesEnabled=true`).
    ///
    /// The TTL and container cases wait for the server's sweeper within one
    /// [`crate::timing::test_timeout`], so a real server must run it about every second
    /// (`-Dznode.container.checkIntervalMs=1000`; the default is a minute).
    pub ttl: bool,
    /// Container nodes (ZooKeeper 3.5.1+); see [`Capabilities::ttl`] about the sweep interval.
    pub containers: bool,
    /// Persistent and persistent-recursive watches (ZooKeeper 3.6.0+).
    pub persistent_watches: bool,
    /// `multi_read` (ZooKeeper 3.6.0+).
    pub multi_read: bool,
    /// `get_ephemerals` and `get_all_children_number` (ZooKeeper 3.6.0+).
    pub get_ephemerals: bool,
    /// [`Backend::expire_session`] works.
    pub expire_session: bool,
}

impl Capabilities {
    /// Every capability: what the in-memory fake offers.
    pub fn all() -> Capabilities {
        Capabilities {
            ttl: true,
            containers: true,
            persistent_watches: true,
            multi_read: true,
            get_ephemerals: true,
            expire_session: true,
        }
    }

    /// No optional capability at all.
    pub fn none() -> Capabilities {
        Capabilities {
            ttl: false,
            containers: false,
            persistent_watches: false,
            multi_read: false,
            get_ephemerals: false,
            expire_session: false,
        }
    }
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities::all()
    }
}

/// Something the conformance suite can run against: the fake, or a real server through the wire
/// client.
///
/// The trait is object safe; cases take `&dyn Backend`.
#[async_trait]
pub trait Backend: Send + Sync {
    /// A short name for messages, such as `fake` or `zookeeper-3.8`.
    fn name(&self) -> &str;

    /// Opens a new, independent session.
    ///
    /// # Panics
    /// Implementations panic when they cannot connect: a case cannot go on without a session.
    async fn connect(&self) -> Arc<dyn Coordinator>;

    /// What this backend supports.
    fn capabilities(&self) -> Capabilities;

    /// Expires `session` as the server would after a timeout; returns false when this backend
    /// cannot expire sessions.
    ///
    /// A real server can do it the way Curator does (a second connection with the same session
    /// id and password, then closed).
    async fn expire_session(&self, session: &dyn Coordinator) -> bool;
}

#[async_trait]
impl<B: Backend + ?Sized> Backend for Arc<B> {
    fn name(&self) -> &str {
        (**self).name()
    }

    async fn connect(&self) -> Arc<dyn Coordinator> {
        (**self).connect().await
    }

    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }

    async fn expire_session(&self, session: &dyn Coordinator) -> bool {
        (**self).expire_session(session).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_and_none_differ_in_every_field() {
        let all = Capabilities::all();
        let none = Capabilities::none();
        assert!(all.ttl && all.containers && all.persistent_watches);
        assert!(all.multi_read && all.get_ephemerals && all.expire_session);
        assert_eq!(
            none,
            Capabilities {
                ttl: false,
                containers: false,
                persistent_watches: false,
                multi_read: false,
                get_ephemerals: false,
                expire_session: false,
            }
        );
        assert_eq!(Capabilities::default(), all);
    }

    fn _object_safe(_: &dyn Backend) {}
}
