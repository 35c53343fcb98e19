//! `ZkNode`: one server process (a standalone server or an ensemble member) and what tests do to it.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::config::{JVM_OUTPUT_FILE, LOG_FILE, Settings};
use super::error::{HarnessError, Result};
use super::four_letter::{DEFAULT_FOUR_LETTER_TIMEOUT, Mode, four_letter};
use super::install::Installation;
use super::process::JvmProcess;

/// How long a graceful [`ZkNode::stop`] waits before it kills.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// The pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(50);
/// The limit for one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How many times a restart retries a port still held by someone else.
const RESTART_ATTEMPTS: u32 = 3;
/// How many log lines an error carries.
const TAIL_LINES: usize = 40;

/// One ZooKeeper server process: a standalone [`ZkServer`](super::ZkServer) or one member of a
/// [`ZkEnsemble`](super::ZkEnsemble).
///
/// Every operation takes `&self`, so a test can kill, restart or pause a member of a shared
/// ensemble. The process is stopped by its own PID only.
/// Dropping the node kills the JVM; its directory belongs to the server or ensemble that made it.
#[derive(Debug)]
pub struct ZkNode {
    name: String,
    installation: &'static Installation,
    settings: Settings,
    main_class: &'static str,
    dir: PathBuf,
    cleanup_dir: PathBuf,
    client_port: u16,
    quorum: bool,
    process: Mutex<Option<JvmProcess>>,
}

