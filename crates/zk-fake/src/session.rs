//! `FakeSession`: one client session of the fake ensemble, implementing `Coordinator`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::time::Instant;
use zk_core::path::validate_path;
use zk_core::{
    Acl, AddWatchMode, Coordinator, CreateOptions, Created, Error, OneshotWatch, Op, OpResult,
    PersistentWatch, ReadOp, ReadResult, Result, SessionState, Stat, validate,
};

use crate::acl_check::authenticate;
use crate::ensemble::{FakeEnsemble, ServerState};
use crate::faults::{Fault, OpKind};
use crate::sweeper;

/// Options for [`FakeEnsemble::connect_with`].
///
/// ```
/// use std::time::Duration;
/// use zk_fake::SessionOptions;
///
/// let options = SessionOptions::new()
///     .timeout(Duration::from_secs(6))
///     .terminal_expiry(true)
///     .auth("digest", b"alice:secret");
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionOptions {
    /// The requested session timeout (clamped by the ensemble to 2–20 ticks); default 10 s.
    pub timeout: Duration,
    /// When true, expiry is final (the handle stays `Expired`); by default a new session opens.
    pub terminal_expiry: bool,
    /// Credentials sent when connecting, as with `add_auth`.
    pub auth: Vec<(String, Vec<u8>)>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            timeout: Duration::from_secs(10),
            terminal_expiry: false,
            auth: Vec::new(),
        }
    }
}

impl SessionOptions {
    /// Default options.
    pub fn new() -> SessionOptions {
        SessionOptions::default()
    }

    /// Sets the requested session timeout.
    pub fn timeout(mut self, timeout: Duration) -> SessionOptions {
        self.timeout = timeout;
        self
    }

    /// Makes expiry final instead of opening a new session.
    pub fn terminal_expiry(mut self, terminal: bool) -> SessionOptions {
        self.terminal_expiry = terminal;
        self
    }

    /// Adds credentials sent at connect time.
    pub fn auth(mut self, scheme: &str, auth: &[u8]) -> SessionOptions {
        self.auth.push((scheme.to_owned(), auth.to_vec()));
        self
    }
}

/// A session of a [`FakeEnsemble`]: a cheap, cloneable handle implementing [`Coordinator`].
///
/// Dropping the last clone without [`Coordinator::close`] closes a connected session at once, as
/// the wire client does; one cut off at the time is left to expire after its timeout.
#[derive(Clone)]
pub struct FakeSession {
    inner: Arc<Inner>,
}

struct Inner {
    ensemble: FakeEnsemble,
    client: u64,
    state_rx: watch::Receiver<SessionState>,
    /// The ensemble's packet limit, fixed at build time, so checks need no lock.
    max_packet: usize,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some((session_id, timeout)) = self.ensemble.with_state(|st| st.abandon(self.client))
        {
            self.ensemble.expire_later(session_id, timeout);
        }
    }
}

impl fmt::Debug for FakeSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeSession")
            .field("session_id", &format_args!("{:#x}", self.session_id()))
            .field("state", &*self.inner.state_rx.borrow())
            .finish()
    }
}

/// The outcome of one operation under the lock: the result, when its reply may arrive, and
/// the connection generation to restore if the operation cost the connection.
struct Outcome<T> {
    result: Result<T>,
    reply_at: Option<Instant>,
    reconnect: Option<u64>,
}

impl ServerState {
    /// Runs one operation for `client` with faults and reply ordering applied.
    fn run<T>(
        &mut self,
        client: u64,
        kind: OpKind,
        paths: &[&str],
        op: impl FnOnce(&mut ServerState, u64) -> Result<T>,
    ) -> Outcome<T> {
        let immediate = |result| Outcome {
            result,
            reply_at: None,
            reconnect: None,
        };
        let lost = |st: &mut ServerState| Outcome {
            result: Err(Error::ConnectionLoss),
            reply_at: None,
            reconnect: st.cut(client),
        };
        let session_id = match self.usable(client) {
            Ok(id) => id,
            Err(e) => return immediate(Err(e)),
        };
        let fault = if self.faults.is_empty() {
            None
        } else {
            self.faults.take(kind, paths, session_id)
        };
        let mut delay = None;
        match fault {
            Some(Fault::ConnectionLossBeforeApply) => return lost(self),
            Some(Fault::Fail(error)) => return immediate(Err(error)),
            Some(Fault::DelayReply(by)) => delay = Some(by),
            _ => {}
        }
        let result = op(self, client);
        self.flush_events();
        if fault == Some(Fault::ConnectionLossAfterApply) {
            return lost(self);
        }
        let c = self.client_mut(client);
        let reply_at = match (delay, c.reply_at) {
            (None, None) => None,
            (delay, earliest) => {
                let now = Instant::now();
                let at = (now + delay.unwrap_or_default()).max(earliest.unwrap_or(now));
                c.reply_at = (at > now).then_some(at);
                c.reply_at
            }
        };
        Outcome {
            result,
            reply_at,
            reconnect: None,
        }
    }
}

