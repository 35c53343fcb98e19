//! A configuration centre with `zk-config`: a service that reloads its typed settings when an
//! operator changes them and keeps its last good settings when someone writes garbage, two
//! operators changing them at once without losing a change, feature rollouts switched
//! atomically, and a deploy counter.
//!
//! ```text
//! cargo run --example config
//! ```
//!
//! It runs on the in-memory fake ensemble by default. `--hosts host:port,...` (or the
//! `ZK_HOSTS` environment variable) runs it against a real ZooKeeper through the wire client:
//!
//! ```text
//! cargo run --example config -- --hosts 127.0.0.1:2181
//! ```
//!
//! On a real server the session-expiry step ends the session from outside with
//! `zk_testkit::expire_session`, a test utility; in production a session expires when its
//! client is cut off for longer than the timeout.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use zk_config::{ConfigError, ConfigStore, ConfigTree, Counter, TreeSnapshot, Watched};
use zk_core::Coordinator;

#[path = "support/sessions.rs"]
mod sessions;
#[path = "support/target.rs"]
mod target;

use sessions::{Backend, Result, within};

/// The root of every path the example uses.
const ROOT: &str = "/example-config";

type Zk = Arc<dyn Coordinator>;

/// The service's settings, stored as JSON in one node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Settings {
    log_level: String,
    max_connections: u32,
    feature_flags: Vec<String>,
}

/// Settings from their parts.
fn settings_of(log_level: &str, max_connections: u32, flags: &[&str]) -> Settings {
    let feature_flags = flags.iter().map(|f| f.to_string()).collect();
    Settings {
        log_level: log_level.into(),
        max_connections,
        feature_flags,
    }
}

/// The settings node as every session sees it: its default and its validation rule.
fn settings(zk: &Zk) -> Result<ConfigStore<Zk, Settings>> {
    let defaults = settings_of("info", 100, &[]);
    let store = ConfigStore::new(zk.clone(), &format!("{ROOT}/settings"), defaults)?;
    Ok(store.validate(|s| match s.max_connections {
        0 => Err("max_connections must be > 0".into()),
        _ => Ok(()),
    }))
}

/// Waits (bounded) until the watched value satisfies `until`, and returns it.
async fn seen<T: Clone>(rx: &mut watch::Receiver<T>, until: impl FnMut(&T) -> bool) -> Result<T> {
    Ok(within("a change", rx.wait_for(until)).await??.clone())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    sessions::main_for("config", ROOT, run).await
}

/// The whole example, on sessions of the chosen backend (in a clean [`ROOT`]).
async fn run(backend: &Backend) -> Result<()> {
    the_service_reloads(backend).await?;
    operators_race(backend).await?;
    rollouts_switch_together(backend).await?;
    deploys_are_counted(backend).await?;
    Ok(())
}

/// The service starts on the defaults and reloads on every good change; bad writes are
/// reported and leave it on its last good settings.
async fn the_service_reloads(backend: &Backend) -> Result<()> {
    println!("\n== a service follows {ROOT}/settings");
    let [service, operator] = backend.sessions::<2>().await?;
    let mut live = settings(&service)?.watch().await?;
    println!(
        "service: starting on the defaults {:?}",
        live.borrow().current.value
    );

    let console = settings(&operator)?;
    let good = settings_of("debug", 250, &["fast-path"]);
    let version = Some(console.set(&good).await?);
    println!("operator: set {good:?}");
    let now = seen(&mut live, |w| w.current.version == version).await?;
    println!("service: reloaded {:?}", now.current.value);

    let zero = settings_of("debug", 0, &[]);
    let Err(refused @ ConfigError::Invalid { .. }) = console.set(&zero).await else {
        return Err("an invalid value was written".into());
    };
    println!("operator: set max_connections 0: refused by the store: {refused}");
    // Raw writes bypass the store's checks: the service refuses them itself.
    let zero = br#"{"log_level":"info","max_connections":0,"feature_flags":[]}"#;
    for bad in [&b"\xff\xfe{ not json"[..], zero] {
        let stat = operator.set_data(console.path(), bad, None).await?;
        println!("operator: raw set_data b\"{}\"", bad.escape_ascii());
        let refused = |r: &zk_config::Rejected| r.version.data_version == stat.version;
        let now = seen(&mut live, |w| w.rejected.as_ref().is_some_and(refused)).await?;
        let reason = now.rejected.map(|r| r.reason).unwrap_or_default();
        println!("service: rejected data version {}: {reason}", stat.version);
        println!("service: still running on {:?}", now.current.value);
        if now.current.value != good {
            return Err("a bad write replaced the last good settings".into());
        }
    }

    // The watch also rides out a new session: the service's session expires, the operator
    // fixes the settings meanwhile, and the service reads them on its new session.
    backend.expire(service.session_id()).await?;
    println!("service: session expired");
    let fixed = settings_of("warn", 250, &["fast-path"]);
    let version = Some(console.set(&fixed).await?);
    println!("operator: set {fixed:?}");
    let now: Watched<Settings> = seen(&mut live, |w| w.current.version == version).await?;
    println!(
        "service: reloaded {:?}, no rejection: {}",
        now.current.value,
        now.rejected.is_none()
    );
    drop(live);
    sessions::close_all([service, operator]).await
}

