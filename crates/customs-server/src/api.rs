//! The JSON API under `/v1/`.
//!
//! ```text
//! POST /v1/scans                  {"image": "reg/app:1.2", "scanners": ["vuln","secret"], "credentials": {...}}
//!                                 {"inventory": <a customs/Trivy JSON report listing Packages>}
//!                                 {"sbom": <a CycloneDX SBOM, customs' or Trivy's>}
//!                                 an archive (Content-Type application/x-tar, application/gzip,
//!                                 application/zstd or application/octet-stream; ?name=&scanners=)
//!                                 → 202 {"id": …, "status": "queued", …}; 429 + Retry-After when full
//! GET  /v1/scans/{id}             → the job (status, error, retryable, stats)
//! GET  /v1/scans/{id}/report      ?format=json|table|sarif|cyclonedx|spdx-json|markdown|html
//!                                 → 200 the report; 202 + Retry-After while it runs; 409 failed
//! GET  /v1/vulnerabilities/{id}   ?repository=app → the images whose latest scan has it
//! ```
//!
//! Credentials in a request are used for that scan only: never logged,
//! never stored (the job record names the image, not who pulled it), and
//! part of the key that makes identical requests share a job, so one
//! client's access never serves another.

use crate::jobs::{JobRecord, Params, Refused, Status, Submission, Work};
use crate::AppState;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// `{"error": {"message": …}}`, the shape Harbor's API uses too.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({"error": {"message": message.into()}});
    (status, Json(body)).into_response()
}

pub fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/scans", post(submit))
        .route("/v1/scans/{id}", get(status))
        .route("/v1/scans/{id}/report", get(report))
        .route("/v1/vulnerabilities/{id}", get(affected))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_token,
        ))
        .with_state(state)
}

/// Registry credentials of one request. Its `Debug` shows no secret.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: Option<String>,
    pub password: Option<String>,
    /// A registry bearer token (instead of a user and password).
    pub token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Credentials {
    pub fn to_credential(
        &self,
    ) -> Result<Option<customs_image::registry::auth::Credential>, String> {
        use customs_image::registry::auth::{CredKind, Credential};
        let kind = match (&self.username, &self.password, &self.token) {
            (None, None, None) => return Ok(None),
            (_, _, Some(t)) if self.username.is_none() && self.password.is_none() => {
                CredKind::Bearer(t.clone())
            }
            (Some(u), Some(p), None) => CredKind::Basic {
                username: u.clone(),
                password: p.clone(),
            },
            _ => {
                return Err(
                    "credentials: give \"username\" and \"password\", or \"token\" alone".into(),
                )
            }
        };
        Ok(Some(Credential {
            kind,
            source: "the scan request".into(),
        }))
    }

    /// A digest of the secret, to keep requests of different users apart.
    fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for part in [&self.username, &self.password, &self.token] {
            h.update(part.as_deref().unwrap_or("\u{1}"));
            h.update([0]);
        }
        hex::encode(h.finalize())
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    pub image: Option<String>,
    pub inventory: Option<Box<customs_report::Report>>,
    /// A CycloneDX SBOM (customs' or Trivy's), scanned as an inventory.
    pub sbom: Option<serde_json::Value>,
    pub scanners: Option<Vec<String>>,
    #[serde(default)]
    pub list_all_pkgs: bool,
    #[serde(default)]
    pub severity: Vec<String>,
    #[serde(default)]
    pub ignore_unfixed: bool,
    /// `os/arch[/variant]` of a multi-platform image.
    pub platform: Option<String>,
    pub credentials: Option<Credentials>,
}

/// The scanners of a request: as given, else vulnerabilities and secrets
/// (Trivy's default for images); an inventory only has packages.
fn params(
    scanners: Option<&[String]>,
    inventory: bool,
    list_all_pkgs: bool,
    severity: &[String],
    ignore_unfixed: bool,
) -> Result<Params, String> {
    let default = if inventory {
        vec!["vuln".to_string()]
    } else {
        vec!["vuln".to_string(), "secret".to_string()]
    };
    let sc = customs_scan::Scanners::parse(scanners.unwrap_or(&default))
        .map_err(|e| format!("scanners: {e}"))?;
    if inventory && (sc.secret || sc.misconfig || sc.hardening || sc.confusion) {
        return Err(
            "scanners: an inventory is checked for vulnerabilities only (the client runs the other scanners)"
                .into(),
        );
    }
    for s in severity {
        if customs_model::Severity::parse(s).is_none() {
            return Err(format!(
                "severity: unknown severity '{s}' (expected UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL)"
            ));
        }
    }
    Ok(Params {
        scanners: sc,
        names: sc.names(),
        list_all_pkgs,
        severities: severity.to_vec(),
        ignore_unfixed,
    })
}

