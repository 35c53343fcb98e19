//! What a discovery sees of one service: the instances whose data parsed, the nodes whose
//! data did not, and the changes between two such views.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::instance::Instance;

/// The instances of one service at one moment, by id.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSnapshot<M> {
    /// The instances whose node data is a valid instance record, by id.
    pub instances: BTreeMap<String, Instance<M>>,
    /// Nodes under the service whose data is not (foreign JSON, garbage, a name that does not
    /// match the node), by node name, with why: skipped, never an error.
    pub skipped: BTreeMap<String, String>,
}

impl<M> Default for ServiceSnapshot<M> {
    fn default() -> Self {
        ServiceSnapshot {
            instances: BTreeMap::new(),
            skipped: BTreeMap::new(),
        }
    }
}

impl<M> ServiceSnapshot<M> {
    /// The enabled instances, in id order.
    pub fn enabled(&self) -> impl Iterator<Item = &Instance<M>> {
        self.instances.values().filter(|i| i.enabled)
    }
}

impl<M: DeserializeOwned> ServiceSnapshot<M> {
    /// Adds the node `id` of service `service` with `data`: an instance if it parses and names
    /// this service and id, else a skipped entry.
    pub(crate) fn add(&mut self, service: &str, id: &str, data: &[u8]) {
        match serde_json::from_slice::<Instance<M>>(data) {
            Ok(instance) if instance.id == id && instance.name == service => {
                self.instances.insert(id.to_owned(), instance);
            }
            Ok(instance) => {
                let why = format!(
                    "the record names {}/{}, not the node's {service}/{id}",
                    instance.name, instance.id
                );
                self.skipped.insert(id.to_owned(), why);
            }
            Err(e) => {
                self.skipped.insert(id.to_owned(), e.to_string());
            }
        }
    }
}

/// One change between two views of a service.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<M> {
    /// An instance appeared.
    Up(Instance<M>),
    /// An instance's record changed.
    Updated(Instance<M>),
    /// The instance with this id went away (or its record became unreadable).
    Down(String),
}

/// The changes that turn `old` into `new`, in id order: downs, then ups and updates.
pub(crate) fn changes<M: Clone + PartialEq>(
    old: &ServiceSnapshot<M>,
    new: &ServiceSnapshot<M>,
) -> Vec<Change<M>> {
    let mut out: Vec<Change<M>> = old
        .instances
        .keys()
        .filter(|id| !new.instances.contains_key(*id))
        .map(|id| Change::Down(id.clone()))
        .collect();
    for (id, instance) in &new.instances {
        match old.instances.get(id) {
            None => out.push(Change::Up(instance.clone())),
            Some(before) if before != instance => out.push(Change::Updated(instance.clone())),
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn snapshot(ids: &[(u8, u8)]) -> ServiceSnapshot<u8> {
        let mut s = ServiceSnapshot::default();
        for &(id, payload) in ids {
            let instance = Instance::new("svc", "h")
                .id(id.to_string())
                .payload(payload);
            s.instances.insert(id.to_string(), instance);
        }
        s
    }

    proptest! {
        /// Applying the changes to the old view gives the new one.
        #[test]
        fn changes_replay_to_the_new_view(
            a in proptest::collection::btree_map(0u8..12, 0u8..3, 0..8),
            b in proptest::collection::btree_map(0u8..12, 0u8..3, 0..8),
        ) {
            let old = snapshot(&a.into_iter().collect::<Vec<_>>());
            let new = snapshot(&b.into_iter().collect::<Vec<_>>());
            let mut replay = old.instances.clone();
            for change in changes(&old, &new) {
                match change {
                    Change::Up(i) => prop_assert!(replay.insert(i.id.clone(), i).is_none()),
                    Change::Updated(i) => prop_assert!(replay.insert(i.id.clone(), i).is_some()),
                    Change::Down(id) => prop_assert!(replay.remove(&id).is_some()),
                }
            }
            prop_assert_eq!(replay, new.instances);
        }
    }

    #[test]
    fn records_that_do_not_match_their_node_are_skipped() {
        let mut s = ServiceSnapshot::<()>::default();
        s.add("api", "a", br#"{"name":"api","id":"a","address":"h"}"#);
        s.add("api", "b", br#"{"name":"api","id":"other","address":"h"}"#);
        s.add("api", "c", b"\xff\xfe");
        s.add("api", "d", br#"{"unrelated":true}"#);
        assert_eq!(s.instances.keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(s.skipped.keys().collect::<Vec<_>>(), ["b", "c", "d"]);
    }
}
