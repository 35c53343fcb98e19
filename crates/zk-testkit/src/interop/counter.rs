//! `SharedCounter`: what interop tests of exclusive recipes (locks, elections) count with. The
//! test and its helper processes bump one counter file, each only while it holds the recipe,
//! and each claims a `holder` file exclusively first, so two holders at once are caught in the
//! act, not only by a short total.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A scratch directory holding the counter file `counter` (a decimal number, 0 at first),
/// shared by the test and its helpers, and removed on drop.
///
/// A helper's increment, as [`SharedCounter::bump`] does it: create `holder` exclusively
/// (failing, and exiting with status 3, when it exists: someone else holds at the same time),
/// read `counter`, pause, write the number plus one through a temporary file and a rename, and
/// remove `holder`; all while holding the recipe. The support code does it for the helpers:
/// `HelperSupport.bumpCounter` in Java, `helper_support.bump_counter` in Python.
#[derive(Debug)]
pub struct SharedCounter {
    dir: PathBuf,
}

impl SharedCounter {
    /// A fresh counter in a new directory under `root` (such as
    /// `env!("CARGO_TARGET_TMPDIR")`), named after `label`.
    ///
    /// # Panics
    /// When the directory cannot be created.
    pub fn new(root: impl AsRef<Path>, label: &str) -> SharedCounter {
        let dir = root
            .as_ref()
            .join(format!("{label}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("counter"), "0").unwrap();
        SharedCounter { dir }
    }

    /// The directory, as a helper's command-line argument.
    ///
    /// # Panics
    /// When the path is not UTF-8.
    pub fn arg(&self) -> &str {
        self.dir.to_str().expect("a UTF-8 scratch path")
    }

    /// The counter's value now.
    ///
    /// # Panics
    /// When the counter file cannot be read as a number.
    pub fn value(&self) -> u64 {
        let text = std::fs::read_to_string(self.dir.join("counter")).unwrap();
        text.trim().parse().unwrap()
    }

    /// One increment by `me`, who must hold the recipe: claims `holder`, reads the counter,
    /// yields to other tasks, writes the counter plus one and gives up the claim.
    ///
    /// # Panics
    /// When someone else holds the claim (naming them), or a file operation fails.
    pub async fn bump(&self, me: &str) {
        self.claim(me);
        let seen = self.value();
        tokio::task::yield_now().await;
        let temporary = self.dir.join(format!("counter.{me}"));
        std::fs::write(&temporary, (seen + 1).to_string()).unwrap();
        std::fs::rename(&temporary, self.dir.join("counter")).unwrap();
        std::fs::remove_file(self.dir.join("holder")).unwrap();
    }

    /// Claims the `holder` file; panics, naming the other holder, when it already exists.
    fn claim(&self, me: &str) {
        let holder = self.dir.join("holder");
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&holder)
        {
            Ok(mut file) => file.write_all(me.as_bytes()).unwrap(),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let other = std::fs::read_to_string(&holder).unwrap_or_default();
                panic!("{me} got in while {other} held it");
            }
            Err(e) => panic!("cannot create {}: {e}", holder.display()),
        }
    }
}

impl Drop for SharedCounter {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bumps_count_and_a_second_holder_is_caught() {
        let counter = SharedCounter::new(std::env::temp_dir(), "zk-testkit-counter");
        let dir = PathBuf::from(counter.arg());
        counter.bump("a").await;
        counter.bump("b").await;
        assert_eq!(counter.value(), 2);
        assert!(!dir.join("holder").exists(), "every claim given up");
        std::fs::write(dir.join("holder"), "kazoo pid 7").unwrap();
        let caught = std::panic::catch_unwind(|| counter.claim("rust"));
        let message = caught.unwrap_err().downcast::<String>().unwrap();
        assert_eq!(*message, "rust got in while kazoo pid 7 held it");
        drop(counter);
        assert!(!dir.exists(), "removed on drop");
    }
}
