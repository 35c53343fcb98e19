//! A distributed semaphore with `zk-semaphore`: workers sharing two permits, `try_acquire`
//! and a timeout, the agreed permit count, and a waiter taking over the permit of a holder
//! whose session expired.
//!
//! ```text
//! cargo run --example semaphore
//! ```
//!
//! It runs on the in-memory fake ensemble by default. `--hosts host:port,...` (or the
//! `ZK_HOSTS` environment variable) runs it against a real ZooKeeper through the wire client:
//!
//! ```text
//! cargo run --example semaphore -- --hosts 127.0.0.1:2181
//! ```

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use zk_core::Coordinator;
use zk_semaphore::{LossReason, Semaphore, SemaphoreError};

#[path = "support/sessions.rs"]
mod sessions;
#[path = "support/target.rs"]
mod target;

use sessions::{Backend, Result, within};

/// The root of every semaphore path the example uses.
const ROOT: &str = "/example-semaphores";
/// How many permits the shared API allows, how many workers want them, and how many turns
/// each takes.
const PERMITS: u32 = 2;
const WORKERS: usize = 5;
const TURNS: usize = 2;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    sessions::main_for("semaphore", ROOT, run).await
}

/// The whole example, on sessions of the chosen backend (in a clean [`ROOT`]).
async fn run(backend: &Backend) -> Result<()> {
    workers_share_the_permits(backend).await?;
    try_and_timeout(backend).await?;
    everyone_agrees_on_the_count(backend).await?;
    expiry_hands_a_permit_over(backend).await?;
    Ok(())
}

