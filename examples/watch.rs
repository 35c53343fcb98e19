//! Followed watches with `zk-cache`: a service reading its configuration as it changes, a list
//! of live workers that follows their ephemeral nodes through an expired session, and a tree
//! cache answering lookups from memory.
//!
//! ```text
//! cargo run --example watch
//! ```
//!
//! It runs on the in-memory fake ensemble by default. `--hosts host:port,...` (or the
//! `ZK_HOSTS` environment variable) runs it against a real ZooKeeper through the wire client:
//!
//! ```text
//! cargo run --example watch -- --hosts 127.0.0.1:2181
//! ```

use std::process::ExitCode;

use futures::StreamExt;
use zk_cache::{TreeCache, TreeCacheOptions, TreeEvent, children_watch, data_watch};
use zk_core::{Coordinator, CoordinatorExt, CreateOptions};

#[path = "support/sessions.rs"]
mod sessions;
#[path = "support/target.rs"]
mod target;

use sessions::{Backend, Result, within};

/// The root of every path the example uses.
const ROOT: &str = "/example-watch";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    sessions::main_for("watch", ROOT, run).await
}

/// The whole example, on sessions of the chosen backend (in a clean [`ROOT`]).
async fn run(backend: &Backend) -> Result<()> {
    configuration_as_it_changes(backend).await?;
    workers_come_and_go(backend).await?;
    a_tree_in_memory(backend).await?;
    Ok(())
}

/// A service follows its configuration node: it starts before the node exists, sees it
/// appear, then sees each update once.
async fn configuration_as_it_changes(backend: &Backend) -> Result<()> {
    let path = format!("{ROOT}/config");
    println!("\n== a service follows {path}");
    let [service, operator] = backend.sessions::<2>().await?;
    let mut config = data_watch(service.clone(), &path)?;
    let first = within("the first value", config.next())
        .await?
        .ok_or("ended")??;
    println!(
        "service: config is {:?} (not there yet)",
        first.map(|v| v.data)
    );

    operator
        .create_with_parents(&path, b"pool=4", &CreateOptions::persistent())
        .await?;
    for update in [&b"pool=8"[..], b"pool=16"] {
        let seen = within("a change", config.next()).await?.ok_or("ended")??;
        let seen = seen.ok_or("the node vanished")?;
        println!(
            "service: config is now {:?} (version {})",
            String::from_utf8_lossy(&seen.data),
            seen.stat.version
        );
        operator.set_data(&path, update, None).await?;
    }
    // The last update, then the node's removal, which is a value too.
    let last = within("a change", config.next()).await?.ok_or("ended")??;
    println!(
        "service: config is now {:?}",
        last.map(|v| String::from_utf8_lossy(&v.data).into_owned())
    );
    operator.delete(&path, None).await?;
    let gone = within("the removal", config.next())
        .await?
        .ok_or("ended")??;
    if gone.is_some() {
        return Err("the removal was not seen".into());
    }
    println!("service: config removed");
    drop(config);
    sessions::close_all([service, operator]).await?;
    Ok(())
}

/// A dispatcher keeps the latest list of workers, who register as ephemeral nodes; when a
/// worker's session expires, its node goes and the list follows.
async fn workers_come_and_go(backend: &Backend) -> Result<()> {
    let path = format!("{ROOT}/workers");
    println!("\n== a dispatcher follows {path}");
    let [dispatcher, w1, w2] = backend.sessions::<3>().await?;
    dispatcher.ensure_path(&path).await?;
    let mut workers = children_watch(dispatcher.clone(), &path)?
        .into_latest()
        .await?;
    for (name, zk) in [("w1", &w1), ("w2", &w2)] {
        zk.create(&format!("{path}/{name}"), b"", &CreateOptions::ephemeral())
            .await?;
    }
    let names =
        |w: &Option<zk_cache::Children>| w.as_ref().map(|c| c.names.clone()).unwrap_or_default();
    within("both workers", workers.wait_for(|w| names(w).len() == 2)).await??;
    println!("dispatcher: workers {:?}", names(&workers.borrow()));
    println!("w1's session expires");
    backend.expire(w1.session_id()).await?;
    within("w1 to go", workers.wait_for(|w| names(w) == ["w2"])).await??;
    println!("dispatcher: workers {:?}", names(&workers.borrow()));
    drop(workers);
    sessions::close_all([dispatcher, w1, w2]).await?;
    Ok(())
}

/// A router mirrors the whole service tree and looks endpoints up without a request; it sees
/// a new endpoint as an event.
async fn a_tree_in_memory(backend: &Backend) -> Result<()> {
    let path = format!("{ROOT}/services");
    println!("\n== a router caches {path}");
    let [router, admin] = backend.sessions::<2>().await?;
    for (service, endpoint) in [("api", "10.0.0.1:80"), ("db", "10.0.0.9:5432")] {
        let node = format!("{path}/{service}/e1");
        admin
            .create_with_parents(&node, endpoint.as_bytes(), &CreateOptions::persistent())
            .await?;
    }
    let (cache, mut events) = TreeCache::start(router.clone(), &path, TreeCacheOptions::new())?;
    within("the initial load", cache.initialized()).await??;
    println!(
        "router: {} nodes cached; services {:?}",
        cache.len(),
        cache.children(&path).unwrap_or_default()
    );
    let api = format!("{path}/api/e2");
    admin
        .create(&api, b"10.0.0.2:80", &CreateOptions::ephemeral())
        .await?;
    within("the new endpoint", async {
        while let Some(event) = events.next().await {
            if let TreeEvent::Added { path, node } = event
                && path == api
            {
                println!(
                    "router: added {path} -> {}",
                    String::from_utf8_lossy(&node.data)
                );
                return;
            }
        }
    })
    .await?;
    let endpoints = cache.children(&format!("{path}/api")).unwrap_or_default();
    println!("router: api endpoints from memory: {endpoints:?}");
    if endpoints != ["e1", "e2"] {
        return Err(format!("unexpected endpoints {endpoints:?}").into());
    }
    drop(cache);
    sessions::close_all([router, admin]).await?;
    Ok(())
}

sessions::example_tests!(run, ROOT);
