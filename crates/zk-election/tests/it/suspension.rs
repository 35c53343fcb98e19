//! Connection suspension: by default a suspended leader stops leading at once;
//! `OnlySessionLoss` rides a short suspension out, and still ends leadership when the session
//! expires. Mostly on the fake, which can cut one session's connection for a while; one test
//! pauses a real server of its own.

use std::time::Duration;

use zk_core::Coordinator;
use zk_election::{Candidate, CandidateOptions, LossReason, LostPolicy, Observer, RunOutcome};
use zk_fake::{FakeEnsemble, SessionOptions};
use zk_testkit::server::ZkServer;
use zk_testkit::timing::{scale, within, within_for};
use zk_testkit::{Backend, WireBackend};

const PATH: &str = "/suspended/e";

/// A session with a 10 s timeout on `ensemble`.
fn session(ensemble: &FakeEnsemble) -> zk_fake::FakeSession {
    ensemble.connect_with(SessionOptions::new().timeout(Duration::from_secs(10)))
}

#[tokio::test(start_paused = true)]
async fn by_default_a_suspended_leader_stops_at_once() {
    let ensemble = FakeEnsemble::new();
    let zk = session(&ensemble);
    let leading = Candidate::new(zk.clone(), PATH, "a")
        .campaign()
        .await
        .unwrap();
    let lost = leading.lost();
    assert!(
        ensemble
            .faults()
            .disconnect(zk.session_id(), Duration::from_secs(1))
    );
    assert_eq!(within(lost).await, LossReason::Suspended);
    assert!(!leading.is_leader());
    // The connection comes back within the session timeout: still not leader (another may have
    // been elected meanwhile, as far as this client can know).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(zk.session_state().borrow().is_connected());
    assert!(!leading.is_leader());
    // Resigning removes the node the surviving session still owns, so others can lead.
    leading.resign().await.unwrap();
    assert_eq!(Observer::new(zk, PATH).leader().await.unwrap(), None);
}

#[tokio::test(start_paused = true)]
async fn run_stops_its_work_when_the_connection_is_suspended() {
    let ensemble = FakeEnsemble::new();
    let zk = session(&ensemble);
    let candidate = Candidate::new(zk.clone(), PATH, "runner");
    let id = zk.session_id();
    let outcome = candidate
        .run(|_| async {
            assert!(ensemble.faults().disconnect(id, Duration::from_secs(1)));
            std::future::pending::<()>().await
        })
        .await
        .unwrap();
    assert_eq!(outcome, RunOutcome::Lost(LossReason::Suspended));
    // Once reconnected, the node left behind is removed in the background.
    let observer = Observer::new(session(&ensemble), PATH);
    within(async {
        while observer.leader().await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn only_session_loss_rides_out_a_suspension_but_not_expiry() {
    let ensemble = FakeEnsemble::new();
    let zk = session(&ensemble);
    let tolerant = CandidateOptions::new().lost_policy(LostPolicy::OnlySessionLoss);
    let candidate = Candidate::with_options(zk.clone(), PATH, "a", tolerant);
    let leading = candidate.campaign().await.unwrap();
    let lost = tokio::spawn(leading.lost());
    assert!(
        ensemble
            .faults()
            .disconnect(zk.session_id(), Duration::from_secs(3))
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!zk.session_state().borrow().is_connected(), "suspended");
    assert!(leading.is_leader(), "a suspension is tolerated");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(zk.session_state().borrow().is_connected(), "back");
    assert!(leading.is_leader());
    assert!(!lost.is_finished());

    // Cut for longer than the session timeout: the session expires, and leadership with it,
    // which the client learns when it reaches a server again.
    let old = zk.session_id();
    assert!(ensemble.faults().disconnect(old, Duration::from_secs(12)));
    let reason = within_for(Duration::from_secs(60), lost).await.unwrap();
    assert_eq!(reason, LossReason::SessionExpired);
    assert!(!leading.is_leader());
    let mut state = zk.session_state();
    within(state.wait_for(|s| s.is_connected() && zk.session_id() != old))
        .await
        .unwrap();
    assert!(!leading.is_leader(), "never leader again after expiry");
    assert_eq!(Observer::new(zk, PATH).leader().await.unwrap(), None);
}

/// A real server that stops answering (paused with SIGSTOP, a server of this test's own) for
/// less than the session timeout: the default leader stops as soon as its client suspends the
/// connection, the tolerant one leads on in the same session once the server is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_stops_the_default_leader_but_not_the_tolerant_one() {
    let server = ZkServer::start().unwrap_or_else(|e| panic!("{e}"));
    // The client suspends after two thirds of the timeout without a reply (6 s), and the
    // server expires the session after the whole of it: 3 s to resume and reconnect.
    let backend =
        WireBackend::new(server.connect_string()).with_session_timeout(Duration::from_secs(9));
    let (strict_zk, tolerant_zk) = (backend.connect().await, backend.connect().await);
    let strict = Candidate::new(strict_zk.clone(), "/strict", "s")
        .campaign()
        .await
        .unwrap();
    let tolerant = CandidateOptions::new().lost_policy(LostPolicy::OnlySessionLoss);
    let tolerant = Candidate::with_options(tolerant_zk.clone(), "/tolerant", "t", tolerant)
        .campaign()
        .await
        .unwrap();
    let (strict_lost, tolerant_lost) = (strict.lost(), tokio::spawn(tolerant.lost()));
    let session = tolerant_zk.session_id();

    // Both sessions talk to the server right before the pause, so the server's clock for the
    // tolerant session and the strict client's read timeout start together: without this, the
    // tolerant session's last ping could be up to a third of the timeout older, and resuming
    // when the strict client suspends could land on its expiry.
    strict_zk.exists("/").await.unwrap();
    tolerant_zk.exists("/").await.unwrap();
    server.pause().unwrap();
    let reason = within_for(Duration::from_secs(20).mul_f64(scale()), strict_lost).await;
    server.resume().unwrap();
    assert_eq!(reason, LossReason::Suspended);
    assert!(!strict.is_leader());
    assert!(tolerant.is_leader(), "a suspension is tolerated");

    let mut state = tolerant_zk.session_state();
    within(state.wait_for(|s| s.is_connected())).await.unwrap();
    assert_eq!(tolerant_zk.session_id(), session, "the session survived");
    assert!(tolerant.is_leader());
    assert!(!tolerant_lost.is_finished());
    assert!(!strict.is_leader(), "not leader again once reconnected");
    // The strict leader's node outlived the suspension; resigning removes it.
    strict.resign().await.unwrap();
    assert_eq!(
        Observer::new(strict_zk.clone(), "/strict")
            .leader()
            .await
            .unwrap(),
        None
    );
    tolerant.resign().await.unwrap();
    assert_eq!(within(tolerant_lost).await.unwrap(), LossReason::Released);
    strict_zk.close().await.unwrap();
    tolerant_zk.close().await.unwrap();
}
