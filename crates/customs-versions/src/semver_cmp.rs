//! Semantic Versioning 2.0 precedence, shared by the Semver, npm, Go and
//! NuGet schemes.
//!
//! The comparison is hand-written so that it borrows the input and never
//! allocates (it runs thousands of times per scan) and so that it follows
//! SemVer *precedence*: build metadata is ignored (the `semver` crate's
//! `Ord` breaks ties on it). Parsing is deliberately tolerant where that
//! cannot change an order: a leading `v`/`V` or `=`, missing minor/patch
//! (`1.2` = `1.2.0`) and leading zeros are accepted. Requirement matching
//! (`satisfies`) uses the `semver` crate, which implements Cargo's syntax.

use std::cmp::Ordering;

use crate::util::{all_digits, cmp_digits, cmp_ignore_ascii_case};
use crate::{Scheme, VersionError};

/// A parsed SemVer-like version borrowing its input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sem<'a> {
    /// Up to four numeric release parts; missing ones are `""` (= 0).
    pub(crate) nums: [&'a str; 4],
    pub(crate) pre: Pre<'a>,
}

/// A pre-release: dot-separated identifiers, or the two identifiers of a Go
/// toolchain tag (`rc`, `2` for `go1.21rc2`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pre<'a> {
    None,
    Dotted(&'a str),
    Pair(&'a str, &'a str),
}

/// How strict the parser is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    /// Largest number of numeric release parts (3 for SemVer, 4 for NuGet).
    pub(crate) max_parts: usize,
    /// Pre-release identifiers compare ignoring ASCII case (NuGet).
    pub(crate) ignore_case: bool,
}

pub(crate) const SEMVER: Rules = Rules {
    max_parts: 3,
    ignore_case: false,
};

fn ident_ok(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

/// Strip the prefixes tolerated in front of a version: whitespace, `=`, `v`.
pub(crate) fn strip_prefix(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix('=').unwrap_or(s).trim_start();
    s.strip_prefix(['v', 'V']).unwrap_or(s)
}

pub(crate) fn parse(s: &str, rules: Rules) -> Result<Sem<'_>, &'static str> {
    if s.is_empty() {
        return Err("empty version");
    }
    let (main, _build) = match s.split_once('+') {
        Some((m, b)) => {
            if !b.split('.').all(ident_ok) {
                return Err("invalid build metadata after '+'");
            }
            (m, b)
        }
        None => (s, ""),
    };
    let (core, pre) = match main.split_once('-') {
        Some((c, p)) => {
            if !p.split('.').all(ident_ok) {
                return Err("invalid pre-release after '-'");
            }
            (c, Pre::Dotted(p))
        }
        None => (main, Pre::None),
    };
    let mut nums = [""; 4];
    for (i, part) in core.split('.').enumerate() {
        if !all_digits(part) {
            return Err("release numbers must be digits separated by dots");
        }
        match nums.get_mut(i) {
            Some(slot) if i < rules.max_parts => *slot = part,
            _ => return Err("too many release numbers"),
        }
    }
    Ok(Sem { nums, pre })
}

impl<'a> Pre<'a> {
    fn is_none(&self) -> bool {
        matches!(self, Pre::None)
    }

    fn ids(&self) -> PreIds<'a> {
        match *self {
            Pre::None => PreIds::Pair(None, None),
            Pre::Dotted(s) => PreIds::Dotted(s.split('.')),
            Pre::Pair(a, b) => PreIds::Pair(Some(a), Some(b)),
        }
    }
}

enum PreIds<'a> {
    Dotted(std::str::Split<'a, char>),
    Pair(Option<&'a str>, Option<&'a str>),
}

impl<'a> Iterator for PreIds<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        match self {
            PreIds::Dotted(it) => it.next(),
            PreIds::Pair(a, b) => a.take().or_else(|| b.take()),
        }
    }
}

fn cmp_ident(a: &str, b: &str, ignore_case: bool) -> Ordering {
    match (all_digits(a), all_digits(b)) {
        (true, true) => cmp_digits(a, b),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) if ignore_case => cmp_ignore_ascii_case(a, b),
        (false, false) => a.cmp(b),
    }
}

