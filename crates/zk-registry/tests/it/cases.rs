//! Registry behaviour written once, run against every backend (the fake and a real server).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use zk_core::{Coordinator, CreateOptions, Error};
use zk_registry::{
    Change, DownPolicy, Instance, Registration, Registry, RegistryError, ServiceSnapshot,
    ServiceWatch, Strategy,
};
use zk_testkit::Backend;
use zk_testkit::timing::within;

type Zk = Arc<dyn Coordinator>;
type Meta = BTreeMap<String, String>;

fn base() -> String {
    format!("/registry-{}", uuid::Uuid::new_v4())
}

fn api(id: &str, port: u16, zone: &str) -> Instance<Meta> {
    Instance::new("api", "127.0.0.1")
        .id(id)
        .port(port)
        .payload(BTreeMap::from([("zone".to_owned(), zone.to_owned())]))
}

/// How often a bounded wait looks again (a sleep, so paused time moves).
const POLL: Duration = Duration::from_millis(5);

/// Waits (bounded) until the view of `watch` satisfies `done` (tokio's `wait_for`), and
/// returns it.
async fn until_view(
    watch: &ServiceWatch<Meta>,
    done: impl FnMut(&ServiceSnapshot<Meta>) -> bool,
) -> ServiceSnapshot<Meta> {
    within(watch.receiver().wait_for(done))
        .await
        .expect("the view ended")
        .clone()
}

/// Registers `instance` under `base` through `zk`.
async fn register(zk: &Zk, base: &str, instance: Instance<Meta>) -> Registration<Zk, Meta> {
    Registry::new(zk.clone(), base)
        .unwrap()
        .register(instance)
        .await
        .unwrap()
}

