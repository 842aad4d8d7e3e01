//! Property tests for every scheme: `compare` is a total order on the
//! versions it accepts (reflexive, antisymmetric, transitive) and nothing
//! panics on arbitrary input.

use std::cmp::Ordering;

use customs_model::{Affected, AffectedRange, RangeEvent, RangeKind};
use customs_versions::{compare, is_affected, satisfies, Scheme};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

/// Strings shaped like versions of `scheme` (mostly valid, some not), from
/// small alphabets so that equal and near-equal versions are frequent.
fn versions(scheme: Scheme) -> BoxedStrategy<String> {
    let re = match scheme {
        Scheme::Apk => {
            "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}[a-c]?(_(alpha|beta|pre|rc|cvs|git|p)[0-9]{0,2}){0,2}(~[0-9a-f]{1,3})?(-r[0-9]{1,2})?"
        }
        Scheme::Dpkg => "([0-2]:)?[0-9][0-9a-zA-Z.+~]{0,6}(-[0-9a-z.+~]{1,4})?",
        Scheme::Rpm => "([0-2]:)?[0-9a-z][0-9a-z.~^_+]{0,6}(-[0-9a-z][0-9a-z.~^]{0,3})?",
        Scheme::Semver | Scheme::Npm => {
            "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,2}(-[0-9a-z]{1,3}(\\.[0-9a-z]{1,3}){0,2})?(\\+[a-z0-9]{1,3})?"
        }
        Scheme::Pep440 => {
            "([0-2]!)?[0-9]{1,2}(\\.[0-9]{1,2}){0,2}((a|b|rc|alpha|c)[0-9]{0,2})?(\\.post[0-9])?(\\.dev[0-9])?(\\+[a-z0-9]{1,3}(\\.[0-9]{1,2})?)?"
        }
        Scheme::RubyGems => "[0-9]{1,2}(\\.[0-9a-c]{1,2}){0,3}(-[0-9a-c]{1,2}(\\.[0-9a-c]{1,2})?)?",
        // Maven's own algorithm is not transitive on malformed input such
        // as `ga` < `m` < `-alpha0` < `ga` (leading or doubled separators),
        // and we keep its semantics: generate well-formed versions.
        Scheme::Maven => {
            "[0-9]{1,2}([.-]?([0-9]{1,2}|alpha|beta|rc|cr|sp|ga|final|release|snapshot|m|a|b|x|foo)){0,5}"
        }
        Scheme::Go => {
            "(v?[0-9]{1,2}(\\.[0-9]{1,2}){0,2}(-[0-9a-z]{1,3}(\\.[0-9a-z]{1,3}){0,2})?(\\+incompatible)?)|(go1(\\.[0-9]{1,2}){0,2}((rc|beta)[0-9])?)"
        }
        Scheme::NuGet => {
            "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-[0-9a-cA-C]{1,3}(\\.[0-9a-cA-C]{1,3})?)?(\\+[a-z]{1,2})?"
        }
        Scheme::Packagist => {
            "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,4}([-.]?(alpha|beta|RC|rc|p|pl|dev|patch|a|b|foo)[0-9]?)?"
        }
        Scheme::Generic => "[0-9a-cA-C.\\-_+]{1,10}",
    };
    prop_oneof![
        9 => proptest::string::string_regex(re).unwrap_or_else(|e| panic!("{e}")),
        1 => if scheme == Scheme::Maven { "[0-9][0-9a-z]{0,8}" } else { "[ -~]{0,12}" },
    ]
    .boxed()
}

fn schemes() -> impl Strategy<Value = Scheme> {
    proptest::sample::select(Scheme::ALL.to_vec())
}

fn scheme_and(n: usize) -> impl Strategy<Value = (Scheme, Vec<String>)> {
    schemes().prop_flat_map(move |s| (Just(s), proptest::collection::vec(versions(s), n)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn reflexive((s, v) in scheme_and(1)) {
        if let Some(a) = v.first() {
            if let Ok(o) = compare(s, a, a) {
                prop_assert_eq!(o, Ordering::Equal, "{} {:?}", s, a);
            }
        }
    }

    #[test]
    fn antisymmetric((s, v) in scheme_and(2)) {
        if let [a, b] = v.as_slice() {
            let x = compare(s, a, b);
            let y = compare(s, b, a);
            prop_assert_eq!(x.is_ok(), y.is_ok(), "{} {:?} {:?}", s, a, b);
            if let (Ok(x), Ok(y)) = (x, y) {
                prop_assert_eq!(x, y.reverse(), "{} {:?} {:?}", s, a, b);
            }
        }
    }

    #[test]
    fn transitive((s, v) in scheme_and(3)) {
        if let [a, b, c] = v.as_slice() {
            let all = [a, b, c];
            for x in all {
                for y in all {
                    for z in all {
                        let (Ok(xy), Ok(yz), Ok(xz)) =
                            (compare(s, x, y), compare(s, y, z), compare(s, x, z))
                        else {
                            continue;
                        };
                        if xy != Ordering::Greater && yz != Ordering::Greater {
                            prop_assert_ne!(xz, Ordering::Greater, "{} {:?} <= {:?} <= {:?}", s, x, y, z);
                            if xy == Ordering::Less || yz == Ordering::Less {
                                prop_assert_eq!(xz, Ordering::Less, "{} {:?} < {:?} < {:?}", s, x, y, z);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn never_panics_on_arbitrary_strings(a in any::<String>(), b in any::<String>()) {
        for s in Scheme::ALL {
            let _ = compare(s, &a, &b);
            let _ = satisfies(s, &a, &b);
        }
    }

    #[test]
    fn never_panics_on_version_like_soup(a in "[0-9a-zA-Z.~^_+:!=<>,|\\[\\]() *-]{0,16}", b in "[0-9a-zA-Z.~^_+:!=<>,|\\[\\]() *-]{0,16}") {
        for s in Scheme::ALL {
            let _ = compare(s, &a, &b);
            let _ = satisfies(s, &a, &b);
            let _ = satisfies(s, &b, &a);
        }
    }

    #[test]
    fn is_affected_matches_a_direct_range_check((s, v) in scheme_and(3)) {
        if let [installed, lo, hi] = v.as_slice() {
            let a = Affected {
                ranges: vec![AffectedRange {
                    kind: RangeKind::Ecosystem,
                    events: vec![
                        RangeEvent::Fixed(hi.clone()),
                        RangeEvent::Introduced(lo.clone()),
                    ],
                }],
                ..Default::default()
            };
            let got = is_affected(s, installed, &a);
            match (compare(s, installed, lo), compare(s, installed, hi), compare(s, lo, hi)) {
                (Ok(il), Ok(ih), Ok(_)) => {
                    // introduced "0" means "from the beginning", even where
                    // the scheme has versions below 0 (dpkg `0~`).
                    let from_start = lo.trim() == "0" || il != Ordering::Less;
                    // Events are sorted first: `fixed` below `introduced`
                    // closes nothing that `introduced` later opens.
                    let inverted = lo.trim() != "0" && compare(s, lo, hi).ok() == Some(Ordering::Greater);
                    let want = from_start && (inverted || ih == Ordering::Less);
                    prop_assert_eq!(got.ok(), Some(want), "{} {:?} in [{:?}, {:?})", s, installed, lo, hi);
                }
                _ => prop_assert!(got.is_err(), "{} {:?} [{:?}, {:?}) should fail", s, installed, lo, hi),
            }
        }
    }
}
