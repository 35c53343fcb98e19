//! What a consumer gets: an item's content and where it stood in the queue.

use std::time::SystemTime;

use crate::clock::from_millis;
use crate::schedule::Entry;

/// An item taken from the queue, or looked at with [`crate::Queue::peek`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    name: String,
    priority: u16,
    sequence: i32,
    not_before: Option<SystemTime>,
    data: Vec<u8>,
}

impl Item {
    pub(crate) fn new(entry: &Entry, data: Vec<u8>) -> Item {
        Item {
            name: entry.name.clone(),
            priority: entry.key.priority,
            sequence: entry.key.sequence,
            not_before: entry.key.not_before.map(from_millis),
            data,
        }
    }

    /// The item's node name (`entry-PPP-SEQ`, or `entry-PPP-@MILLIS-SEQ` when delayed).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its priority: lower ones are taken first.
    pub fn priority(&self) -> u16 {
        self.priority
    }

    /// The sequence number the server gave it: its place among items of its priority.
    pub fn sequence(&self) -> i32 {
        self.sequence
    }

    /// When it was put with a delay, the time before which it was not to be taken.
    pub fn not_before(&self) -> Option<SystemTime> {
        self.not_before
    }

    /// Its content.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Its content, owned.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }
}