/// Waits (bounded) until `zk` says `path` exists in its current session, owned by it.
async fn until_owned(zk: &Zk, path: &str) -> zk_core::Stat {
    within(async {
        loop {
            if let Ok(Some(stat)) = zk.exists(path).await
                && stat.ephemeral_owner == zk.session_id()
            {
                return stat;
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await
}

pub(crate) async fn registered_instances_are_discovered_until_deregistered(backend: &dyn Backend) {
    let (zk, client) = (backend.connect().await, backend.connect().await);
    let base = base();
    let registry = Registry::new(zk.clone(), &base).unwrap();
    let a = registry.register(api("a", 8080, "eu-1")).await.unwrap();
    let b = registry.register(api("b", 8081, "us-1")).await.unwrap();
    let worker = registry
        .register(Instance::<Meta>::new("worker", "127.0.0.2"))
        .await
        .unwrap();

    let clients = Registry::new(client.clone(), &base).unwrap();
    assert_eq!(clients.services().await.unwrap(), ["api", "worker"]);
    let found = clients.discover::<Meta>("api").await.unwrap();
    assert_eq!(found.instances.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(found.instances["a"], *a.instance());
    assert!(found.skipped.is_empty());
    let (raw, stat) = client.get_data(a.path()).await.unwrap();
    assert_eq!(stat.ephemeral_owner, zk.session_id(), "an ephemeral node");
    let json: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(json["serviceType"], "DYNAMIC");
    assert_eq!(json["payload"]["zone"], "eu-1");

    a.deregister().await.unwrap();
    let found = clients.discover::<Meta>("api").await.unwrap();
    assert_eq!(found.instances.keys().collect::<Vec<_>>(), ["b"]);
    assert!(
        clients
            .discover::<Meta>("nothing")
            .await
            .unwrap()
            .instances
            .is_empty()
    );
    b.deregister().await.unwrap();
    worker.deregister().await.unwrap();
}

pub(crate) async fn a_watcher_sees_instances_come_change_and_go(backend: &dyn Backend) {
    let (zk, client) = (backend.connect().await, backend.connect().await);
    let base = base();
    let clients = Registry::new(client, &base).unwrap();
    let watch = clients.watch::<Meta>("api").await.unwrap();
    let mut changes = watch.changes();
    assert!(watch.snapshot().instances.is_empty());

    let registry = Registry::new(zk.clone(), &base).unwrap();
    let mut a = registry.register(api("a", 1, "eu-1")).await.unwrap();
    let next = within(changes.next()).await.unwrap();
    assert_eq!(next, Change::Up(a.instance().clone()));
    a.update(api("a", 1, "eu-1").enabled(false)).await.unwrap();
    match within(changes.next()).await.unwrap() {
        Change::Updated(updated) => assert!(!updated.enabled),
        other => panic!("{other:?}"),
    }
    assert_eq!(watch.snapshot().enabled().count(), 0, "drained");
    let renamed = a.update(api("other", 1, "eu-1")).await;
    assert!(
        matches!(renamed, Err(RegistryError::Renamed { .. })),
        "{renamed:?}"
    );

    // The registrant's session closes: its ephemeral node goes with it.
    zk.close().await.unwrap();
    assert_eq!(
        within(changes.next()).await.unwrap(),
        Change::Down("a".into())
    );
    drop(a);
}

pub(crate) async fn a_registration_comes_back_after_its_session_expires(backend: &dyn Backend) {
    let (zk, client) = (backend.connect().await, backend.connect().await);
    let base = base();
    let registration = register(&zk, &base, api("a", 1, "eu-1")).await;
    let watch = Registry::new(client, &base)
        .unwrap()
        .watch::<Meta>("api")
        .await
        .unwrap();
    let old = zk.session_id();
    assert!(
        backend.expire_session(&*zk).await,
        "{} cannot expire sessions",
        backend.name()
    );
    // Back in the new session, within one session timeout of reconnecting.
    let mut state = zk.session_state();
    within(state.wait_for(|s| s.is_connected() && zk.session_id() != old))
        .await
        .unwrap();
    let reconnected = tokio::time::Instant::now();
    let stat = until_owned(&zk, registration.path()).await;
    assert!(
        reconnected.elapsed() < zk.session_timeout(),
        "{:?}",
        reconnected.elapsed()
    );
    assert_eq!(stat.ephemeral_owner, zk.session_id());
    let seen = until_view(&watch, |v| {
        v.instances.contains_key("a") && v.instances.len() == 1
    })
    .await;
    assert_eq!(seen.instances["a"], *registration.instance());
    registration.deregister().await.unwrap();
    until_view(&watch, |v| v.instances.is_empty()).await;
}

pub(crate) async fn a_deleted_registration_is_put_back_and_a_dropped_one_goes(
    backend: &dyn Backend,
) {
    let (zk, admin) = (backend.connect().await, backend.connect().await);
    let base = base();
    let registration = register(&zk, &base, api("a", 1, "eu-1")).await;
    let path = registration.path().to_owned();
    let first = admin.exists(&path).await.unwrap().unwrap();
    admin.delete(&path, None).await.unwrap();
    let again = until_owned(&zk, &path).await;
    assert!(again.czxid > first.czxid, "created again");

    drop(registration);
    within(async {
        while admin.exists(&path).await.unwrap().is_some() {
            tokio::time::sleep(POLL).await;
        }
    })
    .await;
    // The session lives on: the drop deregistered it, not a session end.
    assert!(zk.session_state().borrow().is_connected());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(admin.exists(&path).await.unwrap().is_none(), "not put back");
}

pub(crate) async fn a_second_registration_of_an_id_takes_it_over_without_a_fight(
    backend: &dyn Backend,
) {
    let (first_zk, second_zk) = (backend.connect().await, backend.connect().await);
    let base = base();
    let first = register(&first_zk, &base, api("a", 1, "eu-1")).await;
    // A restarted process registering its stable id while its old session lives on.
    let second = register(&second_zk, &base, api("a", 2, "eu-1")).await;
    let taken = until_owned(&second_zk, second.path()).await;
    // The first keeper leaves the node alone: it stays the same node.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let later = second_zk.exists(second.path()).await.unwrap().unwrap();
    assert_eq!(later.czxid, taken.czxid, "the node changed hands again");
    assert_eq!(later.ephemeral_owner, second_zk.session_id());
    // The first neither overwrites nor removes a node it does not own.
    let mut first = first;
    first.update(api("a", 3, "eu-1")).await.unwrap();
    let discover = || async {
        Registry::new(second_zk.clone(), &base)
            .unwrap()
            .discover::<Meta>("api")
            .await
            .unwrap()
    };
    assert_eq!(discover().await.instances["a"].port, Some(2));
    let dropped = register(&first_zk, &base, api("a", 4, "eu-1")).await;
    let taken = until_owned(&first_zk, dropped.path()).await;
    drop(dropped);
    let again = register(&second_zk, &base, api("a", 2, "eu-1")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stat = second_zk.exists(again.path()).await.unwrap().unwrap();
    assert_eq!(
        stat.ephemeral_owner,
        second_zk.session_id(),
        "the drop removed only its own"
    );
    assert_ne!(stat.czxid, taken.czxid);
    // When the second goes, the first puts its own (updated) record back.
    drop(second);
    again.deregister().await.unwrap();
    until_owned(&first_zk, first.path()).await;
    assert_eq!(discover().await.instances["a"].port, Some(3));
    first.deregister().await.unwrap();
}

pub(crate) async fn foreign_data_under_a_service_is_skipped(backend: &dyn Backend) {
    let (zk, client) = (backend.connect().await, backend.connect().await);
    let base = base();
    let registry = Registry::new(zk.clone(), &base).unwrap();
    let good = registry.register(api("good", 1, "eu-1")).await.unwrap();
    let watch = Registry::new(client.clone(), &base)
        .unwrap()
        .watch::<Meta>("api")
        .await
        .unwrap();
    for (name, data) in [
        ("garbage", &b"\xff\x00 not json"[..]),
        ("foreign", br#"{"host":"10.0.0.1","weight":3}"#),
        (
            "mismatch",
            br#"{"name":"api","id":"someone-else","address":"h"}"#,
        ),
        ("empty", b""),
    ] {
        zk.create(
            &format!("{base}/api/{name}"),
            data,
            &CreateOptions::persistent(),
        )
        .await
        .unwrap();
    }
    let found = Registry::new(client, &base)
        .unwrap()
        .discover::<Meta>("api")
        .await
        .unwrap();
    assert_eq!(found.instances.keys().collect::<Vec<_>>(), ["good"]);
    assert_eq!(
        found.skipped.keys().collect::<Vec<_>>(),
        ["empty", "foreign", "garbage", "mismatch"]
    );
    let seen = until_view(&watch, |v| v.skipped.len() == 4).await;
    assert_eq!(seen.instances.keys().collect::<Vec<_>>(), ["good"]);
    // The view still follows after the junk.
    good.deregister().await.unwrap();
    until_view(&watch, |v| v.instances.is_empty()).await;
}

pub(crate) async fn bad_names_and_oversized_records_are_refused(backend: &dyn Backend) {
    let zk = backend.connect().await;
    let base = base();
    let registry = Registry::new(zk.clone(), &base).unwrap();
    for (service, id) in [("a/b", "x"), ("api", ""), ("api", ".."), ("", "x")] {
        let refused = registry
            .register(Instance::<Meta>::new(service, "h").id(id))
            .await;
        assert!(
            matches!(refused, Err(RegistryError::InvalidName { .. })),
            "{service:?}/{id:?}: {refused:?}"
        );
    }
    let huge = api("big", 1, &"x".repeat(1 << 20));
    let refused = registry.register(huge).await;
    assert!(
        matches!(
            refused,
            Err(RegistryError::ZooKeeper(Error::TooLarge { .. }))
        ),
        "{refused:?}"
    );
    assert!(
        zk.exists(&format!("{base}/api/big"))
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
    assert!(Registry::new(zk, "no-slash").is_err());
}

pub(crate) async fn a_provider_spreads_filters_and_skips_failing_instances(backend: &dyn Backend) {
    let (zk, client) = (backend.connect().await, backend.connect().await);
    let base = base();
    let registry = Registry::new(zk, &base).unwrap();
    let mut held = Vec::new();
    for (id, zone) in [("a", "eu-1"), ("b", "eu-1"), ("c", "us-1")] {
        held.push(registry.register(api(id, 1, zone)).await.unwrap());
    }
    let clients = Registry::new(client.clone(), &base).unwrap();
    let provider = clients
        .provider::<Meta>("api", Strategy::RoundRobin)
        .await
        .unwrap();
    let picks: Vec<String> = (0..6).map(|_| provider.get().unwrap().id).collect();
    assert_eq!(picks, ["a", "b", "c", "a", "b", "c"]);

    let in_eu = clients
        .provider::<Meta>("api", Strategy::RoundRobin)
        .await
        .unwrap()
        .filter(|i| i.payload.as_ref().is_some_and(|p| p["zone"] == "eu-1"))
        .down_policy(DownPolicy {
            errors: 2,
            window: Duration::from_secs(3600),
        });
    let mut eu: Vec<String> = (0..4).map(|_| in_eu.get().unwrap().id).collect();
    eu.sort();
    assert_eq!(eu, ["a", "a", "b", "b"]);
    in_eu.note_error("a");
    in_eu.note_error("a");
    assert!((0..4).all(|_| in_eu.get().unwrap().id == "b"), "a is down");
    in_eu.note_error("b");
    in_eu.note_error("b");
    assert_eq!(in_eu.get(), None, "every eu instance is down");

    let sticky = clients
        .provider::<Meta>("api", Strategy::Sticky)
        .await
        .unwrap();
    let first = sticky.get().unwrap().id;
    assert!((0..5).all(|_| sticky.get().unwrap().id == first));
    let random = clients
        .provider::<Meta>("api", Strategy::Random)
        .await
        .unwrap();
    assert!((0..20).all(|_| random.get().is_some()));
    for registration in held {
        registration.deregister().await.unwrap();
    }
    // Deregistered: the live view empties, and nothing is picked.
    within(async {
        while provider.get().is_some() {
            tokio::time::sleep(POLL).await;
        }
    })
    .await;
}

zk_testkit::recipe_suite! {
    /// Stamps every registry case for one backend:
    /// `registry_cases!(backend = ..., time = paused | real)`.
    macro registry_cases;
    module = crate::cases;
    source = include_str!("cases.rs");
    cases = [
        registered_instances_are_discovered_until_deregistered,
        a_watcher_sees_instances_come_change_and_go,
        a_registration_comes_back_after_its_session_expires,
        a_deleted_registration_is_put_back_and_a_dropped_one_goes,
        a_second_registration_of_an_id_takes_it_over_without_a_fight,
        foreign_data_under_a_service_is_skipped,
        bad_names_and_oversized_records_are_refused,
        a_provider_spreads_filters_and_skips_failing_instances,
    ];
}
