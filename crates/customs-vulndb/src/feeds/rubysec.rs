//! RubySec's ruby-advisory-db (`gems/NAME/*.yml`).

use customs_model::{Affected, Status};
use serde::Deserialize;

use super::{from_yaml, Source};
use crate::record::{severity_from_cvss, AdvisoryRecord, Cvss, FeedOutput, VulnRecord};

#[derive(Deserialize)]
struct Advisory {
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    gem: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    cve: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    ghsa: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    osvdb: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "super::opt_number")]
    cvss_v2: Option<f64>,
    #[serde(default, deserialize_with = "super::opt_number")]
    cvss_v3: Option<f64>,
    #[serde(default, deserialize_with = "super::opt_number")]
    cvss_v4: Option<f64>,
    #[serde(default, deserialize_with = "super::scalar_vec")]
    patched_versions: Vec<String>,
    #[serde(default, deserialize_with = "super::scalar_vec")]
    unaffected_versions: Vec<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    date: Option<String>,
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    url: Option<String>,
    #[serde(default)]
    related: Option<Related>,
}

#[derive(Deserialize)]
struct Related {
    #[serde(default, deserialize_with = "super::scalar_vec")]
    url: Vec<String>,
}

fn prefixed(prefix: &str, v: &Option<String>) -> Option<String> {
    let v = v.as_deref()?.trim();
    if v.is_empty() {
        return None;
    }
    Some(if v.to_ascii_uppercase().starts_with(prefix) {
        v.to_string()
    } else {
        format!("{prefix}{v}")
    })
}

pub fn parse(file: &str, bytes: &[u8]) -> FeedOutput {
    let mut out = FeedOutput {
        records: 1,
        ..Default::default()
    };
    let a: Advisory = match from_yaml(bytes) {
        Ok(a) => a,
        Err(e) => {
            out.skip(file, "", format!("not a RubySec advisory: {e}"));
            return out;
        }
    };
    let Some(gem) = a.gem.as_deref().map(str::trim).filter(|g| !g.is_empty()) else {
        out.skip(file, "", "no gem name");
        return out;
    };
    let cve = prefixed("CVE-", &a.cve);
    let ghsa = prefixed("GHSA-", &a.ghsa);
    let osvdb = prefixed("OSVDB-", &a.osvdb);
    let mut ids = [cve, ghsa, osvdb].into_iter().flatten();
    let Some(id) = ids.next() else {
        out.skip(file, gem, "no cve, ghsa or osvdb id");
        return out;
    };
    let aliases: Vec<String> = ids.collect();
    let src = Source::Rubysec.id();
    let mut cvss = Vec::new();
    for (version, score) in [("2.0", a.cvss_v2), ("3", a.cvss_v3), ("4.0", a.cvss_v4)] {
        if let Some(score) = score {
            cvss.push(Cvss {
                source: src.to_string(),
                version: version.to_string(),
                vector: String::new(),
                score: Some(score),
            });
        }
    }
    let severity = severity_from_cvss(&cvss);
    let affected = Affected {
        patched: a
            .patched_versions
            .iter()
            .map(|s| s.trim().to_string())
            .collect(),
        unaffected: a
            .unaffected_versions
            .iter()
            .map(|s| s.trim().to_string())
            .collect(),
        ..Default::default()
    };
    let status = if affected.patched.is_empty() {
        Status::Affected
    } else {
        Status::Fixed
    };
    let mut references: Vec<String> = a.url.into_iter().collect();
    for u in a.related.map(|r| r.url).unwrap_or_default() {
        if !references.contains(&u) {
            references.push(u);
        }
    }
    out.vulns.push(VulnRecord {
        id: id.clone(),
        aliases,
        title: a.title,
        description: a.description,
        severity,
        cvss,
        cwe_ids: Vec::new(),
        references,
        published: a.date,
        modified: None,
    });
    out.advisories.push(AdvisoryRecord {
        ecosystem: "RubyGems".into(),
        package: gem.to_string(),
        vulnerability_id: id.clone(),
        source_id: id,
        status,
        severity,
        affected,
        informational: None,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use customs_model::Severity;

    #[test]
    fn advisory() {
        let y = "---\ngem: resque\ncve: 2023-50725\nghsa: gc3j-vvwf-4rp8\nurl: https://x.invalid/a\ntitle: XSS\ndate: 2023-12-18\ndescription: |\n  Impact.\ncvss_v3: 6.3\npatched_versions:\n  - \">= 2.2.1\"\nunaffected_versions:\n  - \"< 1.0\"\nrelated:\n  url:\n    - https://x.invalid/b\n";
        let out = parse("gems/resque/CVE-2023-50725.yml", y.as_bytes());
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let a = &out.advisories[0];
        assert_eq!(a.vulnerability_id, "CVE-2023-50725");
        assert_eq!(a.affected.patched, vec![">= 2.2.1"]);
        assert_eq!(a.severity, Some(Severity::Medium));
        let v = &out.vulns[0];
        assert_eq!(v.aliases, vec!["GHSA-gc3j-vvwf-4rp8"]);
        assert_eq!(v.published.as_deref(), Some("2023-12-18"));
        assert_eq!(v.references.len(), 2);
    }

    #[test]
    fn osvdb_only() {
        let y = "gem: json\nosvdb: 101157\ntitle: t\npatched_versions:\n  - \"~> 1.5.5\"\n";
        let out = parse("x.yml", y.as_bytes());
        assert_eq!(out.advisories[0].vulnerability_id, "OSVDB-101157");
        let out = parse("x.yml", b"title: no gem\n");
        assert_eq!(out.skipped.len(), 1);
    }
}
