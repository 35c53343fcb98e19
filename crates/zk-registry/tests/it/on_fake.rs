//! The registry cases on the in-memory fake, with tokio's clock paused.

registry_cases!(backend = zk_testkit::FakeBackend::new(), time = paused);
