//! Properties: newer_tag never downgrades, never offers a pre-release
//! unless allowed, and answers from the list; bases() never panics.

use customs_base::{apply, bases, is_prerelease, newer_tag, shape, Edit, Site, TagShape, Track};
use proptest::prelude::*;

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            0u64..5,
            0u64..5,
            0u64..5,
            prop::option::of(0u64..3),
            "(|-alpine3\\.2[0-3]|-slim|-bookworm|_rc1|-rc[12]|-beta\\.1|-rc1-alpine3\\.23)"
        )
            .prop_map(|(a, b, c, d, s)| match d {
                Some(d) => format!("{a}.{b}.{c}.{d}{s}"),
                None => format!("{a}.{b}.{c}{s}"),
            }),
        (0u64..30, 0u64..30, "(|-alpine|-alpine3\\.1[89])")
            .prop_map(|(a, b, s)| format!("{a}.{b}{s}")),
        (0u64..30, "(|-alpine|v)").prop_map(|(a, s)| if s == "v" {
            format!("v{a}")
        } else {
            format!("{a}{s}")
        }),
        (
            2020u32..2027,
            1u32..13,
            1u32..29,
            "(bullseye-|nightly-|)",
            "(|-slim)"
        )
            .prop_map(|(y, m, d, b, a)| format!("{b}{y}{m:02}{d:02}{a}")),
        "[a-z0-9._-]{1,12}",
        Just("latest".to_string()),
    ]
}

fn track() -> impl Strategy<Value = Track> {
    prop_oneof![Just(Track::Patch), Just(Track::Minor), Just(Track::Major)]
}

