//! The queue cases on the in-memory fake, with tokio's clock paused.

queue_cases!(backend = zk_testkit::FakeBackend::new(), time = paused);
