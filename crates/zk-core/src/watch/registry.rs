//! The watch registry: one session's watches and the rules for dispatching events to them.

use rustc_hash::FxHashMap;

use crate::path::ancestors;
use crate::types::event::{AddWatchMode, EventType, SessionState, WatchEvent};
use crate::watch::{OneshotSender, PersistentSender};

/// A server-side watch type, as removeWatches names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WatchKind {
    /// Child watches (WatcherType 1).
    Child,
    /// Data and exist watches (WatcherType 2).
    Data,
    /// Every watch of the path, persistent ones included (WatcherType 3).
    Any,
}

impl WatchKind {
    /// The WatcherType number on the wire.
    pub fn code(self) -> i32 {
        match self {
            WatchKind::Child => 1,
            WatchKind::Data => 2,
            WatchKind::Any => 3,
        }
    }
}

/// The watches one session holds, and ZooKeeper's rules for which event reaches which of them.
///
/// The server sends one notification per event per session; this registry fans it out to every
/// local watcher that matches (protocol reference, section 10.5).
/// Both backends use it, so they dispatch identically; applications never need it.
#[derive(Debug, Default)]
pub struct WatchRegistry {
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

impl WatchRegistry {
    /// How many watchers are registered whose receiver is still held (a dropped watch may
    /// stay registered until it fires, as on a real server, but is not counted): what a test
    /// checks to catch a watch leak.
    pub fn live(&self) -> usize {
        let oneshots = [&self.data, &self.exist, &self.child]
            .iter()
            .flat_map(|map| map.values().flatten())
            .filter(|tx| !tx.is_closed())
            .count();
        let persistent = [&self.persistent, &self.recursive]
            .iter()
            .flat_map(|map| map.values().flatten())
            .filter(|tx| !tx.is_closed())
            .count();
        oneshots + persistent
    }

    /// True when no watch is registered.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
            && self.exist.is_empty()
            && self.child.is_empty()
            && self.persistent.is_empty()
            && self.recursive.is_empty()
    }

    /// Registers a data watch (getData, or exists on an existing node).
    pub fn add_data(&mut self, path: &str, tx: OneshotSender) {
        push_oneshot(&mut self.data, path, tx);
    }

    /// Registers an exist watch (exists on a missing node).
    pub fn add_exist(&mut self, path: &str, tx: OneshotSender) {
        push_oneshot(&mut self.exist, path, tx);
    }

    /// Registers a child watch.
    pub fn add_child(&mut self, path: &str, tx: OneshotSender) {
        push_oneshot(&mut self.child, path, tx);
    }

    /// Registers a persistent or persistent-recursive watch.
    pub fn add_persistent(&mut self, path: &str, mode: AddWatchMode, tx: PersistentSender) {
        let map = match mode {
            AddWatchMode::Persistent => &mut self.persistent,
            AddWatchMode::PersistentRecursive => &mut self.recursive,
        };
        let list = map.entry(path.to_owned()).or_default();
        list.retain(|s| !s.is_closed());
        list.push(tx);
    }

