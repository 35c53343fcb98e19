//! Installing what the checks need when it is missing: rustfmt, clippy, the ZooKeeper server,
//! and the other libraries the recipes' interop tests run against (kazoo, Curator with its
//! service discovery, and a JDK to compile the Curator helpers).

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

/// What zk-testkit's interop helpers (kazoo, Curator and a JDK) run on: `key: value` lines.
/// zk-testkit owns the list, since it looks for exactly these; reading it here at compile time
/// keeps xtask free of dependencies and the list written once.
const INTEROP_LIST: &str = include_str!("../../crates/zk-testkit/src/interop/debian-packages.txt");

/// The value of `key` in [`INTEROP_LIST`] (empty if the list lacks it, which the unit test
/// below rules out).
fn interop(key: &str) -> &'static str {
    INTEROP_LIST
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .map_or("", |value| {
            value.split('#').next().unwrap_or_default().trim()
        })
}

/// A Debian package some test needs, and how to tell it is installed.
struct Package {
    /// The key of the package name in [`INTEROP_LIST`], for apt-get.
    key: &'static str,
    /// What it provides, for the messages.
    what: &'static str,
    /// True when what the tests use is there.
    installed: fn() -> bool,
}

impl Package {
    /// The package name, for apt-get.
    fn name(&self) -> &'static str {
        interop(self.key)
    }
}

/// What the interop tests (zk-testkit's `interop` module, used by the recipes' tests) run against.
const INTEROP_PACKAGES: &[Package] = &[
    Package {
        key: "kazoo-package",
        what: "kazoo for the system Python",
        installed: kazoo_installed,
    },
    Package {
        key: "curator-package",
        what: "Curator's jars",
        installed: curator_installed,
    },
    Package {
        key: "discovery-package",
        what: "Curator's service discovery jars, with Jackson",
        installed: discovery_installed,
    },
    Package {
        key: "jdk-package",
        what: "javac, to compile the Curator test helpers",
        installed: javac_installed,
    },
];

/// Installs every missing tool, saying what it does.
pub(crate) fn ensure_tools() -> Result<(), Failure> {
    ensure_component("rustfmt", "fmt")?;
    ensure_component("clippy", "clippy")?;
    ensure_zookeeper()?;
    ensure_packages(INTEROP_PACKAGES, "the kazoo and Curator interop tests")
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
    apt_get_install(&["zookeeper"], ZOOKEEPER_HINT)?;
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

/// Installs those of `packages` that are missing, with one apt-get run, saying what it does.
fn ensure_packages(packages: &[Package], needed_by: &str) -> Result<(), Failure> {
    let mut missing = Vec::new();
    for package in packages {
        if (package.installed)() {
            println!("==> {} is installed ({})", package.name(), package.what);
        } else {
            missing.push(package);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|p| p.name()).collect();
    let hint = format!(
        "install them with `apt-get install -y {}` (as root), then run `cargo xtask test` again",
        names.join(" ")
    );
    for package in &missing {
        println!(
            "==> {} is missing ({}, needed by {needed_by})",
            package.name(),
            package.what
        );
    }
    println!(
        "==> installing the Debian package(s) `{}` with apt-get",
        names.join(" ")
    );
    apt_get_install(&names, &hint)?;
    for package in &missing {
        if !(package.installed)() {
            return Err(format!(
                "apt-get finished but {} is still missing ({}); {hint}",
                package.name(),
                package.what
            ));
        }
        println!("==> {} installed ({})", package.name(), package.what);
    }
    Ok(())
}

/// Runs `apt-get update` and `apt-get install -y PACKAGES`, as root directly or through sudo
/// that does not ask for a password; `hint` says what to do by hand when that is impossible.
fn apt_get_install(packages: &[&str], hint: &str) -> Result<(), Failure> {
    if !succeeds(Command::new("apt-get").arg("--version")) {
        return Err(format!("apt-get is not available; {hint}"));
    }
    // Root runs apt-get directly; anyone else needs sudo that does not ask for a password,
    // since CI has no terminal. `env` carries DEBIAN_FRONTEND past sudo's environment reset.
    let prefix: &[&str] = if is_root() {
        &["env", "DEBIAN_FRONTEND=noninteractive"]
    } else if succeeds(Command::new("sudo").args(["-n", "true"])) {
        &["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]
    } else {
        return Err(format!(
            "not running as root and sudo needs a password or is missing; {hint}"
        ));
    };
    let install: Vec<&str> = ["apt-get", "install", "-y"]
        .into_iter()
        .chain(packages.iter().copied())
        .collect();
    for (name, args) in [
        ("apt-get update", &["apt-get", "update"][..]),
        ("apt-get install", &install[..]),
    ] {
        let argv: Vec<&str> = prefix.iter().chain(args).copied().collect();
        Step::new(name, argv[0])
            .args(&argv[1..])
            .run()
            .map_err(|e| format!("{e}\n  {hint}"))?;
    }
    Ok(())
}

/// True when the system Python imports kazoo (with no `PYTHONPATH` or `PYTHONHOME` helping).
fn kazoo_installed() -> bool {
    succeeds(
        Command::new(interop("python"))
            .args(["-c", "import kazoo.client"])
            .env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME"),
    )
}

/// True when every jar of Curator's part of the helpers' class path is in the Java library
/// folder.
fn curator_installed() -> bool {
    jars_installed("curator-jars")
}

/// True when every jar of Curator's service discovery (and the Jackson jars it needs) is in the
/// Java library folder.
fn discovery_installed() -> bool {
    jars_installed("discovery-jars")
}

/// True when every jar listed under `key` in [`INTEROP_LIST`] is in the Java library folder.
fn jars_installed(key: &str) -> bool {
    interop(key)
        .split_whitespace()
        .all(|jar| Path::new(interop("java-dir")).join(jar).is_file())
}

/// True when `javac` is in `$JAVA_HOME/bin` or on the `PATH` and runs.
fn javac_installed() -> bool {
    let from_home = std::env::var_os("JAVA_HOME").map(|home| PathBuf::from(home).join("bin"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    from_home
        .into_iter()
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join("javac"))
        .find(|javac| javac.is_file())
        .is_some_and(|javac| succeeds(Command::new(javac).arg("-version")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interop_list_names_every_package_and_path() {
        let names: Vec<&str> = INTEROP_PACKAGES.iter().map(Package::name).collect();
        assert_eq!(
            names,
            [
                "python3-kazoo",
                "libcurator-recipes-java",
                "libcurator-discovery-java",
                "default-jdk-headless"
            ]
        );
        assert_eq!(interop("python"), "/usr/bin/python3");
        assert_eq!(interop("java-dir"), "/usr/share/java");
        assert!(interop("curator-jars").starts_with("curator-recipes.jar "));
        assert!(interop("discovery-jars").starts_with("curator-x-discovery.jar "));
        assert_eq!(interop("no-such-key"), "");
    }
}
