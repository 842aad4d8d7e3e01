//! SPDX 2.3 JSON SBOM (`--format spdx-json`): a package for the image (or
//! the filesystem root), one for its OS and one per application target,
//! every OS and language package with its PURL, declared licence, supplier
//! and version, and the relationships between them: the document
//! `DESCRIBES` the image, the image `CONTAINS` the OS and the application
//! targets, each of those `CONTAINS` its packages, and a package
//! `DEPENDS_ON` the packages the inventory says it depends on.
//!
//! The document is written with serde structs defined here: the `spdx-rs`
//! crate has had no release since 2022 (SPDX 2.2 era), and the part of the
//! schema an SBOM of a report needs is small.
//!
//! Licences: a declared licence that is a valid SPDX expression (licence
//! identifiers of the SPDX licence list, deprecated ones included, `AND`,
//! `OR`, `WITH`) is kept as is; anything else (`GPL2`, `BSD-like`,
//! `Apache 2.0`) becomes a `LicenseRef-…` with its
//! `hasExtractedLicensingInfos` entry, as the specification requires.
//! Several licences of one package are joined with `AND`.
//!
//! Files: SPDX 2.3 requires a SHA-1 checksum for every File element and
//! the report holds no file digests, so the file a package was found in is
//! recorded as the package's `sourceInfo` (`package found in: PATH`, as
//! Trivy writes it) rather than as a File with an invented checksum.

use crate::model::{class, Report, ScanResult};
use crate::sbom::{os_of, Refs};
use customs_model::Package;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    creators: Vec<String>,
    created: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    version_info: String,
    supplier: String,
    download_location: &'static str,
    files_analyzed: bool,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    source_info: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotator: String,
    annotation_date: String,
    annotation_type: &'static str,
    comment: String,
}

