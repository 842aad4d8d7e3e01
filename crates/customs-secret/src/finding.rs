//! Findings, serialized with Trivy's JSON field names (as the report writes them).

use serde::{Deserialize, Serialize};

/// The finding types are the report's (`customs_model::finding`): the
/// scanner produces what the report holds.
pub use customs_model::finding::{Code, Line, SecretFinding};

fn is_zero(v: &u64) -> bool {
    *v == 0
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
