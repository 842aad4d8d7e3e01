//! A test PKI written into a directory: a CA, a server certificate for
//! 127.0.0.1/localhost, and a client certificate (for mutual TLS), all
//! signed by the CA, as PEM files.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

/// The files of a test PKI.
pub struct Pki {
    pub ca_pem: PathBuf,
    /// The CA's certificate in DER (for a rustls root store).
    pub ca_der: Vec<u8>,
    pub server_crt: PathBuf,
    pub server_key: PathBuf,
    pub client_crt: PathBuf,
    pub client_key: PathBuf,
}

/// Write a CA, a server and a client certificate into `root`.
pub fn pki(root: &Path) -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, SanType,
    };
    let ca_key = KeyPair::generate().expect("rcgen: CA key");
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "customs-testkit test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).expect("rcgen: CA cert");
    let issuer = Issuer::new(ca, ca_key);

    let leaf = |cn: &str, purpose: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate().expect("rcgen: key");
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.subject_alt_names = vec![
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::DnsName("localhost".try_into().expect("rcgen: DNS name")),
        ];
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![purpose];
        let cert = p.signed_by(&key, &issuer).expect("rcgen: leaf cert");
        (cert.pem(), key.serialize_pem())
    };
    let (server_pem, server_key_pem) = leaf("127.0.0.1", ExtendedKeyUsagePurpose::ServerAuth);
    let (client_pem, client_key_pem) = leaf("customs-client", ExtendedKeyUsagePurpose::ClientAuth);
    let out = Pki {
        ca_pem: root.join("ca.pem"),
        ca_der: ca_cert.der().to_vec(),
        server_crt: root.join("server.crt"),
        server_key: root.join("server.key"),
        client_crt: root.join("client.crt"),
        client_key: root.join("client.key"),
    };
    crate::write(&out.ca_pem, ca_cert.pem().as_bytes());
    crate::write(&out.server_crt, server_pem.as_bytes());
    crate::write(&out.server_key, server_key_pem.as_bytes());
    crate::write(&out.client_crt, client_pem.as_bytes());
    crate::write(&out.client_key, client_key_pem.as_bytes());
    out
}
