//! The policy applied to a finished report: severity and status filters,
//! package types, ignore files, and the exit code of the CI gate. Pure
//! functions over [`customs_report::Report`].

use customs_model::{Severity, Status};
use customs_report::{
    class, DetectedVulnerability, MisconfSummary, ModifiedFinding, Report, ScanResult,
};

use crate::date::Date;
use crate::ignore::{IgnoreRule, IgnoreRules, RuleKind, Subject};

/// Exit code for a usage error (bad flag, unreadable ignore file).
pub const EXIT_USAGE: i32 = 2;
/// Exit code for an input or scan error (image unreadable, database missing).
pub const EXIT_ERROR: i32 = 3;

/// Which package types are scanned (`--pkg-types os,library`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PkgTypes {
    pub os: bool,
    pub library: bool,
}

impl Default for PkgTypes {
    fn default() -> Self {
        PkgTypes {
            os: true,
            library: true,
        }
    }
}

impl PkgTypes {
    /// Parse `os`, `library`, `os,library`.
    pub fn parse(s: &str) -> Result<PkgTypes, String> {
        let mut t = PkgTypes {
            os: false,
            library: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "os" => t.os = true,
                "library" => t.library = true,
                other => {
                    return Err(format!(
                        "unknown package type {other:?} (expected os, library)"
                    ))
                }
            }
        }
        if !t.os && !t.library {
            return Err("no package type given (expected os, library)".into());
        }
        Ok(t)
    }
}

/// The order of vulnerabilities within each result (`--sort-by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Package name, path, installed version, id (the detector's order).
    #[default]
    Package,
    /// Severity, highest first.
    Severity,
    /// Known exploited first, then EPSS, then CVSS score, then severity.
    Risk,
    /// EPSS score, highest first (unscored last).
    Epss,
    /// CVSS base score, highest first (unscored last).
    Cvss,
    /// Known exploited first (ransomware use known first, then the most
    /// recently added), then severity.
    Kev,
}

impl SortBy {
    pub const NAMES: [&'static str; 6] = ["package", "severity", "risk", "epss", "cvss", "kev"];

    pub fn parse(s: &str) -> Result<SortBy, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "package" => SortBy::Package,
            "severity" => SortBy::Severity,
            "risk" => SortBy::Risk,
            "epss" => SortBy::Epss,
            "cvss" => SortBy::Cvss,
            "kev" => SortBy::Kev,
            other => {
                return Err(format!(
                    "unknown sort order {other:?} (expected one of {})",
                    SortBy::NAMES.join(", ")
                ))
            }
        })
    }
}

/// The CVSS base score a finding is ranked by: the vendor its severity came
/// from, else NVD, else the highest any vendor gives; within a vendor the
/// newest version scored (v4.0, then v3.x, then v2).
pub fn cvss_score(v: &DetectedVulnerability) -> Option<f64> {
    let of = |c: &customs_report::Cvss| c.v40_score.or(c.v3_score).or(c.v2_score);
    v.cvss
        .get(&v.severity_source)
        .and_then(of)
        .or_else(|| v.cvss.get("nvd").and_then(of))
        .or_else(|| v.cvss.values().filter_map(of).reduce(f64::max))
}

/// Sort `vulns` in the order `by` names; ties keep the package order.
pub fn sort_vulnerabilities(vulns: &mut [DetectedVulnerability], by: SortBy) {
    use std::cmp::Ordering;
    fn desc(a: Option<f64>, b: Option<f64>) -> Ordering {
        // Scored before unscored; higher first.
        match (a, b) {
            (Some(a), Some(b)) => b.total_cmp(&a),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    let sev =
        |v: &DetectedVulnerability| std::cmp::Reverse(customs_report::severity_int(v.severity));
    let kev = |v: &DetectedVulnerability| v.known_exploited.is_none();
    let epss = |v: &DetectedVulnerability| v.epss.as_ref().map(|e| e.score);
    match by {
        SortBy::Package => {}
        SortBy::Severity => vulns.sort_by_key(sev),
        SortBy::Risk => vulns.sort_by(|a, b| {
            kev(a)
                .cmp(&kev(b))
                .then_with(|| desc(epss(a), epss(b)))
                .then_with(|| desc(cvss_score(a), cvss_score(b)))
                .then_with(|| sev(a).cmp(&sev(b)))
        }),
        SortBy::Epss => {
            vulns.sort_by(|a, b| desc(epss(a), epss(b)).then_with(|| sev(a).cmp(&sev(b))))
        }
        SortBy::Cvss => vulns
            .sort_by(|a, b| desc(cvss_score(a), cvss_score(b)).then_with(|| sev(a).cmp(&sev(b)))),
        SortBy::Kev => vulns.sort_by(|a, b| {
            let key = |v: &DetectedVulnerability| {
                v.known_exploited.as_ref().map(|k| {
                    (
                        k.known_ransomware_campaign_use != "Known",
                        std::cmp::Reverse(k.date_added.clone()),
                    )
                })
            };
            match (key(a), key(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
            .then_with(|| sev(a).cmp(&sev(b)))
        }),
    }
}

/// Everything `apply` needs to know.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Severities to keep; empty keeps all.
    pub severities: Vec<Severity>,
    /// Drop vulnerabilities without a fixed version.
    pub ignore_unfixed: bool,
    /// Drop vulnerabilities with these statuses.
    pub ignore_statuses: Vec<Status>,
    pub pkg_types: PkgTypes,
    /// Rules of the ignore file(s); several files are concatenated.
    pub ignores: Vec<IgnoreRules>,
    /// Keep suppressed findings in each result's `ModifiedFindings`.
    pub show_suppressed: bool,
    /// The date expiry is judged against.
    pub today: Date,
    /// Keep only known-exploited vulnerabilities (`--kev`).
    pub kev_only: bool,
    /// Keep only vulnerabilities with an EPSS score at least this (`--min-epss`).
    pub min_epss: Option<f64>,
    /// The order of vulnerabilities in each result (`--sort-by`).
    pub sort_by: SortBy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            severities: Vec::new(),
            ignore_unfixed: false,
            ignore_statuses: Vec::new(),
            pkg_types: PkgTypes::default(),
            ignores: Vec::new(),
            show_suppressed: false,
            today: Date::today(),
            kev_only: false,
            min_epss: None,
            sort_by: SortBy::Package,
        }
    }
}

/// An ignore rule that has expired and no longer suppresses anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredRule {
    pub id: String,
    pub expired_at: Date,
    /// `file:line`.
    pub origin: String,
}