fn numbers(t: &str) -> Option<Vec<u64>> {
    match shape(t) {
        TagShape::Version { numbers, .. } => Some(numbers),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn newer_tag_is_sound(cur in tag(), tags in prop::collection::vec(tag(), 0..30), tr in track(), pre in any::<bool>()) {
        if let Some(t) = newer_tag(&cur, &tags, tr, pre) {
            prop_assert!(tags.contains(&t), "{t} not in list");
            prop_assert!(t != cur);
            prop_assert!(pre || !is_prerelease(&t), "pre-release {t} offered");
            match (shape(&cur), shape(&t)) {
                (TagShape::Version { .. }, TagShape::Version { .. }) => {
                    let (a, b) = (numbers(&cur), numbers(&t));
                    prop_assert!(b >= a, "{cur} -> {t} is a downgrade");
                    prop_assert_eq!(a.map(|v| v.len()), b.map(|v| v.len()));
                }
                (TagShape::Dated { date: a, format: fa, .. }, TagShape::Dated { date: b, format: fb, .. }) => {
                    prop_assert!(b > a, "{cur} -> {t} is not newer");
                    prop_assert_eq!(fa, fb);
                }
                (s, u) => prop_assert!(false, "{cur} ({s:?}) -> {t} ({u:?}) changes shape"),
            }
            // The answer is the newest: asking again from it finds nothing
            // newer on a track at least as wide... within the same track.
            if tr == Track::Major {
                prop_assert_eq!(newer_tag(&t, &tags, tr, pre), None);
            }
        }
    }

    #[test]
    fn bases_never_panics(text in "(?s).{0,300}") {
        let _ = bases("Dockerfile", &text);
    }

    #[test]
    fn bases_never_panics_on_dockerfile_like_text(
        lines in prop::collection::vec(
            prop_oneof![
                "ARG [A-Z_]{1,6}(=[a-z0-9.${}:\\-\"]{0,12})?",
                "FROM (--platform=[$a-z/]{1,8} )?[a-z0-9.:/@${}\\-]{1,20}( AS [a-z]{1,5})?",
                "RUN [a-z \\\\]{0,10}",
                "# [a-z=`]{0,8}",
                "",
            ],
            0..12,
        )
    ) {
        let text = lines.join("\n");
        if let Ok(bs) = bases("Dockerfile", &text) {
            for b in &bs {
                for s in b.tag_site.iter().chain(b.digest_site.iter()) {
                    prop_assert!(s.start <= s.end && s.end <= text.len());
                    prop_assert!(text.get(s.start..s.end).is_some());
                }
                // Rewriting to the same tag changes nothing.
                if let Some(t) = &b.tag {
                    if let Ok(edits) = customs_base::retag(b, t) {
                        prop_assert_eq!(apply(&text, &edits).ok(), Some(text.clone()));
                    }
                }
            }
        }
    }

    #[test]
    fn apply_never_panics(text in "(?s).{0,60}", edits in prop::collection::vec((0usize..80, 0usize..80, "[a-z]{0,3}"), 0..4)) {
        let edits: Vec<Edit> = edits.into_iter().map(|(a, b, n)| Edit { site: Site { start: a, end: b, arg: None }, new: n }).collect();
        let _ = apply(&text, &edits);
    }
}

#[test]
fn bad_input_is_one_line_errors() {
    let e = bases("app/Dockerfile", "# only a comment\n").unwrap_err();
    assert_eq!(e.0, "app/Dockerfile: no FROM instruction");
    let e = bases("app/Dockerfile", "FROM alpine\nBOGUS x\n").unwrap_err();
    assert!(e.0.starts_with("app/Dockerfile:2"), "{e}");
    assert!(!e.0.contains('\n'), "{e}");
    // A variable without a default: skipped with a reason, not an error.
    let bs = bases("Dockerfile", "ARG BASE\nFROM ${BASE}\n").unwrap_or_default();
    assert_eq!(bs.len(), 1);
    assert!(bs[0]
        .skip
        .as_deref()
        .is_some_and(|s| s.contains("BASE has no default")));
    // Overlapping edits.
    let text = "FROM alpine:3.22.0\n";
    let e = apply(
        text,
        &[
            Edit {
                site: Site {
                    start: 12,
                    end: 18,
                    arg: None,
                },
                new: "3.22.1".into(),
            },
            Edit {
                site: Site {
                    start: 14,
                    end: 16,
                    arg: None,
                },
                new: "x".into(),
            },
        ],
    )
    .unwrap_err();
    assert!(e.0.starts_with("overlapping edits"), "{e}");
    let e = apply(
        text,
        &[Edit {
            site: Site {
                start: 12,
                end: 99,
                arg: None,
            },
            new: "x".into(),
        }],
    )
    .unwrap_err();
    assert!(e.0.contains("outside the file"), "{e}");
    // The same site twice with the same text is one edit.
    let same = Edit {
        site: Site {
            start: 12,
            end: 18,
            arg: None,
        },
        new: "3.22.1".into(),
    };
    assert_eq!(
        apply(text, &[same.clone(), same]).ok().as_deref(),
        Some("FROM alpine:3.22.1\n")
    );
}

#[test]
fn sites_and_skips() {
    let text = "# escape=`\nARG REG=localhost:5000\nARG V=1.2\nFROM --platform=$BUILDPLATFORM ${REG}/app:${V} AS build\nFROM build\nFROM scratch\nFROM nginx@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nFROM `\n  alpine:3.22.0 AS cont\nFROM debian:${MISSING:-12.1}\nFROM localhost:5000/app\n";
    let bs = bases("Dockerfile", text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bs.len(), 7);
    assert_eq!(bs[0].image, "localhost:5000/app:1.2");
    assert_eq!(bs[0].platform.as_deref(), Some("$BUILDPLATFORM"));
    assert_eq!(bs[0].name, "localhost:5000/app");
    let s = bs[0].tag_site.clone().unwrap_or_else(|| panic!("no site"));
    assert_eq!(s.arg.as_deref(), Some("V"));
    assert_eq!(&text[s.start..s.end], "1.2");
    assert!(bs[1]
        .skip
        .as_deref()
        .is_some_and(|s| s.contains("earlier stage")));
    assert!(bs[2]
        .skip
        .as_deref()
        .is_some_and(|s| s.starts_with("scratch")));
    assert_eq!(bs[3].tag, None);
    let d = bs[3]
        .digest_site
        .clone()
        .unwrap_or_else(|| panic!("no digest site"));
    assert!(text[d.start..d.end].starts_with("sha256:"));
    // A FROM continued onto the next line (escape=`).
    assert_eq!(bs[4].line, 8);
    let s = bs[4].tag_site.clone().unwrap_or_else(|| panic!("no site"));
    assert_eq!(&text[s.start..s.end], "3.22.0");
    // ${MISSING:-12.1}: the fallback in the FROM line is the site.
    let s = bs[5].tag_site.clone().unwrap_or_else(|| panic!("no site"));
    assert_eq!((&text[s.start..s.end], s.arg), ("12.1", None));
    // A registry port is no tag.
    assert_eq!(bs[6].tag, None);
    assert_eq!(bs[6].name, "localhost:5000/app");
    let edits = customs_base::retag(&bs[4], "3.22.1").unwrap_or_else(|e| panic!("{e}"));
    let new = apply(text, &edits).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(new, text.replace("alpine:3.22.0", "alpine:3.22.1"));
}
