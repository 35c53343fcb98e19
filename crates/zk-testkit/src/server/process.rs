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

    /// Stops the JVM with `SIGSTOP`: it keeps its sockets but answers nothing.
    pub(crate) fn pause(&mut self) -> Result<()> {
        watchdog::send_signal(self.pid(), "STOP")?;
        self.paused = true;
        Ok(())
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
