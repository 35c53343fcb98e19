//! One live connection: pipelined requests out, replies matched by xid, notifications dispatched,
//! pings, and the restoration of auth and watches after every (re)connect.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::command::{Command, ReplyTo, WatchIntent};
use super::session::{ConnEnd, Handshake, SessionTask};
use super::transport::Transport;
use crate::error::{Error, Result};
use crate::proto::frame::next_frame;
use crate::proto::request::{AUTH_XID, PING_XID, SET_WATCHES_XID};
use crate::proto::{Incoming, OpCode, ReplyHeader, Request, Response};
use crate::types::event::{EventType, SessionState};

/// How long closing an abandoned session may take before the task gives up on it.
const ABANDON_FLUSH: Duration = Duration::from_secs(1);

/// Stop taking new requests while this many bytes wait to be written.
const WRITE_HIGH_WATER: usize = 4 << 20;
/// How many queued commands one turn of the loop encodes before writing.
const BATCH: usize = 512;
/// Path bytes per SetWatches request, to stay far below the packet limit.
const SET_WATCHES_BATCH: usize = 128 * 1024;

/// A request on the wire, waiting for its reply.
#[derive(Debug)]
enum Pending {
    Call(ReplyTo),
    Close(oneshot::Sender<()>),
    /// A request of the client's own (removeWatches) whose outcome nobody awaits.
    Internal,
}

/// An auth packet on the wire; `reply` is `None` for replayed credentials.
#[derive(Debug)]
struct PendingAuth {
    scheme: String,
    auth: Vec<u8>,
    reply: Option<oneshot::Sender<Result<()>>>,
}

/// The per-connection buffers and queues.
#[derive(Debug, Default)]
struct Wire {
    out: Vec<u8>,
    written: usize,
    pending: VecDeque<(i32, OpCode, Pending)>,
    auths: VecDeque<PendingAuth>,
    last_sent: Option<Instant>,
    /// Paths with a watch-setting request on the wire: their watches must not be removed now.
    watching: std::collections::HashMap<String, usize>,
}

impl Wire {
    fn unsent(&self) -> usize {
        self.out.len() - self.written
    }
}

impl SessionTask {
    fn take_xid(&mut self) -> i32 {
        let xid = self.next_xid;
        self.next_xid = if xid == i32::MAX { 1 } else { xid + 1 };
        xid
    }

    /// Encodes the auth replays and SetWatches that must precede everything else.
    fn restore(&mut self, wire: &mut Wire) {
        for (scheme, auth) in &self.credentials {
            Request::Auth {
                scheme: scheme.clone(),
                auth: auth.clone(),
            }
            .encode_frame(AUTH_XID, &mut wire.out);
            wire.auths.push_back(PendingAuth {
                scheme: scheme.clone(),
                auth: auth.clone(),
                reply: None,
            });
        }
        let registry = self.watches.lock().unwrap_or_else(|p| p.into_inner());
        let to_server = |paths: &mut dyn Iterator<Item = &str>| -> Vec<String> {
            let mut out: Vec<String> = paths.map(|p| self.chroot.to_server(p)).collect();
            out.sort_unstable();
            out
        };
        let lists = [
            to_server(&mut registry.data_paths()),
            to_server(&mut registry.exist_paths()),
            to_server(&mut registry.child_paths()),
            to_server(&mut registry.persistent_paths()),
            to_server(&mut registry.recursive_paths()),
        ];
        drop(registry);
        let persistent = !lists[3].is_empty() || !lists[4].is_empty();
        let mut batch: [Vec<String>; 5] = Default::default();
        let mut bytes = 0;
        let flush = |batch: &mut [Vec<String>; 5], out: &mut Vec<u8>| {
            if batch.iter().all(Vec::is_empty) {
                return;
            }
            let [data, exist, child, pers, rec] = std::mem::take(batch);
            let request = if persistent {
                Request::SetWatches2 {
                    relative_zxid: self.last_zxid,
                    data,
                    exist,
                    child,
                    persistent: pers,
                    persistent_recursive: rec,
                }
            } else {
                Request::SetWatches {
                    relative_zxid: self.last_zxid,
                    data,
                    exist,
                    child,
                }
            };
            request.encode_frame(SET_WATCHES_XID, out);
        };
        for (kind, list) in lists.into_iter().enumerate() {
            for path in list {
                bytes += path.len() + 4;
                batch[kind].push(path);
                if bytes >= SET_WATCHES_BATCH {
                    flush(&mut batch, &mut wire.out);
                    bytes = 0;
                }
            }
        }
        flush(&mut batch, &mut wire.out);
    }