impl FakeSession {
    pub(crate) fn new(
        ensemble: FakeEnsemble,
        client: u64,
        state_rx: watch::Receiver<SessionState>,
    ) -> FakeSession {
        let max_packet = ensemble.with_state(|st| st.config.max_packet);
        FakeSession {
            inner: Arc::new(Inner {
                ensemble,
                client,
                state_rx,
                max_packet,
            }),
        }
    }

    /// The ensemble this session belongs to.
    pub fn ensemble(&self) -> &FakeEnsemble {
        &self.inner.ensemble
    }

    async fn call<T>(
        &self,
        kind: OpKind,
        paths: &[&str],
        op: impl FnOnce(&mut ServerState, u64) -> Result<T>,
    ) -> Result<T> {
        let ensemble = &self.inner.ensemble;
        let (outcome, sweep) = ensemble.with_state(|st| {
            let outcome = st.run(self.inner.client, kind, paths, op);
            (outcome, st.sweep_wanted && !st.sweeper_running)
        });
        if sweep {
            sweeper::ensure_running(ensemble);
        }
        if let Some(generation) = outcome.reconnect {
            ensemble.reconnect_later(self.inner.client, generation);
        }
        if let Some(at) = outcome.reply_at {
            tokio::time::sleep_until(at).await;
        }
        outcome.result
    }

    fn max_packet(&self) -> usize {
        self.inner.max_packet
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl Coordinator for FakeSession {
    async fn create(&self, path: &str, data: &[u8], options: &CreateOptions) -> Result<Created> {
        validate::create(path, data, options, self.max_packet())?;
        self.call(OpKind::Create, &[path], |st, c| {
            let zxid = st.next_zxid();
            st.create(c, path, data, options, zxid, None)
        })
        .await
    }

    async fn delete(&self, path: &str, version: Option<i32>) -> Result<()> {
        validate_path(path)?;
        self.call(OpKind::Delete, &[path], |st, c| {
            let zxid = st.next_zxid();
            st.delete(c, path, version, zxid, None)
        })
        .await
    }

    async fn exists(&self, path: &str) -> Result<Option<Stat>> {
        validate_path(path)?;
        self.call(OpKind::Exists, &[path], |st, _| Ok(st.exists(path)))
            .await
    }

    async fn watch_exists(&self, path: &str) -> Result<(Option<Stat>, OneshotWatch)> {
        validate_path(path)?;
        self.call(OpKind::Exists, &[path], |st, c| {
            let stat = st.exists(path);
            let (tx, watch) = OneshotWatch::channel();
            st.watched = true;
            let watches = &mut st.client_mut(c).watches;
            if stat.is_some() {
                watches.add_data(path, tx);
            } else {
                watches.add_exist(path, tx);
            }
            Ok((stat, watch))
        })
        .await
    }

    async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat)> {
        validate_path(path)?;
        self.call(OpKind::GetData, &[path], |st, c| st.get_data(c, path))
            .await
    }

    async fn watch_data(&self, path: &str) -> Result<(Vec<u8>, Stat, OneshotWatch)> {
        validate_path(path)?;
        self.call(OpKind::GetData, &[path], |st, c| {
            let (data, stat) = st.get_data(c, path)?;
            let (tx, watch) = OneshotWatch::channel();
            st.watched = true;
            st.client_mut(c).watches.add_data(path, tx);
            Ok((data, stat, watch))
        })
        .await
    }

    async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat> {
        validate::set_data(path, data, self.max_packet())?;
        self.call(OpKind::SetData, &[path], |st, c| {
            let zxid = st.next_zxid();
            st.set_data(c, path, data, version, zxid, None)
        })
        .await
    }

    async fn get_children(&self, path: &str) -> Result<(Vec<String>, Stat)> {
        validate_path(path)?;
        self.call(OpKind::GetChildren, &[path], |st, c| {
            st.get_children(c, path)
        })
        .await
    }

    async fn watch_children(&self, path: &str) -> Result<(Vec<String>, Stat, OneshotWatch)> {
        validate_path(path)?;
        self.call(OpKind::GetChildren, &[path], |st, c| {
            let (children, stat) = st.get_children(c, path)?;
            let (tx, watch) = OneshotWatch::channel();
            st.watched = true;
            st.client_mut(c).watches.add_child(path, tx);
            Ok((children, stat, watch))
        })
        .await
    }

    async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
        validate_path(path)?;
        self.call(OpKind::GetAcl, &[path], |st, c| st.get_acl(c, path))
            .await
    }

