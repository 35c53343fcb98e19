//! The lock cases against a real ZooKeeper (the harness's shared server), through the wire client.

use zk_testkit::WireBackend;

lock_cases!(backend = WireBackend::shared(), time = real);

/// The acceptance run: 8 sessions × 200 cycles of a racy increment under the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_tasks_two_hundred_cycles_exact_total() {
    crate::cases::racy_counter(&WireBackend::shared(), 8, 200).await;
}
