//! Track rules on realistic tag lists.

use customs_base::{newer_tag, shape, TagShape, Track};

fn l(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn n(cur: &str, tags: &str, t: Track) -> Option<String> {
    newer_tag(cur, &l(tags), t, false)
}

const ALPINE: &str = "3.21.4 3.22.0 3.22.1 3.23.0 3.23.0_rc1 3.24.0_rc1 3.22 3.23 3 edge latest";
const REDIS: &str = "8.4.0-alpine3.22 8.4.1-alpine3.22 8.6.1-alpine3.23 8.6.0-rc1-alpine3.23 8.6.1 8.6 8 alpine latest 9.0.0-rc1-alpine3.23";
const GOLANG: &str = "1.22-bookworm 1.22.5-bookworm 1.23-bookworm 1.23-alpine 1.21-bookworm 1.24rc1-bookworm bookworm";
const NODE: &str = "20-alpine 20.11.1-alpine3.19 20.12.0-alpine3.19 20.12.2-alpine3.20 22-alpine 22.1.0-alpine3.20 23-alpine 24-rc-alpine 18-alpine";
const DEBIAN: &str = "bullseye-20260202-slim bullseye-20260301-slim bullseye-20251201-slim bullseye-slim bullseye bookworm-20260401-slim 11.9-slim 11.11-slim 12.1-slim";

#[test]
fn alpine() {
    assert_eq!(n("3.22.0", ALPINE, Track::Patch).as_deref(), Some("3.22.1"));
    assert_eq!(n("3.22.1", ALPINE, Track::Patch), None);
    assert_eq!(n("3.22.0", ALPINE, Track::Minor).as_deref(), Some("3.23.0"));
    assert_eq!(n("3.22.0", ALPINE, Track::Major).as_deref(), Some("3.23.0"));
    // Same number of components: 3.22 moves to 3.23, never to 3.23.0.
    assert_eq!(n("3.22", ALPINE, Track::Minor).as_deref(), Some("3.23"));
    // Two components already float the patch: Patch offers nothing.
    assert_eq!(n("3.22", ALPINE, Track::Patch), None);
    // Pre-releases only when allowed.
    assert_eq!(
        newer_tag("3.23.0", &l(ALPINE), Track::Minor, true).as_deref(),
        Some("3.24.0_rc1")
    );
    assert_eq!(n("3.23.0", ALPINE, Track::Minor), None);
    // A pre-release moves to its release.
    assert_eq!(
        n("3.23.0_rc1", ALPINE, Track::Patch).as_deref(),
        Some("3.23.0")
    );
    assert_eq!(n("edge", ALPINE, Track::Major), None);
    assert_eq!(n("latest", ALPINE, Track::Major), None);
    // Never a downgrade.
    assert_eq!(n("3.23.0", "3.22.1 3.21.4", Track::Major), None);
}

#[test]
fn redis_variant_suffix() {
    assert_eq!(
        n("8.4.0-alpine3.22", REDIS, Track::Patch).as_deref(),
        Some("8.4.1-alpine3.22")
    );
    // Minor: the alpine version inside the variant may move up too.
    assert_eq!(
        n("8.4.0-alpine3.22", REDIS, Track::Minor).as_deref(),
        Some("8.6.1-alpine3.23")
    );
    assert_eq!(
        n("8.4.0-alpine3.22", REDIS, Track::Major).as_deref(),
        Some("8.6.1-alpine3.23")
    );
    assert_eq!(
        newer_tag("8.6.1-alpine3.23", &l(REDIS), Track::Major, true).as_deref(),
        Some("9.0.0-rc1-alpine3.23")
    );
    // The variant is kept: no move from -alpine3.22 to a plain tag.
    assert_eq!(n("8.6.1", REDIS, Track::Patch), None);
    // A release candidate moves to the release of the same variant.
    assert_eq!(
        n("8.6.0-rc1-alpine3.23", REDIS, Track::Patch).as_deref(),
        Some("8.6.1-alpine3.23")
    );
}

#[test]
fn golang_two_components() {
    assert_eq!(n("1.22-bookworm", GOLANG, Track::Patch), None);
    assert_eq!(
        n("1.22-bookworm", GOLANG, Track::Minor).as_deref(),
        Some("1.23-bookworm")
    );
    assert_eq!(n("1.22.5-bookworm", GOLANG, Track::Minor), None);
    assert_eq!(
        n("1.21-bookworm", GOLANG, Track::Major).as_deref(),
        Some("1.23-bookworm")
    );
    assert_eq!(
        newer_tag("1.23-bookworm", &l(GOLANG), Track::Minor, true).as_deref(),
        Some("1.24rc1-bookworm")
    );
    assert_eq!(n("1.23-bookworm", GOLANG, Track::Minor), None);
}

#[test]
fn node_majors_and_variants() {
    assert_eq!(n("20-alpine", NODE, Track::Patch), None);
    assert_eq!(n("20-alpine", NODE, Track::Minor), None);
    assert_eq!(
        n("20-alpine", NODE, Track::Major).as_deref(),
        Some("23-alpine")
    );
    assert_eq!(
        n("20.11.1-alpine3.19", NODE, Track::Patch),
        None,
        "20.11.x has no newer patch"
    );
    assert_eq!(
        n("20.11.1-alpine3.19", NODE, Track::Minor).as_deref(),
        Some("20.12.2-alpine3.20")
    );
    assert_eq!(
        n("20.11.1-alpine3.19", NODE, Track::Major).as_deref(),
        Some("22.1.0-alpine3.20")
    );
    assert_eq!(
        newer_tag("23-alpine", &l(NODE), Track::Major, true).as_deref(),
        Some("24-rc-alpine")
    );
}

#[test]
fn debian_dated() {
    assert_eq!(
        n("bullseye-20260202-slim", DEBIAN, Track::Patch).as_deref(),
        Some("bullseye-20260301-slim")
    );
    // The words around the date stay, whatever the track.
    assert_eq!(
        n("bullseye-20260202-slim", DEBIAN, Track::Major).as_deref(),
        Some("bullseye-20260301-slim")
    );
    assert_eq!(n("bullseye-20260301-slim", DEBIAN, Track::Major), None);
    assert_eq!(n("bullseye-slim", DEBIAN, Track::Major), None);
    assert_eq!(
        n("11.9-slim", DEBIAN, Track::Minor).as_deref(),
        Some("11.11-slim")
    );
    assert_eq!(
        n("11.9-slim", DEBIAN, Track::Major).as_deref(),
        Some("12.1-slim")
    );
    assert_eq!(n("11.9-slim", DEBIAN, Track::Patch), None);
    // Date formats do not mix.
    let dates = l("20240101 20240301 2024-05-01 202406011200 20240102");
    assert_eq!(
        n("20240101", &dates.join(" "), Track::Patch).as_deref(),
        Some("20240301")
    );
    assert_eq!(
        n("2024-01-01", &dates.join(" "), Track::Patch).as_deref(),
        Some("2024-05-01")
    );
    assert_eq!(
        n("202401011200", &dates.join(" "), Track::Patch).as_deref(),
        Some("202406011200")
    );
    // Nightlies are pre-releases.
    assert_eq!(
        n("nightly-20240101", "nightly-20240201", Track::Patch),
        None
    );
    assert_eq!(
        newer_tag(
            "nightly-20240101",
            &l("nightly-20240201"),
            Track::Patch,
            true
        )
        .as_deref(),
        Some("nightly-20240201")
    );
}

#[test]
fn prefixes_and_four_components() {
    let tags = "v2.1.0 v2.1.3 v2.2.0 2.3.0 v3.0.0 v3.0.0-beta.1";
    assert_eq!(n("v2.1.0", tags, Track::Patch).as_deref(), Some("v2.1.3"));
    assert_eq!(n("v2.1.0", tags, Track::Minor).as_deref(), Some("v2.2.0"));
    assert_eq!(n("v2.1.0", tags, Track::Major).as_deref(), Some("v3.0.0"));
    assert_eq!(n("2.1.0", tags, Track::Major).as_deref(), Some("2.3.0"));
    let erl = "26.2.5.3 26.2.5.6 26.3.0.1 27.0.0.1";
    assert_eq!(
        n("26.2.5.3", erl, Track::Patch).as_deref(),
        Some("26.2.5.6")
    );
    assert_eq!(
        n("26.2.5.3", erl, Track::Minor).as_deref(),
        Some("26.3.0.1")
    );
    // 0.0.0-* is a pre-release.
    assert_eq!(
        n("0.0.1", "0.0.0-dev 0.0.2", Track::Patch).as_deref(),
        Some("0.0.2")
    );
    assert!(matches!(
        shape("0.0.0-nightly"),
        TagShape::Version { pre: Some(_), .. }
    ));
    // Answers do not depend on the list's order.
    let mut rev = l(REDIS);
    rev.reverse();
    assert_eq!(
        newer_tag("8.4.0-alpine3.22", &rev, Track::Minor, false).as_deref(),
        Some("8.6.1-alpine3.23")
    );
}
