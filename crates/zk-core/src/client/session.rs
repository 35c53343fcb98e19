//! The session task: connects, re-connects to the next server, resumes or renews the session,
//! and answers handles while no connection is up.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::backoff::Backoff;
use super::command::Command;
use super::connect_string::Chroot;
use super::options::ClientOptions;
use super::transport::{Connector, Transport};
use crate::error::{Error, Result};
use crate::proto::frame::next_frame;
use crate::proto::{ConnectRequest, ConnectResponse};
use crate::types::event::SessionState;
use crate::watch::WatchRegistry;

/// The smallest negotiated session timeout the client accepts from a server.
const MIN_SESSION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The largest negotiated session timeout the client accepts beyond what it asked for. Servers
/// raise a small request to their minimum (2 ticks, 4 s by default); a server answering more
/// than this, or more than was asked if that is larger, is clamped, so that its word cannot
/// stretch the client's read deadline to days.
const MAX_SESSION_TIMEOUT: Duration = Duration::from_secs(60);

/// The session timeout to use, given what was asked and what the server answered (positive).
fn clamp_timeout(asked: Duration, answered_ms: i32) -> Duration {
    let answered = Duration::from_millis(u64::try_from(answered_ms).unwrap_or(0));
    answered.clamp(MIN_SESSION_TIMEOUT, asked.max(MAX_SESSION_TIMEOUT))
}

/// What handles read about the session without asking the task.
#[derive(Debug, Default)]
pub(crate) struct SessionView {
    pub(crate) id: AtomicI64,
    pub(crate) timeout_ms: AtomicU64,
    pub(crate) password: Mutex<Vec<u8>>,
    /// The server of the live connection, if any.
    pub(crate) server: Mutex<Option<(String, u16)>>,
}

/// How a connection ended.
#[derive(Debug)]
pub(crate) enum ConnEnd {
    /// The connection broke; the session may live on.
    Lost(Error),
    /// The server says the session expired.
    Expired,
    /// The server refused our credentials.
    AuthFailed,
    /// The application closed the session.
    Closed,
    /// Every handle was dropped.
    Abandoned,
}

/// The state the session task owns.
#[derive(Debug)]
pub(crate) struct SessionTask {
    pub(crate) options: ClientOptions,
    pub(crate) chroot: Chroot,
    pub(crate) hosts: Vec<(String, u16)>,
    pub(crate) next_host: usize,
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
    pub(crate) state_tx: watch::Sender<SessionState>,
    pub(crate) view: Arc<SessionView>,
    pub(crate) watches: Arc<Mutex<WatchRegistry>>,
    pub(crate) session_id: i64,
    pub(crate) password: Vec<u8>,
    pub(crate) last_zxid: i64,
    pub(crate) negotiated: Duration,
    /// The last time anything arrived from a server, for client-side expiry.
    pub(crate) last_heard: Instant,
    /// Credentials that succeeded, replayed on every new connection.
    pub(crate) credentials: Vec<(String, Vec<u8>)>,
    pub(crate) next_xid: i32,
    /// A session this client declared expired on its own (nothing heard for a whole timeout)
    /// that a server may still hold; it is ended before a new session opens, so that `Expired`
    /// really means its ephemeral nodes are gone.
    stale: Option<(i64, Vec<u8>)>,
}

/// A fresh connection that completed the handshake.
pub(crate) struct Handshake {
    pub(crate) transport: Transport,
    pub(crate) response: ConnectResponse,
    /// Bytes that arrived after the ConnectResponse.
    pub(crate) leftover: Vec<u8>,
}

fn shuffled(mut hosts: Vec<(String, u16)>) -> Vec<(String, u16)> {
    // Spread clients over the ensemble; a v4 uuid is the randomness we already depend on.
    let mut seed = uuid::Uuid::new_v4().as_u128();
    for i in (1..hosts.len()).rev() {
        let j = (seed % (i as u128 + 1)) as usize;
        seed /= i as u128 + 1;
        hosts.swap(i, j);
    }
    hosts
}

/// What a first connect that gave up reports: the latest attempt's failure when it says
/// something (a refused connection, a TLS certificate problem, a server speaking garbage),
/// else `ConnectionLoss`.
fn gave_up(last_failure: Option<Error>) -> Error {
    match last_failure {
        Some(failure @ (Error::Io(_) | Error::Protocol(_))) => failure,
        _ => Error::ConnectionLoss,
    }
}

