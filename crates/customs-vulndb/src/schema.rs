//! The SQLite schema. docs/database.md documents it for sqlite3 users; keep
//! the two in step and bump [`SCHEMA_VERSION`] on any incompatible change.

/// Version of the schema written by this crate and the only one it reads.
pub const SCHEMA_VERSION: u32 = 2;

/// `metadata.value` of `key = 'format'`: tells a customs database apart
/// from any other SQLite file.
pub const FORMAT_MARKER: &str = "customs-vulndb";

pub(crate) const CREATE: &str = r#"
CREATE TABLE metadata (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE data_sources (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    url             TEXT NOT NULL,
    files           INTEGER NOT NULL,
    records         INTEGER NOT NULL,
    withdrawn       INTEGER NOT NULL,
    skipped         INTEGER NOT NULL,
    advisories      INTEGER NOT NULL,
    vulnerabilities INTEGER NOT NULL,
    updated_at      TEXT
) WITHOUT ROWID;

CREATE TABLE vulnerabilities (
    id              TEXT PRIMARY KEY,
    title           TEXT,
    description     TEXT,
    severity        TEXT,
    severity_source TEXT,
    severities      TEXT NOT NULL,
    cvss            TEXT NOT NULL,
    cwe_ids         TEXT NOT NULL,
    reference_urls  TEXT NOT NULL,
    aliases         TEXT NOT NULL,
    published       TEXT,
    modified        TEXT
) WITHOUT ROWID;

CREATE TABLE aliases (
    alias            TEXT NOT NULL,
    vulnerability_id TEXT NOT NULL,
    PRIMARY KEY (alias, vulnerability_id)
) WITHOUT ROWID;

CREATE TABLE advisories (
    ecosystem        TEXT NOT NULL,
    package          TEXT NOT NULL,
    vulnerability_id TEXT NOT NULL,
    source           TEXT NOT NULL,
    source_id        TEXT NOT NULL,
    status           TEXT NOT NULL,
    severity         TEXT,
    affected         TEXT NOT NULL,
    fixed_versions   TEXT NOT NULL,
    informational    TEXT,
    PRIMARY KEY (ecosystem, package, vulnerability_id, source, source_id)
) WITHOUT ROWID;

CREATE TABLE known_exploited (
    cve_id          TEXT PRIMARY KEY,
    date_added      TEXT NOT NULL,
    due_date        TEXT,
    ransomware      TEXT NOT NULL,
    vendor_project  TEXT NOT NULL,
    product         TEXT NOT NULL,
    name            TEXT NOT NULL,
    required_action TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE epss (
    cve_id     TEXT PRIMARY KEY,
    score      REAL NOT NULL,
    percentile REAL NOT NULL
) WITHOUT ROWID;
"#;

/// Created after the bulk insert (faster than maintaining it row by row).
/// The advisories of one package are clustered by the primary key, so a
/// package lookup is one range scan of the table itself.
pub(crate) const INDEXES: &str = r#"
CREATE INDEX advisories_by_vulnerability ON advisories (vulnerability_id);
"#;