/// What `apply` removed and kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Findings (vulnerabilities, secrets, misconfigurations) removed by
    /// `--severity`.
    pub removed_by_severity: usize,
    /// Vulnerabilities removed by `--ignore-unfixed`.
    pub removed_unfixed: usize,
    /// Vulnerabilities removed by `--ignore-status`.
    pub removed_by_status: usize,
    /// Vulnerabilities removed by `--kev` and `--min-epss`.
    pub removed_by_exploit: usize,
    /// Results (targets) removed by `--pkg-types`.
    pub removed_results: usize,
    /// Findings suppressed by ignore rules.
    pub suppressed: usize,
    /// Expired ignore rules (each also logged as a warning).
    pub expired: Vec<ExpiredRule>,
    /// Findings left: vulnerabilities, secrets and failed misconfigurations.
    pub remaining: usize,
    /// The order the vulnerabilities were put in (renderers keep it unless
    /// it is the default).
    pub sort_by: SortBy,
}

fn sev_ok(policy: &Policy, s: Severity) -> bool {
    policy.severities.is_empty() || policy.severities.contains(&s)
}

/// The active rule that suppresses a subject, with its file.
fn suppressor<'a>(
    active: &'a [(&'a IgnoreRule, &'a str)],
    s: &Subject<'_>,
) -> Option<(&'a IgnoreRule, &'a str)> {
    active.iter().copied().find(|(r, _)| r.matches(s))
}

fn modified(
    kind: &str,
    rule: &IgnoreRule,
    source: &str,
    finding: serde_json::Value,
) -> ModifiedFinding {
    ModifiedFinding {
        kind: kind.to_string(),
        status: "ignored".to_string(),
        statement: rule.statement.clone(),
        source: source.to_string(),
        finding,
    }
}

/// Apply the policy to `report` in place and say what it did. Filters run
/// first; ignore rules then suppress what is left (so a suppressed finding
/// listed under `ModifiedFindings` also passed the filters).
pub fn apply(report: &mut Report, policy: &Policy) -> Outcome {
    let mut out = Outcome::default();
    let mut active: Vec<(&IgnoreRule, &str)> = Vec::new();
    for file in &policy.ignores {
        for rule in &file.rules {
            if rule.is_expired(policy.today) {
                let expired_at = rule.expired_at.unwrap_or(policy.today);
                tracing::warn!(
                    "ignore rule {} ({}) expired on {expired_at}; it no longer suppresses findings",
                    rule.id,
                    rule.origin
                );
                out.expired.push(ExpiredRule {
                    id: rule.id.clone(),
                    expired_at,
                    origin: rule.origin.clone(),
                });
            } else {
                active.push((rule, file.source.as_str()));
            }
        }
    }

    let before = report.results.len();
    report.results.retain(|r| match r.class.as_str() {
        class::OS_PKGS => policy.pkg_types.os,
        class::LANG_PKGS => policy.pkg_types.library,
        _ => true,
    });
    out.removed_results = before - report.results.len();

    for result in &mut report.results {
        apply_result(result, policy, &active, &mut out);
    }
    out.remaining = report.results.iter().map(finding_count).sum();
    out.sort_by = policy.sort_by;
    out
}

