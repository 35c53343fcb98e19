//! Compiling a Java helper against the Curator class path: once per test process, into a build
//! folder named for that process, which a later process removes once this one is gone.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

use super::error::InteropError;
use super::software::{JavaTools, curator_classpath};

/// The prefix of a test process's build folder under a build root: `java-<pid>`.
const BUILD_PREFIX: &str = "java-";

/// A compiled Java helper: the `java` that runs it and its class path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JavaBuild {
    /// The JDK's `java`.
    pub(crate) java: PathBuf,
    /// The compiled classes, then the Curator jars, joined for `-cp`.
    pub(crate) classpath: OsString,
}

/// What identifies one compilation in a process.
type BuildKey = (PathBuf, String, PathBuf);

/// Compiles `source` (whose entry point is `main_class`) under `build_root` the first time it
/// is asked for in this process; later calls return the first answer, failure included.
pub(crate) fn compiled(
    source: &Path,
    main_class: &str,
    build_root: &Path,
) -> Result<JavaBuild, InteropError> {
    static BUILDS: Mutex<Vec<(BuildKey, Result<JavaBuild, InteropError>)>> = Mutex::new(Vec::new());
    // Held while compiling: a second test asking for the same helper waits for the first.
    let mut builds = BUILDS.lock().unwrap_or_else(PoisonError::into_inner);
    let key = (
        source.to_path_buf(),
        main_class.to_owned(),
        build_root.to_path_buf(),
    );
    if let Some((_, built)) = builds.iter().find(|(k, _)| *k == key) {
        return built.clone();
    }
    let classes = build_root
        .join(format!("{BUILD_PREFIX}{}", std::process::id()))
        .join(format!("{}-{main_class}", builds.len()));
    let built = compile(source, build_root, &classes);
    builds.push((key, built.clone()));
    built
}

/// Runs `javac` on `source` into `classes`, after sweeping `build_root` of dead processes'
/// builds.
fn compile(source: &Path, build_root: &Path, classes: &Path) -> Result<JavaBuild, InteropError> {
    let jars = curator_classpath()?;
    let tools = JavaTools::find()?;
    sweep_dead_builds(build_root);
    std::fs::create_dir_all(classes)
        .map_err(|e| InteropError::io(format!("create {}", classes.display()), e))?;
    let jar_path =
        std::env::join_paths(&jars).map_err(|e| InteropError::io("join the class path", e))?;
    let out = Command::new(&tools.javac)
        .arg("-d")
        .arg(classes)
        .arg("-cp")
        .arg(&jar_path)
        .arg(source)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| InteropError::io(format!("run {}", tools.javac.display()), e))?;
    if !out.status.success() {
        return Err(InteropError::Compile {
            file: source.to_path_buf(),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    let classpath = std::iter::once(classes.to_path_buf()).chain(jars);
    Ok(JavaBuild {
        java: tools.java,
        classpath: std::env::join_paths(classpath)
            .map_err(|e| InteropError::io("join the class path", e))?,
    })
}

/// Removes the build folders under `build_root` of test processes that are no longer running.
fn sweep_dead_builds(build_root: &Path) {
    let Ok(entries) = std::fs::read_dir(build_root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(BUILD_PREFIX)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_removes_only_dead_processes_builds() {
        let root = std::env::temp_dir().join(format!("zk-testkit-sweep-{}", std::process::id()));
        // Above Linux's largest possible PID (2^22), so never a running process.
        let dead = root.join("java-4194305");
        let alive = root.join(format!("java-{}", std::process::id()));
        let other = root.join("java-notapid");
        let foreign = root.join("kept-4194305");
        for dir in [&dead, &alive, &other, &foreign] {
            std::fs::create_dir_all(dir.join("0-Main")).unwrap();
        }
        sweep_dead_builds(&root);
        assert!(!dead.exists(), "a dead process's build is removed");
        assert!(alive.exists() && other.exists() && foreign.exists());
        std::fs::remove_dir_all(&root).unwrap();
        sweep_dead_builds(&root); // a missing root is nothing to sweep
    }
}