    async fn set_acl(&self, path: &str, acl: &[Acl], version: Option<i32>) -> Result<Stat> {
        validate::set_acl(path, acl, self.max_packet())?;
        self.call(OpKind::SetAcl, &[path], |st, c| {
            st.next_zxid();
            st.set_acl(c, path, acl, version)
        })
        .await
    }

    async fn multi(&self, ops: &[Op]) -> Result<Vec<OpResult>> {
        validate::multi(ops, self.max_packet())?;
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let paths: Vec<&str> = ops.iter().map(Op::path).collect();
        self.call(OpKind::Multi, &paths, |st, c| st.multi(c, ops))
            .await
    }

    async fn multi_read(&self, ops: &[ReadOp]) -> Result<Vec<Result<ReadResult>>> {
        validate::multi_read(ops)?;
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let paths: Vec<&str> = ops.iter().map(ReadOp::path).collect();
        self.call(OpKind::MultiRead, &paths, |st, c| Ok(st.multi_read(c, ops)))
            .await
    }

    async fn sync(&self, path: &str) -> Result<()> {
        validate_path(path)?;
        self.call(OpKind::Sync, &[path], |_, _| Ok(())).await
    }

    async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<PersistentWatch> {
        validate_path(path)?;
        self.call(OpKind::AddWatch, &[path], |st, c| {
            if !st.config.persistent_watches {
                return Err(Error::Unimplemented {
                    operation: "addWatch (persistent watches are disabled)",
                });
            }
            let (tx, watch) = PersistentWatch::channel();
            st.watched = true;
            st.client_mut(c).watches.add_persistent(path, mode, tx);
            Ok(watch)
        })
        .await
    }

    async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>> {
        validate::ephemerals_prefix(prefix)?;
        self.call(OpKind::GetEphemerals, &[prefix], |st, c| {
            let session_id = st.client(c).session_id;
            Ok(st.get_ephemerals(session_id, prefix))
        })
        .await
    }

    async fn get_all_children_number(&self, path: &str) -> Result<i32> {
        validate_path(path)?;
        self.call(OpKind::GetAllChildrenNumber, &[path], |st, c| {
            st.all_children_number(c, path)
        })
        .await
    }

    async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<()> {
        let mut lingering = None;
        let result = self
            .call(OpKind::AddAuth, &[], |st, c| {
                match authenticate(scheme, auth, st.config.super_digest.as_deref()) {
                    Some(ids) => {
                        let identities = &mut st.client_mut(c).identities;
                        for id in ids {
                            if !identities.contains(&id) {
                                identities.push(id);
                            }
                        }
                        Ok(())
                    }
                    None => {
                        lingering = Some(st.auth_failed(c));
                        Err(Error::AuthFailed)
                    }
                }
            })
            .await;
        if let Some((session_id, timeout)) = lingering {
            self.inner.ensemble.expire_later(session_id, timeout);
        }
        result
    }

    fn session_id(&self) -> i64 {
        self.inner
            .ensemble
            .with_state(|st| st.client(self.inner.client).session_id)
    }

    fn session_timeout(&self) -> Duration {
        self.inner
            .ensemble
            .with_state(|st| st.client(self.inner.client).timeout)
    }

    fn session_state(&self) -> watch::Receiver<SessionState> {
        self.inner.state_rx.clone()
    }

    async fn close(&self) -> Result<()> {
        self.inner
            .ensemble
            .with_state(|st| st.close_client(self.inner.client));
        Ok(())
    }
}
