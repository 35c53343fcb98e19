//! `cargo xtask bench`: the workspace's benchmarks.

use crate::Failure;
use crate::step::Step;

/// Runs `cargo bench --workspace` with `args` passed through.
///
/// Arguments after `--` go to the benchmark harness, as with `cargo bench`; with `-p`/`--package`
/// among the arguments only those packages run.
pub(crate) fn run(args: &[String]) -> Result<(), Failure> {
    let picks_packages = args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a.starts_with("-p") || a.starts_with("--package"));
    let mut step = Step::cargo("bench", &["bench"]);
    if !picks_packages {
        step = step.args(["--workspace"]);
    }
    step.args(args).run().map(drop)
}
