//! `get_acl`, `set_acl` and `add_auth`: ACL versions, validation, digest identities, masking.

use zk_core::{Acl, CreateOptions, Error, Id, Perms, SessionState};

use crate::backend::Backend;
use crate::root::TestRoot;
use crate::support::{alice, persistent, world};
use crate::timing::within;

/// New nodes get the open ACL by default, with `aversion` 0.
pub async fn default_acl_is_open(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("n");
    let created = zk.create(&path, b"", &persistent()).await.unwrap();
    let (acl, stat) = zk.get_acl(&path).await.unwrap();
    assert_eq!(acl, Acl::open_unsafe());
    assert_eq!(stat, created.stat);
    assert_eq!(stat.aversion, 0);
    root.finish().await;
}

/// `set_acl` replaces the ACL and bumps `aversion` only.
pub async fn set_acl_bumps_aversion(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("n");
    let created = zk.create(&path, b"d", &persistent()).await.unwrap().stat;
    let acl = vec![world(Perms::READ | Perms::WRITE | Perms::ADMIN)];
    let stat = zk.set_acl(&path, &acl, None).await.unwrap();
    assert_eq!(stat.aversion, 1);
    assert_eq!((stat.version, stat.cversion), (0, 0));
    assert_eq!(stat.mzxid, created.mzxid, "setACL is not a data change");
    let (read, read_stat) = zk.get_acl(&path).await.unwrap();
    assert_eq!(read, acl);
    assert_eq!(read_stat.aversion, 1);
    root.finish().await;
}

/// The `set_acl` version is compared with `aversion`, not with the data version.
pub async fn set_acl_version_is_the_acl_version(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("n");
    zk.create(&path, b"", &persistent()).await.unwrap();
    zk.set_data(&path, b"1", None).await.unwrap();
    let err = zk
        .set_acl(&path, &Acl::open_unsafe(), Some(1))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::BadVersion {
            path: path.clone(),
            expected: 1
        }
    );
    let stat = zk
        .set_acl(&path, &Acl::open_unsafe(), Some(0))
        .await
        .unwrap();
    assert_eq!((stat.aversion, stat.version), (1, 1));
    root.finish().await;
}

/// `set_acl` on a missing node is `NoNode`, but an invalid ACL is reported first.
pub async fn set_acl_errors_and_precedence(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let missing = root.join("missing");
    let err = zk
        .set_acl(&missing, &Acl::open_unsafe(), None)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::NoNode {
            path: missing.clone()
        }
    );
    let err = zk.set_acl(&missing, &[], None).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidAcl { .. }),
        "InvalidAcl beats NoNode: {err:?}"
    );
    let path = root.join("n");
    zk.create(&path, b"", &persistent()).await.unwrap();
    let err = zk.set_acl(&path, &[], None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidAcl { .. }), "{err:?}");
    let bad_ip = vec![Acl::new(Perms::ALL, Id::new("ip", "not-an-ip"))];
    let err = zk.set_acl(&path, &bad_ip, None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidAcl { .. }), "{err:?}");
    assert_eq!(zk.get_acl(&path).await.unwrap().1.aversion, 0);
    root.finish().await;
}

/// Without ADMIN, `set_acl` fails with `NoAuth`.
pub async fn set_acl_needs_admin(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let path = root.join("n");
    let acl = TestRoot::with_admin(vec![world(Perms::READ | Perms::WRITE)]);
    zk.create(
        &path,
        b"",
        &CreateOptions::persistent().with_acl(acl.clone()),
    )
    .await
    .unwrap();
    let err = zk
        .set_acl(&path, &Acl::open_unsafe(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
    let err = zk
        .set_acl(&path, &Acl::open_unsafe(), Some(7))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NoAuth { .. }),
        "NoAuth beats BadVersion: {err:?}"
    );
    let err = zk.set_acl(&path, &[], None).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidAcl { .. }),
        "InvalidAcl beats NoAuth: {err:?}"
    );
    let (seen, stat) = zk.get_acl(&path).await.unwrap();
    assert_eq!(stat.aversion, 0, "the ACL is unchanged");
    assert_eq!(seen[0], acl[0]);
    assert_eq!(seen.len(), acl.len());
    root.finish().await;
}

/// `get_acl` needs READ or ADMIN: ADMIN alone suffices, neither gives `NoAuth`.
pub async fn get_acl_needs_read_or_admin(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let admin_only = root.join("admin-only");
    let acl = TestRoot::with_admin(vec![world(Perms::ADMIN)]);
    zk.create(
        &admin_only,
        b"",
        &CreateOptions::persistent().with_acl(acl.clone()),
    )
    .await
    .unwrap();
    assert_eq!(zk.get_acl(&admin_only).await.unwrap().0, acl);
    let err = zk.get_data(&admin_only).await.unwrap_err();
    assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");

    let write_only = root.join("write-only");
    let acl = TestRoot::with_admin(vec![world(Perms::WRITE)]);
    zk.create(&write_only, b"", &CreateOptions::persistent().with_acl(acl))
        .await
        .unwrap();
    let err = zk.get_acl(&write_only).await.unwrap_err();
    assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
    let err = zk.get_acl(&root.join("missing")).await.unwrap_err();
    assert!(matches!(err, Error::NoNode { .. }), "{err:?}");
    root.finish().await;
}

