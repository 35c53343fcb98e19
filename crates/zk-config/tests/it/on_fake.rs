//! The configuration cases on the in-memory fake, with tokio's clock paused.

config_cases!(backend = zk_testkit::FakeBackend::new(), time = paused);
