//! The lock cases on the in-memory fake, with tokio's clock paused.

lock_cases!(backend = zk_testkit::FakeBackend::new(), time = paused);
