//! Parsers of the upstream advisory feeds, each reading the format its
//! publisher serves. Every parser takes the file name (for messages) and the
//! bytes, and returns a [`FeedOutput`]; a malformed record is skipped and
//! reported, a file that cannot be read at all is one skipped record.

pub mod alpine;
pub mod debian;
pub mod epss;
pub mod kev;
pub mod nvd;
pub mod osv;
pub mod rubysec;
pub mod rustsec;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// A data source: the id stored in the database and its description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    AlpineSecdb,
    DebianTracker,
    DebianDsa,
    DebianDla,
    Pypa,
    GoVulndb,
    Rustsec,
    Rubysec,
    Osv,
    Nvd,
    Kev,
    Epss,
}

impl Source {
    pub const ALL: [Source; 12] = [
        Source::AlpineSecdb,
        Source::DebianTracker,
        Source::DebianDsa,
        Source::DebianDla,
        Source::Pypa,
        Source::GoVulndb,
        Source::Rustsec,
        Source::Rubysec,
        Source::Osv,
        Source::Nvd,
        Source::Kev,
        Source::Epss,
    ];

    /// The id stored in `advisories.source` and `data_sources.id`.
    pub fn id(self) -> &'static str {
        match self {
            Source::AlpineSecdb => "alpine-secdb",
            Source::DebianTracker => "debian-tracker",
            Source::DebianDsa => "debian-dsa",
            Source::DebianDla => "debian-dla",
            Source::Pypa => "pypa",
            Source::GoVulndb => "go-vulndb",
            Source::Rustsec => "rustsec",
            Source::Rubysec => "rubysec",
            Source::Osv => "osv",
            Source::Nvd => "nvd",
            Source::Kev => "cisa-kev",
            Source::Epss => "first-epss",
        }
    }

    pub fn from_id(id: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            Source::AlpineSecdb => "Alpine Secdb",
            Source::DebianTracker => "Debian Security Tracker",
            Source::DebianDsa => "Debian Security Advisories (DSA list)",
            Source::DebianDla => "Debian LTS Advisories (DLA list)",
            Source::Pypa => "Python Packaging Advisory Database",
            Source::GoVulndb => "Go Vulnerability Database",
            Source::Rustsec => "RustSec Advisory Database",
            Source::Rubysec => "Ruby Advisory Database",
            Source::Osv => "OSV",
            Source::Nvd => "National Vulnerability Database",
            Source::Kev => "CISA Known Exploited Vulnerabilities",
            Source::Epss => "FIRST Exploit Prediction Scoring System",
        }
    }

    pub fn url(self) -> &'static str {
        match self {
            Source::AlpineSecdb => "https://secdb.alpinelinux.org/",
            Source::DebianTracker => "https://security-tracker.debian.org/tracker/",
            Source::DebianDsa | Source::DebianDla => {
                "https://salsa.debian.org/security-tracker-team/security-tracker"
            }
            Source::Pypa => "https://github.com/pypa/advisory-database",
            Source::GoVulndb => "https://pkg.go.dev/vuln/",
            Source::Rustsec => "https://rustsec.org/",
            Source::Rubysec => "https://rubysec.com/",
            Source::Osv => "https://osv.dev/",
            Source::Nvd => "https://nvd.nist.gov/",
            Source::Kev => "https://www.cisa.gov/known-exploited-vulnerabilities-catalog",
            Source::Epss => "https://www.first.org/epss/",
        }
    }

    /// Which source's title, description and dates win when several
    /// describe one vulnerability (lower wins).
    pub(crate) fn priority(self) -> u8 {
        match self {
            // Exploit data describes no vulnerability text.
            Source::Nvd | Source::Kev | Source::Epss => 0,
            Source::GoVulndb | Source::Pypa | Source::Rustsec | Source::Rubysec => 1,
            Source::Osv => 2,
            Source::DebianTracker => 3,
            Source::AlpineSecdb | Source::DebianDsa | Source::DebianDla => 4,
        }
    }
}

/// Deserialize a scalar (string, integer, float, bool) into its text, so
/// that YAML's `osvdb: 108575` or `- 1.2` reach us as strings.
pub(crate) fn scalar_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Scalar::deserialize(d).map(|s| s.0)
}

pub(crate) fn opt_scalar_string<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.map(|s| s.0))
}

pub(crate) fn scalar_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<Scalar>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.0)
        .collect())
}

