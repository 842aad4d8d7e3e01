//! The server's TLS (rustls, ring): its certificate chain and key, and for
//! mutual TLS the CA whose certificates clients must present.

use crate::config::TlsFiles;
use anyhow::{anyhow, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

fn certs(path: &std::path::Path, flag: &str) -> Result<Vec<CertificateDer<'static>>> {
    let list: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| anyhow!("{flag} {}: {e}", path.display()))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| anyhow!("{flag} {}: {e}", path.display()))?;
    if list.is_empty() {
        return Err(anyhow!(
            "{flag} {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(list)
}

pub fn server_config(t: &TlsFiles) -> Result<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certs(&t.cert, "--tls-cert")?;
    let key = PrivateKeyDer::from_pem_file(&t.key)
        .map_err(|e| anyhow!("--tls-key {}: {e}", t.key.display()))?;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("TLS: {e}"))?;
    let builder = match &t.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs(ca, "--tls-client-ca")? {
                roots
                    .add(c)
                    .map_err(|e| anyhow!("--tls-client-ca {}: {e}", ca.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| anyhow!("--tls-client-ca {}: {e}", ca.display()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut cfg = builder
        .with_single_cert(chain, key)
        .map_err(|e| anyhow!("--tls-cert/--tls-key: {e}"))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}