/// The change operator `who` makes: ten more connections and a flag of theirs.
fn add(who: &'static str) -> impl Fn(&Settings) -> Settings {
    move |old| {
        let mut new = old.clone();
        new.max_connections += 10;
        new.feature_flags.push(who.into());
        new
    }
}

/// Two operators change the settings at once: Alice read them before Bob saved his change,
/// so her write over that read is refused; `update` re-reads and re-applies her change (as it
/// does on every conflict), and neither change is lost.
async fn operators_race(backend: &Backend) -> Result<()> {
    println!("\n== two operators change {ROOT}/settings at once");
    let [alice, bob] = backend.sessions::<2>().await?;
    let (a, b) = (settings(&alice)?, settings(&bob)?);
    let read = a.get().await?;
    println!("bob: update -> {:?}", b.update(add("bob")).await?.value);
    let stale = a
        .compare_and_set(read.expected(), &add("alice")(&read.value))
        .await;
    let Err(conflict @ ConfigError::Conflict { .. }) = stale else {
        return Err(format!("a stale write was not refused: {stale:?}").into());
    };
    println!("alice: compare_and_set over her earlier read: {conflict}");
    println!("alice: update -> {:?}", a.update(add("alice")).await?.value);
    let now = b.get().await?.value;
    if now.max_connections != read.value.max_connections + 20 {
        return Err("a change was lost".into());
    }
    sessions::close_all([alice, bob]).await
}

/// Feature rollouts, one key per feature under one node: several keys change in one `multi`,
/// all or none, and the service follows the whole tree as a snapshot.
async fn rollouts_switch_together(backend: &Backend) -> Result<()> {
    let base = format!("{ROOT}/rollouts");
    println!("\n== feature rollouts under {base}, one key (a percentage) per feature");
    let [service, operator] = backend.sessions::<2>().await?;
    let rollouts = |zk: &Zk| -> Result<ConfigTree<Zk, u8>> {
        let tree = ConfigTree::new(zk.clone(), &base)?;
        Ok(tree.validate(|p| match p {
            0..=100 => Ok(()),
            _ => Err(format!("{p}% is over 100%")),
        }))
    };
    let show = |s: &TreeSnapshot<u8>| s.values.iter().map(|(k, v)| (k.clone(), v.value)).collect();
    let console = rollouts(&operator)?;
    console.set("checkout-v1", &100).await?;
    console.set("search-v2", &10).await?;
    let mut live = rollouts(&service)?.watch().await?;
    let now: BTreeMap<String, u8> = show(&live.borrow());
    println!("service: rollouts {now:?}");

    let keys = ["checkout-v1", "checkout-v2", "search-v2"];
    let switch = |now: &BTreeMap<String, u8>| {
        let v1 = now.get("checkout-v1").copied();
        let changes = [
            ("checkout-v1", None),
            ("checkout-v2", v1),
            ("search-v2", Some(50)),
        ];
        changes
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    };
    console.update(&keys, switch).await?;
    println!("operator: one multi: checkout-v1's traffic to checkout-v2, search-v2 to 50%");
    let want = BTreeMap::from([
        ("checkout-v2".to_owned(), 100),
        ("search-v2".to_owned(), 50),
    ]);
    let now = show(&seen(&mut live, |s| show(s) == want).await?);
    println!("service: rollouts {now:?}");
    drop(live);
    sessions::close_all([service, operator]).await
}

/// A deploy counter that concurrent pipelines add to, stored as decimal text as kazoo's
/// `Counter` stores it.
async fn deploys_are_counted(backend: &Backend) -> Result<()> {
    let path = format!("{ROOT}/deploys");
    println!("\n== a deploy counter at {path}");
    let [ci, cd] = backend.sessions::<2>().await?;
    let (a, b) = (
        Counter::new(ci.clone(), &path)?,
        Counter::new(cd.clone(), &path)?,
    );
    for written in futures::future::join_all([&a, &b, &a, &b].map(|c| c.add(1))).await {
        println!("a pipeline: deploy #{}", written?);
    }
    let (total, (raw, _)) = (b.get().await?.value, ci.get_data(&path).await?);
    println!("{total} deploys, stored as b\"{}\"", raw.escape_ascii());
    if total != 4 {
        return Err(format!("expected 4 deploys, counted {total}").into());
    }
    sessions::close_all([ci, cd]).await
}

sessions::example_tests!(run, ROOT);
