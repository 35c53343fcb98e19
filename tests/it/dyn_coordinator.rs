//! Sessions used as `Arc<dyn Coordinator>` and `Box<dyn Coordinator>` through the
//! `CoordinatorExt` helpers, across sessions of one fake ensemble.

use std::sync::Arc;

use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error};
use zk_fake::FakeEnsemble;

/// A recipe-style function generic over the backend, to show `dyn Coordinator` satisfies it.
async fn live_members<C: Coordinator + ?Sized>(
    zk: &C,
    group: &str,
) -> zk_core::Result<Vec<String>> {
    zk.get_children_sorted(group).await
}

#[tokio::test(start_paused = true)]
async fn arc_dyn_runs_every_helper() -> zk_core::Result<()> {
    let ensemble = FakeEnsemble::new();
    let zk: Arc<dyn Coordinator> = Arc::new(ensemble.connect());

    zk.ensure_path("/app/config/db").await?;
    let config = zk
        .exists("/app/config")
        .await?
        .expect("ensure_path created the parent");
    assert!(!config.is_ephemeral());
    assert_eq!(config.num_children, 1);
    // A second call finds everything in place and changes nothing.
    zk.ensure_path("/app/config/db").await?;
    assert_eq!(zk.exists("/app/config").await?, Some(config));

    let created = zk
        .create_with_parents("/app/workers/w1", b"up", &CreateOptions::ephemeral())
        .await?;
    assert_eq!(created.path, "/app/workers/w1");
    assert_eq!(created.stat.ephemeral_owner, zk.session_id());
    let workers = zk
        .exists("/app/workers")
        .await?
        .expect("parent was created");
    assert!(!workers.is_ephemeral(), "missing parents are persistent");

    let (data, stat) = zk
        .get_if_exists("/app/workers/w1")
        .await?
        .expect("w1 exists");
    assert_eq!((data.as_slice(), stat.version), (&b"up"[..], 0));
    assert_eq!(zk.get_if_exists("/app/workers/w9").await?, None);

    for name in ["w3", "w2"] {
        zk.create(
            &format!("/app/workers/{name}"),
            b"",
            &CreateOptions::ephemeral(),
        )
        .await?;
    }
    assert_eq!(
        live_members(&*zk, "/app/workers").await?,
        ["w1", "w2", "w3"]
    );

    assert!(matches!(
        zk.delete_if_exists("/app/workers/w2", Some(7)).await,
        Err(Error::BadVersion { ref path, expected: 7 }) if path == "/app/workers/w2"
    ));
    assert!(zk.delete_if_exists("/app/workers/w2", Some(0)).await?);
    assert!(!zk.delete_if_exists("/app/workers/w2", None).await?);
    assert_eq!(zk.get_children_sorted("/app/workers").await?, ["w1", "w3"]);

    zk.delete_all("/app").await?;
    assert_eq!(zk.exists("/app").await?, None);
    // Deleting what is already gone is not an error.
    zk.delete_all("/app").await?;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn boxed_sessions_share_one_tree() -> zk_core::Result<()> {
    let ensemble = FakeEnsemble::new();
    let members: Vec<Box<dyn Coordinator>> = (0..3)
        .map(|_| Box::new(ensemble.connect()) as Box<dyn Coordinator>)
        .collect();
    let observer: Arc<dyn Coordinator> = Arc::new(ensemble.connect());

    for (i, member) in members.iter().enumerate() {
        let created = member
            .create_with_parents(
                &format!("/group/member-{i}"),
                format!("host-{i}").as_bytes(),
                &CreateOptions::ephemeral(),
            )
            .await?;
        assert_eq!(created.stat.ephemeral_owner, member.session_id());
    }
    let ids: Vec<i64> = members.iter().map(|m| m.session_id()).collect();
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
        "{ids:?}"
    );
    assert_eq!(
        live_members(&*observer, "/group").await?,
        ["member-0", "member-1", "member-2"]
    );
    let (data, _) = observer
        .get_if_exists("/group/member-1")
        .await?
        .expect("member-1");
    assert_eq!(data, b"host-1");

    // A closed member's ephemeral node is gone for everyone.
    members[1].close().await?;
    assert_eq!(
        live_members(&*observer, "/group").await?,
        ["member-0", "member-2"]
    );
    assert_eq!(observer.get_if_exists("/group/member-1").await?, None);

    // One session removes the whole subtree, including other sessions' ephemerals.
    members[0].delete_all("/group").await?;
    assert_eq!(observer.exists("/group").await?, None);
    assert!(matches!(
        members[2].get_children_sorted("/group").await,
        Err(Error::NoNode { ref path }) if path == "/group"
    ));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn helpers_report_errors_through_dyn() {
    let ensemble = FakeEnsemble::new();
    let zk: Box<dyn Coordinator> = Box::new(ensemble.connect());

    assert!(matches!(
        zk.ensure_path("/bad//path").await,
        Err(Error::InvalidPath { ref path, .. }) if path == "/bad//path"
    ));
    assert!(matches!(
        zk.get_children_sorted("/missing").await,
        Err(Error::NoNode { ref path }) if path == "/missing"
    ));

    zk.create("/owner", b"", &CreateOptions::ephemeral())
        .await
        .expect("create /owner");
    assert!(matches!(
        zk.create_with_parents("/owner/child", b"", &CreateOptions::persistent()).await,
        Err(Error::NoChildrenForEphemerals { ref path }) if path == "/owner/child"
    ));

    zk.close().await.expect("close");
    assert!(
        zk.get_if_exists("/owner")
            .await
            .is_err_and(|e| e.is_session_fatal())
    );
}