/// Whether the server may pull from `registry` (`host[:port]`).
pub fn registry_allowed(state: &AppState, registry: &str) -> Result<(), String> {
    let host = registry
        .rsplit_once(':')
        .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        .map(|(h, _)| h)
        .unwrap_or(registry)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let allowed = &state.config.allowed_registries;
    if !allowed.is_empty() {
        return if allowed.iter().any(|a| a == registry || a == host) {
            Ok(())
        } else {
            Err(format!(
                "registry {registry} is not in the server's --allowed-registries"
            ))
        };
    }
    // Cloud metadata services live on link-local addresses: never a registry.
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        let link_local = match ip {
            std::net::IpAddr::V4(v4) => v4.is_link_local(),
            std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
        };
        if link_local {
            return Err(format!(
                "registry {registry} is a link-local address; name it in --allowed-registries to scan from it"
            ));
        }
    }
    Ok(())
}

/// The remote options of one scan: the request's credentials only (the
/// server's own credential files are not used for other people's scans).
pub fn remote_options(
    state: &AppState,
    registry: &str,
    credential: Option<customs_image::registry::auth::Credential>,
    platform: Option<String>,
) -> customs_image::RemoteOptions {
    let cfg = &state.config;
    customs_image::RemoteOptions {
        platform,
        insecure: cfg.insecure_registries.iter().any(|h| h == registry),
        credential,
        auth_files: customs_image::registry::auth::AuthFiles {
            podman: Vec::new(),
            docker: None,
        },
        mirrors: Vec::new(),
        timeout: cfg.registry_timeout,
        retries: cfg.registry_retries,
        ..Default::default()
    }
}

fn dedup_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// Queue a submission and answer as the API does.
pub async fn queue(
    state: &AppState,
    sub: Submission,
    location: impl Fn(&str) -> String,
) -> Response {
    match state.jobs.submit(state, sub).await {
        Ok((rec, shared)) => {
            let mut r = (StatusCode::ACCEPTED, Json(&rec)).into_response();
            if let Ok(v) = HeaderValue::from_str(&location(&rec.id)) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            if shared {
                r.headers_mut()
                    .insert("x-customs-deduplicated", HeaderValue::from_static("true"));
            }
            r
        }
        Err(Refused::Full(after)) => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "the scan queue is full ({} waiting); try again later",
                    state.jobs.depth()
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Err(Refused::ShuttingDown) => {
            let mut r = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down; submit the scan to another replica",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        Err(Refused::Store(e)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the job store is unavailable: {e}"),
        ),
    }
}

/// Build the submission of an image reference.
pub fn image_submission(
    state: &AppState,
    image: &str,
    credentials: Option<&Credentials>,
    platform: Option<String>,
    params: Params,
) -> Result<Submission, (StatusCode, String)> {
    let reference = customs_image::ImageRef::parse(image)
        .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, format!("image: {e}")))?;
    registry_allowed(state, &reference.registry).map_err(|e| (StatusCode::FORBIDDEN, e))?;
    let creds = credentials.cloned().unwrap_or_default();
    let credential = creds
        .to_credential()
        .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let scanners = params.names.join(",");
    let severities = params.severities.join(",");
    let qualified = reference.qualified();
    let key = dedup_key(&[
        "image",
        &qualified,
        &scanners,
        &params.list_all_pkgs.to_string(),
        &severities,
        &params.ignore_unfixed.to_string(),
        platform.as_deref().unwrap_or(""),
        &creds.fingerprint(),
    ]);
    let remote = remote_options(state, &reference.registry, credential, platform);
    Ok(Submission {
        artifact: reference.typed.clone(),
        work: Work::Image {
            reference,
            remote: Box::new(remote),
        },
        params,
        dedup: Some(key),
        harbor: None,
    })
}

async fn submit(
    State(state): State<Arc<AppState>>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
    req: Request,
) -> Response {
    let Query(query) = match query {
        Ok(q) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("query: {}", e.body_text())),
    };
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match ctype.as_str() {
        "application/json" => submit_json(&state, req.into_body()).await,
        "application/x-tar" | "application/tar" | "application/gzip" | "application/zstd"
        | "application/octet-stream" => submit_archive(&state, req.into_body(), &query).await,
        other => error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Content-Type {other}: expected application/json (an image or an inventory) or application/x-tar (an archive)"),
        ),
    }
}

