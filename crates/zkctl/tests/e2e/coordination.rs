//! `lock`, `semaphore` and `elect` end to end: real `zkctl` processes running real commands
//! (`sh -c`), which leave marks in files, against the shared server.
//!
//! Every process a test starts is killed by PID if the test ends first (also the commands
//! zkctl started, which outlive a killed zkctl), and every wait is bounded.

use std::fs;
use std::path::PathBuf;
use std::process::Output;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::support::{Running, failed, ok, root, run, run_within, scaled, stderr, zkctl};

/// How long one zkctl run may take here (scaled for slow machines by the helpers).
const LIMIT: Duration = Duration::from_secs(20);

/// A directory for one test's files, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    /// A new, empty directory.
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("zkctl-e2e-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir)
    }

    /// A file in it, as a string for scripts.
    fn file(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Waits until `done` (at most `limit`, scaled), polling.
fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + scaled(limit);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The file's text; empty while it does not exist.
fn text(file: &str) -> String {
    fs::read_to_string(file).unwrap_or_default()
}

/// Runs, concurrently, one zkctl per `args` and returns their outputs in order.
fn run_all(args: &[Vec<String>]) -> Vec<Output> {
    let running: Vec<Running> = args
        .iter()
        .map(|args| Running::spawn(zkctl().args(args)))
        .collect();
    running.into_iter().map(|run| run.finish(LIMIT)).collect()
}

/// A `sh -c` script that logs `start $$ EXTRA` and, `hold` later, `end $$` to `log`.
fn marking(log: &str, extra: &str, hold: &str) -> String {
    format!(r#"echo "start $$ {extra}" >> '{log}'; sleep {hold}; echo "end $$" >> '{log}'"#)
}

/// Parses a log `marking` scripts wrote: the start lines' words, and the most holders at
/// once. Panics on an end without its start.
fn replay(log: &str) -> (Vec<Vec<String>>, usize) {
    let mut starts = Vec::new();
    let mut running: Vec<String> = Vec::new();
    let mut most = 0;
    for line in text(log).lines() {
        let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        match words.first().map(String::as_str) {
            Some("start") => {
                running.push(words[1].clone());
                most = most.max(running.len());
                starts.push(words[1..].to_vec());
            }
            Some("end") => {
                let at = running.iter().position(|pid| *pid == words[1]);
                running.remove(at.unwrap_or_else(|| panic!("an end without a start: {line}")));
            }
            _ => panic!("unexpected line {line:?}"),
        }
    }
    assert!(running.is_empty(), "every start has its end: {running:?}");
    (starts, most)
}

/// Concurrent `lock` runs on one path hold in turn, never two at once, with growing tokens.
#[test]
fn lock_holders_take_turns_with_growing_fencing_tokens() {
    let dir = Scratch::new();
    let log = dir.file("log");
    let path = format!("{}/lock", root());
    let script = marking(&log, "$ZK_FENCING_TOKEN $ZK_LOCK_PATH", "0.2");
    let args = vec![
        ["lock", &path, "--", "sh", "-c", &script]
            .map(str::to_owned)
            .to_vec();
        3
    ];
    for output in run_all(&args) {
        ok(&output);
    }
    let (starts, most) = replay(&log);
    assert_eq!(most, 1, "never two holders: {}", text(&log));
    assert_eq!(starts.len(), 3);
    let tokens: Vec<i64> = starts
        .iter()
        .map(|start| start[1].parse().expect("a fencing token"))
        .collect();
    assert!(tokens.is_sorted() && tokens[0] < tokens[2], "{tokens:?}");
    assert!(starts.iter().all(|start| start[2] == path));
}

/// The command's exit code passes through; zkctl's own failures have documented codes.
#[test]
fn exit_codes_pass_through() {
    let dir = Scratch::new();
    let path = format!("{}/lock", root());
    let code = |out: &Output| out.status.code();
    assert_eq!(
        code(&run(&["lock", &path, "--", "sh", "-c", "exit 3"])),
        Some(3)
    );
    failed(&run(&["lock", &path, "--", "/nonexistent/zkctl-e2e"]), 127);
    let not_executable = dir.file("script");
    fs::write(&not_executable, "#!/bin/sh\n").expect("write");
    failed(&run(&["lock", &path, "--", &not_executable]), 126);
    failed(&run(&["lock", &path, "sh"]), 2);
    failed(&run(&["elect", &path, "--id", "a"]), 2);

    // Another holder: a waiter with --timeout gives up; the holder passes SIGTERM on.
    let held = dir.file("held");
    let script = format!("echo held > '{held}'; exec sleep 30");
    let holder = Running::spawn(zkctl().args(["lock", &path, "--", "sh", "-c", &script]));
    wait_for("the holder's command starts", LIMIT, || {
        !text(&held).is_empty()
    });
    let out = run(&["lock", &path, "--timeout", "500ms", "--", "true"]);
    assert_eq!(code(&out), Some(7), "{}", stderr(&out));
    // A line saying it waited, then the failure.
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("zkctl: waiting for lock "), "{err}");
    assert_eq!(
        lines[1],
        format!("zkctl: timed out after 500ms waiting for the lock on {path}")
    );
    holder.signal(Signal::SIGTERM);
    let out = holder.finish(LIMIT);
    assert_eq!(code(&out), Some(128 + 15), "{}", stderr(&out));
}

/// A holder zkctl killed without releasing holds on until its session expires, no longer.
#[test]
fn a_killed_holder_s_lock_passes_on_when_its_session_expires() {
    let dir = Scratch::new();
    let path = format!("{}/lock", root());
    let (pid_file, started) = (dir.file("pid"), dir.file("started"));
    let script = format!("echo $$ > '{pid_file}'; exec sleep 60");
    let holder = Running::spawn(zkctl().args([
        "--session-timeout",
        "2s",
        "lock",
        &path,
        "--",
        "sh",
        "-c",
        &script,
    ]))
    .also_kill(&pid_file);
    wait_for("the holder's command starts", LIMIT, || {
        !text(&pid_file).is_empty()
    });
    let script = format!("echo go > '{started}'");
    let waiter = Running::spawn(zkctl().args(["lock", &path, "--", "sh", "-c", &script]));
    std::thread::sleep(Duration::from_millis(500));
    assert!(text(&started).is_empty(), "the waiter waits");

    // The zkctl dies without releasing; its command (here, a sleep) lives on.
    holder.signal(Signal::SIGKILL);
    let killed = Instant::now();
    wait_for("the waiter's command starts", LIMIT, || {
        !text(&started).is_empty()
    });
    let waited = killed.elapsed();
    // The server's minimum session timeout is 2 ticks (4 s), expiry checked every tick.
    assert!(
        waited > Duration::from_secs(1) && waited < Duration::from_secs(12),
        "{waited:?}"
    );
    ok(&waiter.finish(LIMIT));
    drop(holder);
}

/// A holder whose session expires (it was stopped meanwhile) stops its command with SIGTERM
/// and exits 8.
#[test]
fn a_holder_whose_session_expires_stops_its_command() {
    let dir = Scratch::new();
    let path = format!("{}/lock", root());
    let (pid_file, log) = (dir.file("pid"), dir.file("log"));
    // (Standard error goes nowhere: the shell reports its sleep's death by SIGTERM there.)
    let script = format!(
        "exec 2>/dev/null; trap 'echo TERM >> {log}; exit 0' TERM; echo $$ > '{pid_file}'; \
         echo started >> '{log}'; while true; do sleep 0.1; done"
    );
    let holder = Running::spawn(zkctl().args([
        "--session-timeout",
        "2s",
        "lock",
        &path,
        "--grace",
        "5s",
        "--",
        "sh",
        "-c",
        &script,
    ]))
    .also_kill(&pid_file);
    wait_for("the command starts", LIMIT, || {
        text(&log).contains("started")
    });

    // Stopped, zkctl cannot keep its session alive: once it expired, another zkctl locks.
    holder.signal(Signal::SIGSTOP);
    ok(&run_within(
        zkctl().args(["lock", &path, "--", "true"]),
        LIMIT,
    ));
    holder.signal(Signal::SIGCONT);
    let out = holder.finish(LIMIT);
    let line = failed(&out, 8);
    assert!(
        line.starts_with(&format!("zkctl: lost the lock on {path} (")),
        "{line}"
    );
    assert!(line.ends_with("stopped sh: it exited with 0"), "{line}");
    assert_eq!(text(&log), "started\nTERM\n");
}

/// `semaphore -n 2` admits two commands at once; `elect` runs the leader's command while an
/// observer prints the leader and the change when it resigns.
#[test]
fn semaphore_admits_n_and_election_runs_the_leader_s_command() {
    let dir = Scratch::new();
    let base = root();

    let (log, slots) = (dir.file("log"), format!("{base}/slots"));
    let script = marking(&log, "$ZK_PERMIT", "0.8");
    let args = vec![
        ["semaphore", &slots, "-n", "2", "--", "sh", "-c", &script]
            .map(str::to_owned)
            .to_vec();
        3
    ];
    for output in run_all(&args) {
        ok(&output);
    }
    let (starts, most) = replay(&log);
    assert_eq!((starts.len(), most), (3, 2), "{}", text(&log));
    assert!(starts.iter().all(|start| start[1].starts_with(&slots)));

    let (leading, election) = (dir.file("leading"), format!("{base}/election"));
    let script = format!(r#"echo "$ZK_LEADER_ID $ZK_LEADER_TERM" > '{leading}'; sleep 1.5"#);
    let candidate = Running::spawn(zkctl().args([
        "elect", &election, "--id", "cand-a", "--", "sh", "-c", &script,
    ]));
    wait_for("the leader's command starts", LIMIT, || {
        text(&leading).ends_with('\n')
    });
    let (id, term) = text(&leading).trim().split_once(' ').map_or_else(
        || panic!("id and term: {:?}", text(&leading)),
        |(id, term)| (id.to_owned(), term.parse::<i64>().expect("a term")),
    );
    assert_eq!(id, "cand-a");
    assert!(term > 0);
    // The leader, then the change when its command ends and it resigns.
    let observe = ["elect", election.as_str(), "--observe", "--count", "1"];
    let mut json = vec!["--json"];
    json.extend(observe);
    let outputs = run_all(&[
        observe.map(str::to_owned).to_vec(),
        json.iter().map(|arg| (*arg).to_owned()).collect(),
    ]);
    assert_eq!(ok(&outputs[0]), "cand-a\nnone\n");
    assert_eq!(
        ok(&outputs[1]),
        "{\"leader\":\"cand-a\"}\n{\"leader\":null}\n"
    );
    ok(&candidate.finish(LIMIT));
}
