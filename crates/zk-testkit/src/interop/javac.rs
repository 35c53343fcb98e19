//! Compiling a Java helper, with the support class every helper uses, against the Curator class
//! path: once per test process, into the process's `java-<pid>` folder (see [`support`]).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

use super::error::InteropError;
use super::software::{JavaTools, curator_classpath};
use super::support::{self, JAVA_SUPPORT};

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
    let classes = format!("{}-{main_class}", builds.len());
    let built = compile(source, build_root, &classes);
    builds.push((key, built.clone()));
    built
}

/// Runs `javac` on `source` and `HelperSupport.java` into the folder `classes` of this
/// process's `java-<pid>` folder under `build_root`.
fn compile(source: &Path, build_root: &Path, classes: &str) -> Result<JavaBuild, InteropError> {
    let jars = curator_classpath()?;
    let tools = JavaTools::find()?;
    let classes = support::process_dir(build_root, "java")?.join(classes);
    std::fs::create_dir_all(&classes)
        .map_err(|e| InteropError::io(format!("create {}", classes.display()), e))?;
    // Among the classes: `java` ignores a source file on its class path.
    let helper_support = JAVA_SUPPORT.write_into(&classes)?;
    let jar_path =
        std::env::join_paths(&jars).map_err(|e| InteropError::io("join the class path", e))?;
    let out = Command::new(&tools.javac)
        .arg("-d")
        .arg(&classes)
        .arg("-cp")
        .arg(&jar_path)
        .arg(source)
        .arg(helper_support)
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
    let classpath = std::iter::once(classes).chain(jars);
    Ok(JavaBuild {
        java: tools.java,
        classpath: std::env::join_paths(classpath)
            .map_err(|e| InteropError::io("join the class path", e))?,
    })
}
