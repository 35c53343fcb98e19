//! Access control lists: permissions, identities and the standard lists.

use base64::Engine as _;
use sha1::Digest as _;

bitflags::bitflags! {
    /// Permission bits of an ACL entry.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct Perms: i32 {
        /// getData, getChildren, getAllChildrenNumber, check inside multi.
        const READ = 1;
        /// setData.
        const WRITE = 2;
        /// Create children (checked on the parent).
        const CREATE = 4;
        /// Delete children (checked on the parent).
        const DELETE = 8;
        /// setACL; also shows unmasked digest ids in getACL.
        const ADMIN = 16;
        /// All of the above.
        const ALL = 31;
    }
}

/// An identity: a scheme and a scheme-specific id, such as `world:anyone` or `digest:alice:<hash>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id {
    /// The scheme: `world`, `auth`, `digest`, `ip`, `x509`, `sasl`, `super`.
    pub scheme: String,
    /// The identity within the scheme.
    pub id: String,
}

impl Id {
    /// Builds an identity from its two parts.
    pub fn new(scheme: impl Into<String>, id: impl Into<String>) -> Id {
        Id {
            scheme: scheme.into(),
            id: id.into(),
        }
    }

    /// `world:anyone`, which matches every client.
    pub fn anyone() -> Id {
        Id::new("world", "anyone")
    }

    /// `auth:`, expanded by the server into every authenticated identity of the caller.
    pub fn authenticated() -> Id {
        Id::new("auth", "")
    }

    /// The digest identity of `user` with `password`: `digest:user:BASE64(SHA1("user:password"))`.
    pub fn digest(user: &str, password: &str) -> Id {
        Id::new("digest", digest_id(user, password))
    }
}

/// The id part of a digest identity: `user:BASE64(SHA1("user:password"))`.
///
/// ```
/// assert_eq!(zk_core::digest_id("alice", "secret"), "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=");
/// ```
pub fn digest_id(user: &str, password: &str) -> String {
    let hash = sha1::Sha1::digest(format!("{user}:{password}").as_bytes());
    format!(
        "{user}:{}",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

/// One ACL entry: permissions granted to an identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Acl {
    /// What the identity may do.
    pub perms: Perms,
    /// Who the entry applies to.
    pub id: Id,
}

impl Acl {
    /// Builds an entry.
    pub fn new(perms: Perms, id: Id) -> Acl {
        Acl { perms, id }
    }

    /// `[ALL for world:anyone]`: everyone may do everything (ZooKeeper's `OPEN_ACL_UNSAFE`).
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl::new(Perms::ALL, Id::anyone())]
    }

    /// `[READ for world:anyone]` (ZooKeeper's `READ_ACL_UNSAFE`).
    pub fn read_unsafe() -> Vec<Acl> {
        vec![Acl::new(Perms::READ, Id::anyone())]
    }

    /// `[ALL for auth:]`: everything for the caller's authenticated identities (`CREATOR_ALL_ACL`).
    pub fn creator_all() -> Vec<Acl> {
        vec![Acl::new(Perms::ALL, Id::authenticated())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_the_captured_server_value() {
        assert_eq!(
            Id::digest("alice", "secret"),
            Id::new("digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=")
        );
    }

    #[test]
    fn perms_compose() {
        let rw = Perms::READ | Perms::WRITE;
        assert_eq!(rw.bits(), 3);
        assert!(Perms::ALL.contains(rw));
        assert_eq!(Perms::from_bits_truncate(31), Perms::ALL);
    }
}
