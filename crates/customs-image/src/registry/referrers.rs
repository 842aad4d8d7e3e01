//! Documents attached to an image manifest (OCI distribution 1.1
//! referrers): the referrers API (`GET /v2/<name>/referrers/<digest>`)
//! and, when a registry answers 404 there, the referrers tag schema (the
//! index under the tag `<alg>-<hex>`). Used to find VEX documents pushed
//! beside an image (`oras attach --artifact-type application/vnd.openvex+json`).
//!
//! Every manifest is held to its digest and its descriptor's size, each
//! blob to its digest and size (bounded by [`MAX_DOCUMENT`]), and an
//! artifact is used only when its `subject` is the manifest asked about;
//! the requests go through the client's auth and retries.

use super::{Client, RemoteOptions, MAX_DOCUMENT};
use crate::digest::Digest;
use crate::error::ImageError;
use crate::reference::ImageRef;
use oci_spec::image::{Descriptor, ImageManifest};

/// OpenVEX artifact types: the one `vexctl` and most tools use, and the
/// unregistered spelling some others write.
pub const OPENVEX_ARTIFACT_TYPES: [&str; 2] =
    ["application/vnd.openvex+json", "application/openvex+json"];
/// CycloneDX JSON (a BOM or a VEX BOM).
pub const CYCLONEDX_ARTIFACT_TYPE: &str = "application/vnd.cyclonedx+json";
/// What `--vex oci` looks for.
pub const VEX_ARTIFACT_TYPES: [&str; 3] = [
    OPENVEX_ARTIFACT_TYPES[0],
    OPENVEX_ARTIFACT_TYPES[1],
    CYCLONEDX_ARTIFACT_TYPE,
];

const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// Referrers looked at per subject; pages of the referrers API followed.
const MAX_REFERRERS: usize = 64;
const MAX_PAGES: usize = 16;
/// Layers read of one artifact.
const MAX_LAYERS: usize = 8;

/// How the referrers were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    /// The registry's referrers API (OCI distribution 1.1).
    Api,
    /// The referrers tag schema (`sha256-<hex>`), for a registry without
    /// the API.
    TagSchema,
}

/// The descriptors of the manifests that refer to a subject.
#[derive(Debug, Clone)]
pub struct Referrers {
    pub via: Discovery,
    pub descriptors: Vec<Descriptor>,
}

/// One document attached to an image: the referrer manifest's descriptor
/// (as the referrers list gave it), the layer holding the document, and
/// its verified bytes.
#[derive(Debug, Clone)]
pub struct ReferrerDocument {
    pub subject: Digest,
    pub manifest: Descriptor,
    pub layer: Descriptor,
    /// `oci:HOST/REPO@DIGEST` of the referrer manifest, for messages and
    /// as the VEX source.
    pub source: String,
    pub bytes: Vec<u8>,
}

/// `application/vnd.openvex+json; version=0.2` → `application/vnd.openvex+json`.
fn base_type(t: &str) -> &str {
    t.split(';').next().unwrap_or("").trim()
}

fn wanted(t: Option<&str>, types: &[&str]) -> bool {
    t.is_some_and(|t| {
        let t = base_type(t);
        types.iter().any(|w| w.eq_ignore_ascii_case(t))
    })
}

/// The tag the referrers tag schema keeps a subject's referrers under.
pub fn fallback_tag(subject: &Digest) -> String {
    let hex = &subject.hex[..subject.hex.len().min(64)];
    format!("{}-{hex}", subject.algorithm.name())
}

/// The `next` target of a `Link: <url>; rel="next"` header, as a path
/// on the same registry.
fn next_link(resp: &reqwest::blocking::Response) -> Option<String> {
    let v = resp.headers().get("link")?.to_str().ok()?;
    for part in v.split(',') {
        let (target, params) = part.split_once(';')?;
        if !params.replace(' ', "").contains("rel=\"next\"") {
            continue;
        }
        let t = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        // Only a path on this registry; an absolute URL elsewhere is not followed.
        if t.starts_with("/v2/") {
            return Some(t.to_string());
        }
    }
    None
}