/// Several workers, each with its own session, take turns calling an API that allows
/// [`PERMITS`] callers at once.
async fn workers_share_the_permits(backend: &Backend) -> Result<()> {
    println!("\n== {WORKERS} workers share {PERMITS} permits of {ROOT}/api");
    let path = format!("{ROOT}/api");
    let sessions = backend.sessions::<WORKERS>().await?;
    let inside = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    let work = sessions.iter().enumerate().map(|(worker, zk)| {
        let (inside, most, path) = (&inside, &most, path.as_str());
        async move {
            let semaphore = Semaphore::new(zk.clone(), path, PERMITS)?;
            for turn in 0..TURNS {
                let permit = within("a permit", semaphore.acquire()).await??;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                println!("worker {worker}: acquired (turn {turn}, {now} of {PERMITS} in use)");
                if now > PERMITS as usize {
                    return Err(format!("{now} workers held {PERMITS} permits").into());
                }
                // The rate-limited call; the others queue meanwhile, each watching only the
                // permits just ahead of it.
                tokio::time::sleep(Duration::from_millis(20)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                permit.release().await?;
            }
            Ok::<(), Box<dyn std::error::Error>>(())
        }
    });
    for result in futures::future::join_all(work).await {
        result?;
    }
    println!(
        "at most {} of {PERMITS} permits were in use at once",
        most.load(Ordering::SeqCst)
    );
    sessions::close_all(sessions).await?;
    Ok(())
}

/// `try_acquire` never waits; `acquire_timeout` waits a bounded time and removes its node.
async fn try_and_timeout(backend: &Backend) -> Result<()> {
    println!("\n== try_acquire and acquire_timeout while every permit is taken");
    let path = format!("{ROOT}/report");
    let sessions = backend.sessions::<3>().await?;
    let [a, b, c] = &sessions;
    let (first, second) = (
        Semaphore::new(a.clone(), path.as_str(), PERMITS)?,
        Semaphore::new(b.clone(), path.as_str(), PERMITS)?,
    );
    let other = Semaphore::new(c.clone(), path.as_str(), PERMITS)?;
    let held = [first.acquire().await?, second.acquire().await?];
    println!("sessions A and B hold both permits");
    match other.try_acquire().await? {
        None => println!("session C: try_acquire returned None at once"),
        Some(_) => return Err("try_acquire got a permit while both were taken".into()),
    }
    match other.acquire_timeout(Duration::from_millis(200)).await {
        Err(e @ SemaphoreError::Timeout { .. }) => println!("session C: acquire_timeout: {e}"),
        Ok(_) => return Err("acquire_timeout got a permit while both were taken".into()),
        Err(e) => return Err(e.into()),
    }
    let contenders = first.contenders().await?;
    println!(
        "contenders now: {} (C's attempts left no node behind)",
        contenders.len()
    );
    if contenders.len() != 2 {
        return Err(format!("expected only the holders, found {contenders:?}").into());
    }
    let [a_permit, b_permit] = held;
    a_permit.release().await?;
    println!("session A: released");
    let permit = within("a permit", other.try_acquire())
        .await??
        .ok_or("try_acquire failed with a permit free")?;
    println!(
        "session C: try_acquire now succeeds (token {})",
        permit.token()
    );
    permit.release().await?;
    b_permit.release().await?;
    sessions::close_all(sessions).await?;
    Ok(())
}

/// The permit count is stored with the semaphore; a participant with another count is turned
/// away instead of silently letting more holders in.
async fn everyone_agrees_on_the_count(backend: &Backend) -> Result<()> {
    println!("\n== every participant must agree on the number of permits");
    let path = format!("{ROOT}/exports");
    let (a, b) = (backend.connect().await?, backend.connect().await?);
    let two = Semaphore::new(a.clone(), path.as_str(), 2)?;
    let permit = two.acquire().await?;
    println!(
        "session A: acquired with 2 permits; the semaphore stores {:?}",
        two.stored_permits().await?
    );
    let three = Semaphore::new(b.clone(), path.as_str(), 3)?;
    match three.acquire().await {
        Err(e @ SemaphoreError::PermitsMismatch { .. }) => println!("session B: {e}"),
        Ok(_) => return Err("a mismatched count was accepted".into()),
        Err(e) => return Err(e.into()),
    }
    permit.release().await?;
    a.close().await?;
    b.close().await?;
    Ok(())
}

/// A holder learns through `lost()` that its session expired: ZooKeeper deleted its lease
/// node, and the waiter behind it got the permit.
async fn expiry_hands_a_permit_over(backend: &Backend) -> Result<()> {
    println!("\n== a holder's session expires; a waiter takes its permit");
    let path = format!("{ROOT}/single");
    let (holder_zk, waiter_zk) = (backend.connect().await?, backend.connect().await?);
    let holder = Semaphore::new(holder_zk.clone(), path.as_str(), 1)?;
    let waiter = Semaphore::new(waiter_zk.clone(), path.as_str(), 1)?;
    let permit = holder.acquire().await?;
    let lost = permit.lost();
    let old = holder_zk.session_id();
    println!("session {old:#x}: holds the only permit, watching lost()");
    let next = waiter.acquire();
    let takeover = async {
        backend.expire(old).await?;
        println!("session {old:#x}: expired from outside");
        let reason = within("the loss", lost).await?;
        // On a real server the client usually hears the disconnection first, which the
        // default policy already counts as a loss (`Suspended`).
        println!(
            "holder: lost() resolved with {reason:?}; is_held() = {}",
            permit.is_held()
        );
        if !matches!(reason, LossReason::SessionExpired | LossReason::Suspended) {
            return Err(format!("unexpected loss {reason:?}").into());
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    };
    let (next, takeover) = within("the waiter", futures::future::join(next, takeover)).await?;
    takeover?;
    let next = next?;
    println!(
        "waiter: acquired the freed permit (token {} > {})",
        next.token(),
        permit.token()
    );
    next.release().await?;
    // Releasing a permit whose session is gone does nothing, and is not an error.
    permit.release().await?;
    holder_zk.close().await?;
    waiter_zk.close().await?;
    Ok(())
}

sessions::example_tests!(run, ROOT);
