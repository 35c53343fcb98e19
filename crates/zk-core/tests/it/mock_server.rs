//! A scripted ZooKeeper server on loopback, built from the codec, for wire-client tests.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use zk_core::proto::frame::next_frame;
use zk_core::proto::response::encode_notification;
use zk_core::proto::{
    ConnectRequest, ConnectResponse, ReplyHeader, Request, Response, WatcherEvent,
};

/// How long a mock waits for the client before failing the test.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

pub(crate) struct MockServer {
    listener: TcpListener,
}

pub(crate) struct MockConn {
    stream: TcpStream,
    buf: Vec<u8>,
    pub(crate) zxid: i64,
}

impl MockServer {
    pub(crate) async fn start() -> MockServer {
        MockServer {
            listener: TcpListener::bind("127.0.0.1:0").await.unwrap(),
        }
    }

    pub(crate) fn hosts(&self) -> String {
        self.listener.local_addr().unwrap().to_string()
    }

    /// Accepts a connection and reads its ConnectRequest.
    pub(crate) async fn accept(&self) -> (MockConn, ConnectRequest) {
        let (stream, _) = tokio::time::timeout(WAIT, self.listener.accept())
            .await
            .expect("the client connects")
            .unwrap();
        let mut conn = MockConn {
            stream,
            buf: Vec::new(),
            zxid: 0x100,
        };
        let payload = conn.frame().await.expect("a ConnectRequest");
        (conn, ConnectRequest::decode(&payload).unwrap())
    }

    /// Accepts a connection and completes the handshake for `session_id`.
    pub(crate) async fn accept_session(
        &self,
        session_id: i64,
        timeout_ms: i32,
    ) -> (MockConn, ConnectRequest) {
        let (mut conn, request) = self.accept().await;
        conn.answer_connect(session_id, timeout_ms).await;
        (conn, request)
    }
}

impl MockConn {
    /// The next frame's payload, or `None` when the client closed the connection.
    pub(crate) async fn frame(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some((range, used)) = next_frame(&self.buf, 1 << 20).unwrap() {
                let payload = self.buf[range].to_vec();
                self.buf.drain(..used);
                return Some(payload);
            }
            let read = tokio::time::timeout(WAIT, self.stream.read_buf(&mut self.buf))
                .await
                .expect("the client sends something");
            match read {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The next request, skipping pings.
    pub(crate) async fn request(&mut self) -> (i32, Request) {
        loop {
            let payload = self.frame().await.expect("a request");
            let (xid, request) = Request::decode(&payload).unwrap();
            if request != Request::Ping {
                return (xid, request);
            }
            self.reply(xid, 0, &Response::Empty).await;
        }
    }

    pub(crate) async fn answer_connect(&mut self, session_id: i64, timeout_ms: i32) {
        let mut out = Vec::new();
        ConnectResponse {
            protocol_version: 0,
            timeout_ms,
            session_id,
            password: vec![7; 16],
            read_only: Some(false),
        }
        .encode_frame(&mut out);
        self.send(&out).await;
    }

    pub(crate) async fn reply(&mut self, xid: i32, err: i32, response: &Response) {
        self.zxid += 1;
        let mut out = Vec::new();
        let header = ReplyHeader {
            xid,
            zxid: self.zxid,
            err,
        };
        Response::encode_frame(header, response, &mut out);
        self.send(&out).await;
    }

    pub(crate) async fn notify(&mut self, event_type: i32, path: &str) {
        let mut out = Vec::new();
        let event = WatcherEvent {
            event_type,
            state: 3,
            path: path.to_owned(),
        };
        encode_notification(&event, -1, &mut out);
        self.send(&out).await;
    }

    pub(crate) async fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }
}