#[derive(serde::Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

fn percent_encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Client {
    /// The manifests that refer to `subject`, from the referrers API or,
    /// when the registry answers 404 there, from the referrers tag schema.
    /// `artifact_type` is passed as the API's filter; the caller still
    /// filters (a registry may ignore it, and the tag schema cannot).
    pub fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, ImageError> {
        let mut path = format!("/v2/{}/referrers/{subject}", self.repo);
        if let Some(t) = artifact_type {
            path.push_str(&format!("?artifactType={}", percent_encode_query(t)));
        }
        let what = format!("referrers of {}@{subject}", self.repo);
        let mut descriptors = Vec::new();
        let mut next = Some(path);
        let mut pages = 0;
        while let Some(p) = next.take() {
            pages += 1;
            let Some(resp) = self.get_or_missing(&p, &[INDEX_TYPE], &what, true)? else {
                if pages == 1 {
                    tracing::debug!(
                        "registry {}: no referrers API (404); reading the tag {}",
                        self.host,
                        fallback_tag(subject)
                    );
                    return self.referrers_by_tag(subject);
                }
                break;
            };
            let link = next_link(&resp);
            let body = self.read_document(resp, &what)?;
            let idx: Index = serde_json::from_slice(&body).map_err(|e| {
                self.err(format!(
                    "{what} from registry {}: not an image index ({e})",
                    self.host
                ))
            })?;
            descriptors.extend(idx.manifests);
            if descriptors.len() >= MAX_REFERRERS || pages >= MAX_PAGES {
                break;
            }
            next = link;
        }
        descriptors.truncate(MAX_REFERRERS);
        Ok(Referrers {
            via: Discovery::Api,
            descriptors,
        })
    }

    fn referrers_by_tag(&self, subject: &Digest) -> Result<Referrers, ImageError> {
        let tag = fallback_tag(subject);
        let Some((body, digest)) = self.manifest_or_missing(&tag, true)? else {
            return Ok(Referrers {
                via: Discovery::TagSchema,
                descriptors: Vec::new(),
            });
        };
        let idx: Index = serde_json::from_slice(&body).map_err(|e| {
            self.err(format!(
                "the referrers tag {}:{tag} ({digest}) is not an image index ({e})",
                self.repo
            ))
        })?;
        let mut descriptors = idx.manifests;
        descriptors.truncate(MAX_REFERRERS);
        Ok(Referrers {
            via: Discovery::TagSchema,
            descriptors,
        })
    }

    /// The documents of the artifacts of these types that refer to
    /// `subject`: each referrer manifest and layer fetched and verified.
    /// Referrers of other types, stale tag-schema entries (a manifest the
    /// registry no longer has) and artifacts whose `subject` is another
    /// manifest are passed over.
    pub fn referrer_documents(
        &self,
        subject: &Digest,
        types: &[&str],
    ) -> Result<Vec<ReferrerDocument>, ImageError> {
        let filter = match types {
            [one] => Some(*one),
            _ => None,
        };
        let found = self.referrers(subject, filter)?;
        let mut out = Vec::new();
        for d in found.descriptors {
            let declared = d.artifact_type().as_ref().map(|t| t.to_string());
            // A referrers index names each artifact's type; an entry
            // without one is looked up in its manifest below.
            if declared.is_some() && !wanted(declared.as_deref(), types) {
                continue;
            }
            let digest = Digest::parse(d.digest().as_ref()).ok_or_else(|| {
                self.err(format!(
                    "a referrer of {subject} names '{}', which is not a sha256 or sha512 digest",
                    d.digest()
                ))
            })?;
            if d.size() > MAX_DOCUMENT {
                return Err(self.err(format!(
                    "referrer manifest {digest} claims {} bytes; refused",
                    d.size()
                )));
            }
            let Some((body, _)) = self.manifest_or_missing(&digest.to_string(), true)? else {
                tracing::debug!("referrer {digest} of {subject} is gone; passed over");
                continue;
            };
            if body.len() as u64 != d.size() {
                return Err(self.err(format!(
                    "referrer manifest {digest} holds {} bytes but its descriptor says {}",
                    body.len(),
                    d.size()
                )));
            }
            let m: ImageManifest = serde_json::from_slice(&body).map_err(|e| {
                self.err(format!(
                    "referrer {digest} of {subject}: not an image manifest ({e})"
                ))
            })?;
            let refers_to = m
                .subject()
                .as_ref()
                .and_then(|s| Digest::parse(s.digest().as_ref()));
            if refers_to.as_ref() != Some(subject) {
                tracing::warn!(
                    "referrer {digest} listed for {subject} refers to {}; passed over",
                    refers_to
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "nothing".into())
                );
                continue;
            }
            let own_type = m
                .artifact_type()
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_else(|| m.config().media_type().to_string());
            if !wanted(Some(&own_type), types) {
                continue;
            }
            let source = format!("oci:{}/{}@{digest}", self.host, self.repo);
            for layer in m.layers().iter().take(MAX_LAYERS) {
                let ld = Digest::parse(layer.digest().as_ref()).ok_or_else(|| {
                    self.err(format!(
                        "referrer {digest} names layer '{}', which is not a sha256 or sha512 digest",
                        layer.digest()
                    ))
                })?;
                if layer.size() > MAX_DOCUMENT {
                    return Err(self.err(format!(
                        "referrer {digest}: layer {ld} claims {} bytes (at most {} MiB are read); refused",
                        layer.size(),
                        MAX_DOCUMENT >> 20
                    )));
                }
                let bytes = self.small_blob(&ld, &format!("referrer {digest} layer"))?;
                if bytes.len() as u64 != layer.size() {
                    return Err(self.err(format!(
                        "referrer {digest}: layer {ld} holds {} bytes but its descriptor says {}",
                        bytes.len(),
                        layer.size()
                    )));
                }
                out.push(ReferrerDocument {
                    subject: subject.clone(),
                    manifest: d.clone(),
                    layer: layer.clone(),
                    source: source.clone(),
                    bytes,
                });
            }
        }
        Ok(out)
    }
}

