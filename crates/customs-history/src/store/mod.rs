//! The history of scans: each recorded scan keeps the artifact reference and
//! digest, the time, the scanner and database versions, the counts of
//! findings by scanner and severity, and the full report (zstd-compressed
//! JSON).
//!
//! [`Store::open`] takes a path (one SQLite file, WAL mode, safe for
//! concurrent writers: each write is one `BEGIN IMMEDIATE` transaction and
//! waits up to the busy timeout for another) or a `postgres://` URL (a
//! team's shared history; the same schema). Writes are transactions: a
//! failing import or prune leaves the store as it was.

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

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rfind('@') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{host}"),
        None => url.to_string(),
    }
}

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

    /// Record several scans in one transaction: all or none.
    pub fn record_all(&mut self, scans: &[NewScan]) -> Result<Vec<i64>> {
        let now = now_ms();
        let mut rows = Vec::with_capacity(scans.len());
        for s in scans {
            rows.push(self.row_of(s, now)?);
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

    fn row_of(&self, s: &NewScan, now: i64) -> Result<(Vec<Param>, Vec<u8>)> {
        let r = &s.report;
        let reference = crate::reference_of(r);
        let scanned = s
            .scanned_at_ms
            .or_else(|| parse_time_ms(&r.created_at))
            .unwrap_or(now);
        let json = serde_json::to_vec(r).map_err(|e| Error::Store {
            store: self.name.clone(),
            problem: format!("cannot serialize the report: {e}"),
        })?;
        let blob = zstd::encode_all(&json[..], ZSTD_LEVEL).map_err(|e| Error::Store {
            store: self.name.clone(),
            problem: format!("cannot compress the report: {e}"),
        })?;
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
        Ok((p, blob))
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
        let r = match &mut self.backend {
            Backend::Sqlite(s) => s.scans(sql, params),
            Backend::Postgres(p) => p.scans(sql, params),
        };
        Ok(self.wrap(r)?.into_iter().map(RawScan::into_scan).collect())
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
