//! One session's watches and ZooKeeper's rules for which events reach which of them.

use rustc_hash::FxHashMap;
use zk_core::path::ancestors;
use zk_core::{AddWatchMode, EventType, OneshotSender, PersistentSender, SessionState, WatchEvent};

use crate::tree::Tree;

/// The watches one session holds, as its client library would keep them.
///
/// The server sends one notification per event per session; this registry fans it out to every
/// local watcher that matches, which is what a real client does.
#[derive(Debug, Default)]
pub(crate) struct Watches {
    /// Data watches set by getData, or by exists on an existing node.
    data: FxHashMap<String, Vec<OneshotSender>>,
    /// Exist watches set by exists on a missing node.
    exist: FxHashMap<String, Vec<OneshotSender>>,
    child: FxHashMap<String, Vec<OneshotSender>>,
    persistent: FxHashMap<String, Vec<PersistentSender>>,
    recursive: FxHashMap<String, Vec<PersistentSender>>,
}

fn push_oneshot(map: &mut FxHashMap<String, Vec<OneshotSender>>, path: &str, tx: OneshotSender) {
    let list = map.entry(path.to_owned()).or_default();
    list.retain(|s| !s.is_closed());
    list.push(tx);
}

fn fire_oneshots(map: &mut FxHashMap<String, Vec<OneshotSender>>, path: &str, event: &WatchEvent) {
    if let Some(list) = map.remove(path) {
        for tx in list {
            tx.send(event.clone());
        }
    }
}

fn fire_persistent(
    map: &mut FxHashMap<String, Vec<PersistentSender>>,
    path: &str,
    event: &WatchEvent,
) {
    if let Some(list) = map.get_mut(path) {
        list.retain(|tx| tx.send(event.clone()));
        if list.is_empty() {
            map.remove(path);
        }
    }
}

impl Watches {
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
            && self.exist.is_empty()
            && self.child.is_empty()
            && self.persistent.is_empty()
            && self.recursive.is_empty()
    }

    pub(crate) fn add_data(&mut self, path: &str, tx: OneshotSender) {
        push_oneshot(&mut self.data, path, tx);
    }

    pub(crate) fn add_exist(&mut self, path: &str, tx: OneshotSender) {
        push_oneshot(&mut self.exist, path, tx);
    }

    pub(crate) fn add_child(&mut self, path: &str, tx: OneshotSender) {
        push_oneshot(&mut self.child, path, tx);
    }

    pub(crate) fn add_persistent(&mut self, path: &str, mode: AddWatchMode, tx: PersistentSender) {
        let map = match mode {
            AddWatchMode::Persistent => &mut self.persistent,
            AddWatchMode::PersistentRecursive => &mut self.recursive,
        };
        let list = map.entry(path.to_owned()).or_default();
        list.retain(|s| !s.is_closed());
        list.push(tx);
    }

    /// Delivers one node event to every matching watcher; one-shot watchers are consumed.
    pub(crate) fn fire(&mut self, event_type: EventType, path: &str) {
        if self.is_empty() {
            return;
        }
        let event = WatchEvent::node(event_type, path);
        match event_type {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                fire_oneshots(&mut self.data, path, &event);
                fire_oneshots(&mut self.exist, path, &event);
            }
            EventType::NodeDeleted => {
                fire_oneshots(&mut self.data, path, &event);
                fire_oneshots(&mut self.exist, path, &event);
                fire_oneshots(&mut self.child, path, &event);
            }
            EventType::NodeChildrenChanged => fire_oneshots(&mut self.child, path, &event),
            _ => return,
        }
        fire_persistent(&mut self.persistent, path, &event);
        // Recursive watches see every event of their subtree except child-list changes.
        if event_type != EventType::NodeChildrenChanged && !self.recursive.is_empty() {
            fire_persistent(&mut self.recursive, path, &event);
            for ancestor in ancestors(path) {
                fire_persistent(&mut self.recursive, ancestor, &event);
            }
        }
    }

    /// Tells persistent watchers about a connection change; one-shot watches wait it out.
    pub(crate) fn connection_event(&mut self, state: SessionState) {
        let event = WatchEvent::session(state);
        for map in [&mut self.persistent, &mut self.recursive] {
            map.retain(|_, list| {
                list.retain(|tx| tx.send(event.clone()));
                !list.is_empty()
            });
        }
    }

    /// Ends every watch with a session-ending state: each one-shot watch resolves with it, each
    /// persistent watch yields it and then ends.
    pub(crate) fn end(&mut self, state: SessionState) {
        let event = WatchEvent::session(state);
        for map in [&mut self.data, &mut self.exist, &mut self.child] {
            for (_, list) in map.drain() {
                for tx in list {
                    tx.send(event.clone());
                }
            }
        }
        for map in [&mut self.persistent, &mut self.recursive] {
            for (_, list) in map.drain() {
                for tx in list {
                    tx.send(event.clone());
                }
            }
        }
    }

    /// The events SetWatches would send after a reconnect, for changes made since `last_zxid`.
    ///
    /// Persistent watches get no catch-up events: what happened while away is lost to them.
    pub(crate) fn catch_up(&self, tree: &Tree, last_zxid: i64) -> Vec<(EventType, String)> {
        let mut events = Vec::new();
        let live = |list: &Vec<OneshotSender>| list.iter().any(|s| !s.is_closed());
        for (path, _) in self.data.iter().filter(|(_, l)| live(l)) {
            match tree.get(path) {
                None => events.push((EventType::NodeDeleted, path.clone())),
                Some(node) if node.stat.mzxid > last_zxid => {
                    events.push((EventType::NodeDataChanged, path.clone()))
                }
                Some(_) => {}
            }
        }
        for (path, _) in self.exist.iter().filter(|(_, l)| live(l)) {
            if tree.contains(path) {
                events.push((EventType::NodeCreated, path.clone()));
            }
        }
        for (path, _) in self.child.iter().filter(|(_, l)| live(l)) {
            match tree.get(path) {
                None => events.push((EventType::NodeDeleted, path.clone())),
                Some(node) if node.stat.pzxid > last_zxid => {
                    events.push((EventType::NodeChildrenChanged, path.clone()))
                }
                Some(_) => {}
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zk_core::{OneshotWatch, PersistentWatch};

    #[test]
    fn one_deletion_reaches_every_local_watcher_once() {
        let mut watches = Watches::default();
        let (tx1, mut data) = OneshotWatch::channel();
        let (tx2, mut child) = OneshotWatch::channel();
        let (tx3, mut stream) = PersistentWatch::channel();
        watches.add_data("/a", tx1);
        watches.add_child("/a", tx2);
        watches.add_persistent("/", AddWatchMode::PersistentRecursive, tx3);
        watches.fire(EventType::NodeDeleted, "/a");
        let deleted = WatchEvent::node(EventType::NodeDeleted, "/a");
        assert_eq!(data.try_event(), Some(deleted.clone()));
        assert_eq!(child.try_event(), Some(deleted.clone()));
        assert_eq!(stream.try_next_event(), Some(deleted));
        assert_eq!(stream.try_next_event(), None);
        watches.fire(EventType::NodeChildrenChanged, "/");
        assert_eq!(
            stream.try_next_event(),
            None,
            "recursive watches skip child events"
        );
    }

    #[test]
    fn one_shot_watches_fire_once() {
        let mut watches = Watches::default();
        let (tx, mut w) = OneshotWatch::channel();
        watches.add_data("/a", tx);
        watches.fire(EventType::NodeDataChanged, "/a");
        assert!(w.try_event().is_some());
        assert!(watches.is_empty());
    }
}
