//! Reading a database: opened read-only and immutable, so that readers
//! never take a lock and never block an update (which replaces the file by
//! rename; an open reader keeps reading the file it opened).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use customs_model::{Affected, OsInfo, Severity, Status};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use crate::build::SourceStats;
use crate::error::DbError;
use crate::record::{Cvss, EpssScore, KevRecord};
use crate::schema::{FORMAT_MARKER, SCHEMA_VERSION};

/// One source's statement about one package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advisory {
    pub vulnerability_id: String,
    pub ecosystem: String,
    pub package: String,
    /// Data source id (`alpine-secdb`, `debian-tracker`, `go-vulndb`...).
    pub source: String,
    /// The record's id in its source (`DSA-5380-1`, `GO-2024-3228`).
    pub source_id: String,
    pub status: Status,
    /// Severity as this source rates it.
    pub severity: Option<Severity>,
    pub affected: Affected,
    /// RustSec `informational` kind (`unmaintained`, `unsound`...).
    pub informational: Option<String>,
}

impl Advisory {
    /// Versions that fix it, for display (`1.2.3, 2.0.1`).
    pub fn fixed_versions(&self) -> Vec<&str> {
        self.affected.fixed_versions()
    }
}

/// A vulnerability merged from every source that described it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vulnerability {
    pub id: String,
    pub aliases: Vec<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The preferred severity (NVD's, else the first source's).
    pub severity: Option<Severity>,
    /// The source of `severity`.
    pub severity_source: Option<String>,
    /// Severity per data source id.
    pub severities: BTreeMap<String, Severity>,
    pub cvss: Vec<Cvss>,
    pub cwe_ids: Vec<String>,
    pub references: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
}

/// The `metadata` and `data_sources` tables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    pub schema_version: u32,
    /// RFC 3339.
    pub built_at: String,
    pub next_update: Option<String>,
    pub downloaded_at: Option<String>,
    /// Version of customs-vulndb that wrote the file.
    pub customs_version: Option<String>,
    /// The KEV catalog's `catalogVersion`, when the build had one.
    pub kev_catalog_version: Option<String>,
    /// The EPSS file's model version and score date, when the build had one.
    pub epss_model_version: Option<String>,
    pub epss_score_date: Option<String>,
    pub sources: Vec<SourceStats>,
}

impl Metadata {
    /// True when `next_update` is in the past (or unreadable).
    pub fn needs_update(&self, now: std::time::SystemTime) -> bool {
        match self
            .next_update
            .as_deref()
            .and_then(|s| humantime::parse_rfc3339_weak(s).ok())
        {
            Some(t) => now >= t,
            None => true,
        }
    }
}

/// An open database. Not `Sync` (SQLite connections are not); open one per
/// thread with [`VulnDb::open`] or [`VulnDb::try_clone`] — opening is cheap.
pub struct VulnDb {
    conn: Connection,
    path: PathBuf,
}

/// `file:` URI of a path with the characters URIs reserve escaped.
fn file_uri(path: &Path) -> String {
    let s = path.to_string_lossy();
    let mut out = String::from("file:");
    for b in s.bytes() {
        match b {
            b'%' | b'?' | b'#' | b' ' => out.push_str(&format!("%{b:02X}")),
            _ => out.push(b as char),
        }
    }
    out.push_str("?immutable=1");
    out
}

