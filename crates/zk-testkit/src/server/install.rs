//! Locating Java and the ZooKeeper server jars (the Debian `zookeeper` package, or `ZOOKEEPER_HOME`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::error::{HarnessError, Result};

/// Environment variable naming an unpacked ZooKeeper release (with `lib/*.jar`) to use instead
/// of the Debian package.
pub const ZOOKEEPER_HOME_VAR: &str = "ZOOKEEPER_HOME";

/// Where the Debian `zookeeper` package puts its jars.
const DEBIAN_DIRS: &[&str] = &[
    "/usr/share/zookeeper",
    "/usr/share/zookeeper/lib",
    "/usr/share/java",
];

/// The standalone server's main class (what `zkServer.sh` runs for a config without peers).
pub const STANDALONE_MAIN: &str = "org.apache.zookeeper.server.ZooKeeperServerMain";

/// The ensemble member's main class (what `zkServer.sh` runs through `zkEnv.sh`'s `ZOOMAIN`).
pub const QUORUM_MAIN: &str = "org.apache.zookeeper.server.quorum.QuorumPeerMain";

/// A Java runtime and the class path of a ZooKeeper server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// The `java` executable.
    pub java: PathBuf,
    /// The server jar (`zookeeper.jar` or `zookeeper-<version>.jar`).
    pub server_jar: PathBuf,
    /// Every class-path entry, the server jar first.
    ///
    /// The Debian jar names its dependencies in its manifest, so the harness adds only the
    /// jute jar and the `slf4j-simple` binding, which sends the server's log to a file.
    /// A release directory contributes all of `lib/*.jar`.
    pub classpath: Vec<PathBuf>,
}

impl Installation {
    /// Finds Java and ZooKeeper once per process and returns the cached answer.
    ///
    /// # Errors
    /// [`HarnessError::NotInstalled`] naming what is missing, with the install command.
    pub fn detect() -> Result<&'static Installation> {
        static DETECTED: OnceLock<Result<Installation>> = OnceLock::new();
        DETECTED
            .get_or_init(|| {
                let home = std::env::var_os(ZOOKEEPER_HOME_VAR).map(PathBuf::from);
                let mut dirs: Vec<PathBuf> = Vec::new();
                if let Some(home) = &home {
                    dirs.push(home.join("lib"));
                    dirs.push(home.clone());
                }
                dirs.extend(DEBIAN_DIRS.iter().map(PathBuf::from));
                Installation::find(&dirs, find_java())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Builds an installation from the first server jar in `dirs` and the given `java`.
    pub(crate) fn find(dirs: &[PathBuf], java: Option<PathBuf>) -> Result<Installation> {
        let looked = dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let Some(server_jar) = dirs.iter().find_map(|d| server_jar_in(d)) else {
            return Err(HarnessError::NotInstalled {
                what: "the ZooKeeper server jar (zookeeper.jar)".into(),
                looked,
            });
        };
        let Some(java) = java else {
            return Err(HarnessError::NotInstalled {
                what: "java".into(),
                looked: format!("$JAVA_HOME/bin and $PATH (ZooKeeper is at {looked})"),
            });
        };
        let dir = server_jar.parent().unwrap_or(Path::new("/"));
        let mut classpath = vec![server_jar.clone()];
        if dir.file_name().is_some_and(|n| n == "lib") {
            // A release directory: every dependency (and its logback binding) sits beside it.
            let mut jars = jars_in(dir);
            jars.retain(|j| *j != server_jar);
            classpath.extend(jars);
        } else {
            // The Debian layout (/usr/share/java): the jute and logging jars, and Netty's,
            // which the TLS client port needs (the server jar's manifest lists only some).
            for name in [
                "zookeeper-jute.jar",
                "slf4j-api.jar",
                "slf4j-simple.jar",
                "netty-buffer.jar",
                "netty-codec.jar",
                "netty-common.jar",
                "netty-handler.jar",
                "netty-resolver.jar",
                "netty-transport.jar",
                "netty-transport-native-epoll.jar",
                "netty-transport-native-unix-common.jar",
            ] {
                let jar = dir.join(name);
                if jar.is_file() {
                    classpath.push(jar);
                }
            }
        }
        Ok(Installation {
            java,
            server_jar,
            classpath,
        })
    }

    /// The class path joined with `:`, for `java -cp`.
    pub fn classpath_arg(&self) -> OsString {
        std::env::join_paths(&self.classpath).unwrap_or_else(|_| self.server_jar.clone().into())
    }
}

/// `zookeeper.jar`, else `zookeeper-<digit>….jar`, in `dir`.
fn server_jar_in(dir: &Path) -> Option<PathBuf> {
    let plain = dir.join("zookeeper.jar");
    if plain.is_file() {
        return Some(plain);
    }
    jars_in(dir).into_iter().find(|jar| {
        jar.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("zookeeper-"))
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// The `*.jar` files in `dir`, sorted; empty when `dir` is unreadable.
fn jars_in(dir: &Path) -> Vec<PathBuf> {
    let mut jars: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jar") && p.is_file())
        .collect();
    jars.sort();
    jars
}

/// `$JAVA_HOME/bin/java`, else the first `java` on `PATH`.
fn find_java() -> Option<PathBuf> {
    let from_home = std::env::var_os("JAVA_HOME").map(|h| PathBuf::from(h).join("bin/java"));
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("java")).collect())
        .unwrap_or_default();
    from_home.into_iter().chain(on_path).find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_jars_name_the_install_command() {
        let err = Installation::find(&[PathBuf::from("/nonexistent/zk")], None).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, HarnessError::NotInstalled { .. }));
        assert!(
            message.contains("apt-get install -y zookeeper"),
            "{message}"
        );
        assert!(message.contains("/nonexistent/zk"), "{message}");
    }

    #[test]
    fn missing_java_names_the_install_command() {
        let dir = std::env::temp_dir().join(format!("zk-testkit-install-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("lib/zookeeper-3.9.1.jar"), b"").unwrap();
        std::fs::write(dir.join("lib/netty.jar"), b"").unwrap();
        let err = Installation::find(&[dir.join("lib")], None).unwrap_err();
        assert!(err.to_string().starts_with("java not found"), "{err}");
        let found = Installation::find(&[dir.join("lib")], Some("/bin/true".into())).unwrap();
        assert_eq!(found.server_jar, dir.join("lib/zookeeper-3.9.1.jar"));
        assert_eq!(
            found.classpath,
            vec![
                dir.join("lib/zookeeper-3.9.1.jar"),
                dir.join("lib/netty.jar")
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
