//! The difference between two reports of (usually) the same artifact.
//!
//! - Vulnerabilities are keyed by ID, package name and package path. Two
//!   findings of the same package are the same finding when their IDs are
//!   equal or when one's ID is an alias of the other's (`VendorIDs`: a GHSA
//!   or DSA of the CVE, as one scanner names what the other calls a CVE).
//!   Aliases are not chained: two CVEs fixed by one DSA stay two findings.
//! - Packages are keyed by kind (OS, or the language type), name and path
//!   (the file or lockfile), and compared by their full version. Reports
//!   without a package list (no `--list-all-pkgs`) are compared on the
//!   vulnerable packages they name.
//! - Secrets by rule, target and the (masked) match; misconfigurations (the
//!   failed checks) by ID, target and cause (the quoted cause lines, else
//!   the message). A target that names the image itself (the OS target
//!   `app:1.4 (alpine 3.20.3)`, the image config) is compared as `(image)`.
//! - Layers: the leading diff IDs both images share are the unchanged base.

use crate::{repository_of, Result};
use customs_model::{Severity, Status};
use customs_report::{class, DetectedVulnerability, Report};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One side of a diff.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Side {
    pub artifact_name: String,
    pub repository: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub digest: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created_at: String,
    #[serde(rename = "OS", skip_serializing_if = "String::is_empty")]
    pub os: String,
}

/// A vulnerability of one package, as one of the reports has it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct VulnEntry {
    #[serde(rename = "VulnerabilityID")]
    pub vulnerability_id: String,
    /// The other report's ID for it, when that was an alias.
    #[serde(rename = "MatchedID", skip_serializing_if = "String::is_empty")]
    pub matched_id: String,
    pub pkg_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub pkg_path: String,
    pub target: String,
    pub installed_version: String,
    /// For an unchanged finding: the installed version in the old report.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub old_installed_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fixed_version: String,
    pub severity: Severity,
    pub status: Status,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub title: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct VulnDiff {
    /// In the new report only (as the new report has them).
    pub new: Vec<VulnEntry>,
    /// In the old report only (as the old report has them).
    pub fixed: Vec<VulnEntry>,
    /// In both (as the new report has them).
    pub unchanged: Vec<VulnEntry>,
}

/// A package as a report lists it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "PascalCase")]
pub struct PkgEntry {
    /// `os`, or the language type (`python-pkg`, `npm`, `gobinary`, …).
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Every version installed under this name and path (usually one).
    pub versions: Vec<String>,
}

/// A package whose version changed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "PascalCase")]
pub struct PkgChange {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path: String,
    pub old_versions: Vec<String>,
    pub new_versions: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct PackageDiff {
    pub added: Vec<PkgEntry>,
    pub removed: Vec<PkgEntry>,
    /// Same name and path, another version.
    pub upgraded: Vec<PkgChange>,
    pub unchanged: usize,
    /// True when a report had no package list and the packages compared are
    /// the vulnerable ones both reports name.
    pub from_vulnerabilities: bool,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "PascalCase")]
pub struct SecretEntry {
    #[serde(rename = "RuleID")]
    pub rule_id: String,
    pub target: String,
    /// The matched line, masked by the scanner.
    #[serde(rename = "Match")]
    pub match_line: String,
    pub severity: Severity,
    pub title: String,
    pub start_line: usize,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "PascalCase")]
pub struct MisconfEntry {
    #[serde(rename = "ID")]
    pub id: String,
    pub target: String,
    pub cause: String,
    pub severity: Severity,
    pub title: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct FindingDiff<T> {
    pub new: Vec<T>,
    pub resolved: Vec<T>,
    pub unchanged: usize,
}

impl<T> Default for FindingDiff<T> {
    fn default() -> Self {
        FindingDiff {
            new: Vec::new(),
            resolved: Vec::new(),
            unchanged: 0,
        }
    }
}

/// The layers of the two images: the shared leading ones are the base.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct LayerDiff {
    /// Diff IDs of the leading layers both images have.
    pub unchanged: Vec<String>,
    /// The old image's layers after the shared base.
    pub old_changed: Vec<String>,
    /// The new image's layers after the shared base.
    pub new_changed: Vec<String>,
}

