//! Matching installed packages to the advisories of the database.
//!
//! One database lookup per distinct (ecosystem, package name) of a call; each
//! advisory is evaluated with [`customs_versions::is_affected`] in the
//! ecosystem's version scheme. See docs/vulnerability-scanning.md.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use customs_model::{OsInfo, Package, RangeEvent, RangeKind, Severity, Status};
use customs_report::{severity_int, Cvss, DataSource, DetectedVulnerability, Epss, KnownExploited};
use customs_versions::{is_affected, Scheme};
use customs_vulndb::{os_ecosystem, Advisory, DbError, SourceStats, VulnDb, Vulnerability};

/// Why a detection could not run.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// No advisory feed covers this OS family or release.
    #[error("no advisories for OS {family:?} {name:?}: customs has no feed for this family")]
    UnsupportedOs { family: String, name: String },
    /// No advisory ecosystem for this language-package type.
    #[error("no advisories for language package type {0:?}: no feed covers it")]
    UnsupportedLang(String),
    /// The database could not be read.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl DetectError {
    /// True for the "nothing covers this" errors, which callers usually log
    /// and skip (as Trivy does) rather than fail the scan on.
    pub fn is_unsupported(&self) -> bool {
        matches!(
            self,
            DetectError::UnsupportedOs { .. } | DetectError::UnsupportedLang(_)
        )
    }
}

/// Vulnerabilities of OS packages (apk, dpkg). Packages are matched on their
/// source package name in the release's ecosystem (`alpine:3.10`,
/// `debian:12`), comparing the full source version in the distribution's
/// version scheme.
pub fn detect_os(
    db: &VulnDb,
    os: &OsInfo,
    packages: &[Package],
) -> Result<Vec<DetectedVulnerability>, DetectError> {
    let ecosystem = os_ecosystem(os).ok_or_else(|| DetectError::UnsupportedOs {
        family: os.family.clone(),
        name: os.name.clone(),
    })?;
    let mut m = Matcher::new(db)?;
    for pkg in packages {
        let name = pkg.source_name().to_string();
        let version = pkg.full_src_version();
        m.match_package(&ecosystem, &name, &version, pkg.full_version(), pkg)?;
    }
    m.finish()
}

/// Vulnerabilities of language packages of one Trivy type (`pip`, `gomod`,
/// `cargo`, `bundler`...), matched in the OSV ecosystem of that type with
/// the name normalized as the ecosystem compares names.
pub fn detect_lang(
    db: &VulnDb,
    lang_type: &str,
    packages: &[Package],
) -> Result<Vec<DetectedVulnerability>, DetectError> {
    let ecosystem = customs_model::osv_ecosystem(lang_type)
        .ok_or_else(|| DetectError::UnsupportedLang(lang_type.to_string()))?;
    let mut m = Matcher::new(db)?;
    for pkg in packages {
        let name = customs_model::normalize_name(ecosystem, &pkg.name);
        let Some(version) = lang_version(ecosystem, &pkg.version) else {
            tracing::debug!(
                "{ecosystem} package {} has no usable version ({:?}); not matched",
                pkg.name,
                pkg.version
            );
            continue;
        };
        m.match_package(ecosystem, &name, &version, pkg.version.clone(), pkg)?;
    }
    m.finish()
}

/// The version to compare, or `None` when there is none (`(devel)`, empty).
/// Go versions lose their `v` prefix (`v1.19.8` → `1.19.8`), as the Go
/// vulndb writes its ranges without it.
fn lang_version(ecosystem: &str, version: &str) -> Option<String> {
    let v = version.trim();
    if v.is_empty() || v == "(devel)" {
        return None;
    }
    if ecosystem == "Go" {
        if let Some(rest) = v.strip_prefix('v') {
            if rest.starts_with(|c: char| c.is_ascii_digit()) {
                return Some(rest.to_string());
            }
        }
    }
    Some(v.to_string())
}

/// One advisory that matched one package.
struct Hit {
    advisory: Rc<Advisory>,
    status: Status,
    fixed_version: String,
}

