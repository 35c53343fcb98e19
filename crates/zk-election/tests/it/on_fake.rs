//! The election cases on the in-memory fake, with tokio's clock paused.

election_cases!(backend = zk_testkit::FakeBackend::new(), time = paused);
