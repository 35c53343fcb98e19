//! Taking: a pass over the queue (list, then claim in queue order), and, when nothing can be
//! taken, waiting in line.
//!
//! Idle consumers stand in line as ephemeral sequential nodes under the layout's line node,
//! on the contender engine, each watching only the one before it. Only the head of the line
//! watches the queue, so a put wakes one consumer, not all of them; when the head has taken
//! an item it leaves, which wakes the next in line.

use std::collections::HashMap;

use futures::future::{Either, FusedFuture, select, select_all};
use tokio::time::Instant;
use zk_contender::{Cleanup, Engine, Leases, NodePrefix, TagStyle, no_check, until};
use zk_core::{Coordinator, CoordinatorExt, Error, OneshotWatch};

use crate::claim::{self, Leased};
use crate::clock::{instant_of, now_millis};
use crate::error::QueueError;
use crate::item::Item;
use crate::put::ensure_paths;
use crate::queue::Queue;
use crate::schedule::{Schedule, schedule};

/// How a take claims an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Delete it: at most once.
    Delete,
    /// Lease it: at least once.
    Lease,
}

/// What a take got.
#[derive(Debug)]
pub(crate) enum Got {
    Item(Item),
    Lease(Leased),
}

/// What one pass over the queue found.
enum Pass {
    Got(Got),
    /// Nothing to take now. `wake` is the watch on the items, when the pass set one.
    Empty {
        wake: Option<OneshotWatch>,
        schedule: Schedule,
    },
}

/// How long as head ended.
enum Head {
    Got(Got),
    TimedOut,
    /// The session that queued us ended: stand in line again.
    Requeue,
}

/// The node name marker of a consumer in line.
const IN_LINE: &str = "-consumer-";

