//! Fault injection: rules that make matching operations fail or slow down, steered from a handle.

use std::time::Duration;

use zk_core::Error;

use crate::ensemble::FakeEnsemble;

/// The kind of operation a fault rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpKind {
    /// `create`.
    Create,
    /// `delete`.
    Delete,
    /// `exists` and `watch_exists`.
    Exists,
    /// `get_data` and `watch_data`.
    GetData,
    /// `set_data`.
    SetData,
    /// `get_children` and `watch_children`.
    GetChildren,
    /// `get_acl`.
    GetAcl,
    /// `set_acl`.
    SetAcl,
    /// `multi`.
    Multi,
    /// `multi_read`.
    MultiRead,
    /// `sync`.
    Sync,
    /// `add_watch`.
    AddWatch,
    /// `get_ephemerals`.
    GetEphemerals,
    /// `get_all_children_number`.
    GetAllChildrenNumber,
    /// `add_auth`.
    AddAuth,
}

/// Which operations a fault applies to: by kind, path prefix and session, each optional.
///
/// ```
/// use zk_fake::{OpKind, OpMatcher};
/// let creates_under_locks = OpMatcher::op(OpKind::Create).path_prefix("/locks");
/// # let _ = creates_under_locks;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpMatcher {
    kind: Option<OpKind>,
    path_prefix: Option<String>,
    session: Option<i64>,
}

impl OpMatcher {
    /// Matches every operation.
    pub fn any() -> OpMatcher {
        OpMatcher::default()
    }

    /// Matches operations of one kind.
    pub fn op(kind: OpKind) -> OpMatcher {
        OpMatcher {
            kind: Some(kind),
            ..OpMatcher::default()
        }
    }

    /// Also requires a path starting with `prefix` (any op's path, for `multi`).
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> OpMatcher {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Also requires the operation to come from session `session_id`.
    pub fn session(mut self, session_id: i64) -> OpMatcher {
        self.session = Some(session_id);
        self
    }

    pub(crate) fn matches(&self, kind: OpKind, paths: &[&str], session_id: i64) -> bool {
        self.kind.is_none_or(|k| k == kind)
            && self.session.is_none_or(|s| s == session_id)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|prefix| paths.iter().any(|p| p.starts_with(prefix)))
    }
}

/// What happens to a matching operation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The connection drops before the request reaches the server: nothing is applied, the
    /// caller gets `ConnectionLoss`, and the handle reports `Disconnected`, then `SyncConnected`
    /// after the ensemble's reconnect delay (requests in between fail with `ConnectionLoss`).
    ConnectionLossBeforeApply,
    /// The connection drops after the server applied the request but before the reply: the
    /// effect is visible, the caller gets `ConnectionLoss`, and the handle reconnects as above.
    ConnectionLossAfterApply,
    /// The operation fails with this error without being applied.
    Fail(Error),
    /// The operation is applied at once but its reply arrives this much later (replies of one
    /// session stay in order).
    DelayReply(Duration),
}

#[derive(Debug)]
struct Rule {
    matcher: OpMatcher,
    fault: Fault,
    remaining: Option<u32>,
}

/// The pending fault rules, consulted in order; the first match wins.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    rules: Vec<Rule>,
}

impl FaultPlan {
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Consumes one use of the first rule matching the operation.
    pub(crate) fn take(&mut self, kind: OpKind, paths: &[&str], session_id: i64) -> Option<Fault> {
        let index = self
            .rules
            .iter()
            .position(|r| r.matcher.matches(kind, paths, session_id))?;
        let rule = &mut self.rules[index];
        let fault = rule.fault.clone();
        if let Some(remaining) = rule.remaining.as_mut() {
            *remaining -= 1;
            if *remaining == 0 {
                self.rules.remove(index);
            }
        }
        Some(fault)
    }
}

