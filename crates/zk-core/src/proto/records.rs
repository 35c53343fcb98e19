//! Data records shared by many messages: Stat, Id, ACL, WatcherEvent, ClientInfo.

use super::jute::{Reader, WriteJute};
use crate::error::Result;
use crate::types::acl::{Acl, Id, Perms};
use crate::types::stat::Stat;

/// The encoded size of a Stat.
pub const STAT_LEN: usize = 68;

/// Reads a Stat.
pub fn read_stat(r: &mut Reader<'_>) -> Result<Stat> {
    Ok(Stat {
        czxid: r.read_i64()?,
        mzxid: r.read_i64()?,
        ctime: r.read_i64()?,
        mtime: r.read_i64()?,
        version: r.read_i32()?,
        cversion: r.read_i32()?,
        aversion: r.read_i32()?,
        ephemeral_owner: r.read_i64()?,
        data_length: r.read_i32()?,
        num_children: r.read_i32()?,
        pzxid: r.read_i64()?,
    })
}

/// Writes a Stat.
pub fn write_stat(out: &mut Vec<u8>, s: &Stat) {
    out.put_i64(s.czxid);
    out.put_i64(s.mzxid);
    out.put_i64(s.ctime);
    out.put_i64(s.mtime);
    out.put_i32(s.version);
    out.put_i32(s.cversion);
    out.put_i32(s.aversion);
    out.put_i64(s.ephemeral_owner);
    out.put_i32(s.data_length);
    out.put_i32(s.num_children);
    out.put_i64(s.pzxid);
}

/// Reads an ACL list.
pub fn read_acl(r: &mut Reader<'_>) -> Result<Vec<Acl>> {
    r.read_vec(12, |r| {
        let perms = Perms::from_bits_retain(r.read_i32()?);
        let scheme = r.read_string()?;
        let id = r.read_string()?;
        Ok(Acl::new(perms, Id { scheme, id }))
    })
}

/// Writes an ACL list.
pub fn write_acl(out: &mut Vec<u8>, acl: &[Acl]) {
    out.put_i32(acl.len() as i32);
    for a in acl {
        out.put_i32(a.perms.bits());
        out.put_str(&a.id.scheme);
        out.put_str(&a.id.id);
    }
}

/// A watch notification as the server sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherEvent {
    /// The event type number.
    pub event_type: i32,
    /// The keeper state number (3, SyncConnected, for every server notification).
    pub state: i32,
    /// The server path.
    pub path: String,
}

impl WatcherEvent {
    /// Reads a WatcherEvent.
    pub fn read(r: &mut Reader<'_>) -> Result<WatcherEvent> {
        Ok(WatcherEvent {
            event_type: r.read_i32()?,
            state: r.read_i32()?,
            path: r.read_string()?,
        })
    }

    /// Writes a WatcherEvent.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.put_i32(self.event_type);
        out.put_i32(self.state);
        out.put_str(&self.path);
    }
}

/// One identity of a connection, as whoAmI reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The auth scheme.
    pub auth_scheme: String,
    /// The user within the scheme.
    pub user: String,
}
