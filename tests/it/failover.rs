//! Failover on a real three-member ensemble through the wire client: killed and paused members,
//! a lost leader, session expiry discovered on another member, and read-only mode.
//!
//! Every test starts its own ensemble on loopback with `zk_testkit::failover::FailoverEnsemble`,
//! which takes the ensemble turn (three JVMs already keep two cores busy) and runs the
//! harness's blocking calls (start, restart, kill) off the runtime, so the clients' session
//! tasks keep running meanwhile; dropping it at the end kills the JVMs. Waits are bounded and
//! use real time; nothing sleeps. The limits scale with `ZK_TEST_TIMEOUT_SCALE`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use zk_core::client::ZkClient;
use zk_core::{
    AddWatchMode, Coordinator, CreateOptions, Error, EventType, OneshotWatch, SessionState,
    WatchEvent,
};
use zk_testkit::failover::{
    FailoverEnsemble, LONG_SESSION, SHORT_SESSION, StateLog, connect, limit, reported_in_order,
};
use zk_testkit::server::ZkEnsemble;
use zk_testkit::timing::within_for;

/// For the test that kills the leader and asserts the session survives: it must outlast the
/// ensemble's recovery, which an election race can stretch to a few ticks past `initLimit`.
/// Reconnection normally takes under a second.
const ELECTION_SESSION: Duration = Duration::from_secs(30);
/// How many requests the in-flight tests keep on the wire at once.
const WORKERS: usize = 50;
/// The bound on each worker's loop; workers stop long before it.
const MAX_ROUNDS: usize = 20_000;

/// A three-member ensemble, its leader, a follower (the member after the leader), and a
/// session of `timeout` that starts on that follower (checked) and may fail over to the others.
async fn on_a_follower(timeout: Duration) -> (FailoverEnsemble, usize, usize, ZkClient) {
    let (ensemble, leader) = FailoverEnsemble::start(ZkEnsemble::builder().size(3)).await;
    let follower = (leader + 1) % 3;
    let zk = connect(&ensemble.preferring(follower), timeout).await;
    assert_eq!(ensemble.connected_member(&zk), follower);
    (ensemble, leader, follower, zk)
}

fn persistent() -> CreateOptions {
    CreateOptions::persistent()
}

/// How one worker's calls ended.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    ok: usize,
    lost: usize,
    ok_after_loss: usize,
}

/// What every in-flight worker shares: a progress counter to wait on, and the stop flag.
#[derive(Clone)]
struct Crew {
    progress: Arc<watch::Sender<usize>>,
    stop: watch::Receiver<bool>,
    call_limit: Duration,
}

/// Keeps one request in flight on `path` (set_data and get_data by turns) until told to stop,
/// and counts how the calls ended.
///
/// A worker that lost a call keeps going after the stop flag until one call succeeds again.
/// A call that runs longer than the crew's limit, or fails with anything but `ConnectionLoss`,
/// ends the worker with a description of it.
async fn worker(client: ZkClient, path: String, crew: Crew) -> Result<Tally, String> {
    let mut tally = Tally::default();
    let mut states = client.session_state();
    for round in 0..MAX_ROUNDS {
        if *crew.stop.borrow() && (tally.lost == 0 || tally.ok_after_loss > 0) {
            return Ok(tally);
        }
        let call = async {
            if round % 2 == 0 {
                let data = round.to_string();
                client
                    .set_data(&path, data.as_bytes(), None)
                    .await
                    .map(drop)
            } else {
                client.get_data(&path).await.map(drop)
            }
        };
        match tokio::time::timeout(crew.call_limit, call).await {
            Err(_) => return Err(format!("a call on {path} hung for {:?}", crew.call_limit)),
            Ok(Ok(())) => {
                tally.ok += 1;
                if tally.lost > 0 {
                    tally.ok_after_loss += 1;
                }
                crew.progress.send_modify(|n| *n += 1);
            }
            Ok(Err(Error::ConnectionLoss)) => {
                tally.lost += 1;
                // Wait for the session to come back rather than spin on offline answers.
                let back = states.wait_for(|s| s.is_connected());
                if tokio::time::timeout(crew.call_limit, back).await.is_err() {
                    return Err(format!("{path}: no reconnection in {:?}", crew.call_limit));
                }
            }
            Ok(Err(e)) => return Err(format!("a call on {path} failed with {e:?}")),
        }
    }
    Err(format!("{path}: still running after {MAX_ROUNDS} rounds"))
}

