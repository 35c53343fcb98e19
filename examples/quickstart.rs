//! Quickstart: the `Coordinator` API step by step, on the in-memory fake ensemble or on a real
//! ZooKeeper.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It shows reads and writes with versions, a one-shot watch, a persistent recursive watch,
//! atomic `multi` transactions and an ephemeral node vanishing with its session.
//! Everything after the backend is chosen is written against `dyn Coordinator`, so the same code
//! runs on a real ensemble.
//!
//! `--hosts host:port,...` (or the `ZK_HOSTS` environment variable) runs the same walkthrough
//! against a real ZooKeeper ensemble through the wire client:
//!
//! ```text
//! cargo run --example quickstart -- --hosts 127.0.0.1:2181
//! ```

use std::error::Error as StdError;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use zk_core::{
    AddWatchMode, Coordinator, CoordinatorExt, CreateOptions, Error, OneshotWatch, Op, OpResult,
    PersistentWatch, WatchEvent,
};

#[path = "support/target.rs"]
mod target;

use target::{Target, target, usage};

/// The example's result: any error, reported by `main`.
type Result<T> = std::result::Result<T, Box<dyn StdError>>;

/// How long the example waits for a watch before calling it a failure.
const WATCH_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = std::env::args().skip(1);
    let usage = usage("quickstart");
    match target(&usage, args, std::env::var("ZK_HOSTS").ok()) {
        Ok(Target::Fake) => {
            println!("backend: the in-memory fake ensemble (zk_fake::FakeEnsemble)");
            run_on(Backend::Fake(zk_fake::FakeEnsemble::new())).await
        }
        Ok(Target::Hosts(hosts)) => {
            println!("backend: ZooKeeper at {hosts} (zk_core::client::ZkClient)");
            run_on(Backend::Real(hosts)).await
        }
        Ok(Target::Help) => {
            println!("{usage}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("quickstart: {e}");
            ExitCode::from(2)
        }
    }
}

/// Where sessions come from: the fake, or real servers through the wire client.
enum Backend {
    Fake(zk_fake::FakeEnsemble),
    Real(String),
}

impl Backend {
    /// Opens a new, independent session.
    async fn connect(&self) -> Result<Arc<dyn Coordinator>> {
        Ok(match self {
            Backend::Fake(ensemble) => Arc::new(ensemble.connect()),
            Backend::Real(hosts) => Arc::new(zk_core::client::ZkClient::connect(hosts).await?),
        })
    }
}

