//! Findings, serialized with Trivy's JSON field names.

use customs_model::{LayerRef, Severity};
use serde::{Deserialize, Serialize};

/// One secret found in a file. The secret itself never leaves the scanner:
/// `match_line` and every code line carry it masked with `*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub code: Code,
    /// The (first) line holding the secret, masked and trimmed.
    #[serde(rename = "Match")]
    pub match_line: String,
    /// Set by the image walker: the layer that brought the file.
    #[serde(default, skip_serializing_if = "LayerRef::is_empty")]
    pub layer: LayerRef,
    /// Byte offset of the secret in the file.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub offset: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Lines of context around a finding (Trivy's `Code`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    pub lines: Vec<CodeLine>,
}

/// One line of context (Trivy's `Code.Lines[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeLine {
    pub number: usize,
    /// The line, with every secret masked; long lines are cut around the
    /// secret (`truncated`).
    pub content: String,
    /// True for the lines that hold the secret.
    pub is_cause: bool,
    pub annotation: String,
    pub truncated: bool,
    /// Same text as `content`; renderers add their own highlighting.
    pub highlighted: String,
    pub first_cause: bool,
    pub last_cause: bool,
}

/// What one scan of a file found: the findings reported, at most
/// [`MAX_FINDINGS_PER_RULE`](crate::MAX_FINDINGS_PER_RULE) per rule and
/// [`MAX_FINDINGS_PER_FILE`](crate::MAX_FINDINGS_PER_FILE) in all, and how
/// many more matched but were dropped by those limits.
///
/// It reads like the list of findings (`len`, indexing, `iter`, `for f in
/// &outcome`); `dropped` is the count a report must show beside them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanOutcome {
    /// The first findings in file order that fit the limits.
    pub findings: Vec<SecretFinding>,
    /// Matches that passed every filter but exceeded a limit: counted
    /// exactly, never built (no text is kept for them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
}

impl ScanOutcome {
    /// True when nothing was found at all (reported or dropped).
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.dropped == 0
    }
}

impl std::ops::Deref for ScanOutcome {
    type Target = [SecretFinding];
    fn deref(&self) -> &[SecretFinding] {
        &self.findings
    }
}

impl IntoIterator for ScanOutcome {
    type Item = SecretFinding;
    type IntoIter = std::vec::IntoIter<SecretFinding>;
    fn into_iter(self) -> Self::IntoIter {
        self.findings.into_iter()
    }
}

impl<'a> IntoIterator for &'a ScanOutcome {
    type Item = &'a SecretFinding;
    type IntoIter = std::slice::Iter<'a, SecretFinding>;
    fn into_iter(self) -> Self::IntoIter {
        self.findings.iter()
    }
}
