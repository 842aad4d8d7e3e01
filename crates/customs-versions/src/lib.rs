//! Version comparison for every scheme customs matches advisories in, and
//! evaluation of "is this installed version affected" against
//! [`customs_model::Affected`].
//!
//! Three functions make the whole surface:
//!
//! - [`compare`] orders two versions of one [`Scheme`];
//! - [`satisfies`] checks a version against a requirement written in the
//!   ecosystem's own syntax (RubyGems `~> 1.2`, Cargo `^1.2.3`, npm ranges,
//!   PEP 440 specifiers, Maven intervals, or plain `>= 1.0, < 2.0` lists);
//! - [`is_affected`] applies OSV semantics (ranges, explicit versions, and the
//!   `patched`/`unaffected` requirement lists of RustSec and RubySec).
//!
//! ```
//! use std::cmp::Ordering;
//! use customs_versions::{compare, satisfies, Scheme};
//!
//! let apk = Scheme::for_ecosystem("alpine:3.10");
//! assert_eq!(compare(apk, "1.2.3_rc1-r0", "1.2.3-r0")?, Ordering::Less);
//!
//! let deb = Scheme::for_ecosystem("debian:12");
//! assert_eq!(compare(deb, "1:2.0~rc1-1", "1:2.0-1")?, Ordering::Less);
//!
//! assert!(satisfies(Scheme::RubyGems, "1.2.9", "~> 1.2.3")?);
//! assert!(!satisfies(Scheme::RubyGems, "1.3.0", "~> 1.2.3")?);
//! # Ok::<(), customs_versions::VersionError>(())
//! ```
//!
//! Versions that do not parse in their scheme give a [`VersionError`]; no
//! function here panics, and a parse failure is never reported as "not
//! affected".

use std::cmp::Ordering;
use std::fmt;

mod affected;
mod apk;
mod composer;
mod dpkg;
mod generic;
mod golang;
mod maven;
mod npm;
mod nuget;
mod pep440;
mod req;
mod rpm;
mod rubygems;
mod semver_cmp;
mod util;

pub use affected::is_affected;

/// A version scheme: how the versions of one ecosystem or distribution are
/// ordered and how its requirements are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Alpine apk (also Wolfi, Chainguard): `1.2.3_rc1-r0`.
    Apk,
    /// Debian dpkg (also Ubuntu): `1:2.30-4+deb12u1`.
    Dpkg,
    /// RPM (Red Hat, Rocky, Alma, Fedora, SUSE, ...): `1:2.3-4.el9`.
    Rpm,
    /// Semantic Versioning 2.0 (crates.io, Hex, Pub, SwiftURL, OSV `SEMVER`).
    Semver,
    /// npm: SemVer ordering, npm range syntax.
    Npm,
    /// Python PEP 440.
    Pep440,
    /// RubyGems `Gem::Version` (also CocoaPods).
    RubyGems,
    /// Maven `ComparableVersion`.
    Maven,
    /// Go modules (`v1.2.3`, `+incompatible`, pseudo-versions) and the Go
    /// toolchain (`go1.21rc2`).
    Go,
    /// NuGet (SemVer with a fourth number, case-insensitive pre-releases).
    NuGet,
    /// Packagist/Composer (PHP `version_compare` on normalized versions).
    Packagist,
    /// Anything else: dot/alphanumeric segment comparison.
    Generic,
}

impl Scheme {
    /// All schemes, in declaration order (handy for tests and fuzzing).
    pub const ALL: [Scheme; 12] = [
        Scheme::Apk,
        Scheme::Dpkg,
        Scheme::Rpm,
        Scheme::Semver,
        Scheme::Npm,
        Scheme::Pep440,
        Scheme::RubyGems,
        Scheme::Maven,
        Scheme::Go,
        Scheme::NuGet,
        Scheme::Packagist,
        Scheme::Generic,
    ];

