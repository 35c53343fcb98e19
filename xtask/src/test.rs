//! `cargo xtask test`: every check CI runs, in order, failing fast.

use std::time::{Duration, Instant};

use crate::Failure;
use crate::step::{Step, seconds};

/// Installs what is missing, then runs tidy, rustfmt, clippy, the tests and rustdoc.
pub(crate) fn run() -> Result<(), Failure> {
    let start = Instant::now();
    let mut timings: Vec<(&str, Duration)> = Vec::new();

    println!(
        "==> [setup] checking for rustfmt, clippy, ZooKeeper, and kazoo, Curator and javac \
         (zk-lock's interop tests)"
    );
    crate::setup::ensure_tools()?;
    timings.push(("setup", start.elapsed()));

    println!("\n==> [tidy] module docs and whitespace");
    let tidy_start = Instant::now();
    crate::tidy::run()?;
    timings.push(("tidy", tidy_start.elapsed()));
    println!("==> [tidy] ok in {}", seconds(tidy_start.elapsed()));

    let steps = [
        Step::cargo("fmt", &["fmt", "--all", "--", "--check"]),
        Step::cargo(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step::cargo("test", &["test", "--workspace", "--all-targets"]),
        Step::cargo("doctest", &["test", "--workspace", "--doc"]),
        Step::cargo("doc", &["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"),
    ];
    // A fresh clone (CI) gains nothing from incremental compilation, which costs time to
    // record; a developer's tree keeps it.
    let fresh = std::env::var_os("CI").is_some();
    for step in steps {
        let step = if fresh {
            step.env("CARGO_INCREMENTAL", "0")
        } else {
            step
        };
        let name = step.name();
        timings.push((name, step.run()?));
    }

    println!("\n==> all checks passed");
    for (name, elapsed) in &timings {
        println!("    {name:<8} {:>8}", seconds(*elapsed));
    }
    println!("    {:<8} {:>8}", "total", seconds(start.elapsed()));
    Ok(())
}
