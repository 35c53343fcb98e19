//! Workspace automation, run as `cargo xtask <command>` (an alias in `.cargo/config.toml`).
//!
//! - `cargo xtask test`: installs what is missing, then runs tidy, rustfmt, clippy, the tests
//!   and rustdoc, failing fast and naming the failed step.
//! - `cargo xtask bench [ARGS...]`: runs `cargo bench --workspace ARGS...`.
//! - `cargo xtask fuzz [--seconds N] [--target NAME]`: runs the `cargo fuzz` targets in `fuzz/`
//!   for N seconds each (default 60), then replays the saved inputs in `fuzz/regressions/`.
//! - `cargo xtask tidy`: checks module docs and whitespace in every Rust file.

mod bench;
mod fuzz;
mod setup;
mod step;
mod test;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  test          install what is missing (rustfmt, clippy, ZooKeeper, and for the interop
                tests python3-kazoo, libcurator-recipes-java, libcurator-discovery-java
                and a JDK), then run tidy, cargo fmt --check, clippy -D warnings, the
                tests and cargo doc -D warnings
  bench [ARGS]  run cargo bench --workspace, passing ARGS through
  fuzz [--seconds N] [--target NAME]
                install cargo-fuzz if missing, run each fuzz target in fuzz/ (or the
                named one) for N seconds (default 60; 0 only replays) on the stable
                toolchain, failing on any crash, then replay fuzz/regressions/TARGET/*
  tidy          check that every .rs file opens with a //! line and has no trailing
                whitespace or tabs
  help          print this message";

/// The error every command returns: a message for the user.
pub(crate) type Failure = String;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let result = match command.as_deref() {
        Some("test") if rest.is_empty() => test::run(),
        Some("bench") => bench::run(&rest),
        Some("fuzz") => fuzz::run(&rest),
        Some("tidy") if rest.is_empty() => tidy::run(),
        Some("help" | "-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!(
                "xtask: unknown command or arguments: {other} {}",
                rest.join(" ")
            );
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
        None => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this package's folder.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The cargo binary that runs us (cargo sets `CARGO`), or `cargo` from the `PATH`.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}
