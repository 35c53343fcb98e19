//! Leader election with `zk-election`: candidates taking turns to lead, terms as fencing
//! tokens, an observer following the leader, work that stops when leadership is lost, and
//! `try_campaign` / `campaign_timeout`.
//!
//! ```text
//! cargo run --example election
//! ```
//!
//! It runs on the in-memory fake ensemble by default. `--hosts host:port,...` (or the
//! `ZK_HOSTS` environment variable) runs it against a real ZooKeeper through the wire client:
//!
//! ```text
//! cargo run --example election -- --hosts 127.0.0.1:2181
//! ```
//!
//! On a real server the session-expiry step ends the session from outside with
//! `zk_testkit::expire_session`, a test utility; in production a session expires when its
//! client is cut off for longer than the timeout.

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use zk_core::Coordinator;
use zk_election::{Candidate, CandidateOptions, ElectionError, Observer, RunOutcome};

#[path = "support/sessions.rs"]
mod sessions;
#[path = "support/target.rs"]
mod target;

use sessions::{Backend, Result, within};

/// The root of every election path the example uses.
const ROOT: &str = "/example-elections";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    sessions::main_for("election", ROOT, run).await
}

/// The whole example, on sessions of the chosen backend (in a clean [`ROOT`]).
async fn run(backend: &Backend) -> Result<()> {
    leaders_take_turns(backend).await?;
    loss_on_expiry(backend).await?;
    try_and_timeout(backend).await?;
    Ok(())
}

/// The "storage" a leader writes to: it refuses a term lower than one it has seen, so a
/// leader that lost its leadership without noticing cannot undo its successor's work.
#[derive(Default)]
struct Storage {
    highest_term: Mutex<i64>,
}

impl Storage {
    fn write(&self, who: &str, term: i64) -> Result<()> {
        let mut highest = self.highest_term.lock().unwrap_or_else(|p| p.into_inner());
        if term < *highest {
            return Err(format!("{who}: stale term {term} after {highest}").into());
        }
        *highest = term;
        println!("storage: accepted a write from {who} in term {term}");
        Ok(())
    }
}

/// Three services, each with its own session, run their leader-only work in turn; an
/// observer that never campaigns follows the leader meanwhile.
async fn leaders_take_turns(backend: &Backend) -> Result<()> {
    let path = format!("{ROOT}/scheduler");
    println!("\n== three services campaign on {path}");
    let observer = Observer::new(backend.connect().await?, path.as_str());
    let mut leader = observer.watch_leader().await?;
    let mut nobody = leader.clone();
    let follow = tokio::spawn(async move {
        while leader.changed().await.is_ok() {
            if let Some(now) = leader.borrow_and_update().clone() {
                println!("observer: the leader is now {} (term {})", now.id, now.term);
            }
        }
    });

    let sessions = backend.sessions::<3>().await?;
    let candidates: Vec<_> = (1..)
        .zip(&sessions)
        .map(|(n, zk)| {
            let options = CandidateOptions::new().data(format!("10.0.0.{n}:7000"));
            Candidate::with_options(zk.clone(), path.as_str(), format!("service-{n}"), options)
        })
        .collect();
    let first = candidates[0].campaign().await?;
    println!("{}: elected (term {})", first.id(), first.term());
    let mut waiting = Vec::new();
    for candidate in &candidates[1..] {
        let candidate = candidate.clone();
        waiting.push(tokio::spawn(async move { candidate.campaign().await }));
        // Queue them in order, for a predictable walkthrough.
        within("a candidate to queue", async {
            while observer.candidates().await?.len() < waiting.len() + 1 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok::<(), ElectionError>(())
        })
        .await??;
    }
    for p in observer.candidates().await? {
        println!(
            "candidate {} with sequence {} (node {}, data {:?})",
            p.id,
            p.sequence,
            p.node,
            String::from_utf8_lossy(&p.data)
        );
    }

    let storage = Storage::default();
    storage.write(first.id(), first.term())?;
    first.resign().await?;
    println!("service-1: resigned");
    for campaign in waiting {
        let leading = within("the next leader", campaign).await???;
        println!("{}: elected (term {})", leading.id(), leading.term());
        storage.write(leading.id(), leading.term())?;
        let id = leading.id().to_owned();
        leading.resign().await?;
        println!("{id}: resigned");
    }

    // `run` does the same in one call: campaign, work while leading, resign.
    let outcome = candidates[0]
        .run(|term| async move {
            println!("service-1: running as leader again in term {term}");
            term
        })
        .await?;
    match outcome {
        RunOutcome::Finished(term) => storage.write("service-1", term)?,
        RunOutcome::Lost(reason) => return Err(format!("lost: {reason:?}").into()),
    }
    sessions::close_all(sessions).await?;
    within(
        "the observer to see nobody lead",
        nobody.wait_for(Option::is_none),
    )
    .await??;
    drop(observer);
    follow.abort();
    Ok(())
}

