//! The wire client against a scripted server: pipelining, reconnects, expiry, hostile input.

use std::time::Duration;

use zk_core::client::ZkClient;
use zk_core::proto::{OpCode, Request, Response};
use zk_core::{Coordinator, CreateOptions, Error, EventType, SessionState, Stat};

use super::mock_server::{MockServer, WAIT};

const SESSION: i64 = 0x0100_0000_0000_0042;

fn stat(version: i32) -> Stat {
    Stat {
        version,
        ..Stat::default()
    }
}

async fn connected(server: &MockServer) -> (ZkClient, super::mock_server::MockConn) {
    let hosts = server.hosts();
    let client = tokio::spawn(async move {
        ZkClient::builder(&hosts)
            .unwrap()
            .session_timeout(Duration::from_secs(6))
            .connect()
            .await
    });
    let (conn, request) = server.accept_session(SESSION, 6000).await;
    assert_eq!(request.session_id, 0);
    assert_eq!(request.timeout_ms, 6000);
    assert_eq!(request.password, vec![0; 16]);
    assert_eq!(request.read_only, Some(false));
    let client = client.await.unwrap().expect("connected");
    assert_eq!(client.session_id(), SESSION);
    assert_eq!(client.session_timeout(), Duration::from_secs(6));
    (client, conn)
}

async fn state_becomes(client: &ZkClient, wanted: SessionState) {
    tokio::time::timeout(WAIT, client.session_state().wait_for(|s| *s == wanted))
        .await
        .unwrap_or_else(|_| panic!("state never became {wanted:?}"))
        .unwrap();
}

#[tokio::test]
async fn requests_are_pipelined_in_call_order_and_matched_by_xid() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let calls: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { client.get_data(&format!("/n{i}")).await })
        })
        .collect();
    let mut seen = Vec::new();
    for _ in 0..16 {
        let (xid, request) = conn.request().await;
        let Request::GetData { path, watch } = request else {
            panic!("not a getData: {request:?}");
        };
        assert!(!watch);
        seen.push((xid, path));
    }
    assert!(
        seen.windows(2).all(|w| w[1].0 == w[0].0 + 1),
        "xids rise by one: {seen:?}"
    );
    for (xid, path) in &seen {
        let version: i32 = path[2..].parse().unwrap();
        conn.reply(
            *xid,
            0,
            &Response::Data {
                data: path.clone().into_bytes(),
                stat: stat(version),
            },
        )
        .await;
    }
    for (i, call) in calls.into_iter().enumerate() {
        let (data, stat) = call.await.unwrap().unwrap();
        assert_eq!(data, format!("/n{i}").into_bytes());
        assert_eq!(stat.version, i as i32);
    }
}

#[tokio::test]
async fn server_errors_name_the_path_and_expected_version() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.set_data("/cfg", b"x", Some(4)).await }
    });
    let (xid, request) = conn.request().await;
    assert_eq!(request.opcode(), OpCode::SetData);
    conn.reply(xid, -103, &Response::Empty).await;
    assert_eq!(
        call.await.unwrap(),
        Err(Error::BadVersion {
            path: "/cfg".into(),
            expected: 4
        })
    );
}

#[tokio::test]
async fn a_server_vanishing_mid_request_fails_it_and_the_session_resumes() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.create("/x", b"", &CreateOptions::persistent()).await }
    });
    let (_, request) = conn.request().await;
    assert_eq!(request.opcode(), OpCode::Create2);
    drop(conn);
    assert_eq!(call.await.unwrap(), Err(Error::ConnectionLoss));
    // The client comes back with the same session and the zxid it saw.
    let (mut conn, request) = server.accept().await;
    assert_eq!(request.session_id, SESSION);
    assert_eq!(request.password, vec![7; 16]);
    assert_eq!(request.last_zxid_seen, 0);
    conn.answer_connect(SESSION, 6000).await;
    state_becomes(&client, SessionState::SyncConnected).await;
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.exists("/x").await }
    });
    let (xid, _) = conn.request().await;
    conn.reply(xid, 0, &Response::Stat(stat(1))).await;
    assert_eq!(call.await.unwrap(), Ok(Some(stat(1))));
}

