//! The recipe commands: `queue` (zk-queue), `registry` (zk-registry) and `config` (zk-config,
//! JSON values), each a thin shell over its crate.

use std::future::Future;

use futures::StreamExt;
use serde_json::{Value, json};
use zk_config::{ConfigError, ConfigStore, Versioned};
use zk_core::client::ZkClient;
use zk_queue::{PutOptions, Queue, QueueError};
use zk_registry::{Change, Instance, Registry, RegistryError};

use crate::child::Signals;
use crate::cli::{
    ConfigCommand, ConfigSetArgs, ConfigWatchArgs, Global, PathArg, QueueCommand, QueuePutArgs,
    QueueTakeArgs, RegisterArgs, RegistryCommand, RegistryListArgs, RegistryWatchArgs,
};
use crate::exit::{CONFLICT, CliError, Outcome, TIMED_OUT, USAGE};
use crate::output::{data_arg, data_json, print_json, print_line, write_stdout};
use crate::session::{connect, finish};

/// Runs `work` on a new session, and closes it.
async fn on_session<F, Fut>(global: &Global, work: F) -> Outcome
where
    F: FnOnce(ZkClient) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let zk = connect(global).await?;
    let outcome = work(zk.clone()).await;
    finish(zk, outcome).await
}

fn queue_error(error: QueueError) -> CliError {
    match error {
        QueueError::ZooKeeper(e) => e.into(),
        QueueError::InvalidPriority(_) | QueueError::InvalidLayout(_) => {
            CliError::usage(error.to_string())
        }
        other => CliError::other(other.to_string()),
    }
}

fn registry_error(error: RegistryError) -> CliError {
    match error {
        RegistryError::ZooKeeper(e) => e.into(),
        RegistryError::InvalidName { .. } => CliError::usage(error.to_string()),
        other => CliError::other(other.to_string()),
    }
}

fn config_error(error: ConfigError) -> CliError {
    match error {
        ConfigError::ZooKeeper(e) => e.into(),
        ConfigError::Conflict { .. } => CliError::new(CONFLICT, error.to_string()),
        ConfigError::Invalid { .. }
        | ConfigError::Encode { .. }
        | ConfigError::InvalidKey { .. } => CliError::usage(error.to_string()),
        other => CliError::other(other.to_string()),
    }
}

/// `queue put|take|len`.
pub(crate) async fn queue(global: &Global, command: QueueCommand) -> Outcome {
    match command {
        QueueCommand::Put(args) => queue_put(global, args).await,
        QueueCommand::Take(args) => queue_take(global, args).await,
        QueueCommand::Len(args) => queue_len(global, args).await,
    }
}

async fn queue_put(global: &Global, args: QueuePutArgs) -> Outcome {
    let data = data_arg(&args.data)?;
    let mut options = PutOptions::new().priority(args.priority);
    if let Some(delay) = args.delay {
        options = options.delay(delay);
    }
    let json = global.json;
    on_session(global, |zk| async move {
        let queue = Queue::new(zk, &args.path).map_err(queue_error)?;
        let name = queue.put_with(data, &options).await.map_err(queue_error)?;
        if json {
            print_json(&json!({ "item": name }))?;
        } else {
            print_line(&name)?;
        }
        Ok(0)
    })
    .await
}

async fn queue_take(global: &Global, args: QueueTakeArgs) -> Outcome {
    let json = global.json;
    on_session(global, |zk| async move {
        let queue = Queue::new(zk, &args.path).map_err(queue_error)?;
        let taken = match args.timeout {
            Some(timeout) => queue.take_timeout(timeout).await,
            None => queue.take().await.map(Some),
        };
        let Some(item) = taken.map_err(queue_error)? else {
            return Err(CliError::new(
                TIMED_OUT,
                format!("no item in {} within the timeout", args.path),
            ));
        };
        if json {
            print_json(&json!({
                "item": item.name(),
                "priority": item.priority(),
                "data": data_json(item.data()),
            }))?;
        } else {
            write_stdout(item.data())?;
        }
        Ok(0)
    })
    .await
}

