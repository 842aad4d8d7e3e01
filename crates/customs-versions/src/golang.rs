//! Go: module versions and the Go toolchain's own release names.
//!
//! Hand-written (Go's `golang.org/x/mod/semver` has no Rust port). Module
//! versions are SemVer with a `v` prefix (optional here, since OSV's Go
//! records drop it); `+incompatible` is build metadata and ignored;
//! pseudo-versions (`v0.0.0-20200101000000-abcdef123456`,
//! `v1.2.4-0.20200101000000-abcdef123456`) are ordinary pre-releases and
//! sort as Go sorts them. Toolchain names (`go1.20.3`, `go1.21rc2`,
//! `1.9beta1`, `go1.20`) are read as `1.20.3`, `1.21.0-rc.2`,
//! `1.9.0-beta.1`, `1.20.0`, the form OSV uses for the `stdlib` module.
//! Anything after whitespace in a toolchain name (`go1.22.1 X:boringcrypto`)
//! is ignored.

use std::cmp::Ordering;

use crate::semver_cmp::{self, Pre, Sem, SEMVER};
use crate::util::{all_digits, span};
use crate::{Scheme, VersionError};

/// `1.21rc2`, `1.20.3`, `1.9beta1` (after `go`), as a SemVer.
fn toolchain(s: &str) -> Option<Sem<'_>> {
    let n = s
        .bytes()
        .position(|c| c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    let (release, tag) = s.split_at(n);
    let mut nums = [""; 4];
    for (i, part) in release.split('.').enumerate() {
        if !all_digits(part) || i >= 3 {
            return None;
        }
        if let Some(slot) = nums.get_mut(i) {
            *slot = part;
        }
    }
    let pre = if tag.is_empty() {
        Pre::None
    } else {
        let k = span(tag, |c| c.is_ascii_lowercase());
        let (kind, num) = tag.split_at(k);
        if !matches!(kind, "alpha" | "beta" | "rc") || !all_digits(num) {
            return None;
        }
        Pre::Pair(kind, num)
    };
    Some(Sem { nums, pre })
}

fn parse(s: &str) -> Result<Sem<'_>, &'static str> {
    if let Some(rest) = s.strip_prefix("go") {
        let first = rest.split_whitespace().next().unwrap_or("");
        return toolchain(first).ok_or("not a Go toolchain version (go1.N[.N][rcN|betaN])");
    }
    let v = s.strip_prefix('v').unwrap_or(s);
    match semver_cmp::parse(v, SEMVER) {
        Ok(sem) => Ok(sem),
        Err(e) => toolchain(v).ok_or(e),
    }
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (a.trim(), b.trim());
    let pa = parse(a).map_err(|e| VersionError::version(Scheme::Go, a, e))?;
    let pb = parse(b).map_err(|e| VersionError::version(Scheme::Go, b, e))?;
    Ok(semver_cmp::cmp_sem(&pa, &pb, SEMVER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn modules() {
        assert_eq!(c("v1.2.3", "1.2.3"), Equal);
        assert_eq!(c("v2.0.0+incompatible", "v2.0.0"), Equal);
        assert_eq!(c("v2.0.1+incompatible", "v2.0.0"), Greater);
        assert_eq!(c("v0.0.0-20200101000000-abcdef123456", "v0.0.1"), Less);
        assert_eq!(
            c(
                "v0.0.0-20200101000000-abcdef123456",
                "v0.0.0-20210101000000-000000000000"
            ),
            Less
        );
        // A pseudo-version based on v1.2.3 sorts after it and before v1.2.4.
        assert_eq!(c("v1.2.4-0.20200101000000-abcdef123456", "v1.2.3"), Greater);
        assert_eq!(c("v1.2.4-0.20200101000000-abcdef123456", "v1.2.4"), Less);
        assert_eq!(
            c("v1.2.4-0.20200101000000-abcdef123456", "v1.2.4-pre"),
            Less
        );
        assert_eq!(c("v1.10.0", "v1.9.9"), Greater);
    }

    #[test]
    fn toolchains() {
        assert_eq!(c("go1.20.3", "1.20.3"), Equal);
        assert_eq!(c("go1.20", "1.20.0"), Equal);
        assert_eq!(c("go1.21rc2", "1.21.0-rc.2"), Equal);
        assert_eq!(c("1.21rc2", "1.21.0"), Less);
        assert_eq!(c("go1.21rc2", "go1.21rc10"), Less);
        assert_eq!(c("go1.9beta1", "go1.9rc1"), Less);
        assert_eq!(c("go1.21.0", "go1.20.14"), Greater);
        assert_eq!(c("go1.22.1 X:boringcrypto", "go1.22.1"), Equal);
    }

    #[test]
    fn invalid() {
        for v in [
            "", "devel", "go", "go1.x", "gotip", "v1.2.3.4", "1.21foo1", "vv1.0.0",
        ] {
            assert!(compare(v, "v1.0.0").is_err(), "{v:?}");
        }
    }
}
