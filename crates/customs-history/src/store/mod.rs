//! The history of scans: each recorded scan keeps the artifact reference and
//! digest, the time, the scanner and database versions, the counts of
//! findings by scanner and severity, the full report (zstd-compressed
//! JSON), and one row per vulnerability (`customs_findings`: ID, package,
//! installed and fixed versions, severity, target), so that
//! [`Store::affected`] answers "which images does CVE-X affect?" from the
//! latest scan of each reference without decompressing any report.
//!
//! [`Store::open`] takes a path (one SQLite file, WAL mode, safe for
//! concurrent writers: each write is one `BEGIN IMMEDIATE` transaction and
//! waits up to the busy timeout for another) or a `postgres://` URL (a
//! team's shared history; the same schema). Writes are transactions: a
//! failing import or prune leaves the store as it was; a scan's report and
//! findings are written with it, and pruned with it. Scans recorded before
//! the findings table existed (schema 2) get their rows when the store is
//! first opened by this version, in the migration's transaction.

mod postgres;
pub mod schema;
mod sqlite;

use crate::{Error, Result};
use customs_model::Severity;
use customs_report::Report;
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a writer waits for another (SQLite busy timeout).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting to PostgreSQL may take (unless the URL says).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// zstd level of the stored reports.
const ZSTD_LEVEL: i32 = 3;

/// Counts of one scanner's findings by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub struct SeverityCounts {
    pub unknown: i64,
    pub low: i64,
    pub medium: i64,
    pub high: i64,
    pub critical: i64,
}

impl SeverityCounts {
    pub fn add(&mut self, s: Severity) {
        *self.get_mut(s) += 1;
    }

    pub fn get(&self, s: Severity) -> i64 {
        match s {
            Severity::Unknown => self.unknown,
            Severity::Low => self.low,
            Severity::Medium => self.medium,
            Severity::High => self.high,
            Severity::Critical => self.critical,
        }
    }

    fn get_mut(&mut self, s: Severity) -> &mut i64 {
        match s {
            Severity::Unknown => &mut self.unknown,
            Severity::Low => &mut self.low,
            Severity::Medium => &mut self.medium,
            Severity::High => &mut self.high,
            Severity::Critical => &mut self.critical,
        }
    }

    pub fn total(&self) -> i64 {
        self.unknown + self.low + self.medium + self.high + self.critical
    }

    fn as_array(&self) -> [i64; 5] {
        [
            self.unknown,
            self.low,
            self.medium,
            self.high,
            self.critical,
        ]
    }

    fn from_slice(v: &[i64]) -> Self {
        let g = |i: usize| v.get(i).copied().unwrap_or(0);
        SeverityCounts {
            unknown: g(0),
            low: g(1),
            medium: g(2),
            high: g(3),
            critical: g(4),
        }
    }
}

/// Findings of a scan by scanner and severity (failed checks only for
/// misconfigurations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Counts {
    pub vulnerabilities: SeverityCounts,
    pub secrets: SeverityCounts,
    pub misconfigurations: SeverityCounts,
}

impl Counts {
    pub fn of(report: &Report) -> Counts {
        let mut c = Counts::default();
        for r in &report.results {
            for v in &r.vulnerabilities {
                c.vulnerabilities.add(v.severity);
            }
            for s in &r.secrets {
                c.secrets.add(s.severity);
            }
            for m in r.failed_misconfigs() {
                c.misconfigurations.add(m.severity);
            }
        }
        c
    }

    fn columns(&self) -> [i64; 15] {
        let mut out = [0; 15];
        let all = [
            self.vulnerabilities.as_array(),
            self.secrets.as_array(),
            self.misconfigurations.as_array(),
        ];
        for (i, v) in all.iter().flatten().enumerate() {
            if let Some(slot) = out.get_mut(i) {
                *slot = *v;
            }
        }
        out
    }

    fn from_columns(v: &[i64]) -> Counts {
        let part = |i: usize| SeverityCounts::from_slice(v.get(i * 5..i * 5 + 5).unwrap_or(&[]));
        Counts {
            vulnerabilities: part(0),
            secrets: part(1),
            misconfigurations: part(2),
        }
    }
}

/// A recorded scan, without its report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Scan {
    #[serde(rename = "ID")]
    pub id: i64,
    /// What was scanned (`app:1.4`; an image file's first tag).
    pub artifact_ref: String,
    /// The reference without tag or digest (`app`): what trends group by.
    pub repository: String,
    pub artifact_name: String,
    pub artifact_type: String,
    /// The first repo digest, else the image ID.
    pub digest: String,
    /// When the scan ran (the report's `CreatedAt`), unix milliseconds.
    #[serde(skip)]
    pub scanned_at_ms: i64,
    /// The same, RFC 3339.
    pub scanned_at: String,
    #[serde(skip)]
    pub recorded_at_ms: i64,
    /// `customs 0.1.0`, `trivy 0.76.0`.
    pub scanner: String,
    /// The vulnerability database the scan used (empty when unknown).
    pub db_version: String,
    pub counts: Counts,
}

