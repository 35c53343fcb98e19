//! Throughput of the fake ensemble, in operations per second.
//!
//! * `get_data` of a small node, and `create` + `delete` pairs of a persistent node (one
//!   element = one pair);
//! * each with one session on a current-thread runtime, and with two tasks (one session each)
//!   on a multi-thread runtime with two workers, to show contention on the ensemble's lock.
//!
//! Targets (issue): at least 1,000,000 gets/s and 300,000 create+delete pairs/s on a 2-core
//! machine. Run with `cargo bench -p zk-fake --bench fake_throughput`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use tokio::runtime::Runtime;
use zk_core::{Coordinator, CreateOptions};
use zk_fake::{FakeEnsemble, FakeSession};

/// The data of the node that `get_data` reads.
const SMALL: &[u8] = b"a small value...";

fn current_thread() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

fn two_workers() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a multi-thread runtime")
}

async fn get(zk: &FakeSession, iters: u64) {
    for _ in 0..iters {
        black_box(zk.get_data("/small").await.expect("the node exists"));
    }
}

async fn create_delete(zk: &FakeSession, path: &str, iters: u64) {
    let persistent = CreateOptions::persistent();
    for _ in 0..iters {
        black_box(zk.create(path, b"", &persistent).await.expect("created"));
        zk.delete(path, None).await.expect("deleted");
    }
}

/// Runs `work(session, index, iters)` in one task per session on `rt`; returns the wall time.
fn in_tasks<F, Fut>(rt: &Runtime, sessions: &[FakeSession], iters: u64, work: F) -> Duration
where
    F: Fn(FakeSession, usize, u64) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = sessions
            .iter()
            .enumerate()
            .map(|(i, zk)| tokio::spawn(work(zk.clone(), i, iters)))
            .collect();
        for task in tasks {
            task.await.expect("benchmark task");
        }
        start.elapsed()
    })
}

fn throughput(c: &mut Criterion) {
    let ensemble = FakeEnsemble::new();
    let setup = ensemble.connect();
    let persistent = CreateOptions::persistent();
    current_thread().block_on(async {
        setup.create("/small", SMALL, &persistent).await.unwrap();
        setup.create("/bench", b"", &persistent).await.unwrap();
    });

    let mut group = c.benchmark_group("fake");

    // One session, current-thread runtime: one element per operation (or pair).
    let rt = current_thread();
    let zk = ensemble.connect();
    group.throughput(Throughput::Elements(1));
    group.bench_function("get_data/1 session, current-thread", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                get(&zk, iters).await;
                start.elapsed()
            })
        })
    });
    group.bench_function("create+delete/1 session, current-thread", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                create_delete(&zk, "/bench/n", iters).await;
                start.elapsed()
            })
        })
    });

    // Two tasks with a session each on two workers: each iteration is one operation (or
    // pair) per task, so two elements.
    let rt = two_workers();
    let sessions = [ensemble.connect(), ensemble.connect()];
    group.throughput(Throughput::Elements(sessions.len() as u64));
    group.bench_function("get_data/2 sessions, 2 workers", |b| {
        b.iter_custom(|iters| {
            in_tasks(&rt, &sessions, iters, |zk, _, iters| async move {
                get(&zk, iters).await
            })
        })
    });
    group.bench_function("create+delete/2 sessions, 2 workers", |b| {
        b.iter_custom(|iters| {
            in_tasks(&rt, &sessions, iters, |zk, i, iters| async move {
                create_delete(&zk, &format!("/bench/t{i}"), iters).await
            })
        })
    });
    group.finish();
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, without their undocumented `pub fn`.
    let mut criterion = Criterion::default().configure_from_args();
    throughput(&mut criterion);
    criterion.final_summary();
}
