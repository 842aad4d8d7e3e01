//! CycloneDX 1.5 JSON SBOM (`--format cyclonedx`): the artifact, its OS,
//! every OS and language package with its PURL, licences, source package
//! and layer, the dependency graph, and the vulnerabilities found (if the
//! vuln scanner ran), each pointing at the packages it affects.
//!
//! Written with serde_json rather than the `cyclonedx-bom` crate: the SBOM
//! is a direct mapping of our report, and the crate's model would need as
//! much conversion code as emitting the few objects itself.

use crate::model::{class, Report};
use crate::sbom::{os_of, pkg_key, Refs};
use customs_model::Severity;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

const SPEC_VERSION: &str = "1.5";

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        _ => "unknown",
    }
}

/// A version-4-shaped UUID from a hash of the inputs and the clock (unique
/// per SBOM; std has no random source and a UUID crate would be the only
/// use of one).
fn serial(seed: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        // FNV-1a over seed, time, pid and the half index.
        let mut h: u64 = 0xcbf29ce484222325;
        let input = format!("{seed}\0{nanos}\0{}\0{i}", std::process::id());
        for b in input.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
        chunk.copy_from_slice(&h.to_be_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An RFC 3339 date-time as the schema wants it: advisories often give a
/// bare date (`2022-06-27`), read as midnight UTC.
fn date_time(d: &str) -> Option<String> {
    let d = d.trim();
    let b = d.as_bytes();
    let is_date = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !is_date {
        return None;
    }
    if b.len() == 10 {
        return Some(format!("{d}T00:00:00Z"));
    }
    // A time without a zone is UTC.
    let rest = d.get(11..).unwrap_or("");
    let has_zone = d.ends_with('Z') || rest.contains('+') || rest.contains('-');
    Some(if has_zone {
        d.to_string()
    } else {
        format!("{d}Z")
    })
}

fn property(name: &str, value: &str) -> Option<Value> {
    (!value.is_empty()).then(|| json!({ "name": format!("customs:{name}"), "value": value }))
}

/// The inventory a CycloneDX SBOM describes (customs' own, or Trivy's):
/// the OS, and each package under the component that depends on it (the
/// OS, or the file its language packages came from), as a report listing
/// `Packages` and no findings, for vulnerability detection elsewhere (a
/// server given an SBOM). Properties are read under `customs:` and
/// Trivy's `aquasecurity:trivy:` names.
pub fn inventory_of(bom: &Value) -> Result<Report, String> {
    if bom.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
        return Err("not a CycloneDX document (no \"bomFormat\": \"CycloneDX\")".into());
    }
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let prop = |c: &Value, name: &str| -> String {
        c.get("properties")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| {
                let n = p.get("name").and_then(Value::as_str).unwrap_or("");
                n == format!("customs:{name}") || n == format!("aquasecurity:trivy:{name}")
            })
            .and_then(|p| p.get("value").and_then(Value::as_str))
            .unwrap_or("")
            .to_string()
    };
    let root = bom
        .pointer("/metadata/component")
        .cloned()
        .unwrap_or(Value::Null);
    let mut report = Report {
        schema_version: crate::SCHEMA_VERSION,
        artifact_name: text(&root, "name"),
        artifact_type: if text(&root, "type") == "container" {
            "container_image".into()
        } else {
            "filesystem".into()
        },
        ..Default::default()
    };
    let components: Vec<Value> = bom
        .get("components")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let by_ref: HashMap<String, &Value> = components
        .iter()
        .filter_map(|c| Some((c.get("bom-ref")?.as_str()?.to_string(), c)))
        .collect();
    let deps = bom
        .get("dependencies")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for d in &deps {
        let Some(parent) = d
            .get("ref")
            .and_then(Value::as_str)
            .and_then(|r| by_ref.get(r))
        else {
            continue;
        };
        let kind = text(parent, "type");
        if kind != "operating-system" && kind != "application" {
            continue;
        }
        let children: Vec<&Value> = d
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| by_ref.get(r.as_str()?).copied())
            .filter(|c| text(c, "type") == "library")
            .collect();
        let mut r = if kind == "operating-system" {
            let (family, version) = (text(parent, "name"), text(parent, "version"));
            report.metadata.os = Some(customs_model::OsInfo {
                family: family.clone(),
                name: version.clone(),
                eosl: false,
            });
            crate::ScanResult::new(
                format!("{} ({family} {version})", report.artifact_name),
                class::OS_PKGS,
                family,
            )
        } else {
            let mut t = prop(parent, "Type");
            if t.is_empty() {
                t = children
                    .first()
                    .map(|c| prop(c, "PkgType"))
                    .unwrap_or_default();
            }
            crate::ScanResult::new(text(parent, "name"), class::LANG_PKGS, t)
        };
        for c in children {
            let name = text(c, "name");
            let version = text(c, "version");
            if name.is_empty() {
                return Err(format!("component {}: no name", text(c, "bom-ref")));
            }
            let id = match prop(c, "PkgID") {
                id if id.is_empty() => format!("{name}@{version}"),
                id => id,
            };
            r.packages.push(customs_model::Package {
                id,
                name,
                identifier: customs_model::PkgIdentifier {
                    purl: c.get("purl").and_then(Value::as_str).map(str::to_string),
                    uid: None,
                },
                version,
                arch: prop(c, "Arch"),
                src_name: prop(c, "SrcName"),
                src_version: prop(c, "SrcVersion"),
                src_release: prop(c, "SrcRelease"),
                src_epoch: prop(c, "SrcEpoch").parse().unwrap_or(0),
                file_path: prop(c, "FilePath"),
                layer: customs_model::LayerRef {
                    digest: prop(c, "LayerDigest"),
                    diff_id: prop(c, "LayerDiffID"),
                },
                ..Default::default()
            });
        }
        if !r.packages.is_empty() {
            report.results.push(r);
        }
    }
    if report.results.is_empty() {
        return Err(
            "the SBOM lists no package under an operating-system or application component".into(),
        );
    }
    Ok(report)
}

