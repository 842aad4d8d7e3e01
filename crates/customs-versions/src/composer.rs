//! Packagist (Composer) versions.
//!
//! Hand-written: Composer compares normalized versions with PHP's
//! `version_compare`, which has no Rust crate. Normalization here does what
//! matters for ordering: an optional `v` is dropped and the release is
//! padded to four numbers (`1.2` = `1.2.0.0`). `version_compare` then splits
//! into digit and letter runs and orders letter runs by PHP's special forms:
//! `dev < alpha = a < beta = b < RC = rc < (number) < pl = p`, anything
//! else below `dev`; a version that goes on is newer when what follows is a
//! number or `p`/`pl`, older otherwise (`1.0-rc1 < 1.0 < 1.0-p1`).
//! Branch names (`dev-main`, `1.x-dev`) are not versions and are rejected.

use std::cmp::Ordering;

use crate::util::{cmp_digits, AlnumRuns, Run};
use crate::{Scheme, VersionError};

/// PHP's `compare_special_version_forms` rank (a number is `#` = 4).
fn rank(form: &str) -> i32 {
    const FORMS: [(&str, i32); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| form.starts_with(name))
        .map_or(-1, |(_, r)| *r)
}

const NUMBER: i32 = 4;

fn validate(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty version");
    }
    if s.starts_with("dev-") || s.ends_with("-dev") && s.contains(['x', 'X', '*']) {
        return Err("a branch name, not a version");
    }
    if !s.bytes().next().is_some_and(|c| c.is_ascii_digit()) {
        return Err("a version starts with a digit (after an optional 'v')");
    }
    if s.bytes()
        .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err("whitespace or control character inside the version");
    }
    Ok(())
}

/// The runs of a normalized version: leading numbers padded to four.
fn runs(s: &str) -> impl Iterator<Item = Run<'_>> {
    let mut it = AlnumRuns::new(s);
    let mut head = [Run::Num("0"); 4];
    let mut stop = None;
    for slot in head.iter_mut() {
        match it.next() {
            Some(r @ Run::Num(_)) => *slot = r,
            other => {
                stop = other;
                break;
            }
        }
    }
    head.into_iter().chain(stop).chain(it)
}

fn cmp_runs(a: Run<'_>, b: Run<'_>) -> Ordering {
    match (a, b) {
        (Run::Num(x), Run::Num(y)) => cmp_digits(x, y),
        (Run::Num(_), Run::Alpha(y)) => NUMBER.cmp(&rank(y)),
        (Run::Alpha(x), Run::Num(_)) => rank(x).cmp(&NUMBER),
        (Run::Alpha(x), Run::Alpha(y)) => rank(x).cmp(&rank(y)),
    }
}

/// The order of a version that goes on with `r` against one that ended.
fn tail(r: Run<'_>) -> Ordering {
    match r {
        Run::Num(_) => Ordering::Greater,
        Run::Alpha(x) => rank(x).cmp(&NUMBER),
    }
}

fn cmp_valid(a: &str, b: &str) -> Ordering {
    let mut ia = runs(a);
    let mut ib = runs(b);
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (Some(x), None) => return tail(x),
            (None, Some(y)) => return tail(y).reverse(),
            (Some(x), Some(y)) => {
                let r = cmp_runs(x, y);
                if r != Ordering::Equal {
                    return r;
                }
            }
        }
    }
}

fn clean(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix(['v', 'V']).unwrap_or(s)
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (clean(a), clean(b));
    validate(a).map_err(|e| VersionError::version(Scheme::Packagist, a, e))?;
    validate(b).map_err(|e| VersionError::version(Scheme::Packagist, b, e))?;
    Ok(cmp_valid(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn ordering() {
        assert_eq!(c("1.0", "1.0.0"), Equal);
        assert_eq!(c("v1.2.3", "1.2.3.0"), Equal);
        assert_eq!(c("1.0.0-dev", "1.0.0-alpha1"), Less);
        assert_eq!(c("1.0.0-alpha1", "1.0.0-beta1"), Less);
        assert_eq!(c("1.0.0-beta2", "1.0.0-RC1"), Less);
        assert_eq!(c("1.0.0-RC1", "1.0.0"), Less);
        assert_eq!(c("1.0.0", "1.0.0-p1"), Less);
        assert_eq!(c("1.0.0", "1.0.0.1"), Less);
        assert_eq!(c("1.0.0-beta.2", "1.0.0-beta.10"), Less);
        assert_eq!(c("5.4.10", "5.4.9"), Greater);
        assert_eq!(c("1.0.0-patch1", "1.0.0"), Greater);
        for bad in ["", "dev-main", "1.x-dev", "abc", "1.0 beta"] {
            assert!(compare(bad, "1.0").is_err(), "{bad:?}");
        }
    }
}