impl VulnDb {
    /// Open `path` read-only and immutable, and check it is a customs
    /// database of the schema version this code reads.
    pub fn open(path: &Path) -> Result<VulnDb, DbError> {
        if !path.is_file() {
            return Err(DbError::Missing {
                path: path.to_path_buf(),
            });
        }
        // Non-UTF-8 paths cannot go through a URI; read-only still never
        // writes, it only takes shared locks.
        let conn = match path.to_str() {
            Some(_) => Connection::open_with_flags(
                file_uri(path),
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
            None => Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
        }
        .map_err(|source| DbError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
        // Map the file instead of copying pages through read(2): the file is
        // immutable while open (updates replace it by rename).
        let _ = conn.execute_batch("PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -32768;");
        let db = VulnDb {
            conn,
            path: path.to_path_buf(),
        };
        db.check_schema()?;
        Ok(db)
    }

    /// Another connection to the same file (for another thread).
    pub fn try_clone(&self) -> Result<VulnDb, DbError> {
        VulnDb::open(&self.path)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql(&self, source: rusqlite::Error) -> DbError {
        DbError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn check_schema(&self) -> Result<(), DbError> {
        let not_ours = |reason: String| DbError::NotCustomsDb {
            path: self.path.clone(),
            reason,
        };
        let get = |key: &str| -> Result<Option<String>, DbError> {
            self.conn
                .query_row("SELECT value FROM metadata WHERE key = ?1", [key], |r| {
                    r.get::<_, String>(0)
                })
                .optional()
                .map_err(|e| not_ours(format!("no readable metadata table: {e}")))
        };
        match get("format")? {
            Some(f) if f == FORMAT_MARKER => {}
            other => return Err(not_ours(format!("format marker is {other:?}"))),
        }
        let found = get("schema_version")?
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| not_ours("no schema_version".into()))?;
        if found != SCHEMA_VERSION {
            return Err(DbError::SchemaMismatch {
                path: self.path.clone(),
                found,
                expected: SCHEMA_VERSION,
            });
        }
        Ok(())
    }

    /// Metadata: schema version, dates, per-source counts.
    pub fn metadata(&self) -> Result<Metadata, DbError> {
        let mut meta: BTreeMap<String, String> = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM metadata")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.sql(e))?;
        for row in rows {
            let (k, v) = row.map_err(|e| self.sql(e))?;
            meta.insert(k, v);
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, name, url, files, records, withdrawn, skipped, advisories, vulnerabilities, updated_at FROM data_sources ORDER BY id",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SourceStats {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    url: r.get(2)?,
                    files: r.get::<_, i64>(3)?.max(0) as u64,
                    records: r.get::<_, i64>(4)?.max(0) as u64,
                    withdrawn: r.get::<_, i64>(5)?.max(0) as u64,
                    skipped: r.get::<_, i64>(6)?.max(0) as u64,
                    advisories: r.get::<_, i64>(7)?.max(0) as u64,
                    vulnerabilities: r.get::<_, i64>(8)?.max(0) as u64,
                    updated_at: r.get(9)?,
                })
            })
            .map_err(|e| self.sql(e))?;
        let mut sources = Vec::new();
        for row in rows {
            sources.push(row.map_err(|e| self.sql(e))?);
        }
        Ok(Metadata {
            schema_version: meta
                .get("schema_version")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            built_at: meta.get("built_at").cloned().unwrap_or_default(),
            next_update: meta.get("next_update").cloned(),
            downloaded_at: meta.get("downloaded_at").cloned(),
            customs_version: meta.get("customs_version").cloned(),
            kev_catalog_version: meta.get("kev_catalog_version").cloned(),
            epss_model_version: meta.get("epss_model_version").cloned(),
            epss_score_date: meta.get("epss_score_date").cloned(),
            sources,
        })
    }

