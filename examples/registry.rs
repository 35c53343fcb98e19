//! Service discovery with `zk-registry`: a fleet of three instances of a service registers, a
//! client follows them live, a provider spreads calls over them (filtered by zone, skipping
//! one that fails), an instance's registration comes back by itself after session expiry, one
//! is drained, and garbage written under the service is skipped.
//!
//! ```text
//! cargo run --example registry
//! ```
//!
//! It runs on the in-memory fake ensemble by default. `--hosts host:port,...` (or the
//! `ZK_HOSTS` environment variable) runs it against a real ZooKeeper through the wire client:
//!
//! ```text
//! cargo run --example registry -- --hosts 127.0.0.1:2181
//! ```
//!
//! On a real server the session-expiry step ends the session from outside with
//! `zk_testkit::expire_session`, a test utility; in production a session expires when its
//! client is cut off for longer than the timeout.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use zk_core::{Coordinator, CreateOptions};
use zk_registry::{
    Change, Instance, Provider, Registration, Registry, ServiceSnapshot, ServiceWatch, Strategy,
};

#[path = "support/sessions.rs"]
mod sessions;
#[path = "support/target.rs"]
mod target;

use sessions::{Backend, Result, within};

/// The registry's base path: service "api" lives at `{ROOT}/api`.
const ROOT: &str = "/example-registry";

type Zk = Arc<dyn Coordinator>;
type Snapshot = ServiceSnapshot<Meta>;

/// What an instance says about itself: the payload of its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Meta {
    zone: String,
    version: String,
}

fn meta(zone: &str, version: &str) -> Meta {
    let (zone, version) = (zone.to_owned(), version.to_owned());
    Meta { zone, version }
}

/// Registers instance `id` of "api" at `address`, in `zone`, on session `zk`.
async fn register(zk: &Zk, id: &str, address: &str, zone: &str) -> Result<Registration<Zk, Meta>> {
    let instance = Instance::new("api", address).id(id).port(8080);
    let instance = instance.payload(meta(zone, "1.4.0"));
    let registration = Registry::new(zk.clone(), ROOT)?.register(instance).await?;
    println!("{id}: registered at {}", registration.path());
    Ok(registration)
}

/// One line about an instance.
fn show(i: &Instance<Meta>) -> String {
    let Meta { zone, version } = i.payload.clone().unwrap_or_else(|| meta("?", "?"));
    let (address, port) = (&i.address, i.port.unwrap_or_default());
    let drained = if i.enabled { "" } else { ", drained" };
    format!("{} at {address}:{port} ({zone} v{version}{drained})", i.id)
}

/// A client's live view of "api": the watch, its always-current receiver, and what its
/// `changes()` reported so far, printed as they come.
struct Client {
    watch: ServiceWatch<Meta>,
    view: watch::Receiver<Snapshot>,
    changes: BoxStream<'static, Change<Meta>>,
    seen: BTreeMap<String, Instance<Meta>>,
}

impl Client {
    fn new(watch: ServiceWatch<Meta>) -> Client {
        let (view, changes) = (watch.receiver(), watch.changes());
        let seen = watch.snapshot().instances;
        Client {
            watch,
            view,
            changes,
            seen,
        }
    }

    /// Prints the changes the watch reports until it has reported its whole view and the view
    /// satisfies `until` (bounded); returns the view.
    async fn until(&mut self, what: &str, until: impl Fn(&Snapshot) -> bool) -> Result<Snapshot> {
        within(what, self.follow(until)).await?
    }

    async fn follow(&mut self, until: impl Fn(&Snapshot) -> bool) -> Result<Snapshot> {
        loop {
            let now = self.view.borrow_and_update().clone();
            if now.instances == self.seen && until(&now) {
                return Ok(now);
            }
            // Skipped nodes change the view but are no `Change`: wake on either.
            tokio::select! {
                Some(change) = self.changes.next() => print_change(&mut self.seen, change),
                Ok(()) = self.view.changed() => {}
                else => return Err("the watch stopped".into()),
            }
        }
    }

    /// Prints the changes the watch reports while `fut` runs (bounded).
    async fn meanwhile<T>(&mut self, what: &str, fut: impl Future<Output = T>) -> Result<T> {
        let mut fut = std::pin::pin!(fut);
        within(what, async {
            loop {
                tokio::select! {
                    out = &mut fut => return out,
                    Some(change) = self.changes.next() => print_change(&mut self.seen, change),
                }
            }
        })
        .await
    }
}

/// Prints a change the watch reported, and applies it to what it reported so far.
fn print_change(seen: &mut BTreeMap<String, Instance<Meta>>, change: Change<Meta>) {
    let (what, instance) = match change {
        Change::Up(instance) => ("up", instance),
        Change::Updated(instance) => ("updated", instance),
        Change::Down(id) => {
            println!("  watch: down {id}");
            seen.remove(&id);
            return;
        }
    };
    println!("  watch: {what} {}", show(&instance));
    seen.insert(instance.id.clone(), instance);
}

/// Makes `n` calls through `provider`, each to an instance `ok` accepts; returns where they
/// went.
fn calls(
    who: &str,
    provider: &Provider<Meta>,
    n: usize,
    ok: impl Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let mut picked = Vec::new();
    for _ in 0..n {
        let id = provider.get().ok_or("no instance to call")?.id;
        if !ok(&id) {
            return Err(format!("{who}: a call went to {id}").into());
        }
        picked.push(id);
    }
    println!("{who}: {n} calls went to {}", picked.join(" "));
    Ok(picked)
}

