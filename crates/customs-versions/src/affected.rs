//! OSV "is this version affected" over [`customs_model::Affected`].

use std::cmp::Ordering;

use customs_model::{Affected, AffectedRange, RangeEvent, RangeKind};

use crate::{compare, satisfies, Scheme, VersionError};

/// True when `version` is affected, with OSV semantics:
///
/// - it is listed in `versions` (compared in the scheme, so `1.0` matches
///   `1.0.0` where the scheme says they are equal), or
/// - it falls inside any `ECOSYSTEM`/`SEMVER` range: events are taken in
///   version order; `introduced` (`"0"` = from the beginning) opens,
///   `fixed` closes (exclusive), `last_affected` closes after itself
///   (inclusive); a `limit` is an exclusive upper bound of its range. The
///   events may be given in any order. `GIT` ranges are ignored.
/// - When `patched` or `unaffected` requirement lists are present (RustSec,
///   RubySec), a version matching any of them is not affected; if there are
///   no ranges and no versions, every version matching none of them is.
///
/// An `Affected` with nothing in it affects nothing. `SEMVER` ranges are
/// compared with SemVer precedence (or the scheme's own when it is
/// SemVer-based: npm, Go, NuGet).
///
/// Errors: the installed version, a range event, or a requirement does not
/// parse. An unparsable entry of `versions` is skipped (it cannot equal a
/// valid version), with a debug log.
///
/// ```
/// use customs_model::{Affected, AffectedRange, RangeEvent, RangeKind};
/// use customs_versions::{is_affected, Scheme};
///
/// let a = Affected {
///     ranges: vec![AffectedRange {
///         kind: RangeKind::Ecosystem,
///         events: vec![
///             RangeEvent::Introduced("0".into()),
///             RangeEvent::Fixed("2.4.41-r0".into()),
///         ],
///     }],
///     ..Default::default()
/// };
/// assert!(is_affected(Scheme::Apk, "2.4.39-r0", &a)?);
/// assert!(!is_affected(Scheme::Apk, "2.4.41-r0", &a)?);
///
/// let rustsec = Affected {
///     patched: vec![">= 1.2.3, < 2.0.0".into(), ">= 2.0.1".into()],
///     unaffected: vec!["< 0.5.0".into()],
///     ..Default::default()
/// };
/// assert!(is_affected(Scheme::Semver, "1.0.0", &rustsec)?);
/// assert!(!is_affected(Scheme::Semver, "1.2.4", &rustsec)?);
/// assert!(is_affected(Scheme::Semver, "2.0.0", &rustsec)?);
/// assert!(!is_affected(Scheme::Semver, "0.4.0", &rustsec)?);
/// # Ok::<(), customs_versions::VersionError>(())
/// ```
pub fn is_affected(
    scheme: Scheme,
    version: &str,
    affected: &Affected,
) -> Result<bool, VersionError> {
    // Validate the installed version once, whatever the advisory holds.
    compare(scheme, version, version)?;

    let ranges: Vec<&AffectedRange> = affected
        .ranges
        .iter()
        .filter(|r| r.kind != RangeKind::Git)
        .collect();
    let has_reqs = !affected.patched.is_empty() || !affected.unaffected.is_empty();

    let in_set = if ranges.is_empty() && affected.versions.is_empty() {
        has_reqs
    } else {
        listed(scheme, version, &affected.versions)? || {
            let mut hit = false;
            for r in ranges {
                if in_range(range_scheme(scheme, r.kind), version, &r.events)? {
                    hit = true;
                    break;
                }
            }
            hit
        }
    };
    if !in_set || !has_reqs {
        return Ok(in_set);
    }
    for req in affected.patched.iter().chain(&affected.unaffected) {
        if satisfies(scheme, version, req)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The scheme that orders a range of `kind` for an ecosystem of `scheme`.
fn range_scheme(scheme: Scheme, kind: RangeKind) -> Scheme {
    match (kind, scheme) {
        (RangeKind::Semver, Scheme::Npm | Scheme::Go | Scheme::NuGet | Scheme::Semver) => scheme,
        (RangeKind::Semver, _) => Scheme::Semver,
        _ => scheme,
    }
}

fn listed(scheme: Scheme, version: &str, versions: &[String]) -> Result<bool, VersionError> {
    for v in versions {
        if v.trim() == version.trim() {
            return Ok(true);
        }
        match compare(scheme, version, v) {
            Ok(Ordering::Equal) => return Ok(true),
            Ok(_) => {}
            Err(e) => tracing::debug!("skipping an affected version entry: {e}"),
        }
    }
    Ok(false)
}

/// A triggered event: the version at which it applies and whether it opens
/// (`introduced`) or closes the range. `None` version = minus infinity.
struct Trigger<'e> {
    at: Option<&'e str>,
    opens: bool,
}

/// The OSV range walk, without sorting: after processing every event whose
/// condition holds for `version` in sorted order, the state is the one set
/// by the last of them. So find the greatest triggered event; the range
/// contains `version` if that event is an `introduced`. At equal versions a
/// closing event sorts after an opening one (`introduced X, fixed X` is
/// empty; `introduced X, last_affected X` is `{X}`).
fn in_range(scheme: Scheme, version: &str, events: &[RangeEvent]) -> Result<bool, VersionError> {
    let mut best: Option<Trigger<'_>> = None;
    for e in events {
        let (v, opens) = match e {
            RangeEvent::Introduced(v) => (v.as_str(), true),
            RangeEvent::Fixed(v) | RangeEvent::LastAffected(v) => (v.as_str(), false),
            RangeEvent::Limit(v) => {
                if compare(scheme, version, v)? != Ordering::Less {
                    return Ok(false);
                }
                continue;
            }
        };
        let at = if opens && v.trim() == "0" {
            None
        } else {
            Some(v)
        };
        let triggered = match (e, at) {
            (_, None) => true,
            (RangeEvent::LastAffected(_), Some(v)) => {
                compare(scheme, version, v)? == Ordering::Greater
            }
            (_, Some(v)) => compare(scheme, version, v)? != Ordering::Less,
        };
        if !triggered {
            continue;
        }
        let later = match &best {
            None => true,
            Some(b) => match (b.at, at) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(x), Some(y)) => match compare(scheme, y, x)? {
                    Ordering::Greater => true,
                    Ordering::Equal => b.opens && !opens,
                    Ordering::Less => false,
                },
            },
        };
        if later {
            best = Some(Trigger { at, opens });
        }
    }
    Ok(best.is_some_and(|b| b.opens))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(events: Vec<RangeEvent>) -> AffectedRange {
        AffectedRange {
            kind: RangeKind::Ecosystem,
            events,
        }
    }

    fn intro(v: &str) -> RangeEvent {
        RangeEvent::Introduced(v.into())
    }
    fn fixed(v: &str) -> RangeEvent {
        RangeEvent::Fixed(v.into())
    }
    fn last(v: &str) -> RangeEvent {
        RangeEvent::LastAffected(v.into())
    }
    fn limit(v: &str) -> RangeEvent {
        RangeEvent::Limit(v.into())
    }

    fn with_ranges(ranges: Vec<AffectedRange>) -> Affected {
        Affected {
            ranges,
            ..Default::default()
        }
    }

    fn aff(s: Scheme, v: &str, a: &Affected) -> bool {
        is_affected(s, v, a).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn introduced_zero_and_fixed() {
        let a = with_ranges(vec![range(vec![intro("0"), fixed("1.2.0")])]);
        for (v, want) in [
            ("0.0.1", true),
            ("1.1.9", true),
            ("1.2.0", false),
            ("2.0.0", false),
        ] {
            assert_eq!(aff(Scheme::Semver, v, &a), want, "{v}");
        }
    }

    #[test]
    fn introduced_then_fixed_excludes_below() {
        let a = with_ranges(vec![range(vec![intro("1.0.0"), fixed("1.2.0")])]);
        assert!(!aff(Scheme::Semver, "0.9.0", &a));
        assert!(aff(Scheme::Semver, "1.0.0", &a));
        assert!(aff(Scheme::Semver, "1.1.0", &a));
        assert!(!aff(Scheme::Semver, "1.2.0", &a));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let a = with_ranges(vec![range(vec![intro("1.0"), last("1.4")])]);
        assert!(aff(Scheme::Pep440, "1.4", &a));
        assert!(aff(Scheme::Pep440, "1.4.0", &a));
        assert!(!aff(Scheme::Pep440, "1.4.1", &a));
        assert!(!aff(Scheme::Pep440, "0.9", &a));
        let point = with_ranges(vec![range(vec![intro("1.0"), last("1.0")])]);
        assert!(aff(Scheme::Pep440, "1.0", &point));
        assert!(!aff(Scheme::Pep440, "1.0.1", &point));
        let empty = with_ranges(vec![range(vec![intro("1.0"), fixed("1.0")])]);
        assert!(!aff(Scheme::Pep440, "1.0", &empty));
    }

    #[test]
    fn limit_is_an_exclusive_upper_bound() {
        let a = with_ranges(vec![range(vec![intro("0"), limit("2.0.0")])]);
        assert!(aff(Scheme::Semver, "1.9.9", &a));
        assert!(!aff(Scheme::Semver, "2.0.0", &a));
        assert!(!aff(Scheme::Semver, "3.0.0", &a));
    }

    #[test]
    fn multiple_windows_and_unsorted_events() {
        let sorted = vec![
            intro("1.0.0"),
            fixed("1.0.5"),
            intro("2.0.0"),
            fixed("2.0.3"),
            intro("3.0.0"),
        ];
        let mut unsorted = sorted.clone();
        unsorted.reverse();
        unsorted.swap(0, 2);
        for events in [sorted, unsorted] {
            let a = with_ranges(vec![range(events)]);
            for (v, want) in [
                ("0.1.0", false),
                ("1.0.0", true),
                ("1.0.4", true),
                ("1.0.5", false),
                ("1.9.9", false),
                ("2.0.0", true),
                ("2.0.3", false),
                ("2.9.0", false),
                ("3.0.0", true),
                ("9.0.0", true),
            ] {
                assert_eq!(aff(Scheme::Semver, v, &a), want, "{v}");
            }
        }
    }

    #[test]
    fn multiple_ranges_are_a_union() {
        let a = with_ranges(vec![
            range(vec![intro("0"), fixed("1.0.1-r0")]),
            range(vec![intro("2.0-r0"), fixed("2.0.2-r0")]),
        ]);
        assert!(aff(Scheme::Apk, "1.0-r5", &a));
        assert!(!aff(Scheme::Apk, "1.5-r0", &a));
        assert!(aff(Scheme::Apk, "2.0.1-r0", &a));
        assert!(!aff(Scheme::Apk, "2.0.2-r0", &a));
    }

    #[test]
    fn explicit_versions() {
        let a = Affected {
            versions: vec!["1.0.0".into(), "1.0.1".into(), "0.1dev-r1234".into()],
            ..Default::default()
        };
        assert!(aff(Scheme::Pep440, "1.0.0", &a));
        assert!(aff(Scheme::Pep440, "1.0", &a));
        assert!(!aff(Scheme::Pep440, "1.0.2", &a));
        // Listed versions add to the ranges.
        let b = Affected {
            versions: vec!["0.5".into()],
            ranges: vec![range(vec![intro("1.0"), fixed("2.0")])],
            ..Default::default()
        };
        assert!(aff(Scheme::Pep440, "0.5", &b));
        assert!(aff(Scheme::Pep440, "1.5", &b));
        assert!(!aff(Scheme::Pep440, "0.6", &b));
    }

    #[test]
    fn git_ranges_are_ignored() {
        let a = with_ranges(vec![AffectedRange {
            kind: RangeKind::Git,
            events: vec![intro("0"), fixed("abcdef0123")],
        }]);
        assert!(!aff(Scheme::Go, "v1.0.0", &a));
    }

    #[test]
    fn semver_ranges_in_other_ecosystems() {
        let a = with_ranges(vec![AffectedRange {
            kind: RangeKind::Semver,
            events: vec![intro("0"), fixed("1.5.0")],
        }]);
        assert!(aff(Scheme::Go, "v1.4.9", &a));
        assert!(!aff(Scheme::Go, "v1.5.0+incompatible", &a));
        assert!(aff(Scheme::Generic, "1.4.0", &a));
    }

    #[test]
    fn rustsec_patched_and_unaffected() {
        let a = Affected {
            patched: vec!["^0.5.2".into(), ">= 0.6.1".into()],
            unaffected: vec!["< 0.3.0".into()],
            ..Default::default()
        };
        for (v, want) in [
            ("0.2.9", false),
            ("0.3.0", true),
            ("0.5.1", true),
            ("0.5.2", false),
            ("0.5.9", false),
            ("0.6.0", true),
            ("0.6.1", false),
            ("1.0.0", false),
        ] {
            assert_eq!(aff(Scheme::Semver, v, &a), want, "{v}");
        }
        // No patched version at all, but a range: everything in it.
        let unpatched = with_ranges(vec![range(vec![intro("0")])]);
        assert!(aff(Scheme::Semver, "9.9.9", &unpatched));
    }

    #[test]
    fn rubysec_patched() {
        let a = Affected {
            patched: vec!["~> 5.2.4, >= 5.2.4.3".into(), ">= 6.0.3.1".into()],
            unaffected: vec!["< 4.0.0".into()],
            ..Default::default()
        };
        for (v, want) in [
            ("3.2.22", false),
            ("5.2.4.2", true),
            ("5.2.4.3", false),
            ("5.2.5", false),
            ("5.3.0", true),
            ("6.0.3", true),
            ("6.0.3.1", false),
            ("6.0.3.rc1", true),
        ] {
            assert_eq!(aff(Scheme::RubyGems, v, &a), want, "{v}");
        }
    }

    #[test]
    fn ranges_and_patched_together() {
        let a = Affected {
            ranges: vec![range(vec![intro("1.0.0"), fixed("3.0.0")])],
            patched: vec!["^2.1.0".into()],
            ..Default::default()
        };
        assert!(!aff(Scheme::Semver, "0.9.0", &a));
        assert!(aff(Scheme::Semver, "1.5.0", &a));
        assert!(!aff(Scheme::Semver, "2.1.5", &a));
        assert!(!aff(Scheme::Semver, "3.0.0", &a));
    }

    #[test]
    fn empty_affects_nothing() {
        assert!(!aff(Scheme::Dpkg, "1.0-1", &Affected::default()));
    }

    #[test]
    fn parse_failures_are_errors_not_negatives() {
        let a = with_ranges(vec![range(vec![intro("0"), fixed("1.0-r0")])]);
        assert!(is_affected(Scheme::Apk, "not-a-version", &a).is_err());
        let bad_event = with_ranges(vec![range(vec![intro("0"), fixed("1.0-1")])]);
        assert!(is_affected(Scheme::Apk, "0.5-r0", &bad_event).is_err());
        let bad_req = Affected {
            patched: vec![">= junk".into()],
            ..Default::default()
        };
        assert!(is_affected(Scheme::RubyGems, "1.0", &bad_req).is_err());
        // Invalid installed versions fail even against an empty advisory.
        assert!(is_affected(Scheme::Dpkg, "1:", &Affected::default()).is_err());
    }

    #[test]
    fn distro_style() {
        let a = with_ranges(vec![range(vec![intro("0"), fixed("2.4.56-1~deb11u1")])]);
        assert!(aff(Scheme::Dpkg, "2.4.54-1~deb11u1", &a));
        assert!(aff(Scheme::Dpkg, "2.4.56-1~deb10u1", &a));
        assert!(!aff(Scheme::Dpkg, "2.4.56-1~deb11u1", &a));
        assert!(!aff(Scheme::Dpkg, "2.4.57-1", &a));
        let r = with_ranges(vec![range(vec![intro("0"), fixed("1:3.0.7-18.el9")])]);
        assert!(aff(Scheme::Rpm, "1:3.0.7-16.el9_2", &r));
        assert!(!aff(Scheme::Rpm, "1:3.0.7-18.el9", &r));
    }
}
