//! OSV records (https://ossf.github.io/osv-schema/) as JSON, as YAML, and in
//! the per-ecosystem `all.zip` archives OSV publishes.

use std::io::Read;

use customs_model::{
    normalize_name, Affected, AffectedRange, RangeEvent, RangeKind, Severity, Status,
};
use serde::Deserialize;

use super::{from_yaml, normalize_ecosystem, Source};
use crate::record::{
    aliases_of, cvss_from_vector, preferred_ids, severity_from_cvss, AdvisoryRecord, Cvss,
    FeedOutput, VulnRecord,
};

#[derive(Deserialize)]
struct Record {
    #[serde(deserialize_with = "super::scalar_string")]
    id: String,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    modified: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    published: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    withdrawn: Option<String>,
    #[serde(default, deserialize_with = "super::scalar_vec")]
    aliases: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Option<Vec<OsvSeverity>>,
    #[serde(default)]
    affected: Option<Vec<OsvAffected>>,
    #[serde(default)]
    references: Option<Vec<Reference>>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    score: Option<String>,
}

#[derive(Deserialize)]
struct Reference {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct OsvAffected {
    #[serde(default)]
    package: Option<OsvPackage>,
    #[serde(default)]
    severity: Option<Vec<OsvSeverity>>,
    #[serde(default)]
    ranges: Option<Vec<OsvRange>>,
    #[serde(default, deserialize_with = "super::scalar_vec")]
    versions: Vec<String>,
    #[serde(default)]
    ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OsvPackage {
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    ecosystem: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    name: Option<String>,
}

#[derive(Deserialize)]
struct OsvRange {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    events: Option<Vec<OsvEvent>>,
}

#[derive(Deserialize)]
struct OsvEvent {
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    introduced: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    fixed: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    last_affected: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    limit: Option<String>,
}

/// Parse one OSV record from JSON (`.json`) or YAML (anything else).
pub fn parse(file: &str, bytes: &[u8], source: Source) -> FeedOutput {
    let mut out = FeedOutput {
        records: 1,
        ..Default::default()
    };
    let rec: Result<Record, String> = if file.ends_with(".json") {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    } else {
        from_yaml(bytes)
    };
    match rec {
        Ok(r) => convert(file, r, source, &mut out),
        Err(e) => out.skip(file, "", format!("not an OSV record: {e}")),
    }
    out
}

/// Parse every `*.json` record of an OSV `all.zip` archive. One record per
/// JSON entry; an archive that cannot be opened is one skipped record.
pub fn parse_zip(file: &str, bytes: &[u8], source: Source) -> FeedOutput {
    let mut out = FeedOutput::default();
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            out.records += 1;
            out.skip(file, "", format!("not a zip archive: {e}"));
            return out;
        }
    };
    let mut buf = Vec::new();
    for i in 0..archive.len() {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                out.records += 1;
                out.skip(file, &format!("entry {i}"), e.to_string());
                continue;
            }
        };
        let entry_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.is_dir() || !entry_name.ends_with(".json") {
            continue;
        }
        let name = format!("{file}!{entry_name}");
        buf.clear();
        // Bound each entry: an OSV record is a few kB; 64 MiB is plenty and
        // stops a zip bomb.
        let mut limited = (&mut entry).take(64 << 20);
        if let Err(e) = limited.read_to_end(&mut buf) {
            out.records += 1;
            out.skip(&name, "", format!("cannot read zip entry: {e}"));
            continue;
        }
        out.extend(parse(&name, &buf, source));
    }
    out
}

