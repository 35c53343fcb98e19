//! `ScratchDir`: a uniquely named temporary directory, removed on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::error::{HarnessError, Result};

/// The prefix of every directory the harness creates; the watchdog removes only such paths.
pub(crate) const PREFIX: &str = "zk-testkit-";

/// A fresh directory under the system temp dir, removed with its contents on drop.
#[derive(Debug)]
pub(crate) struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<tmp>/zk-testkit-<kind>-<pid>-<n>-<nanos>`.
    pub(crate) fn new(kind: &str) -> Result<ScratchDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        let mut last_error = None;
        for _ in 0..16 {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = base.join(format!(
                "{PREFIX}{kind}-{}-{n}-{nanos:x}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(ScratchDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => {
                    return Err(HarnessError::io(
                        format!("creating a temporary directory in {}", base.display()),
                        e,
                    ));
                }
            }
        }
        Err(HarnessError::io(
            format!("creating a temporary directory in {}", base.display()),
            last_error.unwrap_or_else(|| std::io::Error::other("no unique name found")),
        ))
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_unique_and_removed_on_drop() {
        let a = ScratchDir::new("unit").unwrap();
        let b = ScratchDir::new("unit").unwrap();
        assert_ne!(a.path(), b.path());
        let a_path = a.path().to_path_buf();
        std::fs::write(a_path.join("file"), b"x").unwrap();
        assert!(
            a_path
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(PREFIX)
        );
        drop(a);
        assert!(!a_path.exists());
        assert!(b.path().is_dir());
    }
}
