//! The history schema, one text for SQLite and PostgreSQL: `{ID}`, `{INT}`
//! and `{BLOB}` are each dialect's types, and `?` placeholders become `$N`
//! for PostgreSQL.
//!
//! Migrations are numbered steps; `customs_schema_version` holds the last one
//! applied. Opening a store applies the missing steps in one transaction (in
//! PostgreSQL under an advisory lock, in SQLite under `BEGIN IMMEDIATE`), so
//! two processes opening a new store at once apply them once.
//!
//! A step may also need Rust after its SQL, in the same transaction:
//! [`FINDINGS_MIGRATION`] fills `customs_findings` from the reports of the
//! scans recorded before it (each backend's `migrate`).

/// Each step: (version, SQL statements separated by `;`).
pub const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE customs_scans (
            id {ID},
            artifact_ref TEXT NOT NULL,
            repository TEXT NOT NULL,
            artifact_name TEXT NOT NULL,
            artifact_type TEXT NOT NULL,
            digest TEXT NOT NULL,
            scanned_at {INT} NOT NULL,
            recorded_at {INT} NOT NULL,
            scanner TEXT NOT NULL,
            db_version TEXT NOT NULL,
            vuln_unknown {INT} NOT NULL, vuln_low {INT} NOT NULL, vuln_medium {INT} NOT NULL,
            vuln_high {INT} NOT NULL, vuln_critical {INT} NOT NULL,
            secret_unknown {INT} NOT NULL, secret_low {INT} NOT NULL, secret_medium {INT} NOT NULL,
            secret_high {INT} NOT NULL, secret_critical {INT} NOT NULL,
            misconf_unknown {INT} NOT NULL, misconf_low {INT} NOT NULL, misconf_medium {INT} NOT NULL,
            misconf_high {INT} NOT NULL, misconf_critical {INT} NOT NULL
        );
        CREATE TABLE customs_reports (
            scan_id {INT} PRIMARY KEY REFERENCES customs_scans (id) ON DELETE CASCADE,
            report {BLOB} NOT NULL
        )",
    ),
    (
        2,
        "CREATE INDEX customs_scans_repository ON customs_scans (repository, scanned_at, id);
        CREATE INDEX customs_scans_ref ON customs_scans (artifact_ref, scanned_at, id);
        CREATE INDEX customs_scans_time ON customs_scans (scanned_at, id)",
    ),
    (
        3,
        "CREATE TABLE customs_findings (
            scan_id {INT} NOT NULL REFERENCES customs_scans (id) ON DELETE CASCADE,
            vuln_id TEXT NOT NULL,
            pkg_name TEXT NOT NULL,
            installed_version TEXT NOT NULL,
            fixed_version TEXT NOT NULL,
            severity TEXT NOT NULL,
            target TEXT NOT NULL
        );
        CREATE INDEX customs_findings_vuln ON customs_findings (vuln_id, scan_id);
        CREATE INDEX customs_findings_scan ON customs_findings (scan_id)",
    ),
];

/// The step that made `customs_findings`: applying it also backfills the
/// table from the stored reports of the scans already there.
pub const FINDINGS_MIGRATION: i64 = 3;

/// The newest schema this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// `sql` in a dialect: types substituted, placeholders numbered.
pub fn sql(d: Dialect, sql: &str) -> String {
    let typed = match d {
        Dialect::Sqlite => sql
            .replace("{ID}", "INTEGER PRIMARY KEY AUTOINCREMENT")
            .replace("{INT}", "INTEGER")
            .replace("{BLOB}", "BLOB"),
        Dialect::Postgres => sql
            .replace("{ID}", "BIGSERIAL PRIMARY KEY")
            .replace("{INT}", "BIGINT")
            .replace("{BLOB}", "BYTEA"),
    };
    if d == Dialect::Sqlite {
        return typed;
    }
    let mut out = String::with_capacity(typed.len() + 16);
    let mut n = 0;
    for c in typed.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// The statements of one migration step.
pub fn statements(d: Dialect, step: &str) -> Vec<String> {
    step.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| sql(d, s))
        .collect()
}

/// The columns of a scan row, in `Scan`'s order (never the report).
pub const SCAN_COLUMNS: &str = "id, artifact_ref, repository, artifact_name, artifact_type, digest, scanned_at, recorded_at, scanner, db_version, \
vuln_unknown, vuln_low, vuln_medium, vuln_high, vuln_critical, \
secret_unknown, secret_low, secret_medium, secret_high, secret_critical, \
misconf_unknown, misconf_low, misconf_medium, misconf_high, misconf_critical";

pub const INSERT_SCAN: &str = "INSERT INTO customs_scans (artifact_ref, repository, artifact_name, artifact_type, digest, scanned_at, recorded_at, scanner, db_version, \
vuln_unknown, vuln_low, vuln_medium, vuln_high, vuln_critical, \
secret_unknown, secret_low, secret_medium, secret_high, secret_critical, \
misconf_unknown, misconf_low, misconf_medium, misconf_high, misconf_critical) \
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";

pub const INSERT_REPORT: &str = "INSERT INTO customs_reports (scan_id, report) VALUES (?, ?)";

/// One finding of a scan (`vuln_id` upper-cased: lookups are
/// case-insensitive and still use the index).
pub const INSERT_FINDING: &str = "INSERT INTO customs_findings (scan_id, vuln_id, pkg_name, installed_version, fixed_version, severity, target) \
VALUES (?, ?, ?, ?, ?, ?, ?)";

/// All of a scan's findings in one statement (PostgreSQL: one round trip
/// instead of one per finding), `$1` the scan, `$2`…`$7` text arrays.
pub const INSERT_FINDINGS_PG: &str = "INSERT INTO customs_findings (scan_id, vuln_id, pkg_name, installed_version, fixed_version, severity, target) \
SELECT $1, v, p, i, f, s, t FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u (v, p, i, f, s, t)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_only() {
        assert_eq!(
            sql(Dialect::Postgres, "SELECT ? , ? FROM t WHERE x = {INT}"),
            "SELECT $1 , $2 FROM t WHERE x = BIGINT"
        );
        assert_eq!(
            sql(Dialect::Sqlite, "SELECT ? FROM t WHERE x = {INT}"),
            "SELECT ? FROM t WHERE x = INTEGER"
        );
        assert_eq!(INSERT_SCAN.matches('?').count(), 24);
        assert_eq!(SCAN_COLUMNS.split(',').count(), 25);
        assert_eq!(INSERT_FINDING.matches('?').count(), 7);
        assert!(
            MIGRATIONS.iter().any(|(v, _)| *v == FINDINGS_MIGRATION),
            "the backfill belongs to a real step"
        );
    }
}
