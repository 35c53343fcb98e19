//! [`RecipeHelpers`]: the kazoo and Curator helpers of one recipe's interop tests, and starting
//! them against the shared test server.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{Helper, Program};
use crate::server::ZkServer;

/// The reference client library a helper process runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    /// kazoo, in Python (Debian `python3-kazoo`).
    Kazoo,
    /// Apache Curator, in Java (Debian `libcurator-recipes-java` and
    /// `libcurator-discovery-java`).
    Curator,
}

/// A recipe's interop helpers, which live in the `tests/interop/` folder of its crate: a kazoo
/// script and a Curator source whose file is named for its main class. Each [`Program`] is made
/// the first time it is asked for; the Curator helper compiles, and the kazoo helper's support
/// module is written, under `<CARGO_TARGET_TMPDIR>/<crate folder>-interop`.
///
/// Declared once per test binary, as a `static`:
///
/// ```no_run
/// use zk_testkit::interop::{Library, RecipeHelpers};
///
/// // In an integration test, the second argument is `env!("CARGO_TARGET_TMPDIR")`.
/// static HELPERS: RecipeHelpers = RecipeHelpers::new(env!("CARGO_MANIFEST_DIR"), "/tmp")
///     .kazoo("kazoo_queue.py")
///     .curator("CuratorQueue");
///
/// # async fn queue_interop() {
/// // `put`, the shared server's connect string, the path, then the rest.
/// let mut helper = HELPERS.start(Library::Kazoo, "put", "/queue", &["item"]);
/// helper.expect("put").await;
/// # }
/// ```
#[derive(Debug)]
pub struct RecipeHelpers {
    manifest_dir: &'static str,
    target_tmpdir: &'static str,
    kazoo: Option<&'static str>,
    curator: Option<&'static str>,
    programs: [OnceLock<Program>; 2],
}

impl RecipeHelpers {
    /// The helpers of the crate at `manifest_dir` (its `CARGO_MANIFEST_DIR`), compiled under
    /// `target_tmpdir` (its integration tests' `CARGO_TARGET_TMPDIR`); none yet.
    pub const fn new(manifest_dir: &'static str, target_tmpdir: &'static str) -> RecipeHelpers {
        RecipeHelpers {
            manifest_dir,
            target_tmpdir,
            kazoo: None,
            curator: None,
            programs: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// With the kazoo helper `tests/interop/<script>`.
    #[must_use]
    pub const fn kazoo(mut self, script: &'static str) -> RecipeHelpers {
        self.kazoo = Some(script);
        self
    }

    /// With the Curator helper `tests/interop/<main_class>.java`, whose class `main_class` has
    /// the `main`.
    #[must_use]
    pub const fn curator(mut self, main_class: &'static str) -> RecipeHelpers {
        self.curator = Some(main_class);
        self
    }

    /// The helper program in `library`.
    ///
    /// # Panics
    /// When the recipe has no helper in `library`.
    pub fn program(&self, library: Library) -> &Program {
        let dir = Path::new(self.manifest_dir).join("tests/interop");
        match library {
            Library::Kazoo => self.programs[0].get_or_init(|| {
                let script = self.kazoo.expect("this recipe has no kazoo helper");
                Program::kazoo(dir.join(script)).build_root(self.build_root())
            }),
            Library::Curator => self.programs[1].get_or_init(|| {
                let class = self.curator.expect("this recipe has no Curator helper");
                Program::curator(dir.join(format!("{class}.java")), class)
                    .build_root(self.build_root())
            }),
        }
    }

    /// Starts the helper in `library` with the arguments `mode`, the shared test server's
    /// connect string ([`ZkServer::shared`]), `path`, then `rest`: the order every recipe's
    /// helpers take them in.
    ///
    /// # Panics
    /// As [`Helper::start`] does: when the library is not installed or the helper cannot
    /// start.
    #[track_caller]
    pub fn start(&self, library: Library, mode: &str, path: &str, rest: &[&str]) -> Helper {
        let hosts = ZkServer::shared().connect_string();
        let args: Vec<&str> = [mode, &hosts, path]
            .into_iter()
            .chain(rest.iter().copied())
            .collect();
        Helper::start(self.program(library), &args)
    }

    /// Where the helpers build: `<target_tmpdir>/<crate folder>-interop`.
    fn build_root(&self) -> PathBuf {
        let krate = Path::new(self.manifest_dir)
            .file_name()
            .map_or_else(|| "recipe".into(), |n| n.to_string_lossy());
        Path::new(self.target_tmpdir).join(format!("{krate}-interop"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static HELPERS: RecipeHelpers = RecipeHelpers::new("/src/zk-queue", "/target/tmp")
        .kazoo("kazoo_queue.py")
        .curator("CuratorQueue");

    #[test]
    fn helpers_are_found_in_the_crate_and_built_under_its_tmpdir() {
        assert_eq!(
            HELPERS.program(Library::Kazoo),
            &Program::kazoo("/src/zk-queue/tests/interop/kazoo_queue.py")
                .build_root("/target/tmp/zk-queue-interop")
        );
        assert_eq!(
            HELPERS.program(Library::Curator),
            &Program::curator(
                "/src/zk-queue/tests/interop/CuratorQueue.java",
                "CuratorQueue"
            )
            .build_root("/target/tmp/zk-queue-interop")
        );
    }

    #[test]
    #[should_panic(expected = "no kazoo helper")]
    fn a_missing_helper_is_a_clear_panic() {
        RecipeHelpers::new("/src/zk-queue", "/target/tmp")
            .curator("CuratorQueue")
            .program(Library::Kazoo);
    }
}
