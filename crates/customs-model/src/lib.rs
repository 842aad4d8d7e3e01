//! The data model shared by every customs crate: packages, the layer that
//! brought them, the detected OS, and the package types that group them.
//!
//! Field names serialize to the names of Trivy's JSON report (SchemaVersion 2)
//! so that a [`Package`] can be written into a report as it is; so do the
//! scanners' findings ([`finding`]: secrets, misconfigurations), which the
//! report holds as they are produced.

use serde::{Deserialize, Serialize};

pub mod finding;
pub mod tmpfile;

/// An error and its causes on one line (`reqwest` and `hyper` keep the
/// useful part, "connection refused", "invalid peer certificate", in the
/// source chain); a cause already contained in the text so far is skipped.
/// A URL as shown in messages and logs, its password hidden:
/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`,
/// `redis://:secret@host:6379/0` → `redis://:***@host:6379/0`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    let (auth, host) = authority.split_at(at);
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{host}{path}"),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod redact_tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden_and_the_rest_kept() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            redact_url("redis://:pw@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(redact_url("redis://user@h/0"), "redis://user@h/0");
        assert_eq!(redact_url("/var/lib/history.db"), "/var/lib/history.db");
        // An @ in the path is not a user.
        assert_eq!(redact_url("http://h/a:b@c"), "http://h/a:b@c");
    }
}

pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// The layer a package or file came from. Serialized as Trivy's `Layer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LayerRef {
    /// Digest of the (compressed) layer blob as the manifest names it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
    /// Digest of the uncompressed layer tar (`rootfs.diff_ids`).
    #[serde(rename = "DiffID", default, skip_serializing_if = "String::is_empty")]
    pub diff_id: String,
}

impl LayerRef {
    pub fn is_empty(&self) -> bool {
        self.digest.is_empty() && self.diff_id.is_empty()
    }
}

/// Package identifiers: a Package URL and, optionally, a stable unique id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PkgIdentifier {
    #[serde(rename = "PURL", default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(rename = "UID", default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// How a package relates to the project that declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relationship {
    Root,
    Workspace,
    Direct,
    Indirect,
    Unknown,
}

/// One installed or declared package: an OS package (apk, dpkg, rpm) or a
/// language package (from a lockfile, a manifest, or a binary).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Package {
    /// `name@version` (Trivy's convention), or an ecosystem-specific id.
    #[serde(rename = "ID", default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub identifier: PkgIdentifier,
    /// The version as Trivy splits it: for dpkg and rpm the upstream part
    /// (epoch and release/revision are separate fields); for apk and
    /// language packages the whole version string.
    pub version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub release: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub epoch: u32,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub arch: String,
    /// Source / origin package name (apk `o:`, dpkg `Source:`); advisories
    /// of distributions are keyed on it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub src_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub src_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub src_release: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub src_epoch: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub maintainer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
    /// Development-only dependency (devDependencies, dev groups...).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    /// IDs of the packages this one depends on, where known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(default, skip_serializing_if = "LayerRef::is_empty")]
    pub layer: LayerRef,
    /// The file that declared the package, for language packages found
    /// inside an aggregate target (jars, node_modules, binaries).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file_path: String,
    /// Files the package database says this package installed, as paths
    /// relative to the root without a leading `/`. Used to avoid reporting
    /// OS-owned files again as language packages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installed_files: Vec<String>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Package {
    /// The full version string as the package manager prints it
    /// (`epoch:version-release` for dpkg/rpm, `version` otherwise).
    pub fn full_version(&self) -> String {
        full(self.epoch, &self.version, &self.release)
    }

    /// The full source version (falls back to the binary version).
    pub fn full_src_version(&self) -> String {
        if self.src_version.is_empty() {
            return self.full_version();
        }
        full(self.src_epoch, &self.src_version, &self.src_release)
    }

    /// The source name, falling back to the binary name.
    pub fn source_name(&self) -> &str {
        if self.src_name.is_empty() {
            &self.name
        } else {
            &self.src_name
        }
    }
}

fn full(epoch: u32, version: &str, release: &str) -> String {
    let mut s = String::new();
    if epoch > 0 {
        s.push_str(&epoch.to_string());
        s.push(':');
    }
    s.push_str(version);
    if !release.is_empty() {
        s.push('-');
        s.push_str(release);
    }
    s
}

