//! What every end-to-end test needs: the `zkctl` binary pointed at the harness's shared real
//! server, a fresh root path, and running a command to its end with a time limit.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use zk_testkit::server::ZkServer;

/// The shared real server's connect string.
pub(crate) fn hosts() -> String {
    ZkServer::shared().connect_string()
}

/// A `zkctl` command aimed at the shared server (through `ZK_HOSTS`), with no standard input.
pub(crate) fn zkctl() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_zkctl"));
    command.env("ZK_HOSTS", hosts()).stdin(Stdio::null());
    command
}

/// A fresh path for one test.
pub(crate) fn root() -> String {
    format!("/zkctl-{}", uuid::Uuid::new_v4().simple())
}

/// Runs `command` to its end (at most `limit`, scaled for slow machines), capturing its
/// output; panics if it does not end in time. Its pipes are read as it runs, so a long output
/// cannot stall it.
pub(crate) fn run_within(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zkctl starts");
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + scaled(limit);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let err = String::from_utf8_lossy(&stderr.join().expect("stderr")).into_owned();
            panic!("zkctl did not end within {limit:?}: stderr {err:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

/// Runs `zkctl ARGS` to its end (within 30 s) and returns its output.
pub(crate) fn run(args: &[&str]) -> Output {
    run_within(zkctl().args(args), Duration::from_secs(30))
}

/// Standard output as text.
pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that `output` is a success, and returns its standard output.
pub(crate) fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "zkctl failed with {:?}: {}",
        output.status.code(),
        stderr(output)
    );
    stdout(output)
}

/// Asserts that `output` failed with `code` and exactly one line on standard error, starting
/// `zkctl: ` (no panic, no backtrace), and returns that line.
pub(crate) fn failed(output: &Output, code: i32) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got {err:?}");
    assert!(lines[0].starts_with("zkctl: "), "{err:?}");
    lines[0].to_owned()
}

/// A zkctl process in the background, its standard output read line by line. Dropped before
/// it ended, it is killed by its PID, and so are the processes whose PIDs its command wrote
/// into the files [`Running::also_kill`] names (a command outlives a killed zkctl).
pub(crate) struct Running {
    /// The process, until it is waited for.
    child: Option<Child>,
    /// Its lines of output, as they come.
    lines: mpsc::Receiver<String>,
    /// Files holding PIDs to kill at the end.
    pid_files: Vec<String>,
}

impl Running {
    /// Starts `zkctl ARGS`.
    pub(crate) fn start(args: &[&str]) -> Running {
        Running::spawn(zkctl().args(args))
    }

    /// Starts `command` (a [`zkctl`] command), capturing its output.
    pub(crate) fn spawn(command: &mut Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("zkctl starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Running {
            child: Some(child),
            lines,
            pid_files: Vec::new(),
        }
    }

    /// Kills, at the end, the process whose PID the command writes into `pid_file`.
    pub(crate) fn also_kill(mut self, pid_file: &str) -> Running {
        self.pid_files.push(pid_file.to_owned());
        self
    }

    /// The next line of output, waiting at most 20 s (scaled).
    pub(crate) fn line(&self) -> String {
        self.lines
            .recv_timeout(scaled(Duration::from_secs(20)))
            .expect("a line from zkctl in time")
    }

    /// The next line of output if one has come.
    pub(crate) fn try_line(&self) -> Option<String> {
        self.lines.try_recv().ok()
    }

    /// zkctl's PID.
    pub(crate) fn pid(&self) -> Pid {
        let child = self.child.as_ref().expect("running");
        Pid::from_raw(i32::try_from(child.id()).expect("a PID"))
    }

    /// Sends `signal` to zkctl (not to its command).
    pub(crate) fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).expect("signal zkctl");
    }

    /// True once zkctl has ended.
    pub(crate) fn ended(&mut self) -> bool {
        let child = self.child.as_mut().expect("running");
        child.try_wait().expect("wait").is_some()
    }

    /// Waits for zkctl to end (at most `limit`, scaled): its exit status, the lines of output
    /// not yet read, and its standard error.
    pub(crate) fn finish(mut self, limit: Duration) -> Output {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + scaled(limit);
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let output = child.wait_with_output().expect("output");
                panic!(
                    "zkctl did not end within {limit:?}: stderr {:?}",
                    stderr(&output)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let output = child.wait_with_output().expect("output");
        // The reader thread ends with the output: every line is in the channel now.
        let rest: String = self.lines.iter().map(|line| line + "\n").collect();
        Output {
            stdout: rest.into_bytes(),
            ..output
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for file in &self.pid_files {
            let pid = std::fs::read_to_string(file).ok();
            if let Some(pid) = pid.and_then(|pid| pid.trim().parse::<i32>().ok()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

/// `limit`, scaled for slow machines.
pub(crate) fn scaled(limit: Duration) -> Duration {
    limit.mul_f64(zk_testkit::timing::scale())
}