/// `WORKERS` workers on `/work/d-<i>` (created here), running once this returns with at least
/// two successful calls per worker behind them.
struct Workers {
    handles: Vec<JoinHandle<Result<Tally, String>>>,
    stop: watch::Sender<bool>,
}

impl Workers {
    async fn start(client: &ZkClient, call_limit: Duration) -> Workers {
        client.create("/work", b"", &persistent()).await.unwrap();
        for i in 0..WORKERS {
            let path = format!("/work/d-{i}");
            client.create(&path, b"", &persistent()).await.unwrap();
        }
        let (stop, stop_rx) = watch::channel(false);
        let progress = Arc::new(watch::channel(0).0);
        let mut made = progress.subscribe();
        let crew = Crew {
            progress,
            stop: stop_rx,
            call_limit,
        };
        let handles = (0..WORKERS)
            .map(|i| tokio::spawn(worker(client.clone(), format!("/work/d-{i}"), crew.clone())))
            .collect();
        within_for(limit(10), made.wait_for(|n| *n >= 2 * WORKERS))
            .await
            .expect("the workers report progress");
        Workers { handles, stop }
    }

    /// Stops the workers and checks that every call ended with success or `ConnectionLoss`,
    /// that some were cut off, and that every worker that lost a call succeeded again.
    async fn finish(self) -> Tally {
        self.stop.send_replace(true);
        let mut total = Tally::default();
        for handle in self.handles {
            let tally = within_for(limit(20), handle)
                .await
                .expect("a worker panicked")
                .unwrap_or_else(|e| panic!("{e}"));
            total.ok += tally.ok;
            total.lost += tally.lost;
            total.ok_after_loss += tally.ok_after_loss;
        }
        assert!(
            total.lost > 0,
            "no request was in flight when the connection broke: {total:?}"
        );
        total
    }
}

/// Reads events from `stream` until `wanted` node events have arrived, and returns them all.
async fn events_until(
    stream: &mut zk_core::PersistentWatch,
    wanted: &[(EventType, &str)],
) -> Vec<WatchEvent> {
    let mut seen = Vec::new();
    for _ in 0..32 {
        let done = wanted.iter().all(|(kind, path)| {
            seen.iter()
                .any(|e: &WatchEvent| e.event_type == *kind && e.path == *path)
        });
        if done {
            return seen;
        }
        match tokio::time::timeout(limit(10), stream.next()).await {
            Ok(Some(event)) => seen.push(event),
            Ok(None) => panic!("the persistent watch ended; events: {seen:?}"),
            Err(_) => panic!("timed out waiting for {wanted:?}; events so far: {seen:?}"),
        }
    }
    panic!("too many events without {wanted:?}: {seen:?}")
}

/// Sets the data at `path` to `after` and checks that `watch`, a data watch on `path` set
/// before a failover, fires for the change.
async fn data_watch_fires(zk: &ZkClient, path: &str, watch: OneshotWatch) {
    zk.set_data(path, b"after", None).await.unwrap();
    let event = within_for(limit(10), watch).await;
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (EventType::NodeDataChanged, path)
    );
}

/// Checks that `member`, after a sync, holds the ephemeral node at `path` of `session`, and
/// returns the new client on `member` that looked.
async fn ephemeral_seen_from(
    ensemble: &FailoverEnsemble,
    member: usize,
    path: &str,
    session: i64,
) -> ZkClient {
    let other = connect(&ensemble.hosts(&[member]), LONG_SESSION).await;
    other.sync("/").await.unwrap();
    let stat = other
        .exists(path)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{path} survives"));
    assert_eq!(stat.ephemeral_owner, session);
    other
}

