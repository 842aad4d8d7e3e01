//! What a feed parser produces: one source's view of vulnerabilities and the
//! per-package advisories, before they are merged into the database.

use customs_model::{Affected, Severity, Status};
use serde::{Deserialize, Serialize};

/// One CVSS vector (and score when known) with the source that published it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// The data source id (`nvd`, `go-vulndb`, `rubysec`...).
    pub source: String,
    /// `2.0`, `3.0`, `3.1`, `4.0`, or the major version alone when only a
    /// score was published (RubySec `cvss_v3: 7.5` gives `3`).
    pub version: String,
    /// The vector string; empty when the source published only a score.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub vector: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// One source's description of a vulnerability.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VulnRecord {
    pub id: String,
    pub aliases: Vec<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Severity as this source rates it.
    pub severity: Option<Severity>,
    pub cvss: Vec<Cvss>,
    pub cwe_ids: Vec<String>,
    pub references: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
}

/// One source's statement about one package of one ecosystem.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisoryRecord {
    /// `alpine:3.10`, `debian:12`, `PyPI`, `Go`, `crates.io`...
    pub ecosystem: String,
    /// Normalized package name (source package for distributions).
    pub package: String,
    /// The vulnerability the advisory is about (CVE id when there is one).
    pub vulnerability_id: String,
    /// The id of the record in its source (`DSA-5380-1`, `GO-2024-3228`).
    pub source_id: String,
    pub status: Status,
    pub severity: Option<Severity>,
    pub affected: Affected,
    /// RustSec `informational` (`unmaintained`, `unsound`, `notice`).
    pub informational: Option<String>,
}

/// A record that could not be read and was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub file: String,
    /// The record inside the file (an id, a package name, a line number),
    /// empty when the whole file could not be read.
    pub record: String,
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.record.is_empty() {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{} ({}): {}", self.file, self.record, self.reason)
        }
    }
}

/// Everything one feed file gave.
#[derive(Debug, Clone, Default)]
pub struct FeedOutput {
    /// Records read (advisory files, DSA entries, secdb packages, CVE items),
    /// including the withdrawn and skipped ones.
    pub records: usize,
    /// Withdrawn records, dropped.
    pub withdrawn: usize,
    pub vulns: Vec<VulnRecord>,
    pub advisories: Vec<AdvisoryRecord>,
    pub skipped: Vec<Skipped>,
}

impl FeedOutput {
    pub(crate) fn skip(&mut self, file: &str, record: &str, reason: impl Into<String>) {
        let s = Skipped {
            file: file.to_string(),
            record: record.to_string(),
            reason: reason.into(),
        };
        tracing::warn!("skipping malformed record: {s}");
        self.skipped.push(s);
    }

    pub(crate) fn extend(&mut self, other: FeedOutput) {
        self.records += other.records;
        self.withdrawn += other.withdrawn;
        self.vulns.extend(other.vulns);
        self.advisories.extend(other.advisories);
        self.skipped.extend(other.skipped);
    }
}

/// The ids an advisory is reported under: its CVE aliases when it has any
/// (as Trivy reports them), otherwise its own id.
pub(crate) fn preferred_ids(id: &str, aliases: &[String]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    if id.starts_with("CVE-") {
        ids.push(id.to_string());
    }
    for a in aliases {
        if a.starts_with("CVE-") && !ids.contains(a) {
            ids.push(a.clone());
        }
    }
    if ids.is_empty() {
        ids.push(id.to_string());
    }
    ids
}

/// The other names of `id` among `record_id` and `aliases`.
pub(crate) fn aliases_of(id: &str, record_id: &str, aliases: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for a in std::iter::once(record_id).chain(aliases.iter().map(String::as_str)) {
        if a != id && !a.is_empty() && !out.iter().any(|o: &String| o == a) {
            out.push(a.to_string());
        }
    }
    out
}

/// Score and version of a CVSS vector (`CVSS:3.1/...`, `CVSS:4.0/...`, or a
/// bare v2 vector); `None` score when the vector does not parse.
pub fn cvss_from_vector(source: &str, vector: &str) -> Cvss {
    let vector = vector.trim();
    let version = if let Some(rest) = vector.strip_prefix("CVSS:") {
        rest.split('/').next().unwrap_or_default().to_string()
    } else {
        "2.0".to_string()
    };
    let score = score_vector(vector);
    Cvss {
        source: source.to_string(),
        version,
        vector: vector.to_string(),
        score,
    }
}

fn score_vector(vector: &str) -> Option<f64> {
    if vector.starts_with("CVSS:3") {
        let b: cvss::v3::Vector = vector.parse().ok()?;
        Some(b.score().value())
    } else if vector.starts_with("CVSS:4") {
        let v: cvss::v4::Vector = vector.parse().ok()?;
        Some(v.score().value())
    } else {
        None
    }
}

/// The severity implied by a set of CVSS entries: the newest version with a
/// score wins (v4, then v3, then v2).
pub(crate) fn severity_from_cvss(cvss: &[Cvss]) -> Option<Severity> {
    let mut best: Option<(u8, f64)> = None;
    for c in cvss {
        let Some(score) = c.score else { continue };
        let major = c
            .version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u8>().ok())
            .unwrap_or(0);
        if best.is_none_or(|(m, _)| major > m) {
            best = Some((major, score));
        }
    }
    let (major, score) = best?;
    if major == 2 {
        // CVSS v2 has no "critical" band.
        Some(if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Unknown
        })
    } else {
        Some(Severity::from_cvss_score(score))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_prefer_cves() {
        let a = vec!["GHSA-x".to_string(), "CVE-2024-1".to_string()];
        assert_eq!(preferred_ids("GO-2024-1", &a), vec!["CVE-2024-1"]);
        assert_eq!(preferred_ids("GO-2024-1", &[]), vec!["GO-2024-1"]);
        assert_eq!(
            aliases_of("CVE-2024-1", "GO-2024-1", &a),
            vec!["GO-2024-1", "GHSA-x"]
        );
    }

    #[test]
    fn cvss_scores() {
        let c = cvss_from_vector("x", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        assert_eq!(c.version, "3.1");
        assert_eq!(c.score, Some(9.8));
        assert_eq!(severity_from_cvss(&[c]), Some(Severity::Critical));
        let c = cvss_from_vector(
            "x",
            "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N",
        );
        assert_eq!(c.version, "4.0");
        assert!(c.score.is_some());
        let bad = cvss_from_vector("x", "CVSS:3.1/garbage");
        assert_eq!(bad.score, None);
        assert_eq!(severity_from_cvss(&[bad]), None);
    }
}
