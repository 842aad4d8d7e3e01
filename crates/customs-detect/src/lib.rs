//! Vulnerability detection and the CI-gate policy of customs.
//!
//! - [`detect_os`] / [`detect_lang`] match an inventory against the
//!   database ([`customs_vulndb::VulnDb`]) and return Trivy-shaped
//!   [`DetectedVulnerability`](customs_report::DetectedVulnerability)s.
//! - [`apply`] filters a finished [`Report`](customs_report::Report) by
//!   severity, status, package type and ignore files; [`exit_code`] turns it
//!   into the process exit code.
//!
//! ```no_run
//! use customs_detect::{apply, detect_os, exit_code, ExitCodes, IgnoreRules, Policy};
//! use customs_model::{OsInfo, Package};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = customs_vulndb::VulnDb::open(std::path::Path::new("customs.db"))?;
//! let os = OsInfo { family: "alpine".into(), name: "3.10.4".into(), eosl: true };
//! let packages: Vec<Package> = Vec::new(); // from customs-ospkg
//! let vulns = detect_os(&db, &os, &packages)?;
//! let mut report = customs_report::Report::default();
//! // ... put `vulns` into a ScanResult of the report ...
//! let policy = Policy {
//!     ignores: vec![IgnoreRules::load(std::path::Path::new(".trivyignore"))?],
//!     ..Policy::default()
//! };
//! let outcome = apply(&mut report, &policy);
//! let codes = ExitCodes { findings: 1, eol: 2, ..ExitCodes::default() };
//! std::process::exit(exit_code(&report, &codes));
//! # }
//! ```
//!
//! Rules and formats: docs/vulnerability-scanning.md.

mod date;
mod detect;
mod ignore;
mod policy;
pub mod vex;

pub use date::Date;
pub use detect::{detect_lang, detect_os, DetectError};
pub use ignore::{IgnoreError, IgnoreRule, IgnoreRules, RuleKind, Subject};
pub use policy::{
    apply, cvss_score, exit_code, finding_count, sort_vulnerabilities, ExitCodes, ExpiredRule,
    Outcome, PkgTypes, Policy, SortBy, EXIT_ERROR, EXIT_USAGE,
};