/// A leader's session expires while it works: `run` drops the work and says why, and the next
/// candidate takes over with a higher term.
async fn loss_on_expiry(backend: &Backend) -> Result<()> {
    let path = format!("{ROOT}/indexer");
    println!("\n== a leader's session expires while it works");
    let zk = backend.connect().await?;
    let leader = Candidate::new(zk.clone(), path.as_str(), "indexer-a");
    let standby = Candidate::new(backend.connect().await?, path.as_str(), "indexer-b");
    let (started, elected) = tokio::sync::oneshot::channel();
    let work = tokio::spawn(async move {
        leader
            .run(|term| async move {
                let _ = started.send(term);
                // Leader-only work that never ends by itself.
                std::future::pending::<()>().await
            })
            .await
    });
    let term = within("the first leader", elected).await??;
    println!("indexer-a: leading in term {term}, working");
    let next = tokio::spawn(async move { standby.campaign().await });

    let old = zk.session_id();
    backend.expire(old).await?;
    println!("session {old:#x}: expired from outside");
    match within("the loss", work).await??? {
        // On a real server the client usually hears the disconnection first, which the
        // default policy already counts as a loss (`Suspended`); on the fake the expiry comes
        // at once.
        RunOutcome::Lost(reason) => {
            println!("indexer-a: run returned Lost({reason:?}); its work was dropped")
        }
        RunOutcome::Finished(()) => return Err("the work cannot finish".into()),
    }
    let leading = within("the standby", next).await???;
    println!("indexer-b: elected (term {}, after {term})", leading.term());
    if leading.term() <= term {
        return Err("terms must grow".into());
    }
    leading.resign().await?;
    zk.close().await?;
    Ok(())
}

/// `try_campaign` never waits; `campaign_timeout` waits a bounded time and removes its node.
async fn try_and_timeout(backend: &Backend) -> Result<()> {
    let path = format!("{ROOT}/reporter");
    println!("\n== try_campaign and campaign_timeout while someone leads");
    let a = Candidate::new(backend.connect().await?, path.as_str(), "reporter-a");
    let b = Candidate::new(backend.connect().await?, path.as_str(), "reporter-b");
    let leading = a.campaign().await?;
    println!("reporter-a: elected (term {})", leading.term());
    if b.try_campaign().await?.is_some() {
        return Err("try_campaign won a held election".into());
    }
    println!("reporter-b: try_campaign returned None at once");
    match b.campaign_timeout(Duration::from_millis(200)).await {
        Err(e @ ElectionError::Timeout { .. }) => println!("reporter-b: campaign_timeout: {e}"),
        Ok(_) => return Err("campaign_timeout won a held election".into()),
        Err(e) => return Err(e.into()),
    }
    let standing = a.observer().candidates().await?.len();
    println!("candidates now: {standing} (b's attempts left no node behind)");
    if standing != 1 {
        return Err(format!("expected only the leader, found {standing}").into());
    }
    leading.resign().await?;
    let next = b
        .try_campaign()
        .await?
        .ok_or("try_campaign failed on a free election")?;
    println!("reporter-b: try_campaign now wins (term {})", next.term());
    next.resign().await?;
    Ok(())
}

sessions::example_tests!(run, ROOT);