#[tokio::test]
async fn garbage_and_oversized_frames_drop_the_connection_without_panicking() {
    let hostile: [&[u8]; 3] = [
        // A length prefix announcing 2 GiB: refused before any allocation.
        &[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0],
        // A negative length.
        &[0xff, 0xff, 0xff, 0xf0],
        // A well-framed reply whose body lies about its string length.
        &[
            0, 0, 0, 24, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0x7f, 0, 0, 0, b'/', b'x',
            0, 0,
        ],
    ];
    for bytes in hostile {
        let server = MockServer::start().await;
        let (client, mut conn) = connected(&server).await;
        let call = tokio::spawn({
            let client = client.clone();
            async move { client.sync("/").await }
        });
        let (_, request) = conn.request().await;
        assert_eq!(request.opcode(), OpCode::Sync);
        conn.send(bytes).await;
        let result = call.await.unwrap();
        assert!(
            matches!(result, Err(Error::ConnectionLoss | Error::Protocol(_))),
            "{result:?}"
        );
        state_becomes(&client, SessionState::Disconnected).await;
        let (_, request) = server.accept().await;
        assert_eq!(
            request.session_id, SESSION,
            "it reconnects to resume the session"
        );
    }
}

#[tokio::test]
async fn a_reply_out_of_order_is_a_protocol_error_and_a_reconnect() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let first = tokio::spawn({
        let client = client.clone();
        async move { client.sync("/a").await }
    });
    let (xid, _) = conn.request().await;
    conn.reply(xid + 5, 0, &Response::Sync("/a".into())).await;
    assert_eq!(first.await.unwrap(), Err(Error::ConnectionLoss));
    let (_, request) = server.accept().await;
    assert_eq!(request.session_id, SESSION);
}

#[tokio::test]
async fn auth_replies_may_overtake_earlier_replies() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let create = tokio::spawn({
        let client = client.clone();
        async move { client.create("/a", b"", &CreateOptions::persistent()).await }
    });
    let (create_xid, _) = conn.request().await;
    let auth = tokio::spawn({
        let client = client.clone();
        async move { client.add_auth("digest", b"alice:secret").await }
    });
    let (auth_xid, request) = conn.request().await;
    assert_eq!(auth_xid, -4);
    assert_eq!(
        request,
        Request::Auth {
            scheme: "digest".into(),
            auth: b"alice:secret".to_vec()
        }
    );
    conn.reply(-4, 0, &Response::Empty).await;
    assert_eq!(auth.await.unwrap(), Ok(()));
    conn.reply(
        create_xid,
        0,
        &Response::Create2 {
            path: "/a".into(),
            stat: stat(0),
        },
    )
    .await;
    assert_eq!(create.await.unwrap().unwrap().path, "/a");
}