/// The session events in `events`, in order.
fn session_states(events: &[WatchEvent]) -> Vec<SessionState> {
    events
        .iter()
        .filter(|e| e.is_session_event())
        .map(|e| e.state)
        .collect()
}

/// Killing the member a session is connected to, here the leader (so an election runs too),
/// with 50 requests in flight: the session resumes on another member, every call ends with
/// success or `ConnectionLoss`, one-shot watches are restored by SetWatches, ephemerals survive,
/// and the persistent watch reports the disconnection and the reconnection, then later events.
#[tokio::test]
async fn killing_the_connected_leader_keeps_the_session_and_its_watches() {
    // With the default initLimit (10 ticks), an election race seen in CI left one survivor
    // "leading" a half-formed quorum for 20 s while the other kept looking, and nobody served
    // clients for longer than the session; a short initLimit makes such a leader give up and
    // re-elect within 6 s.
    let (ensemble, leader) =
        FailoverEnsemble::start(ZkEnsemble::builder().size(3).limits(3, 2)).await;
    let zk = connect(&ensemble.preferring(leader), ELECTION_SESSION).await;
    let target = ensemble.connected_member(&zk);
    assert_eq!(target, leader, "ordered hosts put the leader first");
    let session = zk.session_id();

    zk.create("/watched", b"", &persistent()).await.unwrap();
    zk.create("/watched/node", b"before", &persistent())
        .await
        .unwrap();
    zk.create("/owned", b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let (_, _, data_watch) = zk.watch_data("/watched/node").await.unwrap();
    let (missing, exist_watch) = zk.watch_exists("/watched/later").await.unwrap();
    assert!(missing.is_none());
    let mut tree = zk
        .add_watch("/watched", AddWatchMode::PersistentRecursive)
        .await
        .unwrap();
    let workers = Workers::start(&zk, limit(15)).await;
    let mut log = StateLog::start(&zk);

    ensemble.kill(target).await;
    let killed = Instant::now();
    log.wait_until("Disconnected, then SyncConnected", limit(40), |l| {
        reported_in_order(l, SessionState::Disconnected, SessionState::SyncConnected)
    })
    .await;
    let reconnected = killed.elapsed();
    assert_eq!(
        zk.session_id(),
        session,
        "the session survives the failover"
    );
    assert!(
        !log.states().contains(&SessionState::Expired),
        "{:?}",
        log.states()
    );
    let now_on = ensemble.connected_member(&zk);
    assert_ne!(now_on, target);
    let tally = workers.finish().await;

    // The one-shot watches set before the kill were restored on the new connection.
    data_watch_fires(&zk, "/watched/node", data_watch).await;
    zk.create("/watched/later", b"", &persistent())
        .await
        .unwrap();
    let event = within_for(limit(10), exist_watch).await;
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (EventType::NodeCreated, "/watched/later")
    );

    // The session's ephemeral node lives on, as another member sees it.
    ephemeral_seen_from(&ensemble, now_on, "/owned", session).await;
    assert_eq!(zk.get_ephemerals("/").await.unwrap(), vec!["/owned"]);

    // The persistent watch was restored and sees later events.
    let events = events_until(
        &mut tree,
        &[
            (EventType::NodeDataChanged, "/watched/node"),
            (EventType::NodeCreated, "/watched/later"),
        ],
    )
    .await;
    eprintln!(
        "failover/kill: reconnected in {reconnected:?}, calls {tally:?}, states {:?}, \
         persistent events {events:?}, {:?} in all",
        log.states(),
        ensemble.elapsed()
    );
    // It must also have said that events may have been missed in between.
    assert!(
        reported_in_order(
            &session_states(&events),
            SessionState::Disconnected,
            SessionState::SyncConnected
        ),
        "the persistent watch did not report Disconnected then SyncConnected: {events:?}"
    );
}

