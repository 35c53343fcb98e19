//! Claiming one item, each in one round trip, and deciding after a lost reply whether the
//! claim happened.
//!
//! - An at-most-once take deletes the item, its read pipelined in front. Where the layout
//!   has leases, the delete is a transaction that also creates and deletes the item's lease
//!   node, so it fails if someone holds a lease on the item.
//! - A leased take creates the lease (an ephemeral node named after the item, holding a tag
//!   only this attempt knows), the item's read pipelined behind it.
//! - An acknowledgement deletes the item and its lease in one transaction.

use zk_contender::Cleanup;
use zk_core::{Coordinator, CoordinatorExt, CreateOptions, Error, Op};

use crate::error::QueueError;
use crate::item::Item;
use crate::layout::Layout;
use crate::put::ensure_paths;
use crate::schedule::Entry;

/// A lease just taken: the item, and the lease node with the session that owns it.
#[derive(Debug)]
pub(crate) struct Leased {
    pub(crate) item: Item,
    pub(crate) lease: String,
    pub(crate) session_id: i64,
}

/// Takes `entry` by deleting it. `None`: it is gone, or (with leases) leased by someone.
///
/// # Errors
/// [`QueueError::Uncertain`] when the reply was lost and the item is gone: this call or
/// another may have taken it.
pub(crate) async fn take<C: Coordinator + ?Sized>(
    zk: &C,
    layout: &Layout,
    entry: &Entry,
) -> Result<Option<Item>, QueueError> {
    let path = layout.entry(&entry.name);
    let ops = layout.lease(&entry.name).map(|lease| {
        [
            Op::create(lease.clone(), Vec::new(), CreateOptions::ephemeral()),
            Op::delete(path.clone(), None),
            Op::delete(lease, None),
        ]
    });
    let mut missing_paths = 0;
    loop {
        let (read, deleted) = futures::join!(zk.get_data(&path), async {
            match &ops {
                Some(ops) => zk.multi(ops).await.map(drop),
                None => zk.delete(&path, None).await,
            }
        });
        let error = match deleted {
            // Read before the delete, in order on one session: the read saw the item.
            Ok(()) => return Ok(Some(Item::new(entry, read?.0))),
            Err(e) => e,
        };
        match (error.multi_index(), error.root()) {
            // The leases node is missing (kazoo makes it with the queue; someone removed it).
            (Some(0), Error::NoNode { .. }) if missing_paths < 4 => {
                missing_paths += 1;
                ensure_paths(zk, layout).await?;
            }
            // Gone, or under someone's lease.
            (_, Error::NoNode { .. } | Error::NodeExists { .. }) => return Ok(None),
            _ if error.is_retryable() || error.root() == &Error::SessionExpired => {
                // Refused for an expired session: certainly not applied. A lost reply: maybe.
                let maybe_applied = error.root() != &Error::SessionExpired;
                zk.recover(error).await?;
                if item_exists(zk, &path).await? {
                    continue; // the delete did not happen
                }
                return match read {
                    Ok((data, _)) if maybe_applied => Err(QueueError::Uncertain {
                        item: entry.name.clone(),
                        data,
                    }),
                    _ => Ok(None),
                };
            }
            _ => return Err(error.into()),
        }
    }
}

/// Whether an item is still there, riding out connection loss.
async fn item_exists<C: Coordinator + ?Sized>(zk: &C, path: &str) -> Result<bool, QueueError> {
    loop {
        match zk.exists(path).await {
            Ok(stat) => return Ok(stat.is_some()),
            Err(e) => zk.recover(e).await?,
        }
    }
}

