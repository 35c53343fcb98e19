//! Interop with Curator's service discovery (`curator-x-discovery` 5.4, Debian
//! `libcurator-discovery-java`), both ways, on the shared real server: instances a Curator
//! process registers are discovered and watched here, instances registered here are discovered
//! by Curator, and one [`Provider`] picks among instances of both.
//!
//! The helper is `tests/interop/CuratorDiscovery.java`, run by zk-testkit's interop harness
//! ([`zk_testkit::interop`]), which finds the JDK and Curator's jars (failing the test with the
//! command that installs what is missing), compiles it once per test binary and kills it by its
//! PID when its handle drops. Its payload type is a `Map`, written and read by Curator's
//! `JsonInstanceSerializer`; its header describes its modes: `register` (prints `registered`,
//! then `stopped` after a `stop` line), `discover` and `query` (print `instance ID ADDRESS PORT
//! ZONE` lines by id, then `done`) and `provide` (prints `picked ID` lines, then `done`).

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use serde_json::{Value, json};
use zk_core::{Coordinator, CoordinatorExt};
use zk_registry::{
    Change, Instance, Provider, Registry, ServiceSnapshot, ServiceType, ServiceWatch, Strategy,
};
use zk_testkit::interop::{Library, RecipeHelpers, reply_timeout};
use zk_testkit::timing::within;
use zk_testkit::{Backend, WireBackend};

type Zk = Arc<dyn Coordinator>;
type Meta = BTreeMap<String, String>;

/// The Curator helper in `tests/interop/`.
static HELPERS: RecipeHelpers =
    RecipeHelpers::new(env!("CARGO_MANIFEST_DIR"), env!("CARGO_TARGET_TMPDIR"))
        .curator("CuratorDiscovery");

/// The fields of the record Curator 5.4's `JsonInstanceSerializer` writes, in its order: its
/// default "compatible" mode leaves `enabled` out.
const CURATOR_FIELDS: [&str; 9] = [
    "name",
    "id",
    "address",
    "port",
    "sslPort",
    "payload",
    "registrationTimeUTC",
    "serviceType",
    "uriSpec",
];

async fn connect() -> Zk {
    WireBackend::shared().connect().await
}

/// A fresh base path.
fn base() -> String {
    format!("/interop-registry-{}", uuid::Uuid::new_v4().simple())
}

fn zone(zone: &str) -> Meta {
    BTreeMap::from([("zone".to_owned(), zone.to_owned())])
}

/// Our instance `id` of `service` on 127.0.0.1:`port`, with the payload {"zone": ZONE}.
fn ours(service: &str, id: &str, port: u16, in_zone: &str) -> Instance<Meta> {
    Instance::new(service, "127.0.0.1")
        .id(id)
        .port(port)
        .payload(zone(in_zone))
}

/// Waits (bounded) until the view of `watch` holds exactly the instances `ids`.
async fn until_ids<M: Clone>(watch: &ServiceWatch<M>, ids: &[&str]) -> ServiceSnapshot<M> {
    let mut rx = watch.receiver();
    within(async {
        loop {
            let now = rx.borrow_and_update().clone();
            if now.instances.keys().eq(ids.iter().copied()) {
                return now;
            }
            rx.changed().await.expect("the view ended");
        }
    })
    .await
}

/// A Curator process registers instance `x1`: we read its record exactly as Curator wrote it,
/// `discover` finds it with its address, port and payload (typed as JSON and as a map), a
/// watch sees it come, and sees it go when Curator unregisters it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_discovers_a_service_curator_registered() {
    let zk = connect().await;
    let base = base();
    let registry = Registry::new(zk.clone(), &base).unwrap();
    let watch = registry.watch::<Value>("api").await.unwrap();
    let mut changes = watch.changes();
    assert!(watch.snapshot().instances.is_empty());

    let mut curator = HELPERS.start(
        Library::Curator,
        "register",
        &base,
        &["api", "x1", "18080", "eu-1"],
    );
    curator.expect("registered").await;

    // The record as Curator wrote it.
    let (raw, stat) = zk.get_data(&format!("{base}/api/x1")).await.unwrap();
    assert_ne!(
        stat.ephemeral_owner, 0,
        "a DYNAMIC instance is an ephemeral node"
    );
    let record: serde_json::Map<String, Value> = serde_json::from_slice(&raw).unwrap();
    let mut fields: Vec<&str> = record.keys().map(String::as_str).collect();
    let mut curator_fields = CURATOR_FIELDS.to_vec();
    fields.sort_unstable();
    curator_fields.sort_unstable();
    assert_eq!(fields, curator_fields, "{record:?}");
    assert_eq!(record["serviceType"], "DYNAMIC");
    assert_eq!(record["port"], 18080);
    assert_eq!(record["sslPort"], Value::Null);
    assert_eq!(
        record["payload"],
        json!({"@class": "java.util.LinkedHashMap", "zone": "eu-1"}),
        "Jackson's type id in the payload"
    );

    let found = registry.discover::<Value>("api").await.unwrap();
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    let x1 = &found.instances["x1"];
    assert_eq!((x1.name.as_str(), x1.id.as_str()), ("api", "x1"));
    assert_eq!(x1.address, "127.0.0.1");
    assert_eq!((x1.port, x1.ssl_port), (Some(18080), None));
    assert_eq!(
        x1.payload,
        Some(json!({"zone": "eu-1"})),
        "without Jackson's @class"
    );
    assert_eq!(x1.service_type, ServiceType::Dynamic);
    assert!(x1.enabled, "no `enabled` field reads as enabled");
    assert!(x1.registration_time_utc > 0);
    let typed = registry.discover::<Meta>("api").await.unwrap();
    assert_eq!(typed.instances["x1"].payload, Some(zone("eu-1")));

    match within(changes.next()).await.unwrap() {
        Change::Up(up) => assert_eq!(up, *x1),
        other => panic!("expected x1 up, got {other:?}"),
    }
    curator.send("stop");
    curator.expect("stopped").await;
    assert_eq!(
        within(changes.next()).await.unwrap(),
        Change::Down("x1".into())
    );
    assert!(curator.finish(reply_timeout()).await.is_empty());
    assert!(
        registry
            .discover::<Value>("api")
            .await
            .unwrap()
            .instances
            .is_empty()
    );

    zk.delete_all(&base).await.unwrap();
    zk.close().await.unwrap();
}