/// SemVer precedence of two parsed versions.
pub(crate) fn cmp_sem(a: &Sem<'_>, b: &Sem<'_>, rules: Rules) -> Ordering {
    for (x, y) in a.nums.iter().zip(b.nums.iter()) {
        let r = cmp_digits(x, y);
        if r != Ordering::Equal {
            return r;
        }
    }
    match (a.pre.is_none(), b.pre.is_none()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        (false, false) => {}
    }
    let mut ia = a.pre.ids();
    let mut ib = b.pre.ids();
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let r = cmp_ident(x, y, rules.ignore_case);
                if r != Ordering::Equal {
                    return r;
                }
            }
        }
    }
}

/// Compare two versions of `scheme` with the SemVer rules `rules`.
pub(crate) fn compare_with(
    scheme: Scheme,
    rules: Rules,
    a: &str,
    b: &str,
) -> Result<Ordering, VersionError> {
    let (a, b) = (strip_prefix(a), strip_prefix(b));
    let pa = parse(a, rules).map_err(|e| VersionError::version(scheme, a, e))?;
    let pb = parse(b, rules).map_err(|e| VersionError::version(scheme, b, e))?;
    Ok(cmp_sem(&pa, &pb, rules))
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    compare_with(Scheme::Semver, SEMVER, a, b)
}

/// Rewrite a tolerated version (`v1.2`) into the strict `MAJOR.MINOR.PATCH`
/// form the `semver` and `nodejs-semver` crates accept.
pub(crate) fn normalize(scheme: Scheme, version: &str) -> Result<String, VersionError> {
    let v = strip_prefix(version);
    let sem = parse(v, SEMVER).map_err(|e| VersionError::version(scheme, v, e))?;
    let mut out = String::with_capacity(v.len() + 4);
    for (i, n) in sem.nums.iter().take(3).enumerate() {
        if i > 0 {
            out.push('.');
        }
        let n = n.trim_start_matches('0');
        out.push_str(if n.is_empty() { "0" } else { n });
    }
    // Pre-release and build are copied as written, after the core.
    let core_len = v.find(['-', '+']).unwrap_or(v.len());
    out.push_str(v.get(core_len..).unwrap_or(""));
    Ok(out)
}

/// Cargo requirement matching (crates.io / RustSec `patched` lists).
pub(crate) fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let norm = normalize(Scheme::Semver, version)?;
    let v = semver::Version::parse(&norm)
        .map_err(|e| VersionError::version(Scheme::Semver, version, e))?;
    let req = semver::VersionReq::parse(requirement.trim())
        .map_err(|e| VersionError::requirement(Scheme::Semver, requirement, e))?;
    Ok(req.matches(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        match compare(a, b) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn spec_precedence() {
        // The chain from semver.org section 11.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for w in chain.windows(2) {
            if let [a, b] = w {
                assert_eq!(c(a, b), Less, "{a} < {b}");
                assert_eq!(c(b, a), Greater, "{b} > {a}");
            }
        }
    }

    #[test]
    fn tolerance() {
        assert_eq!(c("v1.2.3", "1.2.3"), Equal);
        assert_eq!(c("=1.2.3", "1.2.3"), Equal);
        assert_eq!(c("1.2", "1.2.0"), Equal);
        assert_eq!(c("1", "1.0.0"), Equal);
        assert_eq!(c("1.2.3+build.5", "1.2.3+other"), Equal);
        assert_eq!(c("1.2.3-rc.1+b", "1.2.3"), Less);
        assert_eq!(c("1.10.0", "1.9.0"), Greater);
        for bad in [
            "",
            "1.2.3.4",
            "1.x",
            "a",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3+",
            "1..2",
            "1.2.3 4",
        ] {
            assert!(compare(bad, "1.0.0").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cargo_requirements() {
        let s = |v: &str, r: &str| satisfies(v, r).unwrap_or_else(|e| panic!("{e}"));
        assert!(s("1.2.3", "^1.2.3"));
        assert!(s("1.9.0", "^1.2.3"));
        assert!(!s("2.0.0", "^1.2.3"));
        assert!(s("0.2.5", ">= 0.2.0, < 0.3.0"));
        assert!(!s("0.3.0", ">= 0.2.0, < 0.3.0"));
        assert!(s("1.0.0", "=1.0.0"));
        assert!(!s("1.0.1", "=1.0.0"));
        assert!(s("v1.2", "~1.2"));
        assert!(s("0.1.9", "< 0.2"));
        assert!(satisfies("1.0.0", ">>1").is_err());
        assert!(satisfies("x", "^1").is_err());
    }
}
