//! Watch handles shared by every backend: one-shot watches are futures, persistent watches streams.

mod drop_hook;
mod oneshot;
mod persistent;

pub use oneshot::{OneshotSender, OneshotWatch};
pub use persistent::{PersistentSender, PersistentWatch};
