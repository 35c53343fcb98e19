//! The lock cases on the in-memory fake.

use std::sync::Arc;

use zk_core::Coordinator;
use zk_fake::FakeEnsemble;
use zk_testkit::{Backend, Capabilities};

pub(crate) struct Fake(pub(crate) FakeEnsemble);

#[async_trait::async_trait]
impl Backend for Fake {
    fn name(&self) -> &str {
        "fake"
    }
    async fn connect(&self) -> Arc<dyn Coordinator> {
        Arc::new(self.0.connect())
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
    }
    async fn expire_session(&self, session: &dyn Coordinator) -> bool {
        self.0.faults().expire_session(session.session_id())
    }
}

lock_cases!(
    Fake(FakeEnsemble::new()),
    tokio::test(flavor = "multi_thread", worker_threads = 2)
);
