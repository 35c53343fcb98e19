//! Dropping watches on a real server: the server forgets them (seen through `wchp`).

use zk_core::{AddWatchMode, Coordinator, CoordinatorExt};
use zk_testkit::WireBackend;
use zk_testkit::server::ZkServer;

/// The server's watches by path (`wchp`), one path per line.
fn watched_paths(server: &ZkServer) -> Vec<String> {
    let listing = server.four_letter("wchp").expect("wchp answers");
    listing
        .lines()
        .filter(|l| l.starts_with('/'))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn dropped_watches_are_removed_from_the_server() {
    let server = ZkServer::shared();
    let zk = WireBackend::new(server.connect_string()).client().await;
    let root = format!("/watch-removal-{}", uuid::Uuid::new_v4());
    let sub = format!("{root}/sub");
    zk.ensure_path(&root).await.unwrap();

    let (_, _, data) = zk.watch_data(&root).await.unwrap();
    let (_, _, second) = zk.watch_data(&root).await.unwrap();
    let stream = zk
        .add_watch(&sub, AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let watched = watched_paths(server);
    assert!(
        watched.contains(&root) && watched.contains(&sub),
        "{watched:?}"
    );

    // A removal is queued before any later request of the same client, so one round trip
    // orders it before the check.
    drop(data);
    zk.sync("/").await.unwrap();
    assert!(
        watched_paths(server).contains(&root),
        "another watcher still needs it"
    );
    drop(second);
    zk.sync("/").await.unwrap();
    let watched = watched_paths(server);
    assert!(
        !watched.contains(&root) && watched.contains(&sub),
        "{watched:?}"
    );
    drop(stream);
    zk.sync("/").await.unwrap();
    assert!(!watched_paths(server).contains(&sub));

    zk.delete_all(&root).await.unwrap();
    zk.close().await.unwrap();
}
