//! `/metrics` (Prometheus text format, names prefixed `customs_`), and the
//! operational routes `/healthz` and `/readyz`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// `done`, `failed`, `retryable`.
    pub outcome: String,
}

pub struct Metrics {
    registry: Registry,
    pub scans: Family<Outcome, Counter>,
    pub duration: Histogram,
    pub queue_depth: Gauge,
    pub in_flight: Gauge,
    pub layers_analyzed: Counter,
    pub layers_from_cache: Counter,
    pub bytes_downloaded: Counter,
    pub rejected: Counter,
    pub deduplicated: Counter,
    pub auth_failures: Counter,
    pub cache_hit_ratio: Gauge<f64, AtomicU64>,
    pub db_age: Gauge,
    pub db_loaded: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("customs");
        let scans = Family::<Outcome, Counter>::default();
        registry.register("scans", "Scans finished, by outcome", scans.clone());
        let duration =
            Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]);
        registry.register(
            "scan_duration_seconds",
            "Time a scan took, from its start on a worker",
            duration.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "Scans waiting for a worker",
            queue_depth.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("scans_in_flight", "Scans running now", in_flight.clone());
        let layers_analyzed = Counter::default();
        registry.register(
            "layers_analyzed",
            "Image layers read and analyzed",
            layers_analyzed.clone(),
        );
        let layers_from_cache = Counter::default();
        registry.register(
            "layers_from_cache",
            "Image layers whose result came from the layer cache",
            layers_from_cache.clone(),
        );
        let cache_hit_ratio = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "layer_cache_hit_ratio",
            "Layers from the cache over all layers, since the server started",
            cache_hit_ratio.clone(),
        );
        let bytes_downloaded = Counter::default();
        registry.register(
            "registry_downloaded_bytes",
            "Blob bytes downloaded from registries",
            bytes_downloaded.clone(),
        );
        let rejected = Counter::default();
        registry.register(
            "scans_rejected",
            "Submissions refused because the queue was full (429)",
            rejected.clone(),
        );
        let deduplicated = Counter::default();
        registry.register(
            "scans_deduplicated",
            "Submissions answered with the live job of an identical request",
            deduplicated.clone(),
        );
        let auth_failures = Counter::default();
        registry.register(
            "auth_failures",
            "Requests refused for a missing or wrong token",
            auth_failures.clone(),
        );
        let db_age = Gauge::default();
        registry.register(
            "db_age_seconds",
            "Seconds since the vulnerability database was built",
            db_age.clone(),
        );
        let db_loaded = Gauge::default();
        registry.register(
            "db_loaded",
            "1 when a valid vulnerability database is there",
            db_loaded.clone(),
        );
        Metrics {
            registry,
            scans,
            duration,
            queue_depth,
            in_flight,
            layers_analyzed,
            layers_from_cache,
            bytes_downloaded,
            rejected,
            deduplicated,
            auth_failures,
            cache_hit_ratio,
            db_age,
            db_loaded,
        }
    }

    /// Count what one scan read and what the cache saved.
    pub fn record_stats(&self, s: &customs_scan::ScanStats) {
        self.layers_analyzed.inc_by(s.analyzed as u64);
        self.layers_from_cache.inc_by(s.from_cache as u64);
        self.bytes_downloaded.inc_by(s.bytes_downloaded);
        let hits = self.layers_from_cache.get() as f64;
        let all = hits + self.layers_analyzed.get() as f64;
        if all > 0.0 {
            self.cache_hit_ratio.set(hits / all);
        }
    }

    pub fn encode(&self, state: &AppState) -> String {
        self.db_age.set(state.db.age_seconds().unwrap_or(0));
        self.db_loaded.set(i64::from(state.db.info().is_some()));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

pub fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

async fn readyz(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if state.is_shutting_down() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting down\n".to_string(),
        );
    }
    match state.db.info() {
        Some(i) => (
            StatusCode::OK,
            format!("ready (database built {})\n", i.built_at),
        ),
        None => {
            let why = state
                .db
                .problem()
                .unwrap_or_else(|| format!("{}: no database yet", state.db.path().display()));
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {why}\n"),
            )
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(&state),
    )
}