impl LayerDiff {
    /// Both images have layers and the new one starts with all of the old
    /// one's base (the old image's layers are a prefix of the new one's).
    pub fn base_unchanged(&self) -> bool {
        !self.unchanged.is_empty() && self.old_changed.is_empty()
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ReportDiff {
    pub old: Side,
    pub new: Side,
    /// Things to know before reading the diff (different artifacts, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub vulnerabilities: VulnDiff,
    pub packages: PackageDiff,
    pub secrets: FindingDiff<SecretEntry>,
    pub misconfigurations: FindingDiff<MisconfEntry>,
    pub layers: LayerDiff,
}

impl ReportDiff {
    /// Keep only the findings of these severities (all when empty).
    pub fn retain_severities(&mut self, severities: &[Severity]) {
        if severities.is_empty() {
            return;
        }
        let keep = |s: &Severity| severities.contains(s);
        let v = &mut self.vulnerabilities;
        v.new.retain(|e| keep(&e.severity));
        v.fixed.retain(|e| keep(&e.severity));
        v.unchanged.retain(|e| keep(&e.severity));
        self.secrets.new.retain(|e| keep(&e.severity));
        self.secrets.resolved.retain(|e| keep(&e.severity));
        self.misconfigurations.new.retain(|e| keep(&e.severity));
        self.misconfigurations
            .resolved
            .retain(|e| keep(&e.severity));
    }

    /// New vulnerabilities, secrets and misconfigurations (what a CI gate on
    /// a diff fails on).
    pub fn new_findings(&self) -> usize {
        self.vulnerabilities.new.len() + self.secrets.new.len() + self.misconfigurations.new.len()
    }
}

/// Parse a `--severity` list (`HIGH,CRITICAL`).
pub fn parse_severities(list: &[String]) -> Result<Vec<Severity>, String> {
    let mut out = Vec::new();
    for item in list.iter().flat_map(|s| s.split(',')) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        match Severity::parse(&item.to_ascii_uppercase()) {
            Some(s) => out.push(s),
            None => {
                return Err(format!(
                    "--severity: unknown severity '{item}' (expected UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL)"
                ))
            }
        }
    }
    Ok(out)
}

/// What changed from `old` to `new`.
pub fn diff(old: &Report, new: &Report) -> ReportDiff {
    let mut warnings = Vec::new();
    let (o, n) = (side(old), side(new));
    if o.repository != n.repository {
        warnings.push(format!(
            "the reports are of different artifacts ({} and {}); diffing them anyway",
            o.repository, n.repository
        ));
    }
    if old.artifact_type != new.artifact_type {
        warnings.push(format!(
            "the reports are of different artifact types ({} and {})",
            old.artifact_type, new.artifact_type
        ));
    }
    ReportDiff {
        old: o,
        new: n,
        warnings,
        vulnerabilities: vuln_diff(old, new),
        packages: package_diff(old, new),
        secrets: keyed_diff(secrets(old), secrets(new)),
        misconfigurations: keyed_diff(misconfs(old), misconfs(new)),
        layers: layer_diff(old, new),
    }
}

fn side(r: &Report) -> Side {
    let reference = crate::reference_of(r);
    Side {
        artifact_name: r.artifact_name.clone(),
        repository: repository_of(&reference).to_string(),
        digest: crate::digest_of(r),
        created_at: r.created_at.clone(),
        os: r
            .metadata
            .os
            .as_ref()
            .map(|os| format!("{} {}", os.family, os.name))
            .unwrap_or_default(),
    }
}

/// A target as compared: one that names the image itself is `(image)`, so
/// two images' OS and config targets match.
fn norm_target(r: &Report, target: &str) -> String {
    let name = r.artifact_name.as_str();
    let reference = crate::reference_of(r);
    let names_image = |n: &str| {
        !n.is_empty() && (target == n || target.strip_prefix(n).is_some_and(|t| t.starts_with(' ')))
    };
    if names_image(name) || names_image(&reference) {
        "(image)".to_string()
    } else {
        target.to_string()
    }
}

struct Vuln<'a> {
    v: &'a DetectedVulnerability,
    target: String,
}

