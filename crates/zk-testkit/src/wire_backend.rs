//! `WireBackend`: the conformance suite's backend for a real ZooKeeper, through the wire client.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zk_core::Coordinator;
use zk_core::client::{ConnectString, ZkClient};
use zk_core::proto::frame::next_frame;
use zk_core::proto::{ConnectRequest, ConnectResponse, Request};

use crate::backend::{Backend, Capabilities};

/// Runs the suite (or any test) against real servers named by a connect string.
#[derive(Debug, Clone)]
pub struct WireBackend {
    connect_string: String,
    session_timeout: Duration,
    sessions: Arc<std::sync::Mutex<Vec<ZkClient>>>,
}

impl WireBackend {
    /// A backend for `connect_string`, with a 10 s session timeout.
    pub fn new(connect_string: impl Into<String>) -> WireBackend {
        WireBackend {
            connect_string: connect_string.into(),
            session_timeout: Duration::from_secs(10),
            sessions: Arc::default(),
        }
    }

    /// A backend for the harness's shared standalone server
    /// ([`ZkServer::shared`](crate::server::ZkServer::shared)), started on first use: what a
    /// recipe's cases stamped with `time = real` run against.
    ///
    /// # Panics
    /// When ZooKeeper is not installed or does not start; the message has the install command.
    pub fn shared() -> WireBackend {
        WireBackend::new(crate::server::ZkServer::shared().connect_string())
    }

    /// Uses `timeout` as the requested session timeout.
    pub fn with_session_timeout(mut self, timeout: Duration) -> WireBackend {
        self.session_timeout = timeout;
        self
    }

    /// Opens a client (the concrete type, for tests that need more than the trait).
    ///
    /// # Panics
    /// When no server answers: a test cannot go on without a session.
    pub async fn client(&self) -> ZkClient {
        let client = ZkClient::builder(&self.connect_string)
            .map(|b| b.session_timeout(self.session_timeout))
            .expect("a valid connect string");
        let client = client
            .connect()
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.connect_string));
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(client.clone());
        client
    }
}

/// Ends a live session from outside, as Curator's test utilities do: a second connection
/// attaches to the session with its id and password, then closes it.
/// The session's own client learns of the expiry when it next reconnects.
///
/// The session's client may win the session back (reconnecting moves a session to the newest
/// connection) before the close is processed, so this tries again until a server confirms the
/// session is gone, a bounded number of times.
///
/// # Errors
/// When no server would confirm the session ended.
pub async fn expire_session(
    connect_string: &str,
    session_id: i64,
    password: &[u8],
) -> zk_core::Result<()> {
    let hosts = ConnectString::parse(connect_string)?.hosts;
    let mut last = zk_core::Error::ConnectionLoss;
    for attempt in 0..20u64 {
        let (host, port) = &hosts[attempt as usize % hosts.len()];
        match close_remotely((host.as_str(), *port), session_id, password).await {
            // Closed by us, or already gone: either way the session has ended.
            Ok(()) | Err(zk_core::Error::SessionExpired) => return Ok(()),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(20 * (attempt + 1))).await;
    }
    Err(last)
}

async fn close_remotely(
    addr: (&str, u16),
    session_id: i64,
    password: &[u8],
) -> zk_core::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut out = Vec::new();
    ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        timeout_ms: 10_000,
        session_id,
        password: password.to_vec(),
        read_only: Some(false),
    }
    .encode_frame(&mut out);
    Request::CloseSession.encode_frame(1, &mut out);
    stream.write_all(&out).await?;
    let mut buf = Vec::new();
    let mut frames = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while frames < 2 {
        while let Some((range, used)) = next_frame(&buf, zk_core::DEFAULT_MAX_PACKET)? {
            if frames == 0 && ConnectResponse::decode(&buf[range])?.is_expired() {
                return Err(zk_core::Error::SessionExpired);
            }
            buf.drain(..used);
            frames += 1;
        }
        if frames >= 2 {
            break;
        }
        let read = tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)).await;
        match read {
            Ok(Ok(n)) if n > 0 => {}
            _ => return Err(zk_core::Error::ConnectionLoss),
        }
    }
    Ok(())
}

#[async_trait]
impl Backend for WireBackend {
    fn name(&self) -> &str {
        "zookeeper (wire client)"
    }

    async fn connect(&self) -> Arc<dyn Coordinator> {
        Arc::new(self.client().await)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
    }

    async fn expire_session(&self, session: &dyn Coordinator) -> bool {
        let id = session.session_id();
        let password = {
            let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            match sessions.iter().find(|c| c.session_id() == id) {
                Some(client) => client.session_password(),
                None => return false,
            }
        };
        expire_session(&self.connect_string, id, &password)
            .await
            .is_ok()
    }
}