async fn queue_len(global: &Global, args: PathArg) -> Outcome {
    let json = global.json;
    on_session(global, |zk| async move {
        let queue = Queue::new(zk, &args.path).map_err(queue_error)?;
        let stats = queue.stats().await.map_err(queue_error)?;
        if json {
            print_json(&json!({
                "ready": stats.ready,
                "leased": stats.leased,
                "delayed": stats.delayed,
                "foreign": stats.foreign,
            }))?;
        } else {
            print_line(&format!(
                "{} items: {} ready, {} leased, {} delayed{}",
                stats.items(),
                stats.ready,
                stats.leased,
                stats.delayed,
                match stats.foreign.len() {
                    0 => String::new(),
                    n => format!(" ({n} foreign nodes skipped)"),
                }
            ))?;
        }
        Ok(0)
    })
    .await
}

/// `registry register|list|watch`.
pub(crate) async fn registry(global: &Global, command: RegistryCommand) -> Outcome {
    match command {
        RegistryCommand::Register(args) => register(global, args).await,
        RegistryCommand::List(args) => registry_list(global, args).await,
        RegistryCommand::Watch(args) => registry_watch(global, args).await,
    }
}

/// An instance as one line of text: id, address and port.
fn instance_line(instance: &Instance) -> String {
    match instance.port {
        Some(port) => format!("{} {}:{port}", instance.id, instance.address),
        None => format!("{} {}", instance.id, instance.address),
    }
}

/// An instance as JSON (Curator's record).
fn instance_json(instance: &Instance) -> Value {
    serde_json::to_value(instance).unwrap_or(Value::Null)
}

async fn register(global: &Global, args: RegisterArgs) -> Outcome {
    let json = global.json;
    let mut signals = Signals::new()?;
    on_session(global, |zk| async move {
        let registry = Registry::new(zk, &args.base).map_err(registry_error)?;
        let mut instance: Instance = Instance::new(args.service.as_str(), args.address.as_str());
        if let Some(port) = args.port {
            instance = instance.port(port);
        }
        if let Some(id) = &args.id {
            instance = instance.id(id.as_str());
        }
        let registration = registry.register(instance).await.map_err(registry_error)?;
        if json {
            print_json(&json!({
                "registered": registration.path(),
                "instance": instance_json(registration.instance()),
            }))?;
        } else {
            print_line(&format!("registered {}", registration.path()))?;
        }
        // Kept registered (re-created after expiry) until interrupted.
        signals.recv().await;
        registration.deregister().await.map_err(registry_error)?;
        Ok(0)
    })
    .await
}

async fn registry_list(global: &Global, args: RegistryListArgs) -> Outcome {
    let json = global.json;
    on_session(global, |zk| async move {
        let registry = Registry::new(zk, &args.base).map_err(registry_error)?;
        let Some(service) = &args.service else {
            let services = registry.services().await.map_err(registry_error)?;
            if json {
                print_json(&json!(services))?;
            } else {
                for service in services {
                    print_line(&service)?;
                }
            }
            return Ok(0);
        };
        let found = registry
            .discover::<Value>(service)
            .await
            .map_err(registry_error)?;
        if json {
            let instances: Vec<Value> = found.instances.values().map(instance_json).collect();
            print_json(&json!({ "instances": instances, "skipped": found.skipped }))?;
        } else {
            for instance in found.instances.values() {
                print_line(&instance_line(instance))?;
            }
            for (node, why) in &found.skipped {
                eprintln!("zkctl: skipped {node}: {why}");
            }
        }
        Ok(0)
    })
    .await
}

async fn registry_watch(global: &Global, args: RegistryWatchArgs) -> Outcome {
    let json = global.json;
    let mut signals = Signals::new()?;
    on_session(global, |zk| async move {
        let registry = Registry::new(zk, &args.base).map_err(registry_error)?;
        let watch = registry
            .watch::<Value>(&args.service)
            .await
            .map_err(registry_error)?;
        let mut changes = watch.changes();
        let mut seen = 0u64;
        let show = |change: Change<Value>| {
            let (what, line, record) = match &change {
                Change::Up(i) => ("up", instance_line(i), instance_json(i)),
                Change::Updated(i) => ("updated", instance_line(i), instance_json(i)),
                Change::Down(id) => ("down", id.clone(), json!({ "id": id })),
            };
            if json {
                print_json(&json!({ "change": what, "instance": record }))
            } else {
                print_line(&format!("{what} {line}"))
            }
        };
        loop {
            if args.count.is_some_and(|n| seen >= n) {
                return Ok(0);
            }
            tokio::select! {
                change = changes.next() => match change {
                    Some(change) => {
                        show(change)?;
                        seen += 1;
                    }
                    None => return Err(CliError::other("the watch ended")),
                },
                _ = signals.recv() => return Ok(0),
            }
        }
    })
    .await
}

