//! `lock`, `semaphore` and `elect`: run a command while holding a lock, one of N permits or
//! the leadership of an election, and stop it if that is lost (like `consul lock` or `etcdctl
//! lock`, which does not stop it); and `elect --observe`, which follows the leader.
//!
//! Each takes its hold first (printing one `zkctl: waiting ...` line on standard error when
//! someone is ahead), runs the command with [`child::run_while`], then gives the hold up and
//! closes the session, whichever way the command ended. The command's environment says what
//! it runs under:
//! - `lock`: `ZK_LOCK_PATH` (the lock path, as given), `ZK_LOCK_NODE` (this holder's node
//!   under it) and `ZK_FENCING_TOKEN` (that node's czxid, which grows from holder to holder);
//! - `semaphore`: `ZK_SEMAPHORE_PATH` (as given) and `ZK_PERMIT` (the permit's lease node);
//! - `elect`: `ZK_ELECTION_PATH` (as given), `ZK_LEADER_ID` (the `--id`) and `ZK_LEADER_TERM`
//!   (the term, a fencing token).
//!
//! A loss is anything that makes the hold unsafe: the session expired, the node was deleted,
//! or the connection was suspended (the session may have expired at the server already).
//! SIGINT or SIGTERM while waiting gives up the wait and exits with 128+N.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;
use zk_contender::until;
use zk_core::client::ZkClient;
use zk_election::{Candidate, ElectionError, Leadership, Observer, Participant};
use zk_lock::{Lock, LockError, LockGuard, LockOptions, LossReason, Naming};
use zk_semaphore::{Permit, Semaphore, SemaphoreError};

use crate::child::{self, Signals};
use crate::cli::{ChildArgs, ElectArgs, Global, LockArgs, NamingArg, SemaphoreArgs};
use crate::exit::{CliError, LOST, OTHER, Outcome, TIMED_OUT, UNAVAILABLE};
use crate::session;

/// `lock PATH -- CMD`: runs the command while holding the lock.
pub(crate) async fn lock(global: &Global, args: LockArgs) -> Outcome {
    let zk = session::connect(global).await?;
    let outcome = hold_lock(&zk, global, &args).await;
    session::finish(zk, outcome).await
}

/// `semaphore PATH -n N -- CMD`: runs the command while holding one of the N permits.
pub(crate) async fn semaphore(global: &Global, args: SemaphoreArgs) -> Outcome {
    let zk = session::connect(global).await?;
    let outcome = hold_permit(&zk, global, &args).await;
    session::finish(zk, outcome).await
}

/// `elect PATH --id ID -- CMD`: campaigns and runs the command while leading;
/// `elect PATH --observe`: prints the leader and each change.
pub(crate) async fn elect(global: &Global, args: ElectArgs) -> Outcome {
    if args.observe {
        if !args.command.is_empty() {
            return Err(CliError::usage("elect --observe runs no command"));
        }
        let zk = session::connect(global).await?;
        let outcome = observe(&zk, global, &args).await;
        return session::finish(zk, outcome).await;
    }
    let Some(id) = args.id.clone() else {
        return Err(CliError::usage("elect needs --id ID (or --observe)"));
    };
    if args.command.is_empty() {
        return Err(CliError::usage(
            "elect needs a command to run after -- (or --observe to follow the leader)",
        ));
    }
    let zk = session::connect(global).await?;
    let outcome = lead(&zk, global, &args, id).await;
    session::finish(zk, outcome).await
}

/// Takes the lock, runs the command, releases.
async fn hold_lock(zk: &ZkClient, global: &Global, args: &LockArgs) -> Outcome {
    let mut signals = Signals::new()?;
    let options = LockOptions::new().naming(naming(args.naming));
    let lock = Lock::with_options(zk.clone(), args.path.as_str(), options);
    let what = format!("the lock on {}", args.path);
    let guard = unless_asked(&mut signals, &what, take_lock(&lock, args.timeout)).await?;
    let env = [
        ("ZK_LOCK_PATH", args.path.clone()),
        ("ZK_LOCK_NODE", guard.node_path().to_owned()),
        ("ZK_FENCING_TOKEN", guard.fencing_token().to_string()),
    ];
    let hold = Hold {
        what,
        held: guard.is_held(),
        lost: guard.lost(),
        release: guard.release(),
    };
    run_held(global, &mut signals, &args.child, &env, hold).await
}