/// `s` with every character outside `[A-Za-z0-9.-]` replaced by `-` (runs
/// collapsed, ends trimmed, at most `max` bytes): the part of an SPDX
/// identifier after its prefix.
fn id_part(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for c in s.chars() {
        let c = if c.is_ascii_alphanumeric() || c == '.' {
            c
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        if out.len() >= max {
            break;
        }
        out.push(c);
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// A valid, unique `SPDXRef-KIND-…` identifier for `name`.
fn spdx_id(refs: &mut Refs, kind: &str, name: &str) -> String {
    let part = id_part(name, 120);
    let base = if part.is_empty() {
        format!("SPDXRef-{kind}")
    } else {
        format!("SPDXRef-{kind}-{part}")
    };
    refs.unique(base)
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `s` is a valid SPDX licence expression on its own (a
/// `LicenseRef-` would need an extracted-licence entry it does not have).
fn is_spdx_expression(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if lower.contains("licenseref-") || lower.contains("documentref-") {
        return false;
    }
    let mode = ::spdx::ParseMode {
        allow_deprecated: true,
        ..::spdx::ParseMode::STRICT
    };
    ::spdx::Expression::parse_mode(s, mode).is_ok()
}

/// The `LicenseRef-`s of one document, one per distinct licence text.
#[derive(Default)]
struct LicenseRefs {
    by_text: HashMap<String, String>,
    ids: HashSet<String>,
    infos: Vec<ExtractedLicense>,
}

impl LicenseRefs {
    fn get(&mut self, text: &str) -> String {
        if let Some(id) = self.by_text.get(text) {
            return id.clone();
        }
        let part = id_part(text, 64);
        let mut id = format!(
            "LicenseRef-{}",
            if part.is_empty() { "unknown" } else { &part }
        );
        if self.ids.contains(&id) {
            // Another text with the same letters (`BSD like`, `BSD-like`).
            id = format!("{id}-{}", &sha256_hex(text)[..8]);
        }
        self.ids.insert(id.clone());
        self.by_text.insert(text.to_string(), id.clone());
        self.infos.push(ExtractedLicense {
            license_id: id.clone(),
            extracted_text: text.to_string(),
            name: text.to_string(),
        });
        id
    }

    /// The `licenseDeclared` of a package's licences.
    fn declared(&mut self, licenses: &[String]) -> String {
        let mut parts: Vec<String> = Vec::new();
        for l in licenses {
            let l = l.trim();
            if l.is_empty() {
                continue;
            }
            let p = if is_spdx_expression(l) {
                if l.contains(char::is_whitespace) && licenses.len() > 1 {
                    format!("({l})")
                } else {
                    l.to_string()
                }
            } else {
                self.get(l)
            };
            if !parts.contains(&p) {
                parts.push(p);
            }
        }
        if parts.is_empty() {
            NOASSERTION.to_string()
        } else {
            parts.join(" AND ")
        }
    }
}

/// `Organization: NAME (EMAIL)` from a maintainer (`Name <email>`), or
/// `NOASSERTION`.
fn supplier(maintainer: &str) -> String {
    let clean = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_control() || "()<>".contains(c) {
                    ' '
                } else {
                    c
                }
            })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (name, email) = match maintainer.split_once('<') {
        Some((n, rest)) => (clean(n), clean(rest.split('>').next().unwrap_or(""))),
        None => (clean(maintainer), String::new()),
    };
    if name.is_empty() {
        return NOASSERTION.to_string();
    }
    if email.is_empty() {
        format!("Organization: {name}")
    } else {
        format!("Organization: {name} ({email})")
    }
}

/// A PURL as SPDX's validator accepts it (`pkg:type/name…`, no whitespace).
fn valid_purl(p: &str) -> bool {
    p.strip_prefix("pkg:")
        .is_some_and(|rest| rest.contains('/') && !rest.starts_with('/'))
        && !p.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `pkg:oci/NAME@DIGEST?repository_url=REPO` of a repo digest
/// (`docker.io/library/alpine@sha256:…`).
fn oci_purl(repo_digest: &str) -> Option<String> {
    let (repo, digest) = repo_digest.split_once('@')?;
    let name = repo.rsplit('/').next()?.to_ascii_lowercase();
    if name.is_empty() || !digest.starts_with("sha256:") {
        return None;
    }
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let purl = format!(
        "pkg:oci/{}@{}?repository_url={}",
        enc(&name),
        digest.replace(':', "%3A"),
        enc(repo)
    );
    valid_purl(&purl).then_some(purl)
}

/// `YYYY-MM-DDThh:mm:ssZ`, the one form SPDX takes, from an RFC 3339 UTC
/// time (fractional seconds dropped).
fn spdx_time(t: &str) -> String {
    let t = t.trim();
    match (t.get(..19), t.ends_with('Z') || t.ends_with('z')) {
        (Some(head), true) if head.as_bytes().get(10) == Some(&b'T') => format!("{head}Z"),
        _ => t.to_string(),
    }
}

fn purl_ref(purl: &str) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl.to_string(),
    }
}

fn rel(a: &str, kind: &'static str, b: &str) -> Relationship {
    Relationship {
        spdx_element_id: a.to_string(),
        relationship_type: kind,
        related_spdx_element: b.to_string(),
    }
}

struct Ctx {
    refs: Refs,
    licenses: LicenseRefs,
    annotator: String,
    created: String,
}

impl Ctx {
    fn note(&self, comment: String) -> Annotation {
        Annotation {
            annotator: self.annotator.clone(),
            annotation_date: self.created.clone(),
            annotation_type: "OTHER",
            comment,
        }
    }

    fn package(&mut self, r: &ScanResult, p: &Package) -> SpdxPackage {
        let version = p.full_version();
        let id = spdx_id(&mut self.refs, "Package", &format!("{}-{version}", p.name));
        let mut external_refs = Vec::new();
        if let Some(purl) = p.identifier.purl.as_deref().filter(|u| valid_purl(u)) {
            external_refs.push(purl_ref(purl));
        }
        let source_info = if !p.file_path.is_empty() {
            format!("package found in: {}", p.file_path)
        } else if r.class == class::OS_PKGS && !p.src_name.is_empty() {
            format!(
                "built package from: {} {}",
                p.src_name,
                p.full_src_version()
            )
        } else {
            String::new()
        };
        let mut annotations = Vec::new();
        if !p.layer.diff_id.is_empty() {
            annotations.push(self.note(format!("LayerDiffID: {}", p.layer.diff_id)));
        }
        if !p.id.is_empty() {
            annotations.push(self.note(format!("PkgID: {}", p.id)));
        }
        annotations.push(self.note(format!("PkgType: {}", r.kind)));
        SpdxPackage {
            name: if p.name.is_empty() {
                "(unnamed)".into()
            } else {
                p.name.clone()
            },
            spdx_id: id,
            version_info: version,
            supplier: supplier(&p.maintainer),
            download_location: NOASSERTION,
            files_analyzed: false,
            license_concluded: NOASSERTION,
            license_declared: self.licenses.declared(&p.licenses),
            copyright_text: NOASSERTION,
            source_info,
            primary_package_purpose: Some("LIBRARY"),
            external_refs,
            annotations,
        }
    }
}

fn plain_package(name: &str, id: String, purpose: &'static str) -> SpdxPackage {
    SpdxPackage {
        name: if name.is_empty() {
            "(unnamed)".into()
        } else {
            name.to_string()
        },
        spdx_id: id,
        version_info: String::new(),
        supplier: NOASSERTION.into(),
        download_location: NOASSERTION,
        files_analyzed: false,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.into(),
        copyright_text: NOASSERTION,
        source_info: String::new(),
        primary_package_purpose: Some(purpose),
        external_refs: Vec::new(),
        annotations: Vec::new(),
    }
}

/// The `documentNamespace` for `seed`: unique per seed and the same for
/// the same seed.
pub fn namespace(artifact_name: &str, seed: &str) -> String {
    let name = id_part(artifact_name, 64);
    let name = if name.is_empty() { "report" } else { &name };
    format!("https://customs.invalid/spdx/{name}-{}", sha256_hex(seed))
}

/// The report as an SPDX 2.3 JSON document. `timestamp` is RFC 3339 UTC
/// (`2026-12-01T18:00:00Z`); `namespace_seed` makes the document namespace
/// (the same seed gives the same namespace: pass what identifies this
/// scan, e.g. the image ID and the timestamp).
pub fn to_spdx(
    report: &Report,
    tool_version: &str,
    timestamp: &str,
    namespace_seed: &str,
) -> String {
    let created = spdx_time(timestamp);
    let mut cx = Ctx {
        refs: Refs::new("-"),
        licenses: LicenseRefs::default(),
        annotator: format!("Tool: customs-{tool_version}"),
        created: created.clone(),
    };
    // Identifiers the document itself uses are never handed out.
    cx.refs.unique("SPDXRef-DOCUMENT".into());

    let is_image = report.artifact_type == "container_image";
    let root_id = cx.refs.unique(if is_image {
        "SPDXRef-Image".into()
    } else {
        "SPDXRef-Filesystem".into()
    });
    let mut root = plain_package(
        &report.artifact_name,
        root_id.clone(),
        if is_image { "CONTAINER" } else { "SOURCE" },
    );
    let m = &report.metadata;
    if let Some(purl) = m.repo_digests.iter().find_map(|d| oci_purl(d)) {
        root.external_refs.push(purl_ref(&purl));
    }
    if !m.image_id.is_empty() {
        root.annotations
            .push(cx.note(format!("ImageID: {}", m.image_id)));
    }
    for t in &m.repo_tags {
        root.annotations.push(cx.note(format!("RepoTag: {t}")));
    }
    for d in &m.repo_digests {
        root.annotations.push(cx.note(format!("RepoDigest: {d}")));
    }
    for d in &m.diff_ids {
        root.annotations.push(cx.note(format!("DiffID: {d}")));
    }

    let mut packages = vec![root];
    let mut relationships = vec![rel("SPDXRef-DOCUMENT", "DESCRIBES", &root_id)];
    // One OS package however many OS results (there is one).
    let mut os_ids: BTreeMap<(String, String), String> = BTreeMap::new();
    for r in report.results.iter().filter(|r| r.is_packages()) {
        let parent = if r.class == class::OS_PKGS {
            let (family, version) = os_of(report, r);
            if let Some(id) = os_ids.get(&(family.clone(), version.clone())) {
                id.clone()
            } else {
                let id = spdx_id(
                    &mut cx.refs,
                    "OperatingSystem",
                    &format!("{family}-{version}"),
                );
                let mut os = plain_package(&family, id.clone(), "OPERATING-SYSTEM");
                os.version_info = version.clone();
                packages.push(os);
                relationships.push(rel(&root_id, "CONTAINS", &id));
                os_ids.insert((family, version), id.clone());
                id
            }
        } else {
            let id = spdx_id(&mut cx.refs, "Application", &r.target);
            let mut app = plain_package(&r.target, id.clone(), "APPLICATION");
            app.annotations.push(cx.note(format!("Type: {}", r.kind)));
            packages.push(app);
            relationships.push(rel(&root_id, "CONTAINS", &id));
            id
        };
        let mut by_pkg_id: HashMap<&str, String> = HashMap::new();
        for p in &r.packages {
            let sp = cx.package(r, p);
            relationships.push(rel(&parent, "CONTAINS", &sp.spdx_id));
            if !p.id.is_empty() {
                by_pkg_id.insert(p.id.as_str(), sp.spdx_id.clone());
            }
            packages.push(sp);
        }
        for p in &r.packages {
            let Some(from) = by_pkg_id.get(p.id.as_str()) else {
                continue;
            };
            for d in &p.depends_on {
                if let Some(to) = by_pkg_id.get(d.as_str()) {
                    relationships.push(rel(from, "DEPENDS_ON", to));
                }
            }
        }
    }

    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: if report.artifact_name.is_empty() {
            "customs report".into()
        } else {
            report.artifact_name.clone()
        },
        document_namespace: namespace(&report.artifact_name, namespace_seed),
        creation_info: CreationInfo {
            creators: vec![cx.annotator.clone()],
            created,
        },
        packages,
        relationships,
        has_extracted_licensing_infos: cx.licenses.infos,
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        // Serializing plain structs cannot fail; keep a valid document anyway.
        format!("{{\"error\": \"{e}\"}}")
    });
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ScanResult;
    use customs_model::{LayerRef, OsInfo, PkgIdentifier};
    use serde_json::Value;

    fn pkg(name: &str, version: &str, purl: &str, licenses: &[&str]) -> Package {
        Package {
            id: format!("{name}@{version}"),
            name: name.into(),
            version: version.into(),
            identifier: PkgIdentifier {
                purl: Some(purl.into()),
                uid: None,
            },
            licenses: licenses.iter().map(|l| l.to_string()).collect(),
            maintainer: "Natanael Copa <ncopa@alpinelinux.org>".into(),
            layer: LayerRef {
                diff_id: "sha256:abc".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn report() -> Report {
        let mut os = ScanResult::new("img (alpine 3.20.3)", class::OS_PKGS, "alpine");
        let mut musl = pkg("musl", "1.2.5-r0", "pkg:apk/alpine/musl@1.2.5-r0", &["MIT"]);
        musl.src_name = "musl".into();
        let mut bb = pkg(
            "busybox",
            "1.36.1-r29",
            "pkg:apk/alpine/busybox@1.36.1-r29",
            &["GPL-2.0-only", "GPL2", "BSD like", "BSD-like"],
        );
        bb.depends_on = vec!["musl@1.2.5-r0".into()];
        os.packages = vec![musl, bb];
        let mut app = ScanResult::new("app/package-lock.json", class::LANG_PKGS, "npm");
        let mut evil = pkg(
            "@evil/<x> \"y\"",
            "1.0 beta",
            "pkg:npm/%40evil/x@1.0",
            &["MIT OR Apache-2.0", "LicenseRef-sneaky", "(broken"],
        );
        evil.file_path = "app/node_modules/x/package.json".into();
        evil.maintainer = String::new();
        app.packages = vec![evil.clone(), evil];
        Report {
            schema_version: 2,
            artifact_name: "alpine:3.20.3".into(),
            artifact_type: "container_image".into(),
            metadata: crate::model::Metadata {
                os: Some(OsInfo {
                    family: "alpine".into(),
                    name: "3.20.3".into(),
                    eosl: false,
                }),
                image_id: "sha256:img".into(),
                repo_digests: vec!["docker.io/library/alpine@sha256:0123".into()],
                ..Default::default()
            },
            results: vec![os, app],
            ..Default::default()
        }
    }

    fn doc(r: &Report) -> Value {
        serde_json::from_str(&to_spdx(r, "0.1.0", "2026-12-01T18:00:00.123Z", "seed"))
            .unwrap_or_default()
    }

    fn id_of<'a>(d: &'a Value, name: &str) -> &'a str {
        d["packages"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == name))
            .and_then(|p| p["SPDXID"].as_str())
            .unwrap_or("")
    }

    #[test]
    fn ids_are_valid_and_unique() {
        let d = doc(&report());
        let ids: Vec<&str> = d["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["SPDXID"].as_str())
            .collect();
        assert_eq!(ids.len(), 2 + 1 + 1 + 2 + 1); // root, os, 2 apk, app, 2 npm
        let unique: HashSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        for id in &ids {
            let rest = id.strip_prefix("SPDXRef-").unwrap_or("");
            assert!(
                !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                "{id}"
            );
        }
        assert!(!ids.contains(&"SPDXRef-DOCUMENT"));
        assert_eq!(d["spdxVersion"], "SPDX-2.3");
        assert_eq!(d["creationInfo"]["created"], "2026-12-01T18:00:00Z");
        assert_eq!(d["creationInfo"]["creators"][0], "Tool: customs-0.1.0");
    }

    #[test]
    fn licences_are_expressions_or_declared_refs() {
        let d = doc(&report());
        let pkgs = d["packages"].as_array().cloned().unwrap_or_default();
        let decl = |name: &str| {
            pkgs.iter()
                .find(|p| p["name"] == name)
                .map(|p| p["licenseDeclared"].as_str().unwrap_or("").to_string())
                .unwrap_or_default()
        };
        assert_eq!(decl("musl"), "MIT");
        let bb = decl("busybox");
        assert!(
            bb.starts_with(
                "GPL-2.0-only AND LicenseRef-GPL2 AND LicenseRef-BSD-like AND LicenseRef-BSD-like-"
            ),
            "{bb}"
        );
        let evil = decl("@evil/<x> \"y\"");
        assert!(
            evil.starts_with(
                "(MIT OR Apache-2.0) AND LicenseRef-LicenseRef-sneaky AND LicenseRef-broken"
            ),
            "{evil}"
        );
        assert_eq!(decl("alpine"), "NOASSERTION");
        let infos = d["hasExtractedLicensingInfos"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let declared_refs: HashSet<String> = pkgs
            .iter()
            .flat_map(|p| {
                p["licenseDeclared"]
                    .as_str()
                    .unwrap_or("")
                    .split([' ', '(', ')'])
                    .filter(|t| t.starts_with("LicenseRef-"))
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect();
        let info_ids: HashSet<String> = infos
            .iter()
            .filter_map(|i| i["licenseId"].as_str().map(String::from))
            .collect();
        assert_eq!(declared_refs, info_ids);
        assert!(infos.iter().any(|i| i["extractedText"] == "BSD like"));
        assert!(!is_spdx_expression("Apache 2.0"));
        assert!(is_spdx_expression(
            "GPL-2.0-or-later WITH Classpath-exception-2.0"
        ));
        assert!(is_spdx_expression("GPL-2.0"), "deprecated ids are valid");
        assert!(!is_spdx_expression("zlib"), "ids are case-sensitive");
    }

    #[test]
    fn relationships_link_document_image_os_targets_packages() {
        let d = doc(&report());
        let rels: Vec<(String, String, String)> = d["relationships"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["spdxElementId"].as_str().unwrap_or("").to_string(),
                    r["relationshipType"].as_str().unwrap_or("").to_string(),
                    r["relatedSpdxElement"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let has = |a: &str, t: &str, b: &str| rels.contains(&(a.into(), t.into(), b.into()));
        let root = id_of(&d, "alpine:3.20.3");
        assert_eq!(root, "SPDXRef-Image");
        let os = id_of(&d, "alpine");
        let app = id_of(&d, "app/package-lock.json");
        assert!(has("SPDXRef-DOCUMENT", "DESCRIBES", root), "{rels:?}");
        assert!(has(root, "CONTAINS", os), "{rels:?}");
        assert!(has(root, "CONTAINS", app), "{rels:?}");
        assert!(has(os, "CONTAINS", id_of(&d, "musl")), "{rels:?}");
        assert!(
            has(id_of(&d, "busybox"), "DEPENDS_ON", id_of(&d, "musl")),
            "{rels:?}"
        );
        // Every relationship names elements of the document.
        let ids: HashSet<&str> = d["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["SPDXID"].as_str())
            .chain(["SPDXRef-DOCUMENT"])
            .collect();
        for (a, _, b) in &rels {
            assert!(
                ids.contains(a.as_str()) && ids.contains(b.as_str()),
                "{a} {b}"
            );
        }
        let pkgs = d["packages"].as_array().cloned().unwrap_or_default();
        let musl = pkgs
            .iter()
            .find(|p| p["name"] == "musl")
            .cloned()
            .unwrap_or_default();
        assert_eq!(musl["externalRefs"][0]["referenceType"], "purl");
        assert_eq!(
            musl["externalRefs"][0]["referenceCategory"],
            "PACKAGE-MANAGER"
        );
        assert_eq!(
            musl["externalRefs"][0]["referenceLocator"],
            "pkg:apk/alpine/musl@1.2.5-r0"
        );
        assert_eq!(
            musl["supplier"],
            "Organization: Natanael Copa (ncopa@alpinelinux.org)"
        );
        assert_eq!(musl["versionInfo"], "1.2.5-r0");
        let evil = pkgs
            .iter()
            .find(|p| p["name"] == "@evil/<x> \"y\"")
            .cloned()
            .unwrap_or_default();
        assert_eq!(evil["supplier"], "NOASSERTION");
        assert_eq!(
            evil["sourceInfo"],
            "package found in: app/node_modules/x/package.json"
        );
        let image = pkgs
            .iter()
            .find(|p| p["SPDXID"] == "SPDXRef-Image")
            .cloned()
            .unwrap_or_default();
        assert_eq!(image["primaryPackagePurpose"], "CONTAINER");
        assert_eq!(
            image["externalRefs"][0]["referenceLocator"],
            "pkg:oci/alpine@sha256%3A0123?repository_url=docker.io/library/alpine"
        );
    }

    #[test]
    fn namespace_is_deterministic_per_seed() {
        let a = namespace("alpine:3.20.3", "seed-1");
        assert_eq!(a, namespace("alpine:3.20.3", "seed-1"));
        assert_ne!(a, namespace("alpine:3.20.3", "seed-2"));
        assert!(
            a.starts_with("https://customs.invalid/spdx/alpine-3.20.3-"),
            "{a}"
        );
        assert_eq!(
            a.len(),
            "https://customs.invalid/spdx/alpine-3.20.3-".len() + 64
        );
        let d = doc(&report());
        assert_eq!(d["documentNamespace"], namespace("alpine:3.20.3", "seed"));
        assert_eq!(
            namespace("", "x")
                .split('/')
                .nth(4)
                .map(|s| s.starts_with("report-")),
            Some(true)
        );
    }
}
