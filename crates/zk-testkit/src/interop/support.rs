//! The skeleton every helper shares, written once per language beside this module and embedded
//! in the harness: `HelperSupport.java`, which [`javac`](super::javac) compiles with each
//! Curator helper, and `helper_support.py`, which every kazoo helper imports from the folder
//! [`python_path`] writes it into. And the test process's own folders under a build root, where
//! both go: `java-<pid>` and `python-<pid>`, removed by a later process once this one is gone.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use super::error::InteropError;

/// A support file: its name and its text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SupportFile {
    name: &'static str,
    text: &'static str,
}

/// The Java support class, `HelperSupport` in the default package.
pub(crate) const JAVA_SUPPORT: SupportFile = SupportFile {
    name: "HelperSupport.java",
    text: include_str!("HelperSupport.java"),
};

/// The Python support module, `helper_support`.
pub(crate) const PYTHON_SUPPORT: SupportFile = SupportFile {
    name: "helper_support.py",
    text: include_str!("helper_support.py"),
};

impl SupportFile {
    /// Writes the file into `dir`, which exists, and returns its path.
    pub(crate) fn write_into(self, dir: &Path) -> Result<PathBuf, InteropError> {
        let path = dir.join(self.name);
        std::fs::write(&path, self.text)
            .map_err(|e| InteropError::io(format!("write {}", path.display()), e))?;
        Ok(path)
    }
}

/// What a process folder's name starts with, before the PID: one for each language.
const PROCESS_PREFIXES: [&str; 2] = ["java-", "python-"];

/// This process's folder for `language` (`java` or `python`) under `build_root`, created after
/// sweeping `build_root` of dead processes' folders.
pub(crate) fn process_dir(build_root: &Path, language: &str) -> Result<PathBuf, InteropError> {
    debug_assert!(PROCESS_PREFIXES.contains(&format!("{language}-").as_str()));
    sweep_dead_builds(build_root);
    let dir = build_root.join(format!("{language}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| InteropError::io(format!("create {}", dir.display()), e))?;
    Ok(dir)
}

/// The folder a kazoo helper's `PYTHONPATH` names: this process's `python-<pid>` folder under
/// `build_root`, with `helper_support.py` written into it the first time it is asked for;
/// later calls return the first answer, failure included.
pub(crate) fn python_path(build_root: &Path) -> Result<PathBuf, InteropError> {
    static WRITTEN: Mutex<Vec<(PathBuf, Result<PathBuf, InteropError>)>> = Mutex::new(Vec::new());
    // Held while writing: no helper starts before its module is whole.
    let mut written = WRITTEN.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, dir)) = written.iter().find(|(root, _)| root == build_root) {
        return dir.clone();
    }
    let dir = process_dir(build_root, "python")
        .and_then(|dir| PYTHON_SUPPORT.write_into(&dir).map(|_| dir));
    written.push((build_root.to_path_buf(), dir.clone()));
    dir
}

/// Removes the process folders under `build_root` of test processes that are no longer
/// running.
fn sweep_dead_builds(build_root: &Path) {
    let Ok(entries) = std::fs::read_dir(build_root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| {
            PROCESS_PREFIXES
                .iter()
                .find_map(|prefix| n.strip_prefix(prefix))
        }) else {
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
    use crate::interop::{Helper, Program, reply_timeout};

    /// A scratch build root for one test.
    fn scratch(test: &str) -> PathBuf {
        std::env::temp_dir().join(format!("zk-testkit-{test}-{}", std::process::id()))
    }

    #[test]
    fn the_sweep_removes_only_dead_processes_builds() {
        let root = scratch("sweep");
        // Above Linux's largest possible PID (2^22), so never a running process.
        let dead = root.join("java-4194305");
        let dead_python = root.join("python-4194305");
        let alive = root.join(format!("java-{}", std::process::id()));
        let other = root.join("java-notapid");
        let foreign = root.join("kept-4194305");
        for dir in [&dead, &dead_python, &alive, &other, &foreign] {
            std::fs::create_dir_all(dir.join("0-Main")).unwrap();
        }
        sweep_dead_builds(&root);
        assert!(!dead.exists(), "a dead process's build is removed");
        assert!(!dead_python.exists(), "its Python folder too");
        assert!(alive.exists() && other.exists() && foreign.exists());
        std::fs::remove_dir_all(&root).unwrap();
        sweep_dead_builds(&root); // a missing root is nothing to sweep
    }

    #[test]
    fn the_python_module_is_written_once_into_the_process_folder() {
        let root = scratch("python-path");
        let dir = python_path(&root).unwrap();
        assert_eq!(dir, root.join(format!("python-{}", std::process::id())));
        let module = dir.join("helper_support.py");
        assert_eq!(
            std::fs::read_to_string(&module).unwrap(),
            PYTHON_SUPPORT.text
        );
        std::fs::remove_file(&module).unwrap();
        assert_eq!(python_path(&root).unwrap(), dir, "the first answer");
        assert!(!module.exists(), "not written again");
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Writes a helper's `file` holding `text` into a scratch build root named for `test`,
    /// runs the `program` of it through the protocol the helpers below speak (`ready`, then
    /// `go`, after a command it skips, answered by `went`, then `stop` by `stopped`), and
    /// removes the root.
    async fn speaks_through_its_support(
        test: &str,
        file: &str,
        text: &str,
        program: impl FnOnce(PathBuf) -> Program,
    ) {
        let root = scratch(test);
        std::fs::create_dir_all(&root).unwrap();
        let path = root.join(file);
        std::fs::write(&path, text).unwrap();
        let program = program(path).build_root(&root);
        // Missing software fails the test with the install command, as everywhere.
        let mut helper = Helper::spawn(&program, &[]).unwrap_or_else(|e| panic!("{e}"));
        helper.expect("ready").await;
        helper.send("ignored");
        helper.send("go");
        helper.expect("went").await;
        helper.send("stop");
        assert_eq!(helper.finish(reply_timeout()).await, ["stopped"]);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn a_kazoo_helper_imports_the_support_module() {
        speaks_through_its_support(
            "kazoo-support",
            "uses_support.py",
            "from helper_support import say, skip_to, wait_for, watch_stdin\n\
             watch_stdin()\nsay('ready')\nskip_to('go')\nsay('went')\nwait_for('stop')\n\
             say('stopped')\n",
            Program::kazoo,
        )
        .await;
    }

    #[tokio::test]
    async fn a_curator_helper_compiles_with_the_support_class() {
        speaks_through_its_support(
            "curator-support",
            "UsesSupport.java",
            "public final class UsesSupport {\n\
               public static void main(String[] args) throws Exception {\n\
                 HelperSupport.watchStdin();\n\
                 HelperSupport.say(\"ready\");\n\
                 HelperSupport.skipTo(\"go\");\n\
                 HelperSupport.say(\"went\");\n\
                 HelperSupport.waitFor(\"stop\");\n\
                 HelperSupport.say(\"stopped\");\n\
                 System.exit(0);\n\
               }\n\
             }\n",
            |source| Program::curator(source, "UsesSupport"),
        )
        .await;
    }
}
