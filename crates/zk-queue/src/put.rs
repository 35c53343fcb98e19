//! Putting items: the options of one put, and the writes.

use std::time::{Duration, SystemTime};

use zk_core::path::name;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error, Op, OpResult};

use crate::clock::{epoch_millis, now_millis};
use crate::error::QueueError;
use crate::layout::Layout;
use crate::name::{DEFAULT_PRIORITY, MAX_PRIORITY, prefix};

/// How many times a put recreates a queue path that vanished under it before giving up.
const PATH_RETRIES: u32 = 8;

/// How an item is put: its priority and when it falls due.
///
/// ```
/// use std::time::Duration;
/// use zk_queue::PutOptions;
///
/// let urgent = PutOptions::new().priority(0);
/// let later = PutOptions::new().delay(Duration::from_secs(30));
/// # let _ = (urgent, later);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutOptions {
    priority: u16,
    due: Due,
}

/// When an item falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    Now,
    After(Duration),
    At(SystemTime),
}

impl Default for PutOptions {
    fn default() -> PutOptions {
        PutOptions::new()
    }
}

impl PutOptions {
    /// Priority [`DEFAULT_PRIORITY`] (kazoo's 100), due at once.
    pub fn new() -> PutOptions {
        PutOptions {
            priority: DEFAULT_PRIORITY,
            due: Due::Now,
        }
    }

    /// The priority, 0 (taken first) to [`MAX_PRIORITY`]; items of one priority are taken in
    /// the order they were put.
    pub fn priority(mut self, priority: u16) -> PutOptions {
        self.priority = priority;
        self
    }

    /// Not to be taken until `delay` after the put. The time is the putting process's clock
    /// (see the crate docs on clocks).
    pub fn delay(mut self, delay: Duration) -> PutOptions {
        self.due = Due::After(delay);
        self
    }

    /// Not to be taken before `at`.
    pub fn not_before(mut self, at: SystemTime) -> PutOptions {
        self.due = Due::At(at);
        self
    }

    /// The node name to create under the items node, the sequence left to the server.
    fn name_prefix(&self) -> Result<String, QueueError> {
        if self.priority > MAX_PRIORITY {
            return Err(QueueError::InvalidPriority(self.priority));
        }
        let not_before = match self.due {
            Due::Now => None,
            Due::After(delay) => Some(
                now_millis().saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)),
            ),
            Due::At(at) => Some(epoch_millis(at)),
        };
        Ok(prefix(self.priority, not_before))
    }
}

/// Puts the `items` in one transaction, all or none; returns their node names in order.
pub(crate) async fn put_all<C: Coordinator + ?Sized>(
    zk: &C,
    layout: &Layout,
    items: Vec<Vec<u8>>,
    options: &PutOptions,
) -> Result<Vec<String>, QueueError> {
    let path = layout.entry(&options.name_prefix()?);
    let create = CreateOptions::persistent_sequential();
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let ops: Vec<Op> = match items.as_slice() {
        [_] => Vec::new(),
        _ => items
            .iter()
            .map(|data| Op::create(path.clone(), data.clone(), create.clone()))
            .collect(),
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        let written = match items.as_slice() {
            // One item is a plain create: no transaction overhead on the server.
            [data] => zk
                .create(&path, data, &create)
                .await
                .map(|created| vec![name(&created.path).to_owned()]),
            _ => zk.multi(&ops).await.map(|results| {
                results
                    .iter()
                    .filter_map(|r| match r {
                        OpResult::Create { path, .. } => Some(name(path).to_owned()),
                        _ => None,
                    })
                    .collect()
            }),
        };
        match written {
            Ok(names) => {
                return Ok(names);
            }
            Err(e) if matches!(e.root(), Error::NoNode { .. }) && attempts < PATH_RETRIES => {
                ensure_paths(zk, layout).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Creates the items node and the leases node (persistent: kazoo's queues create them once
/// and fail for good if they go), riding out connection loss.
pub(crate) async fn ensure_paths<C: Coordinator + ?Sized>(
    zk: &C,
    layout: &Layout,
) -> Result<(), QueueError> {
    for path in std::iter::once(layout.entries()).chain(layout.taken()) {
        loop {
            match zk.ensure_path(path).await {
                Ok(()) => break,
                Err(e) => zk.recover(e).await?,
            }
        }
    }
    Ok(())
}
