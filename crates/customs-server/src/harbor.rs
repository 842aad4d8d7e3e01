//! Harbor's Pluggable Scanner API (goharbor/pluggable-scanner-spec, v1.1
//! and the SBOM reports of its v1.2 revision), under `/api/v1/`:
//!
//! - `GET /api/v1/metadata`: the scanner, its capabilities (vulnerability
//!   reports in Harbor's two media types; SBOMs in SPDX and CycloneDX) and
//!   properties (the database's build time).
//! - `POST /api/v1/scan`: the registry URL and the `Authorization` Harbor
//!   passes (a robot account's Basic credentials, or a Bearer token) and the
//!   artifact (repository, digest); answers 202 with the job ID.
//! - `GET /api/v1/scan/{id}/report`: by `Accept`; 302 with `Refresh-After`
//!   while the scan runs, 500 with the error when it failed.
//!
//! The types below are written from the spec's OpenAPI document; the
//! conversion from a customs report is ours.

use crate::api::{error, Credentials};
use crate::jobs::Submission;
use crate::AppState;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const METADATA_TYPE: &str = "application/vnd.scanner.adapter.metadata+json; version=1.1";
pub const SCAN_RESPONSE_TYPE: &str =
    "application/vnd.scanner.adapter.scan.response+json; version=1.0";
pub const ERROR_TYPE: &str = "application/vnd.scanner.adapter.error+json; version=1.0";
pub const VULN_REPORT_1_1: &str = "application/vnd.security.vulnerability.report; version=1.1";
pub const VULN_REPORT_HARBOR: &str =
    "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
pub const VULN_REPORT_RAW: &str = "application/vnd.scanner.adapter.vuln.report.raw";
pub const SBOM_REPORT: &str = "application/vnd.security.sbom.report+json; version=1.0";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const SPDX: &str = "application/spdx+json";
pub const CYCLONEDX: &str = "application/vnd.cyclonedx+json";

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Artifact {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repository: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tag: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mime_type: String,
}

#[derive(Deserialize, Default)]
pub struct Registry {
    #[serde(default)]
    pub url: String,
    /// An `Authorization` header value; never logged.
    #[serde(default)]
    pub authorization: String,
}

#[derive(Deserialize)]
pub struct Capability {
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Deserialize)]
pub struct ScanRequest {
    pub registry: Registry,
    pub artifact: Artifact,
    #[serde(default)]
    pub enabled_capabilities: Option<Vec<Capability>>,
}

#[derive(Serialize)]
struct Scanner {
    name: &'static str,
    vendor: &'static str,
    version: &'static str,
}

const SCANNER: Scanner = Scanner {
    name: "customs",
    vendor: "customs",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Serialize)]
pub struct VulnerabilityItem {
    pub id: String,
    pub package: String,
    pub version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix_version: String,
    pub severity: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_cvss: Option<CvssDetails>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cwe_ids: Vec<String>,
    pub vendor_attributes: serde_json::Value,
}

#[derive(Serialize, Default)]
pub struct CvssDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_v3: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score_v2: Option<f64>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub vector_v3: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub vector_v2: String,
}

pub fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/v1/metadata", get(metadata))
        .route("/api/v1/scan", post(scan))
        .route("/api/v1/scan/{id}/report", get(report))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_token,
        ))
        .with_state(state)
}

fn typed(status: StatusCode, media: &'static str, body: serde_json::Value) -> Response {
    let mut r = (status, Json(body)).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    r
}

fn harbor_error(status: StatusCode, message: impl Into<String>) -> Response {
    let mut r = error(status, message);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ERROR_TYPE));
    r
}

