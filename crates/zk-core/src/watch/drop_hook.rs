//! A callback run when a watch handle is dropped, so a backend can unregister it.

use std::fmt;

/// Runs its callback once, when dropped.
pub(crate) struct DropHook(Option<Box<dyn FnOnce() + Send + Sync>>);

impl DropHook {
    pub(crate) fn new(hook: impl FnOnce() + Send + Sync + 'static) -> DropHook {
        DropHook(Some(Box::new(hook)))
    }
}

impl DropHook {
    /// Forgets the callback, so dropping runs nothing.
    pub(crate) fn disarm(&mut self) {
        self.0.take();
    }
}

impl Drop for DropHook {
    fn drop(&mut self) {
        if let Some(hook) = self.0.take() {
            hook();
        }
    }
}

impl fmt::Debug for DropHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DropHook")
    }
}
