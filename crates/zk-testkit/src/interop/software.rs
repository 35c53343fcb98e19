//! Finding the installed software the helpers run on: the system Python with kazoo, a JDK, and
//! Curator's jars (its recipes and its service discovery), as listed in `debian-packages.txt`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::error::InteropError;

/// The list of what the helpers need, shared with `cargo xtask test`, which installs it.
const DEBIAN_PACKAGES: &str = include_str!("debian-packages.txt");

/// The value of `key` in `list` (`key: value` lines, `#` comments), if there is one.
fn field<'a>(list: &'a str, key: &str) -> Option<&'a str> {
    list.lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// The value of `key` in `debian-packages.txt`; every key read here is checked by a unit test.
fn listed(key: &str) -> &'static str {
    field(DEBIAN_PACKAGES, key)
        .unwrap_or_else(|| panic!("debian-packages.txt has no `{key}:` line"))
}

/// A Debian package the helpers need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Package {
    /// kazoo for the system Python (`python3-kazoo`).
    Kazoo,
    /// A JDK: `javac` compiles the Java helpers, `java` runs them (`default-jdk-headless`).
    Jdk,
    /// Curator and its dependencies' jars (`libcurator-recipes-java`).
    Curator,
    /// Curator's service discovery and the Jackson jars it needs
    /// (`libcurator-discovery-java`).
    Discovery,
}

impl Package {
    /// The Debian package name, for `apt-get install`.
    pub fn name(self) -> &'static str {
        listed(match self {
            Package::Kazoo => "kazoo-package",
            Package::Jdk => "jdk-package",
            Package::Curator => "curator-package",
            Package::Discovery => "discovery-package",
        })
    }

    /// The jars in [`java_dir`] this package installs (with its dependencies) that a Java
    /// helper's class path needs; none for the packages that are not Java libraries.
    pub fn jars(self) -> Vec<&'static str> {
        match self {
            Package::Kazoo | Package::Jdk => Vec::new(),
            Package::Curator => listed("curator-jars").split_whitespace().collect(),
            Package::Discovery => listed("discovery-jars").split_whitespace().collect(),
        }
    }
}

/// The Java library packages, in class path order.
const JAVA_LIBRARIES: [Package; 2] = [Package::Curator, Package::Discovery];

/// What to tell someone who lacks `packages`: the `apt-get` command that installs them, and
/// `cargo xtask test`, which installs everything the tests need.
pub fn install_hint(packages: &[&str]) -> String {
    format!(
        "install it with `apt-get install -y {}` (as root), or run `cargo xtask test`, \
         which installs it",
        packages.join(" ")
    )
}

/// The Python the kazoo helpers run under: the system one, which sees Debian's
/// `python3-kazoo` (a pyenv or virtualenv `python3` first on the `PATH` does not).
pub fn system_python() -> &'static Path {
    Path::new(listed("python"))
}

/// The folder where Debian's Java library packages put their jars (`/usr/share/java`).
pub fn java_dir() -> &'static Path {
    Path::new(listed("java-dir"))
}

/// The file names of the jars in [`java_dir`] that a Java helper's class path needs: Curator
/// 5.4 and what it loads at run time (ZooKeeper, Guava, SLF4J), then Curator's service
/// discovery and the Jackson jars it needs (see [`Package::jars`]).
pub fn curator_jars() -> Vec<&'static str> {
    JAVA_LIBRARIES.into_iter().flat_map(Package::jars).collect()
}

/// Checks once per process that [`system_python`] imports kazoo, and returns it.
///
/// # Errors
/// [`InteropError::Missing`] with the install command when Python or kazoo is missing.
pub fn kazoo_python() -> Result<&'static Path, InteropError> {
    static CHECKED: OnceLock<Result<(), InteropError>> = OnceLock::new();
    CHECKED
        .get_or_init(|| check_kazoo(system_python()))
        .clone()
        .map(|()| system_python())
}

/// Runs `python` to import kazoo, with no `PYTHONPATH` or `PYTHONHOME` helping.
fn check_kazoo(python: &Path) -> Result<(), InteropError> {
    let out = Command::new(python)
        .args([
            "-c",
            "import kazoo.client, kazoo.version; print(kazoo.version.__version__)",
        ])
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .stdin(Stdio::null())
        .output();
    let kazoo = Package::Kazoo.name();
    match out {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(InteropError::missing(
            format!(
                "{} cannot import kazoo ({}): the Debian package {kazoo} is missing",
                python.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            &[kazoo],
        )),
        Err(e) => Err(InteropError::missing(
            format!("cannot run {} ({e})", python.display()),
            &["python3", kazoo],
        )),
    }
}

/// The class path of a Java helper: every jar of [`curator_jars`] in [`java_dir`], plus the
/// `slf4j-simple` binding when it is there (so Curator's and ZooKeeper's warnings reach the
/// helper's standard error).
///
/// # Errors
/// [`InteropError::Missing`] naming the first missing jar, with the command that installs the
/// package it comes from.
pub fn curator_classpath() -> Result<Vec<PathBuf>, InteropError> {
    classpath_in(java_dir())
}

fn classpath_in(dir: &Path) -> Result<Vec<PathBuf>, InteropError> {
    let mut jars = Vec::new();
    for package in JAVA_LIBRARIES {
        for jar in package.jars() {
            let jar = dir.join(jar);
            if !jar.is_file() {
                let what = match package {
                    Package::Discovery => "Curator's service discovery",
                    _ => "Curator",
                };
                let name = package.name();
                return Err(InteropError::missing(
                    format!(
                        "{} is missing: {what} (Debian {name}) is not installed",
                        jar.display()
                    ),
                    &[name],
                ));
            }
            jars.push(jar);
        }
    }
    let binding = dir.join("slf4j-simple.jar");
    if binding.is_file() {
        jars.push(binding);
    }
    Ok(jars)
}

/// The JDK's compiler and launcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JavaTools {
    /// `javac`.
    pub javac: PathBuf,
    /// `java`, from the same JDK as `javac` when it has one.
    pub java: PathBuf,
}

