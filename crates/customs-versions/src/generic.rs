//! The fallback for ecosystems without a scheme of their own.
//!
//! Hand-written, deliberately simple: the version is read as runs of digits
//! and runs of letters (anything else separates them); runs compare
//! pairwise, numbers numerically, letters case-insensitively, a letter run
//! before a number (so `1.0rc1 < 1.0 < 1.0.1`), and a missing run counts as
//! `0` (so `1.0 = 1.0.0`). A version must contain at least one digit.

use std::cmp::Ordering;

use crate::util::{cmp_digits, cmp_ignore_ascii_case, AlnumRuns, Run};
use crate::{Scheme, VersionError};

fn validate(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty version");
    }
    if !s.bytes().any(|c| c.is_ascii_digit()) {
        return Err("a version has at least one digit");
    }
    if s.chars().any(char::is_control) {
        return Err("control character inside the version");
    }
    Ok(())
}

pub(crate) fn cmp_run(a: Run<'_>, b: Run<'_>) -> Ordering {
    match (a, b) {
        (Run::Num(x), Run::Num(y)) => cmp_digits(x, y),
        (Run::Alpha(_), Run::Num(_)) => Ordering::Less,
        (Run::Num(_), Run::Alpha(_)) => Ordering::Greater,
        (Run::Alpha(x), Run::Alpha(y)) => cmp_ignore_ascii_case(x, y),
    }
}

fn cmp_valid(a: &str, b: &str) -> Ordering {
    let mut ia = AlnumRuns::new(a);
    let mut ib = AlnumRuns::new(b);
    loop {
        let (x, y) = match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => (x.unwrap_or(Run::Num("0")), y.unwrap_or(Run::Num("0"))),
        };
        let r = cmp_run(x, y);
        if r != Ordering::Equal {
            return r;
        }
    }
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (a.trim(), b.trim());
    validate(a).map_err(|e| VersionError::version(Scheme::Generic, a, e))?;
    validate(b).map_err(|e| VersionError::version(Scheme::Generic, b, e))?;
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
        assert_eq!(c("1.0rc1", "1.0"), Less);
        assert_eq!(c("1.0", "1.0.1"), Less);
        assert_eq!(c("1.10", "1.9"), Greater);
        assert_eq!(c("1.0-RC1", "1.0.rc.1"), Equal);
        assert_eq!(c("2024.01.05", "2024.1.5"), Equal);
        assert!(compare("latest", "1").is_err());
        assert!(compare("", "1").is_err());
    }
}
