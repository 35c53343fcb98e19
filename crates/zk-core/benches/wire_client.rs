//! Wire-client benchmark against a real local ZooKeeper (started by the zk-testkit harness).
//!
//! Workloads: `get_sync` (one caller, one get at a time), `get_pipelined` (32 callers sharing one
//! session, so 32 gets in flight) and `create+delete` (16 chains, each creating then deleting
//! its own node in a loop).
//! For each: operations per second, p50/p99 latency, and client CPU per operation (user + system
//! time of this process from getrusage; the server is another process).
//! Run with `cargo xtask bench` or `cargo bench -p zk-core --bench wire_client`;
//! `ZK_BENCH_SECONDS` sets the length of each workload (default 5). Under `cargo test` (no
//! `--bench`) it only checks that it works: it starts the server and makes a few calls of each
//! workload (see `zk_testkit::bench`).

use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions};
use zk_testkit::bench::{
    BenchMode, Layout, current_thread_runtime, run_workload, throughput_server,
};

/// How the report lines look.
const LAYOUT: Layout = Layout {
    unit: "op",
    name_width: 16,
    cpu_decimals: 2,
};

/// One get of the bench node by `client`.
async fn get(client: ZkClient) -> usize {
    client.get_data("/bench").await.unwrap();
    1
}

fn main() {
    let Some(mode) = BenchMode::from_args("wire_client") else {
        return;
    };
    let span = mode.span();
    let server = throughput_server();
    current_thread_runtime().block_on(async {
        let zk = ZkClient::connect(&server.connect_string())
            .await
            .expect("connect");
        zk.create("/bench", &[7u8; 64], &CreateOptions::persistent())
            .await
            .unwrap();
        println!(
            "wire client against ZooKeeper at {} ({span}, one client session, current-thread runtime)",
            server.connect_string(),
        );

        let client = zk.clone();
        let sync = run_workload(1, span, move |_, _| get(client.clone())).await;
        println!("{}", sync.line("get_sync", &LAYOUT));

        let client = zk.clone();
        let pipelined = run_workload(32, span, move |_, _| get(client.clone())).await;
        println!("{}", pipelined.line("get_pipelined", &LAYOUT));

        let client = zk.clone();
        let chains = run_workload(16, span, move |caller, _| {
            let client = client.clone();
            async move {
                let path = format!("/bench/chain-{caller}");
                client
                    .create(&path, b"x", &CreateOptions::persistent())
                    .await
                    .unwrap();
                client.delete(&path, None).await.unwrap();
                2
            }
        })
        .await;
        println!("{}", chains.line("create+delete", &LAYOUT));
        println!("(create+delete counts each create and each delete as one op; latency is per pair)");
        zk.delete_all("/bench").await.unwrap();
        zk.close().await.unwrap();
    });
}