/// A digest ACL admits exactly the sessions authenticated as that user.
pub async fn digest_acl_admits_authenticated_sessions(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let owner = root.session().await;
    let stranger = root.session().await;
    let impostor = root.session().await;
    owner.add_auth("digest", b"alice:secret").await.unwrap();
    impostor.add_auth("digest", b"alice:wrong").await.unwrap();
    let path = root.join("private");
    let acl = TestRoot::with_admin(vec![Acl::new(Perms::ALL, alice())]);
    owner
        .create(&path, b"mine", &CreateOptions::persistent().with_acl(acl))
        .await
        .unwrap();
    assert_eq!(owner.get_data(&path).await.unwrap().0, b"mine");
    owner.set_data(&path, b"still mine", None).await.unwrap();
    for zk in [&stranger, &impostor] {
        let err = zk.get_data(&path).await.unwrap_err();
        assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
        let err = zk.set_data(&path, b"x", None).await.unwrap_err();
        assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
    }
    // Authenticating later, on the same session, grants access from then on.
    stranger.add_auth("digest", b"alice:secret").await.unwrap();
    assert_eq!(stranger.get_data(&path).await.unwrap().0, b"still mine");
    root.finish().await;
}

/// Without ADMIN, `get_acl` masks digest ids after the user name (`alice:x`); with ADMIN it
/// shows them.
pub async fn get_acl_masks_digest_without_admin(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let alice_session = root.session().await;
    alice_session
        .add_auth("digest", b"alice:secret")
        .await
        .unwrap();
    let path = root.join("masked");
    let acl = vec![Acl::new(Perms::ALL, alice()), world(Perms::READ)];
    zk.create(
        &path,
        b"",
        &CreateOptions::persistent().with_acl(acl.clone()),
    )
    .await
    .unwrap();
    let (seen, _) = zk.get_acl(&path).await.unwrap();
    assert_eq!(
        seen,
        vec![
            Acl::new(Perms::ALL, Id::new("digest", "alice:x")),
            world(Perms::READ)
        ]
    );
    assert_eq!(alice_session.get_acl(&path).await.unwrap().0, acl);
    root.finish().await;
}

/// ACLs are not inherited: an open child of a read-only parent stays writable.
pub async fn acls_are_not_inherited(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let parent = root.join("ro");
    let child = root.join("ro/open");
    zk.create(&parent, b"", &persistent()).await.unwrap();
    zk.create(&child, b"", &persistent()).await.unwrap();
    zk.set_acl(&parent, &TestRoot::with_admin(Acl::read_unsafe()), None)
        .await
        .unwrap();
    assert!(matches!(
        zk.set_data(&parent, b"x", None).await,
        Err(Error::NoAuth { .. })
    ));
    assert_eq!(zk.set_data(&child, b"x", None).await.unwrap().version, 1);
    assert_eq!(zk.get_acl(&child).await.unwrap().0, Acl::open_unsafe());
    root.finish().await;
}

/// A session can hold several identities; each one's ACL entries apply.
pub async fn several_identities_on_one_session(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let for_alice = root.join("alice");
    let for_bob = root.join("bob");
    let bob = Id::digest("bob", "hunter2");
    let acl_a = TestRoot::with_admin(vec![Acl::new(Perms::ALL, alice())]);
    let acl_b = TestRoot::with_admin(vec![Acl::new(Perms::ALL, bob)]);
    zk.create(
        &for_alice,
        b"a",
        &CreateOptions::persistent().with_acl(acl_a),
    )
    .await
    .unwrap();
    zk.create(&for_bob, b"b", &CreateOptions::persistent().with_acl(acl_b))
        .await
        .unwrap();
    zk.add_auth("digest", b"alice:secret").await.unwrap();
    assert_eq!(zk.get_data(&for_alice).await.unwrap().0, b"a");
    assert!(matches!(
        zk.get_data(&for_bob).await,
        Err(Error::NoAuth { .. })
    ));
    zk.add_auth("digest", b"bob:hunter2").await.unwrap();
    assert_eq!(zk.get_data(&for_alice).await.unwrap().0, b"a");
    assert_eq!(zk.get_data(&for_bob).await.unwrap().0, b"b");
    // With two identities, the `auth` scheme expands to both.
    let both = root.join("both");
    zk.create(
        &both,
        b"",
        &CreateOptions::persistent().with_acl(Acl::creator_all()),
    )
    .await
    .unwrap();
    let mut acl = zk.get_acl(&both).await.unwrap().0;
    acl.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(
        acl,
        vec![
            Acl::new(Perms::ALL, alice()),
            Acl::new(Perms::ALL, Id::digest("bob", "hunter2"))
        ]
    );
    zk.delete(&both, None).await.unwrap();
    root.finish().await;
}

/// An unknown auth scheme fails with `AuthFailed`, and the handle ends in `AuthFailed`.
pub async fn unknown_auth_scheme_fails(backend: &dyn Backend) {
    let root = TestRoot::new(backend).await;
    let zk = root.session().await;
    let err = zk
        .add_auth("no-such-scheme", b"whatever")
        .await
        .unwrap_err();
    assert_eq!(err, Error::AuthFailed);
    let mut state = zk.session_state();
    let reached = within(state.wait_for(|s| *s == SessionState::AuthFailed))
        .await
        .is_ok();
    assert!(reached, "the handle must report AuthFailed");
    let err = zk.exists(root.path()).await.unwrap_err();
    assert!(err.is_session_fatal(), "{err:?}");
    root.finish().await;
}
