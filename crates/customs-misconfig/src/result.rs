//! Output types. They serialize with the field names of Trivy's JSON report
//! (`Results[].Misconfigurations[]`, `MisconfSummary`, `CauseMetadata`), so a
//! [`FileResult`] can be written into a report as it is.

use customs_model::Severity;
use serde::{Deserialize, Serialize};

use crate::registry::{CheckInfo, Scanner};

/// Whether a check passed or failed on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CheckStatus {
    #[serde(rename = "PASS")]
    Pass,
    #[serde(rename = "FAIL")]
    Fail,
}

/// One line of the code excerpt of a finding (Trivy's `types.Line`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeLine {
    pub number: usize,
    pub content: String,
    pub is_cause: bool,
    pub annotation: String,
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub highlighted: String,
    pub first_cause: bool,
    pub last_cause: bool,
}

/// The code excerpt of a finding (Trivy's `types.Code`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    pub lines: Vec<CodeLine>,
}

/// Where a finding is (Trivy's `types.CauseMetadata`). Line numbers are 1-based;
/// 0 means "the whole file" (e.g. a missing instruction).
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
    pub code: Code,
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

/// One check evaluated on one target (Trivy's `DetectedMisconfiguration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Misconfiguration {
    /// `dockerfile`, `image-config` or `hardening`.
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "AVDID")]
    pub avd_id: String,
    pub title: String,
    pub description: String,
    pub message: String,
    pub namespace: String,
    pub query: String,
    pub resolution: String,
    pub severity: Severity,
    #[serde(rename = "PrimaryURL")]
    pub primary_url: String,
    pub references: Vec<String>,
    pub status: CheckStatus,
    pub cause_metadata: CauseMetadata,
}

impl Misconfiguration {
    /// A result of `info` with everything but message, status and location.
    pub(crate) fn from_info(info: &CheckInfo, status: CheckStatus, message: String) -> Self {
        Misconfiguration {
            kind: info.scanner.as_str().to_string(),
            id: info.id.to_string(),
            avd_id: info.avd_id(),
            title: info.title.to_string(),
            description: info.description.to_string(),
            message,
            namespace: info.namespace(),
            query: format!("data.{}.deny", info.namespace()),
            resolution: info.resolution.to_string(),
            severity: info.severity,
            primary_url: info.primary_url(),
            references: info.references().into_iter().collect(),
            status,
            cause_metadata: CauseMetadata {
                provider: info.scanner.provider().to_string(),
                service: "general".to_string(),
                ..Default::default()
            },
        }
    }
}

/// Counts of passed and failed checks (Trivy's `MisconfSummary`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MisconfSummary {
    pub successes: usize,
    pub failures: usize,
}

/// The checks of one scanner on one target (a Trivy `Result` of class `config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FileResult {
    pub target: String,
    pub class: String,
    /// `dockerfile`, `image-config` or `hardening`.
    #[serde(rename = "Type")]
    pub kind: String,
    pub misconf_summary: MisconfSummary,
    /// Every evaluated check: failures first (by severity, then ID, then line),
    /// then passes (by ID).
    pub misconfigurations: Vec<Misconfiguration>,
}

impl FileResult {
    pub(crate) fn new(target: &str, scanner: Scanner, mut items: Vec<Misconfiguration>) -> Self {
        items.sort_by(|a, b| {
            let fa = a.status == CheckStatus::Fail;
            let fb = b.status == CheckStatus::Fail;
            fb.cmp(&fa)
                .then_with(|| b.severity.cmp(&a.severity))
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| {
                    a.cause_metadata
                        .start_line
                        .cmp(&b.cause_metadata.start_line)
                })
                .then_with(|| a.message.cmp(&b.message))
        });
        let failures = items
            .iter()
            .filter(|m| m.status == CheckStatus::Fail)
            .count();
        FileResult {
            target: target.to_string(),
            class: "config".to_string(),
            kind: scanner.as_str().to_string(),
            misconf_summary: MisconfSummary {
                successes: items.len() - failures,
                failures,
            },
            misconfigurations: items,
        }
    }

    /// The failed checks only.
    pub fn failures(&self) -> impl Iterator<Item = &Misconfiguration> {
        self.misconfigurations
            .iter()
            .filter(|m| m.status == CheckStatus::Fail)
    }

    /// IDs of the failed checks, sorted and deduplicated (handy in tests).
    pub fn failed_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.failures().map(|m| m.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Whether the check `id` failed on this target.
    pub fn failed(&self, id: &str) -> bool {
        self.failures().any(|m| m.id == id)
    }

    /// Whether the check `id` was evaluated and passed.
    pub fn passed(&self, id: &str) -> bool {
        self.misconfigurations
            .iter()
            .any(|m| m.id == id && m.status == CheckStatus::Pass)
    }
}
