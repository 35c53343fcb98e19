//! The transport seam: how the client reaches one server. Every session connection goes
//! through [`Connector::connect`], which yields the two halves of a byte stream; the protocol
//! above it never names a socket type. Plain TCP, or TLS over it (cargo feature `tls`).

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The receiving half of a connection.
pub(crate) type Reader = Box<dyn AsyncRead + Unpin + Send>;
/// The sending half of a connection.
pub(crate) type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// A connection to one server, split into halves that the connection loop reads and writes
/// concurrently.
pub(crate) struct Transport {
    /// Bytes from the server.
    pub(crate) reader: Reader,
    /// Bytes to the server.
    pub(crate) writer: Writer,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transport")
    }
}

/// How connections are made: plain TCP, or TCP wrapped in TLS.
#[derive(Debug, Clone, Default)]
pub(crate) enum Connector {
    /// Plain TCP.
    #[default]
    Tcp,
    /// TLS over TCP (cargo feature `tls`).
    #[cfg(feature = "tls")]
    Tls(super::tls::Connector),
}

impl Connector {
    /// Connects to `host` (TCP, Nagle off: requests are small and latency-bound), then runs
    /// the TLS handshake if this connector has TLS.
    ///
    /// # Errors
    /// The connection failed (refused, unreachable, the name did not resolve), or the TLS
    /// handshake did (the error says why).
    pub(crate) async fn connect(&self, host: &(String, u16)) -> io::Result<Transport> {
        let stream = TcpStream::connect((host.0.as_str(), host.1)).await?;
        stream.set_nodelay(true)?;
        match self {
            Connector::Tcp => {
                // TCP's owned halves need no lock between them (unlike a generic split).
                let (reader, writer) = stream.into_split();
                Ok(Transport {
                    reader: Box::new(reader),
                    writer: Box::new(writer),
                })
            }
            #[cfg(feature = "tls")]
            Connector::Tls(tls) => {
                let (reader, writer) = tokio::io::split(tls.wrap(&host.0, stream).await?);
                Ok(Transport {
                    reader: Box::new(reader),
                    writer: Box::new(writer),
                })
            }
        }
    }
}