/// Takes a permit, runs the command, releases.
async fn hold_permit(zk: &ZkClient, global: &Global, args: &SemaphoreArgs) -> Outcome {
    let mut signals = Signals::new()?;
    let semaphore =
        Semaphore::new(zk.clone(), args.path.as_str(), args.permits).map_err(semaphore_error)?;
    let what = format!("a permit of {}", args.path);
    let permit = unless_asked(&mut signals, &what, take_permit(&semaphore, args.timeout)).await?;
    let env = [
        ("ZK_SEMAPHORE_PATH", args.path.clone()),
        ("ZK_PERMIT", permit.node_path().to_owned()),
    ];
    let hold = Hold {
        what,
        held: permit.is_held(),
        lost: permit.lost(),
        release: permit.release(),
    };
    run_held(global, &mut signals, &args.child, &env, hold).await
}

/// Campaigns, runs the command while leading, resigns.
async fn lead(zk: &ZkClient, global: &Global, args: &ElectArgs, id: String) -> Outcome {
    let mut signals = Signals::new()?;
    let candidate = Candidate::new(zk.clone(), args.path.as_str(), id.as_str());
    let what = format!("the leadership of {}", args.path);
    let leadership = unless_asked(&mut signals, &what, campaign(&candidate)).await?;
    let env = [
        ("ZK_ELECTION_PATH", args.path.clone()),
        ("ZK_LEADER_ID", id),
        ("ZK_LEADER_TERM", leadership.term().to_string()),
    ];
    let child = ChildArgs {
        grace: args.grace,
        command: args.command.clone(),
    };
    let hold = Hold {
        what,
        held: leadership.is_leader(),
        lost: leadership.lost(),
        release: leadership.resign(),
    };
    run_held(global, &mut signals, &child, &env, hold).await
}

/// Something held (a lock, a permit, a leadership), as the command runs under it.
struct Hold<L, R> {
    /// What it is, for messages: `the lock on /x`.
    what: String,
    /// Whether it was still held just before the command started.
    held: bool,
    /// Resolves when it is lost, with the reason.
    lost: L,
    /// Lets it go (not started until awaited).
    release: R,
}

/// Runs the command under `hold` (not at all if it was lost already: [`LOST`]), then lets
/// the hold go: waits for its release (removing the node, so the next in line goes on at once)
/// for at most a session timeout. Once the hold was lost there is nothing to wait for: the
/// session that held it has ended, or the connection is down and the node goes when the
/// session does; the release is dropped, which removes the node in the background, and
/// closing the session, which comes next, removes it too.
async fn run_held<E>(
    global: &Global,
    signals: &mut Signals,
    child: &ChildArgs,
    env: &[(&str, String)],
    hold: Hold<impl Future<Output = LossReason>, impl Future<Output = Result<(), E>>>,
) -> Outcome {
    let Hold {
        what,
        held,
        lost,
        release,
    } = hold;
    let outcome = if held {
        let lost = async move { format!("lost {what} ({})", why(lost.await)) };
        child::run_while(child, env, signals, lost).await
    } else {
        Err(not_run(&what, lost.await))
    };
    if !matches!(&outcome, Err(e) if e.code == LOST) {
        // A failure leaves the node to the session's close.
        let _ = tokio::time::timeout(global.session_timeout, release).await;
    }
    outcome
}

/// Waits for `taking` unless zkctl is asked to end first (SIGINT, SIGTERM): then fails with
/// 128+N, dropping the attempt (which removes its node; closing the session would too).
async fn unless_asked<T>(
    signals: &mut Signals,
    what: &str,
    taking: impl Future<Output = Result<T, CliError>>,
) -> Result<T, CliError> {
    tokio::select! {
        taken = taking => taken,
        signal = signals.recv() => Err(CliError::new(
            child::signal_code(signal),
            format!("interrupted ({signal}) while waiting for {what}"),
        )),
    }
}