/// The VEX documents (OpenVEX, CycloneDX) attached to the image `r` names:
/// its manifest (or index) digest, `r`'s own digest when it has one, else
/// the one its tag resolves to (the digest of `RepoDigests`).
pub fn discover_vex(
    r: &ImageRef,
    opts: &RemoteOptions,
) -> Result<Vec<ReferrerDocument>, ImageError> {
    let client = Client::connect(r, opts)?;
    let subject = match r.digest.as_deref().and_then(Digest::parse) {
        Some(d) => d,
        None => client.manifest(r.manifest_ref())?.1,
    };
    client.referrer_documents(&subject, &VEX_ARTIFACT_TYPES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_types_and_links() {
        let d = Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
        assert_eq!(fallback_tag(&d), format!("sha256-{}", "ab".repeat(32)));
        let long = Digest::parse(&format!("sha512:{}", "cd".repeat(64))).unwrap();
        assert_eq!(fallback_tag(&long), format!("sha512-{}", "cd".repeat(32)));
        assert!(wanted(
            Some("application/vnd.openvex+json; version=0.2.0"),
            &VEX_ARTIFACT_TYPES
        ));
        assert!(wanted(
            Some("application/openvex+json"),
            &VEX_ARTIFACT_TYPES
        ));
        assert!(!wanted(Some("application/spdx+json"), &VEX_ARTIFACT_TYPES));
        assert!(!wanted(None, &VEX_ARTIFACT_TYPES));
        assert_eq!(
            percent_encode_query("application/vnd.openvex+json"),
            "application%2Fvnd.openvex%2Bjson"
        );
    }
}
