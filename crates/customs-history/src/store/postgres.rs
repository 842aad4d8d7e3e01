//! A shared store in PostgreSQL: the same tables as the SQLite file, the
//! migrations applied in one transaction under an advisory lock (two
//! customs processes meeting a new database apply them once). Plain TCP
//! (`NoTls`): a URL that requires TLS (`sslmode=require`) is refused by the
//! connection with that reason.

use super::schema::{self, Dialect};
use super::{Finding, Param, RawScan, Row, SCAN_COLUMN_INT};
use postgres::types::ToSql;
use postgres::{Client, NoTls, Statement, Transaction};
use std::str::FromStr;

/// The advisory lock key of migrations (any constant; "customs" in ASCII).
const MIGRATION_LOCK: i64 = 0x0063_7573_746f_6d73;

pub(crate) struct Postgres {
    client: Client,
}

fn problem(e: postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    customs_model::error_chain(&e)
}

pub(super) fn params(ps: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    ps.iter()
        .map(|p| match p {
            Param::Int(i) => i as &(dyn ToSql + Sync),
            Param::Text(t) => t as &(dyn ToSql + Sync),
        })
        .collect()
}

impl Postgres {
    pub fn open(url: &str) -> Result<Postgres, String> {
        let mut config =
            postgres::Config::from_str(url).map_err(|e| format!("invalid URL: {e}"))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(super::CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("customs");
        }
        let client = config
            .connect(NoTls)
            .map_err(|e| format!("cannot connect: {}", problem(e)))?;
        let mut p = Postgres { client };
        p.migrate()?;
        Ok(p)
    }

    fn migrate(&mut self) -> Result<(), String> {
        let mut tx = self.client.transaction().map_err(problem)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(problem)?;
        let has_version: bool = tx
            .query_one(
                "SELECT to_regclass('customs_schema_version') IS NOT NULL",
                &[],
            )
            .map_err(problem)?
            .get(0);
        let has_scans: bool = tx
            .query_one("SELECT to_regclass('customs_scans') IS NOT NULL", &[])
            .map_err(problem)?
            .get(0);
        if has_scans && !has_version {
            return Err(
                "not a customs history database (a customs_scans table without customs_schema_version)".into(),
            );
        }
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS customs_schema_version (version BIGINT NOT NULL)",
        )
        .map_err(problem)?;
        let current: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM customs_schema_version",
                &[],
            )
            .map_err(problem)?
            .get(0);
        if current > schema::latest() {
            return Err(format!(
                "the history schema is version {current}, newer than this customs knows ({}); upgrade customs",
                schema::latest()
            ));
        }
        if current == schema::latest() {
            return tx.commit().map_err(problem);
        }
        for (version, step) in schema::MIGRATIONS {
            if *version <= current {
                continue;
            }
            for stmt in schema::statements(Dialect::Postgres, step) {
                tx.batch_execute(&stmt)
                    .map_err(|e| format!("migration {version}: {}", problem(e)))?;
            }
            if *version == schema::FINDINGS_MIGRATION {
                backfill_findings(&mut tx)
                    .map_err(|e| format!("migration {version}: {}", problem(e)))?;
            }
        }
        tx.execute("DELETE FROM customs_schema_version", &[])
            .map_err(problem)?;
        tx.execute(
            "INSERT INTO customs_schema_version (version) VALUES ($1)",
            &[&schema::latest()],
        )
        .map_err(problem)?;
        tx.commit().map_err(problem)
    }

    pub fn schema_version(&mut self) -> Result<i64, String> {
        let row = self
            .client
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM customs_schema_version",
                &[],
            )
            .map_err(problem)?;
        Ok(row.get(0))
    }

    pub fn insert(&mut self, rows: &[Row]) -> Result<Vec<i64>, String> {
        let mut tx = self.client.transaction().map_err(problem)?;
        let scan = tx
            .prepare(&schema::sql(Dialect::Postgres, schema::INSERT_SCAN))
            .map_err(problem)?;
        let report = tx
            .prepare(&schema::sql(Dialect::Postgres, schema::INSERT_REPORT))
            .map_err(problem)?;
        let findings = tx.prepare(schema::INSERT_FINDINGS_PG).map_err(problem)?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = tx
                .query_one(&scan, &params(&row.scan))
                .map_err(problem)?
                .try_get(0)
                .map_err(problem)?;
            tx.execute(&report, &[&id, &row.report]).map_err(problem)?;
            insert_findings(&mut tx, &findings, id, &row.findings).map_err(problem)?;
            ids.push(id);
        }
        tx.commit().map_err(problem)?;
        Ok(ids)
    }

    /// Rows of `SCAN_COLUMNS`, then `extra` text columns.
    pub fn scans(&mut self, sql: &str, ps: &[Param], extra: usize) -> Result<Vec<RawScan>, String> {
        let rows = self
            .client
            .query(&schema::sql(Dialect::Postgres, sql), &params(ps))
            .map_err(problem)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut raw = RawScan {
                ints: Vec::with_capacity(18),
                texts: Vec::with_capacity(7 + extra),
            };
            for (i, is_int) in SCAN_COLUMN_INT.iter().enumerate() {
                if *is_int {
                    raw.ints.push(r.try_get(i).map_err(problem)?);
                } else {
                    raw.texts.push(r.try_get(i).map_err(problem)?);
                }
            }
            for i in 0..extra {
                raw.texts
                    .push(r.try_get(SCAN_COLUMN_INT.len() + i).map_err(problem)?);
            }
            out.push(raw);
        }
        Ok(out)
    }

    pub fn report(&mut self, id: i64) -> Result<Option<Vec<u8>>, String> {
        let rows = self
            .client
            .query(
                "SELECT report FROM customs_reports WHERE scan_id = $1",
                &[&id],
            )
            .map_err(problem)?;
        match rows.first() {
            Some(r) => Ok(Some(r.try_get(0).map_err(problem)?)),
            None => Ok(None),
        }
    }

    pub fn delete_selected(&mut self, select: &str, ps: &[Param]) -> Result<u64, String> {
        let mut tx = self.client.transaction().map_err(problem)?;
        let ids: Vec<i64> = tx
            .query(&schema::sql(Dialect::Postgres, select), &params(ps))
            .map_err(problem)?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()
            .map_err(problem)?;
        // Explicit, though the foreign keys cascade too.
        tx.execute(
            "DELETE FROM customs_findings WHERE scan_id = ANY($1)",
            &[&ids],
        )
        .map_err(problem)?;
        tx.execute(
            "DELETE FROM customs_reports WHERE scan_id = ANY($1)",
            &[&ids],
        )
        .map_err(problem)?;
        tx.execute("DELETE FROM customs_scans WHERE id = ANY($1)", &[&ids])
            .map_err(problem)?;
        tx.commit().map_err(problem)?;
        Ok(ids.len() as u64)
    }
}