/// Matching state of one call: caches and the findings so far.
struct Matcher<'a> {
    db: &'a VulnDb,
    sources: HashMap<String, SourceStats>,
    advisories: HashMap<(String, String), Rc<Vec<Rc<Advisory>>>>,
    vulns: HashMap<String, Option<Rc<Vulnerability>>>,
    found: Vec<DetectedVulnerability>,
    /// The EPSS file's model version and score date.
    epss_meta: (String, String),
}

type ExploitData = (Option<KnownExploited>, Option<Epss>);

impl<'a> Matcher<'a> {
    fn new(db: &'a VulnDb) -> Result<Self, DetectError> {
        let meta = db.metadata()?;
        let epss_meta = (
            meta.epss_model_version.unwrap_or_default(),
            meta.epss_score_date.unwrap_or_default(),
        );
        let sources = meta
            .sources
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect();
        Ok(Matcher {
            db,
            sources,
            advisories: HashMap::new(),
            vulns: HashMap::new(),
            found: Vec::new(),
            epss_meta,
        })
    }

    /// KEV entry and EPSS score of a finding, looked up by its id, its
    /// vendor ids and the aliases the database knows.
    fn exploit_data(&self, f: &DetectedVulnerability) -> Result<ExploitData, DetectError> {
        let mut ids: Vec<&str> = vec![f.vulnerability_id.as_str()];
        ids.extend(f.vendor_ids.iter().map(String::as_str));
        if let Some(Some(v)) = self.vulns.get(&f.vulnerability_id) {
            ids.push(v.id.as_str());
            ids.extend(v.aliases.iter().map(String::as_str));
        }
        let kev = self.db.known_exploited(&ids)?.map(|k| KnownExploited {
            cve_id: k.cve_id,
            date_added: k.date_added,
            due_date: k.due_date,
            known_ransomware_campaign_use: k.ransomware,
            required_action: k.required_action,
        });
        let epss = self.db.epss(&ids)?.map(|e| Epss {
            cve_id: e.cve_id,
            score: e.score,
            percentile: e.percentile,
            date: self.epss_meta.1.clone(),
            model_version: self.epss_meta.0.clone(),
        });
        Ok((kev, epss))
    }