fn vulns(r: &Report) -> BTreeMap<(String, String), Vec<Vuln<'_>>> {
    // Grouped by (package name, package path); one entry per ID in a group.
    let mut by_pkg: BTreeMap<(String, String), Vec<Vuln<'_>>> = BTreeMap::new();
    for res in &r.results {
        for v in &res.vulnerabilities {
            let group = by_pkg
                .entry((v.pkg_name.clone(), v.pkg_path.clone()))
                .or_default();
            if !group
                .iter()
                .any(|g| g.v.vulnerability_id == v.vulnerability_id)
            {
                group.push(Vuln {
                    v,
                    target: norm_target(r, &res.target),
                });
            }
        }
    }
    by_pkg
}

fn entry(x: &Vuln<'_>, matched: &str) -> VulnEntry {
    let v = x.v;
    VulnEntry {
        vulnerability_id: v.vulnerability_id.clone(),
        matched_id: if matched == v.vulnerability_id {
            String::new()
        } else {
            matched.to_string()
        },
        pkg_name: v.pkg_name.clone(),
        pkg_path: v.pkg_path.clone(),
        target: x.target.clone(),
        installed_version: v.installed_version.clone(),
        old_installed_version: String::new(),
        fixed_version: v.fixed_version.clone(),
        severity: v.severity,
        status: v.status,
        title: v.title.clone(),
    }
}

/// Whether two findings of one package are the same finding.
fn same_finding(a: &DetectedVulnerability, b: &DetectedVulnerability) -> bool {
    a.vulnerability_id == b.vulnerability_id
        || a.vendor_ids.contains(&b.vulnerability_id)
        || b.vendor_ids.contains(&a.vulnerability_id)
}

fn vuln_diff(old: &Report, new: &Report) -> VulnDiff {
    let old_v = vulns(old);
    let new_v = vulns(new);
    let mut out = VulnDiff::default();
    let empty = Vec::new();
    let keys: BTreeSet<&(String, String)> = old_v.keys().chain(new_v.keys()).collect();
    for key in keys {
        let os = old_v.get(key).unwrap_or(&empty);
        let ns = new_v.get(key).unwrap_or(&empty);
        let mut old_taken = vec![false; os.len()];
        let mut new_match: Vec<Option<usize>> = vec![None; ns.len()];
        // Exact IDs first, then aliases, so an alias never takes the place
        // of an exact match.
        for exact in [true, false] {
            for (ni, n) in ns.iter().enumerate() {
                if new_match[ni].is_some() {
                    continue;
                }
                let found = os.iter().enumerate().find(|(oi, o)| {
                    !old_taken[*oi]
                        && if exact {
                            o.v.vulnerability_id == n.v.vulnerability_id
                        } else {
                            same_finding(o.v, n.v)
                        }
                });
                if let Some((oi, _)) = found {
                    old_taken[oi] = true;
                    new_match[ni] = Some(oi);
                }
            }
        }
        for (ni, n) in ns.iter().enumerate() {
            match new_match[ni].and_then(|oi| os.get(oi)) {
                Some(o) => {
                    let mut e = entry(n, &o.v.vulnerability_id);
                    if o.v.installed_version != n.v.installed_version {
                        e.old_installed_version = o.v.installed_version.clone();
                    }
                    out.unchanged.push(e);
                }
                None => out.new.push(entry(n, &n.v.vulnerability_id)),
            }
        }
        for (oi, o) in os.iter().enumerate() {
            if !old_taken[oi] {
                out.fixed.push(entry(o, &o.v.vulnerability_id));
            }
        }
    }
    for list in [&mut out.new, &mut out.fixed, &mut out.unchanged] {
        list.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.vulnerability_id.cmp(&b.vulnerability_id))
                .then_with(|| a.pkg_name.cmp(&b.pkg_name))
                .then_with(|| a.pkg_path.cmp(&b.pkg_path))
        });
    }
    out
}

type PkgKey = (String, String, String);

fn listed_packages(r: &Report) -> BTreeMap<PkgKey, BTreeSet<String>> {
    let mut out: BTreeMap<PkgKey, BTreeSet<String>> = BTreeMap::new();
    for res in &r.results {
        let (kind, default_path) = if res.class == class::OS_PKGS {
            ("os".to_string(), String::new())
        } else {
            (res.kind.clone(), res.target.clone())
        };
        for p in &res.packages {
            let path = if p.file_path.is_empty() {
                default_path.clone()
            } else {
                p.file_path.clone()
            };
            out.entry((kind.clone(), p.name.clone(), path))
                .or_default()
                .insert(p.full_version());
        }
    }
    out
}

