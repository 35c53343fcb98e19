//! The session handshake: ConnectRequest and ConnectResponse.

use super::jute::{Reader, WriteJute};
use crate::error::{Error, Result};

/// The first frame a client sends on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Always 0.
    pub protocol_version: i32,
    /// The highest zxid the client has seen.
    pub last_zxid_seen: i64,
    /// Requested session timeout in ms.
    pub timeout_ms: i32,
    /// 0 for a new session, else the session to resume.
    pub session_id: i64,
    /// 16 bytes: zeros for a new session, else the session's password.
    pub password: Vec<u8>,
    /// Whether the client accepts a read-only server (`None`: the byte is not sent, as pre-3.4
    /// clients do).
    pub read_only: Option<bool>,
}

impl ConnectRequest {
    /// Writes the request as a complete frame (length prefix included).
    pub fn encode_frame(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_i32(0);
        out.put_i32(self.protocol_version);
        out.put_i64(self.last_zxid_seen);
        out.put_i32(self.timeout_ms);
        out.put_i64(self.session_id);
        out.put_buffer(&self.password);
        if let Some(read_only) = self.read_only {
            out.put_bool(read_only);
        }
        super::frame::patch_length(out, start);
    }

    /// Reads a request from a frame payload (without the length prefix).
    pub fn decode(payload: &[u8]) -> Result<ConnectRequest> {
        let mut r = Reader::new(payload);
        let request = ConnectRequest {
            protocol_version: r.read_i32()?,
            last_zxid_seen: r.read_i64()?,
            timeout_ms: r.read_i32()?,
            session_id: r.read_i64()?,
            password: r.read_buffer()?,
            read_only: if r.remaining() > 0 {
                Some(r.read_bool()?)
            } else {
                None
            },
        };
        r.finish("ConnectRequest")?;
        Ok(request)
    }
}

/// The server's answer to a ConnectRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// Negotiated timeout in ms; 0 or less means the session is expired (or the password wrong).
    pub timeout_ms: i32,
    /// The session id (0 when expired).
    pub session_id: i64,
    /// The session's password (zeros when expired).
    pub password: Vec<u8>,
    /// Whether the server is read-only (`None` when the server sent no flag byte).
    pub read_only: Option<bool>,
}

impl ConnectResponse {
    /// True when the server refused to resume the session: it is expired.
    pub fn is_expired(&self) -> bool {
        self.timeout_ms <= 0
    }

    /// Reads a response from a frame payload (36 or 37 bytes; extra trailing bytes are ignored).
    pub fn decode(payload: &[u8]) -> Result<ConnectResponse> {
        let mut r = Reader::new(payload);
        let response = ConnectResponse {
            protocol_version: r.read_i32()?,
            timeout_ms: r.read_i32()?,
            session_id: r.read_i64()?,
            password: r.read_buffer()?,
            read_only: if r.remaining() > 0 {
                Some(r.read_bool()?)
            } else {
                None
            },
        };
        if response.password.len() > 64 {
            return Err(Error::protocol("session password longer than 64 bytes"));
        }
        Ok(response)
    }

    /// Writes the response as a complete frame (for test servers).
    pub fn encode_frame(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_i32(0);
        out.put_i32(self.protocol_version);
        out.put_i32(self.timeout_ms);
        out.put_i64(self.session_id);
        out.put_buffer(&self.password);
        if let Some(read_only) = self.read_only {
            out.put_bool(read_only);
        }
        super::frame::patch_length(out, start);
    }
}