/// The lock, at once if nobody is ahead; else after a line saying how many are, waiting at
/// most `timeout`.
async fn take_lock(
    lock: &Lock<ZkClient>,
    timeout: Option<Duration>,
) -> Result<LockGuard<ZkClient>, CliError> {
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    let timed_out = || timed_out(timeout, &format!("the lock on {}", lock.path()));
    let tried = until(deadline, lock.try_acquire())
        .await
        .ok_or_else(timed_out)?;
    if let Some(guard) = tried.map_err(lock_error)? {
        return Ok(guard);
    }
    let ahead = until(deadline, lock.contenders()).await;
    waiting(
        &format!("lock {}", lock.path()),
        ahead.and_then(Result::ok).map(|c| c.len()),
    );
    let taken = match deadline {
        Some(deadline) => lock.acquire_timeout(remaining(deadline)).await,
        None => lock.acquire().await,
    };
    taken.map_err(|e| match e {
        LockError::Timeout { .. } => timed_out(),
        e => lock_error(e),
    })
}

/// A permit, as [`take_lock`] takes the lock.
async fn take_permit(
    semaphore: &Semaphore<ZkClient>,
    timeout: Option<Duration>,
) -> Result<Permit<ZkClient>, CliError> {
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    let timed_out = || timed_out(timeout, &format!("a permit of {}", semaphore.path()));
    let tried = until(deadline, semaphore.try_acquire())
        .await
        .ok_or_else(timed_out)?;
    if let Some(permit) = tried.map_err(semaphore_error)? {
        return Ok(permit);
    }
    let ahead = until(deadline, semaphore.contenders()).await;
    waiting(
        &format!(
            "a permit of {} ({} permits)",
            semaphore.path(),
            semaphore.permits()
        ),
        ahead.and_then(Result::ok).map(|c| c.len()),
    );
    let taken = match deadline {
        Some(deadline) => semaphore.acquire_timeout(remaining(deadline)).await,
        None => semaphore.acquire().await,
    };
    taken.map_err(|e| match e {
        SemaphoreError::Timeout { .. } => timed_out(),
        e => semaphore_error(e),
    })
}

/// The leadership, at once if nobody leads or waits; else after a line saying who leads and
/// how many candidates are ahead.
async fn campaign(candidate: &Candidate<ZkClient>) -> Result<Leadership<ZkClient>, CliError> {
    if let Some(leadership) = candidate.try_campaign().await.map_err(election_error)? {
        return Ok(leadership);
    }
    let path = candidate.path();
    match candidate.observer().candidates().await {
        Ok(ahead) => match ahead.first() {
            Some(leader) => eprintln!(
                "zkctl: waiting to lead {path}: {} ahead (leader: {})",
                ahead.len(),
                leader.id
            ),
            None => eprintln!("zkctl: waiting to lead {path}"),
        },
        Err(_) => eprintln!("zkctl: waiting to lead {path}"),
    }
    candidate.campaign().await.map_err(election_error)
}

/// `elect --observe`: prints the leader (`none` when nobody leads), then each change, until
/// `--count` changes were printed or zkctl gets SIGINT or SIGTERM (exit 0 either way).
async fn observe(zk: &ZkClient, global: &Global, args: &ElectArgs) -> Outcome {
    let mut signals = Signals::new()?;
    let observer = Observer::new(zk.clone(), args.path.as_str());
    let mut leader = tokio::select! {
        leader = observer.watch_leader() => leader.map_err(election_error)?,
        _ = signals.recv() => return Ok(0),
    };
    let mut shown = leader.borrow_and_update().clone();
    if !print_leader(shown.as_ref(), global.json)? {
        return Ok(0);
    }
    let mut changes = 0;
    while args.count.is_none_or(|count| changes < count) {
        tokio::select! {
            changed = leader.changed() => if changed.is_err() {
                return Err(CliError::new(
                    UNAVAILABLE,
                    format!("stopped following the election on {}: the session ended", args.path),
                ));
            },
            _ = signals.recv() => return Ok(0),
        }
        let now = leader.borrow_and_update().clone();
        // A change of the leader's data alone is no change of leader.
        if now.as_ref().map(|p| p.term) == shown.as_ref().map(|p| p.term) {
            continue;
        }
        if !print_leader(now.as_ref(), global.json)? {
            return Ok(0);
        }
        shown = now;
        changes += 1;
    }
    Ok(0)
}

