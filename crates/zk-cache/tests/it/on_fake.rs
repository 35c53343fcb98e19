//! The watch cases on the in-memory fake, with tokio's clock paused.

watch_cases!(backend = zk_testkit::FakeBackend::new(), time = paused);

mod trees {
    tree_cases!(backend = zk_testkit::FakeBackend::new(), time = paused);
}