    /// The scheme of an ecosystem: an OSV ecosystem name (`PyPI`, `Go`,
    /// `crates.io`, `npm`, `RubyGems`, `Maven`, `Hex`, `Packagist`, `NuGet`,
    /// `Pub`, ...) or a distribution family, optionally with a release
    /// (`alpine:3.10`, `debian:12`, `Ubuntu:22.04`, `redhat:9`, `wolfi`).
    /// Unknown names give [`Scheme::Generic`].
    ///
    /// ```
    /// use customs_versions::Scheme;
    /// assert_eq!(Scheme::for_ecosystem("alpine:3.10"), Scheme::Apk);
    /// assert_eq!(Scheme::for_ecosystem("Ubuntu:22.04:LTS"), Scheme::Dpkg);
    /// assert_eq!(Scheme::for_ecosystem("Rocky Linux:9"), Scheme::Rpm);
    /// assert_eq!(Scheme::for_ecosystem("PyPI"), Scheme::Pep440);
    /// assert_eq!(Scheme::for_ecosystem("crates.io"), Scheme::Semver);
    /// assert_eq!(Scheme::for_ecosystem("Photon OS:3.0"), Scheme::Rpm);
    /// assert_eq!(Scheme::for_ecosystem("Hackage"), Scheme::Generic);
    /// ```
    pub fn for_ecosystem(ecosystem: &str) -> Scheme {
        let base = ecosystem.trim();
        let base = base.split(':').next().unwrap_or(base).trim();
        let lower = base.to_ascii_lowercase();
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| lower.starts_with(p));
        match lower.as_str() {
            "pypi" | "python" => return Scheme::Pep440,
            "go" | "golang" => return Scheme::Go,
            "crates.io" | "cargo" | "hex" | "pub" | "swifturl" | "swift" | "semver" => {
                return Scheme::Semver
            }
            "npm" => return Scheme::Npm,
            "rubygems" | "gem" | "bundler" | "cocoapods" => return Scheme::RubyGems,
            "maven" => return Scheme::Maven,
            "ol" => return Scheme::Rpm,
            "nuget" => return Scheme::NuGet,
            "packagist" | "composer" => return Scheme::Packagist,
            _ => {}
        }
        // Distribution families, possibly with a product suffix
        // (`Ubuntu Pro`, `Photon OS`, `Red Hat Enterprise Linux`).
        if starts(&["alpine", "wolfi", "chainguard", "minimos", "postmarketos"]) {
            Scheme::Apk
        } else if starts(&[
            "debian",
            "ubuntu",
            "distroless",
            "linux mint",
            "devuan",
            "kali",
            "raspbian",
        ]) {
            Scheme::Dpkg
        } else if starts(&[
            "redhat",
            "red hat",
            "rhel",
            "centos",
            "rocky",
            "alma",
            "fedora",
            "amazon",
            "oracle",
            "suse",
            "opensuse",
            "sles",
            "sle-",
            "photon",
            "cbl-mariner",
            "mariner",
            "azurelinux",
            "azure linux",
            "mageia",
            "openeuler",
            "anolis",
        ]) {
            Scheme::Rpm
        } else {
            Scheme::Generic
        }
    }

    /// A short lower-case name (`apk`, `dpkg`, `pep440`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Apk => "apk",
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Semver => "semver",
            Scheme::Npm => "npm",
            Scheme::Pep440 => "pep440",
            Scheme::RubyGems => "rubygems",
            Scheme::Maven => "maven",
            Scheme::Go => "go",
            Scheme::NuGet => "nuget",
            Scheme::Packagist => "packagist",
            Scheme::Generic => "generic",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A version or requirement that does not parse in its scheme.
///
/// Display is one line: `invalid dpkg version "1:": nothing after the epoch`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("invalid {scheme} version {version:?}: {reason}")]
    InvalidVersion {
        scheme: Scheme,
        version: String,
        reason: String,
    },
    #[error("invalid {scheme} requirement {requirement:?}: {reason}")]
    InvalidRequirement {
        scheme: Scheme,
        requirement: String,
        reason: String,
    },
}

