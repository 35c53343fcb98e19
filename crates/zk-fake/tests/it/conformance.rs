//! The zk-testkit conformance suite, run against the fake with paused tokio time.

zk_testkit::conformance_suite!(backend = zk_testkit::FakeBackend::new(), time = paused);