/// The operating system detected in an image or root filesystem.
/// Serialized as Trivy's `Metadata.OS`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OsInfo {
    /// `alpine`, `debian`, `ubuntu`, `wolfi`, `chainguard`, `redhat`, ...
    pub family: String,
    /// The exact version (`3.10.4`, `12.7`, `22.04`).
    pub name: String,
    /// End of service life: true when the release is past its EOL date.
    #[serde(rename = "EOSL", default, skip_serializing_if = "std::ops::Not::not")]
    pub eosl: bool,
}

/// The language-package analyzers, named as Trivy names its result `Type`s.
pub mod lang_type {
    pub const BUNDLER: &str = "bundler";
    pub const GEMSPEC: &str = "gemspec";
    pub const CARGO: &str = "cargo";
    pub const RUST_BINARY: &str = "rustbinary";
    pub const COMPOSER: &str = "composer";
    pub const COMPOSER_VENDOR: &str = "composer-vendor";
    pub const GOMOD: &str = "gomod";
    pub const GOBINARY: &str = "gobinary";
    pub const JAR: &str = "jar";
    pub const POM: &str = "pom";
    pub const GRADLE: &str = "gradle";
    pub const NPM: &str = "npm";
    pub const NODE_PKG: &str = "node-pkg";
    pub const YARN: &str = "yarn";
    pub const PNPM: &str = "pnpm";
    pub const BUN: &str = "bun";
    pub const PIP: &str = "pip";
    pub const PIPENV: &str = "pipenv";
    pub const POETRY: &str = "poetry";
    pub const UV: &str = "uv";
    pub const PYTHON_PKG: &str = "python-pkg";
    pub const CONDA_PKG: &str = "conda-pkg";
    pub const NUGET: &str = "nuget";
    pub const DOTNET_CORE: &str = "dotnet-core";
    pub const PUB: &str = "pub";
    pub const HEX: &str = "hex";
    pub const COCOAPODS: &str = "cocoapods";
    pub const SWIFT: &str = "swift";
    /// `conan.lock` (C/C++).
    pub const CONAN: &str = "conan";
    /// Julia `Manifest.toml`.
    pub const JULIA: &str = "julia";
    /// sbt `build.sbt.lock`.
    pub const SBT: &str = "sbt";
    /// conda `environment.yaml` / `environment.yml`.
    pub const CONDA_ENV: &str = "conda-environment";
    /// NuGet central package management (`Directory.Packages.props`).
    pub const PACKAGES_PROPS: &str = "packages-props";
    /// PEP 751 `pylock.toml`.
    pub const PYLOCK: &str = "pylock";
}

/// The OSV ecosystem whose advisories apply to packages of a Trivy
/// language type (`pip` → `PyPI`), or `None` when no feed covers it.
pub fn osv_ecosystem(lang_type: &str) -> Option<&'static str> {
    use lang_type::*;
    Some(match lang_type {
        BUNDLER | GEMSPEC => "RubyGems",
        CARGO | RUST_BINARY => "crates.io",
        COMPOSER | COMPOSER_VENDOR => "Packagist",
        GOMOD | GOBINARY => "Go",
        JAR | POM | GRADLE | SBT => "Maven",
        NPM | NODE_PKG | YARN | PNPM | BUN => "npm",
        PIP | PIPENV | POETRY | UV | PYTHON_PKG | PYLOCK => "PyPI",
        NUGET | DOTNET_CORE | PACKAGES_PROPS => "NuGet",
        PUB => "Pub",
        HEX => "Hex",
        COCOAPODS => "CocoaPods",
        SWIFT => "SwiftURL",
        CONAN => "ConanCenter",
        JULIA => "Julia",
        CONDA_PKG | CONDA_ENV => return None,
        _ => return None,
    })
}

