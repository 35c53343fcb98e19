//! Fuzz target `client_stream`: a server's byte stream through the wire client's read path,
//! without a network.
//!
//! It mirrors `client/session.rs` (the handshake) and `client/connection.rs` (the connection
//! loop): bytes arrive in chunks of varying size, whole frames are split off with `next_frame`,
//! the first is the ConnectResponse, and every later one goes through `Incoming::parse`, then,
//! for replies, the xid dispatch (ping, auth, SetWatches, the oldest pending request) and
//! `Error::from_code` or `Response::decode` for the pending request's opcode.
//! A protocol error ends the connection, as it does in the client.
//!
//! Input (the format `cargo xtask fuzz` writes its seeds in):
//! - byte 0: flags. Bit 0: a 4096-byte packet limit instead of the default; bit 1: one auth
//!   packet is in flight; bits 2..8: how the stream is cut into reads (0: one read).
//! - byte 1: `n`, then `n` opcode bytes (as in the `decode` target): the requests in flight,
//!   with xids 1 to `n`.
//! - records to the end, each a tag byte:
//!   - `0`: a big-endian `u16` length and that many bytes, copied to the stream as they are;
//!   - `2`: a reply built here: an xid byte (below `n`: the xid of that pending request; else
//!     the byte as a signed xid, so `0xfe` is a ping and `0xfc` auth), an error byte (signed),
//!     a `u16` length and the body;
//!   - `3`: a notification built here: event type and state bytes (signed), a `u16` length and
//!     the path;
//!   - any other tag: a `u16` length and a frame payload, written with a correct length prefix.
//!
//!   A record cut short by the end of the input takes what is there.
#![no_main]
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use zk_core::proto::frame::next_frame;
use zk_core::proto::request::{AUTH_XID, NOTIFICATION_XID, PING_XID, SET_WATCHES_XID};
use zk_core::proto::{ConnectResponse, Incoming, OpCode, Response};
use zk_core::{Error, EventType};

/// Every opcode zk-core knows (all fit in a signed byte).
static OPCODES: LazyLock<Vec<OpCode>> = LazyLock::new(|| {
    (i8::MIN..=i8::MAX)
        .filter_map(|c| OpCode::from_code(c.into()))
        .collect()
});

/// The chroot the simulated client was opened with, for notification paths.
const CHROOT: &str = "/app";

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte().unwrap_or(0);
    let max_packet = if flags & 1 != 0 {
        4096
    } else {
        zk_core::DEFAULT_MAX_PACKET
    };
    let auths = usize::from(flags & 2 != 0);
    let read_seed = usize::from(flags >> 2);

    let count = input.byte().unwrap_or(0);
    let pending: VecDeque<(i32, OpCode)> = (1..=i32::from(count))
        .map(|xid| (xid, opcode(input.byte().unwrap_or(0))))
        .collect();
    let xids: Vec<i32> = pending.iter().map(|(xid, _)| *xid).collect();
    let stream = build_stream(&mut input, &xids);

    let mut reads = Reads {
        stream: &stream,
        at: 0,
        seed: read_seed,
        turn: 0,
    };
    let Some(leftover) = handshake(&mut reads, max_packet) else {
        return;
    };
    let mut connection = Connection {
        pending,
        auths,
        last_zxid: 0,
    };
    connection.serve(leftover, &mut reads, max_packet);
});

/// The opcode for a byte, as in the `decode` target.
fn opcode(byte: u8) -> OpCode {
    OpCode::from_code(i32::from(byte as i8))
        .unwrap_or_else(|| OPCODES[usize::from(byte) % OPCODES.len()])
}

/// The fuzzer's bytes, read front to back.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn signed(&mut self) -> i32 {
        i32::from(self.byte().unwrap_or(0) as i8)
    }

    /// A `u16` length, then up to that many bytes.
    fn chunk(&mut self) -> &'a [u8] {
        let hi = self.byte().unwrap_or(0);
        let lo = self.byte().unwrap_or(0);
        let len = usize::from(u16::from_be_bytes([hi, lo])).min(self.0.len());
        let (chunk, rest) = self.0.split_at(len);
        self.0 = rest;
        chunk
    }
}

