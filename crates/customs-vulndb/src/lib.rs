//! The customs vulnerability database: one SQLite file built from the
//! primary advisory feeds (Alpine secdb, Debian security tracker and
//! DSA/DLA lists, OSV records of every ecosystem, RustSec, RubySec, NVD).
//!
//! - [`build`] ingests a directory of feeds (layout in docs/database.md).
//! - [`VulnDb`] opens a database read-only and answers one indexed lookup
//!   per package: [`VulnDb::advisories`].
//! - [`update`] downloads the feeds (or a prebuilt file) and rebuilds
//!   atomically.
//!
//! ```no_run
//! use customs_vulndb::{build, BuildOptions, NoProgress, VulnDb};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let report = build(&BuildOptions::new("advisories", "customs.db"), &NoProgress)?;
//! println!("{} advisories", report.advisories);
//! let db = VulnDb::open(std::path::Path::new("customs.db"))?;
//! for adv in db.advisories("alpine:3.10", "musl")? {
//!     println!("{} fixed in {:?}", adv.vulnerability_id, adv.fixed_versions());
//! }
//! # Ok(()) }
//! ```

mod build;
mod error;
pub mod feeds;
mod query;
mod record;
mod schema;
mod update;

pub use build::{
    build, parse_feed_bytes, BuildOptions, BuildReport, NoProgress, Progress, SourceStats,
    FEED_KINDS,
};
pub use error::{BuildError, DbError};
pub use query::{os_ecosystem, Advisory, Metadata, VulnDb, Vulnerability};
pub use record::{
    AdvisoryRecord, Cvss, EpssScore, EpssScores, FeedOutput, KevCatalog, KevRecord, Skipped,
    VulnRecord,
};
pub use schema::{FORMAT_MARKER, SCHEMA_VERSION};
pub use update::{
    alpine_releases_from_index, fetch_prebuilt, update, FeedFile, FeedUrls, HttpOptions,
    UpdateError, UpdateOptions, UpdateReport, ALPINE_INDEX_AUTO,
};
