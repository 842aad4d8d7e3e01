//! The embedded store: one SQLite file, WAL mode (readers never wait for a
//! writer), each write one `BEGIN IMMEDIATE` transaction that waits up to
//! [`super::BUSY_TIMEOUT`] for another writer, process or thread.

use super::schema::{self, Dialect};
use super::{Finding, Param, RawScan, Row, SCAN_COLUMN_INT};
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::Path;

pub(crate) struct Sqlite {
    conn: Connection,
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Int(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            Param::Text(t) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(t.as_bytes())),
        })
    }
}

/// One line for a SQLite error; a damaged or foreign file says so.
fn problem(e: rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            "not a customs history database (the file is not SQLite, or is damaged)".into()
        }
        Some(ErrorCode::DatabaseCorrupt) => format!("the history database is damaged ({e})"),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            format!("the history database stayed locked by another writer ({e})")
        }
        Some(ErrorCode::ReadOnly) | Some(ErrorCode::CannotOpen) => {
            format!("cannot write the history database ({e})")
        }
        _ => e.to_string(),
    }
}

impl Sqlite {
    pub fn open(path: &Path) -> Result<Sqlite, String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        if path.is_dir() {
            return Err("is a directory, not a history file".into());
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(problem)?;
        conn.busy_timeout(super::BUSY_TIMEOUT).map_err(problem)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(problem)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::debug!("{}: journal mode {mode} (WAL refused)", path.display());
        }
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(problem)?;
        let mut s = Sqlite { conn };
        s.migrate()?;
        Ok(s)
    }

    fn migrate(&mut self) -> Result<(), String> {
        // Nothing to do (the common case) needs no write lock.
        if self.current_version().ok() == Some(schema::latest()) {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(problem)?;
        let tables: Vec<String> = {
            let mut st = tx
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                .map_err(problem)?;
            let rows = st.query_map([], |r| r.get(0)).map_err(problem)?;
            rows.collect::<Result<_, _>>().map_err(problem)?
        };
        let ours = tables.iter().any(|t| t == "customs_schema_version");
        if !ours && !tables.is_empty() {
            return Err(format!(
                "not a customs history database (it holds other tables: {})",
                tables.join(", ")
            ));
        }
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS customs_schema_version (version INTEGER NOT NULL)",
        )
        .map_err(problem)?;
        let current: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM customs_schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(problem)?;
        if current > schema::latest() {
            return Err(format!(
                "the history schema is version {current}, newer than this customs knows ({}); upgrade customs",
                schema::latest()
            ));
        }
        for (version, step) in schema::MIGRATIONS {
            if *version <= current {
                continue;
            }
            for stmt in schema::statements(Dialect::Sqlite, step) {
                tx.execute_batch(&stmt)
                    .map_err(|e| format!("migration {version}: {}", problem(e)))?;
            }
            if *version == schema::FINDINGS_MIGRATION {
                backfill_findings(&tx)
                    .map_err(|e| format!("migration {version}: {}", problem(e)))?;
            }
        }
        tx.execute("DELETE FROM customs_schema_version", [])
            .map_err(problem)?;
        tx.execute(
            "INSERT INTO customs_schema_version (version) VALUES (?)",
            [schema::latest()],
        )
        .map_err(problem)?;
        tx.commit().map_err(problem)
    }

    fn current_version(&self) -> rusqlite::Result<i64> {
        self.conn
            .query_row("SELECT MAX(version) FROM customs_schema_version", [], |r| {
                r.get(0)
            })
    }

    pub fn schema_version(&mut self) -> Result<i64, String> {
        self.current_version().map_err(problem)
    }

    pub fn insert(&mut self, rows: &[Row]) -> Result<Vec<i64>, String> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(problem)?;
        let mut ids = Vec::with_capacity(rows.len());
        {
            let mut scan = tx.prepare_cached(schema::INSERT_SCAN).map_err(problem)?;
            let mut report = tx.prepare_cached(schema::INSERT_REPORT).map_err(problem)?;
            let mut finding = tx.prepare_cached(schema::INSERT_FINDING).map_err(problem)?;
            for row in rows {
                let id: i64 = scan
                    .query_row(rusqlite::params_from_iter(row.scan.iter()), |r| r.get(0))
                    .map_err(problem)?;
                report
                    .execute(rusqlite::params![id, row.report])
                    .map_err(problem)?;
                insert_findings(&mut finding, id, &row.findings).map_err(problem)?;
                ids.push(id);
            }
        }
        tx.commit().map_err(problem)?;
        Ok(ids)
    }

    /// Rows of `SCAN_COLUMNS`, then `extra` text columns.
    pub fn scans(
        &mut self,
        sql: &str,
        params: &[Param],
        extra: usize,
    ) -> Result<Vec<RawScan>, String> {
        let mut st = self.conn.prepare_cached(sql).map_err(problem)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                let mut raw = RawScan {
                    ints: Vec::with_capacity(18),
                    texts: Vec::with_capacity(7 + extra),
                };
                for (i, is_int) in SCAN_COLUMN_INT.iter().enumerate() {
                    if *is_int {
                        raw.ints.push(r.get(i)?);
                    } else {
                        raw.texts.push(r.get(i)?);
                    }
                }
                for i in 0..extra {
                    raw.texts.push(r.get(SCAN_COLUMN_INT.len() + i)?);
                }
                Ok(raw)
            })
            .map_err(problem)?;
        rows.collect::<Result<_, _>>().map_err(problem)
    }

    pub fn report(&mut self, id: i64) -> Result<Option<Vec<u8>>, String> {
        let mut st = self
            .conn
            .prepare_cached("SELECT report FROM customs_reports WHERE scan_id = ?")
            .map_err(problem)?;
        let mut rows = st.query([id]).map_err(problem)?;
        match rows.next().map_err(problem)? {
            Some(r) => Ok(Some(r.get(0).map_err(problem)?)),
            None => Ok(None),
        }
    }

    pub fn delete_selected(&mut self, select: &str, params: &[Param]) -> Result<u64, String> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(problem)?;
        let ids: Vec<i64> = {
            let mut st = tx.prepare(select).map_err(problem)?;
            let rows = st
                .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(0))
                .map_err(problem)?;
            rows.collect::<Result<_, _>>().map_err(problem)?
        };
        {
            // Explicit, though the foreign keys (on) cascade too.
            let mut findings = tx
                .prepare("DELETE FROM customs_findings WHERE scan_id = ?")
                .map_err(problem)?;
            let mut rep = tx
                .prepare("DELETE FROM customs_reports WHERE scan_id = ?")
                .map_err(problem)?;
            let mut scan = tx
                .prepare("DELETE FROM customs_scans WHERE id = ?")
                .map_err(problem)?;
            for id in &ids {
                findings.execute([id]).map_err(problem)?;
                rep.execute([id]).map_err(problem)?;
                scan.execute([id]).map_err(problem)?;
            }
        }
        tx.commit().map_err(problem)?;
        Ok(ids.len() as u64)
    }
}

