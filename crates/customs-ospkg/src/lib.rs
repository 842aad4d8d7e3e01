//! OS detection, OS package database parsers and end-of-life data.
//!
//! Every function here is pure: it takes the bytes of a file (the layer
//! walker in `customs-image` hands them over) and returns typed results. No
//! function touches the filesystem, and none panics on bad input: a broken
//! record becomes a warning naming the file and line, a file that cannot be
//! read at all becomes an [`OsPkgError`].
//!
//! The flow for a caller:
//!
//! 1. For every tar entry, ask [`wanted`] (cheap, no allocation); buffer the
//!    files it accepts. [`kind`] says which database a file belongs to.
//! 2. Once the final filesystem view is known, call [`detect_os`] with a
//!    lookup over the release files.
//! 3. Parse the package databases: [`parse_apk_installed`],
//!    [`parse_dpkg_status`] / [`parse_dpkg_status_d`], [`parse_rpmdb_sqlite`];
//!    attach dpkg file lists with [`parse_dpkg_list`] and [`attach_dpkg_files`].
//! 4. Give every package its Package URL with [`purl`], and flag the OS with
//!    [`eol`].
//!
//! ```
//! use customs_ospkg::{detect_os, parse_apk_installed, purl, os_type};
//!
//! let release: &[u8] = b"3.10.4\n";
//! let os = detect_os(&|p: &str| (p == "etc/alpine-release").then_some(release)).unwrap();
//! assert_eq!((os.family.as_str(), os.name.as_str()), ("alpine", "3.10.4"));
//! assert_eq!(os_type(&os), "alpine");
//!
//! let db = b"P:musl\nV:1.1.22-r3\nA:x86_64\no:musl\nL:MIT\n\n";
//! let parsed = parse_apk_installed("lib/apk/db/installed", db);
//! assert!(parsed.warnings.is_empty());
//! let p = &parsed.packages[0];
//! assert_eq!(purl(&os, p), "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4");
//! ```

mod apk;
mod dpkg;
mod eol;
mod os;
mod paths;
mod purl;
mod rpm;
mod stream;

pub use apk::{parse_apk_installed, read_apk_installed};
pub use dpkg::{
    attach_dpkg_files, dpkg_list_owner, join_dpkg_version, parse_dpkg_copyright, parse_dpkg_list,
    parse_dpkg_status, parse_dpkg_status_d, read_dpkg_status, split_dpkg_version, DebVersion,
};
pub use eol::{eol, newest_supported, Date, Eol};
pub use os::{detect_os, os_type};
pub use paths::{kind, wanted, FileKind};
pub use purl::purl;
pub use rpm::{parse_rpm_header, parse_rpmdb_sqlite, read_rpmdb_sqlite};
pub use stream::{StreamLimits, MAX_LINE, MAX_PACKAGES, MAX_PACKAGE_BYTES, MAX_STANZA};

use customs_model::Package;

/// The packages read from one database file, and the records that were
/// skipped (each warning names the file and the line or record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub packages: Vec<Package>,
    pub warnings: Vec<String>,
}

/// A package database that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OsPkgError {
    /// The bytes are not an SQLite database, or the query failed.
    #[error("{path}: cannot read the RPM SQLite database: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    /// The database has no `Packages` table (not an rpmdb).
    #[error("{path}: not an RPM database (no Packages table)")]
    NotRpmDb { path: String },
    /// A line or a stanza of a streamed database is over its limit
    /// ([`StreamLimits`]): the file cannot be analyzed, and the scan stops
    /// rather than report the image without that database's packages.
    #[error("{path}:{line}: {what} longer than {limit} bytes; the file cannot be analyzed")]
    TooLong {
        path: String,
        line: usize,
        what: &'static str,
        limit: usize,
    },
    /// A streamed database holds more packages than the memory bound
    /// allows ([`StreamLimits::max_packages`], `max_package_bytes`).
    #[error("{path}:{line}: {what}; the database cannot be analyzed within the memory bound")]
    TooBig {
        path: String,
        line: usize,
        what: String,
    },
    /// Reading a streamed database failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// An RPM header blob is malformed.
    #[error("rpm header: {0}")]
    RpmHeader(String),
}