async fn submit_json(state: &AppState, body: Body) -> Response {
    let bytes = match axum::body::to_bytes(body, state.config.max_request_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is over {} bytes",
                    state.config.max_request_bytes
                ),
            )
        }
    };
    let mut req: ScanRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("request body: {e}")),
    };
    if let Some(bom) = req.sbom.take() {
        if req.inventory.is_some() {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "give \"sbom\" or \"inventory\", not both",
            );
        }
        match customs_report::cyclonedx::inventory_of(&bom) {
            Ok(r) => req.inventory = Some(Box::new(r)),
            Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, format!("sbom: {e}")),
        }
    }
    let p = match params(
        req.scanners.as_deref(),
        req.inventory.is_some(),
        req.list_all_pkgs,
        &req.severity,
        req.ignore_unfixed,
    ) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let location = |id: &str| format!("/v1/scans/{id}");
    match (req.image, req.inventory) {
        (Some(image), None) => {
            match image_submission(state, &image, req.credentials.as_ref(), req.platform, p) {
                Ok(sub) => queue(state, sub, location).await,
                Err((status, msg)) => error(status, msg),
            }
        }
        (None, Some(report)) => {
            if report.results.iter().all(|r| r.packages.is_empty()) {
                return error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "inventory: no result lists Packages (make it with --list-all-pkgs --format json)",
                );
            }
            let sub = Submission {
                artifact: report.artifact_name.clone(),
                work: Work::Inventory { report },
                params: p,
                dedup: None,
                harbor: None,
            };
            queue(state, sub, location).await
        }
        _ => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "give either \"image\" (a reference the server pulls) or \"inventory\" (a report listing Packages)",
        ),
    }
}

/// An uploaded archive is written to a temporary file in the cache
/// directory (at most `--max-upload-bytes`), then scanned as `image --input`.
async fn submit_archive(state: &AppState, body: Body, q: &HashMap<String, String>) -> Response {
    let list = |k: &str| -> Option<Vec<String>> {
        q.get(k).map(|v| v.split(',').map(str::to_string).collect())
    };
    let p = match params(
        list("scanners").as_deref(),
        false,
        q.get("list_all_pkgs").is_some_and(|v| v == "true"),
        &list("severity").unwrap_or_default(),
        q.get("ignore_unfixed").is_some_and(|v| v == "true"),
    ) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let name = q
        .get("name")
        .cloned()
        .unwrap_or_else(|| "upload.tar".to_string());
    let dir = state.config.cache_dir.join("uploads");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{}: {e}", dir.display()),
        );
    }
    let tmp = match tempfile::Builder::new()
        .prefix(".upload-")
        .tempfile_in(&dir)
    {
        Ok(t) => t.into_temp_path(),
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{}: {e}", dir.display()),
            )
        }
    };
    let mut file = match tokio::fs::OpenOptions::new().write(true).open(&tmp).await {
        Ok(f) => f,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, format!("upload: {e}")),
    };
    let mut stream = body.into_data_stream();
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("upload: {e}")),
        };
        total += chunk.len() as u64;
        if total > state.config.max_upload_bytes {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the archive is over --max-upload-bytes {}",
                    state.config.max_upload_bytes
                ),
            );
        }
        if let Err(e) = file.write_all(&chunk).await {
            return error(StatusCode::INTERNAL_SERVER_ERROR, format!("upload: {e}"));
        }
    }
    if let Err(e) = file.flush().await {
        return error(StatusCode::INTERNAL_SERVER_ERROR, format!("upload: {e}"));
    }
    drop(file);
    if total == 0 {
        return error(StatusCode::BAD_REQUEST, "upload: the body is empty");
    }
    let sub = Submission {
        artifact: name.clone(),
        work: Work::Archive { file: tmp, name },
        params: p,
        dedup: None,
        harbor: None,
    };
    queue(state, sub, |id| format!("/v1/scans/{id}")).await
}

async fn status(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match state.jobs.get(&id).await {
        Ok(Some(r)) => Json(r).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no scan {id}")),
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the job store is unavailable: {e}"),
        ),
    }
}

/// Why a job has no report to give (yet).
pub enum NoReport {
    /// Queued or running: ask again later.
    Pending(JobRecord),
    Failed(JobRecord),
    /// Unknown, expired, or the store failed: this status and message.
    Error(StatusCode, String),
}

