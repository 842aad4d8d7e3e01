//! Python PEP 440 versions and specifiers, through `pep440_rs` (epochs,
//! pre/post/dev releases, local versions `+ubuntu1`, normalization such as
//! `1.0RC1` = `1.0rc1`). Legacy versions that are not PEP 440 (`0.1dev-r1`,
//! `2004d`) are errors, never guesses.

use std::cmp::Ordering;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};

use crate::{Scheme, VersionError};

fn parse(s: &str) -> Result<Version, VersionError> {
    let s = s.trim();
    Version::from_str(s).map_err(|e| VersionError::version(Scheme::Pep440, s, e))
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = parse(a)?;
    let b = parse(b)?;
    Ok(a.cmp(&b))
}

pub(crate) fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let v = parse(version)?;
    let spec = VersionSpecifiers::from_str(requirement.trim())
        .map_err(|e| VersionError::requirement(Scheme::Pep440, requirement, e))?;
    Ok(spec.contains(&v))
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
        // The example order of PEP 440's "Summary of permitted suffixes".
        let chain = [
            "1.dev0",
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345.dev456",
            "1.0b2.post345",
            "1.0rc1.dev456",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0+abc.7",
            "1.0+5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.0.15",
            "1.1.dev1",
        ];
        for w in chain.windows(2) {
            if let [a, b] = w {
                assert_eq!(c(a, b), Less, "{a} < {b}");
            }
        }
        assert_eq!(c("1!0.1", "2.0"), Greater);
        assert_eq!(c("1.0RC1", "1.0rc1"), Equal);
        assert_eq!(c("1.0", "1.0.0"), Equal);
        assert_eq!(c("v1.0", "1.0"), Equal);
        for bad in ["", "0.1dev-r1", "2004d.1!", "1.0.x", "latest"] {
            assert!(compare(bad, "1.0").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn specifiers() {
        let s = |v: &str, r: &str| satisfies(v, r).unwrap_or_else(|e| panic!("{e}"));
        assert!(s("1.5", ">=1.0,<2.0"));
        assert!(!s("2.0", ">=1.0,<2.0"));
        assert!(s("1.4.5", "~=1.4.2"));
        assert!(!s("1.5.0", "~=1.4.2"));
        assert!(s("1.2.7", "==1.2.*"));
        assert!(s("1.3", "!=1.2.*"));
        assert!(satisfies("1.0", ">>1").is_err());
    }
}
