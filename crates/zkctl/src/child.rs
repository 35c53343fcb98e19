//! Running a command under a held lock, permit or leadership: the supervision `lock`,
//! `semaphore` and `elect` share.
//!
//! [`run_while`] starts the command (standard input, output and error inherited, extra
//! environment variables added) and waits for the first of three things:
//! - the command ends: its exit code is passed on (128+N when signal N killed it);
//! - the hold is lost: the command gets SIGTERM, then SIGKILL after `--grace`, and zkctl fails
//!   with [`LOST`] and one line saying why;
//! - zkctl gets SIGINT or SIGTERM ([`Signals`]): the command gets SIGTERM (SIGKILL after the
//!   grace, or at once on a second signal), and its exit code is passed on.
//!
//! The caller releases what it held afterwards in every case.
//!
//! Which processes the signals reach: when standard input is not a terminal (a script, cron,
//! a service manager), the command runs in a process group of its own and the signals go to
//! the whole group, so the work a shell script started stops too, not just the shell (as
//! coreutils' `timeout` does). At a terminal the command stays in zkctl's foreground group,
//! so it can read the terminal and gets Ctrl-C itself; the signals then go to it alone
//! (`exec` the real work from a wrapper script to have it signalled).

use std::future::Future;
use std::io::{self, IsTerminal};
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::signal::unix::{self, SignalKind};

use crate::cli::ChildArgs;
use crate::exit::{CANNOT_RUN, CliError, LOST, NOT_FOUND, OTHER, Outcome};

/// SIGINT and SIGTERM sent to zkctl, caught instead of ending it, so that it can stop its
/// command and give up what it holds first.
///
/// Once made, the process no longer dies of these signals (tokio keeps its handlers for the
/// process's life): every wait after that must listen to [`Signals::recv`].
#[derive(Debug)]
pub(crate) struct Signals {
    /// SIGINT (Ctrl-C).
    interrupt: unix::Signal,
    /// SIGTERM.
    terminate: unix::Signal,
}

impl Signals {
    /// Starts catching SIGINT and SIGTERM.
    ///
    /// # Errors
    /// The handlers cannot be installed (no tokio runtime with signals enabled).
    pub(crate) fn new() -> Result<Signals, CliError> {
        let catch = |kind: SignalKind| {
            unix::signal(kind)
                .map_err(|e| CliError::other(format!("cannot catch SIGINT and SIGTERM: {e}")))
        };
        Ok(Signals {
            interrupt: catch(SignalKind::interrupt())?,
            terminate: catch(SignalKind::terminate())?,
        })
    }

    /// Resolves with the next SIGINT or SIGTERM zkctl gets.
    pub(crate) async fn recv(&mut self) -> Signal {
        tokio::select! {
            Some(()) = self.interrupt.recv() => Signal::SIGINT,
            Some(()) = self.terminate.recv() => Signal::SIGTERM,
            else => std::future::pending().await,
        }
    }
}

/// The conventional exit code of a process ended by `signal`: 128+N.
pub(crate) fn signal_code(signal: Signal) -> u8 {
    u8::try_from(128 + signal as i32).unwrap_or(u8::MAX)
}

/// The exit code that passes on how the command ended: its own exit code, or 128+N when
/// signal N killed it.
pub(crate) fn exit_code(status: ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return u8::try_from(code).unwrap_or(OTHER);
    }
    match status.signal() {
        Some(signal) => u8::try_from(128 + signal).unwrap_or(u8::MAX),
        None => OTHER,
    }
}

/// Why the command `program` could not be started, with the shell's codes: not found (127),
/// or found but not runnable (126: no permission, not an executable, ...).
pub(crate) fn spawn_error(program: &str, error: &io::Error) -> CliError {
    match error.kind() {
        io::ErrorKind::NotFound => {
            CliError::new(NOT_FOUND, format!("{program}: command not found"))
        }
        io::ErrorKind::PermissionDenied => {
            CliError::new(CANNOT_RUN, format!("{program}: permission denied"))
        }
        _ => CliError::new(CANNOT_RUN, format!("cannot run {program}: {error}")),
    }
}