#[tokio::test]
async fn reconnect_replays_auth_then_restores_watches_before_new_requests() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let auth = tokio::spawn({
        let client = client.clone();
        async move { client.add_auth("digest", b"bob:pw").await }
    });
    conn.request().await;
    conn.reply(-4, 0, &Response::Empty).await;
    auth.await.unwrap().unwrap();
    let watched = tokio::spawn({
        let client = client.clone();
        async move { client.watch_data("/w").await }
    });
    let (xid, request) = conn.request().await;
    assert_eq!(
        request,
        Request::GetData {
            path: "/w".into(),
            watch: true
        }
    );
    conn.reply(
        xid,
        0,
        &Response::Data {
            data: vec![],
            stat: stat(0),
        },
    )
    .await;
    let (_, _, watch) = watched.await.unwrap().unwrap();
    let last_zxid = conn.zxid;
    drop(conn);

    let (mut conn, request) = server.accept().await;
    assert_eq!(request.last_zxid_seen, last_zxid);
    conn.answer_connect(SESSION, 6000).await;
    let (xid, request) = conn.request().await;
    assert_eq!(xid, -4, "credentials first");
    assert_eq!(
        request,
        Request::Auth {
            scheme: "digest".into(),
            auth: b"bob:pw".to_vec()
        }
    );
    let (xid, request) = conn.request().await;
    assert_eq!(xid, -8);
    assert_eq!(
        request,
        Request::SetWatches {
            relative_zxid: last_zxid,
            data: vec!["/w".into()],
            exist: vec![],
            child: vec![],
        }
    );
    conn.reply(-4, 0, &Response::Empty).await;
    // The catch-up notification precedes the SetWatches reply.
    conn.notify(3, "/w").await;
    conn.reply(-8, 0, &Response::Empty).await;
    let event = tokio::time::timeout(WAIT, watch).await.unwrap();
    assert_eq!(
        (event.event_type, event.path.as_str()),
        (EventType::NodeDataChanged, "/w")
    );
}

#[tokio::test]
async fn an_expired_session_is_reported_and_replaced() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let watched = tokio::spawn({
        let client = client.clone();
        async move { client.watch_exists("/gone").await }
    });
    let (xid, _) = conn.request().await;
    conn.reply(xid, -101, &Response::Empty).await;
    let (stat, watch) = watched.await.unwrap().unwrap();
    assert_eq!(stat, None);
    let mut state = client.session_state();
    state.borrow_and_update();
    drop(conn);

    let (mut conn, request) = server.accept().await;
    assert_eq!(request.session_id, SESSION);
    conn.answer_connect(0, 0).await; // expired
    let event = tokio::time::timeout(WAIT, watch).await.unwrap();
    assert_eq!(event.state, SessionState::Expired);
    let (_conn, request) = server.accept_session(SESSION + 1, 6000).await;
    assert_eq!(request.session_id, 0, "a new session");
    state_becomes(&client, SessionState::SyncConnected).await;
    assert_eq!(client.session_id(), SESSION + 1);
}

#[tokio::test]
async fn notifications_fan_out_to_every_matching_watcher() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let mut watches = Vec::new();
    for _ in 0..3 {
        let call = tokio::spawn({
            let client = client.clone();
            async move { client.watch_data("/n").await }
        });
        let (xid, _) = conn.request().await;
        conn.reply(
            xid,
            0,
            &Response::Data {
                data: vec![],
                stat: stat(0),
            },
        )
        .await;
        watches.push(call.await.unwrap().unwrap().2);
    }
    conn.notify(2, "/n").await;
    for watch in watches {
        let event = tokio::time::timeout(WAIT, watch).await.unwrap();
        assert_eq!(event.event_type, EventType::NodeDeleted);
    }
}

#[tokio::test]
async fn close_sends_close_session_and_ends_the_handle() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let closing = tokio::spawn({
        let client = client.clone();
        async move { client.close().await }
    });
    let (xid, request) = conn.request().await;
    assert_eq!(request, Request::CloseSession);
    conn.reply(xid, 0, &Response::Empty).await;
    closing.await.unwrap().unwrap();
    assert_eq!(*client.session_state().borrow(), SessionState::Closed);
    assert_eq!(client.exists("/").await, Err(Error::Closed));
}

#[tokio::test]
async fn connecting_to_nothing_fails_saying_why() {
    let server = MockServer::start().await;
    let hosts = server.hosts();
    drop(server);
    let result = ZkClient::builder(&hosts)
        .unwrap()
        .session_timeout(Duration::from_millis(500))
        .connect()
        .await;
    // The latest attempt's failure, still a retryable connection problem.
    let error = result.unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert!(
        matches!(&error, Error::Io(why) if why.to_lowercase().contains("refused")),
        "{error:?}"
    );
}