/// Prints one line for `leader`: its id or `none`, or `{"leader": id or null}` in JSON, and
/// flushes it; `false` when standard output was closed (nobody reads on: stop quietly).
///
/// # Errors
/// Writing standard output failed otherwise.
fn print_leader(leader: Option<&Participant>, json: bool) -> Result<bool, CliError> {
    let id = leader.map(|p| p.id.as_str());
    let line = if json {
        json!({ "leader": id }).to_string()
    } else {
        id.unwrap_or("none").to_owned()
    };
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(CliError::other(format!("writing standard output: {e}"))),
    }
}

/// Prints the waiting line for `what`, with how many are ahead when known (and some are).
fn waiting(what: &str, ahead: Option<usize>) {
    match ahead {
        Some(ahead) if ahead > 0 => eprintln!("zkctl: waiting for {what}: {ahead} ahead"),
        _ => eprintln!("zkctl: waiting for {what}"),
    }
}

/// The time left until `deadline` (zero once it passed).
fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// The failure of a wait for `what` that ran out of `timeout`.
fn timed_out(timeout: Option<Duration>, what: &str) -> CliError {
    let waited = timeout.map_or_else(String::new, |t| {
        format!(" after {}", humantime::format_duration(t))
    });
    CliError::new(TIMED_OUT, format!("timed out{waited} waiting for {what}"))
}

/// The failure when the hold was lost before the command could start.
fn not_run(what: &str, reason: LossReason) -> CliError {
    CliError::new(
        LOST,
        format!(
            "lost {what} ({}) before the command started; it was not run",
            why(reason)
        ),
    )
}

/// Why a hold was lost, in words.
fn why(reason: LossReason) -> &'static str {
    match reason {
        LossReason::SessionExpired => "the session expired",
        LossReason::NodeDeleted => "its node was deleted",
        LossReason::Suspended => {
            "the connection to ZooKeeper was suspended, so the session may have expired"
        }
        LossReason::Closed => "the session was closed",
        LossReason::Released => "it was released",
        _ => "it is no longer held safely",
    }
}

/// zk-lock's naming for `--naming`.
fn naming(arg: NamingArg) -> Naming {
    match arg {
        NamingArg::Native => Naming::Native,
        NamingArg::Kazoo => Naming::Kazoo,
        NamingArg::Curator => Naming::Curator,
    }
}

/// The failure of a lock operation. (A timeout is reported by the caller, who knows how long
/// it waited.)
fn lock_error(error: LockError) -> CliError {
    match error {
        LockError::Zk(e) => e.into(),
        e => CliError::new(OTHER, e.to_string()),
    }
}

/// The failure of a semaphore operation.
fn semaphore_error(error: SemaphoreError) -> CliError {
    match error {
        SemaphoreError::Zk(e) => e.into(),
        SemaphoreError::PermitsMismatch {
            path, ours, stored, ..
        } => CliError::usage(format!(
            "the semaphore at {path} has {stored} permits, not {ours}: every user must give the same -n"
        )),
        e @ SemaphoreError::InvalidPermits { .. } => CliError::usage(e.to_string()),
        e => CliError::new(OTHER, e.to_string()),
    }
}

/// The failure of an election operation.
fn election_error(error: ElectionError) -> CliError {
    match error {
        ElectionError::Zk(e) => e.into(),
        e @ ElectionError::InvalidId { .. } => CliError::usage(e.to_string()),
        ElectionError::Timeout { path } => {
            CliError::new(TIMED_OUT, format!("timed out waiting to lead {path}"))
        }
        e => CliError::new(OTHER, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_map_to_documented_codes() {
        let timeout = LockError::Timeout { path: "/l".into() };
        assert_eq!(
            lock_error(timeout).code,
            OTHER,
            "the caller reports timeouts"
        );
        let no_auth = zk_core::Error::NoAuth { path: "/l".into() };
        assert_eq!(lock_error(LockError::Zk(no_auth)).code, crate::exit::DENIED);
        let mismatch = SemaphoreError::PermitsMismatch {
            path: "/s".into(),
            ours: 2,
            stored: 3,
        };
        assert_eq!(semaphore_error(mismatch).code, crate::exit::USAGE);
        assert_eq!(
            timed_out(Some(Duration::from_millis(500)), "the lock on /l"),
            CliError::new(
                TIMED_OUT,
                "timed out after 500ms waiting for the lock on /l"
            )
        );
        assert_eq!(
            not_run("the lock on /l", LossReason::SessionExpired).code,
            LOST
        );
    }
}