fn insert_findings(
    st: &mut rusqlite::CachedStatement<'_>,
    scan_id: i64,
    findings: &[Finding],
) -> rusqlite::Result<()> {
    for f in findings {
        st.execute(rusqlite::params![
            scan_id,
            f.vuln_id,
            f.pkg_name,
            f.installed_version,
            f.fixed_version,
            f.severity,
            f.target
        ])?;
    }
    Ok(())
}

/// The findings of the scans recorded before `customs_findings` existed,
/// from their stored reports, one report in memory at a time. A report that
/// cannot be read leaves its scan without findings (a warning), rather than
/// the store unopenable.
fn backfill_findings(conn: &Connection) -> rusqlite::Result<()> {
    let ids: Vec<i64> = {
        let mut st = conn.prepare("SELECT scan_id FROM customs_reports ORDER BY scan_id")?;
        let rows = st.query_map([], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut report = conn.prepare("SELECT report FROM customs_reports WHERE scan_id = ?")?;
    let mut finding = conn.prepare_cached(schema::INSERT_FINDING)?;
    let mut rows = 0usize;
    for id in &ids {
        let blob: Vec<u8> = report.query_row([id], |r| r.get(0))?;
        match super::findings_of_stored(&blob) {
            Ok(findings) => {
                insert_findings(&mut finding, *id, &findings)?;
                rows += findings.len();
            }
            Err(e) => tracing::warn!(
                "scan {id}: the stored report is damaged ({e}); its findings are not indexed"
            ),
        }
    }
    tracing::debug!(
        "findings of {} earlier scans indexed ({rows} rows)",
        ids.len()
    );
    Ok(())
}
