//! npm: SemVer precedence for ordering (see `semver_cmp`), and npm's range
//! syntax (`^1.2`, `~1.2.3`, `1.x`, `1.0.0 - 2.0.0`, `>=1 <2 || 3`) through
//! the `nodejs-semver` crate, which follows node-semver, pre-release rules
//! included (`^1.2.0` does not match `1.3.0-beta`).

use std::cmp::Ordering;

use crate::semver_cmp::{self, SEMVER};
use crate::{Scheme, VersionError};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    semver_cmp::compare_with(Scheme::Npm, SEMVER, a, b)
}

pub(crate) fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let norm = semver_cmp::normalize(Scheme::Npm, version)?;
    let v = nodejs_semver::Version::parse(&norm)
        .map_err(|e| VersionError::version(Scheme::Npm, version, e))?;
    let range = nodejs_semver::Range::parse(requirement.trim())
        .map_err(|e| VersionError::requirement(Scheme::Npm, requirement, e))?;
    Ok(v.satisfies(&range))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str, r: &str) -> bool {
        satisfies(v, r).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn ranges() {
        assert!(s("1.2.3", "^1.2.0"));
        assert!(!s("2.0.0", "^1.2.0"));
        assert!(s("0.2.9", "^0.2.3"));
        assert!(!s("0.3.0", "^0.2.3"));
        assert!(s("1.2.9", "~1.2.3"));
        assert!(!s("1.3.0", "~1.2.3"));
        assert!(s("1.7.0", "1.x"));
        assert!(s("1.7.0", "1.*"));
        assert!(!s("2.0.0", "1.x"));
        assert!(s("1.5.0", "1.0.0 - 2.0.0"));
        assert!(!s("2.0.1", "1.0.0 - 2.0.0"));
        assert!(s("3.1.0", "<1.0.0 || >=3.0.0"));
        assert!(!s("2.0.0", "<1.0.0 || >=3.0.0"));
        assert!(s("1.5.0", ">=1.0.0 <2.0.0"));
        assert!(!s("1.3.0-beta.1", "^1.2.0"));
        assert!(s("1.2.0-beta.2", ">=1.2.0-beta.1 <1.2.0"));
        assert!(s("v1.2.3", "=1.2.3"));
        assert!(satisfies("1.2.3", ">=>1").is_err());
        assert!(satisfies("nope", "^1").is_err());
    }

    #[test]
    fn order() {
        assert_eq!(compare("1.0.0-rc.1", "1.0.0").ok(), Some(Ordering::Less));
        assert_eq!(compare("v2.0.0", "10.0.0").ok(), Some(Ordering::Less));
    }
}
