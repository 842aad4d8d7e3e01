//! The report: one typed model that every scanner fills and every renderer
//! reads. Field names are Trivy's (JSON SchemaVersion 2), so tools that read
//! Trivy's JSON read ours.

use customs_model::{LayerRef, OsInfo, Package, PkgIdentifier, Severity, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The scanners' findings, held as they are produced (one definition each,
/// in `customs_model::finding`).
pub use customs_model::finding::{
    CauseMetadata, Code, Line, MisconfSummary, Misconfiguration, SecretFinding,
};

pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Report {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    pub artifact_name: String,
    /// `container_image` or `filesystem` (Trivy's names).
    pub artifact_type: String,
    pub metadata: Metadata,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<ScanResult>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metadata {
    #[serde(rename = "OS", default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
    #[serde(rename = "ImageID", default, skip_serializing_if = "String::is_empty")]
    pub image_id: String,
    #[serde(rename = "DiffIDs", default, skip_serializing_if = "Vec::is_empty")]
    pub diff_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerMetadata>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerMetadata {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    #[serde(rename = "DiffID")]
    pub diff_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
}

/// Trivy's result classes.
pub mod class {
    pub const OS_PKGS: &str = "os-pkgs";
    pub const LANG_PKGS: &str = "lang-pkgs";
    pub const SECRET: &str = "secret";
    pub const CONFIG: &str = "config";
}

/// The `Type` of the result that holds the hardening checks' findings (a
/// `config` result, as `customs_misconfig::Scanner::Hardening` names it).
pub const HARDENING_TYPE: &str = "hardening";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScanResult {
    pub target: String,
    pub class: String,
    #[serde(rename = "Type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<DetectedVulnerability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misconf_summary: Option<MisconfSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub misconfigurations: Vec<Misconfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretFinding>,
    /// customs only (Trivy has no such field): secret matches of this file
    /// beyond the scanner's limits (100 per rule, 1,000 per file), counted
    /// but not listed under `Secrets`. Absent when none were dropped.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub secrets_dropped: u64,
    /// Findings hidden by ignore rules, shown with `--show-suppressed`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modified_findings: Vec<ModifiedFinding>,
    /// customs only: set when the database holds no advisories for this
    /// result's OS release or language ecosystem, so its vulnerabilities
    /// are unknown, not none. Absent when the data was there.
    #[serde(
        rename = "MissingData",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub missing_data: Option<MissingData>,
}

/// Why a result's vulnerabilities are unknown rather than zero: the
/// database has no advisories where this result's packages would be
/// looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MissingData {
    /// The advisory ecosystem looked up (`alpine:3.20`, `debian:13`,
    /// `npm`); empty when customs knows no feed for the OS family at all.
    #[serde(default)]
    pub ecosystem: String,
    /// One line for a person: what is missing and what to do.
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataSource {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    #[serde(rename = "URL", default, skip_serializing_if = "String::is_empty")]
    pub url: String,
}

/// CVSS of one vendor, as Trivy writes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    #[serde(rename = "V2Vector", default, skip_serializing_if = "String::is_empty")]
    pub v2_vector: String,
    #[serde(rename = "V3Vector", default, skip_serializing_if = "String::is_empty")]
    pub v3_vector: String,
    #[serde(
        rename = "V40Vector",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub v40_vector: String,
    #[serde(rename = "V2Score", default, skip_serializing_if = "Option::is_none")]
    pub v2_score: Option<f64>,
    #[serde(rename = "V3Score", default, skip_serializing_if = "Option::is_none")]
    pub v3_score: Option<f64>,
    #[serde(rename = "V40Score", default, skip_serializing_if = "Option::is_none")]
    pub v40_score: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DetectedVulnerability {
    #[serde(rename = "VulnerabilityID")]
    pub vulnerability_id: String,
    #[serde(rename = "VendorIDs", default, skip_serializing_if = "Vec::is_empty")]
    pub vendor_ids: Vec<String>,
    #[serde(rename = "PkgID", default, skip_serializing_if = "String::is_empty")]
    pub pkg_id: String,
    pub pkg_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pkg_path: String,
    #[serde(default)]
    pub pkg_identifier: PkgIdentifier,
    pub installed_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fixed_version: String,
    pub status: Status,
    #[serde(default, skip_serializing_if = "LayerRef::is_empty")]
    pub layer: LayerRef,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub severity_source: String,
    #[serde(
        rename = "PrimaryURL",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub primary_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source: Option<DataSource>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub severity: Severity,
    #[serde(rename = "CweIDs", default, skip_serializing_if = "Vec::is_empty")]
    pub cwe_ids: Vec<String>,
    /// Vendor → severity as Trivy's integers (0 unknown … 4 critical).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vendor_severity: BTreeMap<String, u8>,
    #[serde(rename = "CVSS", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cvss: BTreeMap<String, Cvss>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date: Option<String>,
    /// customs only: the CVE (or one of its aliases) is in CISA's Known
    /// Exploited Vulnerabilities catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_exploited: Option<KnownExploited>,
    /// customs only: FIRST's Exploit Prediction Scoring System score of the
    /// CVE (or of the alias with the highest score).
    #[serde(rename = "EPSS", default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<Epss>,
    /// customs only: a VEX statement that annotates this finding without
    /// suppressing it (`affected`, `under_investigation`).
    #[serde(rename = "VEX", default, skip_serializing_if = "Option::is_none")]
    pub vex: Option<VexAnnotation>,
}

/// One entry of CISA's KEV catalog, as it applies to a finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KnownExploited {
    /// The catalog's `cveID` (may be an alias of the finding's ID).
    #[serde(rename = "CVEID")]
    pub cve_id: String,
    /// `YYYY-MM-DD`, when CISA added it.
    pub date_added: String,
    /// `YYYY-MM-DD`, the remediation due date for US federal agencies.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub due_date: String,
    /// `Known` or `Unknown`, as the catalog says.
    pub known_ransomware_campaign_use: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub required_action: String,
}

/// An EPSS score (the probability of exploitation in the next 30 days).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Epss {
    #[serde(rename = "CVEID")]
    pub cve_id: String,
    /// 0.0 to 1.0.
    pub score: f64,
    /// 0.0 to 1.0: the share of all scored CVEs with a lower score.
    pub percentile: f64,
    /// The date of the scores file (`score_date` of its header).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub date: String,
    /// The model version of its header (`v2025.03.14`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model_version: String,
}

/// A VEX statement that applies to a finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VexAnnotation {
    /// `not_affected`, `affected`, `fixed`, `under_investigation`.
    pub status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub justification: String,
    /// The statement's impact or action text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub statement: String,
    /// The VEX document it came from (file path or `oci:<digest>`).
    pub source: String,
}

