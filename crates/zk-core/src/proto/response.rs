//! Replies: the reply header, notifications, and every response body, decoded by the opcode of
//! the request they answer.

use super::frame::patch_length;
use super::jute::{Reader, WriteJute};
use super::opcode::OpCode;
use super::records::{ClientInfo, WatcherEvent, read_acl, read_stat, write_acl, write_stat};
use super::request::NOTIFICATION_XID;
use crate::error::{Error, Result};
use crate::types::acl::Acl;
use crate::types::stat::Stat;

/// The 16-byte header of every reply frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyHeader {
    /// The xid of the request answered (-1 notification, -2 ping, -4 auth).
    pub xid: i32,
    /// The zxid (see the protocol reference, section 5.2).
    pub zxid: i64,
    /// 0 or a ZooKeeper error code.
    pub err: i32,
}

impl ReplyHeader {
    /// Reads a header.
    pub fn read(r: &mut Reader<'_>) -> Result<ReplyHeader> {
        Ok(ReplyHeader {
            xid: r.read_i32()?,
            zxid: r.read_i64()?,
            err: r.read_i32()?,
        })
    }

    /// Writes a header.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.put_i32(self.xid);
        out.put_i64(self.zxid);
        out.put_i32(self.err);
    }
}

/// One result inside a multi or multiRead reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MultiResult {
    /// create (type 1): the path only.
    Create {
        /// The created path.
        path: String,
    },
    /// create2/container/TTL (type 15): the path and the Stat.
    Create2 {
        /// The created path.
        path: String,
        /// The new node's Stat.
        stat: Stat,
    },
    /// delete (type 2).
    Delete,
    /// setData (type 5).
    SetData(Stat),
    /// check (type 13).
    Check,
    /// getData (type 4), in multiRead.
    GetData {
        /// The data.
        data: Vec<u8>,
        /// The Stat.
        stat: Stat,
    },
    /// getChildren (type 8), in multiRead.
    GetChildren(Vec<String>),
    /// An error result (type -1) with its code (0 for "rolled back" in a failed multi).
    Error(i32),
}

/// A decoded reply body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// No body (delete, auth, setWatches, ping, close, checkWatches, removeWatches, or any error).
    Empty,
    /// create (1).
    Create(String),
    /// create2, createContainer, createTTL.
    Create2 {
        /// The created path.
        path: String,
        /// The new node's Stat.
        stat: Stat,
    },
    /// exists, setData, setACL.
    Stat(Stat),
    /// getData.
    Data {
        /// The data (null reads as empty).
        data: Vec<u8>,
        /// The Stat.
        stat: Stat,
    },
    /// getACL.
    Acl {
        /// The ACL.
        acl: Vec<Acl>,
        /// The Stat.
        stat: Stat,
    },
    /// getChildren.
    Children(Vec<String>),
    /// getChildren2.
    Children2 {
        /// The child names.
        children: Vec<String>,
        /// The parent's Stat.
        stat: Stat,
    },
    /// sync: the path echoed.
    Sync(String),
    /// multi or multiRead results, in order.
    Multi(Vec<MultiResult>),
    /// getEphemerals.
    Ephemerals(Vec<String>),
    /// getAllChildrenNumber.
    Count(i32),
    /// addWatch: a 4-byte error code body (0).
    AddWatch(i32),
    /// whoAmI.
    WhoAmI(Vec<ClientInfo>),
    /// sasl: the server's token (null when SASL is not configured).
    Sasl(Option<Vec<u8>>),
    /// reconfig: the new configuration and the Stat of `/zookeeper/config`.
    Config {
        /// The configuration text.
        data: Vec<u8>,
        /// The Stat.
        stat: Stat,
    },
}

/// A reply frame, split into what the client dispatches on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A watch notification (xid -1).
    Notification(WatcherEvent),
    /// A reply to the request with `header.xid`; `body` is empty unless `header.err` is 0.
    Reply {
        /// The header.
        header: ReplyHeader,
        /// The body bytes, to decode with [`Response::decode`] and the request's opcode.
        body: &'a [u8],
    },
}

