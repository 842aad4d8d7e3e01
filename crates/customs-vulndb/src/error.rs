use std::path::PathBuf;

use crate::record::Skipped;

/// Errors of opening and querying a database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("vulnerability database {path} does not exist; run `customs db update` (online) or `customs db build --from DIR`")]
    Missing { path: PathBuf },
    #[error("{path} is not a customs vulnerability database ({reason}); rebuild it with `customs db build` or `customs db update`")]
    NotCustomsDb { path: PathBuf, reason: String },
    #[error("vulnerability database {path} has schema version {found}, this customs reads version {expected}; run `customs db update` to replace it")]
    SchemaMismatch {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("vulnerability database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("vulnerability database {path}: bad {what} in row {key}: {reason}")]
    Corrupt {
        path: PathBuf,
        what: &'static str,
        key: String,
        reason: String,
    },
}

/// Errors of `build`.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("advisory directory {0} does not exist or is not a directory")]
    NoSourceDir(PathBuf),
    #[error("no advisory feed found under {0} (expected alpine-secdb/, debian-security-tracker/, pypa/, go-vulndb/, rustsec/, rubysec/, osv/ or nvd/)")]
    NoFeeds(PathBuf),
    #[error("{count} malformed record(s) with --strict; first: {first}")]
    Strict { count: usize, first: Skipped },
    #[error("cannot write database {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("encoding a record for the database: {0}")]
    Encode(#[from] serde_json::Error),
}