#[tokio::test]
async fn dropping_the_last_watcher_removes_the_server_watch() {
    let server = MockServer::start().await;
    let (client, mut conn) = connected(&server).await;
    let mut watches = Vec::new();
    for _ in 0..2 {
        let call = tokio::spawn({
            let client = client.clone();
            async move { client.watch_data("/w").await }
        });
        let (xid, _) = conn.request().await;
        conn.reply(
            xid,
            0,
            &Response::Data {
                data: vec![],
                stat: stat(0),
            },
        )
        .await;
        watches.push(call.await.unwrap().unwrap().2);
    }
    let stream = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .add_watch("/p", zk_core::AddWatchMode::Persistent)
                .await
        }
    });
    let (xid, request) = conn.request().await;
    assert_eq!(
        request,
        Request::AddWatch {
            path: "/p".into(),
            mode: 0
        }
    );
    conn.reply(xid, 0, &Response::AddWatch(0)).await;
    let stream = stream.await.unwrap().unwrap();

    // One of two watchers goes: nothing to tell the server yet.
    drop(watches.pop());
    // The last one goes: the server's data watch is removed.
    drop(watches.pop());
    let (xid, request) = conn.request().await;
    assert_eq!(
        request,
        Request::RemoveWatches {
            path: "/w".into(),
            watcher_type: 3
        }
    );
    conn.reply(xid, -121, &Response::Empty).await; // NoWatcher is harmless
    drop(stream);
    let (xid, request) = conn.request().await;
    assert_eq!(
        request,
        Request::RemoveWatches {
            path: "/p".into(),
            watcher_type: 3
        }
    );
    conn.reply(xid, 0, &Response::Empty).await;
    // The connection is still healthy.
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.sync("/").await }
    });
    let (xid, _) = conn.request().await;
    conn.reply(xid, 0, &Response::Sync("/".into())).await;
    assert_eq!(call.await.unwrap(), Ok(()));
}

#[tokio::test]
async fn a_server_offering_a_tiny_timeout_cannot_make_the_client_spin() {
    let server = MockServer::start().await;
    let hosts = server.hosts();
    let client = tokio::spawn(async move { ZkClient::connect(&hosts).await });
    let (mut conn, _) = server.accept().await;
    conn.answer_connect(SESSION, 1).await;
    let client = client.await.unwrap().unwrap();
    assert_eq!(
        client.session_timeout(),
        Duration::from_millis(1000),
        "floored"
    );
    // Refuse to serve: each new connection closes at once. The client must back off rather
    // than reconnect in a tight loop.
    drop(conn);
    let start = tokio::time::Instant::now();
    let mut accepted = 0;
    while start.elapsed() < Duration::from_millis(600) {
        match tokio::time::timeout(Duration::from_millis(700), server.accept()).await {
            Ok((mut conn, _)) => {
                conn.answer_connect(SESSION, 1).await;
                accepted += 1;
            }
            Err(_) => break,
        }
    }
    assert!(accepted < 20, "{accepted} connections in 600 ms");
}

#[tokio::test]
async fn a_ping_answered_with_session_expired_ends_the_session() {
    let server = MockServer::start().await;
    let hosts = server.hosts();
    let client = tokio::spawn(async move {
        ZkClient::builder(&hosts)
            .unwrap()
            .session_timeout(Duration::from_secs(3))
            .connect()
            .await
    });
    let (mut conn, _) = server.accept_session(SESSION, 3000).await;
    let client = client.await.unwrap().unwrap();
    // Wait for the first ping (a third of the timeout) and answer it "session expired".
    let payload = conn.frame().await.expect("a ping");
    let (xid, request) = Request::decode(&payload).unwrap();
    assert_eq!((xid, request), (-2, Request::Ping));
    conn.reply(-2, -112, &Response::Empty).await;
    let mut state = client.session_state();
    tokio::time::timeout(WAIT, state.wait_for(|s| *s == SessionState::Expired))
        .await
        .expect("expiry reported without waiting for a read timeout")
        .unwrap();
}
