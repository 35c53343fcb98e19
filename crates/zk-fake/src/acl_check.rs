//! ACL validation on create and setACL, permission checks, and the identities auth adds.

use zk_core::{Acl, Id, Perms};

/// The address every fake connection comes from; it is the connection's `ip` identity.
pub(crate) const CLIENT_IP: &str = "127.0.0.1";

/// Validates an ACL as the server does, expanding `auth` entries into the caller's
/// authenticated identities. `None` means INVALIDACL.
pub(crate) fn fix_acl(acl: &[Acl], identities: &[Id]) -> Option<Vec<Acl>> {
    let mut fixed: Vec<Acl> = Vec::with_capacity(acl.len());
    let mut push = |entry: Acl| {
        if !fixed.contains(&entry) {
            fixed.push(entry);
        }
    };
    for entry in acl {
        match entry.id.scheme.as_str() {
            "world" if entry.id.id == "anyone" => push(entry.clone()),
            "auth" => {
                let mut any = false;
                for id in identities
                    .iter()
                    .filter(|i| is_authenticated_scheme(&i.scheme))
                {
                    any = true;
                    push(Acl::new(entry.perms, id.clone()));
                }
                if !any {
                    return None;
                }
            }
            "digest" if entry.id.id.split(':').count() == 2 => push(entry.clone()),
            "ip" if parse_ip_spec(&entry.id.id).is_some() => push(entry.clone()),
            "x509" | "sasl" => push(entry.clone()),
            _ => return None,
        }
    }
    if fixed.is_empty() { None } else { Some(fixed) }
}

fn is_authenticated_scheme(scheme: &str) -> bool {
    matches!(scheme, "digest" | "sasl" | "x509")
}

/// True when one of `identities` is granted `perm` by `acl` (super users always are).
pub(crate) fn allows(acl: &[Acl], identities: &[Id], perm: Perms) -> bool {
    if identities.iter().any(|i| i.scheme == "super") {
        return true;
    }
    acl.iter()
        .filter(|a| a.perms.contains(perm))
        .any(|a| match a.id.scheme.as_str() {
            "world" => a.id.id == "anyone",
            "ip" => identities
                .iter()
                .filter(|i| i.scheme == "ip")
                .any(|i| ip_matches(&a.id.id, &i.id)),
            scheme => identities
                .iter()
                .any(|i| i.scheme == scheme && i.id == a.id.id),
        })
}

/// Hides the hash of digest ids, as the server does for callers without ADMIN.
pub(crate) fn mask_digests(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|a| {
            if a.id.scheme == "digest" {
                let user = a.id.id.split(':').next().unwrap_or_default();
                Acl::new(a.perms, Id::new("digest", format!("{user}:x")))
            } else {
                a.clone()
            }
        })
        .collect()
}

fn parse_ip_spec(spec: &str) -> Option<(u32, u32)> {
    let (addr, bits) = match spec.split_once('/') {
        Some((addr, bits)) => (addr, bits.parse::<u32>().ok().filter(|b| *b <= 32)?),
        None => (spec, 32),
    };
    let addr: std::net::Ipv4Addr = addr.parse().ok()?;
    Some((u32::from(addr), bits))
}

fn ip_matches(spec: &str, client: &str) -> bool {
    let (Some((net, bits)), Ok(client)) =
        (parse_ip_spec(spec), client.parse::<std::net::Ipv4Addr>())
    else {
        return false;
    };
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (net & mask) == (u32::from(client) & mask)
}

/// The identities an AuthPacket adds, or `None` for AUTHFAILED.
pub(crate) fn authenticate(
    scheme: &str,
    auth: &[u8],
    super_digest: Option<&str>,
) -> Option<Vec<Id>> {
    match scheme {
        "digest" => {
            let text = std::str::from_utf8(auth).ok()?;
            let (user, password) = text.split_once(':')?;
            let id = zk_core::digest_id(user, password);
            let mut ids = Vec::with_capacity(2);
            if super_digest == Some(id.as_str()) {
                ids.push(Id::new("super", user));
            }
            ids.push(Id::new("digest", id));
            Some(ids)
        }
        // Every connection already has its ip identity; re-asserting it adds nothing.
        "ip" => Some(Vec::new()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_expands_to_authenticated_identities_only() {
        let ids = vec![Id::new("ip", CLIENT_IP), Id::digest("alice", "secret")];
        let fixed = fix_acl(&Acl::creator_all(), &ids).unwrap();
        assert_eq!(
            fixed,
            vec![Acl::new(Perms::ALL, Id::digest("alice", "secret"))]
        );
        assert_eq!(fix_acl(&Acl::creator_all(), &ids[..1]), None);
    }

    #[test]
    fn invalid_acls_are_refused() {
        assert_eq!(fix_acl(&[], &[]), None);
        assert_eq!(
            fix_acl(&[Acl::new(Perms::ALL, Id::new("ip", "not-an-ip"))], &[]),
            None
        );
        assert_eq!(
            fix_acl(&[Acl::new(Perms::ALL, Id::new("world", "me"))], &[]),
            None
        );
        assert_eq!(
            fix_acl(&[Acl::new(Perms::ALL, Id::new("digest", "nocolon"))], &[]),
            None
        );
        assert_eq!(
            fix_acl(&[Acl::new(Perms::ALL, Id::new("bogus", "x"))], &[]),
            None
        );
        let dup = [Acl::open_unsafe(), Acl::open_unsafe()].concat();
        assert_eq!(fix_acl(&dup, &[]).unwrap().len(), 1);
    }

    #[test]
    fn permission_checks() {
        let alice = vec![Id::new("ip", CLIENT_IP), Id::digest("alice", "secret")];
        let anon = vec![Id::new("ip", CLIENT_IP)];
        let acl = vec![
            Acl::new(Perms::ALL, Id::digest("alice", "secret")),
            Acl::new(Perms::READ, Id::new("ip", "127.0.0.0/8")),
        ];
        assert!(allows(&acl, &alice, Perms::WRITE));
        assert!(!allows(&acl, &anon, Perms::WRITE));
        assert!(allows(&acl, &anon, Perms::READ));
        assert!(!allows(
            &[Acl::new(Perms::READ, Id::new("ip", "10.0.0.0/8"))],
            &anon,
            Perms::READ
        ));
        assert!(allows(&acl, &[Id::new("super", "root")], Perms::ADMIN));
    }

    #[test]
    fn digest_auth_and_super() {
        let ids = authenticate("digest", b"alice:secret", None).unwrap();
        assert_eq!(ids, vec![Id::digest("alice", "secret")]);
        let superuser = zk_core::digest_id("root", "pw");
        let ids = authenticate("digest", b"root:pw", Some(&superuser)).unwrap();
        assert_eq!(ids[0], Id::new("super", "root"));
        assert_eq!(authenticate("digest", b"nocolon", None), None);
        assert_eq!(authenticate("kerberos", b"x", None), None);
    }

    #[test]
    fn masking_hides_hashes() {
        let masked = mask_digests(&[Acl::new(Perms::READ, Id::digest("alice", "secret"))]);
        assert_eq!(masked[0].id.id, "alice:x");
    }
}
