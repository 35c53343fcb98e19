//! The wire client over zk-tls against real ZooKeeper servers serving TLS
//! through Netty, with certificates the test makes (rcgen): a trusted server serves, and
//! every way of getting it wrong fails with an error naming the reason, within the connect
//! timeout.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use zk_core::client::ZkClient;
use zk_core::{Coordinator, CreateOptions, Error};
use zk_testkit::tls::TlsServer;
use zk_tls::{TestCa, TlsOptions};

/// A server presenting a certificate of `ca` for the DNS `names`.
fn tls_server(ca: &TestCa, names: &[&str], need_client_auth: bool) -> TlsServer {
    let (cert, key) = ca.issue(names, &[]);
    TlsServer::start(&cert, &key, &ca.pem(), need_client_auth)
}

/// Connects to `hosts` with `tls` (or plain TCP), giving up within a couple of seconds.
async fn connect(hosts: &str, tls: Option<TlsOptions>) -> zk_core::Result<ZkClient> {
    let mut builder = ZkClient::builder(hosts)?
        .session_timeout(Duration::from_secs(2))
        .connect_timeout(Duration::from_millis(500));
    if let Some(tls) = tls {
        builder = builder.connector(tls.connector()?);
    }
    builder.connect().await
}

/// Asserts that connecting fails within the session timeout plus a margin, with an error
/// whose text contains `reason`.
async fn refused(hosts: &str, tls: Option<TlsOptions>, reason: &str) {
    let start = Instant::now();
    let error = connect(hosts, tls).await.expect_err("must not connect");
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "failed only after {:?}",
        start.elapsed()
    );
    assert!(
        matches!(error, Error::Io(_) | Error::ConnectionLoss),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains(reason), "{text:?} should say {reason:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_server_serves_and_untrusted_ones_fail_with_the_reason() {
    let ca = TestCa::new("zk-recipes test CA");
    // The certificate names the server by DNS name only; the test reaches it by address.
    let server = tls_server(&ca, &["zk.test"], false);
    let hosts = server.connect_string();
    let trusted = || TlsOptions::new().ca_pem(ca.pem().as_bytes()).unwrap();

    // The name it carries, given: it serves.
    let zk = connect(&hosts, Some(trusted().server_name("zk.test")))
        .await
        .unwrap();
    let path = format!("/tls-{}", uuid::Uuid::new_v4().simple());
    zk.create(&path, b"secret", &CreateOptions::persistent())
        .await
        .unwrap();
    assert_eq!(zk.get_data(&path).await.unwrap().0, b"secret");
    zk.delete(&path, None).await.unwrap();
    zk.close().await.unwrap();

    // Hostname checking is on by default: 127.0.0.1 is not zk.test.
    refused(&hosts, Some(trusted()), "certificate").await;
    // ... and can be turned off explicitly; the chain is still checked.
    let unchecked = trusted().danger_skip_hostname_verification();
    connect(&hosts, Some(unchecked))
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
    // Another CA's trust: refused, saying why.
    let stranger = TestCa::new("someone else's CA");
    let wrong = TlsOptions::new()
        .ca_pem(stranger.pem().as_bytes())
        .unwrap()
        .server_name("zk.test");
    refused(&hosts, Some(wrong), "certificate").await;
    // A plain client on the TLS port: no session, within the timeout.
    let start = Instant::now();
    assert!(connect(&hosts, None).await.is_err());
    assert!(
        start.elapsed() < Duration::from_secs(6),
        "{:?}",
        start.elapsed()
    );
    // A TLS client on the plain port: the handshake fails.
    let plain = server.server().connect_string();
    let error = connect(&plain, Some(trusted().server_name("zk.test")))
        .await
        .expect_err("no TLS on the plain port");
    assert!(error.to_string().contains("TLS"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_requiring_client_certificates_takes_only_those_its_ca_signed() {
    let ca = TestCa::new("zk-recipes mTLS CA");
    let server = tls_server(&ca, &["zk.test"], true);
    let hosts = server.connect_string();
    let trusted = || {
        TlsOptions::new()
            .ca_pem(ca.pem().as_bytes())
            .unwrap()
            .server_name("zk.test")
    };

    let (cert, key) = ca.issue(&["client.test"], &[IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    let identity = trusted()
        .client_identity_pem(cert.as_bytes(), key.as_bytes())
        .unwrap();
    let zk = connect(&hosts, Some(identity)).await.unwrap();
    assert!(zk.exists("/").await.unwrap().is_some());
    zk.close().await.unwrap();

    // No certificate, or one from another CA: no session.
    assert!(connect(&hosts, Some(trusted())).await.is_err());
    let stranger = TestCa::new("someone else's CA");
    let (cert, key) = stranger.issue(&["client.test"], &[]);
    let foreign = trusted()
        .client_identity_pem(cert.as_bytes(), key.as_bytes())
        .unwrap();
    assert!(connect(&hosts, Some(foreign)).await.is_err());
    // A key that is not the certificate's: refused before anything is sent.
    let (cert, _) = ca.issue(&["client.test"], &[]);
    let (_, other_key) = ca.issue(&["client.test"], &[]);
    let mismatched = trusted()
        .client_identity_pem(cert.as_bytes(), other_key.as_bytes())
        .unwrap();
    assert!(matches!(
        connect(&hosts, Some(mismatched)).await,
        Err(Error::BadArguments(_))
    ));
}
