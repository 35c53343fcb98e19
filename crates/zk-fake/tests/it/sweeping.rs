//! Containers and TTL nodes, swept on tokio's clock.

use std::time::Duration;

use zk_core::{Coordinator, CreateMode, CreateOptions, Error, EventType};
use zk_fake::FakeEnsemble;

#[tokio::test(start_paused = true)]
async fn an_emptied_container_is_swept_within_an_interval() {
    let ensemble = FakeEnsemble::builder()
        .sweep_interval(Duration::from_secs(2))
        .build();
    let zk = ensemble.connect();
    zk.create("/box", b"", &CreateOptions::container())
        .await
        .unwrap();
    zk.create("/never-used", b"", &CreateOptions::container())
        .await
        .unwrap();
    zk.create("/box/item", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    let (_, gone) = zk.watch_exists("/box").await.unwrap();
    zk.delete("/box/item", None).await.unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(gone.await.event_type, EventType::NodeDeleted);
    assert!(start.elapsed() <= Duration::from_secs(2));
    assert!(
        zk.exists("/never-used").await.unwrap().is_some(),
        "a container that never had a child stays"
    );
}

#[tokio::test(start_paused = true)]
async fn a_ttl_node_goes_once_unmodified_for_its_ttl() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    let ttl = CreateOptions::new(CreateMode::PersistentWithTtl).with_ttl(Duration::from_secs(10));
    let created = zk.create("/ttl", b"", &ttl).await.unwrap();
    assert_eq!(created.stat.ephemeral_owner, 0);
    let (_, gone) = zk.watch_exists("/ttl").await.unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    zk.set_data("/ttl", b"touch", None).await.unwrap();
    let touched = tokio::time::Instant::now();
    assert_eq!(gone.await.event_type, EventType::NodeDataChanged);
    let (_, gone) = zk.watch_exists("/ttl").await.unwrap();
    assert_eq!(gone.await.event_type, EventType::NodeDeleted);
    assert!(
        touched.elapsed() >= Duration::from_secs(10),
        "the write restarted the clock"
    );
}

#[tokio::test(start_paused = true)]
async fn ttl_needs_extended_types() {
    let ensemble = FakeEnsemble::builder().extended_types(false).build();
    let zk = ensemble.connect();
    let ttl = CreateOptions::new(CreateMode::PersistentWithTtl).with_ttl(Duration::from_secs(1));
    assert!(matches!(
        zk.create("/ttl", b"", &ttl).await,
        Err(Error::Unimplemented { .. })
    ));
}