/// All of a scan's findings in one statement (`INSERT_FINDINGS_PG`).
fn insert_findings(
    tx: &mut Transaction<'_>,
    st: &Statement,
    scan_id: i64,
    findings: &[Finding],
) -> Result<(), postgres::Error> {
    if findings.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&Finding) -> &String| -> Vec<&str> {
        findings.iter().map(|x| f(x).as_str()).collect()
    };
    let (v, p, i) = (
        column(|f| &f.vuln_id),
        column(|f| &f.pkg_name),
        column(|f| &f.installed_version),
    );
    let (x, s, t) = (
        column(|f| &f.fixed_version),
        column(|f| &f.severity),
        column(|f| &f.target),
    );
    tx.execute(st, &[&scan_id, &v, &p, &i, &x, &s, &t])?;
    Ok(())
}

/// The findings of the scans recorded before `customs_findings` existed,
/// from their stored reports, one report in memory at a time. A report that
/// cannot be read leaves its scan without findings (a warning), rather than
/// the store unopenable.
fn backfill_findings(tx: &mut Transaction<'_>) -> Result<(), postgres::Error> {
    let ids: Vec<i64> = tx
        .query("SELECT scan_id FROM customs_reports ORDER BY scan_id", &[])?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    let report = tx.prepare("SELECT report FROM customs_reports WHERE scan_id = $1")?;
    let insert = tx.prepare(schema::INSERT_FINDINGS_PG)?;
    let mut rows = 0usize;
    for id in &ids {
        let blob: Vec<u8> = tx.query_one(&report, &[id])?.try_get(0)?;
        match super::findings_of_stored(&blob) {
            Ok(findings) => {
                insert_findings(tx, &insert, *id, &findings)?;
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
