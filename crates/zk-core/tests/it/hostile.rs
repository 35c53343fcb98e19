//! The wire client against servers that misbehave on purpose (scripted on loopback): each
//! must end in a typed error or a bounded rate of reconnects, never a storm or an
//! unbounded wait.

use std::time::Duration;

use tokio::time::Instant;
use zk_core::client::{ClientBuilder, ZkClient};
use zk_core::proto::Response;
use zk_core::{Coordinator, Error};

use super::mock_server::{MockConn, MockServer};

const SESSION: i64 = 0x0100_0000_0000_0077;

/// How long the storm tests count connections.
const WINDOW: Duration = Duration::from_secs(2);
/// The most connections one server may see in [`WINDOW`]: the backoff pauses 25-50 ms after
/// the first failure, doubling to 400-800 ms, so at most 7 or 8 fit; a storm makes thousands.
const MOST: usize = 12;

/// Accepts connections for [`WINDOW`], handling each with `serve`; returns how many came.
async fn count_connections<F, Fut>(server: &MockServer, mut serve: F) -> usize
where
    F: FnMut(MockConn) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let start = Instant::now();
    let mut accepted = 0;
    while let Some(left) = WINDOW.checked_sub(start.elapsed()) {
        match tokio::time::timeout(left, server.accept()).await {
            Ok((conn, _)) => {
                accepted += 1;
                serve(conn).await;
            }
            Err(_) => break,
        }
    }
    accepted
}

/// A client of `server` built by `options`, once the server has answered its handshake with a
/// session of `timeout_ms`; the server's side of the connection with it.
async fn session_with(
    server: &MockServer,
    timeout_ms: i32,
    options: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> (ZkClient, MockConn) {
    let builder = options(ZkClient::builder(&server.hosts()).unwrap());
    let client = tokio::spawn(builder.connect());
    let (conn, _) = server.accept_session(SESSION, timeout_ms).await;
    (client.await.unwrap().unwrap(), conn)
}

#[tokio::test]
async fn options_no_session_can_use_are_refused_before_connecting() {
    let server = MockServer::start().await;
    let hosts = server.hosts();
    let builder = || ZkClient::builder(&hosts).unwrap();
    for (what, refused) in [
        (
            "session timeout 0",
            builder().session_timeout(Duration::ZERO),
        ),
        (
            "connect timeout 0",
            builder().connect_timeout(Duration::ZERO),
        ),
        ("packet limit 0", builder().max_packet(0)),
    ] {
        assert!(
            matches!(refused.connect().await, Err(Error::BadArguments(_))),
            "{what}"
        );
    }
    for bad in [":2181", "127.0.0.1:0"] {
        assert!(
            matches!(ZkClient::connect(bad).await, Err(Error::BadArguments(_))),
            "{bad}"
        );
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(100), server.accept())
            .await
            .is_err(),
        "nothing connected"
    );
}

#[tokio::test]
async fn handshakes_without_a_session_timeout_are_retried_at_the_backoffs_pace() {
    let server = MockServer::start().await;
    let hosts = server.hosts();
    let client = tokio::spawn(async move {
        ZkClient::builder(&hosts)
            .unwrap()
            .session_timeout(WINDOW)
            .connect()
            .await
    });
    let mut answer = 0;
    let accepted = count_connections(&server, |mut conn| {
        answer = if answer == 0 { -1 } else { 0 };
        async move { conn.answer_connect(SESSION, answer).await }
    })
    .await;
    assert!(
        (2..=MOST).contains(&accepted),
        "{accepted} connections in {WINDOW:?}"
    );
    assert_eq!(
        client.await.unwrap().err(),
        Some(Error::ConnectionLoss),
        "no session within the timeout"
    );
}