/// How the command ended, in words for the line about a loss.
fn describe(status: &io::Result<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("it exited with {code}"),
            (None, Some(signal)) => match Signal::try_from(signal) {
                Ok(signal) => format!("it was killed by {signal}"),
                Err(_) => format!("it was killed by signal {signal}"),
            },
            (None, None) => "it ended".to_owned(),
        },
        Err(e) => format!("waiting for it failed: {e}"),
    }
}

/// The running command, and whether it leads a process group of its own.
struct Running {
    /// The command's process.
    process: Child,
    /// Whether signals go to its whole process group.
    group: bool,
}

impl Running {
    /// Sends `signal` to the command (its group, if it has one), unless it was reaped already
    /// (so its PID, which is its group's id, cannot have been reused); a process that just
    /// ended is not an error.
    fn signal(&self, signal: Signal) {
        let Some(pid) = self.process.id().and_then(|pid| i32::try_from(pid).ok()) else {
            return;
        };
        let pid = Pid::from_raw(pid);
        let _ = if self.group {
            killpg(pid, signal)
        } else {
            kill(pid, signal)
        };
    }
}

/// Why the command is being stopped.
enum Stop {
    /// The hold was lost; the line says how.
    Lost(String),
    /// zkctl was asked to end.
    Asked,
}

/// Runs `child.command` with `env` added to the environment until it ends or `lost`
/// resolves (with a line saying what was lost and why), stopping it in the latter case and
/// when zkctl gets SIGINT or SIGTERM (see the module docs). The command gets a process group
/// of its own, which the signals go to, unless standard input is a terminal.
///
/// # Errors
/// [`LOST`] when `lost` resolved first (the command was stopped); [`NOT_FOUND`] and
/// [`CANNOT_RUN`] when the command cannot be started; an empty command is bad usage.
pub(crate) async fn run_while(
    child: &ChildArgs,
    env: &[(&str, String)],
    signals: &mut Signals,
    lost: impl Future<Output = String>,
) -> Outcome {
    let group = !io::stdin().is_terminal();
    run_in(child, env, signals, lost, group).await
}

/// [`run_while`], with the command in a process group of its own if `group`.
async fn run_in(
    child: &ChildArgs,
    env: &[(&str, String)],
    signals: &mut Signals,
    lost: impl Future<Output = String>,
    group: bool,
) -> Outcome {
    let Some((program, args)) = child.command.split_first() else {
        return Err(CliError::usage("no command to run: give it after --"));
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(name, value)| (name, value)))
        // If zkctl itself fails midway, the command must not outlive what it held.
        .kill_on_drop(true);
    if group {
        command.process_group(0);
    }
    let process = command.spawn().map_err(|e| spawn_error(program, &e))?;
    let mut running = Running { process, group };
    let stop = tokio::select! {
        status = running.process.wait() => {
            return status
                .map(exit_code)
                .map_err(|e| CliError::other(format!("waiting for {program}: {e}")));
        }
        why = lost => Stop::Lost(why),
        _ = signals.recv() => Stop::Asked,
    };
    let status = stop_process(&mut running, child.grace, signals).await;
    match stop {
        Stop::Lost(why) => Err(CliError::new(
            LOST,
            format!("{why}; stopped {program}: {}", describe(&status)),
        )),
        Stop::Asked => status
            .map(exit_code)
            .map_err(|e| CliError::other(format!("waiting for {program}: {e}"))),
    }
}

