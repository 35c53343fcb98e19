//! The lock cases against a real ZooKeeper (the harness's shared server), through the wire client.

use zk_testkit::WireBackend;
use zk_testkit::server::ZkServer;

fn backend() -> WireBackend {
    WireBackend::new(ZkServer::shared().connect_string())
}

lock_cases!(
    backend(),
    tokio::test(flavor = "multi_thread", worker_threads = 2)
);

/// The acceptance run: 8 sessions × 200 cycles of a racy increment under the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_tasks_two_hundred_cycles_exact_total() {
    crate::cases::mutual_exclusion(&backend(), 8, 200).await;
}