/// Opens a connection (through the transport seam) and performs the handshake, within
/// `timeout`.
async fn handshake(
    connector: Connector,
    host: (String, u16),
    request: ConnectRequest,
    timeout: Duration,
    max_packet: usize,
) -> Result<Handshake> {
    let attempt = async {
        let mut transport = connector.connect(&host.0, host.1).await?;
        let mut out = Vec::with_capacity(64);
        request.encode_frame(&mut out);
        transport.writer.write_all(&out).await?;
        let mut buf = Vec::with_capacity(128);
        loop {
            if let Some((range, used)) = next_frame(&buf, max_packet)? {
                let response = ConnectResponse::decode(&buf[range])?;
                let leftover = buf.split_off(used);
                return Ok(Handshake {
                    transport,
                    response,
                    leftover,
                });
            }
            if transport.reader.read_buf(&mut buf).await? == 0 {
                return Err(Error::ConnectionLoss);
            }
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or(Err(Error::ConnectionLoss))
}

/// Ends a session on the server: attaches to it with its id and password, then closes it.
/// Succeeds too when the server says it is already gone.
async fn end_session(
    connector: Connector,
    host: (String, u16),
    session_id: i64,
    password: Vec<u8>,
    timeout: Duration,
    max_packet: usize,
) -> Result<()> {
    let request = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout_ms: timeout.as_millis().min(i32::MAX as u128) as i32,
        session_id,
        password,
        read_only: Some(false),
    };
    let Handshake {
        mut transport,
        response,
        mut leftover,
    } = handshake(connector, host, request, timeout, max_packet).await?;
    if response.is_expired() {
        return Ok(());
    }
    let mut out = Vec::new();
    crate::proto::Request::CloseSession.encode_frame(1, &mut out);
    let close = async {
        transport.writer.write_all(&out).await?;
        loop {
            if next_frame(&leftover, max_packet)?.is_some() {
                return Ok(());
            }
            if transport.reader.read_buf(&mut leftover).await? == 0 {
                // The server closes the connection after closing the session.
                return Ok(());
            }
        }
    };
    tokio::time::timeout(timeout, close)
        .await
        .unwrap_or(Err(Error::ConnectionLoss))
}

impl SessionTask {
    pub(crate) fn new(
        options: ClientOptions,
        commands: mpsc::UnboundedReceiver<Command>,
        state_tx: watch::Sender<SessionState>,
        view: Arc<SessionView>,
        watches: Arc<Mutex<WatchRegistry>>,
    ) -> SessionTask {
        let hosts = if options.shuffle_hosts {
            shuffled(options.connect.hosts.clone())
        } else {
            options.connect.hosts.clone()
        };
        SessionTask {
            chroot: Chroot::new(options.connect.chroot.clone()),
            credentials: options.auth.clone(),
            options,
            hosts,
            next_host: 0,
            commands,
            state_tx,
            view,
            watches,
            session_id: 0,
            password: vec![0; 16],
            last_zxid: 0,
            negotiated: Duration::ZERO,
            last_heard: Instant::now(),
            next_xid: 1,
            stale: None,
        }
    }

    fn connect_request(&self) -> ConnectRequest {
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: self.last_zxid,
            timeout_ms: self
                .options
                .session_timeout
                .as_millis()
                .min(i32::MAX as u128) as i32,
            session_id: self.session_id,
            password: self.password.clone(),
            read_only: Some(self.options.read_only),
        }
    }

    fn attempt_timeout(&self) -> Duration {
        self.options.connect_timeout.unwrap_or_else(|| {
            let timeout = if self.negotiated.is_zero() {
                self.options.session_timeout
            } else {
                self.negotiated
            };
            (timeout / self.hosts.len().max(1) as u32).max(Duration::from_secs(1))
        })
    }

    /// Publishes a new state; connection changes also reach persistent watches, which must
    /// learn that events may have been missed while disconnected.
    pub(crate) fn set_state(&self, state: SessionState) {
        let changed = self.state_tx.send_if_modified(|current| {
            let changed = *current != state;
            *current = state;
            changed
        });
        if changed
            && matches!(
                state,
                SessionState::Disconnected
                    | SessionState::SyncConnected
                    | SessionState::ConnectedReadOnly
            )
        {
            self.watches
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .connection_event(state);
        }
    }

    /// Answers a command while no connection is up; returns false once the task should stop.
    fn answer_offline(&mut self, command: Option<Command>, error: &Error) -> bool {
        match command {
            None => false,
            Some(Command::Call(call)) => {
                let _ = call.reply.reply.send(Err(error.clone()));
                true
            }
            Some(Command::Auth { reply, .. }) => {
                let _ = reply.send(Err(error.clone()));
                true
            }
            Some(Command::WatchDropped) => true,
            Some(Command::Close { reply }) => {
                self.finish(SessionState::Closed);
                let _ = reply.send(());
                // Keep answering `Closed` until every handle is gone.
                true
            }
        }
    }

    /// Ends the session for good with a final state.
    pub(crate) fn finish(&mut self, state: SessionState) {
        self.watches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .end(state);
        self.set_state(state);
    }

    /// The session expired: everything it owned is gone.
    fn expire(&mut self) {
        self.watches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .end(SessionState::Expired);
        self.set_state(SessionState::Expired);
        self.session_id = 0;
        self.password = vec![0; 16];
        self.view.id.store(0, Ordering::Release);
    }

    /// Waits `pause` before the next connection attempt, answering handles meanwhile as any
    /// offline wait does; false once the task should stop (every handle is gone).
    async fn pause(&mut self, pause: Duration) -> bool {
        if pause.is_zero() {
            return true;
        }
        let error = if *self.state_tx.borrow() == SessionState::Expired {
            Error::SessionExpired
        } else {
            Error::ConnectionLoss
        };
        let sleep = tokio::time::sleep(pause);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                command = self.commands.recv() => {
                    if !self.answer_offline(command, &error) {
                        return false;
                    }
                }
            }
        }
    }

    /// Answers every command with `error` until all handles are gone.
    async fn linger(&mut self, error: Error) {
        while let Some(command) = self.commands.recv().await {
            self.answer_offline(Some(command), &error);
        }
    }

    /// Runs the session until it is closed, fails for good, or every handle is dropped.
    ///
    /// `ready` learns the outcome of the first connection.
    pub(crate) async fn run(mut self, ready: oneshot::Sender<Result<()>>) {
        let mut ready = Some(ready);
        // Why the latest attempt failed: what the first connect reports if it gives up.
        let mut last_failure: Option<Error> = None;
        let started = Instant::now();
        let mut backoff = Backoff::new(self.hosts.len());
        loop {
            let state = *self.state_tx.borrow();
            if state == SessionState::Closed {
                return self.linger(Error::Closed).await;
            }
            // Client-side expiry: nothing heard from any server for a whole session timeout.
            if self.session_id != 0
                && !self.negotiated.is_zero()
                && self.last_heard.elapsed() >= self.negotiated
            {
                self.stale = Some((self.session_id, self.password.clone()));
                self.expire();
                if self.options.terminal_expiry {
                    return self.linger(Error::SessionExpired).await;
                }
            }
            if let Some(tx) = ready.take_if(|_| started.elapsed() >= self.options.session_timeout) {
                let _ = tx.send(Err(gave_up(last_failure.take())));
                return;
            }
            let host = self.hosts[self.next_host % self.hosts.len()].clone();
            self.next_host += 1;
            if let Some((id, password)) = self.stale.clone() {
                let ended = end_session(
                    self.options.connector.clone(),
                    host.clone(),
                    id,
                    password,
                    self.attempt_timeout(),
                    self.options.max_packet,
                );
                // Answer handles meanwhile, as for any connection attempt.
                tokio::pin!(ended);
                let ended = loop {
                    tokio::select! {
                        ended = &mut ended => break ended,
                        command = self.commands.recv() => {
                            if !self.answer_offline(command, &Error::SessionExpired) {
                                return;
                            }
                        }
                    }
                };
                match ended {
                    Ok(()) => self.stale = None,
                    Err(_) => {
                        if !self.pause(backoff.failed()).await {
                            return;
                        }
                        continue;
                    }
                }
            }
            let attempt = handshake(
                self.options.connector.clone(),
                host.clone(),
                self.connect_request(),
                self.attempt_timeout(),
                self.options.max_packet,
            );
            tokio::pin!(attempt);
            let offline_error = if state == SessionState::Expired {
                Error::SessionExpired
            } else {
                Error::ConnectionLoss
            };
            let outcome = loop {
                tokio::select! {
                    outcome = &mut attempt => break outcome,
                    command = self.commands.recv() => {
                        if !self.answer_offline(command, &offline_error) {
                            return;
                        }
                        if *self.state_tx.borrow() == SessionState::Closed {
                            return self.linger(Error::Closed).await;
                        }
                    }
                }
            };
            let handshake = match outcome {
                Ok(h) => h,
                Err(failure) => {
                    last_failure = Some(failure);
                    // Next server at once; after a full round, back off (bounded, growing).
                    if !self.pause(backoff.failed()).await {
                        return;
                    }
                    continue;
                }
            };
            if handshake.response.is_expired() {
                self.last_heard = Instant::now();
                if self.session_id == 0 {
                    // A server refusing a brand-new session (`timeOut <= 0`) is misbehaving; try
                    // another, or this one after the pause.
                    if !self.pause(backoff.failed()).await {
                        return;
                    }
                    continue;
                }
                self.expire();
                if self.options.terminal_expiry {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(Err(Error::SessionExpired));
                    }
                    return self.linger(Error::SessionExpired).await;
                }
                continue;
            }
            self.session_id = handshake.response.session_id;
            self.password = handshake.response.password.clone();
            // Real servers never go below 2 ticks; a tiny value would make every timer fire at
            // once, and a huge one would stretch the read deadline to days: clamped.
            self.negotiated =
                clamp_timeout(self.options.session_timeout, handshake.response.timeout_ms);
            self.last_heard = Instant::now();
            *self.view.password.lock().unwrap_or_else(|p| p.into_inner()) = self.password.clone();
            self.view.id.store(self.session_id, Ordering::Release);
            self.view
                .timeout_ms
                .store(self.negotiated.as_millis() as u64, Ordering::Release);
            let read_only = handshake.response.read_only == Some(true);
            *self.view.server.lock().unwrap_or_else(|p| p.into_inner()) = Some(host);
            let connected_at = Instant::now();
            let end = self.serve(handshake, read_only, &mut ready).await;
            *self.view.server.lock().unwrap_or_else(|p| p.into_inner()) = None;
            match end {
                ConnEnd::Lost(error) => {
                    tracing::debug!(%error, "connection lost");
                    if *self.state_tx.borrow() != SessionState::Expired {
                        self.set_state(SessionState::Disconnected);
                    }
                    // A connection that dies right after its handshake counts as a failed
                    // attempt, so a misbehaving server cannot make the client spin.
                    if !self.pause(backoff.after_connection(connected_at)).await {
                        return;
                    }
                }
                ConnEnd::Expired => {
                    // Told at once; then, like a lost connection, a session expiring right after
                    // it opened pauses before the next attempt (a server answering
                    // every ping "expired" would otherwise get a new session in a loop).
                    self.expire();
                    if self.options.terminal_expiry {
                        return self.linger(Error::SessionExpired).await;
                    }
                    if !self.pause(backoff.after_connection(connected_at)).await {
                        return;
                    }
                }
                ConnEnd::AuthFailed => {
                    self.finish(SessionState::AuthFailed);
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(Err(Error::AuthFailed));
                    }
                    return self.linger(Error::AuthFailed).await;
                }
                ConnEnd::Closed => {
                    self.finish(SessionState::Closed);
                    return self.linger(Error::Closed).await;
                }
                ConnEnd::Abandoned => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_timeout_is_clamped_to_sane_bounds() {
        let asked = Duration::from_secs(10);
        assert_eq!(clamp_timeout(asked, 4000), Duration::from_secs(4));
        assert_eq!(clamp_timeout(asked, 1), MIN_SESSION_TIMEOUT);
        assert_eq!(clamp_timeout(asked, i32::MAX), MAX_SESSION_TIMEOUT);
        let long = Duration::from_secs(120);
        assert_eq!(clamp_timeout(long, 100_000), Duration::from_secs(100));
        assert_eq!(
            clamp_timeout(long, i32::MAX),
            long,
            "what was asked, if more"
        );
    }
}