/// We register two instances; a Curator `ServiceCache` finds both with their address, port
/// and payload; after we deregister one, Curator's `queryForInstances` finds only the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curator_discovers_a_service_rust_registered() {
    let zk = connect().await;
    let base = base();
    let registry = Registry::new(zk.clone(), &base).unwrap();
    let r1 = registry
        .register(ours("api", "r1", 9001, "eu-1"))
        .await
        .unwrap();
    let r2 = registry
        .register(ours("api", "r2", 9002, "eu-2"))
        .await
        .unwrap();

    let discover = HELPERS.start(Library::Curator, "discover", &base, &["api", "2"]);
    assert_eq!(
        discover.finish(reply_timeout()).await,
        [
            "instance r1 127.0.0.1 9001 eu-1",
            "instance r2 127.0.0.1 9002 eu-2",
            "done"
        ]
    );

    r1.deregister().await.unwrap();
    let query = HELPERS.start(Library::Curator, "query", &base, &["api"]);
    assert_eq!(
        query.finish(reply_timeout()).await,
        ["instance r2 127.0.0.1 9002 eu-2", "done"]
    );

    r2.deregister().await.unwrap();
    zk.delete_all(&base).await.unwrap();
    zk.close().await.unwrap();
}

/// One instance registered by Curator and one by us: our round-robin `Provider` and Curator's
/// round-robin `ServiceProvider` each pick both, in turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_providers_of_both_libraries_reach_instances_of_both() {
    let zk = connect().await;
    let base = base();
    let registry = Registry::new(zk.clone(), &base).unwrap();
    let mut curator = HELPERS.start(
        Library::Curator,
        "register",
        &base,
        &["mixed", "c1", "7001", "eu-1"],
    );
    curator.expect("registered").await;
    let r1 = registry
        .register(ours("mixed", "r1", 7002, "eu-2"))
        .await
        .unwrap();

    let watch = registry.watch::<Meta>("mixed").await.unwrap();
    let view = until_ids(&watch, &["c1", "r1"]).await;
    assert_eq!(view.instances["c1"].payload, Some(zone("eu-1")));
    let provider = Provider::new(watch, Strategy::RoundRobin);
    let picked: Vec<String> = (0..4)
        .map(|_| provider.get().expect("an instance").id)
        .collect();
    assert_eq!(
        picked,
        ["c1", "r1", "c1", "r1"],
        "each in turn, in id order"
    );
    let port = |id: &str| view.instances[id].port;
    assert_eq!((port("c1"), port("r1")), (Some(7001), Some(7002)));

    let theirs = HELPERS.start(Library::Curator, "provide", &base, &["mixed", "2", "4"]);
    let mut printed = theirs.finish(reply_timeout()).await;
    assert_eq!(printed.pop().as_deref(), Some("done"));
    let mut ids: Vec<&str> = printed
        .iter()
        .map(|line| {
            line.strip_prefix("picked ")
                .unwrap_or_else(|| panic!("{line}"))
        })
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] != w[1]),
        "Curator's round robin alternates: {ids:?}"
    );
    ids.sort_unstable();
    assert_eq!(ids, ["c1", "c1", "r1", "r1"]);

    curator.send("stop");
    curator.expect("stopped").await;
    assert!(curator.finish(reply_timeout()).await.is_empty());
    r1.deregister().await.unwrap();
    zk.delete_all(&base).await.unwrap();
    zk.close().await.unwrap();
}
