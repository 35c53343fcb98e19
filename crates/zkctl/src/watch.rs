//! `watch`: one line per event on a node (`-R`: on it and below it), from a persistent watch,
//! until `--count` events, Ctrl-C, or the end of the session.
//!
//! Standard output carries the events and nothing else, flushed line by line, so a script can
//! read them as they come; trouble with the connection is told on standard error.

use futures::StreamExt;
use serde_json::json;
use zk_core::client::ZkClient;
use zk_core::path::validate_path;
use zk_core::{AddWatchMode, Coordinator, EventType, PersistentWatch, SessionState, WatchEvent};

use crate::child::Signals;
use crate::cli::{Global, WatchArgs};
use crate::exit::{CliError, OTHER, Outcome, UNAVAILABLE};
use crate::output::print_line;
use crate::session::{connect, finish};

/// What to do with one event of the watch.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// Print this line: a node event, counted.
    Print(String),
    /// Tell this on standard error and go on.
    Warn(&'static str),
    /// Carry on silently.
    Skip,
    /// Stop: the watch is over.
    Stop(CliError),
}

/// `watch`.
pub(crate) async fn watch(global: &Global, args: WatchArgs) -> Outcome {
    validate_path(&args.path).map_err(|e| CliError::usage(e.to_string()))?;
    let zk = connect(global).await?;
    let outcome = follow(&zk, &args, global.json).await;
    finish(zk, outcome).await
}

/// Sets the watch and prints its events until it is time to stop.
async fn follow(zk: &ZkClient, args: &WatchArgs, json: bool) -> Outcome {
    let mode = if args.recursive {
        AddWatchMode::PersistentRecursive
    } else {
        AddWatchMode::Persistent
    };
    let mut signals = Signals::new()?;
    let events = zk.add_watch(&args.path, mode).await?;
    tokio::select! {
        outcome = print_events(events, args.count, json) => outcome,
        // Ctrl-C or SIGTERM: a normal way to stop watching.
        _ = signals.recv() => Ok(0),
    }
}

/// Prints events until `count` node events were printed or the watch ends.
async fn print_events(mut events: PersistentWatch, count: Option<u64>, json: bool) -> Outcome {
    let mut printed = 0;
    loop {
        if count.is_some_and(|count| printed >= count) {
            return Ok(0);
        }
        let Some(event) = events.next().await else {
            return Err(CliError::new(
                UNAVAILABLE,
                "the watch ended with the session",
            ));
        };
        match step(&event, json) {
            Step::Print(line) => {
                print_line(&line)?;
                printed += 1;
            }
            Step::Warn(warning) => eprintln!("zkctl: {warning}"),
            Step::Skip => {}
            Step::Stop(error) => return Err(error),
        }
    }
}

/// What `event` means for the command.
fn step(event: &WatchEvent, json: bool) -> Step {
    match event.event_type {
        EventType::Session => session_step(event.state),
        EventType::Lagged => Step::Warn("events were dropped: the output was read too slowly"),
        EventType::PersistentWatchRemoved
        | EventType::DataWatchRemoved
        | EventType::ChildWatchRemoved => Step::Stop(CliError::new(OTHER, "the watch was removed")),
        node_event => Step::Print(event_line(node_event, &event.path, json)),
    }
}

/// What a session event means for the command.
fn session_step(state: SessionState) -> Step {
    match state {
        SessionState::Disconnected => {
            Step::Warn("disconnected from ZooKeeper; events may be missed until it reconnects")
        }
        SessionState::Expired => Step::Stop(CliError::new(
            UNAVAILABLE,
            "the ZooKeeper session expired; its watch is gone",
        )),
        SessionState::AuthFailed => Step::Stop(CliError::new(
            UNAVAILABLE,
            "ZooKeeper refused the credentials; the watch is gone",
        )),
        SessionState::Closed => Step::Stop(CliError::new(
            UNAVAILABLE,
            "the ZooKeeper session was closed; the watch is gone",
        )),
        _ => Step::Skip,
    }
}

/// One event's line: `NodeCreated /a/b`, or `{"type", "path"}`.
fn event_line(event_type: EventType, path: &str, json: bool) -> String {
    let name = type_name(event_type);
    if json {
        json!({ "type": name, "path": path }).to_string()
    } else {
        format!("{name} {path}")
    }
}

/// The name of a node event, as ZooKeeper spells it.
fn type_name(event_type: EventType) -> &'static str {
    match event_type {
        EventType::NodeCreated => "NodeCreated",
        EventType::NodeDeleted => "NodeDeleted",
        EventType::NodeDataChanged => "NodeDataChanged",
        EventType::NodeChildrenChanged => "NodeChildrenChanged",
        _ => "Other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_events_are_printed() {
        let event = WatchEvent::node(EventType::NodeCreated, "/a/b");
        assert_eq!(step(&event, false), Step::Print("NodeCreated /a/b".into()));
        let line = match step(&event, true) {
            Step::Print(line) => line,
            other => panic!("{other:?}"),
        };
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value, json!({"type": "NodeCreated", "path": "/a/b"}));
    }

    #[test]
    fn session_ends_stop_with_unavailable() {
        for state in [
            SessionState::Expired,
            SessionState::Closed,
            SessionState::AuthFailed,
        ] {
            match step(&WatchEvent::session(state), false) {
                Step::Stop(error) => assert_eq!(error.code, UNAVAILABLE),
                other => panic!("{state:?}: {other:?}"),
            }
        }
        let disconnected = step(&WatchEvent::session(SessionState::Disconnected), false);
        assert!(matches!(disconnected, Step::Warn(_)));
        let back = step(&WatchEvent::session(SessionState::SyncConnected), false);
        assert_eq!(back, Step::Skip);
    }
}
