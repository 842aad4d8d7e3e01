//! The trend chart: drawn, legible (the legend names each severity with its
//! latest count), the same drawing in SVG and PNG.

mod common;
use common::*;
use customs_history::{chart, Counts, Point};

fn points() -> Vec<Point> {
    (0..14)
        .map(|i: i64| {
            let mut c = Counts::default();
            c.vulnerabilities.critical = (6 - i / 2).max(0);
            c.vulnerabilities.high = 12 - i / 3;
            c.vulnerabilities.medium = 20 - i;
            c.vulnerabilities.low = 8 + i % 3;
            c.vulnerabilities.unknown = 30 - 2 * i;
            Point {
                id: i + 1,
                time: String::new(),
                time_ms: 1_767_225_600_000 + i * 7 * 86_400_000,
                artifact_ref: format!("app:1.{i}"),
                digest: String::new(),
                counts: c,
            }
        })
        .collect()
}

#[test]
fn the_chart_is_an_svg_and_a_png_with_a_legend_of_latest_counts() {
    let p = points();
    let svg = must(chart::svg("app", &p));
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    must(std::fs::write(out.join("trend.svg"), &svg));
    assert!(svg.starts_with("<svg"));
    assert!(
        svg.contains("app: vulnerabilities by severity (14 scans)"),
        "caption"
    );
    for label in [
        "Latest scan",
        "CRITICAL 0",
        "HIGH 8",
        "MEDIUM 7",
        "LOW 9",
        "UNKNOWN 4",
        "total 28",
    ] {
        assert!(svg.contains(label), "legend {label:?}");
    }
    assert!(svg.matches("2026-").count() >= 3, "dated x axis");
    let png = must(chart::png("app", &p));
    assert_eq!(png.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]));
    let be = |i: usize| {
        png.get(i..i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    assert_eq!((be(16), be(20)), (Some(chart::WIDTH), Some(chart::HEIGHT)));
    // Text and colour, not a blank image: far larger than a flat PNG.
    assert!(png.len() > 20_000, "{} bytes", png.len());
    must(std::fs::write(out.join("trend.png"), &png));
}

#[test]
fn an_empty_history_and_a_single_scan_still_draw() {
    let svg = must(chart::svg("none", &[]));
    assert!(svg.contains("none: no scans recorded"));
    let one = points().into_iter().take(1).collect::<Vec<_>>();
    assert!(must(chart::png("app", &one)).len() > 1000);
    let md = chart::markdown("app", &points());
    assert_eq!(md.lines().count(), 4 + 14);
    assert!(md.contains("| 14 | "), "{md}");
    let js: serde_json::Value = must(serde_json::from_str(&chart::json("app", &one)));
    assert_eq!(js["Points"][0]["Counts"]["Vulnerabilities"]["CRITICAL"], 6);
}