/// Pausing (SIGSTOP) the member a session is connected to: the client notices by its read
/// timeout (2/3 of a 4 s session), moves to another member before the session can expire, and
/// every in-flight call ends; the resumed member rejoins and sees the session's ephemeral.
#[tokio::test]
async fn pausing_the_connected_member_fails_over_by_read_timeout() {
    let (ensemble, _, follower, zk) = on_a_follower(SHORT_SESSION).await;
    let session = zk.session_id();
    let negotiated = zk.session_timeout();
    assert_eq!(negotiated, SHORT_SESSION);
    zk.create("/node", b"before", &persistent()).await.unwrap();
    zk.create("/owned", b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let (_, _, data_watch) = zk.watch_data("/node").await.unwrap();
    let workers = Workers::start(&zk, limit(15)).await;
    let mut log = StateLog::start(&zk);

    // Timed from the SIGSTOP, not from pause()'s return: pause() returns once every JVM thread
    // has stopped, which on a busy machine is well after the member stopped answering and the
    // client's read timeout began to run.
    let paused = Instant::now();
    ensemble.pause(follower).await;
    let pause_took = paused.elapsed();
    log.wait_until("Disconnected", limit(10), |l| {
        l.contains(&SessionState::Disconnected)
    })
    .await;
    let noticed = paused.elapsed();
    log.wait_until("SyncConnected after Disconnected", limit(10), |l| {
        reported_in_order(l, SessionState::Disconnected, SessionState::SyncConnected)
    })
    .await;
    let reconnected = paused.elapsed();
    // The read timeout is 2/3 of the session timeout; a paused server never closes the socket,
    // so nothing else can end the connection earlier.
    let read_timeout = negotiated * 2 / 3;
    assert!(
        noticed + Duration::from_millis(300) >= read_timeout,
        "noticed after {noticed:?}, before the read timeout {read_timeout:?}"
    );
    assert!(
        reconnected < negotiated,
        "reconnected after {reconnected:?}, too late for a {negotiated:?} session"
    );
    assert_eq!(zk.session_id(), session);
    assert!(!log.states().contains(&SessionState::Expired));
    let now_on = ensemble.connected_member(&zk);
    assert_ne!(now_on, follower);
    let tally = workers.finish().await;

    data_watch_fires(&zk, "/node", data_watch).await;

    ensemble.resume(follower).await;
    ensemble.wait_for_leader().await;
    let other = ephemeral_seen_from(&ensemble, follower, "/owned", session).await;
    let (data, _) = other.get_data("/node").await.unwrap();
    assert_eq!(data, b"after");
    assert_eq!(zk.get_data("/node").await.unwrap().0, b"after");
    eprintln!(
        "failover/pause: pause() took {pause_took:?}, noticed after {noticed:?}, reconnected \
         after {reconnected:?}, calls {tally:?}, states {:?}, {:?} in all",
        log.states(),
        ensemble.elapsed()
    );
}

/// Sequential ephemeral creates racing the kill of the connected member: afterwards the
/// session owns exactly the nodes whose create succeeded, plus perhaps some whose create was
/// cut off with `ConnectionLoss`, and never a node of another session.
#[tokio::test]
async fn sequential_ephemerals_racing_a_kill_are_all_accounted_for() {
    let (ensemble, leader, follower, zk) = on_a_follower(LONG_SESSION).await;
    let neighbour = connect(&ensemble.hosts(&[leader]), LONG_SESSION).await;
    zk.create("/seq", b"", &persistent()).await.unwrap();
    let mut theirs = BTreeSet::new();
    for _ in 0..3 {
        let created = neighbour
            .create("/seq/n-", b"", &CreateOptions::ephemeral_sequential())
            .await
            .unwrap();
        theirs.insert(created.path);
    }

    let (stop, stop_rx) = watch::channel(false);
    let progress = Arc::new(watch::channel(0usize).0);
    let mut made = progress.subscribe();
    let creators: Vec<_> = (0..16)
        .map(|_| {
            let zk = zk.clone();
            let stop = stop_rx.clone();
            let progress = progress.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut lost = 0usize;
                let mut states = zk.session_state();
                for _ in 0..MAX_ROUNDS {
                    if *stop.borrow() {
                        return Ok((acked, lost));
                    }
                    let options = CreateOptions::ephemeral_sequential();
                    let create = zk.create("/seq/n-", b"", &options);
                    match tokio::time::timeout(limit(15), create).await {
                        Err(_) => return Err("a create hung".to_owned()),
                        Ok(Ok(created)) => {
                            acked.push(created.path);
                            progress.send_modify(|n| *n += 1);
                        }
                        Ok(Err(Error::ConnectionLoss)) => {
                            lost += 1;
                            let back = states.wait_for(|s| s.is_connected());
                            if tokio::time::timeout(limit(15), back).await.is_err() {
                                return Err("no reconnection".to_owned());
                            }
                        }
                        Ok(Err(e)) => return Err(format!("a create failed with {e:?}")),
                    }
                }
                Err("still creating after MAX_ROUNDS".to_owned())
            })
        })
        .collect();
    within_for(limit(10), made.wait_for(|n| *n >= 32))
        .await
        .unwrap();
    let mut log = StateLog::start(&zk);

    ensemble.kill(follower).await;
    log.wait_until("Disconnected, then SyncConnected", limit(20), |l| {
        reported_in_order(l, SessionState::Disconnected, SessionState::SyncConnected)
    })
    .await;
    assert_ne!(ensemble.connected_member(&zk), follower);
    // A few more creates on the new connection, then stop.
    let before = *made.borrow();
    within_for(limit(10), made.wait_for(|n| *n >= before + 32))
        .await
        .unwrap();
    stop.send_replace(true);
    let mut acked = Vec::new();
    let mut lost = 0;
    for creator in creators {
        let (mine, cut) = within_for(limit(20), creator)
            .await
            .expect("a creator panicked")
            .unwrap_or_else(|e| panic!("{e}"));
        acked.extend(mine);
        lost += cut;
    }
    let acked_set: BTreeSet<String> = acked.iter().cloned().collect();
    assert_eq!(acked_set.len(), acked.len(), "sequence numbers repeat");

    zk.sync("/seq").await.unwrap();
    let ephemerals: BTreeSet<String> = zk
        .get_ephemerals("/seq")
        .await
        .unwrap()
        .into_iter()
        .collect();
    let unacked: Vec<&String> = ephemerals.difference(&acked_set).collect();
    let missing: Vec<&String> = acked_set.difference(&ephemerals).collect();
    assert!(
        missing.is_empty(),
        "acknowledged creates are gone: {missing:?}"
    );
    assert!(
        unacked.len() <= lost,
        "{} nodes nobody was told about, but only {lost} creates were cut off: {unacked:?}",
        unacked.len()
    );
    assert!(
        ephemerals.is_disjoint(&theirs),
        "another session's nodes are listed as ours"
    );
    // The listing agrees, node by node, on who owns what.
    let (children, _) = zk.get_children("/seq").await.unwrap();
    let mut listed = BTreeSet::new();
    for child in children {
        let path = format!("/seq/{child}");
        let stat = zk.exists(&path).await.unwrap().expect("a listed node");
        if stat.ephemeral_owner == zk.session_id() {
            listed.insert(path);
        } else {
            assert_eq!(stat.ephemeral_owner, neighbour.session_id(), "{path}");
            assert!(theirs.contains(&path), "{path}");
        }
    }
    assert_eq!(listed, ephemerals);
    eprintln!(
        "failover/sequential: {} acked, {lost} cut off, {} applied without an answer, {:?} in all",
        acked.len(),
        unacked.len(),
        ensemble.elapsed()
    );
}

