//! What only the fake can stage: a connection cut for a chosen time, with changes made while
//! the watcher was away, or none.

use std::time::Duration;

use futures::StreamExt;
use zk_cache::data_watch;
use zk_core::{Coordinator, CreateOptions, SessionState};
use zk_fake::FakeEnsemble;
use zk_testkit::counting::{Call, Counting};
use zk_testkit::timing::within;

/// Waits until `zk` reports `state`.
async fn reaches(zk: &impl Coordinator, state: SessionState) {
    let mut states = zk.session_state();
    within(states.wait_for(|s| *s == state)).await.unwrap();
}

/// Nothing more comes from `watch` for a second (of paused time).
async fn quiet<T: std::fmt::Debug>(watch: &mut zk_cache::WatchStream<T>) {
    let more = tokio::time::timeout(Duration::from_secs(1), watch.next()).await;
    assert!(more.is_err(), "yielded {more:?}");
}

#[tokio::test(start_paused = true)]
async fn a_reconnect_reads_once_and_yields_only_what_changed_while_away() {
    let ensemble = FakeEnsemble::new();
    let writer = ensemble.connect();
    let zk = Counting::new(ensemble.connect());
    writer
        .create("/n", b"1", &CreateOptions::persistent())
        .await
        .unwrap();
    let mut watch = data_watch(zk.clone(), "/n").unwrap();
    assert_eq!(
        within(watch.next()).await.unwrap().unwrap().unwrap().data,
        b"1"
    );

    // Away and back with nothing changed, while nobody polls: one read, nothing yielded.
    let reads = zk.counts().requests();
    assert!(
        ensemble
            .faults()
            .disconnect(zk.session_id(), Duration::from_millis(200))
    );
    reaches(&zk, SessionState::Disconnected).await;
    reaches(&zk, SessionState::SyncConnected).await;
    quiet(&mut watch).await;
    assert_eq!(
        zk.counts().requests(),
        reads + 1,
        "one read after the reconnect"
    );
    assert_eq!(zk.counts().calls(Call::WatchData), 2);

    // Away while the node changes twice: one value, the latest.
    assert!(
        ensemble
            .faults()
            .disconnect(zk.session_id(), Duration::from_millis(200))
    );
    reaches(&zk, SessionState::Disconnected).await;
    writer.set_data("/n", b"2", None).await.unwrap();
    writer.set_data("/n", b"3", None).await.unwrap();
    let seen = within(watch.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(seen.data, b"3");
    assert_eq!(seen.stat.version, 2);
    quiet(&mut watch).await;
    // And then it follows as before.
    writer.set_data("/n", b"4", None).await.unwrap();
    assert_eq!(
        within(watch.next()).await.unwrap().unwrap().unwrap().data,
        b"4"
    );
}

#[tokio::test(start_paused = true)]
async fn a_read_failing_while_disconnected_is_retried_after_the_reconnect() {
    let ensemble = FakeEnsemble::new();
    let zk = ensemble.connect();
    // Cut before the first read: it fails with connection loss and is retried once the
    // connection returns, without the caller seeing an error.
    assert!(
        ensemble
            .faults()
            .disconnect(zk.session_id(), Duration::from_millis(300))
    );
    let mut watch = data_watch(zk.clone(), "/later").unwrap();
    let first = within(watch.next()).await.unwrap().unwrap();
    assert_eq!(first, None);
    assert!(zk.session_state().borrow().is_connected());
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_create_delete_cycles_leave_no_watches_behind() {
    let ensemble = FakeEnsemble::new();
    let (zk, writer) = (ensemble.connect(), ensemble.connect());
    writer
        .create("/dir", b"", &CreateOptions::persistent())
        .await
        .unwrap();
    let mut data = data_watch(zk.clone(), "/dir/n").unwrap();
    let mut children = zk_cache::children_watch(zk.clone(), "/dir").unwrap();
    let (mut seen, mut most) = (0, 0);
    for cycle in 0..10_000 {
        writer
            .create("/dir/n", b"x", &CreateOptions::ephemeral())
            .await
            .unwrap();
        // The watchers look at every other state, so they go through reads that find the
        // node and reads that do not.
        if cycle % 2 == 0 {
            seen += usize::from(within(data.next()).await.unwrap().unwrap().is_some());
            within(children.next()).await.unwrap().unwrap();
        }
        writer.delete("/dir/n", None).await.unwrap();
        most = most.max(ensemble.watch_count(zk.session_id()).unwrap());
    }
    assert!(seen > 0, "the watcher saw the node");
    // One armed watch per stream (a data or exist watch, a child watch), never more.
    assert!(most <= 2, "watches piled up: {most}");
    drop((data, children));
    tokio::task::yield_now().await;
    assert_eq!(
        ensemble.watch_count(zk.session_id()),
        Some(0),
        "dropped streams leave none"
    );
}
