//! OCI artifacts attached to an image in a test registry, pushed by the
//! distribution HTTP API as `oras attach` does: the empty config blob
//! (`application/vnd.oci.empty.v1+json`, `{}`) and the document as the one
//! layer are uploaded (POST then PUT), then an image manifest with
//! `artifactType` and `subject` is PUT by its digest, and the subject's
//! referrers tag-schema index (`sha256-<hex>`) is written or extended, so
//! a registry without the referrers API (distribution 2.8) still lists it.
//!
//! ```no_run
//! use customs_testkit::{artifact, registry::Registry};
//! let reg = Registry::plain();
//! let subject = reg.push("docker-archive:/work/shared/data/images/alpine-3.10.tar.gz", "library/alpine:3.10");
//! let vex = br#"{"@context":"https://openvex.dev/ns/v0.2.0"}"#;
//! let a = artifact::attach(&reg, "library/alpine", &subject, &artifact::Artifact::openvex(vex));
//! println!("{} refers to {subject}", a.manifest_digest);
//! ```
//!
//! Plain-HTTP registries, anonymous or with Basic auth. Failures panic.

use crate::registry::Registry;
use crate::sha256;
use base64::Engine as _;
use std::time::Duration;

/// The media type and content of the OCI empty descriptor.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
pub const EMPTY_JSON: &[u8] = b"{}";
pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// What to attach.
#[derive(Clone, Debug)]
pub struct Artifact<'a> {
    pub artifact_type: String,
    /// The layer's media type (`oras attach` uses the artifact type for a
    /// file given as `file:type`).
    pub layer_media_type: String,
    pub data: &'a [u8],
    /// `org.opencontainers.image.title` of the layer.
    pub title: String,
}

