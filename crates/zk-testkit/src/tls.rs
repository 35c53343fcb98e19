//! Certificates for TLS tests, made on the spot (rcgen), and real servers serving TLS with
//! them: [`TestCa`] issues certificates, [`TlsServer`] is a [`ZkServer`] whose secure client
//! port presents one (and, if asked, requires client certificates from the same CA).
//!
//! ```no_run
//! use zk_testkit::tls::{TestCa, TlsServer};
//!
//! let ca = TestCa::new("test CA");
//! let server = TlsServer::start(&ca, &["zk.test"], false);
//! println!("TLS at {}, trusting {}", server.connect_string(), ca.pem().len());
//! ```

use std::net::IpAddr;
use std::path::PathBuf;

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, SanType};

use crate::server::ZkServer;

/// A certificate authority made for one test.
pub struct TestCa {
    cert: Certificate,
    key: KeyPair,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa")
    }
}

impl TestCa {
    /// A new self-signed CA named `name` (ECDSA P-256).
    ///
    /// # Panics
    /// If the key or certificate cannot be made (never with rcgen's ring backend).
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("a key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        TestCa {
            cert: params.self_signed(&key).expect("a CA certificate"),
            key,
        }
    }

    /// The CA's certificate, PEM.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A certificate this CA signed for the DNS `names` and the `ips`: its PEM and its private
    /// key's (PKCS#8).
    ///
    /// # Panics
    /// For a name rcgen refuses.
    pub fn issue(&self, names: &[&str], ips: &[IpAddr]) -> (String, String) {
        let key = KeyPair::generate().expect("a key");
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("valid names");
        params
            .subject_alt_names
            .extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("a certificate");
        (cert.pem(), key.serialize_pem())
    }
}

/// A real server whose TLS client port presents a certificate of a [`TestCa`]; its files are
/// removed with it.
#[derive(Debug)]
pub struct TlsServer {
    // Declared first, so the JVM is gone before its files are.
    server: ZkServer,
    dir: PathBuf,
}

impl TlsServer {
    /// Starts a server with a certificate from `ca` for the DNS `names`, trusting `ca` for
    /// client certificates, which it requires if `need_client_auth`.
    ///
    /// # Panics
    /// When the server does not start (with the harness's explanation, such as how to install
    /// ZooKeeper), or its files cannot be written.
    pub fn start(ca: &TestCa, names: &[&str], need_client_auth: bool) -> TlsServer {
        let dir = std::env::temp_dir().join(format!("zk-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a directory for the certificates");
        let (cert, key) = ca.issue(names, &[]);
        let keystore = dir.join("keystore.pem");
        let truststore = dir.join("truststore.pem");
        std::fs::write(&keystore, format!("{key}{cert}")).expect("the keystore");
        std::fs::write(&truststore, ca.pem()).expect("the truststore");
        let server = ZkServer::builder()
            .secure(keystore, truststore, need_client_auth)
            .start()
            .unwrap_or_else(|e| panic!("{e}"));
        TlsServer { server, dir }
    }

    /// The TLS port's connect string, `127.0.0.1:<port>`.
    pub fn connect_string(&self) -> String {
        self.server
            .secure_connect_string()
            .expect("a server started with a TLS port")
    }

    /// The server, whose plain port serves too.
    pub fn server(&self) -> &ZkServer {
        &self.server
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
