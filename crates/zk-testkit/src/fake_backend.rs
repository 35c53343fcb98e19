//! `FakeBackend`: the in-memory `zk-fake` ensemble as a [`Backend`], for the conformance suite
//! and every recipe's cases.

use std::sync::Arc;

use async_trait::async_trait;
use zk_core::Coordinator;
use zk_fake::FakeEnsemble;

use crate::backend::{Backend, Capabilities};

/// Runs cases against one in-memory [`FakeEnsemble`]: every [`Backend::connect`] opens a new
/// session on it, and [`Backend::expire_session`] expires one through its fault handle.
///
/// The fake keeps all time on tokio's clock, so cases stamped with `time = paused` run their
/// session timeouts and sweeps instantly. For fault injection beyond expiry, reach the
/// ensemble with [`FakeBackend::ensemble`].
///
/// ```
/// use zk_core::{Coordinator, CreateOptions};
/// use zk_testkit::{Backend, FakeBackend};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
/// let backend = FakeBackend::new();
/// let zk = backend.connect().await;
/// zk.create("/x", b"1", &CreateOptions::persistent()).await.unwrap();
/// assert!(backend.expire_session(&*zk).await);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct FakeBackend {
    ensemble: FakeEnsemble,
}

impl FakeBackend {
    /// A backend on a new ensemble with default settings.
    pub fn new() -> FakeBackend {
        FakeBackend::with_ensemble(FakeEnsemble::new())
    }

    /// A backend on an ensemble built by the caller (another sweep interval, tick time, ...).
    pub fn with_ensemble(ensemble: FakeEnsemble) -> FakeBackend {
        FakeBackend { ensemble }
    }

    /// The ensemble behind this backend, for fault injection and inspection.
    pub fn ensemble(&self) -> &FakeEnsemble {
        &self.ensemble
    }
}

impl Default for FakeBackend {
    fn default() -> Self {
        FakeBackend::new()
    }
}

#[async_trait]
impl Backend for FakeBackend {
    fn name(&self) -> &str {
        "zk-fake"
    }

    async fn connect(&self) -> Arc<dyn Coordinator> {
        Arc::new(self.ensemble.connect())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
    }

    async fn expire_session(&self, session: &dyn Coordinator) -> bool {
        self.ensemble.faults().expire_session(session.session_id())
    }
}