fn apply_result(
    result: &mut ScanResult,
    policy: &Policy,
    active: &[(&IgnoreRule, &str)],
    out: &mut Outcome,
) {
    let target = result.target.clone();
    let mut modified_findings = std::mem::take(&mut result.modified_findings);

    let vulns = std::mem::take(&mut result.vulnerabilities);
    for v in vulns {
        if !sev_ok(policy, v.severity) {
            out.removed_by_severity += 1;
            continue;
        }
        if policy.ignore_unfixed && (v.fixed_version.is_empty() || v.status != Status::Fixed) {
            out.removed_unfixed += 1;
            continue;
        }
        if policy.ignore_statuses.contains(&v.status) {
            out.removed_by_status += 1;
            continue;
        }
        let epss_low = policy
            .min_epss
            .is_some_and(|min| v.epss.as_ref().is_none_or(|e| e.score < min));
        if (policy.kev_only && v.known_exploited.is_none()) || epss_low {
            out.removed_by_exploit += 1;
            continue;
        }
        let mut ids = vec![v.vulnerability_id.as_str()];
        ids.extend(v.vendor_ids.iter().map(String::as_str));
        let subject = Subject {
            kind: RuleKind::Vulnerability,
            ids,
            paths: vec![target.as_str(), v.pkg_path.as_str()],
            purl: v.pkg_identifier.purl.as_deref(),
        };
        if let Some((rule, source)) = suppressor(active, &subject) {
            out.suppressed += 1;
            if policy.show_suppressed {
                let value = serde_json::to_value(&v).unwrap_or(serde_json::Value::Null);
                modified_findings.push(modified("vulnerability", rule, source, value));
            }
            continue;
        }
        result.vulnerabilities.push(v);
    }

    sort_vulnerabilities(&mut result.vulnerabilities, policy.sort_by);

    let secrets = std::mem::take(&mut result.secrets);
    for s in secrets {
        if !sev_ok(policy, s.severity) {
            out.removed_by_severity += 1;
            continue;
        }
        let subject = Subject {
            kind: RuleKind::Secret,
            ids: vec![s.rule_id.as_str()],
            paths: vec![target.as_str()],
            purl: None,
        };
        if let Some((rule, source)) = suppressor(active, &subject) {
            out.suppressed += 1;
            if policy.show_suppressed {
                let value = serde_json::to_value(&s).unwrap_or(serde_json::Value::Null);
                modified_findings.push(modified("secret", rule, source, value));
            }
            continue;
        }
        result.secrets.push(s);
    }

    let misconfs = std::mem::take(&mut result.misconfigurations);
    for m in misconfs {
        if !sev_ok(policy, m.severity) {
            if m.status == "FAIL" {
                out.removed_by_severity += 1;
            }
            continue;
        }
        if m.status == "FAIL" {
            let subject = Subject {
                kind: RuleKind::Misconfiguration,
                ids: vec![m.id.as_str(), m.avd_id.as_str()],
                paths: vec![target.as_str()],
                purl: None,
            };
            if let Some((rule, source)) = suppressor(active, &subject) {
                out.suppressed += 1;
                if policy.show_suppressed {
                    let value = serde_json::to_value(&m).unwrap_or(serde_json::Value::Null);
                    modified_findings.push(modified("misconfiguration", rule, source, value));
                }
                continue;
            }
        }
        result.misconfigurations.push(m);
    }
    let failures = result.failed_misconfigs().count() as u32;
    let successes = (result.misconfigurations.len() as u32).saturating_sub(failures);
    if let Some(summary) = result.misconf_summary.as_mut() {
        *summary = MisconfSummary {
            successes,
            failures,
        };
    }
    result.modified_findings = modified_findings;
}

/// Findings of a result that fail the gate: vulnerabilities, secrets, and
/// failed misconfigurations (suppressed findings do not count).
pub fn finding_count(result: &ScanResult) -> usize {
    result.vulnerabilities.len() + result.secrets.len() + result.failed_misconfigs().count()
}

/// The exit codes a scan may end with, each 0 when not asked for
/// (`--exit-code`, `--exit-on-eol`, `--exit-on-missing-data`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExitCodes {
    /// When any finding remains after the policy.
    pub findings: i32,
    /// When the OS is past its end of life.
    pub eol: i32,
    /// When the database had no advisories for a result
    /// (`ScanResult::missing_data`): unknown is not clean.
    pub missing_data: i32,
}

/// The process exit code of a scan (after [`apply`]): `eol` (when
/// non-zero) if the OS is past its end of life, as Trivy does; else
/// `missing_data` (when non-zero) if a result's vulnerabilities are
/// unknown; else `findings` (when non-zero) if any finding remains; else 0.
pub fn exit_code(report: &Report, codes: &ExitCodes) -> i32 {
    let eosl = report.metadata.os.as_ref().is_some_and(|os| os.eosl);
    if codes.eol != 0 && eosl {
        return codes.eol;
    }
    if codes.missing_data != 0 && report.results.iter().any(|r| r.missing_data.is_some()) {
        return codes.missing_data;
    }
    if codes.findings != 0 && report.results.iter().any(|r| finding_count(r) > 0) {
        return codes.findings;
    }
    0
}
