//! Watch handles shared by every backend (one-shot watches are futures, persistent watches
//! streams) and the registry that dispatches events to them.

mod drop_hook;
mod oneshot;
mod persistent;
mod registry;

pub use oneshot::{OneshotSender, OneshotWatch};
pub use persistent::{PersistentSender, PersistentWatch};
pub use registry::{WatchKind, WatchRegistry};
