//! Options of the wire client and the builder that connects it.

use std::time::Duration;

use super::connect_string::ConnectString;
use std::sync::Arc;

use super::handle::ZkClient;
use super::transport::{Connect, Connector, Tcp};
use crate::error::{Error, Result};

/// Everything that shapes a wire client's session.
#[derive(Debug, Clone)]
pub(crate) struct ClientOptions {
    pub(crate) connect: ConnectString,
    pub(crate) session_timeout: Duration,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) read_only: bool,
    pub(crate) terminal_expiry: bool,
    pub(crate) auth: Vec<(String, Vec<u8>)>,
    pub(crate) max_packet: usize,
    pub(crate) shuffle_hosts: bool,
    pub(crate) request_timeout: Option<Duration>,
    /// How connections are made (TCP unless [`ClientBuilder::connector`] says otherwise).
    pub(crate) connector: Connector,
}

/// Builds and connects a [`ZkClient`].
///
/// ```no_run
/// use std::time::Duration;
/// use zk_core::client::ZkClient;
///
/// # async fn demo() -> zk_core::Result<()> {
/// let zk = ZkClient::builder("127.0.0.1:2181,127.0.0.1:2182/app")?
///     .session_timeout(Duration::from_secs(10))
///     .auth("digest", b"alice:secret")
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    pub(crate) options: ClientOptions,
}

impl ClientBuilder {
    pub(crate) fn new(connect: &str) -> Result<ClientBuilder> {
        Ok(ClientBuilder {
            options: ClientOptions {
                connect: ConnectString::parse(connect)?,
                session_timeout: Duration::from_secs(10),
                connect_timeout: None,
                read_only: false,
                terminal_expiry: false,
                auth: Vec::new(),
                max_packet: crate::DEFAULT_MAX_PACKET,
                shuffle_hosts: true,
                request_timeout: None,
                connector: Arc::new(Tcp),
            },
        })
    }

    /// The session timeout to ask for (the server clamps it, by default to 4–40 s); default 10 s.
    pub fn session_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.options.session_timeout = timeout;
        self
    }

    /// How long one connection attempt may take; default: the session timeout divided by the
    /// number of servers, at least one second.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.options.connect_timeout = Some(timeout);
        self
    }

    /// Accept read-only servers (members cut off from their quorum); writes then fail with
    /// `NotReadOnly`. Default false.
    pub fn read_only(mut self, allowed: bool) -> ClientBuilder {
        self.options.read_only = allowed;
        self
    }

    /// Make session expiry final: the handle stays `Expired` instead of opening a new session.
    pub fn terminal_expiry(mut self, terminal: bool) -> ClientBuilder {
        self.options.terminal_expiry = terminal;
        self
    }

    /// Credentials sent on every connection, e.g. `("digest", b"user:password")`.
    pub fn auth(mut self, scheme: &str, auth: &[u8]) -> ClientBuilder {
        self.options.auth.push((scheme.to_owned(), auth.to_vec()));
        self
    }

    /// The largest frame accepted from or sent to the server (`jute.maxbuffer`); default
    /// 1,048,575 bytes. Raise it together with the servers' setting.
    pub fn max_packet(mut self, bytes: usize) -> ClientBuilder {
        self.options.max_packet = bytes;
        self
    }

    /// Give up on a call that has no answer after `timeout`, with `RequestTimeout` (a write may
    /// or may not have been applied, as with `ConnectionLoss`); the connection stays up and a
    /// late answer is dropped. Off by default, as in the Java client: a call then waits as
    /// long as its connection lives, which the client bounds by leaving a server that answers
    /// no request for a whole session timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.options.request_timeout = Some(timeout);
        self
    }

    /// Try servers in the order given instead of a random one (default: random).
    pub fn ordered_hosts(mut self) -> ClientBuilder {
        self.options.shuffle_hosts = false;
        self
    }

    /// Connects: resolves when the first session is established.
    ///
    /// # Errors
    /// `BadArguments` for a zero session, connect or request timeout or a packet limit under 64 bytes
    /// (nothing is sent); when no session
    /// could be opened within the session timeout, the latest attempt's failure if it says
    /// why (`Io`: refused, unreachable, a failed TLS handshake naming its reason; `Protocol`: a
    /// server speaking garbage), else `ConnectionLoss`; `AuthFailed` when the credentials were
    /// refused.
    pub async fn connect(self) -> Result<ZkClient> {
        self.options.check()?;
        ZkClient::connect_with(self.options).await
    }

    /// Connects to servers through `connector` instead of plain TCP (a TLS connector, say).
    pub fn connector(mut self, connector: Arc<dyn Connect>) -> ClientBuilder {
        self.options.connector = connector;
        self
    }
}

/// The smallest packet limit accepted: a handshake's reply must fit.
const MIN_MAX_PACKET: usize = 64;

impl ClientOptions {
    /// Refuses options no session can work with, before anything is sent.
    fn check(&self) -> Result<()> {
        if self.session_timeout.is_zero() {
            return Err(Error::BadArguments("the session timeout must be positive"));
        }
        if self.connect_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::BadArguments("the connect timeout must be positive"));
        }
        if self.request_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::BadArguments("the request timeout must be positive"));
        }
        if self.max_packet < MIN_MAX_PACKET {
            return Err(Error::BadArguments(
                "the packet limit must be at least 64 bytes",
            ));
        }
        Ok(())
    }
}