/// Normalize a package name the way its ecosystem compares names
/// (PEP 503 for PyPI; lower-case for npm and Hex; as-is elsewhere).
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    match ecosystem {
        "PyPI" => {
            // PEP 503: runs of -, _ and . become one -, lower-cased.
            let mut out = String::with_capacity(name.len());
            let mut sep = false;
            for c in name.trim().chars() {
                if c == '-' || c == '_' || c == '.' {
                    sep = true;
                } else {
                    if sep && !out.is_empty() {
                        out.push('-');
                    }
                    sep = false;
                    out.extend(c.to_lowercase());
                }
            }
            out
        }
        "npm" | "Hex" | "Pub" => name.trim().to_lowercase(),
        _ => name.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(
            normalize_name("PyPI", "Django_REST.framework"),
            "django-rest-framework"
        );
        assert_eq!(normalize_name("PyPI", "a--b__c"), "a-b-c");
        assert_eq!(
            normalize_name("Go", "github.com/Foo/bar"),
            "github.com/Foo/bar"
        );
    }

    #[test]
    fn full_versions() {
        let p = Package {
            name: "openssl".into(),
            version: "3.0.11".into(),
            release: "1~deb12u2".into(),
            epoch: 1,
            ..Default::default()
        };
        assert_eq!(p.full_version(), "1:3.0.11-1~deb12u2");
        assert_eq!(p.full_src_version(), "1:3.0.11-1~deb12u2");
        assert_eq!(p.source_name(), "openssl");
    }

    #[test]
    fn affected_json_is_osv_shaped() {
        let a = Affected {
            ranges: vec![AffectedRange {
                kind: RangeKind::Ecosystem,
                events: vec![
                    RangeEvent::Introduced("0".into()),
                    RangeEvent::Fixed("1.2".into()),
                ],
            }],
            ..Default::default()
        };
        let s = serde_json::to_string(&a).unwrap_or_default();
        assert_eq!(
            s,
            r#"{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2"}]}]}"#
        );
        assert_eq!(a.fixed_versions(), vec!["1.2"]);
    }

    #[test]
    fn severity_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert_eq!(Severity::parse("moderate"), Some(Severity::Medium));
        assert_eq!(Severity::from_cvss_score(9.8), Severity::Critical);
        assert_eq!(Status::parse("will_not_fix"), Some(Status::WillNotFix));
    }

    #[test]
    fn layer_json_uses_trivy_names() {
        let l = LayerRef {
            digest: "sha256:a".into(),
            diff_id: "sha256:b".into(),
        };
        let s = serde_json::to_string(&l).unwrap_or_default();
        assert_eq!(s, r#"{"Digest":"sha256:a","DiffID":"sha256:b"}"#);
    }
}

/// Severity of a finding, ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Unknown,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// Parse `low`, `MEDIUM`, `Moderate` (GitHub/OSV), `important` (Red Hat)...
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "UNKNOWN" | "NONE" | "UNASSIGNED" | "NOT YET ASSIGNED" => Severity::Unknown,
            "LOW" | "NEGLIGIBLE" | "UNIMPORTANT" => Severity::Low,
            "MEDIUM" | "MODERATE" => Severity::Medium,
            "HIGH" | "IMPORTANT" => Severity::High,
            "CRITICAL" => Severity::Critical,
            _ => return None,
        })
    }

    /// Severity of a CVSS base score (CVSS v3/v4 qualitative scale).
    pub fn from_cvss_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Unknown
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Status of a vulnerability for an installed package, as Trivy names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Unknown,
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
    WillNotFix,
    FixDeferred,
    EndOfLife,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unknown => "unknown",
            Status::NotAffected => "not_affected",
            Status::Affected => "affected",
            Status::Fixed => "fixed",
            Status::UnderInvestigation => "under_investigation",
            Status::WillNotFix => "will_not_fix",
            Status::FixDeferred => "fix_deferred",
            Status::EndOfLife => "end_of_life",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(
            match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
                "unknown" => Status::Unknown,
                "not_affected" => Status::NotAffected,
                "affected" => Status::Affected,
                "fixed" => Status::Fixed,
                "under_investigation" => Status::UnderInvestigation,
                "will_not_fix" => Status::WillNotFix,
                "fix_deferred" => Status::FixDeferred,
                "end_of_life" => Status::EndOfLife,
                _ => return None,
            },
        )
    }
}

/// Which versions of a package an advisory affects, in one shape for every
/// source: OSV ranges (distro fixed versions become `introduced 0, fixed X`),
/// explicit version lists, and the requirement strings RustSec and RubySec
/// publish (a version matching any `patched` or `unaffected` requirement is
/// not affected). Serialized with OSV's field names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<AffectedRange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patched: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unaffected: Vec<String>,
}

impl Affected {
    /// Every `fixed` event, in the order given: the versions to upgrade to.
    pub fn fixed_versions(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for r in &self.ranges {
            for e in &r.events {
                if let RangeEvent::Fixed(v) = e {
                    if !out.contains(&v.as_str()) {
                        out.push(v.as_str());
                    }
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffectedRange {
    #[serde(rename = "type")]
    pub kind: RangeKind,
    pub events: Vec<RangeEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    Ecosystem,
    Semver,
    Git,
}

/// One OSV range event; serialized as `{"introduced": "1.0"}` etc.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}
