//! The watch cases against a real ZooKeeper (the harness's shared server), through the wire
//! client.

watch_cases!(backend = zk_testkit::WireBackend::shared(), time = real);

mod trees {
    tree_cases!(backend = zk_testkit::WireBackend::shared(), time = real);
}
