//! `ReadWriteLock`: shared readers, exclusive writers, served in arrival order.

use zk_core::Coordinator;

use crate::lock::{Lock, LockOptions};
use zk_contender::ContenderKind;

/// A distributed read/write lock on a ZooKeeper path.
///
/// Readers share the lock; a writer holds it alone.
/// Contenders are served in the order they arrived (FIFO by sequence number), so writers do not
/// starve: a reader arriving after a waiting writer waits for it.
/// Each contender watches one node only: a writer its immediate predecessor, a reader the nearest
/// writer before it; no release wakes a herd.
///
/// ```
/// use zk_lock::ReadWriteLock;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), zk_lock::LockError> {
/// let ensemble = zk_fake::FakeEnsemble::new();
/// let rw = ReadWriteLock::new(ensemble.connect(), "/locks/catalog");
/// let (a, b) = (rw.read_lock().acquire().await?, rw.clone_read().acquire().await?);
/// assert!(a.is_shared() && b.is_shared(), "readers share");
/// assert!(rw.write_lock().try_acquire().await?.is_none(), "a writer waits for them");
/// a.release().await?;
/// b.release().await?;
/// let w = rw.write_lock().acquire().await?;
/// w.release().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ReadWriteLock<C: Coordinator + Clone + 'static> {
    read: Lock<C>,
    write: Lock<C>,
}

impl<C: Coordinator + Clone + 'static> ReadWriteLock<C> {
    /// A read/write lock on `path` with default options.
    pub fn new(zk: C, path: impl Into<String>) -> ReadWriteLock<C> {
        ReadWriteLock::with_options(zk, path, LockOptions::default())
    }

    /// A read/write lock on `path` with `options`.
    pub fn with_options(zk: C, path: impl Into<String>, options: LockOptions) -> ReadWriteLock<C> {
        let path = path.into();
        ReadWriteLock {
            read: Lock::role(
                zk.clone(),
                path.clone(),
                options.clone(),
                ContenderKind::Read,
                true,
            ),
            write: Lock::role(zk, path, options, ContenderKind::Exclusive, true),
        }
    }

    /// The read side: shared with other readers.
    pub fn read_lock(&self) -> &Lock<C> {
        &self.read
    }

    /// The write side: exclusive.
    pub fn write_lock(&self) -> &Lock<C> {
        &self.write
    }

    /// Another read handle on the same lock (each handle holds at most one read lock at a
    /// time).
    pub fn clone_read(&self) -> Lock<C> {
        Lock::role(
            self.read.zk_handle(),
            self.read.path().to_owned(),
            self.read.options().clone(),
            ContenderKind::Read,
            true,
        )
    }
}