#[tokio::test]
async fn a_server_expiring_every_new_session_is_not_stormed() {
    let server = MockServer::start().await;
    let (client, mut conn) = session_with(&server, 10_000, |b| b).await;
    // A caller keeps asking; every answer is "session expired", and every new session too.
    let asking = tokio::spawn({
        let client = client.clone();
        async move {
            loop {
                let _ = client.exists("/").await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    let (xid, _) = conn.request().await;
    conn.reply(xid, -112, &Response::Empty).await;
    let accepted = count_connections(&server, |mut conn| async move {
        conn.answer_connect(SESSION + 1, 10_000).await;
        let (xid, _) = conn.request().await;
        conn.reply(xid, -112, &Response::Empty).await;
    })
    .await;
    asking.abort();
    assert!(
        (2..=MOST).contains(&accepted),
        "{accepted} connections in {WINDOW:?}"
    );
}

#[tokio::test]
async fn a_huge_session_timeout_from_the_server_is_clamped() {
    let server = MockServer::start().await;
    let (client, _conn) = session_with(&server, i32::MAX, |b| b).await;
    assert_eq!(client.session_timeout(), Duration::from_secs(60));
}

#[tokio::test]
async fn dropping_the_last_handle_closes_the_session() {
    let server = MockServer::start().await;
    let (client, mut conn) = session_with(&server, 10_000, |b| b).await;
    let clone = client.clone();
    drop(client);
    drop(clone);
    let (_, request) = conn.request().await;
    assert_eq!(request, zk_core::proto::Request::CloseSession);
}

#[tokio::test]
async fn a_reply_that_only_trickles_in_ends_the_connection() {
    let server = MockServer::start().await;
    let (client, mut conn) = session_with(&server, 1500, |b| {
        b.session_timeout(Duration::from_millis(1500))
    })
    .await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.exists("/").await }
    });
    let (xid, _) = conn.request().await;
    // A valid reply, one byte every 200 ms: each byte is progress, the reply never completes
    // within the read timeout (1 s).
    let mut reply = Vec::new();
    zk_core::proto::Response::encode_frame(
        zk_core::proto::ReplyHeader {
            xid,
            zxid: 1,
            err: -101,
        },
        &Response::Empty,
        &mut reply,
    );
    let start = Instant::now();
    let dripping = tokio::spawn(async move {
        for byte in reply {
            conn.send(&[byte]).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        conn
    });
    let result = tokio::time::timeout(Duration::from_secs(5), call).await;
    assert_eq!(
        result.expect("the call ends").unwrap(),
        Err(Error::ConnectionLoss)
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    dripping.abort();
}

#[tokio::test]
async fn a_server_answering_pings_but_no_request_is_left() {
    let server = MockServer::start().await;
    let (client, mut conn) = session_with(&server, 1500, |b| {
        b.session_timeout(Duration::from_millis(1500))
    })
    .await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.exists("/").await }
    });
    let start = Instant::now();
    // Answer pings, swallow everything else.
    let pinging = tokio::spawn(async move {
        while let Some(payload) = conn.frame().await {
            let (xid, request) = zk_core::proto::Request::decode(&payload).unwrap();
            if request == zk_core::proto::Request::Ping {
                conn.reply(xid, 0, &Response::Empty).await;
            }
        }
    });
    let result = tokio::time::timeout(Duration::from_secs(6), call).await;
    assert_eq!(
        result.expect("the call ends").unwrap(),
        Err(Error::ConnectionLoss)
    );
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    // The client went looking for a server that answers.
    let again = tokio::time::timeout(Duration::from_secs(3), server.accept()).await;
    assert!(again.is_ok(), "no reconnect");
    pinging.abort();
}

#[tokio::test]
async fn a_request_timeout_ends_an_unanswered_call_and_keeps_the_connection() {
    let server = MockServer::start().await;
    let (client, mut conn) = session_with(&server, 10_000, |b| {
        b.request_timeout(Duration::from_millis(300))
    })
    .await;
    let start = Instant::now();
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.exists("/slow").await }
    });
    let (late, _) = conn.request().await;
    assert_eq!(call.await.unwrap(), Err(Error::RequestTimeout));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // The late answer is dropped; the next call is answered on the same connection.
    conn.reply(late, -101, &Response::Empty).await;
    let next = tokio::spawn({
        let client = client.clone();
        async move { client.exists("/fast").await }
    });
    let (xid, _) = conn.request().await;
    conn.reply(xid, -101, &Response::Empty).await;
    assert_eq!(next.await.unwrap(), Ok(None));
}

/// This process's peak resident memory (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

#[tokio::test]
async fn a_flood_of_notifications_to_an_unread_watch_keeps_memory_flat() {
    const FLOOD: usize = 3_000_000;
    const BATCH: usize = 20_000;
    let server = MockServer::start().await;
    let (client, mut conn) = session_with(&server, 10_000, |b| b).await;
    let watch = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .add_watch("/busy", zk_core::AddWatchMode::PersistentRecursive)
                .await
        }
    });
    let (xid, _) = conn.request().await;
    conn.reply(xid, 0, &Response::AddWatch(0)).await;
    let mut unread = watch.await.unwrap().unwrap();
    let before = peak_rss_kib();
    // Notifications of changes under the watched path, written in large batches; nobody reads
    // the watch meanwhile.
    let mut batch = Vec::new();
    for i in 0..BATCH {
        let event = zk_core::proto::WatcherEvent {
            event_type: 3,
            state: 3,
            path: format!("/busy/node-{i:08}"),
        };
        zk_core::proto::response::encode_notification(&event, -1, &mut batch);
    }
    for _ in 0..FLOOD / BATCH {
        conn.send(&batch).await;
    }
    // The client has handled them all once it answers a request sent after them.
    let probe = tokio::spawn({
        let client = client.clone();
        async move { client.exists("/").await }
    });
    let (xid, _) = conn.request().await;
    conn.reply(xid, -101, &Response::Empty).await;
    assert_eq!(probe.await.unwrap(), Ok(None));
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    eprintln!("peak memory grew {grown_mib} MiB over {FLOOD} notifications");
    assert!(
        grown_mib < 50,
        "peak memory grew {grown_mib} MiB over the flood"
    );
    // The reader is told it fell behind, then gets the newest events.
    use futures::StreamExt;
    let first = unread.next().await.unwrap();
    assert_eq!(first.event_type, zk_core::EventType::Lagged, "{first:?}");
}
