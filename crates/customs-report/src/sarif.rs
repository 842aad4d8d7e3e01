//! SARIF 2.1.0 output (`--format sarif`), for GitHub code scanning and
//! other SARIF viewers. One rule per vulnerability ID, misconfiguration
//! check or secret rule; one result per finding, located in the file (or,
//! for OS packages, the artifact) where it was found.
//!
//! Written with serde_json rather than a SARIF crate: the few objects a
//! scanner report needs are simpler to emit directly than to map onto the
//! full generated schema of `serde-sarif`.

use crate::model::{class, Report};
use customs_model::Severity;
use serde_json::{json, Map, Value};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF level from a severity (SARIF has error, warning, note).
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like score, as a string): the
/// finding's own CVSS v3 score when it has one, else a score inside the
/// severity's CVSS band.
fn security_severity(s: Severity, cvss: Option<f64>) -> String {
    let score = cvss.unwrap_or(match s {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        _ => 0.0,
    });
    format!("{score:.1}")
}

/// Percent-encode the bytes of `path` a URI cannot hold (`keep` lists the
/// punctuation kept as is).
fn encode(path: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A relative URI reference for a target path: no leading `/`, and the
/// characters a URI cannot hold percent-encoded.
fn uri(path: &str) -> String {
    encode(path.trim_start_matches('/'), b"-._~/!$&'()*+,;=:@")
}

/// The `ROOTPATH` base for [`to_sarif`]: `file:///` for an image's paths,
/// else the `file:` URI of the absolute directory the targets are relative to.
pub fn root_uri(abs_dir: Option<&str>) -> String {
    match abs_dir {
        None => "file:///".into(),
        Some(d) => {
            let mut u = format!("file://{}", encode(d, b"-._~/"));
            if !u.ends_with('/') {
                u.push('/');
            }
            u
        }
    }
}

struct Rules {
    index: std::collections::HashMap<String, usize>,
    list: Vec<Value>,
}

impl Rules {
    /// The index of rule `id`, adding it (built by `make`) on first use.
    fn get(&mut self, id: &str, make: impl FnOnce() -> Value) -> usize {
        if let Some(i) = self.index.get(id) {
            return *i;
        }
        let i = self.list.len();
        self.list.push(make());
        self.index.insert(id.to_string(), i);
        i
    }
}

/// One finding of any kind, as SARIF needs it: the rule it reports under
/// and the result's message and lines.
struct Finding<'a> {
    id: &'a str,
    /// `vulnerability`, `misconfiguration` or `secret`.
    kind: &'static str,
    title: &'a str,
    description: &'a str,
    url: &'a str,
    severity: Severity,
    cvss_score: Option<f64>,
    text: String,
    start_line: usize,
    end_line: usize,
    /// Result properties (`knownExploited`, `epss`, `vex` of a vulnerability).
    properties: Map<String, Value>,
}

impl Finding<'_> {
    fn rule(&self) -> Value {
        let short = if self.title.is_empty() {
            self.id
        } else {
            self.title
        };
        let full = if self.description.is_empty() {
            short
        } else {
            self.description
        };
        let sev = self.severity.as_str();
        let mut r = Map::new();
        r.insert("id".into(), json!(self.id));
        r.insert("name".into(), json!(self.kind));
        r.insert("shortDescription".into(), json!({ "text": short }));
        r.insert("fullDescription".into(), json!({ "text": full }));
        r.insert(
            "defaultConfiguration".into(),
            json!({ "level": level(self.severity) }),
        );
        if !self.url.is_empty() {
            r.insert("helpUri".into(), json!(self.url));
        }
        r.insert(
            "help".into(),
            json!({ "text": format!("{} {}\nSeverity: {sev}\n{full}", self.kind, self.id) }),
        );
        r.insert(
            "properties".into(),
            json!({
                "precision": "very-high",
                "security-severity": security_severity(self.severity, self.cvss_score),
                "tags": [self.kind, "security", sev],
            }),
        );
        Value::Object(r)
    }

    fn result(&self, rule_index: usize, uri: &str) -> Value {
        let mut r = json!({
            "ruleId": self.id,
            "ruleIndex": rule_index,
            "level": level(self.severity),
            "message": { "text": self.text },
            "locations": location(uri, self.start_line, self.end_line),
        });
        if !self.properties.is_empty() {
            if let Value::Object(o) = &mut r {
                o.insert("properties".into(), Value::Object(self.properties.clone()));
            }
        }
        r
    }
}

fn location(uri: &str, start: usize, end: usize) -> Value {
    let start = start.max(1);
    json!([{
        "physicalLocation": {
            "artifactLocation": { "uri": uri, "uriBaseId": "ROOTPATH" },
            "region": {
                "startLine": start,
                "startColumn": 1,
                "endLine": end.max(start),
                "endColumn": 1,
            }
        }
    }])
}