    /// Delivers one node event to every matching watcher; one-shot watchers are consumed.
    pub fn fire(&mut self, event_type: EventType, path: &str) {
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
    pub fn connection_event(&mut self, state: SessionState) {
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
    pub fn end(&mut self, state: SessionState) {
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

    fn live_paths<T>(
        map: &FxHashMap<String, Vec<T>>,
        alive: impl Fn(&T) -> bool,
    ) -> impl Iterator<Item = &str> {
        map.iter()
            .filter(move |(_, list)| list.iter().any(&alive))
            .map(|(path, _)| path.as_str())
    }

    /// Paths with live data watches.
    pub fn data_paths(&self) -> impl Iterator<Item = &str> {
        Self::live_paths(&self.data, |s| !s.is_closed())
    }

    /// Paths with live exist watches.
    pub fn exist_paths(&self) -> impl Iterator<Item = &str> {
        Self::live_paths(&self.exist, |s| !s.is_closed())
    }

    /// Paths with live child watches.
    pub fn child_paths(&self) -> impl Iterator<Item = &str> {
        Self::live_paths(&self.child, |s| !s.is_closed())
    }

    /// Paths with live persistent watches.
    pub fn persistent_paths(&self) -> impl Iterator<Item = &str> {
        Self::live_paths(&self.persistent, |s| !s.is_closed())
    }

    /// Paths with live persistent recursive watches.
    pub fn recursive_paths(&self) -> impl Iterator<Item = &str> {
        Self::live_paths(&self.recursive, |s| !s.is_closed())
    }

    /// True when a live persistent or recursive watch sits on exactly `path`.
    pub fn has_persistent_on(&self, path: &str) -> bool {
        [&self.persistent, &self.recursive].iter().any(|map| {
            map.get(path)
                .is_some_and(|l| l.iter().any(|s| !s.is_closed()))
        })
    }

    /// Forgets dropped watchers and reports, for each path that lost its last watcher of a
    /// kind, which server-side watch nothing needs any more: data (data and exist watchers both
    /// gone), child, or persistent (persistent and recursive watchers both gone).
    ///
    /// A kind is reported only when no other local watch on the path would be hurt by removing
    /// it on ZooKeeper 3.8, where removing Data or Children also removes that half of a persistent
    /// watch on the path, and removing a persistent watch needs type Any, which removes standard
    /// watches too.
    pub fn prune_unneeded(&mut self) -> Vec<(String, WatchKind)> {
        let mut emptied: Vec<String> = Vec::new();
        for map in [&mut self.data, &mut self.exist, &mut self.child] {
            map.retain(|path, list| {
                list.retain(|s| !s.is_closed());
                if list.is_empty() {
                    emptied.push(path.clone());
                }
                !list.is_empty()
            });
        }
        for map in [&mut self.persistent, &mut self.recursive] {
            map.retain(|path, list| {
                list.retain(|s| !s.is_closed());
                if list.is_empty() {
                    emptied.push(path.clone());
                }
                !list.is_empty()
            });
        }
        emptied.sort_unstable();
        emptied.dedup();
        let mut unneeded = Vec::new();
        for path in emptied {
            let data = self.data.contains_key(&path) || self.exist.contains_key(&path);
            let child = self.child.contains_key(&path);
            let persistent =
                self.persistent.contains_key(&path) || self.recursive.contains_key(&path);
            if persistent {
                continue;
            }
            match (data, child) {
                (false, false) => unneeded.push((path, WatchKind::Any)),
                (false, true) => unneeded.push((path, WatchKind::Data)),
                (true, false) => unneeded.push((path, WatchKind::Child)),
                (true, true) => {}
            }
        }
        unneeded
    }

    /// Forgets dropped watchers everywhere; returns how many live watchers remain.
    pub fn prune(&mut self) -> usize {
        let mut live = 0;
        for map in [&mut self.data, &mut self.exist, &mut self.child] {
            map.retain(|_, list| {
                list.retain(|s| !s.is_closed());
                live += list.len();
                !list.is_empty()
            });
        }
        for map in [&mut self.persistent, &mut self.recursive] {
            map.retain(|_, list| {
                list.retain(|s| !s.is_closed());
                live += list.len();
                !list.is_empty()
            });
        }
        live
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::{OneshotWatch, PersistentWatch};

    #[test]
    fn one_deletion_reaches_every_local_watcher_once() {
        let mut watches = WatchRegistry::default();
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
    fn only_watches_nothing_else_needs_are_reported_for_removal() {
        let mut watches = WatchRegistry::default();
        let (tx, data) = OneshotWatch::channel();
        watches.add_data("/d", tx);
        let (tx, child) = OneshotWatch::channel();
        watches.add_child("/d", tx);
        let (tx, kept) = OneshotWatch::channel();
        watches.add_data("/k", tx);
        let (tx, stream) = PersistentWatch::channel();
        watches.add_persistent("/p", AddWatchMode::Persistent, tx);
        let (tx, under) = OneshotWatch::channel();
        watches.add_data("/p", tx);
        assert_eq!(watches.prune_unneeded(), vec![]);
        drop(data);
        assert_eq!(
            watches.prune_unneeded(),
            vec![("/d".into(), WatchKind::Data)]
        );
        drop(child);
        assert_eq!(
            watches.prune_unneeded(),
            vec![("/d".into(), WatchKind::Any)]
        );
        drop(under);
        assert_eq!(
            watches.prune_unneeded(),
            vec![],
            "the persistent watch still covers /p"
        );
        drop(stream);
        assert_eq!(
            watches.prune_unneeded(),
            vec![("/p".into(), WatchKind::Any)]
        );
        drop(kept);
        assert_eq!(
            watches.prune_unneeded(),
            vec![("/k".into(), WatchKind::Any)]
        );
        assert!(watches.is_empty());
    }

    #[test]
    fn one_shot_watches_fire_once() {
        let mut watches = WatchRegistry::default();
        let (tx, mut w) = OneshotWatch::channel();
        watches.add_data("/a", tx);
        watches.fire(EventType::NodeDataChanged, "/a");
        assert!(w.try_event().is_some());
        assert!(watches.is_empty());
    }
}
