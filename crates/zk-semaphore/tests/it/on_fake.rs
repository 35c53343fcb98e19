//! The semaphore cases on the in-memory fake, with tokio's clock paused.

semaphore_cases!(backend = zk_testkit::FakeBackend::new(), time = paused);
