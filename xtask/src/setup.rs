//! Installing what the checks need when it is missing: rustfmt, clippy and the ZooKeeper server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::Failure;
use crate::step::Step;

/// Where the Debian `zookeeper` package puts the server jar.
const ZOOKEEPER_DIRS: &[&str] = &[
    "/usr/share/zookeeper",
    "/usr/share/zookeeper/lib",
    "/usr/share/java",
];

/// What to tell the user when ZooKeeper cannot be installed for them.
const ZOOKEEPER_HINT: &str = "install ZooKeeper with `apt-get install -y zookeeper` (as root), \
     then run `cargo xtask test` again";

/// Installs every missing tool, saying what it does.
pub(crate) fn ensure_tools() -> Result<(), Failure> {
    ensure_component("rustfmt", "fmt")?;
    ensure_component("clippy", "clippy")?;
    ensure_zookeeper()
}

/// Adds a rustup component when `cargo <subcommand> --version` fails.
fn ensure_component(component: &'static str, subcommand: &str) -> Result<(), Failure> {
    if succeeds(Command::new(crate::cargo()).args([subcommand, "--version"])) {
        println!("==> {component} is installed");
        return Ok(());
    }
    println!("==> {component} is missing: installing it with `rustup component add {component}`");
    Step::new("install", "rustup")
        .args(["component", "add", component])
        .run()
        .map_err(|e| format!("{e}\n  (could not install {component}; is rustup installed?)"))?;
    if succeeds(Command::new(crate::cargo()).args([subcommand, "--version"])) {
        Ok(())
    } else {
        Err(format!(
            "`cargo {subcommand} --version` still fails after installing {component}"
        ))
    }
}

/// Installs the Debian `zookeeper` package unless its jar is already there.
fn ensure_zookeeper() -> Result<(), Failure> {
    if let Some(jar) = zookeeper_jar() {
        println!("==> ZooKeeper is installed ({})", jar.display());
        return Ok(());
    }
    println!("==> ZooKeeper is missing: installing the Debian package `zookeeper` with apt-get");
    if !succeeds(Command::new("apt-get").arg("--version")) {
        return Err(format!("apt-get is not available; {ZOOKEEPER_HINT}"));
    }
    // Root runs apt-get directly; anyone else needs sudo that does not ask for a password,
    // since CI has no terminal. `env` carries DEBIAN_FRONTEND past sudo's environment reset.
    let prefix: &[&str] = if is_root() {
        &["env", "DEBIAN_FRONTEND=noninteractive"]
    } else if succeeds(Command::new("sudo").args(["-n", "true"])) {
        &["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
    } else {
        return Err(format!(
            "not running as root and sudo needs a password or is missing; {ZOOKEEPER_HINT}"
        ));
    };
    for (name, args) in [
        ("apt-get update", &["apt-get", "update"][..]),
        (
            "apt-get install",
            &["apt-get", "install", "-y", "zookeeper"][..],
        ),
    ] {
        let argv: Vec<&str> = prefix.iter().chain(args).copied().collect();
        Step::new(name, argv[0])
            .args(&argv[1..])
            .run()
            .map_err(|e| format!("{e}\n  {ZOOKEEPER_HINT}"))?;
    }
    match zookeeper_jar() {
        Some(jar) => {
            println!("==> ZooKeeper installed ({})", jar.display());
            Ok(())
        }
        None => Err(format!(
            "apt-get finished but no ZooKeeper jar is in {}; {ZOOKEEPER_HINT}",
            ZOOKEEPER_DIRS.join(" or ")
        )),
    }
}

/// The first `zookeeper*.jar` in the Debian package's folders.
fn zookeeper_jar() -> Option<PathBuf> {
    ZOOKEEPER_DIRS
        .iter()
        .find_map(|dir| find_jar(Path::new(dir)))
}

fn find_jar(dir: &Path) -> Option<PathBuf> {
    let mut jars: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("zookeeper") && n.ends_with(".jar"))
        })
        .collect();
    jars.sort();
    jars.into_iter().next()
}

/// True when the effective user is root (read from `/proc`, falling back to `id -u`).
fn is_root() -> bool {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(uids) = status.lines().find_map(|l| l.strip_prefix("Uid:")) {
            // Real, effective, saved and filesystem ids; the effective one decides.
            return uids.split_whitespace().nth(1) == Some("0");
        }
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"0")
}

/// Runs a probe quietly; true when it exits with 0.
pub(crate) fn succeeds(command: &mut Command) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