/// Takes a lease on `entry`. `None`: someone else holds one, or the item is gone.
///
/// # Errors
/// [`QueueError::NoLeases`] for a layout without leases; failures retrying cannot cure.
pub(crate) async fn lease<C: Coordinator + Clone + 'static>(
    zk: &C,
    layout: &Layout,
    entry: &Entry,
) -> Result<Option<Leased>, QueueError> {
    let lease = layout.lease(&entry.name).ok_or(QueueError::NoLeases)?;
    let path = layout.entry(&entry.name);
    // The tag finds the lease again after a lost reply, and tells it from a lease another
    // call on this same session took.
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let ephemeral = CreateOptions::ephemeral();
    // If this call is dropped with the create in flight, the lease must not stay behind.
    let mut cleanup = Cleanup::marked(zk.clone(), &lease, zk.session_id(), tag.as_bytes());
    let mut missing_paths = 0;
    loop {
        let (created, read) = futures::join!(
            zk.create(&lease, tag.as_bytes(), &ephemeral),
            zk.get_data(&path),
        );
        let session_id = match created {
            Ok(created) => created.stat.ephemeral_owner,
            Err(Error::NodeExists { .. }) => match find_own(zk, &lease, &tag).await? {
                Some(session_id) => session_id,
                None => {
                    cleanup.disarm();
                    return Ok(None);
                }
            },
            Err(Error::NoNode { .. }) if missing_paths < 4 => {
                missing_paths += 1;
                ensure_paths(zk, layout).await?;
                continue;
            }
            Err(e) if e.is_retryable() || e == Error::SessionExpired => {
                zk.recover(e).await?;
                match find_own(zk, &lease, &tag).await? {
                    Some(session_id) => session_id,
                    None => {
                        // A retry is a new attempt of the session the handle has now.
                        cleanup =
                            Cleanup::marked(zk.clone(), &lease, zk.session_id(), tag.as_bytes());
                        continue;
                    }
                }
            }
            Err(e) => return Err(e.into()),
        };
        let data = match read {
            Ok((data, _)) => Some(data),
            Err(Error::NoNode { .. }) => None,
            Err(_) => read_item(zk, &path).await?,
        };
        cleanup.disarm();
        return match data {
            Some(data) => Ok(Some(Leased {
                item: Item::new(entry, data),
                lease,
                session_id,
            })),
            None => {
                // Acknowledged by its previous holder just before our lease: let ours go.
                zk_contender::delete_node(zk, &lease, session_id).await?;
                Ok(None)
            }
        };
    }
}

/// Whether the lease node holds `tag` and belongs to this session: the session that owns it
/// when so. Rides out connection loss.
async fn find_own<C: Coordinator + ?Sized>(
    zk: &C,
    lease: &str,
    tag: &str,
) -> Result<Option<i64>, QueueError> {
    loop {
        match zk.get_data(lease).await {
            Ok((data, stat)) => {
                let ours = data == tag.as_bytes() && stat.ephemeral_owner == zk.session_id();
                return Ok(ours.then_some(stat.ephemeral_owner));
            }
            Err(Error::NoNode { .. }) => return Ok(None),
            Err(e) => zk.recover(e).await?,
        }
    }
}

/// Reads an item's data, riding out connection loss; `None` once it is gone.
async fn read_item<C: Coordinator + ?Sized>(
    zk: &C,
    path: &str,
) -> Result<Option<Vec<u8>>, QueueError> {
    loop {
        match zk.get_data(path).await {
            Ok((data, _)) => return Ok(Some(data)),
            Err(Error::NoNode { .. }) => return Ok(None),
            Err(e) => zk.recover(e).await?,
        }
    }
}

/// Acknowledges a leased item: deletes it and its lease in one transaction.
///
/// # Errors
/// [`QueueError::LeaseLost`] when the lease is gone and nothing was written;
/// [`QueueError::Uncertain`] when the reply was lost while the session ended and the item is
/// gone (the ack, or another consumer's after the lease expired, removed it).
pub(crate) async fn ack<C: Coordinator + ?Sized>(
    zk: &C,
    layout: &Layout,
    item: &str,
    lease: &str,
    session_id: i64,
) -> Result<(), QueueError> {
    let path = layout.entry(item);
    let ops = [Op::delete(path.clone(), None), Op::delete(lease, None)];
    let lost = || QueueError::LeaseLost {
        item: item.to_owned(),
    };
    loop {
        // Sent only on a live connection of the lease's session: an ack refused up front is
        // certainly not applied.
        zk.connected().await?;
        if zk.session_id() != session_id {
            return Err(lost());
        }
        let error = match zk.multi(&ops).await {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        match (error.multi_index(), error.root()) {
            // Refused by the server (or before sending) for the expired session, whose
            // lease went with it: not applied.
            (_, Error::SessionExpired) => return Err(lost()),
            (Some(1), Error::NoNode { .. }) => return Err(lost()),
            // The item went while we held its lease: only a program ignoring leases does that.
            (Some(0), Error::NoNode { .. }) => {
                zk_contender::delete_node(zk, lease, session_id).await?;
                return Err(QueueError::ZooKeeper(error.root().clone()));
            }
            _ if error.is_retryable() => {
                zk.recover(error).await?;
                match (item_exists(zk, &path).await?, zk.session_id() == session_id) {
                    // Not applied: try again, or report the lease gone with the session.
                    (true, _) => {}
                    // The lease held all along, so only this ack removed the item.
                    (false, true) => return Ok(()),
                    (false, false) => {
                        return Err(QueueError::Uncertain {
                            item: item.to_owned(),
                            data: Vec::new(),
                        });
                    }
                }
            }
            _ => return Err(error.into()),
        }
    }
}