/// The report as a SARIF 2.1.0 log, pretty-printed. `root_uri` is the
/// `file:` URI the result paths are relative to (see [`root_uri`]).
pub fn to_sarif(report: &Report, tool_version: &str, root_uri: &str) -> String {
    let mut rules = Rules {
        index: Default::default(),
        list: Vec::new(),
    };
    let mut results = Vec::new();
    for r in &report.results {
        // OS packages: their package database, relative to the root (the
        // image's or the scanned root filesystem's); the artifact itself
        // when the database's place is not known.
        let target_uri = if r.class == class::OS_PKGS {
            match r.kind.as_str() {
                "alpine" | "wolfi" | "chainguard" => "lib/apk/db/installed".to_string(),
                "debian" | "ubuntu" => "var/lib/dpkg/status".to_string(),
                _ => uri(&report.artifact_name),
            }
        } else {
            uri(&r.target)
        };
        let mut found: Vec<Finding> = Vec::new();
        for v in &r.vulnerabilities {
            let fixed = if v.fixed_version.is_empty() {
                "none"
            } else {
                &v.fixed_version
            };
            let mut properties = Map::new();
            let mut extra = String::new();
            if let Some(k) = &v.known_exploited {
                properties.insert("knownExploited".into(), json!(k));
                extra.push_str(&format!("\nKnown exploited: {}", k.summary()));
            }
            if let Some(e) = &v.epss {
                properties.insert("epss".into(), json!(e));
                extra.push_str(&format!("\nEPSS: {}", e.summary()));
            }
            if let Some(x) = &v.vex {
                properties.insert("vex".into(), json!(x));
                extra.push_str(&format!("\nVEX: {}", x.summary()));
            }
            let kev = if v.known_exploited.is_some() {
                " (KEV)"
            } else {
                ""
            };
            found.push(Finding {
                id: &v.vulnerability_id,
                kind: "vulnerability",
                title: &v.title,
                description: &v.description,
                url: &v.primary_url,
                severity: v.severity,
                cvss_score: v.cvss.values().find_map(|c| c.v3_score),
                text: format!(
                    "Package: {}\nInstalled Version: {}\nVulnerability {}\nSeverity: {}{kev}\nStatus: {}\nFixed Version: {fixed}\nLink: {}{extra}",
                    v.pkg_name, v.installed_version, v.vulnerability_id, v.severity.as_str(),
                    v.status.as_str(), v.primary_url
                ),
                start_line: 1,
                end_line: 1,
                properties,
            });
        }
        for m in r.failed_misconfigs() {
            let msg = if m.message.is_empty() {
                &m.title
            } else {
                &m.message
            };
            found.push(Finding {
                id: &m.id,
                kind: "misconfiguration",
                title: &m.title,
                description: &m.description,
                url: &m.primary_url,
                severity: m.severity,
                cvss_score: None,
                text: format!(
                    "Artifact: {}\nType: {}\nVulnerability {}\nSeverity: {}\nMessage: {msg}\nLink: [{}]({})",
                    r.target, m.kind, m.id, m.severity.as_str(), m.id, m.primary_url
                ),
                start_line: m.cause_metadata.start_line,
                end_line: m.cause_metadata.end_line,
                properties: Map::new(),
            });
        }
        for s in &r.secrets {
            found.push(Finding {
                id: &s.rule_id,
                kind: "secret",
                title: &s.title,
                description: &s.title,
                url: "",
                severity: s.severity,
                cvss_score: None,
                text: format!(
                    "Artifact: {}\nType: {}\nSecret {}\nSeverity: {}\nMatch: {}",
                    r.target,
                    s.category,
                    s.title,
                    s.severity.as_str(),
                    s.match_line
                ),
                start_line: s.start_line,
                end_line: s.end_line,
                properties: Map::new(),
            });
        }
        for f in &found {
            let i = rules.get(f.id, || f.rule());
            results.push(f.result(i, &target_uri));
        }
    }
    let mut run = json!({
        "tool": { "driver": {
            "name": "customs",
            "fullName": "customs container image security scanner",
            "version": tool_version,
            "rules": rules.list,
        }},
        "results": results,
        "columnKind": "utf16CodeUnits",
        "originalUriBaseIds": { "ROOTPATH": { "uri": root_uri } },
    });
    let mut props = Map::new();
    props.insert("artifactName".into(), json!(report.artifact_name));
    props.insert("artifactType".into(), json!(report.artifact_type));
    if !report.metadata.image_id.is_empty() {
        props.insert("imageID".into(), json!(report.metadata.image_id));
    }
    if let Some(os) = &report.metadata.os {
        props.insert("osFamily".into(), json!(os.family));
        props.insert("osVersion".into(), json!(os.name));
    }
    if let Value::Object(o) = &mut run {
        o.insert("properties".into(), Value::Object(props));
    }
    let log = json!({ "version": "2.1.0", "$schema": SCHEMA, "runs": [run] });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|e| {
        // Serializing serde_json values cannot fail; keep a valid document anyway.
        format!("{{\"error\": \"{e}\"}}")
    });
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DetectedVulnerability, ScanResult, SecretFinding};

    fn report() -> Report {
        let mut os = ScanResult::new("img (alpine 3.10.4)", class::OS_PKGS, "alpine");
        let mut other = ScanResult::new("img (photon 5.0)", class::OS_PKGS, "photon");
        other.vulnerabilities.push(DetectedVulnerability {
            vulnerability_id: "CVE-3".into(),
            pkg_name: "zlib".into(),
            severity: Severity::Medium,
            ..Default::default()
        });
        for (id, sev) in [
            ("CVE-1", Severity::High),
            ("CVE-2", Severity::Low),
            ("CVE-1", Severity::High),
        ] {
            os.vulnerabilities.push(DetectedVulnerability {
                vulnerability_id: id.into(),
                pkg_name: "musl".into(),
                installed_version: "1.1.15-r4".into(),
                severity: sev,
                ..Default::default()
            });
        }
        let mut sec = ScanResult::new("/app/.env", class::SECRET, "");
        sec.secrets.push(SecretFinding {
            rule_id: "aws-access-key-id".into(),
            category: "AWS".into(),
            severity: Severity::Critical,
            title: "AWS Access Key ID".into(),
            start_line: 3,
            end_line: 3,
            match_line: "AWS_ACCESS_KEY_ID=****".into(),
            ..Default::default()
        });
        Report {
            schema_version: 2,
            artifact_name: "my image.tar".into(),
            artifact_type: "container_image".into(),
            results: vec![os, sec, other],
            ..Default::default()
        }
    }

    #[test]
    fn rules_are_deduplicated_and_results_point_at_them() {
        let v: Value =
            serde_json::from_str(&to_sarif(&report(), "0.1.0", "file:///")).unwrap_or_default();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
        assert_eq!(ids, ["CVE-1", "CVE-2", "aws-access-key-id", "CVE-3"]);
        let results = run["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(results.len(), 5);
        for r in &results {
            let i = r["ruleIndex"].as_u64().unwrap_or(99) as usize;
            assert_eq!(rules[i]["id"], r["ruleId"]);
        }
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[1]["level"], "note");
        assert_eq!(rules[0]["properties"]["security-severity"], "8.0");
        // OS findings point at the package database (or, when its place is
        // unknown, the artifact, URI-encoded); secrets at the file and line.
        let loc = |k: usize| results[k]["locations"][0]["physicalLocation"].clone();
        assert_eq!(loc(0)["artifactLocation"]["uri"], "lib/apk/db/installed");
        assert_eq!(loc(4)["artifactLocation"]["uri"], "my%20image.tar");
        assert_eq!(results[4]["level"], "warning");
        assert_eq!(loc(3)["artifactLocation"]["uri"], "app/.env");
        assert_eq!(loc(3)["region"]["startLine"], 3);
        assert!(results[3]["message"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("AWS_ACCESS_KEY_ID=****"));
    }

    #[test]
    fn kev_and_epss_are_result_properties() {
        let mut r = report();
        r.results[0].vulnerabilities[0].known_exploited = Some(crate::model::KnownExploited {
            cve_id: "CVE-1".into(),
            date_added: "2024-01-02".into(),
            known_ransomware_campaign_use: "Unknown".into(),
            ..Default::default()
        });
        r.results[0].vulnerabilities[0].epss = Some(crate::model::Epss {
            cve_id: "CVE-1".into(),
            score: 0.5,
            percentile: 0.9,
            ..Default::default()
        });
        let v: Value = serde_json::from_str(&to_sarif(&r, "0.1.0", "file:///")).unwrap_or_default();
        let res = &v["runs"][0]["results"];
        assert_eq!(
            res[0]["properties"]["knownExploited"]["DateAdded"],
            "2024-01-02"
        );
        assert_eq!(res[0]["properties"]["epss"]["Score"], 0.5);
        let text = res[0]["message"]["text"].as_str().unwrap_or("");
        assert!(text.contains("Severity: HIGH (KEV)"), "{text}");
        assert!(
            text.contains("Known exploited: in CISA KEV since 2024-01-02"),
            "{text}"
        );
        assert!(text.contains("EPSS: 50.00% (p90)"), "{text}");
        // Findings without them have no properties.
        assert!(res[1].get("properties").is_none());
    }

    #[test]
    fn an_empty_report_is_a_valid_log_with_no_results() {
        let v: Value = serde_json::from_str(&to_sarif(
            &Report::default(),
            "0.1.0",
            &root_uri(Some("/work")),
        ))
        .unwrap_or_default();
        assert_eq!(v["runs"][0]["results"], json!([]));
        assert_eq!(v["runs"][0]["tool"]["driver"]["name"], "customs");
        assert_eq!(
            v["runs"][0]["originalUriBaseIds"]["ROOTPATH"]["uri"],
            "file:///work/"
        );
    }
}