/// Whether a view has instance `id`.
fn has(id: &str) -> impl Fn(&Snapshot) -> bool {
    move |s| s.instances.contains_key(id)
}

/// Whether a view lacks instance `id`.
fn lacks(id: &str) -> impl Fn(&Snapshot) -> bool {
    move |s| !s.instances.contains_key(id)
}

/// Waits until the node at `path` exists, created by a session other than `old`; returns the
/// creating session.
async fn created_by_another(zk: &Zk, path: &str, old: i64) -> Result<i64> {
    let mut node = zk_cache::data_watch(zk.clone(), path)?;
    while let Some(read) = node.next().await {
        match read? {
            Some(n) if n.stat.ephemeral_owner != old => return Ok(n.stat.ephemeral_owner),
            _ => {}
        }
    }
    Err("the node watch ended".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    sessions::main_for("registry", ROOT, run).await
}

/// The whole example, on sessions of the chosen backend (in a clean [`ROOT`]).
async fn run(backend: &Backend) -> Result<()> {
    let [s1, s2, s3, client_zk, ops] = backend.sessions::<5>().await?;
    println!("\n== three instances of api register under {ROOT}, a client watches");
    let registry = Registry::new(client_zk.clone(), ROOT)?;
    let mut client = Client::new(registry.watch::<Meta>("api").await?);
    println!("client: watching api (no instances yet)");
    let mut api1 = register(&s1, "api-1", "10.0.1.1", "eu-1").await?;
    let api2 = register(&s2, "api-2", "10.0.1.2", "eu-1").await?;
    let api3 = register(&s3, "api-3", "10.0.2.1", "us-1").await?;
    let three = |s: &Snapshot| s.instances.len() == 3;
    client.until("three instances", three).await?;
    println!("client: services {:?}", registry.services().await?);

    println!("\n== a round-robin provider spreads the calls");
    let all = Provider::new(client.watch.clone(), Strategy::RoundRobin);
    let picked = calls("client", &all, 6, |_| true)?;
    let count = |id: &str| picked.iter().filter(|p| *p == id).count();
    if ["api-1", "api-2", "api-3"]
        .into_iter()
        .any(|id| count(id) != 2)
    {
        return Err("the calls were not spread evenly".into());
    }

    println!("\n== a provider for zone eu-1 only");
    let eu = Provider::new(client.watch.clone(), Strategy::RoundRobin)
        .filter(|i| i.payload.as_ref().is_some_and(|m| m.zone == "eu-1"));
    calls("client (eu-1)", &eu, 4, |id| id != "api-3")?;
    eu.note_error("api-2");
    eu.note_error("api-2");
    println!("client (eu-1): two calls to api-2 failed, noted");
    calls("client (eu-1)", &eu, 3, |id| id == "api-1")?;

    println!("\n== api-3's session expires; its registration comes back by itself");
    let old = s3.session_id();
    backend.expire(old).await?;
    println!("session {old:#x}: expired from outside");
    let back = created_by_another(&client_zk, api3.path(), old);
    let owner = client.meanwhile("api-3 again", back).await??;
    client.until("api-3 in the view", has("api-3")).await?;
    println!("api-3: registered again by its keeper, on session {owner:#x}");

    println!("\n== api-1 drains for an upgrade: still registered, no longer picked");
    let upgrade = api1.instance().clone().payload(meta("eu-1", "1.5.0"));
    api1.update(upgrade.enabled(false)).await?;
    let drained = |s: &Snapshot| s.instances.get("api-1").is_some_and(|i| !i.enabled);
    client.until("api-1 drained", drained).await?;
    calls("client", &all, 4, |id| id != "api-1")?;
    if eu.get().is_some() {
        return Err("an instance that is drained or down was picked".into());
    }
    println!("client (eu-1): nothing to call (api-1 drained, api-2 down)");

    println!("\n== someone else writes under {ROOT}/api");
    let billing = br#"{"name":"billing","id":"billing-1","address":"10.0.3.1"}"#;
    let garbage: [(&str, &[u8]); 2] = [("legacy", b"10.0.0.9:8080"), ("billing-1", billing)];
    for (node, data) in garbage {
        let path = format!("{ROOT}/api/{node}");
        let persistent = CreateOptions::persistent();
        ops.create(&path, data, &persistent).await?;
        println!("ops: created {path}: {}", String::from_utf8_lossy(data));
    }
    let two = |s: &Snapshot| s.skipped.len() == 2;
    for (node, why) in client.until("two skipped", two).await?.skipped {
        println!("client: skipped {node}: {why}");
    }
    let found = registry.discover::<Meta>("api").await?;
    let (usable, skipped) = (found.enabled().count(), found.skipped.len());
    println!("client: discover finds {usable} usable instances, skips {skipped} nodes");
    calls("client", &all, 2, |_| true)?;

    println!("\n== api-2 deregisters, api-3 shuts down (dropping its registration), api-1 too");
    api2.deregister().await?;
    client.until("api-2 to go", lacks("api-2")).await?;
    drop(api3);
    client.until("api-3 to go", lacks("api-3")).await?;
    api1.deregister().await?;
    client.until("api-1 to go", lacks("api-1")).await?;
    if all.get().is_some() {
        return Err("a deregistered instance was picked".into());
    }
    drop((all, eu, client));
    sessions::close_all([s1, s2, s3, client_zk, ops]).await
}

sessions::example_tests!(run, ROOT);
