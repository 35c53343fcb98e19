//! Real servers serving TLS: [`TlsServer`] is a [`ZkServer`] whose secure client port
//! presents the certificate it is given (and, if asked, requires client certificates signed
//! by the CA it is given). Tests make the certificates themselves (`zk-tls` has a test CA).

use std::path::PathBuf;

use crate::server::ZkServer;

/// A real server with a TLS client port; its certificate files are removed with it.
#[derive(Debug)]
pub struct TlsServer {
    // Declared first, so the JVM is gone before its files are.
    server: ZkServer,
    dir: PathBuf,
}

impl TlsServer {
    /// Starts a server presenting `cert_pem` (with its private key `key_pem`, PKCS#8) on its
    /// TLS port, trusting `ca_pem` for client certificates, which it requires if
    /// `need_client_auth`.
    ///
    /// # Panics
    /// When the server does not start (with the harness's explanation, such as how to install
    /// ZooKeeper), or its files cannot be written.
    pub fn start(cert_pem: &str, key_pem: &str, ca_pem: &str, need_client_auth: bool) -> TlsServer {
        let dir = std::env::temp_dir().join(format!("zk-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("a directory for the certificates");
        let keystore = dir.join("keystore.pem");
        let truststore = dir.join("truststore.pem");
        std::fs::write(&keystore, format!("{key_pem}{cert_pem}")).expect("the keystore");
        std::fs::write(&truststore, ca_pem).expect("the truststore");
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
