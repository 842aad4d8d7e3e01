//! Output types. The findings ([`Misconfiguration`], [`CauseMetadata`],
//! [`Code`], [`Line`], [`MisconfSummary`]) are the report's own types
//! (`customs_model::finding`); a [`FileResult`] has the fields of a report
//! result of class `config`, which it becomes as it is.

use serde::{Deserialize, Serialize};

pub use customs_model::finding::{CauseMetadata, Code, Line, MisconfSummary, Misconfiguration};

use crate::registry::{CheckInfo, Scanner};

/// Whether a check passed or failed on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CheckStatus {
    #[serde(rename = "PASS")]
    Pass,
    #[serde(rename = "FAIL")]
    Fail,
}

impl CheckStatus {
    /// The string the report holds in `Misconfiguration::status`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => customs_model::finding::PASS,
            CheckStatus::Fail => customs_model::finding::FAIL,
        }
    }
}

/// A result of `info` with everything but message, status and location.
pub(crate) fn from_info(
    info: &CheckInfo,
    status: CheckStatus,
    message: String,
) -> Misconfiguration {
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
        status: status.as_str().to_string(),
        layer: Default::default(),
        cause_metadata: CauseMetadata {
            provider: info.scanner.provider().to_string(),
            service: "general".to_string(),
            code: Some(Code::default()),
            ..Default::default()
        },
    }
}

/// A count as the summary holds it.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
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
            let fa = a.is_failure();
            let fb = b.is_failure();
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
        let failures = items.iter().filter(|m| m.is_failure()).count();
        FileResult {
            target: target.to_string(),
            class: "config".to_string(),
            kind: scanner.as_str().to_string(),
            misconf_summary: MisconfSummary {
                successes: count(items.len() - failures),
                failures: count(failures),
            },
            misconfigurations: items,
        }
    }

    /// The failed checks only.
    pub fn failures(&self) -> impl Iterator<Item = &Misconfiguration> {
        self.misconfigurations.iter().filter(|m| m.is_failure())
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
            .any(|m| m.id == id && m.status == CheckStatus::Pass.as_str())
    }
}