    /// Puts one command on the wire (or answers it at once).
    fn encode(&mut self, command: Command, wire: &mut Wire) -> Option<ConnEnd> {
        match command {
            Command::Call(call) => {
                let xid = self.take_xid();
                let start = wire.out.len();
                call.request.encode_frame(xid, &mut wire.out);
                let size = wire.out.len() - start - 4;
                let reply_to = call.reply;
                if size > self.options.max_packet {
                    wire.out.truncate(start);
                    let path = reply_to.paths.first().cloned().unwrap_or_default();
                    let _ = reply_to.reply.send(Err(Error::TooLarge {
                        path,
                        size,
                        limit: self.options.max_packet,
                    }));
                    return None;
                }
                let op = call.request.opcode();
                if let Some((path, _)) = &reply_to.watch {
                    *wire.watching.entry(path.clone()).or_default() += 1;
                }
                wire.pending.push_back((xid, op, Pending::Call(reply_to)));
            }
            Command::Auth {
                scheme,
                auth,
                reply,
            } => {
                Request::Auth {
                    scheme: scheme.clone(),
                    auth: auth.clone(),
                }
                .encode_frame(AUTH_XID, &mut wire.out);
                wire.auths.push_back(PendingAuth {
                    scheme,
                    auth,
                    reply: Some(reply),
                });
            }
            Command::WatchDropped => {
                let unneeded = self
                    .watches
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .prune_unneeded();
                for (path, kind) in unneeded {
                    if wire.watching.get(&path).is_some_and(|n| *n > 0) {
                        continue;
                    }
                    let xid = self.take_xid();
                    Request::RemoveWatches {
                        path: self.chroot.to_server(&path),
                        watcher_type: kind.code(),
                    }
                    .encode_frame(xid, &mut wire.out);
                    wire.pending
                        .push_back((xid, OpCode::RemoveWatches, Pending::Internal));
                }
            }
            Command::Close { reply } => {
                let xid = self.take_xid();
                Request::CloseSession.encode_frame(xid, &mut wire.out);
                wire.pending
                    .push_back((xid, OpCode::CloseSession, Pending::Close(reply)));
            }
        }
        None
    }