fn convert(file: &str, r: Record, source: Source, out: &mut FeedOutput) {
    let rid = r.id.trim().to_string();
    if rid.is_empty() {
        out.skip(file, "", "record has no id");
        return;
    }
    if r.withdrawn.as_deref().is_some_and(|w| !w.trim().is_empty()) {
        out.withdrawn += 1;
        return;
    }
    let aliases: Vec<String> = r
        .aliases
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    let mut cvss: Vec<Cvss> = Vec::new();
    for s in r.severity.iter().flatten() {
        push_cvss(&mut cvss, source, s);
    }
    let db_sev = r
        .database_specific
        .as_ref()
        .and_then(|d| severity_in(d, &["severity"]));
    let cwe_ids: Vec<String> = r
        .database_specific
        .as_ref()
        .and_then(|d| d.get("cwe_ids"))
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let record_sev = db_sev.or_else(|| severity_from_cvss(&cvss));
    let references: Vec<String> = r
        .references
        .into_iter()
        .flatten()
        .filter_map(|x| x.url)
        .collect();
    let ids = preferred_ids(&rid, &aliases);
    for id in &ids {
        out.vulns.push(VulnRecord {
            id: id.clone(),
            aliases: aliases_of(id, &rid, &aliases),
            title: r.summary.clone().filter(|s| !s.trim().is_empty()),
            description: r.details.clone().filter(|s| !s.trim().is_empty()),
            severity: record_sev,
            cvss: cvss.clone(),
            cwe_ids: cwe_ids.clone(),
            references: references.clone(),
            published: r.published.clone(),
            modified: r.modified.clone(),
        });
    }
    // Several `affected` entries for one package are one advisory whose
    // ranges are the union (OSV semantics).
    let mut merged: Vec<(String, String, Affected, Option<Severity>)> = Vec::new();
    for (i, a) in r.affected.into_iter().flatten().enumerate() {
        let Some(pkg) = a.package else {
            continue; // OSV allows affected entries without a package (git-only)
        };
        let (Some(eco), Some(name)) = (pkg.ecosystem, pkg.name) else {
            out.skip(
                file,
                &format!("{rid} affected[{i}]"),
                "package without ecosystem or name",
            );
            continue;
        };
        let eco = normalize_ecosystem(&eco);
        let name = normalize_name(&eco, &name);
        if eco.is_empty() || name.is_empty() {
            out.skip(
                file,
                &format!("{rid} affected[{i}]"),
                "empty ecosystem or name",
            );
            continue;
        }
        let mut affected = Affected {
            versions: a.versions.iter().map(|v| v.trim().to_string()).collect(),
            ..Default::default()
        };
        for range in a.ranges.into_iter().flatten() {
            let kind = match range.kind.as_deref().map(str::trim) {
                Some("ECOSYSTEM") => RangeKind::Ecosystem,
                Some("SEMVER") => RangeKind::Semver,
                Some("GIT") => RangeKind::Git,
                other => {
                    out.skip(
                        file,
                        &format!("{rid} affected[{i}]"),
                        format!("unknown range type {other:?}"),
                    );
                    continue;
                }
            };
            let mut events = Vec::new();
            for e in range.events.into_iter().flatten() {
                if let Some(v) = e.introduced {
                    events.push(RangeEvent::Introduced(v.trim().to_string()));
                }
                if let Some(v) = e.fixed {
                    events.push(RangeEvent::Fixed(v.trim().to_string()));
                }
                if let Some(v) = e.last_affected {
                    events.push(RangeEvent::LastAffected(v.trim().to_string()));
                }
                if let Some(v) = e.limit {
                    events.push(RangeEvent::Limit(v.trim().to_string()));
                }
            }
            affected.ranges.push(AffectedRange { kind, events });
        }
        let mut pkg_cvss = Vec::new();
        for s in a.severity.iter().flatten() {
            push_cvss(&mut pkg_cvss, source, s);
        }
        let sev = a
            .ecosystem_specific
            .as_ref()
            .and_then(|d| severity_in(d, &["severity", "urgency"]))
            .or_else(|| {
                a.database_specific
                    .as_ref()
                    .and_then(|d| severity_in(d, &["severity"]))
            })
            .or_else(|| severity_from_cvss(&pkg_cvss))
            .or(record_sev);
        if let Some(m) = merged.iter_mut().find(|m| m.0 == eco && m.1 == name) {
            m.2.ranges.extend(affected.ranges);
            m.2.versions.extend(affected.versions);
            if sev > m.3 {
                m.3 = sev;
            }
        } else {
            merged.push((eco, name, affected, sev));
        }
    }
    for (eco, name, affected, sev) in merged {
        let status = if affected.fixed_versions().is_empty() {
            Status::Affected
        } else {
            Status::Fixed
        };
        for id in &ids {
            out.advisories.push(AdvisoryRecord {
                ecosystem: eco.clone(),
                package: name.clone(),
                vulnerability_id: id.clone(),
                source_id: rid.clone(),
                status,
                severity: sev,
                affected: affected.clone(),
                informational: None,
            });
        }
    }
}

fn push_cvss(out: &mut Vec<Cvss>, source: Source, s: &OsvSeverity) {
    let (Some(kind), Some(score)) = (s.kind.as_deref(), s.score.as_deref()) else {
        return;
    };
    if kind.starts_with("CVSS_") {
        out.push(cvss_from_vector(source.id(), score));
    }
}