impl<'a> Incoming<'a> {
    /// Splits a reply frame payload (without the length prefix).
    ///
    /// Bytes after an error header are ignored, as the protocol requires.
    pub fn parse(payload: &'a [u8]) -> Result<Incoming<'a>> {
        let mut r = Reader::new(payload);
        let header = ReplyHeader::read(&mut r)?;
        if header.xid == NOTIFICATION_XID {
            let event = WatcherEvent::read(&mut r)?;
            return Ok(Incoming::Notification(event));
        }
        let body = if header.err == 0 { r.rest() } else { &[] };
        Ok(Incoming::Reply { header, body })
    }
}

fn read_multi(r: &mut Reader<'_>) -> Result<Vec<MultiResult>> {
    let mut results = Vec::new();
    loop {
        let code = r.read_i32()?;
        let done = r.read_bool()?;
        let err = r.read_i32()?;
        if done {
            return Ok(results);
        }
        let result = match OpCode::from_code(code) {
            Some(OpCode::Create) => MultiResult::Create {
                path: r.read_string()?,
            },
            Some(OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl) => {
                MultiResult::Create2 {
                    path: r.read_string()?,
                    stat: read_stat(r)?,
                }
            }
            Some(OpCode::Delete) => MultiResult::Delete,
            Some(OpCode::SetData) => MultiResult::SetData(read_stat(r)?),
            Some(OpCode::Check) => MultiResult::Check,
            Some(OpCode::GetData) => MultiResult::GetData {
                data: r.read_buffer()?,
                stat: read_stat(r)?,
            },
            Some(OpCode::GetChildren) => MultiResult::GetChildren(r.read_strings()?),
            Some(OpCode::Error) => {
                let body_err = r.read_i32()?;
                MultiResult::Error(if err != 0 { err } else { body_err })
            }
            _ => {
                return Err(Error::protocol(format!(
                    "unexpected multi result type {code}"
                )));
            }
        };
        results.push(result);
    }
}

impl Response {
    /// Decodes the body of a successful reply to a request with opcode `op`.
    pub fn decode(op: OpCode, body: &[u8]) -> Result<Response> {
        let mut r = Reader::new(body);
        let response = match op {
            OpCode::Create => Response::Create(r.read_string()?),
            OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl => Response::Create2 {
                path: r.read_string()?,
                stat: read_stat(&mut r)?,
            },
            OpCode::Exists | OpCode::SetData | OpCode::SetAcl => Response::Stat(read_stat(&mut r)?),
            OpCode::GetData => Response::Data {
                data: r.read_buffer()?,
                stat: read_stat(&mut r)?,
            },
            OpCode::Reconfig => Response::Config {
                data: r.read_buffer()?,
                stat: read_stat(&mut r)?,
            },
            OpCode::GetAcl => Response::Acl {
                acl: read_acl(&mut r)?,
                stat: read_stat(&mut r)?,
            },
            OpCode::GetChildren => Response::Children(r.read_strings()?),
            OpCode::GetChildren2 => Response::Children2 {
                children: r.read_strings()?,
                stat: read_stat(&mut r)?,
            },
            OpCode::Sync => Response::Sync(r.read_string()?),
            OpCode::Multi | OpCode::MultiRead => Response::Multi(read_multi(&mut r)?),
            OpCode::GetEphemerals => Response::Ephemerals(r.read_strings()?),
            OpCode::GetAllChildrenNumber => Response::Count(r.read_i32()?),
            OpCode::AddWatch => Response::AddWatch(r.read_i32()?),
            OpCode::WhoAmI => Response::WhoAmI(r.read_vec(8, |r| {
                Ok(ClientInfo {
                    auth_scheme: r.read_string()?,
                    user: r.read_string()?,
                })
            })?),
            OpCode::Sasl => Response::Sasl(r.read_buffer_opt()?),
            OpCode::Delete
            | OpCode::Ping
            | OpCode::Auth
            | OpCode::SetWatches
            | OpCode::SetWatches2
            | OpCode::CloseSession
            | OpCode::CheckWatches
            | OpCode::RemoveWatches
            | OpCode::Check
            | OpCode::Error => Response::Empty,
        };
        r.finish(op.name())?;
        Ok(response)
    }

    /// Writes the body (for test servers).
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Response::Empty => {}
            Response::Create(path) | Response::Sync(path) => out.put_str(path),
            Response::Create2 { path, stat } => {
                out.put_str(path);
                write_stat(out, stat);
            }
            Response::Stat(stat) => write_stat(out, stat),
            Response::Data { data, stat } | Response::Config { data, stat } => {
                out.put_buffer(data);
                write_stat(out, stat);
            }
            Response::Acl { acl, stat } => {
                write_acl(out, acl);
                write_stat(out, stat);
            }
            Response::Children(children) | Response::Ephemerals(children) => {
                out.put_strings(children)
            }
            Response::Children2 { children, stat } => {
                out.put_strings(children);
                write_stat(out, stat);
            }
            Response::Multi(results) => {
                for result in results {
                    let (code, err) = match result {
                        MultiResult::Create { .. } => (1, 0),
                        MultiResult::Create2 { .. } => (15, 0),
                        MultiResult::Delete => (2, 0),
                        MultiResult::SetData(_) => (5, 0),
                        MultiResult::Check => (13, 0),
                        MultiResult::GetData { .. } => (4, 0),
                        MultiResult::GetChildren(_) => (8, 0),
                        MultiResult::Error(err) => (-1, *err),
                    };
                    out.put_i32(code);
                    out.put_bool(false);
                    out.put_i32(err);
                    match result {
                        MultiResult::Create { path } => out.put_str(path),
                        MultiResult::Create2 { path, stat } => {
                            out.put_str(path);
                            write_stat(out, stat);
                        }
                        MultiResult::SetData(stat) => write_stat(out, stat),
                        MultiResult::GetData { data, stat } => {
                            out.put_buffer(data);
                            write_stat(out, stat);
                        }
                        MultiResult::GetChildren(children) => out.put_strings(children),
                        MultiResult::Error(err) => out.put_i32(*err),
                        MultiResult::Delete | MultiResult::Check => {}
                    }
                }
                out.put_i32(-1);
                out.put_bool(true);
                out.put_i32(-1);
            }
            Response::Count(n) | Response::AddWatch(n) => out.put_i32(*n),
            Response::WhoAmI(infos) => {
                out.put_i32(infos.len() as i32);
                for info in infos {
                    out.put_str(&info.auth_scheme);
                    out.put_str(&info.user);
                }
            }
            Response::Sasl(token) => match token {
                Some(token) => out.put_buffer(token),
                None => out.put_null(),
            },
        }
    }

    /// Writes a whole reply frame: length, header, and the body when `header.err` is 0.
    pub fn encode_frame(header: ReplyHeader, body: &Response, out: &mut Vec<u8>) {
        let start = out.len();
        out.put_i32(0);
        header.write(out);
        if header.err == 0 {
            body.encode_body(out);
        }
        patch_length(out, start);
    }
}

/// Writes a notification frame (for test servers).
pub fn encode_notification(event: &WatcherEvent, zxid: i64, out: &mut Vec<u8>) {
    let start = out.len();
    out.put_i32(0);
    ReplyHeader {
        xid: NOTIFICATION_XID,
        zxid,
        err: 0,
    }
    .write(out);
    event.write(out);
    patch_length(out, start);
}
