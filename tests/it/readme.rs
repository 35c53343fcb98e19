//! The README's "testing your service with the fake" sample, kept compiling and passing.

use zk_core::{Coordinator, CoordinatorExt, CreateOptions, EventType};
use zk_fake::FakeEnsemble;

/// Service code: registers an instance as an ephemeral sequential node.
async fn register(zk: &dyn Coordinator, service: &str, addr: &str) -> zk_core::Result<String> {
    let prefix = format!("/services/{service}/instance-");
    let created = zk
        .create_with_parents(
            &prefix,
            addr.as_bytes(),
            &CreateOptions::ephemeral_sequential(),
        )
        .await?;
    Ok(created.path)
}

#[tokio::test(start_paused = true)]
async fn an_instance_disappears_with_its_session() -> zk_core::Result<()> {
    let ensemble = FakeEnsemble::new();
    let (server, client) = (ensemble.connect(), ensemble.connect());

    let path = register(&server, "billing", "10.0.0.7:8080").await?;
    assert_eq!(path, "/services/billing/instance-0000000000");
    assert_eq!(
        client.get_children_sorted("/services/billing").await?.len(),
        1
    );

    let (_stat, gone) = client.watch_exists(&path).await?;
    server.close().await?;
    assert_eq!(gone.await.event_type, EventType::NodeDeleted);
    assert!(
        client
            .get_children_sorted("/services/billing")
            .await?
            .is_empty()
    );
    Ok(())
}
