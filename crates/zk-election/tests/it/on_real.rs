//! The election cases against a real ZooKeeper (the harness's shared server), through the
//! wire client.

election_cases!(backend = zk_testkit::WireBackend::shared(), time = real);