/// The metadata document.
pub fn metadata_json(state: &AppState) -> serde_json::Value {
    let mut props = serde_json::Map::new();
    props.insert(
        "harbor.scanner-adapter/scanner-type".into(),
        "os-package-vulnerability".into(),
    );
    if let Some(i) = state.db.info() {
        props.insert(
            "harbor.scanner-adapter/vulnerability-database-updated-at".into(),
            i.built_at.into(),
        );
    }
    props.insert(
        "org.customs.vulnerability-database".into(),
        "customs".into(),
    );
    serde_json::json!({
        "scanner": SCANNER,
        "capabilities": [
            {
                "type": "vulnerability",
                "consumes_mime_types": [OCI_MANIFEST, DOCKER_MANIFEST],
                "produces_mime_types": [VULN_REPORT_HARBOR, VULN_REPORT_1_1, VULN_REPORT_RAW],
            },
            {
                "type": "sbom",
                "consumes_mime_types": [OCI_MANIFEST, DOCKER_MANIFEST],
                "produces_mime_types": [SBOM_REPORT],
                "additional_attributes": {"sbom_media_types": [SPDX, CYCLONEDX]},
            }
        ],
        "properties": props,
    })
}

async fn metadata(State(state): State<Arc<AppState>>) -> Response {
    typed(StatusCode::OK, METADATA_TYPE, metadata_json(&state))
}

/// Credentials from the `Authorization` value Harbor passes.
pub fn credentials_of(authorization: &str) -> Result<Option<Credentials>, String> {
    let a = authorization.trim();
    if a.is_empty() {
        return Ok(None);
    }
    let (scheme, value) = a
        .split_once(' ')
        .ok_or("registry.authorization: expected \"Basic …\" or \"Bearer …\"")?;
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| "registry.authorization: Basic credentials that are not base64")?;
        let text = String::from_utf8(raw)
            .map_err(|_| "registry.authorization: Basic credentials that are not UTF-8")?;
        let (u, p) = text
            .split_once(':')
            .ok_or("registry.authorization: Basic credentials without a ':'")?;
        Ok(Some(Credentials {
            username: Some(u.to_string()),
            password: Some(p.to_string()),
            token: None,
        }))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Some(Credentials {
            token: Some(value.trim().to_string()),
            ..Default::default()
        }))
    } else {
        Err(format!(
            "registry.authorization: unsupported scheme '{scheme}' (expected Basic or Bearer)"
        ))
    }
}

/// `https://core.harbor.domain` → (`core.harbor.domain`, plain HTTP?).
fn registry_host(url: &str) -> Result<(String, bool), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("registry.url: '{url}' is not a URL"))?;
    let plain = match scheme.to_ascii_lowercase().as_str() {
        "http" => true,
        "https" => false,
        other => return Err(format!("registry.url: unsupported scheme '{other}'")),
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return Err(format!("registry.url: '{url}' has no usable host"));
    }
    Ok((host.to_string(), plain))
}