fn vulnerable_packages(r: &Report) -> BTreeMap<PkgKey, BTreeSet<String>> {
    let mut out: BTreeMap<PkgKey, BTreeSet<String>> = BTreeMap::new();
    for res in &r.results {
        let kind = if res.class == class::OS_PKGS {
            "os".to_string()
        } else {
            res.kind.clone()
        };
        for v in &res.vulnerabilities {
            out.entry((kind.clone(), v.pkg_name.clone(), v.pkg_path.clone()))
                .or_default()
                .insert(v.installed_version.clone());
        }
    }
    out
}

fn has_package_list(r: &Report) -> bool {
    r.results.iter().any(|res| !res.packages.is_empty())
}

fn package_diff(old: &Report, new: &Report) -> PackageDiff {
    let listed = has_package_list(old) && has_package_list(new);
    let (o, n) = if listed {
        (listed_packages(old), listed_packages(new))
    } else {
        (vulnerable_packages(old), vulnerable_packages(new))
    };
    let mut out = PackageDiff {
        from_vulnerabilities: !listed,
        ..Default::default()
    };
    let pkg = |(kind, name, path): &PkgKey, versions: &BTreeSet<String>| PkgEntry {
        kind: kind.clone(),
        name: name.clone(),
        path: path.clone(),
        versions: versions.iter().cloned().collect(),
    };
    for (key, ov) in &o {
        match n.get(key) {
            None => out.removed.push(pkg(key, ov)),
            Some(nv) if nv == ov => out.unchanged += 1,
            Some(nv) => out.upgraded.push(PkgChange {
                kind: key.0.clone(),
                name: key.1.clone(),
                path: key.2.clone(),
                old_versions: ov.iter().cloned().collect(),
                new_versions: nv.iter().cloned().collect(),
            }),
        }
    }
    for (key, nv) in &n {
        if !o.contains_key(key) {
            out.added.push(pkg(key, nv));
        }
    }
    out
}

fn secrets(r: &Report) -> BTreeMap<(String, String, String), SecretEntry> {
    let mut out = BTreeMap::new();
    for res in &r.results {
        let target = norm_target(r, &res.target);
        for s in &res.secrets {
            out.entry((s.rule_id.clone(), target.clone(), s.match_line.clone()))
                .or_insert_with(|| SecretEntry {
                    rule_id: s.rule_id.clone(),
                    target: target.clone(),
                    match_line: s.match_line.clone(),
                    severity: s.severity,
                    title: s.title.clone(),
                    start_line: s.start_line,
                });
        }
    }
    out
}

fn misconfs(r: &Report) -> BTreeMap<(String, String, String), MisconfEntry> {
    let mut out = BTreeMap::new();
    for res in &r.results {
        let target = norm_target(r, &res.target);
        for m in res.failed_misconfigs() {
            let lines: Vec<&str> = m
                .cause_metadata
                .code
                .iter()
                .flat_map(|c| &c.lines)
                .filter(|l| l.is_cause)
                .map(|l| l.content.trim())
                .collect();
            let cause = if lines.is_empty() {
                m.message.clone()
            } else {
                lines.join("\n")
            };
            out.entry((m.id.clone(), target.clone(), cause.clone()))
                .or_insert_with(|| MisconfEntry {
                    id: m.id.clone(),
                    target: target.clone(),
                    cause,
                    severity: m.severity,
                    title: m.title.clone(),
                });
        }
    }
    out
}

fn keyed_diff<K: Ord, T: Clone + Ord>(old: BTreeMap<K, T>, new: BTreeMap<K, T>) -> FindingDiff<T> {
    let mut out = FindingDiff::default();
    for (k, v) in &new {
        if old.contains_key(k) {
            out.unchanged += 1;
        } else {
            out.new.push(v.clone());
        }
    }
    for (k, v) in &old {
        if !new.contains_key(k) {
            out.resolved.push(v.clone());
        }
    }
    out
}

fn layer_diff(old: &Report, new: &Report) -> LayerDiff {
    let (o, n) = (&old.metadata.diff_ids, &new.metadata.diff_ids);
    let shared = o.iter().zip(n).take_while(|(a, b)| a == b).count();
    LayerDiff {
        unchanged: o.iter().take(shared).cloned().collect(),
        old_changed: o.iter().skip(shared).cloned().collect(),
        new_changed: n.iter().skip(shared).cloned().collect(),
    }
}
