//! What changed between two scans, and what happened to an image over time.
//!
//! - [`load`]: read a report file, customs JSON or Trivy JSON alike (the field
//!   names are the same), with one clear error naming the file otherwise.
//! - [`diff`]: `diff(old, new)` — new, fixed and unchanged vulnerabilities
//!   (aliases folded), added, removed and upgraded packages, new and resolved
//!   secrets and misconfigurations, and the base layers both images share;
//!   [`render`] shows a diff as a table, JSON or Markdown.
//! - [`store`]: the history of scans, one SQLite file (the default, in the
//!   cache dir) or a PostgreSQL database (`postgres://` URL), with the same
//!   schema and versioned migrations: record, list, show, trend, the last two
//!   scans of an image, prune, import, and which images a vulnerability
//!   affects (`Store::affected`).
//! - [`chart`]: the trend of an image as an SVG or PNG chart (drawn with
//!   plotters, text in the embedded DejaVu Sans), a Markdown table or JSON.
//!
//! Nothing here prints or exits; the CLI (`customs diff`, `customs history`)
//! does.

pub mod chart;
pub mod diff;
pub mod load;
pub mod render;
pub mod store;

pub use diff::{diff, ReportDiff};
pub use load::{parse_report, read_report, Loaded};
pub use store::{Affected, Counts, Filter, NewScan, Point, Prune, Scan, SeverityCounts, Store};

/// What went wrong, as one line naming the file, the store or the input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A report file that cannot be read or is not a customs/Trivy report.
    #[error("{path}: {problem}")]
    Input { path: String, problem: String },
    /// The history store (a SQLite file or a PostgreSQL URL, password hidden).
    #[error("{store}: {problem}")]
    Store { store: String, problem: String },
    /// A chart that could not be drawn or encoded.
    #[error("chart: {0}")]
    Chart(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The repository of an image reference: `ghcr.io/org/app:1.4` →
/// `ghcr.io/org/app`, `app@sha256:…` → `app`. A port (`host:5000/app`) is
/// kept.
pub fn repository_of(reference: &str) -> &str {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    match no_digest.rfind(':') {
        Some(i) if !no_digest[i + 1..].contains('/') => &no_digest[..i],
        _ => no_digest,
    }
}

/// The image reference a report names: the artifact as scanned, or, for an
/// image read from a file (`--input app.tar`), its first repository tag.
pub fn reference_of(report: &customs_report::Report) -> String {
    let name = report.artifact_name.as_str();
    let is_path = name.starts_with('/')
        || name.starts_with("./")
        || name.starts_with("../")
        || [".tar", ".tar.gz", ".tgz", ".tar.zst", ".zst", ".gz"]
            .iter()
            .any(|ext| name.ends_with(ext));
    match report.metadata.repo_tags.first() {
        Some(tag) if is_path && report.artifact_type == "container_image" => tag.clone(),
        _ => name.to_string(),
    }
}

/// The digest that identifies the scanned image: its first repo digest,
/// else the image (config) ID; empty for a directory.
pub fn digest_of(report: &customs_report::Report) -> String {
    let m = &report.metadata;
    m.repo_digests
        .first()
        .cloned()
        .unwrap_or_else(|| m.image_id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_drop_the_tag_and_digest_but_keep_a_port() {
        assert_eq!(repository_of("app:1.4"), "app");
        assert_eq!(repository_of("ghcr.io/org/app:1.4"), "ghcr.io/org/app");
        assert_eq!(repository_of("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(repository_of("localhost:5000/app:2"), "localhost:5000/app");
        assert_eq!(repository_of("app@sha256:abc"), "app");
        assert_eq!(repository_of("app:1@sha256:abc"), "app");
        assert_eq!(repository_of("app"), "app");
    }
}
