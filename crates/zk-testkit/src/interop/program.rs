//! `Program`: a helper program in kazoo (a Python script), Curator (a Java source file) or any
//! other executable, and the command that runs it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use super::error::InteropError;
use super::javac;
use super::software::kazoo_python;
use super::support;

/// The JVM options of a Java helper: quick start-up and a small heap (tests start many short
/// helpers on a busy machine), no SASL, and only warnings from Curator's and ZooKeeper's logs.
pub const JVM_FLAGS: &[&str] = &[
    "-XX:TieredStopAtLevel=1",
    "-XX:+UseSerialGC",
    "-Xmx128m",
    "-Dzookeeper.sasl.client=false",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
];

/// A helper program: what to run, before the arguments of one [`Helper`](super::Helper).
///
/// Building one checks nothing; [`Program::command`] (which [`Helper::start`](super::Helper::start)
/// calls) finds the software, compiles a Java helper once per process, and reports what is
/// missing with the command that installs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Kazoo {
        script: PathBuf,
        build_root: PathBuf,
    },
    Java {
        source: PathBuf,
        main_class: String,
        build_root: PathBuf,
    },
    Executable {
        program: PathBuf,
        args: Vec<OsString>,
    },
}

impl Program {
    /// A kazoo helper: `script` runs under the system Python, which must import kazoo
    /// (`python3-kazoo`), with `PYTHONHOME` removed and `PYTHONPATH` naming only the folder
    /// where the harness writes the `helper_support` module (once per process).
    ///
    /// That folder is under `<temp dir>/zk-testkit-interop` unless [`Program::build_root`]
    /// says otherwise.
    pub fn kazoo(script: impl Into<PathBuf>) -> Program {
        Program {
            name: "kazoo".to_owned(),
            kind: Kind::Kazoo {
                script: script.into(),
                build_root: default_build_root(),
            },
        }
    }

    /// A Curator helper: `source` is compiled with `javac`, together with the `HelperSupport`
    /// class, against Curator's jars (the first time a helper of it starts in this process),
    /// then `main_class` runs with [`JVM_FLAGS`].
    ///
    /// The classes go under `<temp dir>/zk-testkit-interop` unless [`Program::build_root`]
    /// says otherwise.
    pub fn curator(source: impl Into<PathBuf>, main_class: impl Into<String>) -> Program {
        Program {
            name: "Curator".to_owned(),
            kind: Kind::Java {
                source: source.into(),
                main_class: main_class.into(),
                build_root: default_build_root(),
            },
        }
    }

    /// Any other executable, run with `args` before each helper's own arguments (a helper in
    /// another language, or `/bin/sh -c SCRIPT` in a test of the harness itself).
    pub fn executable<I, A>(program: impl Into<PathBuf>, args: I) -> Program
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString>,
    {
        let program = program.into();
        let name = program.file_name().map_or_else(
            || program.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Program {
            name,
            kind: Kind::Executable {
                program,
                args: args.into_iter().map(Into::into).collect(),
            },
        }
    }

    /// Compiles a Curator helper, or writes a kazoo helper's support module, under `dir`
    /// (such as `env!("CARGO_TARGET_TMPDIR")`) instead.
    ///
    /// Each test process writes in its own `java-<pid>` and `python-<pid>` folders there and
    /// removes those of processes that are gone. Other programs ignore this.
    #[must_use]
    pub fn build_root(mut self, dir: impl Into<PathBuf>) -> Program {
        if let Kind::Kazoo { build_root, .. } | Kind::Java { build_root, .. } = &mut self.kind {
            *build_root = dir.into();
        }
        self
    }

    /// The name helpers' messages start with: `kazoo`, `Curator`, or the executable's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The command that runs the program, ready for a helper's own arguments.
    ///
    /// # Errors
    /// [`InteropError::Missing`] when Python with kazoo, a JDK or Curator is not installed,
    /// [`InteropError::Compile`] when `javac` rejects the source, [`InteropError::Io`] when
    /// the support code cannot be written.
    pub fn command(&self) -> Result<Command, InteropError> {
        match &self.kind {
            Kind::Kazoo { script, build_root } => {
                let mut command = Command::new(kazoo_python()?);
                command
                    .arg(script)
                    .env("PYTHONPATH", support::python_path(build_root)?)
                    .env_remove("PYTHONHOME")
                    .env("PYTHONDONTWRITEBYTECODE", "1");
                Ok(command)
            }
            Kind::Java {
                source,
                main_class,
                build_root,
            } => {
                let build = javac::compiled(source, main_class, build_root)?;
                let mut command = Command::new(build.java);
                command
                    .args(JVM_FLAGS)
                    .arg("-cp")
                    .arg(build.classpath)
                    .arg(main_class);
                Ok(command)
            }
            Kind::Executable { program, args } => {
                let mut command = Command::new(program);
                command.args(args);
                Ok(command)
            }
        }
    }
}

/// Where helpers build unless [`Program::build_root`] says otherwise.
fn default_build_root() -> PathBuf {
    std::env::temp_dir().join("zk-testkit-interop")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sources() {
        let kazoo = Program::kazoo("/helpers/kazoo_queue.py");
        assert_eq!(kazoo.name(), "kazoo");
        assert_eq!(
            kazoo.kind,
            Kind::Kazoo {
                script: "/helpers/kazoo_queue.py".into(),
                build_root: std::env::temp_dir().join("zk-testkit-interop"),
            }
        );
        assert_eq!(
            kazoo.build_root("/target/tmp").kind,
            Kind::Kazoo {
                script: "/helpers/kazoo_queue.py".into(),
                build_root: "/target/tmp".into(),
            }
        );
        let curator = Program::curator("/helpers/CuratorQueue.java", "CuratorQueue")
            .build_root("/target/tmp");
        assert_eq!(curator.name(), "Curator");
        assert_eq!(
            curator.kind,
            Kind::Java {
                source: "/helpers/CuratorQueue.java".into(),
                main_class: "CuratorQueue".into(),
                build_root: "/target/tmp".into(),
            }
        );
        let shell = Program::executable("/bin/sh", ["-c", "exit 0"]).build_root("/ignored");
        assert_eq!(shell.name(), "sh");
        assert!(matches!(shell.kind, Kind::Executable { .. }));
    }

    #[test]
    fn an_executable_runs_with_its_leading_arguments() {
        let command = Program::executable("/bin/sh", ["-c", "exit 0"])
            .command()
            .unwrap();
        assert_eq!(command.get_program(), "/bin/sh");
        assert_eq!(command.get_args().collect::<Vec<_>>(), ["-c", "exit 0"]);
    }

    #[test]
    fn a_java_source_that_cannot_compile_is_reported() {
        // With a JDK and Curator installed javac fails; without them the error names a package.
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("no-such/Missing.java");
        let root = std::env::temp_dir().join(format!("zk-testkit-javac-{}", std::process::id()));
        match Program::curator(&source, "Missing")
            .build_root(&root)
            .command()
        {
            Err(InteropError::Compile { file: failed, .. }) => assert_eq!(failed, source),
            Err(InteropError::Missing { packages, .. }) => assert_eq!(packages.len(), 1),
            other => panic!("a missing source cannot compile: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
