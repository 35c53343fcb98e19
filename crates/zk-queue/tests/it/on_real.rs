//! The queue cases against a real ZooKeeper (the harness's shared server), through the wire
//! client.

queue_cases!(backend = zk_testkit::WireBackend::shared(), time = real);
