//! The findings of the secret and misconfiguration scanners, as the report
//! holds them: each type is defined once, here, and produced by its scanner
//! (`customs-secret`, `customs-misconfig`), stored by `customs-report` and
//! filtered by the policy as it is.
//!
//! Field names and skip rules are those of the report (Trivy's JSON
//! `SecretFinding`, `DetectedMisconfiguration`, `CauseMetadata`, `Code`,
//! `Line`, `MisconfSummary`): empty optional strings and zero line numbers
//! are left out.

use crate::{LayerRef, Severity};
use serde::{Deserialize, Serialize};

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One line of the code quoted by a finding (Trivy's `types.Line`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Line {
    /// 1-based line number in the file.
    pub number: usize,
    /// The line, with every secret masked; long lines are cut around the
    /// secret (`truncated`).
    pub content: String,
    /// True for the lines that hold the finding.
    #[serde(default)]
    pub is_cause: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub annotation: String,
    #[serde(default)]
    pub truncated: bool,
    /// Same text as `content` (renderers add their own highlighting), or empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub highlighted: String,
    #[serde(default)]
    pub first_cause: bool,
    #[serde(default)]
    pub last_cause: bool,
}

/// Lines of context around a finding (Trivy's `types.Code`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    #[serde(default)]
    pub lines: Vec<Line>,
}

/// One secret found in a file. The secret itself never leaves the scanner:
/// `match_line` and every code line carry it masked with `*`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretFinding {
    #[serde(rename = "RuleID")]
    pub rule_id: String,
    pub category: String,
    pub severity: Severity,
    pub title: String,
    /// First line of the secret, 1-based.
    pub start_line: usize,
    /// Last line of the secret, 1-based.
    pub end_line: usize,
    #[serde(default)]
    pub code: Code,
    /// The (first) line holding the secret, masked and trimmed.
    #[serde(rename = "Match")]
    pub match_line: String,
    /// Set by the image walker: the layer that brought the file.
    #[serde(default, skip_serializing_if = "LayerRef::is_empty")]
    pub layer: LayerRef,
    /// Byte offset of the secret in the file. Not serialized: the report
    /// has never carried it (and the layer cache does not need it).
    #[serde(skip)]
    pub offset: u64,
    /// Why a generic rule fired (customs' field; Trivy has none): the
    /// keyword the value was assigned to and the value's entropy. Absent
    /// for rules that match a token format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<SecretReason>,
}

/// The evidence of a generic secret rule: what to write an allow rule on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretReason {
    /// The key the value is assigned to, as written (`DB_PASSWORD`,
    /// `api_key`); for a URI, its user (`user` of `scheme://user:…@host`).
    pub keyword: String,
    /// Shannon entropy of the value, in bits per byte, to two decimals.
    pub entropy: f64,
    /// The entropy its length needed to count as a credential (assignment
    /// rules; a URI password is judged by other signs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy_needed: Option<f64>,
}

// Entropies are finite numbers (never NaN), so equality is total.
impl Eq for SecretReason {}

/// Where a misconfiguration is (Trivy's `types.CauseMetadata`). Line numbers
/// are 1-based; 0 means "the whole file" (e.g. a missing instruction).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CauseMetadata {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub service: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_line: usize,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub end_line: usize,
    /// The scanners always set it (empty for a finding without lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Code>,
}

/// `Misconfiguration::status` of a check that passed.
pub const PASS: &str = "PASS";
/// `Misconfiguration::status` of a check that failed.
pub const FAIL: &str = "FAIL";

/// One check evaluated on one target (Trivy's `DetectedMisconfiguration`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Misconfiguration {
    /// `dockerfile`, `image-config` or `hardening`.
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "AVDID", default, skip_serializing_if = "String::is_empty")]
    pub avd_id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resolution: String,
    pub severity: Severity,
    #[serde(
        rename = "PrimaryURL",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub primary_url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// [`PASS`] or [`FAIL`].
    pub status: String,
    #[serde(default, skip_serializing_if = "LayerRef::is_empty")]
    pub layer: LayerRef,
    #[serde(default)]
    pub cause_metadata: CauseMetadata,
}

impl Misconfiguration {
    /// Whether the check failed (`status` is [`FAIL`]).
    pub fn is_failure(&self) -> bool {
        self.status == FAIL
    }
}

/// Counts of passed and failed checks (Trivy's `MisconfSummary`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MisconfSummary {
    pub successes: u32,
    pub failures: u32,
}
