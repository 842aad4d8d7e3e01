//! Rough speed check of `compare`: sorts real and synthetic version lists
//! and prints nanoseconds per comparison for each scheme.
//!
//! `cargo run --release -p customs-versions --example compare_speed`

use std::cmp::Ordering;
use std::time::Instant;

use customs_versions::{compare, Scheme};

fn dsa_versions() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/advisories/debian-security-tracker/DSA-list"
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("\t["))
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter(|v| !v.starts_with('<'))
        .map(str::to_string)
        .collect()
}

fn synthetic(scheme: Scheme) -> Vec<String> {
    let mut out = Vec::new();
    for major in 0..12 {
        for minor in 0..12 {
            for patch in 0..8 {
                out.push(match scheme {
                    Scheme::Apk => format!("{major}.{minor}.{patch}_rc{patch}-r{minor}"),
                    Scheme::Rpm => format!("{major}:{minor}.{patch}-{patch}.el9_{minor}"),
                    Scheme::Pep440 => format!("{major}.{minor}.{patch}rc{patch}.post{minor}"),
                    Scheme::Maven => format!("{major}.{minor}.{patch}-beta-{minor}"),
                    Scheme::Go => {
                        format!("v{major}.{minor}.{patch}-0.2020010100000{patch}-abcdef123456")
                    }
                    _ => format!("{major}.{minor}.{patch}-rc.{patch}"),
                });
            }
        }
    }
    out
}

fn time(scheme: Scheme, mut versions: Vec<String>) {
    let mut n = 0u64;
    let start = Instant::now();
    for _ in 0..5 {
        versions.reverse();
        versions.sort_by(|a, b| {
            n += 1;
            compare(scheme, a, b).unwrap_or(Ordering::Equal)
        });
    }
    let ns = start.elapsed().as_nanos() as f64 / n.max(1) as f64;
    println!("{scheme:>9}: {n:>8} comparisons, {ns:6.0} ns each");
}

fn pair(scheme: Scheme, a: &str, b: &str) {
    let n = 1_000_000;
    let start = Instant::now();
    let mut less = 0;
    for _ in 0..n {
        if compare(scheme, std::hint::black_box(a), std::hint::black_box(b)) == Ok(Ordering::Less) {
            less += 1;
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / f64::from(n);
    println!("{scheme:>9}: {a} vs {b}: {ns:6.0} ns ({less})");
}

fn main() {
    pair(Scheme::Dpkg, "2.4.54-1~deb11u1", "2.4.56-1~deb11u1");
    pair(Scheme::Apk, "2.4.54-r1", "2.4.56-r0");
    time(Scheme::Dpkg, dsa_versions());
    for s in Scheme::ALL {
        if s != Scheme::Dpkg {
            time(s, synthetic(s));
        }
    }
}