/// A point of a trend: one scan's counts at its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Point {
    #[serde(rename = "ID")]
    pub id: i64,
    pub time: String,
    #[serde(skip)]
    pub time_ms: i64,
    pub artifact_ref: String,
    pub digest: String,
    pub counts: Counts,
}

/// A package of an image that a vulnerability affects, in the latest scan of
/// the image's reference ([`Store::affected`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Affected {
    /// The scan (the newest of its reference).
    pub scan: Scan,
    pub pkg_name: String,
    pub installed_version: String,
    /// Empty when there is no fix.
    pub fixed_version: String,
    /// Trivy's name: `UNKNOWN`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`.
    pub severity: String,
    /// The result the finding is in (`app:1.4 (alpine 3.20.3)`,
    /// `usr/src/app/package-lock.json`).
    pub target: String,
}

/// One vulnerability of a scan, as `customs_findings` keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// Upper-cased.
    pub vuln_id: String,
    pub pkg_name: String,
    pub installed_version: String,
    pub fixed_version: String,
    pub severity: String,
    pub target: String,
}

/// A vulnerability ID as the findings table keys it.
fn vuln_key(id: &str) -> String {
    id.trim().to_uppercase()
}

/// Every vulnerability of a report, one finding each.
pub(crate) fn findings_of(report: &Report) -> Vec<Finding> {
    report
        .results
        .iter()
        .flat_map(|r| {
            r.vulnerabilities.iter().map(move |v| Finding {
                vuln_id: vuln_key(&v.vulnerability_id),
                pkg_name: v.pkg_name.clone(),
                installed_version: v.installed_version.clone(),
                fixed_version: v.fixed_version.clone(),
                severity: v.severity.as_str().to_string(),
                target: r.target.clone(),
            })
        })
        .collect()
}

/// The findings of a stored (compressed) report; the problem when it cannot
/// be read.
pub(crate) fn findings_of_stored(blob: &[u8]) -> std::result::Result<Vec<Finding>, String> {
    let json = zstd::decode_all(blob).map_err(|e| format!("cannot decompress: {e}"))?;
    let report: Report = serde_json::from_slice(&json).map_err(|e| format!("not a report: {e}"))?;
    Ok(findings_of(&report))
}

/// What recording one scan writes: the scan row's parameters
/// (`INSERT_SCAN`), the compressed report, and its findings.
pub(crate) struct Row {
    pub scan: Vec<Param>,
    pub report: Vec<u8>,
    pub findings: Vec<Finding>,
}

/// The row of a scan to record (`now`: the recording time, and the scan
/// time when neither the scan nor its report says).
pub(crate) fn scan_row(s: &NewScan, now: i64) -> std::result::Result<Row, String> {
    let r = &s.report;
    let reference = crate::reference_of(r);
    let scanned = s
        .scanned_at_ms
        .or_else(|| parse_time_ms(&r.created_at))
        .unwrap_or(now);
    let json = serde_json::to_vec(r).map_err(|e| format!("cannot serialize the report: {e}"))?;
    let blob = zstd::encode_all(&json[..], ZSTD_LEVEL)
        .map_err(|e| format!("cannot compress the report: {e}"))?;
    let mut p = vec![
        Param::Text(reference.clone()),
        Param::Text(crate::repository_of(&reference).to_string()),
        Param::Text(r.artifact_name.clone()),
        Param::Text(r.artifact_type.clone()),
        Param::Text(crate::digest_of(r)),
        Param::Int(scanned),
        Param::Int(now),
        Param::Text(s.scanner.clone()),
        Param::Text(s.db_version.clone()),
    ];
    p.extend(Counts::of(r).columns().into_iter().map(Param::Int));
    Ok(Row {
        scan: p,
        report: blob,
        findings: findings_of(r),
    })
}

/// A scan to record.
#[derive(Debug, Clone)]
pub struct NewScan {
    pub report: Report,
    pub scanner: String,
    pub db_version: String,
    /// Unix milliseconds; default: the report's `CreatedAt`, else now.
    pub scanned_at_ms: Option<i64>,
}

impl NewScan {
    pub fn new(report: Report, scanner: impl Into<String>, db_version: impl Into<String>) -> Self {
        NewScan {
            report,
            scanner: scanner.into(),
            db_version: db_version.into(),
            scanned_at_ms: None,
        }
    }
}

/// Which scans a query is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    All,
    /// One reference exactly (`app:1.4`, `app@sha256:…`).
    Ref(String),
    /// Every tag of a repository (`app`).
    Repository(String),
}

impl Filter {
    /// `app` → every scan of the repository; `app:1.4` → that reference.
    pub fn parse(s: &str) -> Filter {
        if s.is_empty() {
            Filter::All
        } else if crate::repository_of(s) != s {
            Filter::Ref(s.to_string())
        } else {
            Filter::Repository(s.to_string())
        }
    }

