//! `customs server`: the flags of the service (`customs_server` runs it).

use crate::args::GlobalArgs;
use anyhow::{anyhow, bail, Result};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ServerArgs {
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Mutual TLS: clients must present a certificate this CA signed (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:4954", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// A file holding the token clients must send (`Authorization: Bearer`);
    /// without one, any client is served (keep it on loopback then).
    #[arg(long, env = "CUSTOMS_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The vulnerability database file (default: CACHE_DIR/db/customs.db);
    /// a new file renamed into place by `customs db update` is picked up.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Where layer results are cached: `fs` (the cache dir) or a Redis URL
    /// (`redis://host:6379/0`) shared by every replica; job records and
    /// reports are kept there too.
    #[arg(
        long,
        env = "CUSTOMS_CACHE_BACKEND",
        default_value = "fs",
        hide_env_values = true,
        value_name = "fs|URL"
    )]
    pub cache_backend: String,
    /// Record every scan in this history store (`postgres://…`, or a SQLite file).
    #[arg(
        long,
        env = "CUSTOMS_STORE",
        hide_env_values = true,
        value_name = "URL|FILE"
    )]
    pub store: Option<String>,
    /// Scans run at once.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub workers: usize,
    /// Scans that may wait; beyond, submissions get 429 with Retry-After.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub queue: usize,
    /// A scan running longer fails.
    #[arg(long, default_value = "10m", value_parser = crate::args::parse_duration, value_name = "DURATION")]
    pub scan_timeout: Duration,
    /// Bound on an uploaded archive (bytes).
    #[arg(long, default_value_t = 4 << 30, value_name = "BYTES")]
    pub max_upload_bytes: u64,
    /// Bound on a pulled image: the layer sizes its manifest claims (bytes).
    #[arg(long, default_value_t = 10 << 30, value_name = "BYTES")]
    pub max_image_bytes: u64,
    /// Bound on a JSON request body, an inventory included (bytes).
    #[arg(long, default_value_t = 32 << 20, value_name = "BYTES")]
    pub max_request_bytes: usize,
    /// Only these registries (`host[:port]`, comma list) may be pulled from.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub allowed_registries: Vec<String>,
    /// Registries reached over plain HTTP or with unverified TLS (comma list).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub insecure_registries: Vec<String>,
    /// How long running scans may take to finish after SIGTERM.
    #[arg(long, default_value = "30s", value_parser = crate::args::parse_duration, value_name = "DURATION")]
    pub shutdown_grace: Duration,
    /// How often the database file is checked for a new version.
    #[arg(long, default_value = "10s", value_parser = crate::args::parse_duration, value_name = "DURATION")]
    pub db_check_interval: Duration,
    /// How long job records and reports are kept.
    #[arg(long, default_value = "24h", value_parser = crate::args::parse_duration, value_name = "DURATION")]
    pub job_ttl: Duration,
    /// This replica's name in job records (default: host name/PID).
    #[arg(long, value_name = "NAME")]
    pub replica_name: Option<String>,
    /// A queued or running job whose replica has not refreshed it for this
    /// long is reported failed and retryable (the replica is gone).
    #[arg(long, default_value = "30s", value_parser = crate::args::parse_duration, value_name = "DURATION")]
    pub job_stale_after: Duration,
}

fn read_token(path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("--token-file {}: {e}", path.display()))?;
    let t = text.trim();
    if t.is_empty() {
        bail!("--token-file {}: the file is empty", path.display());
    }
    if t.len() < 16 {
        bail!(
            "--token-file {}: the token is shorter than 16 characters",
            path.display()
        );
    }
    Ok(t.to_string())
}

pub fn run(g: &GlobalArgs, a: &ServerArgs) -> Result<i32> {
    let db =
        a.db.clone()
            .unwrap_or_else(|| crate::db::default_db_path(g));
    let cache = crate::scan::cache_dir(g);
    let mut c = customs_server::Config::new(a.listen, db, cache);
    c.token = a.token_file.as_deref().map(read_token).transpose()?;
    if let (Some(cert), Some(key)) = (&a.tls_cert, &a.tls_key) {
        c.tls = Some(customs_server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: a.tls_client_ca.clone(),
        });
    }
    c.cache_redis = match a.cache_backend.as_str() {
        "fs" => None,
        u if u.starts_with("redis://") || u.starts_with("rediss://") => Some(u.to_string()),
        other => bail!(
            "--cache-backend {}: expected fs or a redis:// URL",
            customs_model::redact_url(other)
        ),
    };
    c.store = a.store.clone();
    if a.workers == 0 {
        bail!("--workers: at least 1");
    }
    c.workers = a.workers;
    c.queue = a.queue.max(1);
    c.scan_timeout = a.scan_timeout;
    c.max_upload_bytes = a.max_upload_bytes;
    c.max_image_bytes = a.max_image_bytes;
    c.max_request_bytes = a.max_request_bytes;
    c.allowed_registries = a.allowed_registries.clone();
    c.insecure_registries = a.insecure_registries.clone();
    c.shutdown_grace = a.shutdown_grace;
    c.db_check_interval = a.db_check_interval;
    c.job_ttl = a.job_ttl;
    c.stale_after = a.job_stale_after;
    if let Some(n) = &a.replica_name {
        c.replica = n.clone();
    }
    if c.token.is_none() && a.tls_client_ca.is_none() && !a.listen.ip().is_loopback() {
        tracing::warn!(
            "--listen {}: no --token-file, so anyone who reaches the port can make this server pull images",
            a.listen
        );
    }
    customs_server::run(c)?;
    Ok(0)
}