impl ZkNode {
    /// A node whose `zoo.cfg` is already written in `dir`; nothing runs yet.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        name: String,
        installation: &'static Installation,
        settings: Settings,
        main_class: &'static str,
        dir: PathBuf,
        cleanup_dir: PathBuf,
        client_port: u16,
        quorum: bool,
    ) -> ZkNode {
        ZkNode {
            name,
            installation,
            settings,
            main_class,
            dir,
            cleanup_dir,
            client_port,
            quorum,
            process: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<JvmProcess>> {
        self.process.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The client address, `127.0.0.1:<port>`.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.client_port))
    }

    /// The connect string for this server alone, `127.0.0.1:<port>`.
    pub fn connect_string(&self) -> String {
        self.address().to_string()
    }

    /// The client port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.client_port
    }

    /// The server's data directory (`dataDir`), which also holds `zoo.cfg`, `myid` for an
    /// ensemble member, the server log `zookeeper.log` and the JVM's output `jvm.out`.
    pub fn data_dir(&self) -> &Path {
        &self.dir
    }

    /// The server's log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(LOG_FILE)
    }

    /// The JVM's PID while it runs (paused included); `None` after stop or kill.
    pub fn pid(&self) -> Option<u32> {
        self.with_live(|p| p.pid())
    }

    /// The PID of the watchdog shell guarding the JVM, while it runs.
    pub fn watchdog_pid(&self) -> Option<u32> {
        self.with_live(|p| p.watchdog_pid()).flatten()
    }

    /// Runs `f` on the JVM if it is alive (not exited, stopped or killed).
    fn with_live<T>(&self, f: impl FnOnce(&mut JvmProcess) -> T) -> Option<T> {
        let mut process = self.lock();
        let p = process.as_mut()?;
        if p.exit_status().is_some() {
            return None;
        }
        Some(f(p))
    }

    /// Whether the JVM is alive (a paused JVM is alive).
    pub fn is_running(&self) -> bool {
        self.pid().is_some()
    }

    /// Whether the JVM is paused by [`ZkNode::pause`].
    pub fn is_paused(&self) -> bool {
        self.lock().as_ref().is_some_and(JvmProcess::is_paused)
    }

    /// Sends a four-letter word (`ruok`, `srvr`, `stat`, `mntr`, `dump`, `cons`, …) and returns
    /// the answer, waiting at most 5 s.
    ///
    /// # Errors
    /// [`HarnessError::FourLetter`] when the server is down, paused or too slow.
    pub fn four_letter(&self, command: &str) -> Result<String> {
        four_letter(self.address(), command, DEFAULT_FOUR_LETTER_TIMEOUT)
    }

    /// Like [`ZkNode::four_letter`] with an explicit limit.
    ///
    /// # Errors
    /// [`HarnessError::FourLetter`] when the server is down, paused or too slow.
    pub fn four_letter_with_timeout(&self, command: &str, timeout: Duration) -> Result<String> {
        four_letter(self.address(), command, timeout)
    }

    /// The server's mode from `srvr`; `None` when it does not answer or is not serving.
    pub fn mode(&self) -> Option<Mode> {
        self.four_letter_with_timeout("srvr", PROBE_TIMEOUT)
            .ok()
            .and_then(|answer| Mode::from_srvr(&answer))
    }

    /// Stops the server gracefully (`SIGTERM`, then `SIGKILL` after 10 s), keeping its data.
    ///
    /// A paused server is continued first. Stopping a stopped server does nothing.
    pub fn stop(&self) {
        let process = self.lock().take();
        if let Some(process) = process {
            process.terminate(STOP_GRACE);
        }
    }

    /// Kills the server with `SIGKILL`, as a crash would, keeping its data.
    ///
    /// Killing a stopped server does nothing.
    pub fn kill(&self) {
        drop(self.lock().take());
    }

    /// Pauses the server with `SIGSTOP`: clients stay connected but get no answers, so their
    /// sessions time out, as with a long GC pause or a network partition.
    ///
    /// # Errors
    /// [`HarnessError::NotRunning`] when the server is stopped.
    pub fn pause(&self) -> Result<()> {
        self.running(|p| if p.is_paused() { Ok(()) } else { p.pause() })
    }

    /// Continues a paused server with `SIGCONT`.
    ///
    /// # Errors
    /// [`HarnessError::NotRunning`] when the server is stopped.
    pub fn resume(&self) -> Result<()> {
        self.running(|p| if p.is_paused() { p.resume() } else { Ok(()) })
    }

    fn running(&self, f: impl FnOnce(&mut JvmProcess) -> Result<()>) -> Result<()> {
        self.with_live(f).unwrap_or_else(|| {
            Err(HarnessError::NotRunning {
                server: self.name.clone(),
            })
        })
    }

    /// Starts the server again on the same port and data directory (stopping it first if it
    /// runs), and waits until it serves: sessions and data survive, as after a real restart.
    ///
    /// An ensemble member is ready once it is a leader or follower again.
    ///
    /// # Errors
    /// [`HarnessError::StartTimeout`] or [`HarnessError::Exited`] with the log's tail.
    pub fn restart(&self) -> Result<()> {
        self.stop();
        let mut attempt = 1;
        loop {
            self.spawn()?;
            match self.wait_ready(Instant::now() + self.settings.start_timeout) {
                Err(e) if e.is_address_in_use() && attempt < RESTART_ATTEMPTS => {
                    // Someone grabbed the port while the server was down; it may let go.
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(500));
                }
                other => return other,
            }
        }
    }

    /// Starts the JVM without waiting for it.
    pub(crate) fn spawn(&self) -> Result<()> {
        let mut process = self.lock();
        if let Some(p) = process.as_mut() {
            if p.exit_status().is_none() {
                return Err(HarnessError::AlreadyRunning {
                    server: self.name.clone(),
                });
            }
        }
        *process = None;
        // Keep the previous run's output for post-mortems; the new run starts clean files.
        for file in [LOG_FILE, JVM_OUTPUT_FILE] {
            let path = self.dir.join(file);
            if path.exists() {
                let _ = std::fs::rename(&path, self.dir.join(format!("{file}.previous")));
            }
        }
        *process = Some(JvmProcess::spawn(
            self.installation,
            &self.settings,
            self.main_class,
            &self.dir,
            &self.cleanup_dir,
        )?);
        Ok(())
    }

    /// Waits until the server answers `ruok` with `imok` and `srvr` reports a mode (leader or
    /// follower for an ensemble member); kills the JVM if it does not by `deadline`.
    pub(crate) fn wait_ready(&self, deadline: Instant) -> Result<()> {
        let started = Instant::now();
        // Bounded by the deadline.
        loop {
            if let Some(status) = self.exit_status() {
                let log_tail = self.log_tail(TAIL_LINES);
                self.kill();
                return Err(HarnessError::Exited {
                    server: self.name.clone(),
                    status: status.to_string(),
                    address_in_use: log_tail.contains("Address already in use"),
                    log_tail,
                });
            }
            let reason = match self.probe() {
                Ok(()) => return Ok(()),
                Err(reason) => reason,
            };
            if Instant::now() >= deadline {
                let log_tail = self.log_tail(TAIL_LINES);
                self.kill();
                return Err(HarnessError::StartTimeout {
                    server: self.name.clone(),
                    waited: started.elapsed(),
                    reason,
                    log_tail,
                });
            }
            std::thread::sleep(PROBE_INTERVAL);
        }
    }

    /// One readiness check; the error says what is missing.
    fn probe(&self) -> Result<(), String> {
        match self.four_letter_with_timeout("ruok", PROBE_TIMEOUT) {
            Ok(answer) if answer == "imok" => {}
            Ok(answer) => return Err(format!("`ruok` answered {answer:?}")),
            Err(e) => return Err(e.to_string()),
        }
        let srvr = self
            .four_letter_with_timeout("srvr", PROBE_TIMEOUT)
            .map_err(|e| e.to_string())?;
        match Mode::from_srvr(&srvr) {
            Some(Mode::Leader | Mode::Follower | Mode::Observer) if self.quorum => Ok(()),
            Some(Mode::Standalone) if !self.quorum => Ok(()),
            _ => Err(format!("`srvr` answered {:?}", srvr.trim())),
        }
    }

    /// The JVM's exit status once it has exited (`None` while running or after stop/kill).
    fn exit_status(&self) -> Option<std::process::ExitStatus> {
        self.lock().as_mut().and_then(JvmProcess::exit_status)
    }

    /// The last `lines` lines of the server log, then of the JVM's own output if it has any.
    pub fn log_tail(&self, lines: usize) -> String {
        let mut tail = tail_of(&self.dir.join(LOG_FILE), lines);
        let jvm = tail_of(&self.dir.join(JVM_OUTPUT_FILE), lines);
        if !jvm.trim().is_empty() {
            tail.push_str("--- JVM output ---\n");
            tail.push_str(&jvm);
        }
        if tail.trim().is_empty() {
            tail = format!("(nothing logged in {})\n", self.dir.display());
        }
        tail
    }
}

/// The last `lines` lines of a file, or a note that it cannot be read.
fn tail_of(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let mut tail = all[all.len().saturating_sub(lines)..].join("\n");
            if !tail.is_empty() {
                tail.push('\n');
            }
            tail
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_keep_the_last_lines() {
        let dir = super::super::scratch::ScratchDir::new("tail").unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "a\nb\nc\nd\n").unwrap();
        assert_eq!(tail_of(&path, 2), "c\nd\n");
        assert_eq!(tail_of(&path, 10), "a\nb\nc\nd\n");
        assert_eq!(tail_of(&dir.path().join("missing"), 3), "");
    }
}