    fn advisories(
        &mut self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Rc<Vec<Rc<Advisory>>>, DetectError> {
        let key = (ecosystem.to_string(), name.to_string());
        if let Some(a) = self.advisories.get(&key) {
            return Ok(Rc::clone(a));
        }
        let list: Vec<Rc<Advisory>> = self
            .db
            .advisories(ecosystem, name)?
            .into_iter()
            .map(Rc::new)
            .collect();
        let list = Rc::new(list);
        self.advisories.insert(key, Rc::clone(&list));
        Ok(list)
    }

    fn vulnerability(&mut self, id: &str) -> Result<Option<Rc<Vulnerability>>, DetectError> {
        if let Some(v) = self.vulns.get(id) {
            return Ok(v.clone());
        }
        let v = self.db.vulnerability(id)?.map(Rc::new);
        self.vulns.insert(id.to_string(), v.clone());
        Ok(v)
    }

    /// Evaluate every advisory of (ecosystem, name) against `version` and
    /// record one finding per vulnerability.
    fn match_package(
        &mut self,
        ecosystem: &str,
        name: &str,
        version: &str,
        installed_shown: String,
        pkg: &Package,
    ) -> Result<(), DetectError> {
        let advisories = self.advisories(ecosystem, name)?;
        if advisories.is_empty() {
            return Ok(());
        }
        let scheme = Scheme::for_ecosystem(ecosystem);
        // One warning for an installed version that does not parse, rather
        // than one per advisory.
        if let Err(e) = customs_versions::validate(scheme, version) {
            tracing::warn!(
                "skipping package {} {version} ({} advisories in {ecosystem} not evaluated): {e}",
                pkg.name,
                advisories.len()
            );
            return Ok(());
        }
        // Best hit per vulnerability id.
        let mut hits: BTreeMap<String, Hit> = BTreeMap::new();
        for adv in advisories.iter() {
            let Some(hit) = evaluate(scheme, version, adv, pkg) else {
                continue;
            };
            match hits.get(&adv.vulnerability_id) {
                Some(old) if !better(&hit, old) => {}
                _ => {
                    hits.insert(adv.vulnerability_id.clone(), hit);
                }
            }
        }
        if hits.is_empty() {
            return Ok(());
        }
        let hits = self.merge_aliases(hits)?;
        for (id, hit) in hits {
            let vuln = self.vulnerability(&id)?;
            let finding = self.finding(&id, &hit, vuln.as_deref(), installed_shown.clone(), pkg);
            self.found.push(finding);
        }
        Ok(())
    }

    /// When two matched ids of one package name the same vulnerability (a
    /// GHSA and its CVE), keep one: the CVE id, as Trivy does.
    fn merge_aliases(
        &mut self,
        hits: BTreeMap<String, Hit>,
    ) -> Result<BTreeMap<String, Hit>, DetectError> {
        if hits.len() < 2 {
            return Ok(hits);
        }
        let ids: Vec<String> = hits.keys().cloned().collect();
        // Every name each hit is known by.
        let mut names: Vec<BTreeSet<String>> = Vec::with_capacity(ids.len());
        for id in &ids {
            let mut set = BTreeSet::from([id.clone()]);
            if let Some(v) = self.vulnerability(id)? {
                set.insert(v.id.clone());
                set.extend(v.aliases.iter().cloned());
            }
            names.push(set);
        }
        // Group ids whose name sets intersect (small n: quadratic is fine).
        let mut group: Vec<usize> = (0..ids.len()).collect();
        for i in 0..ids.len() {
            for j in (i + 1)..ids.len() {
                if group[j] != j {
                    continue;
                }
                if !names[i].is_disjoint(&names[j]) {
                    group[j] = group[i];
                }
            }
        }
        let mut hits = hits;
        let mut out = BTreeMap::new();
        let mut members: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (i, id) in ids.iter().enumerate() {
            members.entry(group[i]).or_default().push(id.clone());
        }
        for (_, mut group_ids) in members {
            group_ids.sort_by(|a, b| id_rank(a).cmp(&id_rank(b)).then_with(|| a.cmp(b)));
            let Some(keep) = group_ids.first().cloned() else {
                continue;
            };
            // The finding keeps the preferred id; its status and fix come
            // from the best hit of the group.
            let mut best: Option<Hit> = None;
            for id in &group_ids {
                if let Some(h) = hits.remove(id) {
                    best = match best {
                        Some(b) if !better(&h, &b) => Some(b),
                        _ => Some(h),
                    };
                }
            }
            if let Some(b) = best {
                out.insert(keep, b);
            }
        }
        Ok(out)
    }

    fn finding(
        &self,
        id: &str,
        hit: &Hit,
        vuln: Option<&Vulnerability>,
        installed: String,
        pkg: &Package,
    ) -> DetectedVulnerability {
        let adv = &hit.advisory;
        let (severity, severity_source) = select_severity(adv, vuln);
        let mut vendor_severity = BTreeMap::new();
        let mut cvss: BTreeMap<String, Cvss> = BTreeMap::new();
        let mut vendor_ids = Vec::new();
        if adv.source_id != id && !adv.source_id.contains('/') {
            vendor_ids.push(adv.source_id.clone());
        }
        if let Some(v) = vuln {
            for (src, s) in &v.severities {
                vendor_severity.insert(src.clone(), severity_int(*s));
            }
            for c in &v.cvss {
                let e = cvss.entry(c.source.clone()).or_default();
                let major = c.version.split('.').next().unwrap_or("");
                match major {
                    "2" => {
                        e.v2_vector = c.vector.clone();
                        e.v2_score = c.score;
                    }
                    // Keep the newest 3.x vector when several are given.
                    "3" if e.v3_vector.is_empty() || c.vector > e.v3_vector => {
                        e.v3_vector = c.vector.clone();
                        e.v3_score = c.score;
                    }
                    "4" => {
                        e.v40_vector = c.vector.clone();
                        e.v40_score = c.score;
                    }
                    _ => {}
                }
            }
        }
        if let Some(s) = adv.severity {
            vendor_severity.insert(adv.source.clone(), severity_int(s));
        }
        let data_source = self.sources.get(&adv.source).map(|s| DataSource {
            id: s.id.clone(),
            name: s.name.clone(),
            url: s.url.clone(),
        });
        let data_source = data_source.or_else(|| {
            Some(DataSource {
                id: adv.source.clone(),
                name: adv.source.clone(),
                url: String::new(),
            })
        });
        DetectedVulnerability {
            vulnerability_id: id.to_string(),
            vendor_ids,
            pkg_id: pkg.id.clone(),
            pkg_name: pkg.name.clone(),
            pkg_path: pkg.file_path.clone(),
            pkg_identifier: pkg.identifier.clone(),
            installed_version: installed,
            fixed_version: hit.fixed_version.clone(),
            status: hit.status,
            layer: pkg.layer.clone(),
            severity_source,
            primary_url: primary_url(id),
            data_source,
            title: vuln.and_then(|v| v.title.clone()).unwrap_or_default(),
            description: vuln.and_then(|v| v.description.clone()).unwrap_or_default(),
            severity,
            cwe_ids: vuln.map(|v| v.cwe_ids.clone()).unwrap_or_default(),
            vendor_severity,
            cvss,
            references: vuln.map(|v| v.references.clone()).unwrap_or_default(),
            published_date: vuln.and_then(|v| v.published.clone()),
            last_modified_date: vuln.and_then(|v| v.modified.clone()),
            known_exploited: None,
            epss: None,
            vex: None,
        }
    }

    fn finish(mut self) -> Result<Vec<DetectedVulnerability>, DetectError> {
        let mut found = std::mem::take(&mut self.found);
        let mut cache: HashMap<String, ExploitData> = HashMap::new();
        for f in &mut found {
            let data = match cache.get(&f.vulnerability_id) {
                Some(d) => d.clone(),
                None => {
                    let d = self.exploit_data(f)?;
                    cache.insert(f.vulnerability_id.clone(), d.clone());
                    d
                }
            };
            (f.known_exploited, f.epss) = data;
        }
        sort_findings(&mut found);
        Ok(found)
    }
}

/// Deterministic order: package name, path, installed version, id.
pub(crate) fn sort_findings(v: &mut [DetectedVulnerability]) {
    v.sort_by(|a, b| {
        (
            &a.pkg_name,
            &a.pkg_path,
            &a.installed_version,
            &a.vulnerability_id,
        )
            .cmp(&(
                &b.pkg_name,
                &b.pkg_path,
                &b.installed_version,
                &b.vulnerability_id,
            ))
    });
}

/// Does `adv` affect `version`? `None` when not (or when a version does not
/// parse: warned and skipped).
fn evaluate(scheme: Scheme, version: &str, adv: &Rc<Advisory>, pkg: &Package) -> Option<Hit> {
    if adv.status == Status::NotAffected {
        return None;
    }
    let fixed = version_fixes(&adv.affected);
    // Alpine's "fixed in 0" means "never affected" (the database already
    // files it as not_affected; a stray `0` fix is read the same way).
    if !fixed.is_empty() && fixed.iter().all(|f| f.trim() == "0") {
        return None;
    }
    let a = &adv.affected;
    let no_versions = a.ranges.is_empty()
        && a.versions.is_empty()
        && a.patched.is_empty()
        && a.unaffected.is_empty();
    if no_versions {
        // A status without versions: the tracker says every version in the
        // release is affected (open, postponed, ignored, end-of-life). A
        // "fixed" status without a version names nothing to compare.
        return match adv.status {
            Status::Fixed | Status::NotAffected => None,
            status => Some(Hit {
                advisory: Rc::clone(adv),
                status,
                fixed_version: String::new(),
            }),
        };
    }
    match is_affected(scheme, version, a) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => {
            tracing::warn!(
                "skipping advisory {} ({}) for package {} {}: {e}",
                adv.vulnerability_id,
                adv.source_id,
                pkg.name,
                version
            );
            return None;
        }
    }
    let fixed_version = if !fixed.is_empty() {
        fixed.join(", ")
    } else {
        // RustSec / RubySec publish requirement lists, not versions.
        a.patched.join(", ")
    };
    let status = if !fixed_version.is_empty() {
        Status::Fixed
    } else if adv.status == Status::Fixed {
        Status::Affected
    } else {
        adv.status
    };
    Some(Hit {
        advisory: Rc::clone(adv),
        status,
        fixed_version,
    })
}

