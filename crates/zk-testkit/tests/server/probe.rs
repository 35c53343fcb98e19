//! A tiny synchronous ZooKeeper client over `std::net`, built on the `zk_core::proto` codec,
//! so the harness tests can write and read nodes before the wire client exists.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use zk_core::proto::frame::next_frame;
use zk_core::proto::{ConnectRequest, ConnectResponse, Incoming, OpCode, Request, Response};
use zk_core::{Acl, CreateMode};

/// The largest frame the probe accepts.
const MAX_FRAME: usize = 1 << 20;
/// The server's error code for a missing node.
pub(crate) const NO_NODE: i32 = -101;

/// One session on one server.
#[derive(Debug)]
pub(crate) struct Probe {
    stream: TcpStream,
    buf: Vec<u8>,
    xid: i32,
    /// The handshake's answer: session id, password, negotiated timeout.
    pub(crate) session: ConnectResponse,
}

impl Probe {
    /// Opens a new session with a 30 s timeout.
    pub(crate) fn connect(address: SocketAddr) -> io::Result<Probe> {
        Probe::handshake(address, 0, vec![0; 16])
    }

    /// Tries to resume `session` on `address`; the answer says whether it expired.
    pub(crate) fn resume(address: SocketAddr, session: &ConnectResponse) -> io::Result<Probe> {
        Probe::handshake(address, session.session_id, session.password.clone())
    }

    fn handshake(address: SocketAddr, session_id: i64, password: Vec<u8>) -> io::Result<Probe> {
        let stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        let mut probe = Probe {
            stream,
            buf: Vec::new(),
            xid: 0,
            session: ConnectResponse {
                protocol_version: 0,
                timeout_ms: 0,
                session_id: 0,
                password: Vec::new(),
                read_only: None,
            },
        };
        let mut out = Vec::new();
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms: 30_000,
            session_id,
            password,
            read_only: Some(false),
        }
        .encode_frame(&mut out);
        probe.stream.write_all(&out)?;
        let payload = probe.frame()?;
        probe.session = ConnectResponse::decode(&payload).map_err(io::Error::other)?;
        Ok(probe)
    }

    /// Reads one frame's payload.
    fn frame(&mut self) -> io::Result<Vec<u8>> {
        let mut chunk = [0u8; 4096];
        // Bounded by MAX_FRAME (next_frame refuses more) and the read timeout.
        loop {
            if let Some((range, used)) =
                next_frame(&self.buf, MAX_FRAME).map_err(io::Error::other)?
            {
                let payload = self.buf[range].to_vec();
                self.buf.drain(..used);
                return Ok(payload);
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Sends `request` and returns the reply: its body, or the server's error code.
    fn call(&mut self, request: Request) -> io::Result<Result<Response, i32>> {
        self.xid += 1;
        let op = request.opcode();
        let mut out = Vec::new();
        request.encode_frame(self.xid, &mut out);
        self.stream.write_all(&out)?;
        // Bounded by the read timeout: each pass reads one frame, notifications are skipped.
        loop {
            let payload = self.frame()?;
            match Incoming::parse(&payload).map_err(io::Error::other)? {
                Incoming::Notification(_) => continue,
                Incoming::Reply { header, body } => {
                    if header.xid != self.xid {
                        continue;
                    }
                    if header.err != 0 {
                        return Ok(Err(header.err));
                    }
                    return Response::decode(op, body).map(Ok).map_err(io::Error::other);
                }
            }
        }
    }

    /// Creates a node (a TTL node when `ttl_ms` is given) with an open ACL.
    pub(crate) fn create(
        &mut self,
        path: &str,
        data: &[u8],
        mode: CreateMode,
        ttl_ms: Option<i64>,
    ) -> io::Result<Result<(), i32>> {
        let opcode = match mode {
            CreateMode::Container => OpCode::CreateContainer,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl => {
                OpCode::CreateTtl
            }
            _ => OpCode::Create,
        };
        let reply = self.call(Request::Create {
            opcode,
            path: path.to_owned(),
            data: data.to_vec(),
            acl: Acl::open_unsafe(),
            flags: mode.flags(),
            ttl: ttl_ms,
        })?;
        Ok(reply.map(|_| ()))
    }

    /// Deletes a node, any version.
    pub(crate) fn delete(&mut self, path: &str) -> io::Result<Result<(), i32>> {
        let reply = self.call(Request::Delete {
            path: path.to_owned(),
            version: -1,
        })?;
        Ok(reply.map(|_| ()))
    }

    /// Reads a node's data.
    pub(crate) fn get_data(&mut self, path: &str) -> io::Result<Result<Vec<u8>, i32>> {
        let reply = self.call(Request::GetData {
            path: path.to_owned(),
            watch: false,
        })?;
        Ok(reply.and_then(|response| match response {
            Response::Data { data, .. } => Ok(data),
            _ => Err(i32::MIN),
        }))
    }
}