    /// Every advisory for one package of one ecosystem (`alpine:3.10`,
    /// `debian:12`, `PyPI`, `Go`...). The name is normalized the way the
    /// ecosystem compares names (PEP 503 for PyPI...). One indexed lookup.
    pub fn advisories(&self, ecosystem: &str, package: &str) -> Result<Vec<Advisory>, DbError> {
        let package = customs_model::normalize_name(ecosystem, package);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT vulnerability_id, source, source_id, status, severity, affected, informational FROM advisories WHERE ecosystem = ?1 AND package = ?2",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([ecosystem, package.as_str()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (vid, source, source_id, status, severity, affected, informational) =
                row.map_err(|e| self.sql(e))?;
            let affected: Affected =
                serde_json::from_str(&affected).map_err(|e| DbError::Corrupt {
                    path: self.path.clone(),
                    what: "affected JSON",
                    key: format!("{ecosystem}/{package}/{vid}"),
                    reason: e.to_string(),
                })?;
            out.push(Advisory {
                vulnerability_id: vid,
                ecosystem: ecosystem.to_string(),
                package: package.clone(),
                source,
                source_id,
                status: Status::parse(&status).unwrap_or_default(),
                severity: severity.as_deref().and_then(Severity::parse),
                affected,
                informational,
            });
        }
        Ok(out)
    }

    /// A vulnerability by id or by one of its aliases.
    pub fn vulnerability(&self, id: &str) -> Result<Option<Vulnerability>, DbError> {
        if let Some(v) = self.vulnerability_exact(id)? {
            return Ok(Some(v));
        }
        let canonical: Option<String> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT vulnerability_id FROM aliases WHERE alias = ?1 LIMIT 1")
                .map_err(|e| self.sql(e))?;
            stmt.query_row([id], |r| r.get(0))
                .optional()
                .map_err(|e| self.sql(e))?
        };
        match canonical {
            Some(c) => self.vulnerability_exact(&c),
            None => Ok(None),
        }
    }

    fn vulnerability_exact(&self, id: &str) -> Result<Option<Vulnerability>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, title, description, severity, severity_source, severities, cvss, cwe_ids, reference_urls, aliases, published, modified FROM vulnerabilities WHERE id = ?1",
            )
            .map_err(|e| self.sql(e))?;
        type Row = (
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = stmt
            .query_row([id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                    r.get(11)?,
                ))
            })
            .optional()
            .map_err(|e| self.sql(e))?;
        let Some(r) = row else { return Ok(None) };
        let corrupt = |what: &'static str, e: serde_json::Error| DbError::Corrupt {
            path: self.path.clone(),
            what,
            key: id.to_string(),
            reason: e.to_string(),
        };
        Ok(Some(Vulnerability {
            id: r.0,
            title: r.1,
            description: r.2,
            severity: r.3.as_deref().and_then(Severity::parse),
            severity_source: r.4,
            severities: serde_json::from_str(&r.5).map_err(|e| corrupt("severities JSON", e))?,
            cvss: serde_json::from_str(&r.6).map_err(|e| corrupt("cvss JSON", e))?,
            cwe_ids: serde_json::from_str(&r.7).map_err(|e| corrupt("cwe_ids JSON", e))?,
            references: serde_json::from_str(&r.8)
                .map_err(|e| corrupt("reference_urls JSON", e))?,
            aliases: serde_json::from_str(&r.9).map_err(|e| corrupt("aliases JSON", e))?,
            published: r.10,
            modified: r.11,
        }))
    }

    /// The KEV entry of the first of `ids` (a finding's id, then its
    /// aliases) that the catalog lists.
    pub fn known_exploited(&self, ids: &[&str]) -> Result<Option<KevRecord>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT cve_id, date_added, due_date, ransomware, vendor_project, product, name, required_action FROM known_exploited WHERE cve_id = ?1",
            )
            .map_err(|e| self.sql(e))?;
        for id in ids.iter().filter(|i| i.starts_with("CVE-")) {
            let row = stmt
                .query_row([id], |r| {
                    Ok(KevRecord {
                        cve_id: r.get(0)?,
                        date_added: r.get(1)?,
                        due_date: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        ransomware: r.get(3)?,
                        vendor_project: r.get(4)?,
                        product: r.get(5)?,
                        name: r.get(6)?,
                        required_action: r.get(7)?,
                    })
                })
                .optional()
                .map_err(|e| self.sql(e))?;
            if row.is_some() {
                return Ok(row);
            }
        }
        Ok(None)
    }

    /// The highest EPSS score among `ids` (a finding's id and aliases).
    pub fn epss(&self, ids: &[&str]) -> Result<Option<EpssScore>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT score, percentile FROM epss WHERE cve_id = ?1")
            .map_err(|e| self.sql(e))?;
        let mut best: Option<EpssScore> = None;
        for id in ids.iter().filter(|i| i.starts_with("CVE-")) {
            let row: Option<(f64, f64)> = stmt
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(|e| self.sql(e))?;
            if let Some((score, percentile)) = row {
                if best.as_ref().is_none_or(|b| score > b.score) {
                    best = Some(EpssScore {
                        cve_id: id.to_string(),
                        score,
                        percentile,
                    });
                }
            }
        }
        Ok(best)
    }

    /// Check the whole file: SQLite's `quick_check`, and every table this
    /// code reads is there with the expected columns.
    pub fn verify(&self) -> Result<(), DbError> {
        let corrupt = |reason: String| DbError::NotCustomsDb {
            path: self.path.clone(),
            reason,
        };
        let result: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| corrupt(format!("integrity check failed: {e}")))?;
        if result != "ok" {
            return Err(corrupt(format!("integrity check failed: {result}")));
        }
        self.metadata()?;
        for sql in [
            "SELECT ecosystem, package, vulnerability_id, source, source_id, status, severity, affected, fixed_versions, informational FROM advisories LIMIT 1",
            "SELECT id, title, description, severity, severity_source, severities, cvss, cwe_ids, reference_urls, aliases, published, modified FROM vulnerabilities LIMIT 1",
            "SELECT alias, vulnerability_id FROM aliases LIMIT 1",
            "SELECT cve_id, date_added, due_date, ransomware, vendor_project, product, name, required_action FROM known_exploited LIMIT 1",
            "SELECT cve_id, score, percentile FROM epss LIMIT 1",
        ] {
            self.conn
                .prepare(sql)
                .and_then(|mut s| s.query([]).map(|_| ()))
                .map_err(|e| corrupt(format!("unexpected table layout: {e}")))?;
        }
        Ok(())
    }

    /// Up to `n` distinct (ecosystem, package) pairs spread evenly over the
    /// table, in key order (for benchmarks and smoke tests).
    pub fn sample_packages(&self, n: usize) -> Result<Vec<(String, String)>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT ecosystem, package FROM advisories")
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.sql(e))?;
        let all: Vec<(String, String)> = rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))?;
        if n == 0 || all.is_empty() {
            return Ok(Vec::new());
        }
        let step = (all.len() / n).max(1);
        Ok(all.into_iter().step_by(step).take(n).collect())
    }

    /// Whether the database holds any advisory for `ecosystem`
    /// (`alpine:3.20`, `debian:13`, `npm`). A scan of packages in an
    /// ecosystem without any is "unknown", not "clean". One probe of the
    /// primary key's prefix.
    pub fn has_advisories(&self, ecosystem: &str) -> Result<bool, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM advisories WHERE ecosystem = ?1 LIMIT 1")
            .map_err(|e| self.sql(e))?;
        stmt.exists([ecosystem]).map_err(|e| self.sql(e))
    }

    /// The ecosystems present, with their advisory counts.
    pub fn ecosystems(&self) -> Result<Vec<(String, u64)>, DbError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT ecosystem, COUNT(*) FROM advisories GROUP BY ecosystem ORDER BY ecosystem",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
            })
            .map_err(|e| self.sql(e))?;
        rows.map(|r| r.map_err(|e| self.sql(e))).collect()
    }
}