    /// The WHERE clause (with `?` placeholders) and its text parameters.
    fn clause(&self) -> (&'static str, Vec<String>) {
        match self {
            Filter::All => ("1 = 1", vec![]),
            Filter::Ref(r) => ("artifact_ref = ?", vec![r.clone()]),
            Filter::Repository(r) => ("repository = ?", vec![r.clone()]),
        }
    }

    /// The same, on the scans table as `alias` of a join.
    fn clause_on(&self, alias: &str) -> (String, Vec<String>) {
        let (clause, texts) = self.clause();
        let qualified = match self {
            Filter::All => clause.to_string(),
            Filter::Ref(_) | Filter::Repository(_) => format!("{alias}.{clause}"),
        };
        (qualified, texts)
    }
}

/// What `prune` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prune {
    /// All but the newest N scans of each reference.
    Keep(usize),
    /// Scans older than this.
    OlderThan(Duration),
}

/// A parameter of a query.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// A row of a scan query (`SCAN_COLUMNS`).
pub(crate) struct RawScan {
    pub ints: Vec<i64>,
    pub texts: Vec<String>,
}

fn ms_to_rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Unix milliseconds of an RFC 3339 time (`2026-12-01T18:25:52.26Z`).
pub fn parse_time_ms(s: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(s.trim_end_matches('Z'))
        .ok()
        .or_else(|| humantime::parse_rfc3339(s).ok())?;
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    i64::try_from(d.as_millis()).ok()
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl RawScan {
    // ints: id, scanned_at, recorded_at, 15 counts; texts: artifact_ref,
    // repository, artifact_name, artifact_type, digest, scanner, db_version.
    fn into_scan(self) -> Scan {
        let i = |n: usize| self.ints.get(n).copied().unwrap_or(0);
        let t = |n: usize| self.texts.get(n).cloned().unwrap_or_default();
        Scan {
            id: i(0),
            artifact_ref: t(0),
            repository: t(1),
            artifact_name: t(2),
            artifact_type: t(3),
            digest: t(4),
            scanned_at_ms: i(1),
            scanned_at: ms_to_rfc3339(i(1)),
            recorded_at_ms: i(2),
            scanner: t(5),
            db_version: t(6),
            counts: Counts::from_columns(self.ints.get(3..).unwrap_or(&[])),
        }
    }
}

/// Column kinds of `SCAN_COLUMNS` in order: true for an integer.
pub(crate) const SCAN_COLUMN_INT: [bool; 25] = {
    let mut k = [true; 25];
    // artifact_ref .. digest, scanner, db_version
    k[1] = false;
    k[2] = false;
    k[3] = false;
    k[4] = false;
    k[5] = false;
    k[8] = false;
    k[9] = false;
    k
};

enum Backend {
    Sqlite(sqlite::Sqlite),
    Postgres(Box<postgres::Postgres>),
}

/// A history store.
pub struct Store {
    backend: Backend,
    name: String,
}

pub use customs_model::redact_url;

fn is_postgres(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

impl Store {
    /// Open (and create or migrate) a store: a `postgres://` URL, or the
    /// path of a SQLite file.
    pub fn open(spec: &str) -> Result<Store> {
        if is_postgres(spec) {
            let name = redact_url(spec);
            let pg = postgres::Postgres::open(spec).map_err(|problem| Error::Store {
                store: name.clone(),
                problem,
            })?;
            Ok(Store {
                backend: Backend::Postgres(Box::new(pg)),
                name,
            })
        } else {
            let path = std::path::Path::new(spec);
            let s = sqlite::Sqlite::open(path).map_err(|problem| Error::Store {
                store: spec.to_string(),
                problem,
            })?;
            Ok(Store {
                backend: Backend::Sqlite(s),
                name: spec.to_string(),
            })
        }
    }

    /// The store as shown in messages (a URL's password hidden).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The schema version of the store.
    pub fn schema_version(&mut self) -> Result<i64> {
        let r = match &mut self.backend {
            Backend::Sqlite(s) => s.schema_version(),
            Backend::Postgres(p) => p.schema_version(),
        };
        self.wrap(r)
    }

    fn wrap<T>(&self, r: std::result::Result<T, String>) -> Result<T> {
        r.map_err(|problem| Error::Store {
            store: self.name.clone(),
            problem,
        })
    }

    /// Record one scan; returns its ID.
    pub fn record(&mut self, scan: &NewScan) -> Result<i64> {
        let ids = self.record_all(std::slice::from_ref(scan))?;
        ids.first().copied().ok_or_else(|| Error::Store {
            store: self.name.clone(),
            problem: "the insert returned no ID".into(),
        })
    }

    /// Record several scans in one transaction, each with its report and
    /// its findings: all or none.
    pub fn record_all(&mut self, scans: &[NewScan]) -> Result<Vec<i64>> {
        let now = now_ms();
        let mut rows = Vec::with_capacity(scans.len());
        for s in scans {
            let row = scan_row(s, now);
            rows.push(self.wrap(row)?);
        }
        let r = match &mut self.backend {
            Backend::Sqlite(s) => s.insert(&rows),
            Backend::Postgres(p) => p.insert(&rows),
        };
        self.wrap(r)
    }

    /// Import a report read from a file (its own time and scanner).
    pub fn import(&mut self, loaded: &crate::Loaded) -> Result<i64> {
        self.record(&NewScan::new(
            loaded.report.clone(),
            loaded.scanner.clone(),
            String::new(),
        ))
    }

    /// Scans, newest first (`limit` 0: all).
    pub fn list(&mut self, filter: &Filter, limit: usize) -> Result<Vec<Scan>> {
        let (clause, texts) = filter.clause();
        let mut sql = format!(
            "SELECT {} FROM customs_scans WHERE {clause} ORDER BY scanned_at DESC, id DESC",
            schema::SCAN_COLUMNS
        );
        let mut params: Vec<Param> = texts.into_iter().map(Param::Text).collect();
        if limit > 0 {
            sql.push_str(" LIMIT ?");
            params.push(Param::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        }
        self.scans(&sql, &params)
    }

    fn scans(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Scan>> {
        Ok(self
            .raw_scans(sql, params, 0)?
            .into_iter()
            .map(RawScan::into_scan)
            .collect())
    }

    /// Rows of `SCAN_COLUMNS` followed by `extra` text columns (in
    /// `RawScan::texts` after the scan's own).
    fn raw_scans(&mut self, sql: &str, params: &[Param], extra: usize) -> Result<Vec<RawScan>> {
        let r = match &mut self.backend {
            Backend::Sqlite(s) => s.scans(sql, params, extra),
            Backend::Postgres(p) => p.scans(sql, params, extra),
        };
        self.wrap(r)
    }

    /// The images a vulnerability affects: for each reference (of the
    /// filter's), its latest scan only (the newest `scanned_at`, ties by
    /// ID), and that scan's packages with this vulnerability (the ID
    /// matched case-insensitively). Ordered by reference, then package
    /// (then version and target); identical rows of one scan (the same
    /// package at two paths of one target) are listed once. An image whose
    /// newest scan no longer has the vulnerability is not listed.
    pub fn affected(&mut self, vuln_id: &str, filter: &Filter) -> Result<Vec<Affected>> {
        let (clause, texts) = filter.clause_on("s");
        let columns = schema::SCAN_COLUMNS
            .split(',')
            .map(|c| format!("s.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT DISTINCT {columns}, f.pkg_name, f.installed_version, f.fixed_version, f.severity, f.target \
             FROM customs_findings f JOIN customs_scans s ON s.id = f.scan_id \
             WHERE f.vuln_id = ? AND {clause} \
             AND NOT EXISTS (SELECT 1 FROM customs_scans n WHERE n.artifact_ref = s.artifact_ref \
             AND (n.scanned_at > s.scanned_at OR (n.scanned_at = s.scanned_at AND n.id > s.id))) \
             ORDER BY s.artifact_ref, f.pkg_name, f.installed_version, f.target, f.fixed_version, f.severity, s.id"
        );
        let mut params = vec![Param::Text(vuln_key(vuln_id))];
        params.extend(texts.into_iter().map(Param::Text));
        let scan_texts = SCAN_COLUMN_INT.iter().filter(|i| !**i).count();
        let rows = self.raw_scans(&sql, &params, 5)?;
        Ok(rows
            .into_iter()
            .map(|mut raw| {
                let at = scan_texts.min(raw.texts.len());
                let mut extra = raw.texts.split_off(at).into_iter();
                let mut next = || extra.next().unwrap_or_default();
                let (pkg_name, installed_version, fixed_version, severity, target) =
                    (next(), next(), next(), next(), next());
                Affected {
                    scan: raw.into_scan(),
                    pkg_name,
                    installed_version,
                    fixed_version,
                    severity,
                    target,
                }
            })
            .collect())
    }

    /// One scan and its report; `None` when there is no such ID.
    pub fn show(&mut self, id: i64) -> Result<Option<(Scan, Report)>> {
        let sql = format!(
            "SELECT {} FROM customs_scans WHERE id = ?",
            schema::SCAN_COLUMNS
        );
        let Some(scan) = self.scans(&sql, &[Param::Int(id)])?.into_iter().next() else {
            return Ok(None);
        };
        let report = self.report(id)?;
        Ok(Some((scan, report)))
    }

    fn report(&mut self, id: i64) -> Result<Report> {
        let r = match &mut self.backend {
            Backend::Sqlite(s) => s.report(id),
            Backend::Postgres(p) => p.report(id),
        };
        let blob = self.wrap(r)?;
        let bad = |what: String| Error::Store {
            store: self.name.clone(),
            problem: format!("scan {id}: the stored report is damaged ({what})"),
        };
        let Some(blob) = blob else {
            return Err(bad("missing".into()));
        };
        let json = zstd::decode_all(&blob[..]).map_err(|e| bad(e.to_string()))?;
        serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))
    }

    /// Counts over time, oldest first.
    pub fn trend(&mut self, filter: &Filter) -> Result<Vec<Point>> {
        let (clause, texts) = filter.clause();
        let sql = format!(
            "SELECT {} FROM customs_scans WHERE {clause} ORDER BY scanned_at ASC, id ASC",
            schema::SCAN_COLUMNS
        );
        let params: Vec<Param> = texts.into_iter().map(Param::Text).collect();
        Ok(self
            .scans(&sql, &params)?
            .into_iter()
            .map(|s| Point {
                id: s.id,
                time: s.scanned_at,
                time_ms: s.scanned_at_ms,
                artifact_ref: s.artifact_ref,
                digest: s.digest,
                counts: s.counts,
            })
            .collect())
    }

    /// The two newest scans (older first) and their reports; `None` with
    /// fewer than two.
    #[allow(clippy::type_complexity)]
    pub fn last_two(
        &mut self,
        filter: &Filter,
    ) -> Result<Option<((Scan, Report), (Scan, Report))>> {
        let mut scans = self.list(filter, 2)?;
        if scans.len() < 2 {
            return Ok(None);
        }
        let newer = scans.remove(0);
        let older = scans.remove(0);
        let (ro, rn) = (self.report(older.id)?, self.report(newer.id)?);
        Ok(Some(((older, ro), (newer, rn))))
    }

    /// Remove old scans (of the filter's scans); returns how many. One
    /// transaction.
    pub fn prune(&mut self, what: Prune, filter: &Filter) -> Result<u64> {
        let (clause, texts) = filter.clause();
        let mut params: Vec<Param> = texts.into_iter().map(Param::Text).collect();
        let sql = match what {
            Prune::Keep(n) => {
                params.push(Param::Int(i64::try_from(n).unwrap_or(i64::MAX)));
                format!(
                    "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY artifact_ref ORDER BY scanned_at DESC, id DESC) AS rn \
                     FROM customs_scans WHERE {clause}) ranked WHERE rn > ?"
                )
            }
            Prune::OlderThan(age) => {
                let cutoff =
                    now_ms().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
                params.push(Param::Int(cutoff));
                format!("SELECT id FROM customs_scans WHERE {clause} AND scanned_at < ?")
            }
        };
        let r = match &mut self.backend {
            Backend::Sqlite(s) => s.delete_selected(&sql, &params),
            Backend::Postgres(p) => p.delete_selected(&sql, &params),
        };
        self.wrap(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_hide_their_password() {
        assert_eq!(
            redact_url("postgres://bob:s3cret@db.example:5432/h"),
            "postgres://bob:***@db.example:5432/h"
        );
        assert_eq!(redact_url("postgres://bob@db/h"), "postgres://bob@db/h");
        assert_eq!(redact_url("postgres://db/h"), "postgres://db/h");
    }

    #[test]
    fn filters_tell_a_reference_from_a_repository() {
        assert_eq!(Filter::parse("app"), Filter::Repository("app".into()));
        assert_eq!(Filter::parse("app:1.4"), Filter::Ref("app:1.4".into()));
        assert_eq!(
            Filter::parse("localhost:5000/app"),
            Filter::Repository("localhost:5000/app".into())
        );
        assert_eq!(Filter::parse(""), Filter::All);
    }

    #[test]
    fn times_parse_from_customs_and_trivy_reports() {
        assert_eq!(parse_time_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(
            parse_time_ms("2026-12-01T18:25:52.262082561Z"),
            Some(1_796_149_552_262)
        );
        assert_eq!(parse_time_ms("yesterday"), None);
        assert_eq!(ms_to_rfc3339(1000), "1970-01-01T00:00:01Z");
    }

    #[test]
    fn counts_round_trip_through_their_columns() {
        let mut c = Counts::default();
        c.vulnerabilities.critical = 3;
        c.secrets.low = 2;
        c.misconfigurations.unknown = 1;
        assert_eq!(Counts::from_columns(&c.columns()), c);
    }
}

/// `Store::affected` and the findings table, on both backends: the same
/// checks against a SQLite file and a real PostgreSQL server.
#[cfg(test)]
mod affected_tests {
    use super::*;
    use customs_testkit::postgres::Postgres;

    fn must<T, E: std::fmt::Display>(r: std::result::Result<T, E>) -> T {
        r.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Where a test finding is: the OS packages or a lockfile.
    const LOCKFILE: &str = "usr/src/app/package-lock.json";

    /// A report of `reference` with these (id, package, version, severity,
    /// in the lockfile) vulnerabilities.
    fn report(reference: &str, vulns: &[(&str, &str, &str, &str, bool)]) -> Report {
        let entry = |(id, pkg, ver, sev, _): &(&str, &str, &str, &str, bool)| {
            serde_json::json!({"VulnerabilityID": id, "PkgName": pkg, "InstalledVersion": ver,
                               "FixedVersion": format!("{ver}-fixed"), "Status": "fixed", "Severity": sev})
        };
        let os: Vec<_> = vulns.iter().filter(|v| !v.4).map(entry).collect();
        let lang: Vec<_> = vulns.iter().filter(|v| v.4).map(entry).collect();
        let v = serde_json::json!({
            "SchemaVersion": 2, "CreatedAt": "2026-01-02T03:04:05Z",
            "ArtifactName": reference, "ArtifactType": "container_image",
            "Metadata": {"ImageID": format!("sha256:{:0>64}", reference.len())},
            "Results": [
                {"Target": format!("{reference} (alpine 3.20.3)"), "Class": "os-pkgs",
                 "Type": "alpine", "Vulnerabilities": os},
                {"Target": LOCKFILE, "Class": "lang-pkgs", "Type": "npm", "Vulnerabilities": lang},
            ],
        });
        must(crate::parse_report(v.to_string().as_bytes(), reference)).report
    }

    fn at(report: Report, ms: i64) -> NewScan {
        let mut s = NewScan::new(report, "customs 0.1.0", "v2 2026-01-01");
        s.scanned_at_ms = Some(ms);
        s
    }

    /// (reference, package) of each row.
    fn refs(rows: &[Affected]) -> Vec<(String, String)> {
        rows.iter()
            .map(|a| (a.scan.artifact_ref.clone(), a.pkg_name.clone()))
            .collect()
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    const T0: i64 = 1_700_000_000_000;

    /// What `affected` answers, and what prune leaves; `findings` counts the
    /// rows of `customs_findings`.
    fn exercise(spec: &str, findings: &dyn Fn() -> i64) {
        let mut st = must(Store::open(spec));
        assert_eq!(must(st.schema_version()), schema::latest());
        let cve = "CVE-2024-1";
        let web_scan = report(
            "web:2",
            &[
                (cve, "ssl_client", "1.0", "HIGH", false),
                (cve, "busybox", "1.0", "HIGH", false),
                // The same package twice in one target: listed once.
                (cve, "busybox", "1.0", "HIGH", false),
                ("CVE-2024-2", "zlib", "1.2", "LOW", false),
                ("GHSA-abcd-efgh-ijkl", "lodash", "4.17.0", "CRITICAL", true),
            ],
        );
        let ids = must(st.record_all(&[
            at(
                report(
                    "app:1",
                    &[
                        (cve, "busybox", "1.0", "HIGH", false),
                        ("CVE-2024-2", "zlib", "1.2", "LOW", false),
                    ],
                ),
                T0,
            ),
            at(web_scan, T0 + 1),
            at(
                report("api:1", &[(cve, "musl", "1.2", "MEDIUM", false)]),
                T0 + 2,
            ),
            // app:1 rescanned: CVE-2024-1 is fixed in its newest scan.
            at(
                report("app:1", &[("CVE-2024-2", "zlib", "1.2", "LOW", false)]),
                T0 + 3,
            ),
            // Two scans of tie:1 at one time: the later ID is the latest.
            at(
                report("tie:1", &[(cve, "busybox", "1.0", "HIGH", false)]),
                T0 + 4,
            ),
            at(report("tie:1", &[]), T0 + 4),
        ]));
        assert_eq!(ids.len(), 6);
        assert_eq!(findings(), 2 + 5 + 1 + 1 + 1, "one row per vulnerability");

        let all = must(st.affected(cve, &Filter::All));
        assert_eq!(
            refs(&all),
            pairs(&[
                ("api:1", "musl"),
                ("web:2", "busybox"),
                ("web:2", "ssl_client")
            ]),
            "the latest scan of each reference only, by reference then package"
        );
        let busybox = &all[1];
        assert_eq!(busybox.scan.id, ids[1]);
        assert_eq!(busybox.scan.repository, "web");
        assert_eq!(busybox.scan.scanned_at_ms, T0 + 1);
        assert_eq!(busybox.installed_version, "1.0");
        assert_eq!(busybox.fixed_version, "1.0-fixed");
        assert_eq!(busybox.severity, "HIGH");
        assert_eq!(busybox.target, "web:2 (alpine 3.20.3)");
        assert_eq!(all[0].severity, "MEDIUM");

        let json = must(serde_json::to_value(busybox));
        for key in [
            "Scan",
            "PkgName",
            "InstalledVersion",
            "FixedVersion",
            "Severity",
            "Target",
        ] {
            assert!(json.get(key).is_some(), "{key} in {json}");
        }
        assert_eq!(json["Scan"]["ArtifactRef"], "web:2");
        assert!(json["Scan"]["ID"].is_i64(), "{json}");

        // The ID in any case.
        assert_eq!(must(st.affected("cve-2024-1", &Filter::All)), all);
        assert_eq!(must(st.affected(" Cve-2024-1 ", &Filter::All)), all);
        let ghsa = must(st.affected("ghsa-ABCD-efgh-ijkl", &Filter::All));
        assert_eq!(refs(&ghsa), pairs(&[("web:2", "lodash")]));
        assert_eq!(ghsa[0].target, LOCKFILE);
        assert_eq!(ghsa[0].severity, "CRITICAL");

        // Filters narrow.
        assert_eq!(
            refs(&must(st.affected(cve, &Filter::parse("web")))),
            pairs(&[("web:2", "busybox"), ("web:2", "ssl_client")])
        );
        assert_eq!(
            refs(&must(st.affected(cve, &Filter::parse("api:1")))),
            pairs(&[("api:1", "musl")])
        );
        assert!(must(st.affected(cve, &Filter::parse("app"))).is_empty());
        assert!(must(st.affected(cve, &Filter::parse("tie"))).is_empty());
        assert!(must(st.affected("CVE-1999-0001", &Filter::All)).is_empty());
        // Still in app:1's newest scan, with its newest ID.
        let zlib = must(st.affected("CVE-2024-2", &Filter::All));
        assert_eq!(refs(&zlib), pairs(&[("app:1", "zlib"), ("web:2", "zlib")]));
        assert_eq!(zlib[0].scan.id, ids[3]);

        // Prune: app:1's first scan and tie:1's first go, their rows too.
        assert_eq!(must(st.prune(Prune::Keep(1), &Filter::All)), 2);
        assert_eq!(findings(), 5 + 1 + 1, "the pruned scans' rows are gone");
        assert_eq!(must(st.affected(cve, &Filter::All)), all);
        assert_eq!(
            must(st.prune(Prune::Keep(0), &Filter::parse("web"))),
            1,
            "keep 0 of web"
        );
        assert_eq!(findings(), 1 + 1);
        assert_eq!(
            refs(&must(st.affected(cve, &Filter::All))),
            pairs(&[("api:1", "musl")])
        );
    }

    /// A store at schema 2 (migrations 1 and 2 only, as an older customs
    /// left it) holding these scans, and one whose stored report is
    /// damaged. `exec` runs one statement; `insert` records a scan row and
    /// its report as schema 2 did, returning the ID.
    fn at_schema_2(
        d: schema::Dialect,
        exec: &mut dyn FnMut(&str),
        insert: &mut dyn FnMut(&Row, &[u8]) -> i64,
        scans: &[NewScan],
    ) -> Vec<i64> {
        exec(&schema::sql(
            d,
            "CREATE TABLE customs_schema_version (version {INT} NOT NULL)",
        ));
        exec("INSERT INTO customs_schema_version (version) VALUES (2)");
        for (version, step) in schema::MIGRATIONS {
            if *version <= 2 {
                for stmt in schema::statements(d, step) {
                    exec(&stmt);
                }
            }
        }
        let mut ids = Vec::new();
        for s in scans {
            let row = must(scan_row(s, T0));
            ids.push(insert(&row, &row.report));
        }
        let damaged = must(scan_row(&at(report("broken:1", &[]), T0), T0));
        ids.push(insert(&damaged, b"not zstd"));
        ids
    }

    /// The scans of a schema-2 store: Trivy's real report of alpine 3.20.3
    /// (56 vulnerabilities) and app:1 twice.
    fn old_scans() -> Vec<NewScan> {
        let alpine = must(crate::parse_report(
            include_bytes!("../../tests/fixtures/trivy-alpine-3.20.3.json"),
            "trivy-alpine-3.20.3.json",
        ));
        vec![
            NewScan::new(alpine.report, alpine.scanner, ""),
            at(
                report("app:1", &[("CVE-2024-1", "busybox", "1.0", "HIGH", false)]),
                T0,
            ),
            at(
                report("app:1", &[("CVE-2024-2", "zlib", "1.2", "LOW", false)]),
                T0 + 1,
            ),
        ]
    }

    /// Opening the schema-2 store migrates it and fills the findings of
    /// its scans from their reports.
    fn check_backfill(spec: &str, ids: &[i64], findings: &dyn Fn() -> i64) {
        let mut st = must(Store::open(spec));
        assert_eq!(must(st.schema_version()), schema::latest());
        assert_eq!(findings(), 56 + 1 + 1, "every stored report's findings");
        let busybox = must(st.affected("cve-2024-58251", &Filter::All));
        assert_eq!(
            refs(&busybox),
            pairs(&[
                ("alpine:3.20.3", "busybox"),
                ("alpine:3.20.3", "busybox-binsh"),
                ("alpine:3.20.3", "ssl_client")
            ])
        );
        assert_eq!(busybox[0].scan.id, ids[0]);
        assert_eq!(busybox[0].installed_version, "1.36.1-r29");
        assert_eq!(busybox[0].fixed_version, "1.36.1-r31");
        assert_eq!(busybox[0].severity, "UNKNOWN");
        assert_eq!(
            busybox[0].target,
            "../shared/data/images/alpine-3.20.3.tar.gz (alpine 3.20.3)"
        );
        assert!(
            must(st.affected("CVE-2024-1", &Filter::All)).is_empty(),
            "app:1's newest scan no longer has it"
        );
        assert_eq!(
            refs(&must(st.affected("CVE-2024-2", &Filter::All))),
            pairs(&[("app:1", "zlib")])
        );
        // The damaged report left its scan without findings, not the store
        // unopenable.
        assert_eq!(must(st.list(&Filter::All, 0)).len(), ids.len());
        // A scan recorded now gets its rows; reopening backfills nothing
        // twice.
        must(st.record(&at(
            report("app:1", &[("CVE-2024-1", "busybox", "1.1", "HIGH", false)]),
            T0 + 2,
        )));
        drop(st);
        let mut st = must(Store::open(spec));
        assert_eq!(findings(), 56 + 1 + 1 + 1);
        assert_eq!(
            refs(&must(st.affected("CVE-2024-1", &Filter::All))),
            pairs(&[("app:1", "busybox")])
        );
    }

    fn sqlite_count(path: &std::path::Path) -> i64 {
        let conn = must(rusqlite::Connection::open(path));
        must(conn.query_row("SELECT count(*) FROM customs_findings", [], |r| r.get(0)))
    }

    #[test]
    fn sqlite_affected_lists_the_latest_scan_of_each_image() {
        let dir = must(tempfile::tempdir());
        let path = dir.path().join("h.db");
        exercise(&path.display().to_string(), &|| sqlite_count(&path));
    }

    #[test]
    fn sqlite_findings_are_looked_up_by_index_and_cascade_with_their_scan() {
        let dir = must(tempfile::tempdir());
        let path = dir.path().join("h.db");
        let mut st = must(Store::open(&path.display().to_string()));
        let id = must(st.record(&at(
            report("app:1", &[("CVE-2024-1", "busybox", "1.0", "HIGH", false)]),
            T0,
        )));
        drop(st);
        assert_eq!(sqlite_count(&path), 1);
        let conn = must(rusqlite::Connection::open(&path));
        let plan: String = must(conn.query_row(
            "EXPLAIN QUERY PLAN SELECT scan_id FROM customs_findings WHERE vuln_id = 'X'",
            [],
            |r| r.get(3),
        ));
        assert!(plan.contains("customs_findings_vuln"), "{plan}");
        // The schema cascades (the store's connections turn foreign keys
        // on; prune deletes the rows itself as well).
        must(conn.execute_batch("PRAGMA foreign_keys = ON"));
        must(conn.execute("DELETE FROM customs_scans WHERE id = ?", [id]));
        assert_eq!(sqlite_count(&path), 0);
    }

    #[test]
    fn sqlite_a_schema_2_store_is_backfilled_when_opened() {
        let dir = must(tempfile::tempdir());
        let path = dir.path().join("h.db");
        let ids = {
            let conn = must(rusqlite::Connection::open(&path));
            let c = &conn;
            at_schema_2(
                schema::Dialect::Sqlite,
                &mut |sql| must(c.execute_batch(sql)),
                &mut |row, blob| {
                    let id: i64 = must(c.query_row(
                        schema::INSERT_SCAN,
                        rusqlite::params_from_iter(row.scan.iter()),
                        |r| r.get(0),
                    ));
                    must(c.execute(schema::INSERT_REPORT, rusqlite::params![id, blob]));
                    id
                },
                &old_scans(),
            )
        };
        let tables = {
            let conn = must(rusqlite::Connection::open(&path));
            let n: i64 = must(conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'customs_findings'",
                [],
                |r| r.get(0),
            ));
            n
        };
        assert_eq!(tables, 0, "schema 2 has no findings table");
        check_backfill(&path.display().to_string(), &ids, &|| sqlite_count(&path));
    }

    fn pg_count(pg: &Postgres, db: &str) -> i64 {
        must(
            pg.psql(db, "SELECT count(*) FROM customs_findings")
                .parse::<i64>(),
        )
    }

    #[test]
    fn postgres_affected_lists_the_latest_scan_of_each_image() {
        let pg = Postgres::start();
        let url = pg.create_db("affected");
        exercise(&url, &|| pg_count(&pg, "affected"));
        let idx = pg.psql(
            "affected",
            "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'customs_findings'",
        );
        assert_eq!(idx, "customs_findings_scan,customs_findings_vuln");
    }

    #[test]
    fn postgres_a_schema_2_store_is_backfilled_when_opened() {
        let pg = Postgres::start();
        let url = pg.create_db("backfill");
        let ids = {
            let mut client = must(::postgres::Client::connect(&url, ::postgres::NoTls));
            let c = std::cell::RefCell::new(&mut client);
            at_schema_2(
                schema::Dialect::Postgres,
                &mut |sql| must(c.borrow_mut().batch_execute(sql)),
                &mut |row, blob| {
                    let mut c = c.borrow_mut();
                    let scan = must(c.query_one(
                        &schema::sql(schema::Dialect::Postgres, schema::INSERT_SCAN),
                        &super::postgres::params(&row.scan),
                    ));
                    let id: i64 = must(scan.try_get(0));
                    let blob = blob.to_vec();
                    must(c.execute(
                        &schema::sql(schema::Dialect::Postgres, schema::INSERT_REPORT),
                        &[&id, &blob],
                    ));
                    id
                },
                &old_scans(),
            )
        };
        assert_eq!(
            pg.psql("backfill", "SELECT to_regclass('customs_findings') IS NULL"),
            "t",
            "schema 2 has no findings table"
        );
        check_backfill(&url, &ids, &|| pg_count(&pg, "backfill"));
    }
}