/// A session expired while its client is cut off from its member (paused): the client learns
/// it on another member, reports `Expired` to its state and watches, opens a new session, and
/// the old ephemeral node is gone for everyone.
#[tokio::test]
async fn an_expiry_is_discovered_on_another_member() {
    let (ensemble, leader, follower, zk) = on_a_follower(SHORT_SESSION).await;
    let old = zk.session_id();
    zk.create("/owned", b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    let (_, pending) = zk.watch_exists("/never").await.unwrap();
    let mut stream = zk
        .add_watch("/owned", AddWatchMode::Persistent)
        .await
        .unwrap();
    let mut log = StateLog::start(&zk);

    ensemble.pause(follower).await;
    let others = ensemble.hosts(&[leader, (leader + 2) % 3]);
    within_for(
        limit(15),
        zk_testkit::expire_session(&others, old, &zk.session_password()),
    )
    .await
    .expect("the session is closed remotely");
    log.wait_until("Expired, then SyncConnected", limit(15), |l| {
        reported_in_order(l, SessionState::Expired, SessionState::SyncConnected)
    })
    .await;
    let new = zk.session_id();
    assert!(new != 0 && new != old, "old {old:#x}, new {new:#x}");
    assert_ne!(ensemble.connected_member(&zk), follower);

    let event = within_for(limit(5), pending).await;
    assert_eq!(
        (event.event_type, event.state),
        (EventType::Session, SessionState::Expired)
    );
    let mut events = Vec::new();
    for _ in 0..8 {
        match within_for(limit(5), stream.next()).await {
            Some(event) => events.push(event),
            None => break,
        }
    }
    assert!(stream.next().await.is_none(), "the stream ends: {events:?}");
    assert_eq!(
        events.last().map(|e| (e.event_type, e.state)),
        Some((EventType::Session, SessionState::Expired)),
        "{events:?}"
    );
    assert!(
        events.iter().all(WatchEvent::is_session_event),
        "{events:?}"
    );

    let other = connect(&others, LONG_SESSION).await;
    other.sync("/").await.unwrap();
    assert!(other.exists("/owned").await.unwrap().is_none());
    // The handle goes on in its new session.
    let created = zk
        .create("/owned", b"", &CreateOptions::ephemeral())
        .await
        .unwrap();
    assert_eq!(created.stat.ephemeral_owner, new);
    ensemble.resume(follower).await;
    eprintln!(
        "failover/expiry: states {:?}, persistent events {events:?}, {:?} in all",
        log.states(),
        ensemble.elapsed()
    );
}

/// How one write of the leader-loss test ended.
#[derive(Debug, Default)]
struct Writes {
    acked: Vec<String>,
    lost: Vec<String>,
    first_loss: Option<Duration>,
    last_loss: Option<Duration>,
    /// From the kill to the first write acknowledged after it: how long writes were impossible.
    outage: Option<Duration>,
}

/// Killing the leader while a client on a follower writes: writes fail only with
/// `ConnectionLoss`, only around the election, then succeed again; every member (the old
/// leader too, once restarted) holds the same nodes, which include every acknowledged write.
#[tokio::test]
async fn writes_survive_the_loss_of_the_leader() {
    let (ensemble, leader, _, zk) = on_a_follower(LONG_SESSION).await;
    zk.create("/log", b"", &persistent()).await.unwrap();

    let (killed_tx, killed_rx) = watch::channel(None::<Instant>);
    let progress = Arc::new(watch::channel(0usize).0);
    let mut made = progress.subscribe();
    let writer = tokio::spawn({
        let zk = zk.clone();
        async move {
            let mut writes = Writes::default();
            let mut states = zk.session_state();
            // Successes in a row since the leader died (or since the last failure).
            let mut streak = 0;
            for i in 0..MAX_ROUNDS {
                let killed = *killed_rx.borrow();
                if killed.is_some() && streak >= 20 {
                    return Ok(writes);
                }
                let path = format!("/log/w-{i:05}");
                let (data, options) = (i.to_string(), persistent());
                let create = zk.create(&path, data.as_bytes(), &options);
                match tokio::time::timeout(limit(15), create).await {
                    Err(_) => return Err(format!("the write of {path} hung")),
                    Ok(Ok(_)) => {
                        writes.acked.push(path);
                        progress.send_modify(|n| *n += 1);
                        if let Some(killed) = killed {
                            writes.outage.get_or_insert(killed.elapsed());
                            streak += 1;
                        }
                    }
                    Ok(Err(Error::ConnectionLoss)) => {
                        writes.lost.push(path);
                        // Measured from the kill (zero for a failure before it is recorded).
                        let killed_at = *killed_rx.borrow();
                        let at = killed_at.map(|k| k.elapsed()).unwrap_or_default();
                        writes.first_loss.get_or_insert(at);
                        writes.last_loss = Some(at);
                        streak = 0;
                        let back = states.wait_for(|s| s.is_connected());
                        if tokio::time::timeout(limit(20), back).await.is_err() {
                            return Err("no reconnection".to_owned());
                        }
                    }
                    Ok(Err(e)) => return Err(format!("the write of {path} failed with {e:?}")),
                }
            }
            Err("still writing after MAX_ROUNDS".to_owned())
        }
    });
    within_for(limit(10), made.wait_for(|n| *n >= 20))
        .await
        .unwrap();
    let log = StateLog::start(&zk);
    ensemble.kill(leader).await;
    killed_tx.send_replace(Some(Instant::now()));
    let writes = within_for(limit(30), writer)
        .await
        .expect("the writer panicked")
        .unwrap_or_else(|e| panic!("{e}"));
    // Writes resumed once a new leader was elected, well within the session timeout.
    let outage = writes.outage.expect("writes succeeded after the kill");
    assert!(outage < LONG_SESSION, "no write succeeded for {outage:?}");
    if let Some(last) = writes.last_loss {
        assert!(last < outage, "a write failed after writes had resumed");
    }
    assert!(
        !log.states().contains(&SessionState::Expired),
        "{:?}",
        log.states()
    );

    // Every member, the old leader too once it is back, holds the same nodes.
    ensemble.restart(leader).await;
    let acked: BTreeSet<&String> = writes.acked.iter().collect();
    let attempted: BTreeSet<&String> = writes.acked.iter().chain(&writes.lost).collect();
    let mut views = Vec::new();
    for member in 0..ensemble.len() {
        let reader = connect(&ensemble.hosts(&[member]), LONG_SESSION).await;
        reader.sync("/log").await.unwrap();
        let (children, _) = reader.get_children("/log").await.unwrap();
        let nodes: BTreeSet<String> = children.iter().map(|c| format!("/log/{c}")).collect();
        let last = writes.acked.last().expect("some writes succeeded");
        let (data, _) = reader.get_data(last).await.unwrap();
        assert_eq!(data, last[7..].trim_start_matches('0').as_bytes());
        views.push(nodes);
    }
    for (member, nodes) in views.iter().enumerate() {
        assert_eq!(nodes, &views[0], "member {member} disagrees with member 0");
        let nodes: BTreeSet<&String> = nodes.iter().collect();
        assert!(
            acked.is_subset(&nodes),
            "member {member} lost acknowledged writes"
        );
        assert!(
            nodes.is_subset(&attempted),
            "member {member} has unknown nodes"
        );
    }
    eprintln!(
        "failover/leader: {} writes acked, {} cut off, failures from {:?} to {:?} after the kill, \
         first write after the kill acknowledged after {outage:?}, states {:?}, {:?} in all",
        writes.acked.len(),
        writes.lost.len(),
        writes.first_loss,
        writes.last_loss,
        log.states(),
        ensemble.elapsed()
    );
}

/// Whether `client` is connected read-only now.
fn read_only_now(client: &ZkClient) -> bool {
    *client.session_state().borrow() == SessionState::ConnectedReadOnly
}

/// Read-only mode: a member cut off from its quorum serves reads to clients that accept it,
/// refuses their writes with `NotReadOnly`, and turns other clients away; once the quorum is
/// back, the read-only clients reach a read-write session.
#[tokio::test]
async fn a_member_without_quorum_serves_read_only_clients() {
    let (ensemble, leader) = FailoverEnsemble::start(
        ZkEnsemble::builder()
            .size(3)
            .system_property("readonlymode.enabled", "true")
            // A 3.8 read-only server creates local sessions only; without them it answers every
            // ConnectRequest with a bare NOTREADONLY reply header (see apache/zookeeper#1922).
            .config_line("localSessionsEnabled=true"),
    )
    .await;
    let writer = connect(&ensemble.ensemble().connect_string(), LONG_SESSION).await;
    writer
        .create("/kept", b"data", &persistent())
        .await
        .unwrap();
    writer.close().await.unwrap();
    let survivor = leader;
    let only = ensemble.hosts(&[survivor]);
    let read_only_client = |session: Duration| {
        ZkClient::builder(&only)
            .unwrap()
            .session_timeout(session)
            .read_only(true)
    };
    // A client that accepts read-only servers, connected while the quorum is whole.
    let early = within_for(limit(15), read_only_client(LONG_SESSION).connect())
        .await
        .unwrap();
    assert_eq!(*early.session_state().borrow(), SessionState::SyncConnected);
    let mut early_log = StateLog::start(&early);

    // The survivor loses its quorum, steps down, and (about two seconds later) serves
    // read-only; the early client follows it there.
    for member in ensemble.others(survivor) {
        ensemble.kill(member).await;
    }
    early_log
        .wait_until("ConnectedReadOnly", limit(20), |l| {
            l.contains(&SessionState::ConnectedReadOnly)
        })
        .await;
    // A new client connects to the read-only member directly.
    let late = within_for(limit(15), read_only_client(LONG_SESSION).connect())
        .await
        .expect("a read-only client connects to the read-only member");
    assert!(read_only_now(&late));
    let late_session = late.session_id();
    let mut late_log = StateLog::start(&late);
    let mut checked = 0;
    for client in [&early, &late] {
        if !read_only_now(client) {
            // The early client may have been moved on meanwhile; it only counts read-only.
            continue;
        }
        checked += 1;
        assert_eq!(client.get_data("/kept").await.unwrap().0, b"data");
        assert!(matches!(
            client.create("/new", b"", &persistent()).await,
            Err(Error::NotReadOnly)
        ));
        assert!(matches!(
            client.set_data("/kept", b"x", None).await,
            Err(Error::NotReadOnly)
        ));
    }

    assert!(
        checked >= 1,
        "no client stayed read-only long enough to be checked"
    );

    // A client that does not accept read-only servers gives up after its session timeout.
    let tried = Instant::now();
    let rw = ZkClient::builder(&only)
        .unwrap()
        .session_timeout(SHORT_SESSION)
        .read_only(false);
    let refused = within_for(SHORT_SESSION + limit(5), rw.connect()).await;
    let gave_up = tried.elapsed();
    assert!(
        matches!(refused, Err(Error::ConnectionLoss)),
        "{:?}",
        refused.map(|c| c.session_id())
    );
    assert!(gave_up >= SHORT_SESSION, "gave up after {gave_up:?}");

    // The quorum comes back: the member leaves read-only mode and drops its clients, which
    // reconnect to it read-write.
    for member in ensemble.others(survivor) {
        ensemble.restart(member).await;
    }
    for (name, log) in [("early", &mut early_log), ("late", &mut late_log)] {
        log.wait_until(
            &format!("the {name} client to reach SyncConnected"),
            limit(20),
            |l| {
                reported_in_order(
                    l,
                    SessionState::ConnectedReadOnly,
                    SessionState::SyncConnected,
                ) || (name == "late" && l.contains(&SessionState::SyncConnected))
            },
        )
        .await;
    }
    early.create("/early", b"", &persistent()).await.unwrap();
    late.create("/late", b"", &persistent()).await.unwrap();
    eprintln!(
        "failover/read-only: refused after {gave_up:?}; early states {:?}; late session \
         {late_session:#x} then {:#x}, states {:?}; {:?} in all",
        early_log.states(),
        late.session_id(),
        late_log.states(),
        ensemble.elapsed()
    );
}