/// The advisory ecosystem of a detected OS: `alpine:3.10` for Alpine
/// 3.10.4, `debian:12` for Debian 12.7, `ubuntu:22.04`; `None` for
/// families no feed covers.
pub fn os_ecosystem(os: &OsInfo) -> Option<String> {
    let family = os.family.trim().to_ascii_lowercase();
    let v = os.name.trim();
    let mut parts = v.split('.');
    let major = parts.next().filter(|m| !m.is_empty())?;
    match family.as_str() {
        "alpine" => {
            let minor = parts.next()?;
            Some(format!("alpine:{major}.{minor}"))
        }
        "debian" => Some(format!("debian:{major}")),
        "ubuntu" => {
            let minor = parts.next()?;
            Some(format!("ubuntu:{major}.{minor}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes() {
        assert_eq!(
            file_uri(Path::new("/a b/c?d#e%f.db")),
            "file:/a%20b/c%3Fd%23e%25f.db?immutable=1"
        );
    }

    #[test]
    fn os_ecosystems() {
        let os = |f: &str, n: &str| OsInfo {
            family: f.into(),
            name: n.into(),
            eosl: false,
        };
        assert_eq!(
            os_ecosystem(&os("alpine", "3.10.4")).as_deref(),
            Some("alpine:3.10")
        );
        assert_eq!(
            os_ecosystem(&os("debian", "12.7")).as_deref(),
            Some("debian:12")
        );
        assert_eq!(
            os_ecosystem(&os("ubuntu", "22.04")).as_deref(),
            Some("ubuntu:22.04")
        );
        assert_eq!(os_ecosystem(&os("redhat", "9.1")), None);
        assert_eq!(os_ecosystem(&os("alpine", "")), None);
    }
}