impl<'a> Artifact<'a> {
    /// An OpenVEX document (`application/vnd.openvex+json`).
    pub fn openvex(data: &'a [u8]) -> Artifact<'a> {
        Artifact::of("application/vnd.openvex+json", data, "vex.openvex.json")
    }

    /// A CycloneDX JSON document (`application/vnd.cyclonedx+json`).
    pub fn cyclonedx(data: &'a [u8]) -> Artifact<'a> {
        Artifact::of("application/vnd.cyclonedx+json", data, "vex.cdx.json")
    }

    pub fn of(artifact_type: &str, data: &'a [u8], title: &str) -> Artifact<'a> {
        Artifact {
            artifact_type: artifact_type.to_string(),
            layer_media_type: artifact_type.to_string(),
            data,
            title: title.to_string(),
        }
    }
}

/// An attached artifact.
#[derive(Clone, Debug)]
pub struct Attached {
    pub manifest_digest: String,
    pub manifest: Vec<u8>,
    pub layer_digest: String,
    /// The referrers tag (`sha256-<hex>`) and the digest of its index.
    pub tag: String,
    pub tag_index_digest: String,
}

fn client() -> reqwest::blocking::Client {
    // The workspace builds reqwest with `rustls-no-provider` (for
    // customs-image): install ring, a no-op when a provider is installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_else(|e| panic!("artifact: HTTP client: {e}"))
}

fn with_auth(
    reg: &Registry,
    req: reqwest::blocking::RequestBuilder,
) -> reqwest::blocking::RequestBuilder {
    match reg.credentials() {
        Some((u, p)) => req.header(
            "authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            ),
        ),
        None => req,
    }
}

fn check(reg: &Registry) {
    assert!(
        !reg.is_tls() && reg.token_realm().is_none(),
        "artifact: only plain-HTTP registries (anonymous or Basic) are supported"
    );
}

fn expect(
    what: &str,
    resp: reqwest::Result<reqwest::blocking::Response>,
    ok: &[u16],
    reg: &Registry,
) -> reqwest::blocking::Response {
    let resp = resp.unwrap_or_else(|e| panic!("artifact: {what}: {e}"));
    let status = resp.status().as_u16();
    if !ok.contains(&status) {
        let body = resp.text().unwrap_or_default();
        panic!(
            "artifact: {what}: HTTP {status}: {body}\n--- registry log tail ---\n{}",
            crate::registry::tail(&reg.log())
        );
    }
    resp
}

/// Upload a blob (POST for a session, PUT with its digest); returns the digest.
pub fn push_blob(reg: &Registry, repo: &str, data: &[u8]) -> String {
    check(reg);
    let digest = sha256(data);
    let http = client();
    let resp = expect(
        &format!("POST blob upload to {repo}"),
        with_auth(
            reg,
            http.post(format!("{}/v2/{repo}/blobs/uploads/", reg.url())),
        )
        .send(),
        &[202],
        reg,
    );
    let location = resp
        .headers()
        .get("location")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_else(|| panic!("artifact: upload session without a Location"))
        .to_string();
    let mut url = if location.starts_with('/') {
        format!("{}{location}", reg.url())
    } else {
        location
    };
    url.push(if url.contains('?') { '&' } else { '?' });
    url.push_str(&format!("digest={digest}"));
    expect(
        &format!("PUT blob {digest}"),
        with_auth(reg, http.put(url))
            .header("content-type", "application/octet-stream")
            .body(data.to_vec())
            .send(),
        &[201],
        reg,
    );
    digest
}

/// PUT a manifest or index under `reference` (a digest or a tag); returns
/// the digest the registry announced.
pub fn put_manifest(
    reg: &Registry,
    repo: &str,
    reference: &str,
    media_type: &str,
    body: &[u8],
) -> String {
    check(reg);
    let resp = expect(
        &format!("PUT manifest {repo}:{reference}"),
        with_auth(
            reg,
            client().put(format!("{}/v2/{repo}/manifests/{reference}", reg.url())),
        )
        .header("content-type", media_type)
        .body(body.to_vec())
        .send(),
        &[201],
        reg,
    );
    let announced = resp
        .headers()
        .get("docker-content-digest")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        announced,
        sha256(body),
        "artifact: the registry rehashed the manifest"
    );
    announced
}

/// GET a manifest: its media type and bytes, or `None` for a 404.
pub fn get_manifest(reg: &Registry, repo: &str, reference: &str) -> Option<(String, Vec<u8>)> {
    check(reg);
    let resp = expect(
        &format!("GET manifest {repo}:{reference}"),
        with_auth(
            reg,
            client().get(format!("{}/v2/{repo}/manifests/{reference}", reg.url())),
        )
        .header(
            "accept",
            [
                INDEX_TYPE,
                MANIFEST_TYPE,
                "application/vnd.docker.distribution.manifest.v2+json",
                "application/vnd.docker.distribution.manifest.list.v2+json",
            ]
            .join(", "),
        )
        .send(),
        &[200, 404],
        reg,
    );
    if resp.status().as_u16() == 404 {
        return None;
    }
    let media = resp
        .headers()
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = resp
        .bytes()
        .unwrap_or_else(|e| panic!("artifact: manifest body: {e}"))
        .to_vec();
    Some((media, body))
}

/// DELETE a manifest by digest (the testkit registry allows deletes), so
/// an index naming it goes stale.
pub fn delete_manifest(reg: &Registry, repo: &str, digest: &str) {
    check(reg);
    expect(
        &format!("DELETE manifest {repo}@{digest}"),
        with_auth(
            reg,
            client().delete(format!("{}/v2/{repo}/manifests/{digest}", reg.url())),
        )
        .send(),
        &[202],
        reg,
    );
}

/// The referrers tag of a `sha256:<hex>` subject.
pub fn referrers_tag(subject: &str) -> String {
    let hex = subject
        .strip_prefix("sha256:")
        .unwrap_or_else(|| panic!("artifact: not a sha256 digest: {subject}"));
    format!("sha256-{hex}")
}

/// Add `descriptor` to the referrers tag-schema index of `subject`
/// (creating it); returns the tag and the new index's digest.
pub fn add_to_referrers_tag(
    reg: &Registry,
    repo: &str,
    subject: &str,
    descriptor: serde_json::Value,
) -> (String, String) {
    let tag = referrers_tag(subject);
    let mut index = match get_manifest(reg, repo, &tag) {
        Some((_, body)) => serde_json::from_slice::<serde_json::Value>(&body)
            .unwrap_or_else(|e| panic!("artifact: referrers index {tag}: {e}")),
        None => serde_json::json!({
            "schemaVersion": 2,
            "mediaType": INDEX_TYPE,
            "manifests": [],
        }),
    };
    match index["manifests"].as_array_mut() {
        Some(list) => list.push(descriptor),
        None => panic!("artifact: referrers index {tag} has no manifests list"),
    }
    let body = serde_json::to_vec(&index).unwrap_or_else(|e| panic!("{e}"));
    let digest = put_manifest(reg, repo, &tag, INDEX_TYPE, &body);
    (tag, digest)
}

/// The artifact manifest `oras attach` would write for `a` on `subject`
/// (whose manifest is `subject_media_type`, `subject_size` bytes).
pub fn artifact_manifest(
    a: &Artifact<'_>,
    layer_digest: &str,
    subject: &str,
    subject_media_type: &str,
    subject_size: usize,
) -> Vec<u8> {
    let m = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": a.artifact_type,
        "config": {
            "mediaType": EMPTY_MEDIA_TYPE,
            "digest": sha256(EMPTY_JSON),
            "size": EMPTY_JSON.len(),
            "data": "e30=",
        },
        "layers": [{
            "mediaType": a.layer_media_type,
            "digest": layer_digest,
            "size": a.data.len(),
            "annotations": {"org.opencontainers.image.title": a.title},
        }],
        "subject": {
            "mediaType": subject_media_type,
            "digest": subject,
            "size": subject_size,
        },
        "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
    });
    serde_json::to_vec(&m).unwrap_or_else(|e| panic!("{e}"))
}

/// Attach `a` to the manifest `subject` of `repo`, as `oras attach` does,
/// and list it in the subject's referrers tag index.
pub fn attach(reg: &Registry, repo: &str, subject: &str, a: &Artifact<'_>) -> Attached {
    let (subject_media_type, subject_body) = get_manifest(reg, repo, subject)
        .unwrap_or_else(|| panic!("artifact: {repo} has no manifest {subject}"));
    assert_eq!(sha256(&subject_body), subject, "artifact: subject digest");
    push_blob(reg, repo, EMPTY_JSON);
    let layer_digest = push_blob(reg, repo, a.data);
    let manifest = artifact_manifest(
        a,
        &layer_digest,
        subject,
        &subject_media_type,
        subject_body.len(),
    );
    let manifest_digest = sha256(&manifest);
    put_manifest(reg, repo, &manifest_digest, MANIFEST_TYPE, &manifest);
    let (tag, tag_index_digest) = add_to_referrers_tag(
        reg,
        repo,
        subject,
        serde_json::json!({
            "mediaType": MANIFEST_TYPE,
            "digest": manifest_digest,
            "size": manifest.len(),
            "artifactType": a.artifact_type,
            "annotations": {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
        }),
    );
    Attached {
        manifest_digest,
        manifest,
        layer_digest,
        tag,
        tag_index_digest,
    }
}
