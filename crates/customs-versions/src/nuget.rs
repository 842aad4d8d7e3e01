//! NuGet versions: SemVer 2.0 with an optional fourth number
//! (`1.2.3.4` and `1.2` = `1.2.0.0`), pre-release labels compared ignoring
//! ASCII case (`1.0.0-Beta` = `1.0.0-beta`) and build metadata ignored.
//! Shares the hand-written SemVer comparator (see `semver_cmp`).

use std::cmp::Ordering;

use crate::semver_cmp::{self, Rules};
use crate::{Scheme, VersionError};

const NUGET: Rules = Rules {
    max_parts: 4,
    ignore_case: true,
};

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    semver_cmp::compare_with(Scheme::NuGet, NUGET, a, b)
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
        assert_eq!(c("1.0", "1.0.0.0"), Equal);
        assert_eq!(c("1.0.0.1", "1.0.0"), Greater);
        assert_eq!(c("1.0.0-Beta", "1.0.0-beta"), Equal);
        assert_eq!(c("1.0.0-beta.2", "1.0.0-beta.10"), Less);
        assert_eq!(c("1.0.0-rc", "1.0.0"), Less);
        assert_eq!(c("4.7.2+sha.1", "4.7.2"), Equal);
        assert!(compare("1.2.3.4.5", "1").is_err());
    }
}