/// A qualitative severity under one of `keys` in a `*_specific` object.
fn severity_in(v: &serde_json::Value, keys: &[&str]) -> Option<Severity> {
    keys.iter().find_map(|k| {
        v.get(*k)
            .and_then(|s| s.as_str())
            .and_then(|s| Severity::parse(s).or_else(|| super::debian::urgency_severity(s)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO: &str = r#"{
  "schema_version": "1.3.1",
  "id": "GO-2024-3228",
  "modified": "2024-11-01T00:00:00Z",
  "published": "2024-10-30T00:00:00Z",
  "aliases": ["CVE-2024-1111", "GHSA-wcx9-ccpj-hx3c"],
  "summary": "Open redirect in github.com/coder/coder",
  "details": "Details.",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [
    {"package": {"name": "github.com/coder/coder/v2", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.3.1"}, {"fixed": "2.14.4"}]}]},
    {"package": {"name": "github.com/coder/coder/v2", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "2.15.0"}, {"last_affected": "2.15.2"}]}]},
    {"package": {"name": "stdlib", "ecosystem": "Go"},
     "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]}
  ],
  "references": [{"type": "FIX", "url": "https://example.invalid/fix"}],
  "database_specific": {"url": "https://pkg.go.dev/vuln/GO-2024-3228"}
}"#;

    #[test]
    fn go_json() {
        let out = parse("GO-2024-3228.json", GO.as_bytes(), Source::GoVulndb);
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        assert_eq!(out.advisories.len(), 2);
        let coder = &out.advisories[0];
        assert_eq!(coder.vulnerability_id, "CVE-2024-1111");
        assert_eq!(coder.source_id, "GO-2024-3228");
        assert_eq!(coder.affected.ranges.len(), 2);
        assert_eq!(coder.status, Status::Fixed);
        assert_eq!(coder.severity, Some(Severity::Critical));
        assert_eq!(out.advisories[1].package, "stdlib");
        assert_eq!(out.advisories[1].status, Status::Affected);
        assert_eq!(
            out.vulns[0].aliases,
            vec!["GO-2024-3228", "GHSA-wcx9-ccpj-hx3c"]
        );
    }

    #[test]
    fn pypa_yaml_versions_stay_text() {
        let y = "id: PYSEC-2023-121\nmodified: 2023-07-25T16:31:58.309647Z\naliases:\n- CVE-2022-4899\naffected:\n- package:\n    ecosystem: PyPI\n    name: Zstd_Lib\n  ranges:\n  - type: ECOSYSTEM\n    events:\n    - introduced: \"0\"\n    - fixed: 1.5\n  versions:\n  - 1.0\n  - 1.4.10\n";
        let out = parse("x.yaml", y.as_bytes(), Source::Pypa);
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let a = &out.advisories[0];
        assert_eq!(a.package, "zstd-lib");
        assert_eq!(a.affected.versions, vec!["1.0", "1.4.10"]);
        assert_eq!(a.affected.fixed_versions(), vec!["1.5"]);
    }

    #[test]
    fn withdrawn_and_distro() {
        let w = r#"{"id":"GHSA-1","withdrawn":"2024-01-01T00:00:00Z","affected":[]}"#;
        let out = parse("w.json", w.as_bytes(), Source::Osv);
        assert_eq!((out.records, out.withdrawn), (1, 1));
        assert!(out.advisories.is_empty() && out.vulns.is_empty());
        let d = r#"{"id":"ALPINE-CVE-2024-1","upstream":["CVE-2024-1"],"affected":[{"package":{"ecosystem":"Alpine:v3.18","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.1.4-r1"}]}],"ecosystem_specific":{"urgency":"medium"}}]}"#;
        let out = parse("d.json", d.as_bytes(), Source::Osv);
        let a = &out.advisories[0];
        assert_eq!(a.ecosystem, "alpine:3.18");
        assert_eq!(a.severity, Some(Severity::Medium));
    }

    #[test]
    fn garbage_is_one_skipped_record() {
        let out = parse("bad.json", b"{not json", Source::Osv);
        assert_eq!(out.records, 1);
        assert_eq!(out.skipped.len(), 1);
        let out = parse_zip("bad.zip", b"PK\x03\x04garbage", Source::Osv);
        assert_eq!(out.skipped.len(), 1);
    }

    /// An OSV `all.zip` as osv.dev serves it: one `ID.json` per record.
    pub(crate) fn fixture_zip() -> Vec<u8> {
        use std::io::Write;
        use zip::write::SimpleFileOptions;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let deflated =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let stored =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let recs = [
            (
                "GHSA-35jh-r3h4-6jhm.json",
                r#"{"id":"GHSA-35jh-r3h4-6jhm","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2021-23337"],"summary":"Command Injection in lodash","affected":[{"package":{"ecosystem":"npm","name":"Lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}],"database_specific":{"severity":"HIGH"}}],"database_specific":{"cwe_ids":["CWE-77","CWE-94"],"severity":"HIGH"}}"#,
                deflated,
            ),
            (
                "GHSA-jf85-cpcp-j695.json",
                r#"{"id":"GHSA-jf85-cpcp-j695","modified":"2024-01-01T00:00:00Z","aliases":["CVE-2019-10744"],"affected":[{"package":{"ecosystem":"npm","name":"lodash"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.12"}]}]}]}"#,
                stored,
            ),
            (
                "GHSA-withdrawn.json",
                r#"{"id":"GHSA-xxxx-withdrawn","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z","affected":[]}"#,
                deflated,
            ),
        ];
        for (name, body, opts) in recs {
            w.start_file(name, opts).unwrap();
            w.write_all(body.as_bytes()).unwrap();
        }
        w.start_file("README.txt", stored).unwrap();
        w.write_all(b"not a record").unwrap();
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn all_zip() {
        let out = parse_zip("osv/npm/all.zip", &fixture_zip(), Source::Osv);
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        assert_eq!((out.records, out.withdrawn), (3, 1));
        assert_eq!(out.advisories.len(), 2);
        let a = &out.advisories[0];
        assert_eq!(
            (a.ecosystem.as_str(), a.package.as_str()),
            ("npm", "lodash")
        );
        assert_eq!(a.vulnerability_id, "CVE-2021-23337");
        assert_eq!(a.severity, Some(Severity::High));
        assert_eq!(out.vulns[0].cwe_ids, vec!["CWE-77", "CWE-94"]);
    }
}
