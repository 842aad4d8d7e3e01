//! RPM versions: `[epoch:]version[-release]`, compared with `rpmvercmp`
//! (alphanumeric runs, numbers beat letters, `~` sorts before everything and
//! `^` after the base version but before anything longer).
//!
//! The comparison itself is the `rpm-version` crate's (borrowed, no
//! allocation); this module only splits the string the way rpm's
//! `parseEVR` does (epoch = leading digits before `:`, release = after the
//! last `-`) and rejects what is not a version at all.

use std::cmp::Ordering;

use rpm_version::Evr;

use crate::{Scheme, VersionError};

fn parse(s: &str) -> Result<Evr<'_>, &'static str> {
    if s.is_empty() {
        return Err("empty version");
    }
    if s.bytes()
        .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    {
        return Err("whitespace or control character inside the version");
    }
    let (epoch, rest) = match s.split_once(':') {
        Some((e, rest)) => {
            if !e.bytes().all(|c| c.is_ascii_digit()) {
                return Err("epoch is not a number");
            }
            (if e.is_empty() { "0" } else { e }, rest)
        }
        None => ("0", s),
    };
    if rest.contains(':') {
        return Err("more than one ':'");
    }
    let (version, release) = rest.rsplit_once('-').unwrap_or((rest, ""));
    if !version.bytes().any(|c| c.is_ascii_alphanumeric()) {
        return Err("version part has no digits or letters");
    }
    if rest.contains('-') && !release.bytes().any(|c| c.is_ascii_alphanumeric()) {
        return Err("release part after '-' has no digits or letters");
    }
    Ok(Evr::new(epoch, version, release))
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (a.trim(), b.trim());
    let ea = parse(a).map_err(|e| VersionError::version(Scheme::Rpm, a, e))?;
    let eb = parse(b).map_err(|e| VersionError::version(Scheme::Rpm, b, e))?;
    Ok(ea.cmp(&eb))
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
    fn evr() {
        assert_eq!(c("1:1.0-1", "2.0-1"), Greater);
        assert_eq!(c("0:1.0-1", "1.0-1"), Equal);
        assert_eq!(c("1.0-1.el9", "1.0-1.el9_1"), Less);
        assert_eq!(c("1.0~rc1-1", "1.0-1"), Less);
        assert_eq!(c("1.0^git1-1", "1.0-1"), Greater);
        assert_eq!(c("1.0^git1-1", "1.0.1-1"), Less);
        assert_eq!(c("2.17-326.el7_9", "2.17-325.el7_9"), Greater);
        assert_eq!(c("3.0.7-16.el9_2", "3.0.7-16.el9_2"), Equal);
    }

    #[test]
    fn invalid() {
        for v in ["", "a:1.0", "1:2:3", "1.0 1", "1.0-", "-1", "..", "1.0-.."] {
            assert!(compare(v, "1.0").is_err(), "{v:?} should be invalid");
        }
    }
}
