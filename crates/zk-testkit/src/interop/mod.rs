//! Interop tests against the reference clients: a test runs kazoo (Python) and Apache Curator
//! (Java) helper processes that work on the same ZooKeeper paths as the recipe under test.
//!
//! The harness finds the software (the system Python with `python3-kazoo`, a JDK, the jars of
//! Curator and its service discovery in `/usr/share/java`), compiles a Java helper once per
//! test process, starts helper processes and talks to them over a line protocol with bounded
//! waits, and kills each one by its PID when its handle drops. The recipe writes the helpers
//! themselves.
//!
//! Nothing is skipped: when a library is missing, [`Helper::start`] panics with an
//! [`InteropError`] that names it and gives the command that installs it (`apt-get install
//! -y …`, or `cargo xtask test`, which installs everything). The Debian package names and jars
//! are listed once, in `debian-packages.txt` beside this module, which `cargo xtask test` reads
//! too.
//!
//! # Writing a helper
//! A recipe keeps its helpers with its tests, say `tests/interop/kazoo_semaphore.py` and
//! `tests/interop/CuratorSemaphore.java` (whose class `CuratorSemaphore` has the `main`), and
//! makes each one speak the protocol:
//!
//! - Its arguments are whatever the test passes: usually a mode, the server's connect string
//!   (only ever the loopback test server) and the recipe's path.
//! - It answers on standard output, one word or short line at a time, flushing after each
//!   (`print(word, flush=True)`; `System.out.println` then `flush`), and says nothing else there:
//!   diagnostics and tracebacks go to standard error, which failure messages show.
//! - It reads commands from standard input one line at a time, and exits at once when
//!   standard input closes (the test process died without killing it).
//! - It exits with 0 when its work is done, and with another status on any failure.
//!
//! The harness gives every helper that skeleton, written once per language beside this module
//! and embedded in the library, so a helper file holds only its recipe's logic:
//!
//! - Java: the class `HelperSupport` (default package), compiled with every Curator helper.
//!   `HelperSupport.start(args, usable, usage)` checks the usage (exit 4), watches standard
//!   input (exit 2 when it closes) and returns a connected `CuratorFramework` on the second
//!   argument (exit 5 after 30 s); then `say(line)`, `next()`, `waitFor(word)` (anything else:
//!   exit 4), `skipTo(word)`, `badUsage`, `halt`, `bumpCounter` for a [`SharedCounter`], and
//!   `finish(client)` (close, exit 0).
//! - Python: the module `helper_support`, on every kazoo helper's `PYTHONPATH`, with the same
//!   in snake case: `start(usable, usage, **kazoo_options)`, `say`, `next_command`, `wait_for`,
//!   `skip_to`, `bad_usage`, `bump_counter`, `finish`.
//!
//! For recipes that hold something exclusively (locks, elections), [`SharedCounter`] is the
//! counter the test and its helpers bump while holding, with a `holder` file that catches two
//! holders at once.
//!
//! [`RecipeHelpers`] declares a recipe's pair of helpers once per test binary and starts
//! either one ([`Library`]) with the arguments every recipe's helpers take first: a mode, the
//! shared server's connect string and the recipe's path.
//!
//! A Java helper may use everything in Curator 5.4, its service discovery
//! (`curator-x-discovery`, with Jackson) included, and ZooKeeper (see [`curator_jars`]); a
//! kazoo helper, kazoo 2.8 on the system Python.
//!
//! # Running helpers
//! ```no_run
//! use zk_testkit::interop::{Helper, Program, reply_timeout};
//! use zk_testkit::server::ZkServer;
//!
//! # async fn semaphore_interop() {
//! let kazoo = Program::kazoo(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/tests/interop/kazoo_semaphore.py"
//! ));
//! // In an integration test, `.build_root(env!("CARGO_TARGET_TMPDIR"))` keeps the compiled
//! // classes under `target/`.
//! let curator = Program::curator(
//!     concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/CuratorSemaphore.java"),
//!     "CuratorSemaphore",
//! );
//!
//! let hosts = ZkServer::shared().connect_string();
//! let mut holder = Helper::start(&kazoo, &["hold", &hosts, "/semaphore", "2"]);
//! holder.expect("held").await;
//! let probe = Helper::start(&curator, &["try", &hosts, "/semaphore", "2"]);
//! let printed = probe.finish(reply_timeout()).await;
//! assert_eq!(printed, ["acquired"], "a second lease of two is free");
//! holder.send("release");
//! holder.expect("released").await;
//! holder.finish(reply_timeout()).await;
//! # }
//! ```

mod counter;
mod error;
mod helper;
mod javac;
mod program;
mod protocol;
mod recipe;
mod software;
mod support;

use std::time::Duration;

pub use counter::SharedCounter;
pub use error::InteropError;
pub use helper::Helper;
pub use program::{JVM_FLAGS, Program};
pub use recipe::{Library, RecipeHelpers};
pub use software::{
    JavaTools, Package, curator_classpath, curator_jars, install_hint, java_dir, kazoo_python,
    system_python,
};

/// How long a helper may take to answer: four times [`crate::timing::test_timeout`], since
/// the first answer waits for a JVM or a Python interpreter to start on a busy machine.
pub fn reply_timeout() -> Duration {
    crate::timing::test_timeout() * 4
}
