//! [`TlsOptions`]: the trusted CAs, an optional client identity (mutual TLS), the name the
//! servers' certificates must carry (by default the host of the connect string) and whether
//! to check it; and the [`TlsConnector`] they make, which wraps each TCP connection.

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use async_trait::async_trait;
use zk_core::client::transport::{Connect, Tcp, Transport};
use zk_core::{Error, Result};

/// How the wire client speaks TLS: make a connector with [`TlsOptions::connector`] and give
/// it to `ClientBuilder::connector`.
///
/// ```no_run
/// use zk_core::client::ZkClient;
/// use zk_tls::TlsOptions;
///
/// # async fn demo() -> zk_core::Result<()> {
/// let ca = std::fs::read("ca.pem").unwrap();
/// let (cert, key) = (std::fs::read("client.pem").unwrap(), std::fs::read("client.key").unwrap());
/// let tls = TlsOptions::new().ca_pem(&ca)?.client_identity_pem(&cert, &key)?;
/// let zk = ZkClient::builder("zk1.example.com:2281")?
///     .connector(tls.connector()?)
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsOptions {
    roots: Vec<CertificateDer<'static>>,
    identity: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
    server_name: Option<String>,
    verify_hostname: bool,
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("roots", &self.roots.len())
            .field("client_identity", &self.identity.is_some())
            .field("server_name", &self.server_name)
            .field("verify_hostname", &self.verify_hostname)
            .finish()
    }
}

impl Default for TlsOptions {
    fn default() -> TlsOptions {
        TlsOptions::new()
    }
}

impl TlsOptions {
    /// No trusted CA yet (add one with [`TlsOptions::ca_pem`]), no client certificate, and
    /// the server's name checked against the host it is reached at.
    pub fn new() -> TlsOptions {
        TlsOptions {
            roots: Vec::new(),
            identity: None,
            server_name: None,
            verify_hostname: true,
        }
    }

    /// Trusts the CA certificates in `pem` (one or more `CERTIFICATE` blocks).
    ///
    /// # Errors
    /// [`Error::BadArguments`] when `pem` holds no certificate or a bad one.
    pub fn ca_pem(mut self, pem: &[u8]) -> Result<TlsOptions> {
        let certs = certificates(pem)?;
        self.roots.extend(certs);
        Ok(self)
    }

    /// Presents this certificate chain (PEM, the client's own first) and private key (PEM:
    /// PKCS#8, PKCS#1 or SEC1) to servers that ask for one (mutual TLS).
    ///
    /// # Errors
    /// [`Error::BadArguments`] when either holds nothing usable.
    pub fn client_identity_pem(mut self, chain_pem: &[u8], key_pem: &[u8]) -> Result<TlsOptions> {
        let chain = certificates(chain_pem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|_| Error::BadArguments("the client key PEM holds no usable private key"))?;
        self.identity = Some((chain, Arc::new(key)));
        Ok(self)
    }

    /// The name the servers' certificates must carry, instead of the host of the connect
    /// string (for servers reached by address whose certificates name them by DNS name).
    pub fn server_name(mut self, name: impl Into<String>) -> TlsOptions {
        self.server_name = Some(name.into());
        self
    }

    /// Accepts a server certificate whatever name it carries, as long as a trusted CA signed
    /// it and it is valid now. This gives up protection against a server impersonating
    /// another one that the same CA certified: use only when certificates cannot name their
    /// servers.
    pub fn danger_skip_hostname_verification(mut self) -> TlsOptions {
        self.verify_hostname = false;
        self
    }

    /// The connector these options describe, for `ClientBuilder::connector`.
    ///
    /// # Errors
    /// [`Error::BadArguments`] without a trusted CA, or with certificates or a key rustls
    /// cannot use (a key that is not the certificate's, say); nothing is sent.
    pub fn connector(&self) -> Result<Arc<TlsConnector>> {
        if self.roots.is_empty() {
            return Err(Error::BadArguments(
                "TLS needs at least one trusted CA (TlsOptions::ca_pem)",
            ));
        }
        let provider = Arc::new(ring::default_provider());
        let mut roots = RootCertStore::empty();
        for root in &self.roots {
            roots
                .add(root.clone())
                .map_err(|_| Error::BadArguments("a trusted CA certificate cannot be used"))?;
        }
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|_| Error::BadArguments("the trusted CA certificates cannot be used"))?;
        let verifier: Arc<dyn ServerCertVerifier> = if self.verify_hostname {
            verifier
        } else {
            Arc::new(AnyName(verifier))
        };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| Error::BadArguments("no TLS protocol version in common"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match &self.identity {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|_| Error::BadArguments("the client certificate and key do not match"))?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(TlsConnector {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            server_name: self.server_name.clone(),
        }))
    }
}

/// The certificates in `pem`.
fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::BadArguments("a certificate PEM block does not parse"))?;
    if certs.is_empty() {
        return Err(Error::BadArguments("the PEM holds no certificate"));
    }
    Ok(certs)
}

/// Wraps TCP connections in TLS, as [`TlsOptions`] say.
pub struct TlsConnector {
    connector: tokio_rustls::TlsConnector,
    server_name: Option<String>,
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector")
            .field("server_name", &self.server_name)
            .finish()
    }
}

#[async_trait]
impl Connect for TlsConnector {
    /// Connects over TCP and runs the TLS handshake.
    ///
    /// # Errors
    /// The connection or the handshake failed; the error names the reason (an untrusted or
    /// expired certificate, a name mismatch, a server that does not speak TLS).
    async fn connect(&self, host: &str, port: u16) -> std::io::Result<Transport> {
        let stream = Tcp::stream(host, port).await?;
        let name = self.server_name.as_deref().unwrap_or(host);
        let name = ServerName::try_from(name.to_owned()).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{name:?} is not a valid TLS server name"),
            )
        })?;
        let stream: TlsStream<TcpStream> =
            self.connector.connect(name, stream).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("TLS handshake with {host} failed: {e}"))
            })?;
        let (reader, writer) = tokio::io::split(stream);
        Ok(Transport {
            reader: Box::new(reader),
            writer: Box::new(writer),
        })
    }
}

/// A verifier that checks the chain and validity of a server certificate but not the name it
/// carries.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_refused_up_front() {
        assert!(matches!(
            TlsOptions::new().ca_pem(b"not a certificate"),
            Err(Error::BadArguments(_))
        ));
        assert!(matches!(
            TlsOptions::new().connector(),
            Err(Error::BadArguments(_))
        ));
        // A PEM block whose bytes are no certificate: refused, at parsing or at use.
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let used = TlsOptions::new()
            .ca_pem(garbage)
            .and_then(|o| o.connector());
        assert!(matches!(used, Err(Error::BadArguments(_))));
        assert!(matches!(
            TlsOptions::new().client_identity_pem(garbage, b"no key"),
            Err(Error::BadArguments(_))
        ));
    }
}
