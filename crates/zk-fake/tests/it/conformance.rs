//! The zk-testkit conformance suite, run against the fake with paused tokio time.

use std::sync::Arc;

use zk_core::Coordinator;
use zk_fake::FakeEnsemble;
use zk_testkit::{Backend, Capabilities};

/// Adapts a fresh [`FakeEnsemble`] to the suite's [`Backend`] trait.
struct FakeBackend {
    ensemble: FakeEnsemble,
}

impl FakeBackend {
    fn new() -> FakeBackend {
        FakeBackend {
            ensemble: FakeEnsemble::new(),
        }
    }
}

#[async_trait::async_trait]
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

zk_testkit::conformance_suite!(backend = FakeBackend::new(), time = paused);
