//! The server's settings (`customs server` flags).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// HTTPS, and with `client_ca` mutual TLS: a client must present a
/// certificate that CA signed.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

#[derive(Clone)]
pub struct Config {
    /// Serve HTTPS (and require client certificates) instead of HTTP.
    pub tls: Option<TlsFiles>,
    pub listen: SocketAddr,
    /// The bearer token every request but `/healthz`, `/readyz` and
    /// `/metrics` must carry; `None`: no authentication (loopback use).
    pub token: Option<String>,
    /// The vulnerability database file (replaced by `customs db update`).
    pub db_path: PathBuf,
    /// The local cache (layer results when there is no Redis; uploads).
    pub cache_dir: PathBuf,
    /// `redis://…`: layer results, job records and reports shared by replicas.
    pub cache_redis: Option<String>,
    /// The history store: a PostgreSQL URL (or a SQLite path).
    pub store: Option<String>,
    /// Scans run at once.
    pub workers: usize,
    /// Scans waiting; beyond it a submission gets 429.
    pub queue: usize,
    /// A scan running longer fails (not retryable).
    pub scan_timeout: Duration,
    /// Bound on a JSON request body.
    pub max_request_bytes: usize,
    /// Bound on an uploaded archive.
    pub max_upload_bytes: u64,
    /// Bound on the layers of a pulled image (the sizes its manifest claims).
    pub max_image_bytes: u64,
    /// When not empty: the only registry hosts (`host[:port]`) scans may
    /// pull from (the guard against making the server fetch arbitrary URLs).
    pub allowed_registries: Vec<String>,
    /// Registry hosts reached over plain HTTP or with unverified TLS.
    pub insecure_registries: Vec<String>,
    /// How long running scans may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// How often the database file is checked for a new version.
    pub db_check_interval: Duration,
    /// How long job records and reports are kept.
    pub job_ttl: Duration,
    /// Per-request registry timeout and retries.
    pub registry_timeout: Duration,
    pub registry_retries: u32,
    /// A name for this replica in job records (default: host name and PID).
    pub replica: String,
    /// A queued or running job whose replica has not refreshed it for this
    /// long is reported as failed and retryable (its replica is gone).
    pub stale_after: Duration,
}

impl Config {
    /// Defaults for everything but where things are.
    pub fn new(listen: SocketAddr, db_path: PathBuf, cache_dir: PathBuf) -> Config {
        Config {
            tls: None,
            listen,
            token: None,
            db_path,
            cache_dir,
            cache_redis: None,
            store: None,
            workers: 2,
            queue: 64,
            scan_timeout: Duration::from_secs(600),
            max_request_bytes: 32 << 20,
            max_upload_bytes: 4 << 30,
            max_image_bytes: 10 << 30,
            allowed_registries: Vec::new(),
            insecure_registries: Vec::new(),
            shutdown_grace: Duration::from_secs(30),
            db_check_interval: Duration::from_secs(10),
            job_ttl: Duration::from_secs(24 * 3600),
            registry_timeout: Duration::from_secs(300),
            registry_retries: 3,
            replica: default_replica(),
            stale_after: Duration::from_secs(30),
        }
    }
}

fn default_replica() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "customs".into());
    format!("{host}/{}", std::process::id())
}