/// The `fixed` events of the version ranges, in order and de-duplicated.
/// `GIT` ranges are left out: their fixes are commit hashes, not versions
/// a user can upgrade to.
fn version_fixes(a: &customs_model::Affected) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for r in a.ranges.iter().filter(|r| r.kind != RangeKind::Git) {
        for e in &r.events {
            if let RangeEvent::Fixed(v) = e {
                if !out.contains(&v.as_str()) {
                    out.push(v.as_str());
                }
            }
        }
    }
    out
}

/// Is `a` a better statement than `b` about one vulnerability of one
/// package? A known fix first, then the more actionable status, then the
/// source order (distribution tracker first), then the record id.
fn better(a: &Hit, b: &Hit) -> bool {
    let key = |h: &Hit| {
        (
            status_rank(h.status),
            source_rank(&h.advisory.source),
            h.advisory.source_id.clone(),
        )
    };
    key(a) < key(b)
}

fn status_rank(s: Status) -> u8 {
    match s {
        Status::Fixed => 0,
        Status::Affected => 1,
        Status::UnderInvestigation => 2,
        Status::FixDeferred => 3,
        Status::WillNotFix => 4,
        Status::EndOfLife => 5,
        Status::Unknown => 6,
        Status::NotAffected => 7,
    }
}

