//! `InteropError`: why a helper program could not be prepared or started.

use std::path::PathBuf;

use super::software::install_hint;

/// Why a helper program could not be prepared or started.
///
/// A test that meets one panics with it ([`Helper::start`](super::Helper::start) does), so a
/// missing library fails the test with the command that installs it; nothing is skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InteropError {
    /// A program or library the helper needs is not installed.
    #[error("{what}; {}", install_hint(&.packages.iter().map(String::as_str).collect::<Vec<_>>()))]
    Missing {
        /// What is missing and where it was looked for.
        what: String,
        /// The Debian packages that provide it.
        packages: Vec<String>,
    },
    /// `javac` rejected a Java helper.
    #[error("javac failed on {} ({status}):\n{stderr}", file.display())]
    Compile {
        /// The helper's source file.
        file: PathBuf,
        /// How `javac` exited.
        status: String,
        /// What `javac` printed on standard error.
        stderr: String,
    },
    /// A file-system or process operation failed.
    #[error("cannot {action}: {reason}")]
    Io {
        /// What was being done, such as `start kazoo hold ...`.
        action: String,
        /// The underlying error's message.
        reason: String,
    },
}

impl InteropError {
    /// A [`InteropError::Missing`] for `what`, installed by `packages`.
    pub(crate) fn missing(what: impl Into<String>, packages: &[&str]) -> InteropError {
        InteropError::Missing {
            what: what.into(),
            packages: packages.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    /// An [`InteropError::Io`] for `action`.
    pub(crate) fn io(action: impl Into<String>, reason: impl ToString) -> InteropError {
        InteropError::Io {
            action: action.into(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_failed_and_how_to_fix_it() {
        let missing = InteropError::missing("javac is not on the PATH", &["default-jdk-headless"]);
        assert_eq!(
            missing.to_string(),
            "javac is not on the PATH; install it with `apt-get install -y default-jdk-headless` \
             (as root), or run `cargo xtask test`, which installs it"
        );
        let compile = InteropError::Compile {
            file: PathBuf::from("/x/Helper.java"),
            status: "exit status: 1".into(),
            stderr: "Helper.java:1: error".into(),
        };
        assert_eq!(
            compile.to_string(),
            "javac failed on /x/Helper.java (exit status: 1):\nHelper.java:1: error"
        );
        let io = InteropError::io("start kazoo", "No such file or directory");
        assert_eq!(
            io.to_string(),
            "cannot start kazoo: No such file or directory"
        );
    }
}