/// Sends SIGTERM to the command, waits at most `grace` (or until zkctl is asked again to end)
/// for it to end, then SIGKILLs it; returns how it ended.
async fn stop_process(
    running: &mut Running,
    grace: Duration,
    signals: &mut Signals,
) -> io::Result<ExitStatus> {
    running.signal(Signal::SIGTERM);
    let ended = tokio::select! {
        status = running.process.wait() => Some(status),
        () = tokio::time::sleep(grace) => None,
        _ = signals.recv() => None,
    };
    match ended {
        Some(status) => status,
        None => {
            running.signal(Signal::SIGKILL);
            running.process.wait().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::time::Instant;

    fn shell(script: &str, grace: Duration) -> ChildArgs {
        ChildArgs {
            grace,
            command: ["sh", "-c", script].map(str::to_owned).to_vec(),
        }
    }

    #[test]
    fn exit_statuses_map_to_codes() {
        // Raw wait statuses: the code in the second byte, or the signal in the low bits.
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(255 << 8)), 255);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
        assert_eq!(signal_code(Signal::SIGINT), 130);
        assert_eq!(
            describe(&Ok(ExitStatus::from_raw(15))),
            "it was killed by SIGTERM"
        );
        assert_eq!(
            describe(&Ok(ExitStatus::from_raw(2 << 8))),
            "it exited with 2"
        );
    }

    #[test]
    fn spawn_errors_map_to_shell_codes() {
        let not_found = io::Error::from(io::ErrorKind::NotFound);
        assert_eq!(spawn_error("nope", &not_found).code, NOT_FOUND);
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(spawn_error("./x", &denied).code, CANNOT_RUN);
        let other = io::Error::other("exec format error");
        assert_eq!(spawn_error("./x", &other).code, CANNOT_RUN);
    }

    #[tokio::test]
    async fn the_command_s_exit_code_and_environment_pass_through() {
        let mut signals = Signals::new().unwrap();
        let child = shell(r#"test "$ZK_X" = yes && exit 3"#, Duration::from_secs(1));
        let env = [("ZK_X", "yes".to_owned())];
        let outcome = run_while(&child, &env, &mut signals, std::future::pending()).await;
        assert_eq!(outcome, Ok(3));
        let missing = ChildArgs {
            grace: Duration::from_secs(1),
            command: vec!["/nonexistent/zkctl-test".to_owned()],
        };
        let outcome = run_while(&missing, &[], &mut signals, std::future::pending()).await;
        assert_eq!(outcome.unwrap_err().code, NOT_FOUND);
    }

    /// A `lost` future that resolves after 100 ms.
    async fn lost_soon() -> String {
        tokio::time::sleep(Duration::from_millis(100)).await;
        "lost it".to_owned()
    }

    /// Whether process `pid` is gone (or a zombie nobody reaps).
    fn gone(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
            Err(_) => true,
        }
    }

    #[tokio::test]
    async fn a_loss_stops_the_command_s_whole_group_with_sigterm() {
        let mut signals = Signals::new().unwrap();
        let dir = std::env::temp_dir().join(format!("zkctl-child-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pid_file = dir.join("pid");
        // The shell forks the sleep: only signalling the group reaches it.
        let script = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
        let child = shell(&script, Duration::from_secs(5));
        let started = Instant::now();
        let error = run_in(&child, &[], &mut signals, lost_soon(), true)
            .await
            .unwrap_err();
        assert_eq!(error.code, LOST);
        assert_eq!(
            error.message,
            "lost it; stopped sh: it was killed by SIGTERM"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        let grandchild = std::fs::read_to_string(&pid_file).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !gone(grandchild.trim()) {
            assert!(
                Instant::now() < deadline,
                "the shell's sleep was not stopped"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_command_ignoring_sigterm_is_killed_after_the_grace() {
        let mut signals = Signals::new().unwrap();
        let stubborn = shell("trap '' TERM; exec sleep 30", Duration::from_millis(200));
        let started = Instant::now();
        let error = run_in(&stubborn, &[], &mut signals, lost_soon(), false)
            .await
            .unwrap_err();
        assert_eq!(
            error.message,
            "lost it; stopped sh: it was killed by SIGKILL"
        );
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
