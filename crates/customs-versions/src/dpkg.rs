//! Debian dpkg versions: `[epoch:]upstream[-revision]`.
//!
//! Hand-written. The `debversion` crate was considered: it parses with
//! regexes, allocates a `BigInt` per digit run in every comparison and
//! `unwrap`s on the way, which does not fit a hot, panic-free path. The
//! ordering below is dpkg's `verrevcmp` (Debian policy 5.6.12): alternating
//! non-digit and digit runs; in non-digit runs letters sort before other
//! characters and `~` before everything, even the end of the string; digit
//! runs compare numerically. Epochs compare numerically first; a missing
//! revision equals `0`.

use std::cmp::Ordering;

use crate::util::cmp_digits;
use crate::{Scheme, VersionError};

struct Parts<'a> {
    epoch: &'a str,
    upstream: &'a str,
    revision: &'a str,
}

fn parse(s: &str) -> Result<Parts<'_>, &'static str> {
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
            if e.is_empty() {
                return Err("epoch in version is empty");
            }
            if !e.bytes().all(|c| c.is_ascii_digit()) {
                return Err("epoch in version is not a number");
            }
            if cmp_digits(e, "2147483647") == Ordering::Greater {
                return Err("epoch in version is too big");
            }
            (e, rest)
        }
        None => ("0", s),
    };
    if rest.is_empty() {
        return Err("nothing after the epoch");
    }
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => {
            if r.is_empty() {
                return Err("revision number is empty");
            }
            (u, r)
        }
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return Err("version number is empty");
    }
    if !upstream
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b".+~-:".contains(&c))
    {
        return Err("invalid character in version number");
    }
    if !revision
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b".+~".contains(&c))
    {
        return Err("invalid character in revision number");
    }
    Ok(Parts {
        epoch,
        upstream,
        revision,
    })
}

/// dpkg's character weight inside a non-digit run (`None` = end of run).
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp` over one upstream or revision string.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    while !a.is_empty() || !b.is_empty() {
        // Non-digit prefix, character by character.
        loop {
            let ca = a.first().copied().filter(|c| !c.is_ascii_digit());
            let cb = b.first().copied().filter(|c| !c.is_ascii_digit());
            if ca.is_none() && cb.is_none() {
                break;
            }
            let (oa, ob) = (order(ca), order(cb));
            if oa != ob {
                return oa.cmp(&ob);
            }
            if ca.is_some() {
                a = a.get(1..).unwrap_or_default();
            }
            if cb.is_some() {
                b = b.get(1..).unwrap_or_default();
            }
        }
        // Digit run, numerically.
        let na = a
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(a.len());
        let nb = b
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(b.len());
        let (da, ra) = a.split_at(na);
        let (db, rb) = b.split_at(nb);
        // Digit runs are ASCII, so these conversions cannot fail.
        let da = std::str::from_utf8(da).unwrap_or_default();
        let db = std::str::from_utf8(db).unwrap_or_default();
        let r = cmp_digits(da, db);
        if r != Ordering::Equal {
            return r;
        }
        a = ra;
        b = rb;
    }
    Ordering::Equal
}

fn cmp_parts(a: &Parts<'_>, b: &Parts<'_>) -> Ordering {
    cmp_digits(a.epoch, b.epoch)
        .then_with(|| verrevcmp(a.upstream, b.upstream))
        .then_with(|| verrevcmp(a.revision, b.revision))
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (a.trim(), b.trim());
    let pa = parse(a).map_err(|e| VersionError::version(Scheme::Dpkg, a, e))?;
    let pb = parse(b).map_err(|e| VersionError::version(Scheme::Dpkg, b, e))?;
    Ok(cmp_parts(&pa, &pb))
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
    fn policy_examples() {
        assert_eq!(c("1.0~rc1-1", "1.0-1"), Less);
        assert_eq!(c("1.0~~", "1.0~"), Less);
        assert_eq!(c("1.0~", "1.0"), Less);
        assert_eq!(c("1.0", "1.0a"), Less);
        assert_eq!(c("1.0a", "1.0+"), Less);
        assert_eq!(c("1.0", "1.0-0"), Equal);
        assert_eq!(c("0:1.0", "1.0"), Equal);
        assert_eq!(c("1:0.1", "2.0"), Greater);
        assert_eq!(c("2.30-4+deb12u1", "2.30-4"), Greater);
        assert_eq!(c("1.2.3-1~deb11u1", "1.2.3-1"), Less);
        assert_eq!(c("7.74.0-1.3+deb11u7", "7.74.0-1.3+deb11u10"), Less);
        assert_eq!(c("1.0-1-2", "1.0-1-10"), Less);
        assert_eq!(
            c("1.99999999999999999999999", "1.99999999999999999999998"),
            Greater
        );
    }

    #[test]
    fn invalid() {
        for v in [
            "",
            ":1.0",
            "a:1.0",
            "1:",
            "1.0-",
            "-1",
            "1.0 1",
            "1.0_1",
            "1.0-1:2",
            "99999999999:1",
            "1.0\u{e9}",
        ] {
            assert!(compare(v, "1.0").is_err(), "{v:?} should be invalid");
        }
    }
}