/// Longest input echoed back in an error message.
const MAX_ECHO: usize = 120;

fn echo(s: &str) -> String {
    if s.len() <= MAX_ECHO {
        return s.to_string();
    }
    let mut end = MAX_ECHO;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn one_line(reason: impl fmt::Display) -> String {
    let s = reason.to_string();
    s.lines().next().unwrap_or("").trim().to_string()
}

impl VersionError {
    pub(crate) fn version(scheme: Scheme, version: &str, reason: impl fmt::Display) -> Self {
        VersionError::InvalidVersion {
            scheme,
            version: echo(version),
            reason: one_line(reason),
        }
    }

    pub(crate) fn requirement(
        scheme: Scheme,
        requirement: &str,
        reason: impl fmt::Display,
    ) -> Self {
        VersionError::InvalidRequirement {
            scheme,
            requirement: echo(requirement),
            reason: one_line(reason),
        }
    }
}

/// Compare two versions of one scheme.
///
/// Both versions are validated first: if either does not parse, the result
/// is an error naming it, never a guess.
///
/// ```
/// use std::cmp::Ordering::*;
/// use customs_versions::{compare, Scheme};
///
/// assert_eq!(compare(Scheme::Rpm, "1.0~rc1-1.el9", "1.0-1.el9")?, Less);
/// assert_eq!(compare(Scheme::Pep440, "1.0.post1", "1.0")?, Greater);
/// assert_eq!(compare(Scheme::Maven, "1.0-SNAPSHOT", "1.0")?, Less);
/// assert_eq!(compare(Scheme::Go, "v0.0.0-20200101000000-abcdef123456", "v0.1.0")?, Less);
/// assert_eq!(compare(Scheme::Go, "go1.21rc2", "1.21.0")?, Less);
/// assert!(compare(Scheme::Dpkg, "1:", "1.0").is_err());
/// # Ok::<(), customs_versions::VersionError>(())
/// ```
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    match scheme {
        Scheme::Apk => apk::compare(a, b),
        Scheme::Dpkg => dpkg::compare(a, b),
        Scheme::Rpm => rpm::compare(a, b),
        Scheme::Semver => semver_cmp::compare(a, b),
        Scheme::Npm => npm::compare(a, b),
        Scheme::Pep440 => pep440::compare(a, b),
        Scheme::RubyGems => rubygems::compare(a, b),
        Scheme::Maven => maven::compare(a, b),
        Scheme::Go => golang::compare(a, b),
        Scheme::NuGet => nuget::compare(a, b),
        Scheme::Packagist => composer::compare(a, b),
        Scheme::Generic => generic::compare(a, b),
    }
}

/// Check that `version` is a valid version of `scheme`.
///
/// ```
/// use customs_versions::{validate, Scheme};
/// assert!(validate(Scheme::Apk, "2.8.4-r0").is_ok());
/// assert!(validate(Scheme::Apk, "2.8.4-1").is_err());
/// ```
pub fn validate(scheme: Scheme, version: &str) -> Result<(), VersionError> {
    compare(scheme, version, version).map(|_| ())
}

