//! Create modes, create options and the result of a create.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::path::{validate_path, validate_sequential_path};
use crate::types::acl::Acl;
use crate::types::stat::Stat;

/// The largest TTL ZooKeeper accepts: `0xFF_FFFF_FFFF` milliseconds (about 34.8 years).
pub const MAX_TTL: Duration = Duration::from_millis(0xFF_FFFF_FFFF);

/// What kind of node a create makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CreateMode {
    /// A node that lives until deleted.
    Persistent,
    /// A node deleted when the creating session ends; it may not have children.
    Ephemeral,
    /// A persistent node whose name gets a ten-digit sequence suffix.
    PersistentSequential,
    /// An ephemeral node whose name gets a ten-digit sequence suffix.
    EphemeralSequential,
    /// A node the server deletes once its last child is gone (ZooKeeper 3.5.1+).
    Container,
    /// A persistent node deleted once it has no children and was not modified for its TTL
    /// (ZooKeeper 3.5.3+ with extended types enabled). Needs [`CreateOptions::with_ttl`].
    PersistentWithTtl,
    /// A sequential TTL node. Needs [`CreateOptions::with_ttl`].
    PersistentSequentialWithTtl,
}

impl CreateMode {
    /// The mode's flag value on the wire.
    pub fn flags(self) -> i32 {
        match self {
            CreateMode::Persistent => 0,
            CreateMode::Ephemeral => 1,
            CreateMode::PersistentSequential => 2,
            CreateMode::EphemeralSequential => 3,
            CreateMode::Container => 4,
            CreateMode::PersistentWithTtl => 5,
            CreateMode::PersistentSequentialWithTtl => 6,
        }
    }

    /// The mode for a flag value on the wire, if it is one.
    pub fn from_flags(flags: i32) -> Option<CreateMode> {
        Some(match flags {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl,
            6 => CreateMode::PersistentSequentialWithTtl,
            _ => return None,
        })
    }

    /// True for modes whose node is deleted with its session.
    pub fn is_ephemeral(self) -> bool {
        matches!(
            self,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential
        )
    }

    /// True for modes whose name gets a sequence suffix.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    /// True for the container mode.
    pub fn is_container(self) -> bool {
        self == CreateMode::Container
    }

    /// True for the TTL modes.
    pub fn is_ttl(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl
        )
    }
}

/// How to create a node: the mode, the ACL (open by default) and the TTL of TTL modes.
///
/// ```
/// use std::time::Duration;
/// use zk_core::{Acl, CreateMode, CreateOptions};
///
/// let opts = CreateOptions::new(CreateMode::PersistentWithTtl)
///     .with_acl(Acl::read_unsafe())
///     .with_ttl(Duration::from_secs(30));
/// assert_eq!(opts.mode, CreateMode::PersistentWithTtl);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateOptions {
    /// The kind of node.
    pub mode: CreateMode,
    /// The node's ACL; [`Acl::open_unsafe`] unless set.
    pub acl: Vec<Acl>,
    /// The TTL, required by the TTL modes and refused by the others.
    pub ttl: Option<Duration>,
}

impl CreateOptions {
    /// Options for `mode` with the open ACL and no TTL.
    pub fn new(mode: CreateMode) -> CreateOptions {
        CreateOptions {
            mode,
            acl: Acl::open_unsafe(),
            ttl: None,
        }
    }

    /// A persistent node with the open ACL.
    pub fn persistent() -> CreateOptions {
        CreateOptions::new(CreateMode::Persistent)
    }

    /// An ephemeral node with the open ACL.
    pub fn ephemeral() -> CreateOptions {
        CreateOptions::new(CreateMode::Ephemeral)
    }

    /// A persistent sequential node with the open ACL.
    pub fn persistent_sequential() -> CreateOptions {
        CreateOptions::new(CreateMode::PersistentSequential)
    }

    /// An ephemeral sequential node with the open ACL.
    pub fn ephemeral_sequential() -> CreateOptions {
        CreateOptions::new(CreateMode::EphemeralSequential)
    }

    /// A container node with the open ACL.
    pub fn container() -> CreateOptions {
        CreateOptions::new(CreateMode::Container)
    }

    /// Replaces the ACL.
    pub fn with_acl(mut self, acl: Vec<Acl>) -> CreateOptions {
        self.acl = acl;
        self
    }

    /// Sets the TTL (TTL modes only).
    pub fn with_ttl(mut self, ttl: Duration) -> CreateOptions {
        self.ttl = Some(ttl);
        self
    }

    /// The TTL in milliseconds as sent on the wire, after checking it fits the mode.
    ///
    /// # Errors
    /// [`Error::BadArguments`] when a TTL mode has no TTL or one outside `1 ms ..= MAX_TTL`, or a
    /// non-TTL mode has one.
    pub fn ttl_millis(&self) -> Result<Option<i64>> {
        match (self.mode.is_ttl(), self.ttl) {
            (true, None) => Err(Error::BadArguments("a TTL mode needs a TTL")),
            (true, Some(ttl)) if ttl < Duration::from_millis(1) || ttl > MAX_TTL => Err(
                Error::BadArguments("TTL must be between 1 ms and 0xFFFFFFFFFF ms"),
            ),
            (true, Some(ttl)) => Ok(Some(ttl.as_millis() as i64)),
            (false, Some(_)) => Err(Error::BadArguments("only TTL modes take a TTL")),
            (false, None) => Ok(None),
        }
    }

    /// Checks a create of `path` with these options before anything is sent: the path rules
    /// (sequential paths may end in `/`) and the TTL.
    ///
    /// # Errors
    /// [`Error::InvalidPath`] or [`Error::BadArguments`].
    pub fn validate(&self, path: &str) -> Result<()> {
        if self.mode.is_sequential() {
            validate_sequential_path(path)?;
        } else {
            validate_path(path)?;
        }
        self.ttl_millis().map(|_| ())
    }
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions::persistent()
    }
}

impl From<CreateMode> for CreateOptions {
    fn from(mode: CreateMode) -> Self {
        CreateOptions::new(mode)
    }
}

/// The result of a create: the actual path (with its sequence suffix) and the new node's Stat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The path of the created node, including any sequence suffix.
    pub path: String,
    /// The new node's metadata.
    pub stat: Stat,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip() {
        for flags in 0..7 {
            assert_eq!(CreateMode::from_flags(flags).unwrap().flags(), flags);
        }
        assert_eq!(CreateMode::from_flags(7), None);
    }

    #[test]
    fn ttl_rules() {
        let ttl = CreateOptions::new(CreateMode::PersistentWithTtl);
        assert!(matches!(ttl.ttl_millis(), Err(Error::BadArguments(_))));
        assert_eq!(
            ttl.clone().with_ttl(Duration::from_secs(2)).ttl_millis(),
            Ok(Some(2000))
        );
        assert!(ttl.clone().with_ttl(Duration::ZERO).ttl_millis().is_err());
        assert!(
            ttl.with_ttl(MAX_TTL + Duration::from_millis(1))
                .ttl_millis()
                .is_err()
        );
        assert!(
            CreateOptions::persistent()
                .with_ttl(Duration::from_secs(1))
                .ttl_millis()
                .is_err()
        );
    }

    #[test]
    fn sequential_creates_accept_a_trailing_slash() {
        assert!(
            CreateOptions::persistent_sequential()
                .validate("/q/")
                .is_ok()
        );
        assert!(CreateOptions::persistent().validate("/q/").is_err());
    }
}
