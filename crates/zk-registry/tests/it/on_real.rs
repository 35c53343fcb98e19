//! The registry cases against a real ZooKeeper (the harness's shared server), through the
//! wire client.

registry_cases!(backend = zk_testkit::WireBackend::shared(), time = real);
