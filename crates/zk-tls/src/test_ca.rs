//! [`TestCa`]: a certificate authority made on the spot (rcgen), for tests of TLS setups
//! (cargo feature `test-ca`).

use std::net::IpAddr;

use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, SanType};

/// A certificate authority made for one test: it issues certificates for names and
/// addresses, as PEM.
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
