//! A chroot in the connect string, against a real server: every path the application sees is
//! relative to it, in results, errors, notifications and ephemeral listings.

use zk_core::client::ZkClient;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error, EventType, Op, OpResult};
use zk_testkit::server::ZkServer;

#[tokio::test]
async fn paths_are_relative_to_the_chroot_everywhere() {
    let server = ZkServer::shared();
    let root = format!("/chroot-{}", uuid::Uuid::new_v4());
    let plain = ZkClient::connect(&server.connect_string()).await.unwrap();
    plain.ensure_path(&root).await.unwrap();
    let zk = ZkClient::connect(&format!("{}{root}", server.connect_string()))
        .await
        .unwrap();

    let created = zk
        .create("/app", b"x", &CreateOptions::persistent())
        .await
        .unwrap();
    assert_eq!(created.path, "/app");
    assert!(
        plain
            .exists(&format!("{root}/app"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(zk.get_children_sorted("/").await.unwrap(), vec!["app"]);

    let seq = zk
        .create("/app/n-", b"", &CreateOptions::ephemeral_sequential())
        .await
        .unwrap();
    assert_eq!(seq.path, "/app/n-0000000000");
    assert_eq!(
        zk.get_ephemerals("/").await.unwrap(),
        vec![seq.path.clone()]
    );

    let results = zk
        .multi(&[Op::create("/app/m", "", CreateOptions::container())])
        .await
        .unwrap();
    assert!(matches!(&results[0], OpResult::Create { path, .. } if path == "/app/m"));

    let (_, _, watch) = zk.watch_data("/app").await.unwrap();
    plain
        .set_data(&format!("{root}/app"), b"y", None)
        .await
        .unwrap();
    let event = watch.await;
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (EventType::NodeDataChanged, "/app")
    );

    assert_eq!(
        zk.get_data("/missing").await.unwrap_err(),
        Error::NoNode {
            path: "/missing".into()
        }
    );
    zk.close().await.unwrap();
    plain.delete_all(&root).await.unwrap();
    plain.close().await.unwrap();
}