impl JavaTools {
    /// Finds `javac` in `$JAVA_HOME/bin` or on the `PATH`, and the `java` beside it (else the
    /// first one found the same way).
    ///
    /// # Errors
    /// [`InteropError::Missing`] naming the missing program, with the install command.
    pub fn find() -> Result<JavaTools, InteropError> {
        let jdk = Package::Jdk.name();
        let javac = find_program("javac").ok_or_else(|| {
            InteropError::missing("javac is not in $JAVA_HOME/bin or on the PATH", &[jdk])
        })?;
        let java = Some(javac.with_file_name("java"))
            .filter(|java| java.is_file())
            .or_else(|| find_program("java"))
            .ok_or_else(|| {
                InteropError::missing("java is not in $JAVA_HOME/bin or on the PATH", &[jdk])
            })?;
        Ok(JavaTools { javac, java })
    }
}

/// `name` in `$JAVA_HOME/bin`, else the first on the `PATH`.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let from_home = std::env::var_os("JAVA_HOME").map(|home| PathBuf::from(home).join("bin"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    from_home
        .into_iter()
        .chain(std::env::split_paths(&path))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_every_package_and_jar() {
        assert_eq!(Package::Kazoo.name(), "python3-kazoo");
        assert_eq!(Package::Jdk.name(), "default-jdk-headless");
        assert_eq!(Package::Curator.name(), "libcurator-recipes-java");
        assert_eq!(Package::Discovery.name(), "libcurator-discovery-java");
        assert_eq!(system_python(), Path::new("/usr/bin/python3"));
        assert_eq!(java_dir(), Path::new("/usr/share/java"));
        let jars = curator_jars();
        assert_eq!(jars.first(), Some(&"curator-recipes.jar"));
        assert!(jars.contains(&"zookeeper.jar"), "{jars:?}");
        let discovery = Package::Discovery.jars();
        assert_eq!(discovery.first(), Some(&"curator-x-discovery.jar"));
        assert!(discovery.contains(&"jackson-databind.jar"), "{discovery:?}");
        assert!(jars.ends_with(&discovery), "{jars:?} end with discovery's");
        assert!(Package::Kazoo.jars().is_empty() && Package::Jdk.jars().is_empty());
        assert!(jars.iter().all(|jar| jar.ends_with(".jar")), "{jars:?}");
    }

    #[test]
    fn fields_skip_comments_and_other_keys() {
        let list =
            "# python: /not/this\nkazoo-package: a\npython: /usr/bin/python3 # the system one\n";
        assert_eq!(field(list, "python"), Some("/usr/bin/python3"));
        assert_eq!(field(list, "kazoo-package"), Some("a"));
        assert_eq!(field(list, "kazoo"), None, "a key is matched whole");
        assert_eq!(field(list, "jdk-package"), None);
    }

    #[test]
    fn the_install_hint_gives_the_command() {
        let hint = install_hint(&["python3", "python3-kazoo"]);
        assert!(
            hint.contains("`apt-get install -y python3 python3-kazoo` (as root)"),
            "{hint}"
        );
        assert!(hint.contains("cargo xtask test"), "{hint}");
    }

    #[test]
    fn a_python_that_cannot_run_names_python_and_kazoo() {
        let err = check_kazoo(Path::new("/nonexistent/python3")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("cannot run /nonexistent/python3"),
            "{message}"
        );
        assert!(
            message.contains("apt-get install -y python3 python3-kazoo"),
            "{message}"
        );
    }

    #[test]
    fn a_python_without_kazoo_names_the_kazoo_package() {
        // `false` runs but fails the import, as a Python without kazoo does.
        let Some(false_program) = find_program("false") else {
            return;
        };
        let err = check_kazoo(&false_program).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("cannot import kazoo"), "{message}");
        assert!(
            message.contains("apt-get install -y python3-kazoo`"),
            "{message}"
        );
    }

    #[test]
    fn a_missing_jar_names_the_package_that_installs_it() {
        let dir = std::env::temp_dir().join(format!("zk-testkit-jars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("curator-recipes.jar"), b"").unwrap();
        let message = classpath_in(&dir).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "{} is missing",
                dir.join("curator-framework.jar").display()
            )),
            "{message}"
        );
        assert!(
            message.contains("apt-get install -y libcurator-recipes-java"),
            "{message}"
        );

        // Curator's recipes alone: the discovery jars are missing, and named by their package.
        for jar in Package::Curator.jars() {
            std::fs::write(dir.join(jar), b"").unwrap();
        }
        let message = classpath_in(&dir).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "{} is missing: Curator's service discovery",
                dir.join("curator-x-discovery.jar").display()
            )),
            "{message}"
        );
        assert!(
            message.contains("apt-get install -y libcurator-discovery-java`"),
            "{message}"
        );

        for jar in curator_jars() {
            std::fs::write(dir.join(jar), b"").unwrap();
        }
        let classpath = classpath_in(&dir).unwrap();
        assert_eq!(classpath.len(), curator_jars().len(), "no binding yet");
        std::fs::write(dir.join("slf4j-simple.jar"), b"").unwrap();
        let classpath = classpath_in(&dir).unwrap();
        assert_eq!(classpath.last(), Some(&dir.join("slf4j-simple.jar")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