/// `config get|set|watch`.
pub(crate) async fn config(global: &Global, command: ConfigCommand) -> Outcome {
    match command {
        ConfigCommand::Get(args) => config_get(global, args).await,
        ConfigCommand::Set(args) => config_set(global, args).await,
        ConfigCommand::Watch(args) => config_watch(global, args).await,
    }
}

/// A JSON value store at `path`; absent reads as `null`.
fn store(zk: ZkClient, path: &str) -> Result<ConfigStore<ZkClient, Value>, CliError> {
    ConfigStore::new(zk, path, Value::Null).map_err(config_error)
}

/// A value and its version: JSON, or the value's text and `(version N)`.
fn show_value(value: &Versioned<Value>, json: bool) -> Result<(), CliError> {
    let version = value.version.map(|v| v.data_version);
    if json {
        return print_json(&json!({ "value": value.value, "version": version }));
    }
    match version {
        Some(v) => print_line(&format!("{} (version {v})", value.value)),
        None => print_line(&format!("{} (no node)", value.value)),
    }
}

async fn config_get(global: &Global, args: PathArg) -> Outcome {
    let json = global.json;
    on_session(global, |zk| async move {
        let value = store(zk, &args.path)?.get().await.map_err(config_error)?;
        show_value(&value, json)?;
        Ok(0)
    })
    .await
}

async fn config_set(global: &Global, args: ConfigSetArgs) -> Outcome {
    let text = data_arg(&args.value)?;
    let value: Value = serde_json::from_slice(&text).map_err(|e| {
        CliError::new(
            USAGE,
            format!("the value is not JSON ({e}); quote strings: '\"text\"'"),
        )
    })?;
    let json = global.json;
    on_session(global, |zk| async move {
        let store = store(zk, &args.path)?;
        let written = match args.version {
            Some(version) => store.compare_and_set(Some(version), &value).await,
            None => store.set(&value).await,
        }
        .map_err(config_error)?;
        if json {
            print_json(&json!({ "version": written.data_version }))?;
        } else {
            print_line(&format!("version {}", written.data_version))?;
        }
        Ok(0)
    })
    .await
}

async fn config_watch(global: &Global, args: ConfigWatchArgs) -> Outcome {
    let json = global.json;
    let mut signals = Signals::new()?;
    on_session(global, |zk| async move {
        let mut live = store(zk, &args.path)?.watch().await.map_err(config_error)?;
        let mut seen = 0u64;
        loop {
            let now = live.borrow_and_update().clone();
            show_value(&now.current, json)?;
            if let Some(rejected) = &now.rejected {
                eprintln!(
                    "zkctl: refused data version {}: {}",
                    rejected.version.data_version, rejected.reason
                );
            }
            if args.count.is_some_and(|n| seen >= n) {
                return Ok(0);
            }
            tokio::select! {
                changed = live.changed() => {
                    if changed.is_err() {
                        return Err(CliError::other("the watch ended"));
                    }
                    seen += 1;
                }
                _ = signals.recv() => return Ok(0),
            }
        }
    })
    .await
}

/// The exit code of a queue, registry or config failure (for tests of the mapping).
#[cfg(test)]
fn code(error: CliError) -> u8 {
    error.code
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::code_of;

    #[test]
    fn recipe_errors_keep_zookeepers_codes_and_name_usage() {
        let no_node = zk_core::Error::NoNode { path: "/q".into() };
        assert_eq!(
            code(queue_error(QueueError::ZooKeeper(no_node.clone()))),
            code_of(&no_node)
        );
        assert_eq!(code(queue_error(QueueError::InvalidPriority(1000))), USAGE);
        let conflict = ConfigError::Conflict {
            path: "/c".into(),
            expected: Some(1),
        };
        assert_eq!(code(config_error(conflict)), CONFLICT);
        let name = RegistryError::InvalidName {
            what: "service name",
            name: "a/b".into(),
            reason: "has a slash",
        };
        assert_eq!(code(registry_error(name)), USAGE);
    }
}
