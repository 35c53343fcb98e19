//! The conformance suite against a real ZooKeeper server through the wire client.
//!
//! The server is started once for this test binary by the zk-testkit harness (Debian's
//! `zookeeper` package; the harness fails with the install command when it is missing).

use zk_testkit::WireBackend;
use zk_testkit::server::ZkServer;

fn backend() -> WireBackend {
    WireBackend::new(ZkServer::shared().connect_string())
}

zk_testkit::conformance_suite!(backend = backend(), time = real);