/// The record and report of a done job, decoded.
pub async fn finished_report(
    state: &AppState,
    id: &str,
) -> Result<(JobRecord, customs_report::Report), NoReport> {
    let unavailable = |e: anyhow::Error| {
        NoReport::Error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the job store is unavailable: {e}"),
        )
    };
    let rec = match state.jobs.get(id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return Err(NoReport::Error(
                StatusCode::NOT_FOUND,
                format!("no scan {id}"),
            ))
        }
        Err(e) => return Err(unavailable(e)),
    };
    match rec.status {
        Status::Queued | Status::Running => return Err(NoReport::Pending(rec)),
        Status::Failed => return Err(NoReport::Failed(rec)),
        Status::Done => {}
    }
    let bytes = match state.jobs.store().get_report(id).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Err(NoReport::Error(
                StatusCode::GONE,
                format!("the report of scan {id} has expired"),
            ))
        }
        Err(e) => return Err(unavailable(e)),
    };
    match crate::jobs::decode_report(&bytes) {
        Ok(r) => Ok((rec, r)),
        Err(e) => Err(NoReport::Error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the stored report of scan {id} is unreadable: {e}"),
        )),
    }
}

#[derive(Deserialize)]
struct ReportQuery {
    format: Option<String>,
    list_all_pkgs: Option<bool>,
}

async fn report(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Response {
    let name = q.format.as_deref().unwrap_or("json");
    let Some(format) = customs_report::ReportFormat::parse(name) else {
        let names: Vec<&str> = customs_report::ReportFormat::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect();
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "format: unknown format '{name}' (expected {})",
                names.join(", ")
            ),
        );
    };
    let (rec, report) = match finished_report(&state, &id).await {
        Ok(x) => x,
        Err(NoReport::Pending(rec)) => {
            let mut r = (StatusCode::ACCEPTED, Json(&rec)).into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return r;
        }
        Err(NoReport::Failed(rec)) => return (StatusCode::CONFLICT, Json(&rec)).into_response(),
        Err(NoReport::Error(status, msg)) => return error(status, msg),
    };
    let sc = customs_scan::Scanners::parse(&rec.scanners).unwrap_or_default();
    let opts = customs_report::RenderOptions {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        scanners: sc.table(),
        color: false,
        list_all_pkgs: q.list_all_pkgs.unwrap_or(false),
        keep_order: false,
        sarif_root: customs_report::sarif::root_uri(None),
        now: customs_scan::now_rfc3339(),
    };
    let text = customs_report::render(&report, format, &opts);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    (StatusCode::OK, headers, text).into_response()
}

#[derive(Deserialize)]
struct AffectedQuery {
    repository: Option<String>,
}

async fn affected(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<AffectedQuery>,
) -> Response {
    let Some(spec) = state.config.store.clone() else {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "the server has no history store (--store)",
        );
    };
    let filter = match q.repository {
        Some(r) => customs_history::Filter::Repository(r),
        None => customs_history::Filter::All,
    };
    let vuln = id.clone();
    let found = tokio::task::spawn_blocking(move || {
        let mut store = customs_history::Store::open(&spec)?;
        store.affected(&vuln, &filter)
    })
    .await;
    match found {
        Ok(Ok(list)) => Json(serde_json::json!({
            "VulnerabilityID": id,
            "Images": list,
        }))
        .into_response(),
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_their_secret() {
        let c = Credentials {
            username: Some("u".into()),
            password: Some("hunter2".into()),
            token: None,
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let t = Credentials {
            token: Some("tok-secret".into()),
            ..Default::default()
        };
        assert!(!format!("{t:?}").contains("tok-secret"));
    }

    #[test]
    fn different_credentials_never_share_a_job() {
        let a = Credentials {
            username: Some("a".into()),
            password: Some("p".into()),
            token: None,
        };
        let b = Credentials {
            username: Some("b".into()),
            password: Some("p".into()),
            token: None,
        };
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_ne!(Credentials::default().fingerprint(), a.fingerprint());
    }

    #[test]
    fn a_user_without_a_password_is_refused() {
        let c = Credentials {
            username: Some("u".into()),
            ..Default::default()
        };
        assert!(c.to_credential().is_err());
    }

    #[test]
    fn scanners_of_an_inventory_are_vulnerabilities_only() {
        assert!(params(None, true, false, &[], false).is_ok_and(|p| p.scanners.vuln));
        let secret = ["secret".to_string()];
        assert!(params(Some(&secret), true, false, &[], false).is_err());
        assert!(params(None, false, false, &["SEVERE".into()], false).is_err());
    }
}
