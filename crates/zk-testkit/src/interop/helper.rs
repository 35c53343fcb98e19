//! `Helper`: one running helper process, spoken to through the line protocol and killed by its
//! PID when dropped.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

use super::error::InteropError;
use super::program::Program;
use super::protocol::{command_line, matching, reply, wanted};
use super::reply_timeout;
use crate::timing::within_for;

/// How long a helper whose standard output closed may take to exit before it is killed.
const EXIT_LIMIT: Duration = Duration::from_secs(5);

/// One running helper process.
///
/// The test writes commands to its standard input ([`Helper::send`]) and reads its answers,
/// one line each, from its standard output ([`Helper::expect`], [`Helper::next_line`]); what it
/// writes to standard error is kept for the failure messages. Every wait is bounded by
/// [`reply_timeout`] and panics past it.
///
/// Dropping the handle kills the process by its PID and reaps it, so a failing test leaves
/// none behind. A helper should also exit on its own when its standard input closes (the test
/// process died without dropping it).
#[derive(Debug)]
pub struct Helper {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    reaped: bool,
}

impl Helper {
    /// Starts `program` with `args`, its three standard streams piped to the test.
    ///
    /// # Errors
    /// What [`Program::command`] reports (missing software, a helper that does not compile),
    /// or [`InteropError::Io`] when the process cannot start.
    pub fn spawn(program: &Program, args: &[&str]) -> Result<Helper, InteropError> {
        let label = std::iter::once(program.name())
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = program
            .command()?
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| InteropError::io(format!("start {label}"), e))?;
        let stdin = child.stdin.take();
        let (send, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(reply(line)).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = stderr.clone();
        let err = child.stderr.take().expect("stderr is piped");
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let mut all = collected.lock().unwrap_or_else(PoisonError::into_inner);
                all.push_str(&line);
                all.push('\n');
            }
        });
        Ok(Helper {
            label,
            child,
            stdin,
            lines,
            stderr,
            stderr_reader: Some(stderr_reader),
            reaped: false,
        })
    }

    /// Like [`Helper::spawn`], for tests: a missing library fails the test with the command
    /// that installs it.
    ///
    /// # Panics
    /// With the [`InteropError`]'s message when the helper cannot start.
    #[track_caller]
    pub fn start(program: &Program, args: &[&str]) -> Helper {
        match Helper::spawn(program, args) {
            Ok(helper) => helper,
            Err(e) => panic!("{e}"),
        }
    }

    /// The program's name and the arguments, which every failure message starts with.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The process's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the helper wrote to standard error so far (all of it once it has exited and was
    /// reaped by [`Helper::finish`] or a failed [`Helper::expect`]).
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The next line the helper prints; `None` once it closed its standard output (exited).
    ///
    /// # Panics
    /// When no line comes within [`reply_timeout`].
    #[track_caller]
    pub fn next_line(&mut self) -> impl Future<Output = Option<String>> + '_ {
        within_for(reply_timeout(), self.lines.recv())
    }

    /// Waits for the next line and checks it is `want`.
    ///
    /// # Panics
    /// When the helper prints something else, exits first, or says nothing within
    /// [`reply_timeout`]; the message has the helper's standard error.
    pub async fn expect(&mut self, want: &str) {
        self.expect_one_of(&[want]).await;
    }

    /// Waits for the next line and checks it is one of `wants`, which it returns.
    ///
    /// # Panics
    /// As [`Helper::expect`].
    pub async fn expect_one_of<'w>(&mut self, wants: &[&'w str]) -> &'w str {
        match self.next_line().await {
            Some(line) => match matching(&line, wants) {
                Some(want) => want,
                None => panic!(
                    "{}: expected {}, got `{line}`; its stderr:\n{}",
                    self.label,
                    wanted(wants),
                    self.stderr()
                ),
            },
            None => {
                let status = self.reap();
                panic!(
                    "{}: exited ({status}) instead of printing {}; its stderr:\n{}",
                    self.label,
                    wanted(wants),
                    self.stderr()
                )
            }
        }
    }

    /// Sends the helper one command line.
    ///
    /// # Panics
    /// When `command` is not a single non-empty line, or the helper's standard input is
    /// closed (it exited).
    pub fn send(&mut self, command: &str) {
        let line = command_line(command).unwrap_or_else(|e| panic!("{}: {e}", self.label));
        let stdin = self
            .stdin
            .as_mut()
            .expect("stdin is open until the helper is reaped");
        if let Err(e) = stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
        {
            panic!(
                "{}: cannot send `{command}` ({e}); its stderr:\n{}",
                self.label,
                self.stderr()
            );
        }
    }

    /// Waits up to `limit` for the helper to print the rest and exit, and returns the lines
    /// it printed meanwhile.
    ///
    /// # Panics
    /// When `limit` passes first, or the helper exits with a failure status; the message has
    /// its standard error.
    pub async fn finish(mut self, limit: Duration) -> Vec<String> {
        let mut printed = Vec::new();
        within_for(limit, async {
            while let Some(line) = self.lines.recv().await {
                printed.push(line);
            }
        })
        .await;
        // Standard output is closed: the process is exiting.
        let status = self.reap();
        assert!(
            status.success(),
            "{} failed ({status}) after printing {printed:?}; its stderr:\n{}",
            self.label,
            self.stderr()
        );
        printed
    }

    /// Waits (at most [`EXIT_LIMIT`], scaled) for the exited or exiting process, and for the
    /// rest of its standard error.
    ///
    /// # Panics
    /// When the process, its standard output closed, is still running at the limit: it is
    /// killed and the panic says so, with its standard error.
    fn reap(&mut self) -> ExitStatus {
        // Its standard output is closed; should it still wait for a command, this ends that.
        self.stdin = None;
        let limit = EXIT_LIMIT.mul_f64(crate::timing::scale());
        let deadline = std::time::Instant::now() + limit;
        let status = loop {
            match self.child.try_wait().expect("wait for the helper") {
                Some(status) => break status,
                None if std::time::Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    self.reaped = true;
                    // Not joined: a process it started may still hold its standard error.
                    drop(self.stderr_reader.take());
                    panic!(
                        "{}: closed its standard output but was still running after {limit:?}, \
                         so it was killed; its stderr:\n{}",
                        self.label,
                        self.stderr()
                    );
                }
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        };
        self.reaped = true;
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        status
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        if !self.reaped {
            // `Child::kill` signals this child's own PID only.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A helper in `sh`: `script` runs with the helper's arguments as `$1`, `$2`, ….
    fn shell(script: &str) -> Program {
        Program::executable("/bin/sh", ["-c", script, "sh"])
    }

    /// The message of the panic `future` ends in.
    async fn panic_of(future: impl Future<Output = ()> + Send + 'static) -> String {
        let panic = tokio::spawn(future)
            .await
            .expect_err("it panics")
            .into_panic();
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_helper_answers_commands_line_by_line() {
        let echo = shell(
            r#"echo "ready $1"; while read -r command; do
                 case "$command" in quit) echo bye; exit 0;; *) echo "got $command";; esac
               done"#,
        );
        let mut helper = Helper::start(&echo, &["one"]);
        assert_eq!(helper.label(), "sh one");
        helper.expect("ready one").await;
        helper.send("acquire");
        assert_eq!(
            helper.expect_one_of(&["got release", "got acquire"]).await,
            "got acquire"
        );
        helper.send("release");
        assert_eq!(helper.next_line().await.as_deref(), Some("got release"));
        helper.send("quit");
        assert_eq!(helper.finish(reply_timeout()).await, ["bye"]);
    }

    #[tokio::test]
    async fn a_wrong_answer_fails_with_the_helper_stderr() {
        let mut helper = Helper::start(&shell("echo oops >&2; echo blocked; sleep 30"), &[]);
        let message = panic_of(async move { helper.expect("acquired").await }).await;
        assert!(
            message.starts_with("sh: expected `acquired`, got `blocked`; its stderr:"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn an_early_exit_fails_with_the_status_and_stderr() {
        let mut helper = Helper::start(&shell("echo 'no connection' >&2; exit 5"), &["x"]);
        let message = panic_of(async move { helper.expect("held").await }).await;
        assert!(
            message.starts_with("sh x: exited (exit status: 5) instead of printing `held`"),
            "{message}"
        );
        assert!(message.ends_with("no connection\n"), "{message}");
    }

    #[tokio::test]
    async fn a_failing_exit_fails_finish() {
        let helper = Helper::start(&shell("echo done; exit 3"), &[]);
        let message = panic_of(async move {
            helper.finish(reply_timeout()).await;
        })
        .await;
        assert!(
            message.starts_with(r#"sh failed (exit status: 3) after printing ["done"]"#),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_helper_that_closes_its_output_but_keeps_running_is_killed() {
        let helper = Helper::start(&shell("echo done; exec >&- sleep 60"), &[]);
        let started = std::time::Instant::now();
        let message = panic_of(async move {
            helper.finish(reply_timeout()).await;
        })
        .await;
        assert!(
            message.starts_with("sh: closed its standard output but was still running after"),
            "{message}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "bounded, not the sleep"
        );
    }

    #[test]
    fn a_command_with_a_line_break_is_refused() {
        let mut helper = Helper::start(&shell("sleep 30"), &[]);
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            helper.send("release\nquit");
        }))
        .expect_err("two lines are refused");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains("is not one command line"), "{message}");
    }

    #[test]
    fn dropping_a_helper_kills_it() {
        let helper = Helper::start(&shell("sleep 30"), &[]);
        let proc = Path::new("/proc").join(helper.pid().to_string());
        assert!(proc.exists());
        drop(helper);
        assert!(!proc.exists(), "killed and reaped");
    }

    #[test]
    fn a_program_that_cannot_start_is_an_error() {
        let missing = Program::executable("/nonexistent/helper", Vec::<String>::new());
        let err = Helper::spawn(&missing, &["a"]).unwrap_err();
        assert!(
            err.to_string().starts_with("cannot start helper a: "),
            "{err}"
        );
    }
}