/// A scalar's text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar(pub String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Ask for a string first: YAML deserializers hand over a plain
        // scalar's text as written (`2.0` stays `2.0`).
        d.deserialize_string(ScalarVisitor).map(Scalar)
    }
}

struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string or number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A scalar read as a number (`7.5` or `"7.5"`).
pub(crate) fn opt_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.and_then(|s| s.0.trim().parse::<f64>().ok()))
}

/// Parse YAML with serde-saphyr (bounded by its default budget).
pub(crate) fn from_yaml<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    serde_saphyr::from_str(text).map_err(|e| one_line(&e.to_string()))
}

/// First line of an error message, so that every warning is one line.
/// The bytes of a feed file, gunzipped when they start with the gzip magic.
/// More than `max` decompressed bytes is an error, never a silent
/// truncation (a cut CSV would lose rows and still parse).
pub(crate) fn gunzip_bounded(bytes: &[u8], max: u64) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    use std::io::Read;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut plain = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(max.saturating_add(1))
        .read_to_end(&mut plain)
        .map_err(|e| format!("bad gzip data: {e}"))?;
    if plain.len() as u64 > max {
        return Err(format!("decompresses to more than {max} bytes"));
    }
    Ok(std::borrow::Cow::Owned(plain))
}

pub(crate) fn one_line(s: &str) -> String {
    let line = s.lines().find(|l| !l.trim().is_empty()).unwrap_or(s);
    line.trim().to_string()
}

/// Ecosystem string of a distribution release: `alpine:3.10` from
/// `Alpine:v3.10`, `debian:12`, `ubuntu:22.04` from `Ubuntu:Pro:22.04:LTS`.
/// Language ecosystems are returned as OSV names them.
pub fn normalize_ecosystem(eco: &str) -> String {
    let eco = eco.trim();
    let mut parts = eco.split(':');
    let name = parts.next().unwrap_or_default().trim();
    let lname = name.to_ascii_lowercase();
    const DISTROS: &[&str] = &[
        "alpine",
        "alpaquita",
        "almalinux",
        "azure linux",
        "bellsoft hardened containers",
        "chainguard",
        "debian",
        "echo",
        "mageia",
        "minimos",
        "opensuse",
        "openeuler",
        "photon os",
        "red hat",
        "rocky linux",
        "suse",
        "ubuntu",
        "wolfi",
    ];
    if !DISTROS.contains(&lname.as_str()) {
        return eco.to_string();
    }
    let distro = lname.replace(' ', "-");
    // The release is the first part that starts with a digit (after an
    // optional `v`): `v3.18`, `12`, `22.04` in `Pro:22.04:LTS`.
    for p in parts {
        let p = p.trim();
        let p = p.strip_prefix('v').unwrap_or(p);
        if p.starts_with(|c: char| c.is_ascii_digit()) {
            return format!("{distro}:{p}");
        }
    }
    distro
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecosystems() {
        assert_eq!(normalize_ecosystem("Alpine:v3.18"), "alpine:3.18");
        assert_eq!(normalize_ecosystem("Debian:12"), "debian:12");
        assert_eq!(normalize_ecosystem("Ubuntu:22.04:LTS"), "ubuntu:22.04");
        assert_eq!(normalize_ecosystem("Ubuntu:Pro:18.04:LTS"), "ubuntu:18.04");
        assert_eq!(normalize_ecosystem("Wolfi"), "wolfi");
        assert_eq!(normalize_ecosystem("Rocky Linux:9"), "rocky-linux:9");
        assert_eq!(normalize_ecosystem("PyPI"), "PyPI");
        assert_eq!(normalize_ecosystem("crates.io"), "crates.io");
        assert_eq!(
            normalize_ecosystem("Maven:https://repo"),
            "Maven:https://repo"
        );
    }

    #[test]
    fn yaml_scalars_keep_their_text() {
        #[derive(Deserialize)]
        struct T {
            #[serde(deserialize_with = "scalar_vec")]
            v: Vec<String>,
            #[serde(default, deserialize_with = "opt_scalar_string")]
            n: Option<String>,
        }
        let t: T = from_yaml(b"v:\n- 2.0\n- 1.10\n- abc\nn: 108575\n").unwrap_or_else(|e| {
            panic!("{e}");
        });
        assert_eq!(t.v, vec!["2.0", "1.10", "abc"]);
        assert_eq!(t.n.as_deref(), Some("108575"));
    }

    #[test]
    fn sources_round_trip() {
        for s in Source::ALL {
            assert_eq!(Source::from_id(s.id()), Some(s));
        }
    }
}
