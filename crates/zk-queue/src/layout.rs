//! Where a queue keeps its nodes.

use zk_core::path::{is_at_or_below, join, validate_path};

use crate::error::QueueError;

/// Where a queue keeps its items, its leases and its line of idle consumers.
///
/// - [`Layout::locking`] (what [`crate::Queue::new`] uses) is kazoo's `LockingQueue`:
///   items in `PATH/entries`, a lease on an item as an ephemeral `PATH/taken/NAME` holding
///   the consumer's id. Idle consumers queue in `PATH/waiting`, which kazoo ignores.
/// - [`Layout::flat`] is kazoo's `Queue`: items straight under `PATH`, taken by deleting
///   them, so no leases. kazoo would take any child of `PATH` as an item, so idle consumers
///   queue elsewhere, at a path you choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    entries: String,
    taken: Option<String>,
    line: String,
}

impl Layout {
    /// kazoo's `LockingQueue` layout under `path`, plus the line of idle consumers.
    ///
    /// # Errors
    /// `ZooKeeper(InvalidPath)` for an invalid path.
    pub fn locking(path: &str) -> Result<Layout, QueueError> {
        validate_path(path)?;
        Ok(Layout {
            entries: join(path, "entries"),
            taken: Some(join(path, "taken")),
            line: join(path, "waiting"),
        })
    }

    /// kazoo's `Queue` layout: items straight under `path`, no leases; idle consumers queue
    /// under `line`, which must not be at or below `path`.
    ///
    /// # Errors
    /// `ZooKeeper(InvalidPath)` for an invalid path; [`QueueError::InvalidLayout`] for a line
    /// inside the queue.
    pub fn flat(path: &str, line: &str) -> Result<Layout, QueueError> {
        validate_path(path)?;
        validate_path(line)?;
        if is_at_or_below(line, path) {
            return Err(QueueError::InvalidLayout(
                "the line must be outside the queue path, or kazoo would take its nodes",
            ));
        }
        if is_at_or_below(path, line) {
            return Err(QueueError::InvalidLayout(
                "the queue path must not be inside the line",
            ));
        }
        Ok(Layout {
            entries: path.to_owned(),
            taken: None,
            line: line.to_owned(),
        })
    }

    /// The node whose children are the items.
    pub fn entries(&self) -> &str {
        &self.entries
    }

    /// The node whose children are the leases, if the layout has leases.
    pub fn taken(&self) -> Option<&str> {
        self.taken.as_deref()
    }

    /// The node under which idle consumers stand in line.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// An item's path.
    pub(crate) fn entry(&self, name: &str) -> String {
        join(&self.entries, name)
    }

    /// The path of an item's lease, if the layout has leases.
    pub(crate) fn lease(&self, name: &str) -> Option<String> {
        self.taken.as_deref().map(|taken| join(taken, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kazoo_layouts() {
        let locking = Layout::locking("/jobs").unwrap();
        assert_eq!(locking.entries(), "/jobs/entries");
        assert_eq!(locking.taken(), Some("/jobs/taken"));
        assert_eq!(locking.line(), "/jobs/waiting");
        assert_eq!(locking.lease("entry-1"), Some("/jobs/taken/entry-1".into()));
        let flat = Layout::flat("/jobs", "/jobs-line").unwrap();
        assert_eq!(flat.entry("entry-1"), "/jobs/entry-1");
        assert_eq!(flat.taken(), None);
        assert_eq!(flat.lease("entry-1"), None);
    }

    #[test]
    fn bad_layouts_are_refused() {
        assert!(matches!(
            Layout::flat("/jobs", "/jobs/line"),
            Err(QueueError::InvalidLayout(_))
        ));
        assert!(matches!(
            Layout::flat("/jobs", "/jobs"),
            Err(QueueError::InvalidLayout(_))
        ));
        assert!(matches!(
            Layout::flat("/line/jobs", "/line"),
            Err(QueueError::InvalidLayout(_))
        ));
        assert!(matches!(
            Layout::locking("jobs"),
            Err(QueueError::ZooKeeper(zk_core::Error::InvalidPath { .. }))
        ));
        assert!(Layout::flat("/jobs", "/jobs2").is_ok());
    }
}
