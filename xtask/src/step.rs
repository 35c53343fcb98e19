//! Running one named step: print it, time it, and fail with its name.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Failure;

/// A command to run as a named step of a larger task.
#[derive(Debug)]
pub(crate) struct Step {
    name: &'static str,
    command: Command,
}

impl Step {
    /// A step running `program` from the workspace root, with no standard input.
    pub(crate) fn new(name: &'static str, program: impl AsRef<OsStr>) -> Step {
        let mut command = Command::new(program);
        command.current_dir(crate::root()).stdin(Stdio::null());
        Step { name, command }
    }

    /// A step running `cargo` with `args`.
    pub(crate) fn cargo(name: &'static str, args: &[&str]) -> Step {
        Step::new(name, crate::cargo()).args(args)
    }

    /// The step's name, as shown in its messages.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// Appends arguments.
    pub(crate) fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Step {
        self.command.args(args);
        self
    }

    /// Sets an environment variable for the command.
    pub(crate) fn env(mut self, key: &str, value: &str) -> Step {
        self.command.env(key, value);
        self
    }

    /// Runs the command with inherited output; fails naming the step unless it exits with 0.
    pub(crate) fn run(mut self) -> Result<Duration, Failure> {
        let shown = display(&self.command);
        println!("\n==> [{}] {shown}", self.name);
        let start = Instant::now();
        let status = self
            .command
            .status()
            .map_err(|e| format!("step `{}` could not start `{shown}`: {e}", self.name))?;
        let elapsed = start.elapsed();
        if status.success() {
            println!("==> [{}] ok in {}", self.name, seconds(elapsed));
            Ok(elapsed)
        } else {
            Err(format!(
                "step `{}` failed ({status}) after {}: {shown}",
                self.name,
                seconds(elapsed)
            ))
        }
    }
}

impl Step {
    /// Like [`Step::run`], but passes each line the command writes to standard error to
    /// `on_line` (after showing it), for tools that report their results there.
    pub(crate) fn run_watching_stderr(
        mut self,
        mut on_line: impl FnMut(&str),
    ) -> Result<Duration, Failure> {
        let shown = display(&self.command);
        println!("\n==> [{}] {shown}", self.name);
        let start = Instant::now();
        let mut child = self
            .command
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("step `{}` could not start `{shown}`: {e}", self.name))?;
        if let Some(stderr) = child.stderr.take() {
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            // Reading stops at the end of the stream or at a read error; either way the exit
            // status below decides.
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let _ = std::io::stderr().write_all(&line);
                on_line(String::from_utf8_lossy(&line).trim_end());
                line.clear();
            }
        }
        let status = child
            .wait()
            .map_err(|e| format!("step `{}` could not wait for `{shown}`: {e}", self.name))?;
        let elapsed = start.elapsed();
        if status.success() {
            println!("==> [{}] ok in {}", self.name, seconds(elapsed));
            Ok(elapsed)
        } else {
            Err(format!(
                "step `{}` failed ({status}) after {}: {shown}",
                self.name,
                seconds(elapsed)
            ))
        }
    }
}

/// The command line as the user could type it, with any environment set for it in front.
fn display(command: &Command) -> String {
    let mut parts: Vec<String> = command
        .get_envs()
        .filter_map(|(key, value)| {
            let value = value?.to_string_lossy();
            Some(format!("{}={value:?}", key.to_string_lossy()))
        })
        .collect();
    let program = command.get_program().to_string_lossy();
    // Show `cargo` rather than the full path cargo gave us in `CARGO`.
    let program = if program.ends_with("/cargo") {
        "cargo".into()
    } else {
        program
    };
    parts.push(program.into_owned());
    parts.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// A duration as seconds with one decimal, such as `12.3s`.
pub(crate) fn seconds(duration: Duration) -> String {
    format!("{:.1}s", duration.as_secs_f64())
}
