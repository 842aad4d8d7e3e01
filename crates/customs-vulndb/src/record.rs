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

/// One entry of CISA's Known Exploited Vulnerabilities catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevRecord {
    pub cve_id: String,
    pub vendor_project: String,
    pub product: String,
    pub name: String,
    /// `YYYY-MM-DD`.
    pub date_added: String,
    /// `YYYY-MM-DD`, empty when the entry has none.
    pub due_date: String,
    /// `Known` or `Unknown`.
    pub ransomware: String,
    pub required_action: String,
}

/// The catalog's own header: `catalogVersion` and `dateReleased`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct KevCatalog {
    pub version: String,
    pub released: String,
}

/// One CVE's EPSS score.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpssScore {
    pub cve_id: String,
    pub score: f64,
    pub percentile: f64,
}

/// One EPSS scores file (`epss_scores-YYYY-MM-DD.csv.gz`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpssScores {
    /// `v2025.03.14`, from the header line; empty in the oldest files.
    pub model_version: String,
    /// `YYYY-MM-DD`, from the header line, else from the file name.
    pub score_date: String,
    pub scores: Vec<EpssScore>,
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
    /// KEV catalog entries (the `kev/` feed only).
    pub kev: Vec<KevRecord>,
    pub kev_catalog: Option<KevCatalog>,
    /// EPSS scores (the `epss/` feed only).
    pub epss: Option<EpssScores>,
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
        self.kev.extend(other.kev);
        if other.kev_catalog > self.kev_catalog {
            self.kev_catalog = other.kev_catalog;
        }
        self.epss = newest_epss(self.epss.take(), other.epss);
    }
}

/// Of two EPSS files, the one with the later score date (one day's scores
/// are a whole; files are never mixed).
pub(crate) fn newest_epss(a: Option<EpssScores>, b: Option<EpssScores>) -> Option<EpssScores> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.score_date > a.score_date { b } else { a }),
        (a, b) => a.or(b),
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

/// Does the vector state every base metric of its version? The parser
/// accepts partial vectors and scores the missing metrics as zero, which
/// would invent a score.
fn has_base_metrics(vector: &str, required: &[&str]) -> bool {
    let keys: Vec<&str> = vector
        .split('/')
        .filter_map(|m| m.split_once(':').map(|(k, _)| k))
        .collect();
    required.iter().all(|r| keys.contains(r))
}

fn score_vector(vector: &str) -> Option<f64> {
    const V2: [&str; 6] = ["AV", "AC", "Au", "C", "I", "A"];
    const V3: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
    const V4: [&str; 11] = [
        "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
    ];
    let required: &[&str] = if vector.starts_with("CVSS:3") {
        &V3
    } else if vector.starts_with("CVSS:4") {
        &V4
    } else {
        &V2
    };
    if !has_base_metrics(vector.trim_matches(|c| c == '(' || c == ')'), required) {
        return None;
    }
    if vector.starts_with("CVSS:3") {
        let b: cvss::v3::Vector = vector.parse().ok()?;
        Some(b.score().value())
    } else if vector.starts_with("CVSS:4") {
        let v: cvss::v4::Vector = vector.parse().ok()?;
        Some(v.score().value())
    } else {
        // CVSS v2 has no prefix; some feeds wrap it in parentheses.
        let v2 = vector.trim_start_matches('(').trim_end_matches(')');
        let v: cvss::v2::Vector = v2.parse().ok()?;
        Some(v.score().value())
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

#[cfg(test)]
mod cvss_tests {
    use super::*;

    #[test]
    fn scores_every_version() {
        let v2 = cvss_from_vector("nvd", "AV:N/AC:L/Au:N/C:P/I:P/A:P");
        assert_eq!((v2.version.as_str(), v2.score), ("2.0", Some(7.5)));
        let v2p = cvss_from_vector("nvd", "(AV:N/AC:M/Au:N/C:N/I:P/A:N)");
        assert_eq!(v2p.score, Some(4.3));
        let v31 = cvss_from_vector("nvd", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        assert_eq!((v31.version.as_str(), v31.score), ("3.1", Some(9.8)));
        let v40 = cvss_from_vector(
            "ghsa",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        );
        assert_eq!((v40.version.as_str(), v40.score), ("4.0", Some(9.3)));
        assert_eq!(cvss_from_vector("x", "AV:Q/garbage").score, None);
        assert_eq!(cvss_from_vector("x", "CVSS:3.1/AV:N").score, None);
    }

    #[test]
    fn v2_has_no_critical_band() {
        let c = vec![cvss_from_vector("nvd", "AV:N/AC:L/Au:N/C:C/I:C/A:C")];
        assert_eq!(c[0].score, Some(10.0));
        assert_eq!(severity_from_cvss(&c), Some(Severity::High));
    }
}