fn source_rank(source: &str) -> u8 {
    match source {
        "debian-tracker" => 0,
        "debian-dsa" => 1,
        "debian-dla" => 2,
        "alpine-secdb" => 3,
        "go-vulndb" | "pypa" | "rustsec" | "rubysec" => 4,
        "osv" => 5,
        _ => 6,
    }
}

/// CVE ids first, then GHSA, then the rest.
fn id_rank(id: &str) -> u8 {
    if id.starts_with("CVE-") {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else {
        2
    }
}

/// Severity and the source it came from: the advisory source's own rating,
/// then NVD (its rating, else the score of its CVSS v4/v3 vector), then the
/// other sources' ratings in source-id order; otherwise UNKNOWN.
fn select_severity(adv: &Advisory, vuln: Option<&Vulnerability>) -> (Severity, String) {
    if let Some(s) = adv.severity.filter(|s| *s != Severity::Unknown) {
        return (s, adv.source.clone());
    }
    let Some(v) = vuln else {
        return (Severity::Unknown, String::new());
    };
    if let Some(s) = v.severities.get("nvd").filter(|s| **s != Severity::Unknown) {
        return (*s, "nvd".into());
    }
    for major in ["4", "3"] {
        let score = v
            .cvss
            .iter()
            .filter(|c| c.source == "nvd" && c.version.split('.').next() == Some(major))
            .find_map(|c| c.score);
        if let Some(score) = score {
            let s = Severity::from_cvss_score(score);
            if s != Severity::Unknown {
                return (s, "nvd".into());
            }
        }
    }
    for (src, s) in &v.severities {
        if *s != Severity::Unknown {
            return (*s, src.clone());
        }
    }
    (Severity::Unknown, String::new())
}

/// A neutral page for the vulnerability: NVD for CVEs, GitHub for GHSA,
/// osv.dev for the rest (Go, PyPA, RustSec ids), the tracker for DSA/DLA.
fn primary_url(id: &str) -> String {
    if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{id}")
    } else if id.starts_with("DSA-") || id.starts_with("DLA-") {
        format!("https://security-tracker.debian.org/tracker/{id}")
    } else {
        format!("https://osv.dev/vulnerability/{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use customs_model::{Affected, AffectedRange};

    fn adv(source: &str, status: Status, affected: Affected) -> Rc<Advisory> {
        Rc::new(Advisory {
            vulnerability_id: "CVE-2020-1".into(),
            ecosystem: "debian:11".into(),
            package: "p".into(),
            source: source.into(),
            source_id: format!("{source}/p"),
            status,
            severity: None,
            affected,
            informational: None,
        })
    }

    fn fixed(v: &str) -> Affected {
        Affected {
            ranges: vec![AffectedRange {
                kind: RangeKind::Ecosystem,
                events: vec![
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed(v.into()),
                ],
            }],
            ..Default::default()
        }
    }

    #[test]
    fn statuses_without_versions_affect_every_version() {
        let p = Package::default();
        for st in [
            Status::Affected,
            Status::WillNotFix,
            Status::FixDeferred,
            Status::EndOfLife,
            Status::Unknown,
        ] {
            let h = evaluate(
                Scheme::Dpkg,
                "1.0-1",
                &adv("t", st, Affected::default()),
                &p,
            );
            assert_eq!(h.map(|h| h.status), Some(st));
        }
        assert!(evaluate(
            Scheme::Dpkg,
            "1.0-1",
            &adv("t", Status::NotAffected, Affected::default()),
            &p
        )
        .is_none());
        assert!(evaluate(
            Scheme::Dpkg,
            "1.0-1",
            &adv("t", Status::Fixed, Affected::default()),
            &p
        )
        .is_none());
    }

    #[test]
    fn fixed_versions_and_bad_versions() {
        let p = Package::default();
        let a = adv("t", Status::Fixed, fixed("1.2-1"));
        let h = evaluate(Scheme::Dpkg, "1.1-1", &a, &p);
        assert_eq!(
            h.map(|h| (h.status, h.fixed_version)),
            Some((Status::Fixed, "1.2-1".to_string()))
        );
        assert!(evaluate(Scheme::Dpkg, "1.2-1", &a, &p).is_none());
        // An installed version that does not parse: skipped, no panic.
        assert!(evaluate(Scheme::Dpkg, "1:", &a, &p).is_none());
        // A `0` fix never matches.
        assert!(evaluate(
            Scheme::Apk,
            "1.0-r0",
            &adv("a", Status::Fixed, fixed("0")),
            &p
        )
        .is_none());
    }

    #[test]
    fn better_prefers_fixes_then_sources() {
        let h = |src: &str, st: Status| Hit {
            advisory: adv(src, st, Affected::default()),
            status: st,
            fixed_version: String::new(),
        };
        assert!(better(
            &h("debian-dla", Status::Fixed),
            &h("debian-tracker", Status::WillNotFix)
        ));
        assert!(better(
            &h("debian-tracker", Status::Fixed),
            &h("debian-dsa", Status::Fixed)
        ));
    }

    #[test]
    fn severity_selection_order() {
        let mut a = (*adv("debian-tracker", Status::Fixed, fixed("1"))).clone();
        let mut v = Vulnerability {
            id: "CVE-2020-1".into(),
            aliases: vec![],
            title: None,
            description: None,
            severity: None,
            severity_source: None,
            severities: BTreeMap::new(),
            cvss: vec![],
            cwe_ids: vec![],
            references: vec![],
            published: None,
            modified: None,
        };
        assert_eq!(
            select_severity(&a, Some(&v)),
            (Severity::Unknown, String::new())
        );
        v.severities.insert("ghsa".into(), Severity::Medium);
        assert_eq!(
            select_severity(&a, Some(&v)),
            (Severity::Medium, "ghsa".into())
        );
        v.cvss.push(customs_vulndb::Cvss {
            source: "nvd".into(),
            version: "3.1".into(),
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
            score: Some(9.8),
        });
        assert_eq!(
            select_severity(&a, Some(&v)),
            (Severity::Critical, "nvd".into())
        );
        v.severities.insert("nvd".into(), Severity::High);
        assert_eq!(
            select_severity(&a, Some(&v)),
            (Severity::High, "nvd".into())
        );
        a.severity = Some(Severity::Unknown);
        assert_eq!(select_severity(&a, Some(&v)).0, Severity::High);
        a.severity = Some(Severity::Low);
        assert_eq!(
            select_severity(&a, Some(&v)),
            (Severity::Low, "debian-tracker".into())
        );
    }

    #[test]
    fn go_versions_and_urls() {
        assert_eq!(lang_version("Go", "v1.19.8").as_deref(), Some("1.19.8"));
        assert_eq!(lang_version("Go", "(devel)"), None);
        assert_eq!(lang_version("PyPI", " 2.25.1 ").as_deref(), Some("2.25.1"));
        assert_eq!(
            primary_url("CVE-2019-14697"),
            "https://nvd.nist.gov/vuln/detail/CVE-2019-14697"
        );
        assert_eq!(
            primary_url("GO-2023-1702"),
            "https://osv.dev/vulnerability/GO-2023-1702"
        );
    }
}
