//! `customs server`: scans as a service for a fleet.
//!
//! - **JSON API** (`/v1/`, [`api`]): submit a scan of an image reference
//!   (the server pulls it from its registry, with the credentials given in
//!   the request), of an uploaded archive, or of an inventory a client made
//!   itself (layers never leave the client; the server detects); poll it;
//!   fetch the report in every output format; ask which images a
//!   vulnerability affects (the history store).
//! - **Harbor's Pluggable Scanner API** v1.1/v1.2 (`/api/v1/`, [`harbor`]).
//! - **Operations**: `/healthz`, `/readyz` (the database is loaded and the
//!   server is not shutting down), `/metrics` (Prometheus, [`metrics`]).
//!
//! Scans run on a fixed pool of worker threads fed by a bounded queue
//! ([`jobs`]); a full queue answers 429 with `Retry-After`. Job records and
//! reports live in Redis when a `--cache-backend redis://` is given (any
//! replica answers a poll, and identical concurrent requests run once across
//! replicas), else in this process. Layer results are cached by verified
//! diff ID in the same Redis, so a replica never analyses a layer another
//! one did. Every finished scan is recorded in the history store
//! (`--store`, PostgreSQL for a fleet).
//!
//! The scan itself is `customs_scan`'s, the same call as the CLI's; the
//! database file is opened by each scan, so a `customs db update` that
//! renames a new file into place is picked up by the next scan, and no scan
//! sees half a database.

pub mod api;
mod auth;
pub mod client;
pub mod config;
mod dbwatch;
pub mod harbor;
pub mod jobs;
pub mod metrics;
mod tls;

pub use config::{Config, TlsFiles};

use anyhow::{anyhow, Context, Result};
use axum::Router;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What every request handler shares.
pub struct AppState {
    pub config: Config,
    pub jobs: jobs::Jobs,
    pub metrics: metrics::Metrics,
    pub db: dbwatch::DbWatch,
    /// Set by SIGTERM/SIGINT: `/readyz` answers 503 and no scan is taken.
    pub shutting_down: AtomicBool,
}

impl AppState {
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}

/// The routes: `/v1/…`, `/api/v1/…` (Harbor), and the operational ones.
pub fn router(state: Arc<AppState>) -> Router {
    api::routes(state.clone())
        .merge(harbor::routes(state.clone()))
        .merge(metrics::routes(state))
}

/// Build the state: check the history store and Redis, open the job store,
/// start the workers and the database watcher.
pub async fn start(config: Config) -> Result<Arc<AppState>> {
    if let Some(url) = &config.cache_redis {
        let u = url.clone();
        tokio::task::spawn_blocking(move || customs_inventory::check_redis(&u))
            .await?
            .map_err(|e| anyhow!("--cache-backend {}: {e}", customs_model::redact_url(url)))?;
    }
    if let Some(spec) = &config.store {
        let s = spec.clone();
        tokio::task::spawn_blocking(move || customs_history::Store::open(&s).map(|_| ()))
            .await?
            .map_err(|e| anyhow!("--store: {e}"))?;
    }
    let metrics = metrics::Metrics::new();
    let db = dbwatch::DbWatch::new(config.db_path.clone());
    db.check();
    let jobs = jobs::Jobs::new(&config).await?;
    let state = Arc::new(AppState {
        config,
        jobs,
        metrics,
        db,
        shutting_down: AtomicBool::new(false),
    });
    state.jobs.hand_back_previous(&state).await;
    jobs::start_workers(state.clone());
    dbwatch::spawn(state.clone());
    jobs::spawn_heartbeat(state.clone());
    Ok(state)
}

/// Run the server until SIGTERM or SIGINT, then shut down gracefully: stop
/// accepting scans, hand the queued ones back as failed-retryable, let the
/// running ones finish within `--shutdown-grace`.
pub fn run(config: Config) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("customs-http")
        .build()
        .context("starting the server runtime")?;
    rt.block_on(async move {
        let listen = config.listen;
        let listener = std::net::TcpListener::bind(listen)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| anyhow!("--listen {listen}: {e}"))?;
        let tls = config.tls.as_ref().map(tls::server_config).transpose()?;
        let state = start(config).await?;
        let addr = listener.local_addr().unwrap_or(listen);
        tracing::info!(
            "customs server listening on {}://{addr} ({} workers, queue {}{})",
            if tls.is_some() { "https" } else { "http" },
            state.config.workers,
            state.config.queue,
            match &state.config.tls {
                Some(t) if t.client_ca.is_some() => ", client certificates required",
                _ => "",
            }
        );
        let app = router(state.clone()).into_make_service();
        let handle = axum_server::Handle::new();
        let (st, h) = (state.clone(), handle.clone());
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: no new scans; running ones may finish");
            st.shutting_down.store(true, Ordering::Relaxed);
            st.jobs.hand_back_queued(&st).await;
            st.jobs.wait_idle(st.config.shutdown_grace).await;
            h.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
        });
        match tls {
            None => axum_server::from_tcp(listener)
                .handle(handle)
                .serve(app)
                .await
                .context("serving")?,
            Some(cfg) => {
                let cfg = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(cfg));
                axum_server::from_tcp_rustls(listener, cfg)
                    .handle(handle)
                    .serve(app)
                    .await
                    .context("serving")?
            }
        }
        state.jobs.fail_running(&state).await;
        Ok(())
    })
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