async fn scan(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let bytes = match axum::body::to_bytes(req.into_body(), state.config.max_request_bytes).await {
        Ok(b) => b,
        Err(_) => {
            return harbor_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            )
        }
    };
    let r: ScanRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => return harbor_error(StatusCode::BAD_REQUEST, format!("request body: {e}")),
    };
    if r.artifact.repository.is_empty() || r.artifact.digest.is_empty() {
        return harbor_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "artifact.repository and artifact.digest are required",
        );
    }
    if let Some(caps) = &r.enabled_capabilities {
        if let Some(c) = caps
            .iter()
            .find(|c| c.kind != "vulnerability" && c.kind != "sbom")
        {
            return harbor_error(
                StatusCode::NOT_IMPLEMENTED,
                format!(
                    "capability '{}' is not supported (vulnerability, sbom)",
                    c.kind
                ),
            );
        }
    }
    let (host, plain) = match registry_host(&r.registry.url) {
        Ok(h) => h,
        Err(e) => return harbor_error(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let creds = match credentials_of(&r.registry.authorization) {
        Ok(c) => c,
        Err(e) => return harbor_error(StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let image = format!("{host}/{}@{}", r.artifact.repository, r.artifact.digest);
    // The SBOM needs every package; the vulnerability report ignores them.
    let params = crate::jobs::Params {
        scanners: customs_scan::Scanners {
            vuln: true,
            ..Default::default()
        },
        names: vec!["vuln".into()],
        list_all_pkgs: true,
        ..Default::default()
    };
    let mut sub: Submission =
        match crate::api::image_submission(&state, &image, creds.as_ref(), None, params) {
            Ok(s) => s,
            Err((status, msg)) => return harbor_error(status, msg),
        };
    if plain {
        if let crate::jobs::Work::Image { remote, .. } = &mut sub.work {
            remote.insecure = true;
        }
    }
    sub.harbor = Some(r.artifact.clone());
    match state.jobs.submit(&state, sub).await {
        Ok((rec, _)) => typed(
            StatusCode::ACCEPTED,
            SCAN_RESPONSE_TYPE,
            serde_json::json!({"id": rec.id}),
        ),
        Err(crate::jobs::Refused::Full(after)) => {
            let mut resp = harbor_error(StatusCode::TOO_MANY_REQUESTS, "the scan queue is full");
            if let Ok(v) = HeaderValue::from_str(&after.as_secs().max(1).to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Err(crate::jobs::Refused::ShuttingDown) => harbor_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        ),
        Err(crate::jobs::Refused::Store(e)) => harbor_error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the job store is unavailable: {e}"),
        ),
    }
}

fn severity_name(s: customs_model::Severity) -> &'static str {
    match s {
        customs_model::Severity::Unknown => "Unknown",
        customs_model::Severity::Low => "Low",
        customs_model::Severity::Medium => "Medium",
        customs_model::Severity::High => "High",
        customs_model::Severity::Critical => "Critical",
    }
}

/// The preferred CVSS of a finding: NVD's, else the first source's.
fn preferred_cvss(v: &customs_report::DetectedVulnerability) -> Option<CvssDetails> {
    let c = v.cvss.get("nvd").or_else(|| v.cvss.values().next())?;
    Some(CvssDetails {
        score_v3: c.v3_score,
        score_v2: c.v2_score,
        vector_v3: c.v3_vector.clone(),
        vector_v2: c.v2_vector.clone(),
    })
}

/// Harbor's vulnerability report of a customs report.
pub fn vulnerability_report(
    report: &customs_report::Report,
    artifact: &Artifact,
    generated_at: &str,
) -> serde_json::Value {
    let mut items = Vec::new();
    let mut worst: Option<customs_model::Severity> = None;
    for r in &report.results {
        for v in &r.vulnerabilities {
            worst = Some(worst.map_or(v.severity, |w| w.max(v.severity)));
            let mut links = Vec::new();
            if !v.primary_url.is_empty() {
                links.push(v.primary_url.clone());
            }
            links.extend(
                v.references
                    .iter()
                    .filter(|l| **l != v.primary_url)
                    .cloned(),
            );
            let mut vendor = serde_json::Map::new();
            if !v.cvss.is_empty() {
                vendor.insert(
                    "CVSS".into(),
                    serde_json::to_value(&v.cvss).unwrap_or_default(),
                );
            }
            if let Some(k) = &v.known_exploited {
                vendor.insert(
                    "KnownExploited".into(),
                    serde_json::to_value(k).unwrap_or_default(),
                );
            }
            vendor.insert("Target".into(), r.target.clone().into());
            if !v.layer.diff_id.is_empty() {
                vendor.insert(
                    "Layer".into(),
                    serde_json::json!({"digest": v.layer.digest, "diff_id": v.layer.diff_id}),
                );
            }
            items.push(VulnerabilityItem {
                id: v.vulnerability_id.clone(),
                package: v.pkg_name.clone(),
                version: v.installed_version.clone(),
                fix_version: v.fixed_version.clone(),
                severity: severity_name(v.severity),
                description: if v.description.is_empty() {
                    v.title.clone()
                } else {
                    v.description.clone()
                },
                links,
                preferred_cvss: preferred_cvss(v),
                cwe_ids: v.cwe_ids.clone(),
                vendor_attributes: serde_json::Value::Object(vendor),
            });
        }
    }
    serde_json::json!({
        "generated_at": generated_at,
        "artifact": artifact,
        "scanner": SCANNER,
        "severity": worst.map(severity_name).unwrap_or("None"),
        "vulnerabilities": items,
    })
}

#[derive(Deserialize)]
struct ReportQuery {
    sbom_media_type: Option<String>,
}

async fn report(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_string();
    let norm = accept.replace(' ', "").to_ascii_lowercase();
    let want = if norm.is_empty() || norm == "*/*" || norm == VULN_REPORT_1_1.replace(' ', "") {
        VULN_REPORT_1_1
    } else if norm == VULN_REPORT_HARBOR.replace(' ', "") {
        VULN_REPORT_HARBOR
    } else if norm == VULN_REPORT_RAW {
        VULN_REPORT_RAW
    } else if norm == SBOM_REPORT.replace(' ', "") {
        SBOM_REPORT
    } else {
        return harbor_error(
            StatusCode::NOT_IMPLEMENTED,
            format!("Accept {accept}: not a report type this scanner produces"),
        );
    };
    // A `+` sent unencoded in the query arrives as a space.
    let sbom_type = q.sbom_media_type.as_ref().map(|t| t.replace(' ', "+"));
    if want == SBOM_REPORT {
        match sbom_type.as_deref() {
            Some(SPDX) | Some(CYCLONEDX) => {}
            Some(other) => {
                return harbor_error(
                    StatusCode::BAD_REQUEST,
                    format!("sbom_media_type {other}: expected {SPDX} or {CYCLONEDX}"),
                )
            }
            None => {
                return harbor_error(
                    StatusCode::BAD_REQUEST,
                    "an SBOM report needs ?sbom_media_type=application/spdx+json or application/vnd.cyclonedx+json",
                )
            }
        }
    }
    use crate::api::NoReport;
    let (rec, report) = match crate::api::finished_report(&state, &id).await {
        Ok(x) => x,
        Err(NoReport::Pending(_)) => {
            let mut r = StatusCode::FOUND.into_response();
            r.headers_mut()
                .insert("refresh-after", HeaderValue::from_static("5"));
            return r;
        }
        Err(NoReport::Failed(rec)) => {
            let msg = rec.error.unwrap_or_else(|| "the scan failed".into());
            return harbor_error(StatusCode::INTERNAL_SERVER_ERROR, msg);
        }
        Err(NoReport::Error(status, msg)) => return harbor_error(status, msg),
    };
    let artifact = rec.harbor.clone().unwrap_or_default();
    let generated = rec
        .finished_at
        .clone()
        .unwrap_or_else(customs_scan::now_rfc3339);
    match want {
        VULN_REPORT_RAW => {
            let mut r = customs_report::to_json(&report).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(VULN_REPORT_RAW),
            );
            r
        }
        SBOM_REPORT => {
            let (media, format) = if sbom_type.as_deref() == Some(SPDX) {
                (SPDX, customs_report::ReportFormat::SpdxJson)
            } else {
                (CYCLONEDX, customs_report::ReportFormat::Cyclonedx)
            };
            let opts = customs_report::RenderOptions {
                tool_version: env!("CARGO_PKG_VERSION").into(),
                now: generated.clone(),
                ..Default::default()
            };
            let text = customs_report::render(&report, format, &opts);
            let sbom: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            typed(
                StatusCode::OK,
                SBOM_REPORT,
                serde_json::json!({
                    "generated_at": generated,
                    "artifact": artifact,
                    "scanner": SCANNER,
                    "media_type": media,
                    "sbom": sbom,
                }),
            )
        }
        media => typed(
            StatusCode::OK,
            media,
            vulnerability_report(&report, &artifact, &generated),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harbor_authorization_becomes_credentials() {
        let b = base64::engine::general_purpose::STANDARD.encode("robot$x:s3cret");
        let c = credentials_of(&format!("Basic {b}"))
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(c.username.as_deref(), Some("robot$x"));
        assert_eq!(c.password.as_deref(), Some("s3cret"));
        let t = credentials_of("Bearer abc")
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(t.token.as_deref(), Some("abc"));
        assert!(credentials_of("").is_ok_and(|c| c.is_none()));
        assert!(credentials_of("Digest x").is_err());
        assert!(credentials_of("Basic !!!").is_err());
    }

    #[test]
    fn registry_urls_give_a_host_and_whether_it_is_plain_http() {
        assert_eq!(
            registry_host("http://harbor-core:8080").ok(),
            Some(("harbor-core:8080".to_string(), true))
        );
        assert_eq!(
            registry_host("https://core.harbor.domain/").ok(),
            Some(("core.harbor.domain".to_string(), false))
        );
        assert!(registry_host("ftp://x").is_err());
        assert!(registry_host("https://user@evil").is_err());
        assert!(registry_host("core.harbor.domain").is_err());
    }
}