/// The server's byte stream described by the records.
fn build_stream(input: &mut Input<'_>, xids: &[i32]) -> Vec<u8> {
    let mut stream = Vec::new();
    let mut zxid = 0i64;
    let framed = |stream: &mut Vec<u8>, parts: &[&[u8]]| {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        stream.extend_from_slice(&(len as i32).to_be_bytes());
        for part in parts {
            stream.extend_from_slice(part);
        }
    };
    while let Some(tag) = input.byte() {
        match tag {
            0 => stream.extend_from_slice(input.chunk()),
            2 => {
                let pick = input.byte().unwrap_or(0);
                let xid = xids
                    .get(usize::from(pick))
                    .copied()
                    .unwrap_or(i32::from(pick as i8));
                let err = input.signed();
                zxid += 1;
                let body = input.chunk();
                framed(
                    &mut stream,
                    &[
                        &xid.to_be_bytes(),
                        &zxid.to_be_bytes(),
                        &err.to_be_bytes(),
                        body,
                    ],
                );
            }
            3 => {
                let event_type = input.signed();
                let state = input.signed();
                let path = input.chunk();
                framed(
                    &mut stream,
                    &[
                        &NOTIFICATION_XID.to_be_bytes(),
                        &(-1i64).to_be_bytes(),
                        &0i32.to_be_bytes(),
                        &event_type.to_be_bytes(),
                        &state.to_be_bytes(),
                        &(path.len() as i32).to_be_bytes(),
                        path,
                    ],
                );
            }
            _ => {
                let payload = input.chunk();
                framed(&mut stream, &[payload]);
            }
        }
    }
    stream
}

/// The socket: hands out the stream in reads of varying size, then end of stream.
struct Reads<'a> {
    stream: &'a [u8],
    at: usize,
    seed: usize,
    turn: usize,
}

impl Reads<'_> {
    /// Appends the next read to `buf`; false at end of stream.
    fn read(&mut self, buf: &mut Vec<u8>) -> bool {
        let left = self.stream.len() - self.at;
        if left == 0 {
            return false;
        }
        let size = if self.seed == 0 {
            left
        } else {
            self.turn += 1;
            1 + (self.seed * self.turn * 7) % 257
        };
        let end = self.at + size.min(left);
        buf.extend_from_slice(&self.stream[self.at..end]);
        self.at = end;
        true
    }
}

/// The handshake: the first frame is the ConnectResponse; returns the bytes after it, or `None`
/// when the client would give up on this connection.
fn handshake(reads: &mut Reads<'_>, max_packet: usize) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(128);
    loop {
        match next_frame(&buf, max_packet) {
            Ok(Some((range, used))) => {
                let response = ConnectResponse::decode(&buf[range]).ok()?;
                if response.is_expired() {
                    return None;
                }
                return Some(buf.split_off(used));
            }
            Ok(None) => {}
            Err(_) => return None,
        }
        if !reads.read(&mut buf) {
            return None;
        }
    }
}

/// What one connection of the client keeps while reading replies.
struct Connection {
    pending: VecDeque<(i32, OpCode)>,
    auths: usize,
    last_zxid: i64,
}

impl Connection {
    /// The connection loop's reading half: whole frames first, then the next read.
    fn serve(&mut self, mut rbuf: Vec<u8>, reads: &mut Reads<'_>, max_packet: usize) {
        loop {
            let mut consumed = 0;
            loop {
                match next_frame(&rbuf[consumed..], max_packet) {
                    Ok(Some((range, used))) => {
                        let payload = rbuf[consumed + range.start..consumed + range.end].to_vec();
                        consumed += used;
                        if !self.receive(&payload) {
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => return,
                }
            }
            rbuf.drain(..consumed);
            if !reads.read(&mut rbuf) {
                return;
            }
        }
    }

    /// Handles one frame; false when the connection ends.
    fn receive(&mut self, payload: &[u8]) -> bool {
        let (header, body) = match Incoming::parse(payload) {
            Ok(Incoming::Notification(event)) => {
                let _path = to_client(&event.path);
                let _ = EventType::from_code(event.event_type);
                return true;
            }
            Ok(Incoming::Reply { header, body }) => (header, body),
            Err(_) => return false,
        };
        self.last_zxid = self.last_zxid.max(header.zxid);
        match header.xid {
            PING_XID => true,
            AUTH_XID => {
                if self.auths == 0 {
                    return true;
                }
                self.auths -= 1;
                header.err == 0
            }
            SET_WATCHES_XID => true,
            xid => self.complete(xid, header.err, body),
        }
    }

    /// Answers the oldest pending request; false when the connection ends.
    fn complete(&mut self, xid: i32, err: i32, body: &[u8]) -> bool {
        let Some((expected, op)) = self.pending.pop_front() else {
            return false;
        };
        if expected != xid {
            return false;
        }
        if op == OpCode::CloseSession || err == -112 {
            return false;
        }
        let result = match Error::from_code(err, "/app/node", -1, op.name()) {
            Some(error) => Err(error),
            None => Response::decode(op, body),
        };
        if let Err(error) = &result {
            // Every error must print (the client logs and returns them).
            let _ = error.to_string();
        }
        !matches!(result, Err(Error::Protocol(_)))
    }
}

/// The client's chroot stripping, as `Chroot::to_client` does it.
fn to_client(path: &str) -> String {
    match path.strip_prefix(CHROOT) {
        Some("") => "/".to_owned(),
        Some(rest) if rest.starts_with('/') => rest.to_owned(),
        _ => path.to_owned(),
    }
}