impl<C: Coordinator + Clone + 'static> Queue<C> {
    /// Takes an item: a pass at once, then (if `wait`) in line until one comes or `deadline`.
    pub(crate) async fn take_with(
        &self,
        claim: Claim,
        wait: bool,
        deadline: Option<Instant>,
    ) -> Result<Option<Got>, QueueError> {
        if claim == Claim::Lease && self.layout().taken().is_none() {
            return Err(QueueError::NoLeases);
        }
        match until(deadline, self.pass(claim, false)).await {
            None => return Ok(None),
            Some(pass) => {
                if let Pass::Got(got) = pass? {
                    return Ok(Some(got));
                }
            }
        }
        if !wait {
            return Ok(None);
        }
        let zk = self.client();
        loop {
            let engine = Engine::new(zk, self.layout().line()).containers(false);
            let head = engine
                .take_turn(
                    || NodePrefix::new(TagStyle::Hex, IN_LINE),
                    &Leases(1),
                    true,
                    deadline,
                    no_check::<QueueError>,
                )
                .await?;
            let Some(head) = head else {
                return Ok(None);
            };
            // Leaving the line on every way out, in the background: the next in line is
            // woken by the deletion, and our caller need not wait for it.
            let _leave = Cleanup::for_node(zk.clone(), &head.path, head.session_id);
            match self.as_head(claim, head.session_id, deadline).await? {
                Head::Got(got) => return Ok(Some(got)),
                Head::TimedOut => return Ok(None),
                Head::Requeue => {}
            }
        }
    }

    /// At the head of the line: watches the queue until an item is taken.
    async fn as_head(
        &self,
        claim: Claim,
        session_id: i64,
        deadline: Option<Instant>,
    ) -> Result<Head, QueueError> {
        let zk = self.client();
        // Watches on the leases that keep items from us, kept across passes.
        let mut leases: HashMap<String, OneshotWatch> = HashMap::new();
        // Right after a wake-up an item is likely there: list without a watch, so that taking
        // it does not wake us for nothing; set the watch only when the pass finds nothing.
        let mut watch = true;
        loop {
            if zk.session_id() != session_id {
                return Ok(Head::Requeue);
            }
            let Some(pass) = until(deadline, self.pass(claim, watch)).await else {
                return Ok(Head::TimedOut);
            };
            let (wake, schedule) = match pass? {
                Pass::Got(got) => return Ok(Head::Got(got)),
                Pass::Empty { wake: None, .. } => {
                    watch = true;
                    continue;
                }
                Pass::Empty {
                    wake: Some(wake),
                    schedule,
                } => (wake, schedule),
            };
            // A lease given back or lost frees its item: watch the leases in the way, the new
            // ones in one pipelined batch.
            leases.retain(|name, _| schedule.leased.contains(name));
            let missing: Vec<(&String, String)> = schedule
                .leased
                .iter()
                .filter(|name| !leases.contains_key(*name))
                .filter_map(|name| Some((name, self.layout().lease(name)?)))
                .collect();
            let armed =
                futures::future::join_all(missing.iter().map(|(_, path)| zk.watch_exists(path)))
                    .await;
            let mut freed = false;
            for ((name, _), armed) in missing.into_iter().zip(armed) {
                match armed {
                    Ok((Some(_), lease)) => {
                        leases.insert(name.clone(), lease);
                    }
                    Ok((None, _)) => freed = true,
                    Err(e) => {
                        zk.recover(e).await?;
                        freed = true;
                    }
                }
            }
            if freed {
                continue;
            }
            let due = schedule.next_due.map(instant_of);
            let woken = async {
                let timer = async {
                    match due {
                        Some(due) => tokio::time::sleep_until(due).await,
                        None => std::future::pending().await,
                    }
                };
                let lease = async {
                    if leases.is_empty() {
                        std::future::pending().await
                    } else {
                        let (event, index, _) = select_all(leases.values_mut()).await;
                        (event, index)
                    }
                };
                match select(
                    std::pin::pin!(wake),
                    std::pin::pin!(select(std::pin::pin!(lease), std::pin::pin!(timer))),
                )
                .await
                {
                    Either::Left((event, _)) => Some(event),
                    Either::Right((Either::Left(((event, _), _)), _)) => Some(event),
                    Either::Right((Either::Right(_), _)) => None,
                }
            };
            let Some(event) = until(deadline, woken).await else {
                return Ok(Head::TimedOut);
            };
            // Fired lease watches are spent: forget them (the next pass re-arms what is left).
            leases.retain(|_, lease| !lease.is_terminated());
            if let Some(error) = event.and_then(|e| e.state.terminal_error()) {
                return Err(error.into());
            }
            watch = false;
        }
    }

    /// Lists the queue (watching the items if `watch`) and claims the first item it can, in
    /// queue order.
    async fn pass(&self, claim: Claim, watch: bool) -> Result<Pass, QueueError> {
        let (entries, taken, wake) = self.list(watch, true).await?;
        let schedule = schedule(&entries, &taken, now_millis());
        self.report_foreign(&schedule.foreign);
        for entry in &schedule.ready {
            let zk = self.client();
            let got = match claim {
                Claim::Delete => claim::take(zk, self.layout(), entry).await?.map(Got::Item),
                Claim::Lease => claim::lease(zk, self.layout(), entry)
                    .await?
                    .map(Got::Lease),
            };
            if let Some(got) = got {
                return Ok(Pass::Got(got));
            }
        }
        Ok(Pass::Empty { wake, schedule })
    }

    /// The items and the leases, listed in one round trip (the items watched if `watch`),
    /// riding out connection loss. Missing queue nodes are created if `create`, else they
    /// list as empty (reads that must not write).
    pub(crate) async fn list(
        &self,
        watch: bool,
        create: bool,
    ) -> Result<(Vec<String>, Vec<String>, Option<OneshotWatch>), QueueError> {
        let zk = self.client();
        let layout = self.layout();
        loop {
            let (entries, taken) = futures::join!(
                async {
                    if watch {
                        zk.watch_children(layout.entries())
                            .await
                            .map(|(names, _, wake)| (names, Some(wake)))
                    } else {
                        zk.get_children(layout.entries())
                            .await
                            .map(|(names, _)| (names, None))
                    }
                },
                async {
                    match layout.taken() {
                        Some(taken) => zk.get_children(taken).await.map(|(names, _)| names),
                        None => Ok(Vec::new()),
                    }
                },
            );
            let (entries, taken) = if create {
                (entries, taken)
            } else {
                (or_empty(entries), or_empty(taken))
            };
            match (entries, taken) {
                (Ok((entries, wake)), Ok(taken)) => return Ok((entries, taken, wake)),
                (Err(Error::NoNode { .. }), _) | (_, Err(Error::NoNode { .. })) => {
                    ensure_paths(zk, layout).await?;
                }
                (Err(e), _) | (_, Err(e)) => zk.recover(e).await?,
            }
        }
    }
}

/// A listing of a missing node as an empty one.
fn or_empty<T: Default>(listed: Result<T, Error>) -> Result<T, Error> {
    match listed {
        Err(Error::NoNode { .. }) => Ok(T::default()),
        other => other,
    }
}