async fn run_on(backend: Backend) -> ExitCode {
    match run(&backend).await {
        Ok(()) => {
            println!("done");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The walkthrough, on sessions of the chosen backend.
async fn run(backend: &Backend) -> Result<()> {
    let zk = backend.connect().await?;
    let other = backend.connect().await?;
    println!(
        "opened two sessions: {:#x} and {:#x}",
        zk.session_id(),
        other.session_id()
    );
    zk.delete_all("/quickstart").await?;
    zk.create("/quickstart", b"", &CreateOptions::persistent())
        .await?;

    crud_with_versions(&*zk).await?;
    one_shot_watch(&*zk, &*other).await?;
    persistent_recursive_watch(&*zk, &*other).await?;
    transactions(&*zk).await?;
    ephemeral_node(&*zk, backend.connect().await?).await?;

    zk.delete_all("/quickstart").await?;
    zk.close().await?;
    other.close().await?;
    println!("\nremoved /quickstart and closed both sessions");
    Ok(())
}

/// Create, read, and write with an expected version; a stale version is refused.
async fn crud_with_versions(zk: &dyn Coordinator) -> Result<()> {
    println!("\n== reads and writes with versions");
    let path = "/quickstart/config";
    let created = zk.create(path, b"v1", &CreateOptions::persistent()).await?;
    println!(
        "created {} at version {}",
        created.path, created.stat.version
    );

    let (data, stat) = zk.get_data(path).await?;
    println!("read {:?} at version {}", text(&data), stat.version);

    let stat = zk.set_data(path, b"v2", Some(stat.version)).await?;
    println!(
        "wrote \"v2\" expecting version 0; the node is now at version {}",
        stat.version
    );

    match zk.set_data(path, b"stale", Some(0)).await {
        Err(e @ Error::BadVersion { .. }) => {
            println!("wrote again expecting version 0: refused, {e}")
        }
        other => return Err(format!("expected BadVersion, got {other:?}").into()),
    }
    let (data, stat) = zk.get_data(path).await?;
    println!(
        "the node still holds {:?} at version {}",
        text(&data),
        stat.version
    );
    Ok(())
}

/// A one-shot watch is a future that resolves once, with the first change.
async fn one_shot_watch(zk: &dyn Coordinator, other: &dyn Coordinator) -> Result<()> {
    println!("\n== a one-shot watch");
    let path = "/quickstart/config";
    let (_, _, watch) = zk.watch_data(path).await?;
    println!("first session: read {path} and set a data watch");

    other.set_data(path, b"v3", None).await?;
    println!("second session: wrote \"v3\"");

    let event = fire(watch).await?;
    println!(
        "first session: the watch fired, {:?} on {}",
        event.event_type, event.path
    );
    let (data, stat) = zk.get_data(path).await?;
    println!(
        "first session: re-read {:?} at version {} (watch again to hear of the next change)",
        text(&data),
        stat.version
    );
    Ok(())
}

/// A persistent recursive watch is a stream of every change below a path.
async fn persistent_recursive_watch(zk: &dyn Coordinator, other: &dyn Coordinator) -> Result<()> {
    println!("\n== a persistent recursive watch");
    let root = "/quickstart/services";
    let mut events = zk
        .add_watch(root, AddWatchMode::PersistentRecursive)
        .await?;
    println!("first session: watching {root} and everything below it (it need not exist yet)");

    other
        .create(root, b"", &CreateOptions::persistent())
        .await?;
    other
        .create(
            "/quickstart/services/api",
            b"10.0.0.1:80",
            &CreateOptions::persistent(),
        )
        .await?;
    other
        .set_data("/quickstart/services/api", b"10.0.0.2:80", None)
        .await?;
    other.delete("/quickstart/services/api", None).await?;
    println!("second session: created {root} and services/api, changed api, deleted api");

    for _ in 0..4 {
        let event = next(&mut events).await?;
        println!(
            "first session: event {:?} on {}",
            event.event_type, event.path
        );
    }
    drop(events);
    println!("first session: dropped the stream, which removes the watch");
    Ok(())
}

/// `multi` applies every operation or none.
async fn transactions(zk: &dyn Coordinator) -> Result<()> {
    println!("\n== multi: all or nothing");
    let (_, config) = zk.get_data("/quickstart/config").await?;
    let results = zk
        .multi(&[
            Op::check("/quickstart/config", Some(config.version)),
            Op::create("/quickstart/jobs", b"", CreateOptions::persistent()),
            Op::create(
                "/quickstart/jobs/job-",
                b"build",
                CreateOptions::persistent_sequential(),
            ),
        ])
        .await?;
    for result in &results {
        match result {
            OpResult::Check => println!("committed: config is still at version {}", config.version),
            OpResult::Create { path, .. } => println!("committed: created {path}"),
            other => println!("committed: {other:?}"),
        }
    }

    let failed = zk
        .multi(&[
            Op::create(
                "/quickstart/jobs/job-manual",
                b"deploy",
                CreateOptions::persistent(),
            ),
            Op::delete("/quickstart/no-such-node", None),
        ])
        .await;
    match failed {
        Err(e @ Error::Multi { .. }) => println!(
            "second multi failed at operation {}: {}",
            e.multi_index().unwrap_or_default(),
            e.root()
        ),
        other => return Err(format!("expected the multi to fail, got {other:?}").into()),
    }
    let applied = zk.exists("/quickstart/jobs/job-manual").await?.is_some();
    println!("its first operation was not applied either: job-manual exists = {applied}");
    if applied {
        return Err("a failed multi applied part of its operations".into());
    }
    println!(
        "jobs: {:?}",
        zk.get_children_sorted("/quickstart/jobs").await?
    );
    Ok(())
}

/// An ephemeral node lives as long as the session that created it.
async fn ephemeral_node(zk: &dyn Coordinator, worker: Arc<dyn Coordinator>) -> Result<()> {
    println!("\n== an ephemeral node");
    let path = "/quickstart/worker";
    let created = worker
        .create(path, b"alive", &CreateOptions::ephemeral())
        .await?;
    println!(
        "worker session {:#x}: created ephemeral {} (owner {:#x})",
        worker.session_id(),
        created.path,
        created.stat.ephemeral_owner
    );

    let (stat, watch) = zk.watch_exists(path).await?;
    println!(
        "first session: {path} exists = {}, watching it",
        stat.is_some()
    );

    worker.close().await?;
    println!("worker session: closed");

    let event = fire(watch).await?;
    println!(
        "first session: the watch fired, {:?} on {}",
        event.event_type, event.path
    );
    let gone = zk.exists(path).await?.is_none();
    println!("first session: {path} is gone = {gone}");
    if !gone {
        return Err("the ephemeral node outlived its session".into());
    }
    Ok(())
}

/// Waits for a one-shot watch, giving up after [`WATCH_TIMEOUT`].
async fn fire(watch: OneshotWatch) -> Result<WatchEvent> {
    tokio::time::timeout(WATCH_TIMEOUT, watch)
        .await
        .map_err(|_| "a watch did not fire in time".into())
}

/// Waits for the next event of a persistent watch, giving up after [`WATCH_TIMEOUT`].
async fn next(events: &mut PersistentWatch) -> Result<WatchEvent> {
    match tokio::time::timeout(WATCH_TIMEOUT, events.next()).await {
        Ok(Some(event)) => Ok(event),
        Ok(None) => Err("the persistent watch ended".into()),
        Err(_) => Err("a persistent watch event did not come in time".into()),
    }
}

/// Node data as text, for printing.
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_walkthrough_succeeds_on_the_fake() {
        let ensemble = zk_fake::FakeEnsemble::new();
        let backend = Backend::Fake(ensemble.clone());
        let result = run(&backend).await;
        assert!(result.is_ok(), "{result:?}");
        let zk = ensemble.connect();
        assert_eq!(zk.exists("/quickstart").await, Ok(None));
    }

    #[test]
    fn the_walkthrough_runs_against_a_real_server() {
        let server = zk_testkit::server::ZkServer::shared();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let backend = Backend::Real(server.connect_string());
        let result = runtime.block_on(run(&backend));
        assert!(result.is_ok(), "{result:?}");
    }
}