/// Steers faults of a [`FakeEnsemble`]; get it with [`FakeEnsemble::faults`].
///
/// Everything is deterministic: rules apply in the order they were added, and timed faults run
/// on tokio's clock, so `#[tokio::test(start_paused = true)]` makes them instant and repeatable.
///
/// ```
/// use zk_core::{Coordinator, CreateOptions, Error};
/// use zk_fake::{FakeEnsemble, Fault, OpKind, OpMatcher};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let ensemble = FakeEnsemble::new();
/// let zk = ensemble.connect();
/// ensemble
///     .faults()
///     .fail_next(OpMatcher::op(OpKind::Create), Fault::ConnectionLossAfterApply);
/// let result = zk.create("/job", b"", &CreateOptions::persistent()).await;
/// assert_eq!(result.unwrap_err(), Error::ConnectionLoss);
/// // The handle reconnects; the create was applied even though its reply was lost.
/// zk.session_state().wait_for(|s| s.is_connected()).await.unwrap();
/// assert!(zk.exists("/job").await.unwrap().is_some());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Faults {
    pub(crate) ensemble: FakeEnsemble,
}

impl Faults {
    /// Makes the next operation that matches fail (or slow down) with `fault`, once.
    pub fn fail_next(&self, matcher: OpMatcher, fault: Fault) {
        self.inject(matcher, fault, Some(1));
    }

    /// Applies `fault` to the next `times` matching operations, or to all of them (`None`).
    pub fn inject(&self, matcher: OpMatcher, fault: Fault, times: Option<u32>) {
        if times == Some(0) {
            return;
        }
        self.ensemble.with_state(|st| {
            st.faults.rules.push(Rule {
                matcher,
                fault,
                remaining: times,
            })
        });
    }

    /// Removes every pending fault rule.
    pub fn clear(&self) {
        self.ensemble.with_state(|st| st.faults.rules.clear());
    }

    /// How many fault rules are still pending.
    pub fn pending(&self) -> usize {
        self.ensemble.with_state(|st| st.faults.rules.len())
    }

    /// Expires a live session now, as the server does when it hears nothing for the timeout.
    ///
    /// Its ephemeral nodes are deleted (other sessions' watches fire), its watches resolve with
    /// `Expired`, and its handle reports `Expired`; then, after the ensemble's reconnect delay
    /// and unless built with terminal expiry, it opens a new session and reports
    /// `SyncConnected`. Operations in between fail with `SessionExpired`.
    /// Returns false if no live session has that id.
    pub fn expire_session(&self, session_id: i64) -> bool {
        self.ensemble.expire_session(session_id)
    }

    /// Cuts a session's connection for `duration`.
    ///
    /// The handle reports `Disconnected` and its operations fail with `ConnectionLoss`.
    /// If the connection returns before the session timeout, the handle reports `SyncConnected`
    /// and its one-shot watches get the events ZooKeeper's SetWatches would send for what changed
    /// meanwhile (persistent watches miss those events).
    /// Otherwise the session expires when its timeout runs out, and a new session is opened when
    /// the connection returns.
    /// Needs a tokio runtime with the time driver; returns false without one, or if no connected
    /// session has that id.
    pub fn disconnect(&self, session_id: i64, duration: Duration) -> bool {
        FakeEnsemble::disconnect(&self.ensemble, session_id, duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_in_order_and_run_out() {
        let mut plan = FaultPlan::default();
        plan.rules.push(Rule {
            matcher: OpMatcher::op(OpKind::Create).path_prefix("/a"),
            fault: Fault::ConnectionLossBeforeApply,
            remaining: Some(1),
        });
        plan.rules.push(Rule {
            matcher: OpMatcher::any().session(7),
            fault: Fault::Fail(Error::OperationTimeout),
            remaining: None,
        });
        assert_eq!(plan.take(OpKind::Create, &["/b"], 1), None);
        assert_eq!(
            plan.take(OpKind::Create, &["/a/x"], 1),
            Some(Fault::ConnectionLossBeforeApply)
        );
        assert_eq!(plan.take(OpKind::Create, &["/a/x"], 1), None);
        for _ in 0..3 {
            assert_eq!(
                plan.take(OpKind::Sync, &["/"], 7),
                Some(Fault::Fail(Error::OperationTimeout))
            );
        }
    }
}
