//! A service that re-reads its configuration on every change, through one-shot watches.

use std::sync::Arc;

use tokio::sync::mpsc;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, EventType, SessionState, WatchEvent};
use zk_fake::FakeEnsemble;

use crate::within;

const CONFIG: &str = "/services/billing/config";

/// One configuration as the service read it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    text: String,
    version: i32,
}

/// The service: reads the configuration and watches it, re-reading after every change.
///
/// Reports each read on `seen` and returns the event that ended it (a deletion or the end of
/// its session).
async fn follow_config(
    zk: Arc<dyn Coordinator>,
    seen: mpsc::UnboundedSender<Seen>,
) -> zk_core::Result<WatchEvent> {
    loop {
        let (data, stat, watch) = zk.watch_data(CONFIG).await?;
        let text = String::from_utf8_lossy(&data).into_owned();
        // The test may stop listening; the service keeps following regardless.
        let _ = seen.send(Seen {
            text,
            version: stat.version,
        });
        let event = watch.await;
        if event.event_type != EventType::NodeDataChanged {
            return Ok(event);
        }
    }
}

/// Starts the service on its own session, once the configuration exists.
fn start_service(
    ensemble: &FakeEnsemble,
) -> (
    tokio::task::JoinHandle<zk_core::Result<WatchEvent>>,
    mpsc::UnboundedReceiver<Seen>,
    Arc<dyn Coordinator>,
) {
    let zk: Arc<dyn Coordinator> = Arc::new(ensemble.connect());
    let (tx, rx) = mpsc::unbounded_channel();
    (tokio::spawn(follow_config(zk.clone(), tx)), rx, zk)
}

async fn next_seen(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    within("the service to read its configuration", rx.recv())
        .await
        .expect("the service stopped reporting")
}

#[tokio::test(start_paused = true)]
async fn the_service_sees_every_update_in_order() -> zk_core::Result<()> {
    let ensemble = FakeEnsemble::new();
    let admin = ensemble.connect();
    admin
        .create_with_parents(CONFIG, b"rate=1", &CreateOptions::persistent())
        .await?;
    let (service, mut seen, _session) = start_service(&ensemble);

    let first = next_seen(&mut seen).await;
    assert_eq!(
        first,
        Seen {
            text: "rate=1".into(),
            version: 0
        }
    );

    // The admin waits for each read before the next write, so no update can be missed.
    for n in 2..=6 {
        let text = format!("rate={n}");
        let stat = admin.set_data(CONFIG, text.as_bytes(), Some(n - 2)).await?;
        assert_eq!(stat.version, n - 1);
        assert_eq!(
            next_seen(&mut seen).await,
            Seen {
                text,
                version: n - 1
            }
        );
    }

    admin.delete(CONFIG, Some(5)).await?;
    let ended = within("the service to stop", service)
        .await
        .expect("service task");
    assert_eq!(ended?.event_type, EventType::NodeDeleted);
    assert!(seen.recv().await.is_none(), "no read after the deletion");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_updates_ends_on_the_latest() -> zk_core::Result<()> {
    let ensemble = FakeEnsemble::new();
    let admin = ensemble.connect();
    admin
        .create_with_parents(CONFIG, b"v0", &CreateOptions::persistent())
        .await?;
    let (service, mut seen, _session) = start_service(&ensemble);
    assert_eq!(next_seen(&mut seen).await.version, 0);

    // Writes in a row, without waiting: one-shot watches may coalesce several of them into
    // one re-read, but the service must end on the latest, never go backwards.
    for n in 1..=5 {
        admin
            .set_data(CONFIG, format!("v{n}").as_bytes(), None)
            .await?;
    }
    let mut versions = Vec::new();
    loop {
        let read = next_seen(&mut seen).await;
        assert_eq!(read.text, format!("v{}", read.version));
        versions.push(read.version);
        if read.version == 5 {
            break;
        }
    }
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    assert!(!service.is_finished());
    service.abort();
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_service_stops_when_its_session_closes() -> zk_core::Result<()> {
    let ensemble = FakeEnsemble::new();
    let admin = ensemble.connect();
    admin
        .create_with_parents(CONFIG, b"on", &CreateOptions::persistent())
        .await?;
    let (service, mut seen, session) = start_service(&ensemble);
    assert_eq!(next_seen(&mut seen).await.text, "on");

    session.close().await?;
    let ended = within("the service to stop", service)
        .await
        .expect("service task")?;
    assert!(ended.is_session_event(), "{ended:?}");
    assert_eq!(ended.state, SessionState::Closed);

    // The configuration itself is untouched, and further writes reach nobody.
    admin.set_data(CONFIG, b"off", None).await?;
    assert_eq!(admin.get_data(CONFIG).await?.1.version, 1);
    assert!(seen.recv().await.is_none());
    Ok(())
}
