//! The transport seam: how the client reaches one server. Every session connection is made
//! through a [`Connect`], which yields the two halves of a byte stream; the protocol above it
//! never names a socket type. [`Tcp`] is the default; another transport (TLS) implements
//! [`Connect`] in a crate of its own, so builds that do not want it never compile it.

use std::fmt;
use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The receiving half of a connection.
pub type Reader = Box<dyn AsyncRead + Unpin + Send>;
/// The sending half of a connection.
pub type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// A connection to one server, split into halves that the connection loop reads and writes
/// concurrently.
pub struct Transport {
    /// Bytes from the server.
    pub reader: Reader,
    /// Bytes to the server.
    pub writer: Writer,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Transport")
    }
}

/// Makes connections to servers; given to [`super::ClientBuilder::connector`].
#[async_trait]
pub trait Connect: fmt::Debug + Send + Sync {
    /// Connects to `host:port` and returns the connection's halves, ready for the protocol
    /// (any handshake of the transport itself done).
    ///
    /// # Errors
    /// The connection failed; the error's text is what a first connect that gives up reports,
    /// so it should say why (refused, a certificate problem, ...).
    async fn connect(&self, host: &str, port: u16) -> io::Result<Transport>;
}

/// Plain TCP, with Nagle off (requests are small and latency-bound).
#[derive(Debug, Clone, Copy, Default)]
pub struct Tcp;

impl Tcp {
    /// Opens a TCP connection to `host:port`, Nagle off; what other transports wrap.
    ///
    /// # Errors
    /// The connection failed (refused, unreachable, the name did not resolve).
    pub async fn stream(host: &str, port: u16) -> io::Result<TcpStream> {
        let stream = TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

#[async_trait]
impl Connect for Tcp {
    async fn connect(&self, host: &str, port: u16) -> io::Result<Transport> {
        // TCP's owned halves need no lock between them (unlike a generic split).
        let (reader, writer) = Tcp::stream(host, port).await?.into_split();
        Ok(Transport {
            reader: Box::new(reader),
            writer: Box::new(writer),
        })
    }
}

/// The connector a client uses.
pub(crate) type Connector = Arc<dyn Connect>;
