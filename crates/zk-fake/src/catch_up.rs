//! SetWatches catch-up: the events a reconnecting session's watches get for what changed while
//! it was away.

use zk_core::EventType;
use zk_core::watch::WatchRegistry;

use crate::tree::Tree;

/// The events SetWatches would send after a reconnect, for changes made since `last_zxid`.
///
/// Persistent watches get no catch-up events of their own: what happened while away is lost to
/// them (a catch-up event for a one-shot watch still reaches them through the client's fan-out).
pub(crate) fn catch_up(
    watches: &WatchRegistry,
    tree: &Tree,
    last_zxid: i64,
) -> Vec<(EventType, String)> {
    let mut events = Vec::new();
    for path in watches.data_paths() {
        match tree.get(path) {
            None => events.push((EventType::NodeDeleted, path.to_owned())),
            Some(node) if node.stat.mzxid > last_zxid => {
                events.push((EventType::NodeDataChanged, path.to_owned()))
            }
            Some(_) => {}
        }
    }
    for path in watches.exist_paths() {
        if tree.contains(path) {
            events.push((EventType::NodeCreated, path.to_owned()));
        }
    }
    for path in watches.child_paths() {
        match tree.get(path) {
            None => events.push((EventType::NodeDeleted, path.to_owned())),
            Some(node) if node.stat.pzxid > last_zxid => {
                events.push((EventType::NodeChildrenChanged, path.to_owned()))
            }
            Some(_) => {}
        }
    }
    events
}
