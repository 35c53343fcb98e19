//! Requests: every record a client sends after the handshake, encoded with its header.

use super::frame::patch_length;
use super::jute::{Reader, WriteJute};
use super::opcode::OpCode;
use super::records::{read_acl, write_acl};
use crate::error::{Error, Result};
use crate::types::acl::Acl;

/// The xid of watch notifications.
pub const NOTIFICATION_XID: i32 = -1;
/// The xid of pings.
pub const PING_XID: i32 = -2;
/// The xid of auth packets.
pub const AUTH_XID: i32 = -4;
/// The xid this client uses for SetWatches and SetWatches2.
pub const SET_WATCHES_XID: i32 = -8;

/// One request, without its xid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// create (1), create2 (15), createContainer (19) or createTTL (21), chosen by `opcode`.
    Create {
        /// Which create opcode to send.
        opcode: OpCode,
        /// The path (sequential creates get a suffix).
        path: String,
        /// The data.
        data: Vec<u8>,
        /// The ACL.
        acl: Vec<Acl>,
        /// The create mode flags.
        flags: i32,
        /// The TTL in ms, sent only with createTTL.
        ttl: Option<i64>,
    },
    /// delete (2).
    Delete {
        /// The path.
        path: String,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// exists (3).
    Exists {
        /// The path.
        path: String,
        /// Set a watch.
        watch: bool,
    },
    /// getData (4).
    GetData {
        /// The path.
        path: String,
        /// Set a watch.
        watch: bool,
    },
    /// setData (5).
    SetData {
        /// The path.
        path: String,
        /// The new data.
        data: Vec<u8>,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// getACL (6).
    GetAcl {
        /// The path.
        path: String,
    },
    /// setACL (7).
    SetAcl {
        /// The path.
        path: String,
        /// The new ACL.
        acl: Vec<Acl>,
        /// Expected ACL version, -1 for any.
        version: i32,
    },
    /// getChildren (8).
    GetChildren {
        /// The path.
        path: String,
        /// Set a child watch.
        watch: bool,
    },
    /// getChildren2 (12).
    GetChildren2 {
        /// The path.
        path: String,
        /// Set a child watch.
        watch: bool,
    },
    /// sync (9).
    Sync {
        /// The path.
        path: String,
    },
    /// ping (11).
    Ping,
    /// check (13), only inside multi.
    Check {
        /// The path.
        path: String,
        /// Expected version, -1 for any.
        version: i32,
    },
    /// multi (14): writes applied atomically.
    Multi(Vec<Request>),
    /// multiRead (22): independent reads.
    MultiRead(Vec<Request>),
    /// checkWatches (17).
    CheckWatches {
        /// The path.
        path: String,
        /// The WatcherType number.
        watcher_type: i32,
    },
    /// removeWatches (18).
    RemoveWatches {
        /// The path.
        path: String,
        /// The WatcherType number.
        watcher_type: i32,
    },
    /// auth (100).
    Auth {
        /// The scheme, e.g. `digest`.
        scheme: String,
        /// The credentials, e.g. `user:password`.
        auth: Vec<u8>,
    },
    /// setWatches (101).
    SetWatches {
        /// The highest zxid the client has seen.
        relative_zxid: i64,
        /// Paths with data watches.
        data: Vec<String>,
        /// Paths with exist watches.
        exist: Vec<String>,
        /// Paths with child watches.
        child: Vec<String>,
    },
    /// setWatches2 (105).
    SetWatches2 {
        /// The highest zxid the client has seen.
        relative_zxid: i64,
        /// Paths with data watches.
        data: Vec<String>,
        /// Paths with exist watches.
        exist: Vec<String>,
        /// Paths with child watches.
        child: Vec<String>,
        /// Paths with persistent watches.
        persistent: Vec<String>,
        /// Paths with persistent recursive watches.
        persistent_recursive: Vec<String>,
    },
    /// sasl (102).
    Sasl {
        /// The SASL token.
        token: Vec<u8>,
    },
    /// getEphemerals (103).
    GetEphemerals {
        /// The path prefix.
        prefix: String,
    },
    /// getAllChildrenNumber (104).
    GetAllChildrenNumber {
        /// The path.
        path: String,
    },
    /// addWatch (106).
    AddWatch {
        /// The path.
        path: String,
        /// 0 persistent, 1 persistent recursive.
        mode: i32,
    },
    /// whoAmI (107).
    WhoAmI,
    /// closeSession (-11).
    CloseSession,
    /// reconfig (16).
    Reconfig {
        /// Servers joining.
        joining: Option<String>,
        /// Servers leaving.
        leaving: Option<String>,
        /// The complete new membership.
        new_members: Option<String>,
        /// Expected current config version, -1 for any.
        config_id: i64,
    },
}

impl Request {
    /// The request's opcode.
    pub fn opcode(&self) -> OpCode {
        match self {
            Request::Create { opcode, .. } => *opcode,
            Request::Delete { .. } => OpCode::Delete,
            Request::Exists { .. } => OpCode::Exists,
            Request::GetData { .. } => OpCode::GetData,
            Request::SetData { .. } => OpCode::SetData,
            Request::GetAcl { .. } => OpCode::GetAcl,
            Request::SetAcl { .. } => OpCode::SetAcl,
            Request::GetChildren { .. } => OpCode::GetChildren,
            Request::GetChildren2 { .. } => OpCode::GetChildren2,
            Request::Sync { .. } => OpCode::Sync,
            Request::Ping => OpCode::Ping,
            Request::Check { .. } => OpCode::Check,
            Request::Multi(_) => OpCode::Multi,
            Request::MultiRead(_) => OpCode::MultiRead,
            Request::CheckWatches { .. } => OpCode::CheckWatches,
            Request::RemoveWatches { .. } => OpCode::RemoveWatches,
            Request::Auth { .. } => OpCode::Auth,
            Request::SetWatches { .. } => OpCode::SetWatches,
            Request::SetWatches2 { .. } => OpCode::SetWatches2,
            Request::Sasl { .. } => OpCode::Sasl,
            Request::GetEphemerals { .. } => OpCode::GetEphemerals,
            Request::GetAllChildrenNumber { .. } => OpCode::GetAllChildrenNumber,
            Request::AddWatch { .. } => OpCode::AddWatch,
            Request::WhoAmI => OpCode::WhoAmI,
            Request::CloseSession => OpCode::CloseSession,
            Request::Reconfig { .. } => OpCode::Reconfig,
        }
    }

    /// Writes the request as a complete frame: length, header `{xid, type}`, body.
    pub fn encode_frame(&self, xid: i32, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_i32(0);
        out.put_i32(xid);
        out.put_i32(self.opcode().code());
        self.encode_body(out);
        patch_length(out, start);
    }

    /// Writes the request record alone (what follows the header).
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Request::Create {
                path,
                data,
                acl,
                flags,
                ttl,
                ..
            } => {
                out.put_str(path);
                out.put_buffer(data);
                write_acl(out, acl);
                out.put_i32(*flags);
                if let Some(ttl) = ttl {
                    out.put_i64(*ttl);
                }
            }
            Request::Delete { path, version } | Request::Check { path, version } => {
                out.put_str(path);
                out.put_i32(*version);
            }
            Request::Exists { path, watch }
            | Request::GetData { path, watch }
            | Request::GetChildren { path, watch }
            | Request::GetChildren2 { path, watch } => {
                out.put_str(path);
                out.put_bool(*watch);
            }
            Request::SetData {
                path,
                data,
                version,
            } => {
                out.put_str(path);
                out.put_buffer(data);
                out.put_i32(*version);
            }
            Request::GetAcl { path }
            | Request::Sync { path }
            | Request::GetAllChildrenNumber { path } => out.put_str(path),
            Request::GetEphemerals { prefix } => out.put_str(prefix),
            Request::SetAcl { path, acl, version } => {
                out.put_str(path);
                write_acl(out, acl);
                out.put_i32(*version);
            }
            Request::Ping | Request::WhoAmI | Request::CloseSession => {}
            Request::Multi(ops) | Request::MultiRead(ops) => {
                for op in ops {
                    out.put_i32(op.opcode().code());
                    out.put_bool(false);
                    out.put_i32(-1);
                    op.encode_body(out);
                }
                out.put_i32(-1);
                out.put_bool(true);
                out.put_i32(-1);
            }
            Request::CheckWatches { path, watcher_type }
            | Request::RemoveWatches { path, watcher_type } => {
                out.put_str(path);
                out.put_i32(*watcher_type);
            }
            Request::Auth { scheme, auth } => {
                out.put_i32(0);
                out.put_str(scheme);
                out.put_buffer(auth);
            }
            Request::SetWatches {
                relative_zxid,
                data,
                exist,
                child,
            } => {
                out.put_i64(*relative_zxid);
                out.put_strings(data);
                out.put_strings(exist);
                out.put_strings(child);
            }
            Request::SetWatches2 {
                relative_zxid,
                data,
                exist,
                child,
                persistent,
                persistent_recursive,
            } => {
                out.put_i64(*relative_zxid);
                out.put_strings(data);
                out.put_strings(exist);
                out.put_strings(child);
                out.put_strings(persistent);
                out.put_strings(persistent_recursive);
            }
            Request::Sasl { token } => out.put_buffer(token),
            Request::AddWatch { path, mode } => {
                out.put_str(path);
                out.put_i32(*mode);
            }
            Request::Reconfig {
                joining,
                leaving,
                new_members,
                config_id,
            } => {
                for s in [joining, leaving, new_members] {
                    match s {
                        Some(s) => out.put_str(s),
                        None => out.put_null(),
                    }
                }
                out.put_i64(*config_id);
            }
        }
    }

    /// Reads a request frame payload (header and body, without the length prefix): the xid and
    /// the request. Test servers and tools use it; the client never decodes requests.
    pub fn decode(payload: &[u8]) -> Result<(i32, Request)> {
        let mut r = Reader::new(payload);
        let xid = r.read_i32()?;
        let code = r.read_i32()?;
        let op = OpCode::from_code(code)
            .ok_or_else(|| Error::protocol(format!("unknown opcode {code}")))?;
        let request = Request::decode_body(op, &mut r)?;
        r.finish(op.name())?;
        Ok((xid, request))
    }

    fn decode_body(op: OpCode, r: &mut Reader<'_>) -> Result<Request> {
        Ok(match op {
            OpCode::Create | OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => {
                Request::Create {
                    opcode: op,
                    path: r.read_string()?,
                    data: r.read_buffer()?,
                    acl: read_acl(r)?,
                    flags: r.read_i32()?,
                    ttl: if op == OpCode::CreateTtl {
                        Some(r.read_i64()?)
                    } else {
                        None
                    },
                }
            }
            OpCode::Delete => Request::Delete {
                path: r.read_string()?,
                version: r.read_i32()?,
            },
            OpCode::Check => Request::Check {
                path: r.read_string()?,
                version: r.read_i32()?,
            },
            OpCode::Exists => Request::Exists {
                path: r.read_string()?,
                watch: r.read_bool()?,
            },
            OpCode::GetData => Request::GetData {
                path: r.read_string()?,
                watch: r.read_bool()?,
            },
            OpCode::GetChildren => Request::GetChildren {
                path: r.read_string()?,
                watch: r.read_bool()?,
            },
            OpCode::GetChildren2 => Request::GetChildren2 {
                path: r.read_string()?,
                watch: r.read_bool()?,
            },
            OpCode::SetData => Request::SetData {
                path: r.read_string()?,
                data: r.read_buffer()?,
                version: r.read_i32()?,
            },
            OpCode::GetAcl => Request::GetAcl {
                path: r.read_string()?,
            },
            OpCode::SetAcl => Request::SetAcl {
                path: r.read_string()?,
                acl: read_acl(r)?,
                version: r.read_i32()?,
            },
            OpCode::Sync => Request::Sync {
                path: r.read_string()?,
            },
            OpCode::Ping => Request::Ping,
            OpCode::WhoAmI => Request::WhoAmI,
            OpCode::CloseSession => Request::CloseSession,
            OpCode::Multi | OpCode::MultiRead => {
                let mut ops = Vec::new();
                loop {
                    let code = r.read_i32()?;
                    let done = r.read_bool()?;
                    let _err = r.read_i32()?;
                    if done {
                        break;
                    }
                    let inner = OpCode::from_code(code)
                        .filter(|o| !matches!(o, OpCode::Multi | OpCode::MultiRead))
                        .ok_or_else(|| Error::protocol(format!("bad multi op {code}")))?;
                    ops.push(Request::decode_body(inner, r)?);
                }
                if op == OpCode::Multi {
                    Request::Multi(ops)
                } else {
                    Request::MultiRead(ops)
                }
            }
            OpCode::CheckWatches => Request::CheckWatches {
                path: r.read_string()?,
                watcher_type: r.read_i32()?,
            },
            OpCode::RemoveWatches => Request::RemoveWatches {
                path: r.read_string()?,
                watcher_type: r.read_i32()?,
            },
            OpCode::Auth => {
                let _type = r.read_i32()?;
                Request::Auth {
                    scheme: r.read_string()?,
                    auth: r.read_buffer()?,
                }
            }
            OpCode::SetWatches => Request::SetWatches {
                relative_zxid: r.read_i64()?,
                data: r.read_strings()?,
                exist: r.read_strings()?,
                child: r.read_strings()?,
            },
            OpCode::SetWatches2 => Request::SetWatches2 {
                relative_zxid: r.read_i64()?,
                data: r.read_strings()?,
                exist: r.read_strings()?,
                child: r.read_strings()?,
                persistent: r.read_strings()?,
                persistent_recursive: r.read_strings()?,
            },
            OpCode::Sasl => Request::Sasl {
                token: r.read_buffer()?,
            },
            OpCode::GetEphemerals => Request::GetEphemerals {
                prefix: r.read_string()?,
            },
            OpCode::GetAllChildrenNumber => Request::GetAllChildrenNumber {
                path: r.read_string()?,
            },
            OpCode::AddWatch => Request::AddWatch {
                path: r.read_string()?,
                mode: r.read_i32()?,
            },
            OpCode::Reconfig => Request::Reconfig {
                joining: r.read_string_opt()?,
                leaving: r.read_string_opt()?,
                new_members: r.read_string_opt()?,
                config_id: r.read_i64()?,
            },
            OpCode::Error => return Err(Error::protocol("error is not a request type")),
        })
    }
}
