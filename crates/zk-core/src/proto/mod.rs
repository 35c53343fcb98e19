//! The ZooKeeper binary protocol: framing, jute records, requests and replies.
//!
//! Everything here is exact to the byte (see `zookeeper-protocol.md`) and checked against frames
//! captured from a real ZooKeeper 3.8 server.
//! Decoding never panics and never allocates more than the frame holds: every length is checked
//! against the bytes present, and a frame over the configured limit is refused by its prefix.
//!
//! This is the wire client's codec; it is public for tools, fuzzing and test servers, and may
//! change between minor versions.

pub mod connect;
pub mod frame;
pub mod jute;
pub mod opcode;
pub mod records;
pub mod request;
pub mod response;

pub use connect::{ConnectRequest, ConnectResponse};
pub use opcode::OpCode;
pub use records::{ClientInfo, WatcherEvent};
pub use request::Request;
pub use response::{Incoming, MultiResult, ReplyHeader, Response};