    /// Handles one frame from the server.
    fn receive(
        &mut self,
        payload: &[u8],
        wire: &mut Wire,
        ready: &mut Option<oneshot::Sender<Result<()>>>,
    ) -> Option<ConnEnd> {
        let incoming = match Incoming::parse(payload) {
            Ok(incoming) => incoming,
            Err(error) => return Some(ConnEnd::Lost(error)),
        };
        let (header, body) = match incoming {
            Incoming::Notification(event) => {
                let path = self.chroot.to_client(&event.path);
                if let Some(event_type) = EventType::from_code(event.event_type) {
                    self.watches
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .fire(event_type, &path);
                }
                return None;
            }
            Incoming::Reply { header, body } => (header, body),
        };
        if header.zxid > self.last_zxid {
            self.last_zxid = header.zxid;
        }
        // Any reply saying the session expired ends it, a ping's included.
        if header.err == -112 && header.xid < 0 && header.xid != AUTH_XID {
            return Some(ConnEnd::Expired);
        }
        match header.xid {
            PING_XID => None,
            AUTH_XID => {
                let auth = wire.auths.pop_front()?;
                if header.err != 0 {
                    if let Some(reply) = auth.reply {
                        let _ = reply.send(Err(Error::AuthFailed));
                    }
                    return Some(ConnEnd::AuthFailed);
                }
                let credential = (auth.scheme, auth.auth);
                if !self.credentials.contains(&credential) {
                    self.credentials.push(credential);
                }
                if let Some(reply) = auth.reply {
                    let _ = reply.send(Ok(()));
                }
                if wire.auths.is_empty() {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(Ok(()));
                    }
                }
                None
            }
            SET_WATCHES_XID => {
                if header.err != 0 {
                    tracing::warn!(err = header.err, "the server refused to restore watches");
                }
                None
            }
            xid => self.complete(xid, header, body, wire),
        }
    }

    fn complete(
        &mut self,
        xid: i32,
        header: ReplyHeader,
        body: &[u8],
        wire: &mut Wire,
    ) -> Option<ConnEnd> {
        let Some((expected, op, pending)) = wire.pending.pop_front() else {
            return Some(ConnEnd::Lost(Error::protocol(format!(
                "reply with xid {xid} but nothing is pending"
            ))));
        };
        if expected != xid {
            let error = Error::protocol(format!("reply with xid {xid}, expected {expected}"));
            wire.pending.push_front((expected, op, pending));
            return Some(ConnEnd::Lost(error));
        }
        let call = match pending {
            Pending::Close(reply) => {
                let _ = reply.send(());
                return Some(ConnEnd::Closed);
            }
            // NoWatcher just means the watch fired meanwhile.
            Pending::Internal => return None,
            Pending::Call(call) => call,
        };
        if header.err == Error::SessionExpired.code().unwrap_or_default() {
            let _ = call.reply.send(Err(Error::SessionExpired));
            return Some(ConnEnd::Expired);
        }
        let path = call.paths.first().map(String::as_str).unwrap_or("/");
        let version = call.versions.first().copied().unwrap_or(-1);
        let result = match Error::from_code(header.err, path, version, op.name()) {
            Some(error) => Err(error),
            None => Response::decode(op, body).map(|r| (header.zxid, r)),
        };
        if let Some((path, intent)) = call.watch {
            if let Some(n) = wire.watching.get_mut(&path) {
                *n -= 1;
                if *n == 0 {
                    wire.watching.remove(&path);
                }
            }
            let mut registry = self.watches.lock().unwrap_or_else(|p| p.into_inner());
            let no_node = header.err == -101;
            match intent {
                WatchIntent::Data(tx) if result.is_ok() => registry.add_data(&path, tx),
                WatchIntent::Child(tx) if result.is_ok() => registry.add_child(&path, tx),
                WatchIntent::Exists(tx) if result.is_ok() => registry.add_data(&path, tx),
                WatchIntent::Exists(tx) if no_node => registry.add_exist(&path, tx),
                WatchIntent::Persistent(tx, mode) if result.is_ok() => {
                    registry.add_persistent(&path, mode, tx)
                }
                _ => {}
            }
        }
        let undecodable = matches!(&result, Err(Error::Protocol(_)));
        let _ = call.reply.send(result);
        if undecodable {
            return Some(ConnEnd::Lost(Error::protocol("undecodable reply body")));
        }
        None
    }

    /// Serves one connection until it ends.
    pub(crate) async fn serve(
        &mut self,
        handshake: Handshake,
        read_only: bool,
        ready: &mut Option<oneshot::Sender<Result<()>>>,
    ) -> ConnEnd {
        let Handshake {
            transport,
            leftover,
            ..
        } = handshake;
        let Transport {
            mut reader,
            mut writer,
        } = transport;
        let mut wire = Wire::default();
        self.restore(&mut wire);
        self.set_state(if read_only {
            SessionState::ConnectedReadOnly
        } else {
            SessionState::SyncConnected
        });
        if wire.auths.is_empty() {
            if let Some(tx) = ready.take() {
                let _ = tx.send(Ok(()));
            }
        }
        let timeout = self.negotiated;
        let ping_every = timeout / 3;
        let read_timeout = timeout * 2 / 3;
        let mut rbuf = leftover;
        rbuf.reserve(64 * 1024);
        let mut last_read = Instant::now();
        let mut last_write = Instant::now();
        // On a read-only server, look for a read-write one to move to.
        let current = (self.next_host + self.hosts.len() - 1) % self.hosts.len();
        let probe = super::read_write_probe::find_read_write(self.hosts.clone(), current);
        tokio::pin!(probe);
        let probing = read_only && self.hosts.len() > 1;
        // When the frame now in `rbuf` began arriving: a reply must complete within the read
        // timeout, not merely trickle in byte by byte.
        let mut partial_since: Option<Instant> = None;
        // Since when the oldest request has waited without any reply coming: a server that
        // answers pings but not requests is left after a whole session timeout.
        let mut waiting_since: Option<Instant> = None;
        let end = 'conn: loop {
            let outstanding = wire.pending.len();
            // Handle whole frames already buffered.
            let mut consumed = 0;
            loop {
                match next_frame(&rbuf[consumed..], self.options.max_packet) {
                    Ok(Some((range, used))) => {
                        let payload = &rbuf[consumed + range.start..consumed + range.end];
                        consumed += used;
                        if let Some(end) = self.receive(payload, &mut wire, ready) {
                            break 'conn end;
                        }
                    }
                    Ok(None) => break,
                    Err(error) => break 'conn ConnEnd::Lost(error),
                }
            }
            if consumed > 0 {
                rbuf.drain(..consumed);
                partial_since = None;
            }
            if rbuf.is_empty() {
                partial_since = None;
            } else {
                partial_since.get_or_insert(last_read);
            }
            if wire.pending.is_empty() {
                waiting_since = None;
            } else if wire.pending.len() < outstanding || waiting_since.is_none() {
                // Replies came (or the first request went out): the clock starts again.
                waiting_since = Some(Instant::now());
            }
            let stalled_read = partial_since.map(|since| since + read_timeout);
            let stalled_requests = waiting_since.map(|since| since + timeout);
            let deadline = [stalled_read, stalled_requests].into_iter().flatten().fold(
                (last_write + ping_every).min(last_read + read_timeout),
                Instant::min,
            );
            tokio::select! {
                biased;
                read = reader.read_buf(&mut rbuf) => match read {
                    Ok(0) => break ConnEnd::Lost(Error::ConnectionLoss),
                    Ok(_) => {
                        last_read = Instant::now();
                        self.last_heard = last_read;
                    }
                    Err(error) => break ConnEnd::Lost(error.into()),
                },
                written = writer.write(&wire.out[wire.written..]), if wire.unsent() > 0 => {
                    match written {
                        Ok(n) => {
                            wire.written += n;
                            if wire.written == wire.out.len() {
                                wire.out.clear();
                                wire.written = 0;
                            }
                            last_write = Instant::now();
                            wire.last_sent = Some(last_write);
                        }
                        Err(error) => break ConnEnd::Lost(error.into()),
                    }
                },
                command = self.commands.recv(), if wire.unsent() < WRITE_HIGH_WATER => {
                    let Some(command) = command else {
                        // Every handle is gone: close the session rather than leave it, and its
                        // ephemeral nodes, to time out. Sent without waiting for the answer.
                        let xid = self.take_xid();
                        Request::CloseSession.encode_frame(xid, &mut wire.out);
                        let unsent = &wire.out[wire.written..];
                        let closing = async {
                            writer.write_all(unsent).await?;
                            writer.shutdown().await?;
                            // Read to the end (the server closes after CloseSession): closing a
                            // socket with unread data resets it, which can discard the close.
                            let mut sink = [0u8; 4096];
                            while reader.read(&mut sink).await? > 0 {}
                            Ok::<(), std::io::Error>(())
                        };
                        let _ = tokio::time::timeout(ABANDON_FLUSH, closing).await;
                        break ConnEnd::Abandoned;
                    };
                    if let Some(end) = self.encode(command, &mut wire) {
                        break end;
                    }
                    for _ in 1..BATCH {
                        match self.commands.try_recv() {
                            Ok(command) => {
                                if let Some(end) = self.encode(command, &mut wire) {
                                    break 'conn end;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                },
                found = &mut probe, if probing => {
                    self.next_host = found;
                    break ConnEnd::Lost(Error::protocol("moving to a read-write server"));
                },
                _ = tokio::time::sleep_until(deadline) => {
                    let now = Instant::now();
                    if now >= last_read + read_timeout {
                        break ConnEnd::Lost(Error::OperationTimeout);
                    }
                    if stalled_read.is_some_and(|at| now >= at) {
                        tracing::debug!("a reply did not complete within the read timeout");
                        break ConnEnd::Lost(Error::OperationTimeout);
                    }
                    if stalled_requests.is_some_and(|at| now >= at) {
                        tracing::debug!("no reply to any request for a whole session timeout");
                        break ConnEnd::Lost(Error::OperationTimeout);
                    }
                    Request::Ping.encode_frame(PING_XID, &mut wire.out);
                    last_write = now;
                },
            }
        };
        let _ = writer.shutdown().await;
        self.fail_pending(wire, &end);
        end
    }

    /// Ends every request still waiting on this connection.
    fn fail_pending(&mut self, wire: Wire, end: &ConnEnd) {
        let error = match end {
            ConnEnd::Lost(_) | ConnEnd::Abandoned => Error::ConnectionLoss,
            ConnEnd::Expired => Error::SessionExpired,
            ConnEnd::AuthFailed => Error::AuthFailed,
            ConnEnd::Closed => Error::Closed,
        };
        for (_, _, pending) in wire.pending {
            match pending {
                Pending::Call(call) => {
                    let _ = call.reply.send(Err(error.clone()));
                }
                Pending::Close(reply) => {
                    // The connection went before the close was confirmed: close locally.
                    let _ = reply.send(());
                    self.set_state(SessionState::Closed);
                }
                Pending::Internal => {}
            }
        }
        for auth in wire.auths {
            if let Some(reply) = auth.reply {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}
