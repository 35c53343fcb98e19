//! Distributed locks with `zk-lock`: workers taking turns, fencing tokens, `try_acquire`, a
//! timeout, a read/write lock, and a holder noticing that its session expired.
//!
//! ```text
//! cargo run --example lock
//! ```
//!
//! It runs on the in-memory fake ensemble by default. `--hosts host:port,...` (or the
//! `ZK_HOSTS` environment variable) runs it against a real ZooKeeper through the wire client:
//!
//! ```text
//! cargo run --example lock -- --hosts 127.0.0.1:2181
//! ```
//!
//! On a real server the session-expiry step ends the session from outside with
//! `zk_testkit::expire_session`, a test utility (this example package depends on zk-testkit);
//! in production a session expires when its client is cut off for longer than the timeout.

use std::error::Error as StdError;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use zk_core::{Coordinator, SessionState};
use zk_lock::{Lock, LockError, LossReason, ReadWriteLock};

#[path = "support/sessions.rs"]
mod sessions;
#[path = "support/target.rs"]
mod target;

use sessions::{Backend, Result, within};

/// The root of every lock path the example uses.
const ROOT: &str = "/example-locks";
/// How many workers contend for the mutex, and how many turns each takes.
const WORKERS: usize = 3;
const TURNS: usize = 2;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    sessions::main_for("lock", ROOT, run).await
}

/// The whole example, on sessions of the chosen backend (in a clean [`ROOT`]).
async fn run(backend: &Backend) -> Result<()> {
    workers_take_turns(backend).await?;
    try_and_timeout(backend).await?;
    readers_share(backend).await?;
    loss_on_expiry(backend).await?;
    Ok(())
}

/// Several workers, each with its own session, take turns on one mutex; each passes its
/// fencing token to the "storage", which refuses a token lower than one it has seen.
async fn workers_take_turns(backend: &Backend) -> Result<()> {
    println!("\n== {WORKERS} workers contend for {ROOT}/jobs");
    let path = format!("{ROOT}/jobs");
    let sessions = backend.sessions::<WORKERS>().await?;
    let inside = AtomicUsize::new(0);
    let highest_token = Mutex::new(i64::MIN);
    let work = sessions.iter().enumerate().map(|(worker, zk)| {
        let lock = Lock::new(zk.clone(), path.as_str());
        let (inside, highest_token) = (&inside, &highest_token);
        async move {
            for turn in 0..TURNS {
                let guard = within("the lock", lock.acquire()).await??;
                let token = guard.fencing_token();
                println!("worker {worker}: acquired (turn {turn}, fencing token {token})");
                if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                    return Err("two workers held the lock at once".into());
                }
                {
                    let mut highest = highest_token.lock().unwrap_or_else(|p| p.into_inner());
                    if token < *highest {
                        return Err(format!("stale token {token} after {highest}").into());
                    }
                    *highest = token;
                }
                // The protected work; the others queue meanwhile, each watching only the node
                // right before its own.
                tokio::time::sleep(Duration::from_millis(20)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                guard.release().await?;
                println!("worker {worker}: released");
            }
            Ok::<(), Box<dyn StdError>>(())
        }
    });
    for result in futures::future::join_all(work).await {
        result?;
    }
    sessions::close_all(sessions).await?;
    Ok(())
}

/// `try_acquire` never waits; `acquire_timeout` waits a bounded time and removes its node.
async fn try_and_timeout(backend: &Backend) -> Result<()> {
    println!("\n== try_acquire and acquire_timeout while someone holds the lock");
    let path = format!("{ROOT}/report");
    let (a, b) = (backend.connect().await?, backend.connect().await?);
    let holder = Lock::new(a.clone(), path.as_str());
    let other = Lock::new(b.clone(), path.as_str());
    let guard = holder.acquire().await?;
    println!(
        "session A: acquired (fencing token {})",
        guard.fencing_token()
    );

    match other.try_acquire().await? {
        None => println!("session B: try_acquire returned None at once: the lock is taken"),
        Some(_) => return Err("try_acquire got a held lock".into()),
    }
    match other.acquire_timeout(Duration::from_millis(200)).await {
        Err(e @ LockError::Timeout { .. }) => println!("session B: acquire_timeout: {e}"),
        Ok(_) => return Err("acquire_timeout got a held lock".into()),
        Err(e) => return Err(e.into()),
    }
    let contenders = holder.contenders().await?;
    println!(
        "contenders now: {} (B's timed-out attempt left no node behind)",
        contenders.len()
    );
    if contenders.len() != 1 {
        return Err(format!("expected only the holder, found {contenders:?}").into());
    }

    guard.release().await?;
    println!("session A: released");
    let next = within("the lock", other.try_acquire())
        .await??
        .ok_or("try_acquire failed on a free lock")?;
    println!(
        "session B: try_acquire now succeeds (fencing token {})",
        next.fencing_token()
    );
    next.release().await?;
    a.close().await?;
    b.close().await?;
    Ok(())
}

