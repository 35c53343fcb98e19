//! The watchdog: a tiny `sh` loop that kills a server's JVM once the test process is gone.
//!
//! Destructors do not run when a test binary is killed, or for a server kept in a `static`
//! (see [`ZkServer::shared`](super::ZkServer::shared)), so each JVM gets a companion shell.
//! Once a second it checks that the owner (the test process) is alive and is still its
//! parent; when either check fails it kills the JVM with `SIGKILL` and removes the server's
//! temporary directory.
//! It exits by itself as soon as the JVM is gone, and after [`MAX_SECONDS`] at the latest.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::error::{HarnessError, Result};

/// The longest a watchdog (and so a server) lives: one day.
pub(crate) const MAX_SECONDS: u32 = 24 * 60 * 60;

/// The loop. Inputs come through the environment, so no path is ever parsed as shell code.
///
/// The JVM is killed only if its command line still names the server's directory, so a
/// recycled PID is never hit; the directory is removed only if it is one of ours.
const SCRIPT: &str = r#"
owner=$ZK_TESTKIT_OWNER
jvm=$ZK_TESTKIT_JVM
dir=$ZK_TESTKIT_DIR
parent=$PPID
ppid=$PPID
i=0
while [ "$i" -lt "$ZK_TESTKIT_MAX_SECONDS" ]; do
    kill -0 "$jvm" 2>/dev/null || exit 0
    kill -0 "$owner" 2>/dev/null || break
    read -r _ _ _ ppid _ < "/proc/$$/stat" || break
    [ "$ppid" = "$parent" ] || break
    sleep 1
    i=$((i + 1))
done
if grep -qaF -- "$dir" "/proc/$jvm/cmdline" 2>/dev/null; then
    kill -9 "$jvm" 2>/dev/null
fi
if [ "$ppid" != "$parent" ] || ! kill -0 "$owner" 2>/dev/null; then
    case "$dir" in
        */zk-testkit-*) rm -rf -- "$dir" ;;
    esac
fi
"#;

/// Starts the watchdog for the JVM `jvm_pid`, owned by `owner_pid`, cleaning `dir` up.
///
/// `dir` must appear on the JVM's command line (its `zoo.cfg` lives there).
pub(crate) fn spawn(jvm_pid: u32, owner_pid: u32, dir: &Path) -> Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .env("ZK_TESTKIT_OWNER", owner_pid.to_string())
        .env("ZK_TESTKIT_JVM", jvm_pid.to_string())
        .env("ZK_TESTKIT_DIR", dir)
        .env("ZK_TESTKIT_MAX_SECONDS", MAX_SECONDS.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| HarnessError::io("starting the watchdog shell (sh)", e))
}

/// Sends `signal` (`STOP`, `CONT`, `TERM`) to `pid` with the shell's `kill`, which needs no
/// `unsafe` code here.
pub(crate) fn send_signal(pid: u32, signal: &str) -> Result<()> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"kill -s "$0" "$1""#)
        .arg(signal)
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| HarnessError::io(format!("sending SIG{signal} to {pid}"), e))?;
    if status.success() {
        Ok(())
    } else {
        Err(HarnessError::io(
            format!("sending SIG{signal} to {pid}"),
            std::io::Error::other(format!("kill exited with {status}")),
        ))
    }
}
