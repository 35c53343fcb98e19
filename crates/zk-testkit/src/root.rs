//! `TestRoot`: a private subtree (`/t-<uuid>`) per case, and the sessions the case opened.

use std::fmt;
use std::sync::{Arc, Mutex};

use zk_core::{Acl, Coordinator, CoordinatorExt, CreateOptions, Id, Perms};

use crate::backend::Backend;

/// The user of the digest identity the root's admin session authenticates as.
pub const ADMIN_USER: &str = "zk-testkit-admin";
/// The password of [`ADMIN_USER`].
pub const ADMIN_PASSWORD: &str = "zk-testkit-secret";

/// A case's own root node, `/t-<uuid>`, plus every session the case opened through it.
///
/// [`TestRoot::new`] opens an admin session (authenticated as the digest identity
/// [`TestRoot::admin_id`]) and creates the root; [`TestRoot::finish`] closes the case's sessions
/// (so their ephemeral nodes go), removes the root recursively and closes the admin session.
///
/// A failing case panics before `finish`, which leaves its root behind on a real server for
/// inspection; every root has a unique name, so leftovers never disturb other cases.
///
/// Nodes whose ACL denies READ to everyone cannot be listed, so cleanup could not remove them:
/// give such nodes [`TestRoot::with_admin`] ACLs, or delete them inside the case.
pub struct TestRoot<'a> {
    backend: &'a dyn Backend,
    admin: Arc<dyn Coordinator>,
    path: String,
    sessions: Mutex<Vec<Arc<dyn Coordinator>>>,
}

impl fmt::Debug for TestRoot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestRoot")
            .field("backend", &self.backend.name())
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<'a> TestRoot<'a> {
    /// Opens the admin session and creates a fresh `/t-<uuid>` root.
    ///
    /// # Panics
    /// When the root cannot be created.
    pub async fn new(backend: &'a dyn Backend) -> TestRoot<'a> {
        let admin = backend.connect().await;
        let credentials = format!("{ADMIN_USER}:{ADMIN_PASSWORD}");
        admin
            .add_auth("digest", credentials.as_bytes())
            .await
            .expect("the admin session authenticates");
        let path = format!("/t-{}", uuid::Uuid::new_v4().simple());
        admin
            .create(&path, &[], &CreateOptions::persistent())
            .await
            .unwrap_or_else(|e| panic!("creating test root {path} on {}: {e}", backend.name()));
        TestRoot {
            backend,
            admin,
            path,
            sessions: Mutex::new(Vec::new()),
        }
    }

    /// The root's path, such as `/t-0f3c...`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path of `relative` below the root: `join("a/b")` is `/t-.../a/b`.
    pub fn join(&self, relative: &str) -> String {
        format!("{}/{}", self.path, relative)
    }

    /// The backend the root lives on.
    pub fn backend(&self) -> &'a dyn Backend {
        self.backend
    }

    /// The admin session that created the root (authenticated as [`TestRoot::admin_id`]).
    ///
    /// Cases should open their own sessions with [`TestRoot::session`] instead.
    pub fn admin(&self) -> &Arc<dyn Coordinator> {
        &self.admin
    }

    /// Opens a new session on the backend; it is closed by [`TestRoot::finish`].
    pub async fn session(&self) -> Arc<dyn Coordinator> {
        let session = self.backend.connect().await;
        self.sessions
            .lock()
            .expect("session list lock")
            .push(session.clone());
        session
    }

    /// The digest identity of the admin session.
    pub fn admin_id() -> Id {
        Id::digest(ADMIN_USER, ADMIN_PASSWORD)
    }

    /// `acl` plus an entry granting everything to the admin session, so cleanup can remove the
    /// node whatever `acl` denies to the case's sessions.
    pub fn with_admin(mut acl: Vec<Acl>) -> Vec<Acl> {
        acl.push(Acl::new(Perms::ALL, TestRoot::admin_id()));
        acl
    }

    /// Closes the case's sessions, removes the root recursively and closes the admin session.
    ///
    /// # Panics
    /// When the root cannot be removed.
    pub async fn finish(self) {
        let sessions = std::mem::take(&mut *self.sessions.lock().expect("session list lock"));
        for session in sessions {
            // A session the case already closed (or lost) may fail to close again; that is fine.
            let _ = session.close().await;
        }
        self.admin
            .delete_all(&self.path)
            .await
            .unwrap_or_else(|e| panic!("removing test root {}: {e}", self.path));
        assert!(
            self.admin
                .exists(&self.path)
                .await
                .expect("exists on the test root")
                .is_none(),
            "test root {} survived its removal",
            self.path
        );
        let _ = self.admin.close().await;
    }
}