/// The report as a CycloneDX 1.5 JSON document. `timestamp` is RFC 3339.
pub fn to_cyclonedx(report: &Report, tool_version: &str, timestamp: &str) -> String {
    let mut refs = Refs::new("#");
    let root_ref = refs.unique(format!("customs:artifact:{}", report.artifact_name));
    let mut root_props: Vec<Value> = Vec::new();
    root_props.extend(property("ImageID", &report.metadata.image_id));
    for d in &report.metadata.diff_ids {
        root_props.extend(property("DiffID", d));
    }
    for t in &report.metadata.repo_tags {
        root_props.extend(property("RepoTag", t));
    }
    for d in &report.metadata.repo_digests {
        root_props.extend(property("RepoDigest", d));
    }
    let root_type = if report.artifact_type == "container_image" {
        "container"
    } else {
        "application"
    };

    let mut components: Vec<Value> = Vec::new();
    let mut dependencies: Vec<Value> = Vec::new();
    let mut root_depends: Vec<String> = Vec::new();
    // (target, package ID) → bom-ref, for the vulnerabilities' `affects`.
    let mut by_pkg: HashMap<(String, String), String> = HashMap::new();

    for r in &report.results {
        let is_os = r.class == class::OS_PKGS;
        if !r.is_packages() {
            continue;
        }
        // The OS, or the file the language packages came from.
        let parent_ref = if is_os {
            let (family, version) = os_of(report, r);
            let pref = refs.unique(format!("customs:os:{family}@{version}"));
            components.push(json!({
                "bom-ref": pref, "type": "operating-system", "name": family, "version": version,
            }));
            pref
        } else {
            let pref = refs.unique(format!("customs:file:{}", r.target));
            let mut c = json!({ "bom-ref": pref, "type": "application", "name": r.target });
            if let Value::Object(o) = &mut c {
                o.insert(
                    "properties".into(),
                    json!([{ "name": "customs:Type", "value": r.kind }]),
                );
            }
            components.push(c);
            pref
        };
        root_depends.push(parent_ref.clone());
        let mut ids: HashMap<&str, String> = HashMap::new();
        let mut children = Vec::new();
        for p in &r.packages {
            let base = p
                .identifier
                .purl
                .clone()
                .unwrap_or_else(|| format!("customs:pkg:{}@{}", p.name, p.full_version()));
            let bref = refs.unique(base);
            let mut c = Map::new();
            c.insert("bom-ref".into(), json!(bref));
            c.insert("type".into(), json!("library"));
            c.insert("name".into(), json!(p.name));
            c.insert("version".into(), json!(p.full_version()));
            if let Some(purl) = &p.identifier.purl {
                c.insert("purl".into(), json!(purl));
            }
            if !p.licenses.is_empty() {
                let l: Vec<Value> = p
                    .licenses
                    .iter()
                    .map(|l| json!({ "license": { "name": l } }))
                    .collect();
                c.insert("licenses".into(), Value::Array(l));
            }
            let mut props = Vec::new();
            props.extend(property("PkgID", &p.id));
            props.extend(property("PkgType", &r.kind));
            props.extend(property("SrcName", &p.src_name));
            props.extend(property("SrcVersion", &p.src_version));
            props.extend(property("SrcRelease", &p.src_release));
            if p.src_epoch > 0 {
                props.extend(property("SrcEpoch", &p.src_epoch.to_string()));
            }
            props.extend(property("Arch", &p.arch));
            props.extend(property("FilePath", &p.file_path));
            props.extend(property("LayerDigest", &p.layer.digest));
            props.extend(property("LayerDiffID", &p.layer.diff_id));
            if !props.is_empty() {
                c.insert("properties".into(), Value::Array(props));
            }
            components.push(Value::Object(c));
            by_pkg.insert(
                (r.target.clone(), pkg_key(&p.id, &p.name, &p.version)),
                bref.clone(),
            );
            ids.insert(p.id.as_str(), bref.clone());
            children.push(bref);
        }
        // Package → package edges where the inventory knows them.
        for p in &r.packages {
            if p.depends_on.is_empty() {
                continue;
            }
            let Some(from) = ids.get(p.id.as_str()) else {
                continue;
            };
            let to: Vec<&String> = p
                .depends_on
                .iter()
                .filter_map(|d| ids.get(d.as_str()))
                .collect();
            dependencies.push(json!({ "ref": from, "dependsOn": to }));
        }
        dependencies.push(json!({ "ref": parent_ref, "dependsOn": children }));
    }
    dependencies.insert(0, json!({ "ref": root_ref, "dependsOn": root_depends }));

    // One entry per vulnerability ID, affecting every package it was found in.
    let mut vulns: BTreeMap<&str, (Value, Vec<String>)> = BTreeMap::new();
    for r in &report.results {
        for v in &r.vulnerabilities {
            let key = pkg_key(&v.pkg_id, &v.pkg_name, &v.installed_version);
            let affected = by_pkg.get(&(r.target.clone(), key)).cloned();
            let entry = vulns.entry(v.vulnerability_id.as_str()).or_insert_with(|| {
                let mut o = Map::new();
                o.insert("id".into(), json!(v.vulnerability_id));
                if let Some(ds) = &v.data_source {
                    o.insert("source".into(), json!({ "name": ds.id, "url": ds.url }));
                }
                let mut ratings = vec![json!({
                    "source": { "name": if v.severity_source.is_empty() { "customs" } else { v.severity_source.as_str() } },
                    "severity": severity(v.severity),
                })];
                for (src, c) in &v.cvss {
                    if let (Some(score), false) = (c.v3_score, c.v3_vector.is_empty()) {
                        ratings.push(json!({
                            "source": { "name": src }, "score": score,
                            "method": if c.v3_vector.starts_with("CVSS:3.0") { "CVSSv3" } else { "CVSSv31" },
                            "vector": c.v3_vector,
                        }));
                    }
                }
                o.insert("ratings".into(), Value::Array(ratings));
                let cwes: Vec<u64> = v
                    .cwe_ids
                    .iter()
                    .filter_map(|c| c.strip_prefix("CWE-").and_then(|n| n.parse().ok()))
                    .collect();
                if !cwes.is_empty() {
                    o.insert("cwes".into(), json!(cwes));
                }
                if !v.description.is_empty() {
                    o.insert("description".into(), json!(v.description));
                } else if !v.title.is_empty() {
                    o.insert("description".into(), json!(v.title));
                }
                if !v.primary_url.is_empty() {
                    o.insert("advisories".into(), json!([{ "url": v.primary_url }]));
                }
                if let Some(d) = v.published_date.as_deref().and_then(date_time) {
                    o.insert("published".into(), json!(d));
                }
                if let Some(d) = v.last_modified_date.as_deref().and_then(date_time) {
                    o.insert("updated".into(), json!(d));
                }
                (Value::Object(o), Vec::new())
            });
            if let Some(a) = affected {
                if !entry.1.contains(&a) {
                    entry.1.push(a);
                }
            }
        }
    }
    let vulnerabilities: Vec<Value> = vulns
        .into_values()
        .map(|(mut v, affects)| {
            if let Value::Object(o) = &mut v {
                let a: Vec<Value> = affects.iter().map(|r| json!({ "ref": r })).collect();
                o.insert("affects".into(), Value::Array(a));
            }
            v
        })
        .collect();

    let mut root = json!({
        "bom-ref": root_ref, "type": root_type, "name": report.artifact_name,
    });
    if !root_props.is_empty() {
        if let Value::Object(o) = &mut root {
            o.insert("properties".into(), Value::Array(root_props));
        }
    }
    let mut doc = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial(&format!("{}{}", report.artifact_name, report.metadata.image_id)),
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": { "components": [{ "type": "application", "name": "customs", "version": tool_version }] },
            "component": root,
        },
        "components": components,
        "dependencies": dependencies,
    });
    if !vulnerabilities.is_empty() {
        if let Value::Object(o) = &mut doc {
            o.insert("vulnerabilities".into(), Value::Array(vulnerabilities));
        }
    }
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| {
        // Serializing serde_json values cannot fail; keep a valid document anyway.
        format!("{{\"error\": \"{e}\"}}")
    });
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DetectedVulnerability, ScanResult};
    use customs_model::{Package, PkgIdentifier};
    use std::collections::HashSet;

    fn pkg(name: &str, version: &str, purl: &str) -> Package {
        Package {
            id: format!("{name}@{version}"),
            name: name.into(),
            version: version.into(),
            identifier: PkgIdentifier {
                purl: Some(purl.into()),
                uid: None,
            },
            licenses: vec!["MIT".into()],
            ..Default::default()
        }
    }

    #[test]
    fn packages_refs_and_vulnerabilities() {
        let mut a = ScanResult::new("app/requirements.txt", class::LANG_PKGS, "pip");
        let mut b = ScanResult::new("app2/requirements.txt", class::LANG_PKGS, "pip");
        let p = pkg("urllib3", "1.26.4", "pkg:pypi/urllib3@1.26.4");
        a.packages.push(p.clone());
        b.packages.push(p);
        for r in [&mut a, &mut b] {
            r.vulnerabilities.push(DetectedVulnerability {
                vulnerability_id: "CVE-2023-43804".into(),
                pkg_id: "urllib3@1.26.4".into(),
                pkg_name: "urllib3".into(),
                installed_version: "1.26.4".into(),
                severity: Severity::High,
                cwe_ids: vec!["CWE-200".into()],
                ..Default::default()
            });
        }
        let report = Report {
            schema_version: 2,
            artifact_name: "app.tar".into(),
            artifact_type: "container_image".into(),
            results: vec![a, b],
            ..Default::default()
        };
        let v: Value =
            serde_json::from_str(&to_cyclonedx(&report, "0.1.0", "2026-11-29T00:00:00Z"))
                .unwrap_or_default();
        assert_eq!(v["bomFormat"], "CycloneDX");
        assert_eq!(v["specVersion"], "1.5");
        assert!(v["serialNumber"]
            .as_str()
            .unwrap_or("")
            .starts_with("urn:uuid:"));
        assert_eq!(v["metadata"]["component"]["type"], "container");
        let comps = v["components"].as_array().cloned().unwrap_or_default();
        let refs: Vec<&str> = comps.iter().filter_map(|c| c["bom-ref"].as_str()).collect();
        // Two files, and the same package in each with unique references.
        assert!(refs.contains(&"pkg:pypi/urllib3@1.26.4"));
        assert!(refs.contains(&"pkg:pypi/urllib3@1.26.4#2"));
        let unique: HashSet<&&str> = refs.iter().collect();
        assert_eq!(unique.len(), refs.len());
        let vulns = v["vulnerabilities"].as_array().cloned().unwrap_or_default();
        assert_eq!(vulns.len(), 1);
        assert_eq!(vulns[0]["ratings"][0]["severity"], "high");
        assert_eq!(vulns[0]["cwes"], json!([200]));
        assert_eq!(vulns[0]["affects"].as_array().map(Vec::len), Some(2));
        // Every dependency reference names a component or the root.
        for d in v["dependencies"].as_array().cloned().unwrap_or_default() {
            let r = d["ref"].as_str().unwrap_or("");
            assert!(
                refs.contains(&r) || r == v["metadata"]["component"]["bom-ref"],
                "{r}"
            );
        }
    }

    #[test]
    fn dates_become_date_times() {
        assert_eq!(
            date_time("2022-06-27").as_deref(),
            Some("2022-06-27T00:00:00Z")
        );
        assert_eq!(
            date_time("2022-06-27T10:00:00Z").as_deref(),
            Some("2022-06-27T10:00:00Z")
        );
        assert_eq!(
            date_time("2022-06-27T10:00:00").as_deref(),
            Some("2022-06-27T10:00:00Z")
        );
        assert_eq!(
            date_time("2022-06-27T10:00:00+02:00").as_deref(),
            Some("2022-06-27T10:00:00+02:00")
        );
        assert_eq!(date_time("June 2022"), None);
        assert!(date_time("2022-06-27é").is_some());
        assert_eq!(date_time(""), None);
    }

    #[test]
    fn serial_numbers_are_uuid_shaped_and_differ() {
        let a = serial("x");
        let b = serial("y");
        assert_ne!(a, b);
        assert_eq!(a.len(), "urn:uuid:".len() + 36);
        assert_eq!(&a[9 + 14..9 + 15], "4");
    }

    #[test]
    fn a_trivy_sbom_reads_back_as_an_inventory() {
        let bom = json!({
            "bomFormat": "CycloneDX",
            "metadata": {"component": {"bom-ref": "root", "type": "container", "name": "debian:12"}},
            "components": [
                {"bom-ref": "os", "type": "operating-system", "name": "debian", "version": "12.7"},
                {"bom-ref": "p1", "type": "library", "name": "libc6", "version": "2.36-9+deb12u7",
                 "purl": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7",
                 "properties": [
                    {"name": "aquasecurity:trivy:SrcName", "value": "glibc"},
                    {"name": "aquasecurity:trivy:SrcVersion", "value": "2.36"},
                    {"name": "aquasecurity:trivy:SrcRelease", "value": "9+deb12u7"},
                    {"name": "aquasecurity:trivy:PkgType", "value": "debian"}]},
                {"bom-ref": "app", "type": "application", "name": "app/package-lock.json",
                 "properties": [{"name": "aquasecurity:trivy:Type", "value": "npm"}]},
                {"bom-ref": "p2", "type": "library", "name": "lodash", "version": "4.17.20"}
            ],
            "dependencies": [
                {"ref": "root", "dependsOn": ["os", "app"]},
                {"ref": "os", "dependsOn": ["p1"]},
                {"ref": "app", "dependsOn": ["p2"]}
            ]
        });
        let r = inventory_of(&bom).unwrap_or_default();
        assert_eq!(r.artifact_type, "container_image");
        assert_eq!(
            r.metadata.os.as_ref().map(|o| o.name.as_str()),
            Some("12.7")
        );
        assert_eq!(r.results.len(), 2);
        let os = &r.results[0];
        assert_eq!(
            (os.class.as_str(), os.kind.as_str()),
            (class::OS_PKGS, "debian")
        );
        assert_eq!(os.target, "debian:12 (debian 12.7)");
        let libc = &os.packages[0];
        assert_eq!(libc.full_src_version(), "2.36-9+deb12u7");
        assert_eq!(libc.src_name, "glibc");
        let app = &r.results[1];
        assert_eq!(
            (app.kind.as_str(), app.packages[0].id.as_str()),
            ("npm", "lodash@4.17.20")
        );
        assert!(inventory_of(&json!({"spdxVersion": "SPDX-2.3"})).is_err());
        assert!(inventory_of(&json!({"bomFormat": "CycloneDX"})).is_err());
    }
}