/// True when `version` matches `requirement`, written in the ecosystem's
/// own syntax:
///
/// - RubyGems: `~> 1.2`, `>= 2.0, < 2.1.1`, `!= 1.0` (comma = and);
/// - Semver (crates.io/RustSec, Hex, ...): Cargo requirements `^1.2.3`,
///   `>= 0.2.0, < 0.3.0`, `=1.0.0`, `~1.2`, `*`;
/// - Npm: npm ranges `^1.2 || ~2.3`, `1.x`, `1.0.0 - 2.0.0`;
/// - Pep440: PEP 440 specifiers `>=1.0,<2.0`, `~=1.4`, `==1.*`;
/// - Maven and NuGet: intervals `[1.0,2.0)`, `(,1.0],[1.2,)`, or a list;
/// - every scheme (and the others): a comparator list `>= 1.0, < 2.0`
///   with `=`/`==`, `!=`, `<`, `<=`, `>`, `>=` (no operator means `=`),
///   alternatives separated by `||`, and `*` for any version.
///
/// ```
/// use customs_versions::{satisfies, Scheme};
/// assert!(satisfies(Scheme::Semver, "0.2.5", ">= 0.2.0, < 0.3.0")?);
/// assert!(!satisfies(Scheme::Semver, "1.3.0", "^1.2.3, < 1.3")?);
/// assert!(satisfies(Scheme::Npm, "2.3.9", "^1.2 || ~2.3")?);
/// assert!(satisfies(Scheme::RubyGems, "2.0.5", ">= 2.0, < 2.1.1")?);
/// assert!(satisfies(Scheme::Pep440, "1.4.2", "~=1.4")?);
/// assert!(satisfies(Scheme::Maven, "1.5", "[1.0,2.0)")?);
/// assert!(satisfies(Scheme::Apk, "1.2.3-r1", ">=1.2.3-r1")?);
/// # Ok::<(), customs_versions::VersionError>(())
/// ```
pub fn satisfies(scheme: Scheme, version: &str, requirement: &str) -> Result<bool, VersionError> {
    match scheme {
        Scheme::RubyGems => rubygems::satisfies(version, requirement),
        Scheme::Semver => semver_cmp::satisfies(version, requirement),
        Scheme::Npm => npm::satisfies(version, requirement),
        Scheme::Pep440 => pep440::satisfies(version, requirement),
        Scheme::Maven | Scheme::NuGet if req::is_interval(requirement) => {
            req::satisfies_interval(scheme, version, requirement)
        }
        _ => req::satisfies_list(scheme, version, requirement),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystems() {
        for (name, want) in [
            ("alpine:3.10", Scheme::Apk),
            ("Alpine:v3.18", Scheme::Apk),
            ("wolfi", Scheme::Apk),
            ("chainguard", Scheme::Apk),
            ("debian:12", Scheme::Dpkg),
            ("Debian:11", Scheme::Dpkg),
            ("ubuntu:22.04", Scheme::Dpkg),
            ("Ubuntu:Pro:18.04:LTS", Scheme::Dpkg),
            ("redhat:9", Scheme::Rpm),
            ("Red Hat:enterprise_linux:9::appstream", Scheme::Rpm),
            ("rocky", Scheme::Rpm),
            ("Rocky Linux:9", Scheme::Rpm),
            ("AlmaLinux:8", Scheme::Rpm),
            ("amazon:2", Scheme::Rpm),
            ("ol", Scheme::Rpm),
            ("openSUSE:Leap 15.5", Scheme::Rpm),
            ("SUSE:Linux Enterprise Server 15 SP5", Scheme::Rpm),
            ("Mageia:9", Scheme::Rpm),
            ("PyPI", Scheme::Pep440),
            ("Go", Scheme::Go),
            ("crates.io", Scheme::Semver),
            ("Hex", Scheme::Semver),
            ("Pub", Scheme::Semver),
            ("npm", Scheme::Npm),
            ("RubyGems", Scheme::RubyGems),
            ("Maven", Scheme::Maven),
            ("NuGet", Scheme::NuGet),
            ("Packagist", Scheme::Packagist),
            ("CRAN", Scheme::Generic),
            ("oldthing", Scheme::Generic),
            ("", Scheme::Generic),
        ] {
            assert_eq!(Scheme::for_ecosystem(name), want, "{name}");
        }
    }

    #[test]
    fn errors_are_one_line() {
        let long = "1\n2".repeat(100);
        for s in Scheme::ALL {
            if let Err(e) = compare(s, &long, "1") {
                let msg = e.to_string();
                assert!(!msg.contains('\n'), "{msg}");
                assert!(msg.len() < 400, "{msg}");
            }
            if let Err(e) = satisfies(s, "1", ">= 1.0,\n<") {
                assert!(!e.to_string().contains('\n'), "{e}");
            }
        }
    }
}
