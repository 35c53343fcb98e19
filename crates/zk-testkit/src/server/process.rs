//! `JvmProcess`: one ZooKeeper JVM child process and its watchdog, stopped by their own PIDs.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::config::{CONFIG_FILE, JVM_OUTPUT_FILE, Settings, jvm_flags};
use super::error::{HarnessError, Result};
use super::install::Installation;
use super::watchdog;

/// How often exits are polled while waiting for one.
const POLL: Duration = Duration::from_millis(10);

/// How long [`JvmProcess::pause`] waits for every thread to stop.
const STOP_LIMIT: Duration = Duration::from_secs(10);
/// How often thread states are read while waiting for a stop.
const STOP_POLL: Duration = Duration::from_millis(1);

/// Whether every thread of `pid` is stopped (`T`, or `t` under a tracer), reading
/// `/proc/<pid>/task/*/stat`; threads that exit meanwhile are skipped.
fn all_threads_stopped(pid: u32) -> std::io::Result<bool> {
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let Ok(stat) = std::fs::read_to_string(entry?.path().join("stat")) else {
            continue; // the thread exited between the listing and the read
        };
        if !matches!(thread_state(&stat), Some('T' | 't' | 'Z' | 'X')) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The state letter of a `/proc/<pid>/task/<tid>/stat` line: the first field after the
/// command name, which is in parentheses and may itself hold spaces or parentheses.
fn thread_state(stat: &str) -> Option<char> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.trim_start().chars().next()
}

/// A running (or paused) JVM started by this process, plus its watchdog.
///
/// Dropping it kills both with `SIGKILL` and reaps them; nothing else is ever signalled.
#[derive(Debug)]
pub(crate) struct JvmProcess {
    java: Child,
    watchdog: Option<Child>,
    paused: bool,
    reaped: Option<ExitStatus>,
}

impl JvmProcess {
    /// Starts `main_class` on the `zoo.cfg` in `dir`, output going to files in `dir`, under a
    /// watchdog that removes `cleanup_dir` should the owner die.
    pub(crate) fn spawn(
        installation: &Installation,
        settings: &Settings,
        main_class: &str,
        dir: &Path,
        cleanup_dir: &Path,
    ) -> Result<JvmProcess> {
        let output_path = dir.join(JVM_OUTPUT_FILE);
        let output = File::create(&output_path)
            .map_err(|e| HarnessError::io(format!("creating {}", output_path.display()), e))?;
        let output_err = output
            .try_clone()
            .map_err(|e| HarnessError::io("duplicating the JVM output file", e))?;
        let java = Command::new(&installation.java)
            .args(jvm_flags(settings, dir))
            .arg("-cp")
            .arg(installation.classpath_arg())
            .arg(main_class)
            .arg(dir.join(CONFIG_FILE))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(output_err)
            .spawn()
            .map_err(|e| {
                HarnessError::io(format!("starting {}", installation.java.display()), e)
            })?;
        let mut process = JvmProcess {
            java,
            watchdog: None,
            paused: false,
            reaped: None,
        };
        let owner = settings.owner_pid.unwrap_or_else(std::process::id);
        // On error `process` is dropped, which kills the JVM just started.
        process.watchdog = Some(watchdog::spawn(process.pid(), owner, cleanup_dir)?);
        Ok(process)
    }

    /// The JVM's PID.
    pub(crate) fn pid(&self) -> u32 {
        self.java.id()
    }

    /// The watchdog's PID.
    pub(crate) fn watchdog_pid(&self) -> Option<u32> {
        self.watchdog.as_ref().map(Child::id)
    }

    /// Whether the JVM is stopped with `SIGSTOP`.
    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// The exit status if the JVM has exited (reaping it), else `None`.
    pub(crate) fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.reaped.is_none() {
            self.reaped = self.java.try_wait().ok().flatten();
        }
        self.reaped
    }

    /// Stops the JVM with `SIGSTOP` and returns once every thread is stopped: it keeps its
    /// sockets but answers nothing.
    ///
    /// `kill` returns as soon as the signal is queued. Linux hands a process-wide `SIGSTOP` to
    /// one thread, and the others stop only once that thread has been scheduled and started
    /// the group stop; on a busy machine that takes long enough for the JVM's network thread
    /// to answer a request sent "after" the pause. So this waits for `/proc` to show every
    /// thread stopped.
    pub(crate) fn pause(&mut self) -> Result<()> {
        watchdog::send_signal(self.pid(), "STOP")?;
        self.paused = true;
        let deadline = Instant::now() + STOP_LIMIT;
        // Bounded by the deadline.
        loop {
            match all_threads_stopped(self.pid()) {
                Ok(true) => return Ok(()),
                Ok(false) if Instant::now() < deadline => std::thread::sleep(STOP_POLL),
                Ok(false) => {
                    return Err(HarnessError::io(
                        format!("pausing {}", self.pid()),
                        std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("threads still running {STOP_LIMIT:?} after SIGSTOP"),
                        ),
                    ));
                }
                Err(e) => return Err(HarnessError::io(format!("pausing {}", self.pid()), e)),
            }
        }
    }

    /// Continues a paused JVM with `SIGCONT`.
    pub(crate) fn resume(&mut self) -> Result<()> {
        watchdog::send_signal(self.pid(), "CONT")?;
        self.paused = false;
        Ok(())
    }

    /// Asks the JVM to exit (`SIGTERM`, after `SIGCONT` if paused) and waits up to `grace`,
    /// then kills it.
    pub(crate) fn terminate(mut self, grace: Duration) {
        if self.exit_status().is_none() {
            if self.paused {
                let _ = watchdog::send_signal(self.pid(), "CONT");
                self.paused = false;
            }
            if watchdog::send_signal(self.pid(), "TERM").is_ok() {
                let deadline = Instant::now() + grace;
                while self.exit_status().is_none() && Instant::now() < deadline {
                    std::thread::sleep(POLL);
                }
            }
        }
        // Drop kills whatever is left.
    }
}

impl Drop for JvmProcess {
    fn drop(&mut self) {
        if self.reaped.is_none() {
            // SIGKILL works on a stopped process too.
            let _ = self.java.kill();
            let _ = self.java.wait();
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_state_reads_past_a_command_name_with_parentheses() {
        assert_eq!(thread_state("42 (java) S 1 2 3"), Some('S'));
        assert_eq!(thread_state("42 (a) b (c)) T 1 2 3"), Some('T'));
        assert_eq!(thread_state("42 (java)"), None);
        assert_eq!(thread_state("garbage"), None);
    }

    #[test]
    fn a_stopped_child_has_all_threads_stopped_and_a_running_one_does_not() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        assert!(!all_threads_stopped(pid).unwrap());
        watchdog::send_signal(pid, "STOP").unwrap();
        let deadline = Instant::now() + STOP_LIMIT;
        while !all_threads_stopped(pid).unwrap() {
            assert!(Instant::now() < deadline, "sleep {pid} never stopped");
            std::thread::sleep(STOP_POLL);
        }
        watchdog::send_signal(pid, "CONT").unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