/// The order the human views list vulnerabilities in (unless the user
/// chose one with `--sort-by`): most severe first, known-exploited first
/// within a severity, then package and id.
pub fn display_order(a: &DetectedVulnerability, b: &DetectedVulnerability) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| {
            b.known_exploited
                .is_some()
                .cmp(&a.known_exploited.is_some())
        })
        .then_with(|| a.pkg_name.cmp(&b.pkg_name))
        .then_with(|| a.vulnerability_id.cmp(&b.vulnerability_id))
}

/// Trivy's integer for a severity (VendorSeverity values).
pub fn severity_int(s: Severity) -> u8 {
    match s {
        Severity::Unknown => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

/// A finding an ignore rule or VEX statement hid, kept for `--show-suppressed`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifiedFinding {
    #[serde(rename = "Type")]
    pub kind: String,
    pub status: String,
    pub statement: String,
    pub source: String,
    pub finding: serde_json::Value,
}

impl ScanResult {
    pub fn new(target: impl Into<String>, class: &str, kind: impl Into<String>) -> Self {
        ScanResult {
            target: target.into(),
            class: class.to_string(),
            kind: kind.into(),
            ..Default::default()
        }
    }

    /// Counts of vulnerabilities by severity.
    pub fn vuln_counts(&self) -> [usize; 5] {
        let mut c = [0; 5];
        for v in &self.vulnerabilities {
            c[severity_int(v.severity) as usize] += 1;
        }
        c
    }

    pub fn failed_misconfigs(&self) -> impl Iterator<Item = &Misconfiguration> {
        self.misconfigurations.iter().filter(|m| m.is_failure())
    }

    /// Whether this result lists packages (OS or language packages).
    pub fn is_packages(&self) -> bool {
        self.class == class::OS_PKGS || self.class == class::LANG_PKGS
    }

    /// Whether this result holds the hardening checks of the final filesystem.
    pub fn is_hardening(&self) -> bool {
        self.class == class::CONFIG && self.kind == HARDENING_TYPE
    }
}

impl Epss {
    /// `12.34% (p97)`: the score and the percentile, both as percentages.
    pub fn summary(&self) -> String {
        format!(
            "{:.2}% (p{:.0})",
            self.score * 100.0,
            (self.percentile * 100.0).floor()
        )
    }
}

impl VexAnnotation {
    /// `affected: statement (source)`, the parts that are present.
    pub fn summary(&self) -> String {
        let mut s = self.status.clone();
        if !self.justification.is_empty() {
            s.push_str(&format!(" ({})", self.justification));
        }
        if !self.statement.is_empty() {
            s.push_str(&format!(": {}", self.statement));
        }
        if !self.source.is_empty() {
            s.push_str(&format!(" [{}]", self.source));
        }
        s
    }
}

impl KnownExploited {
    /// `in CISA KEV since 2024-01-02 (due 2024-01-23, ransomware: Known)`.
    pub fn summary(&self) -> String {
        let mut s = format!("in CISA KEV since {}", self.date_added);
        let mut extra = Vec::new();
        if !self.due_date.is_empty() {
            extra.push(format!("due {}", self.due_date));
        }
        if self.known_ransomware_campaign_use == "Known" {
            extra.push("used in ransomware campaigns".to_string());
        }
        if !extra.is_empty() {
            s.push_str(&format!(" ({})", extra.join(", ")));
        }
        s
    }
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}