/// Readers share a read/write lock; a writer waits until they are gone.
async fn readers_share(backend: &Backend) -> Result<()> {
    println!("\n== a read/write lock: two readers share, a writer waits");
    let path = format!("{ROOT}/catalog");
    let sessions = backend.sessions::<3>().await?;
    let [r1, r2, w] = &sessions;
    let reader_1 = ReadWriteLock::new(r1.clone(), path.as_str());
    let reader_2 = ReadWriteLock::new(r2.clone(), path.as_str());
    let writer = ReadWriteLock::new(w.clone(), path.as_str());

    let read_1 = reader_1.read_lock().acquire().await?;
    let read_2 = within("a second reader", reader_2.read_lock().acquire()).await??;
    println!(
        "reader 1 and reader 2 both hold the read lock (shared: {} and {})",
        read_1.is_shared(),
        read_2.is_shared()
    );
    if writer.write_lock().try_acquire().await?.is_some() {
        return Err("a writer got in beside readers".into());
    }
    println!("writer: try_acquire returned None while readers hold it");

    let write_lock = writer.write_lock();
    let waiting = write_lock.acquire();
    let releases = async {
        read_1.release().await?;
        println!("reader 1: released");
        read_2.release().await?;
        println!("reader 2: released");
        Ok::<(), LockError>(())
    };
    let (written, released) =
        within("the writer", futures::future::join(waiting, releases)).await?;
    released?;
    let write = written?;
    println!(
        "writer: acquired once both readers left (exclusive: {}, fencing token {})",
        !write.is_shared(),
        write.fencing_token()
    );
    write.release().await?;
    sessions::close_all(sessions).await?;
    Ok(())
}

/// A holder learns through `lost()` that its session expired: ZooKeeper deleted its node, so
/// another client may hold the lock now, and it must stop.
async fn loss_on_expiry(backend: &Backend) -> Result<()> {
    println!("\n== a holder notices that its session expired");
    let path = format!("{ROOT}/leader");
    let zk = backend.connect().await?;
    let lock = Lock::new(zk.clone(), path.as_str());
    let guard = lock.acquire().await?;
    let lost = guard.lost();
    let old = zk.session_id();
    println!(
        "session {old:#x}: acquired (fencing token {}), watching lost()",
        guard.fencing_token()
    );

    backend.expire(old).await?;
    println!("session {old:#x}: expired from outside");
    let reason = within("the loss", lost).await?;
    // On a real server the client usually hears the disconnection first, which the default
    // policy already counts as a loss (`Suspended`); on the fake the expiry comes at once.
    println!(
        "holder: lost() resolved with {reason:?}; is_held() = {}",
        guard.is_held()
    );
    if !matches!(reason, LossReason::SessionExpired | LossReason::Suspended) || guard.is_held() {
        return Err(format!("unexpected loss {reason:?}").into());
    }
    let mut state = zk.session_state();
    within(
        "a new session",
        state.wait_for(|s| *s == SessionState::SyncConnected && zk.session_id() != old),
    )
    .await??;
    println!(
        "the handle carries on in a new session {:#x}; the old node went with the old session",
        zk.session_id()
    );
    // Releasing a lock whose session is gone does nothing, and is not an error.
    guard.release().await?;

    let again = within("the lock", lock.acquire()).await??;
    println!(
        "holder: acquired again in the new session (fencing token {})",
        again.fencing_token()
    );
    again.release().await?;
    zk.close().await?;
    Ok(())
}

sessions::example_tests!(run, ROOT);
