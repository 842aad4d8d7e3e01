//! Tag shapes and tracks: which newer tag of a repository a pinned tag may
//! move to. The rules are in docs/base-tracks.md; in short:
//!
//! - A **version** tag (`3.22.1`, `8.4.0-alpine3.22`, `v2.1.0`) moves to a
//!   tag with the same prefix, the same number of components and the same
//!   variant, that is newer. Components have roles by position: the first is
//!   the major, the second the minor, the rest patch levels. `Patch` keeps
//!   every component but the last, and always the major and the minor;
//!   `Minor` keeps the major; `Major` keeps nothing. Under `Minor` and
//!   `Major` the numbers inside the variant (`alpine3.22`, `node20`) may move
//!   up too; under `Patch` the variant is kept exactly.
//! - A **dated** tag (`bullseye-20260202-slim`) moves to the newest date with
//!   the same words around it and the same date format, whatever the track.
//! - A **floating** tag (`latest`, `bookworm`) never moves.
//!
//! Pre-releases are offered only when allowed, and nothing older (or equal)
//! is ever offered.

use std::cmp::Ordering;

/// How far a tag may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Track {
    /// Patch levels only: `3.22.0` → `3.22.1`.
    #[default]
    Patch,
    /// Same major: `3.22.0` → `3.23.0`.
    Minor,
    /// Anything newer: `20-alpine` → `22-alpine`.
    Major,
}

impl Track {
    /// `patch`, `minor` or `major` (case-insensitive).
    pub fn parse(s: &str) -> Result<Track, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "patch" => Ok(Track::Patch),
            "minor" => Ok(Track::Minor),
            "major" => Ok(Track::Major),
            _ => Err(format!(
                "unknown track '{s}' (expected patch, minor or major)"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Track::Patch => "patch",
            Track::Minor => "minor",
            Track::Major => "major",
        }
    }
}

/// The date format of a dated tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateFormat {
    /// `20260202`
    Ymd,
    /// `2026-02-02`
    YmdDashed,
    /// `202602021530`
    YmdHm,
}

/// What a tag looks like: a version (`3.22.1`, `8.4.0-alpine3.22`,
/// `1.22-bookworm`, `v2.1.0`), a date track (`bullseye-20260202-slim`,
/// `20240101`), or floating (`latest`, `bookworm`, `stable-slim`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagShape {
    Version {
        /// `v` or empty.
        prefix: String,
        /// The numeric components: `[8, 4, 0]`.
        numbers: Vec<u64>,
        /// The pre-release marker as written (`rc1`, `beta.2`), if any.
        pre: Option<String>,
        /// The rest, with its separators (`-alpine3.22`, `-slim-bookworm`);
        /// empty when none. A pre-release marker is not part of it.
        variant: String,
    },
    Dated {
        /// Text before the date (`bullseye-`).
        before: String,
        /// The date's digits only (`20260202`, `202602021530`).
        date: String,
        format: DateFormat,
        /// Text after the date (`-slim`).
        after: String,
    },
    Floating,
}

/// Words that mark a pre-release.
const PRE_WORDS: [&str; 10] = [
    "rc", "beta", "alpha", "pre", "preview", "dev", "nightly", "snapshot", "canary", "insiders",
];

/// Whether `word` (one `-`/`_`-separated word of a tag) is a pre-release
/// marker: `rc`, `rc1`, `beta.2`, `nightly`, ...
fn is_pre_word(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    PRE_WORDS.iter().any(|p| {
        w.strip_prefix(p).is_some_and(|rest| {
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            rest.bytes().all(|b| b.is_ascii_digit())
        })
    })
}

/// Split a tail like `-rc1-alpine3.23` into (separator, word) pairs.
fn words(tail: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = tail;
    while !rest.is_empty() {
        let sep_len = rest
            .find(|c: char| !matches!(c, '-' | '_' | '+'))
            .unwrap_or(rest.len());
        let (sep, after) = rest.split_at(sep_len);
        let word_len = after.find(['-', '_', '+']).unwrap_or(after.len());
        let (word, next) = after.split_at(word_len);
        out.push((sep, word));
        rest = next;
    }
    out
}

/// A date inside `tag`: (byte start, byte end, digits, format).
fn find_date(tag: &str) -> Option<(usize, usize, String, DateFormat)> {
    let b = tag.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let valid = |y: &str, m: &str, d: &str| {
        let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else {
            return false;
        };
        (1990..=2199).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d)
    };
    let mut i = 0;
    while i < b.len() {
        if !digit(i) || (i > 0 && digit(i - 1)) {
            i += 1;
            continue;
        }
        let mut j = i;
        while digit(j) {
            j += 1;
        }
        // The run is b[i..j]; it must not touch a dot (that is a version).
        let dotted = (i > 0 && b[i - 1] == b'.') || b.get(j) == Some(&b'.');
        let run = &tag[i..j];
        if !dotted {
            if run.len() == 8 && valid(&run[0..4], &run[4..6], &run[6..8]) {
                return Some((i, j, run.to_string(), DateFormat::Ymd));
            }
            if run.len() == 12
                && valid(&run[0..4], &run[4..6], &run[6..8])
                && run[8..10].parse::<u32>().is_ok_and(|h| h < 24)
                && run[10..12].parse::<u32>().is_ok_and(|m| m < 60)
            {
                return Some((i, j, run.to_string(), DateFormat::YmdHm));
            }
        }
        if run.len() == 4 && j + 6 <= b.len() {
            let rest = &tag[j..j + 6];
            let rb = rest.as_bytes();
            if rb[0] == b'-'
                && rb[3] == b'-'
                && rb[1..3].iter().all(u8::is_ascii_digit)
                && rb[4..6].iter().all(u8::is_ascii_digit)
                && !digit(j + 6)
                && valid(run, &rest[1..3], &rest[4..6])
            {
                let digits = format!("{run}{}{}", &rest[1..3], &rest[4..6]);
                return Some((i, j + 6, digits, DateFormat::YmdDashed));
            }
        }
        i = j;
    }
    None
}

/// What `tag` looks like.
pub fn shape(tag: &str) -> TagShape {
    if let Some((s, e, date, format)) = find_date(tag) {
        return TagShape::Dated {
            before: tag[..s].to_string(),
            date,
            format,
            after: tag[e..].to_string(),
        };
    }
    let (prefix, body) = match tag.strip_prefix('v').or_else(|| tag.strip_prefix('V')) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => (&tag[..1], rest),
        _ => ("", tag),
    };
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return TagShape::Floating;
    }
    // The numeric core: digits ('.' digits)*.
    let mut numbers = Vec::new();
    let mut rest = body;
    loop {
        let n = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let Ok(v) = rest[..n].parse::<u64>() else {
            return TagShape::Floating;
        };
        numbers.push(v);
        rest = &rest[n..];
        match rest.strip_prefix('.') {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => rest = r,
            _ => break,
        }
    }
    let mut pre = None;
    let mut variant = String::new();
    let tail = rest;
    // `1.0.0rc1`, `3.12.0b1`: a marker right after the numbers.
    let (attached, tail) = match tail.find(['-', '_', '+']) {
        Some(0) => ("", tail),
        Some(n) => tail.split_at(n),
        None => (tail, ""),
    };
    if !attached.is_empty() {
        let a = attached.to_ascii_lowercase();
        let short = (a.starts_with('a') || a.starts_with('b'))
            && a.len() > 1
            && a[1..].bytes().all(|b| b.is_ascii_digit());
        if is_pre_word(attached) || short {
            pre = Some(attached.to_string());
        } else {
            variant.push_str(attached);
        }
    }
    for (sep, word) in words(tail) {
        if pre.is_none() && variant.is_empty() && is_pre_word(word) {
            pre = Some(word.to_string());
        } else if variant.is_empty() && pre.is_some() && word.bytes().all(|b| b.is_ascii_digit()) {
            // `-beta-2`: the pre-release's number.
            if let Some(p) = pre.as_mut() {
                p.push_str(sep);
                p.push_str(word);
            }
        } else {
            variant.push_str(sep);
            variant.push_str(word);
        }
    }
    // `0.0.0-dev.abc123`: a version of nothing yet.
    if pre.is_none() && !variant.is_empty() && numbers.iter().all(|&n| n == 0) {
        pre = Some(variant.trim_start_matches(['-', '_', '+']).to_string());
        variant.clear();
    }
    TagShape::Version {
        prefix: prefix.to_string(),
        numbers,
        pre,
        variant,
    }
}

/// Whether `tag` is a pre-release: a version with a pre-release marker, or
/// any tag with a pre-release word (`nightly-20240101`, `edge` is not one).
pub fn is_prerelease(tag: &str) -> bool {
    match shape(tag) {
        TagShape::Version { pre, variant, .. } => {
            pre.is_some() || words(&variant).iter().any(|(_, w)| is_pre_word(w))
        }
        TagShape::Dated { before, after, .. } => words(&before)
            .iter()
            .chain(words(&after).iter())
            .any(|(_, w)| is_pre_word(w)),
        TagShape::Floating => words(tag).iter().any(|(_, w)| is_pre_word(w)),
    }
}

/// A variant with its numbers replaced by `#` (`-alpine#.#`), and the numbers.
fn variant_key(variant: &str) -> (String, Vec<u64>) {
    let mut key = String::new();
    let mut nums = Vec::new();
    let mut rest = variant;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            let n = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            // A run too long for u64 is kept literally.
            match rest[..n].parse::<u64>() {
                Ok(v) => {
                    key.push('#');
                    nums.push(v);
                }
                Err(_) => key.push_str(&rest[..n]),
            }
            rest = &rest[n..];
        } else {
            key.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    (key, nums)
}

/// Order of pre-release kinds: alpha < beta < rc (others rank with alpha).
fn pre_rank(pre: &Option<String>) -> (u8, u8, Vec<u64>) {
    match pre {
        None => (1, 0, Vec::new()),
        Some(p) => {
            let l = p.to_ascii_lowercase();
            let kind = if l.starts_with("rc") || l.starts_with("pre") {
                3
            } else if l.starts_with("beta") || l.starts_with('b') {
                2
            } else {
                1
            };
            (0, kind, variant_key(p).1)
        }
    }
}

/// A version tag's comparable parts.
struct Ver {
    prefix: String,
    numbers: Vec<u64>,
    pre: Option<String>,
    vkey: String,
    vnums: Vec<u64>,
}

impl Ver {
    fn of(tag: &str) -> Option<Ver> {
        match shape(tag) {
            TagShape::Version {
                prefix,
                numbers,
                pre,
                variant,
            } => {
                let (vkey, vnums) = variant_key(&variant);
                Some(Ver {
                    prefix,
                    numbers,
                    pre,
                    vkey,
                    vnums,
                })
            }
            _ => None,
        }
    }

    /// The version's own order: numbers, then release above pre-release.
    fn cmp_version(&self, o: &Ver) -> Ordering {
        self.numbers
            .cmp(&o.numbers)
            .then_with(|| pre_rank(&self.pre).cmp(&pre_rank(&o.pre)))
    }
}

/// Whether candidate `c` is on `cur`'s track and newer.
fn version_candidate(cur: &Ver, c: &Ver, track: Track) -> bool {
    if c.prefix != cur.prefix || c.numbers.len() != cur.numbers.len() || c.vkey != cur.vkey {
        return false;
    }
    let n = cur.numbers.len();
    // How many leading components must stay.
    let fixed = match track {
        Track::Patch => n.saturating_sub(1).max(2).min(n),
        Track::Minor => 1.min(n),
        Track::Major => 0,
    };
    if c.numbers[..fixed] != cur.numbers[..fixed] {
        return false;
    }
    match track {
        Track::Patch => {
            if c.vnums != cur.vnums {
                return false;
            }
        }
        Track::Minor | Track::Major => {
            if c.vnums < cur.vnums {
                return false;
            }
        }
    }
    match c.cmp_version(cur) {
        Ordering::Greater => true,
        Ordering::Equal => c.vnums > cur.vnums,
        Ordering::Less => false,
    }
}

/// The best newer tag on `current`'s track among `tags` (the registry's
/// full list), or `None` when `current` is the newest or floating.
pub fn newer_tag(
    current: &str,
    tags: &[String],
    track: Track,
    allow_prerelease: bool,
) -> Option<String> {
    let offered = |t: &str| allow_prerelease || !is_prerelease(t);
    match shape(current) {
        TagShape::Floating => None,
        TagShape::Version { .. } => {
            let cur = Ver::of(current)?;
            let mut best: Option<(Ver, &String)> = None;
            for t in tags {
                if !offered(t) {
                    continue;
                }
                let Some(c) = Ver::of(t) else { continue };
                if !version_candidate(&cur, &c, track) {
                    continue;
                }
                let better = match &best {
                    None => true,
                    Some((b, bt)) => match c.cmp_version(b).then_with(|| c.vnums.cmp(&b.vnums)) {
                        Ordering::Greater => true,
                        // The same version written twice: the shorter, then
                        // the smaller text, so the answer does not depend on
                        // the list's order.
                        Ordering::Equal => (t.len(), t) < (bt.len(), *bt),
                        Ordering::Less => false,
                    },
                };
                if better {
                    best = Some((c, t));
                }
            }
            best.map(|(_, t)| t.clone())
        }
        TagShape::Dated {
            before,
            date,
            format,
            after,
        } => {
            let mut best: Option<(String, &String)> = None;
            for t in tags {
                if !offered(t) {
                    continue;
                }
                let TagShape::Dated {
                    before: b,
                    date: d,
                    format: f,
                    after: a,
                } = shape(t)
                else {
                    continue;
                };
                if b != before || a != after || f != format || d <= date {
                    continue;
                }
                if best.as_ref().is_none_or(|(bd, _)| d > *bd) {
                    best = Some((d, t));
                }
            }
            best.map(|(_, t)| t.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(matches!(shape("latest"), TagShape::Floating));
        assert!(matches!(shape("bookworm"), TagShape::Floating));
        assert!(matches!(shape("stable-slim"), TagShape::Floating));
        assert!(matches!(shape("edge"), TagShape::Floating));
        match shape("8.6.0-rc1-alpine3.23") {
            TagShape::Version {
                numbers,
                pre,
                variant,
                ..
            } => {
                assert_eq!(numbers, vec![8, 6, 0]);
                assert_eq!(pre.as_deref(), Some("rc1"));
                assert_eq!(variant, "-alpine3.23");
            }
            s => panic!("{s:?}"),
        }
        match shape("bullseye-20260202-slim") {
            TagShape::Dated {
                before,
                date,
                after,
                format,
            } => {
                assert_eq!(
                    (before.as_str(), date.as_str(), after.as_str()),
                    ("bullseye-", "20260202", "-slim")
                );
                assert_eq!(format, DateFormat::Ymd);
            }
            s => panic!("{s:?}"),
        }
        assert!(matches!(
            shape("2024-01-31"),
            TagShape::Dated {
                format: DateFormat::YmdDashed,
                ..
            }
        ));
        assert!(matches!(
            shape("nightly-202401311200"),
            TagShape::Dated {
                format: DateFormat::YmdHm,
                ..
            }
        ));
        match shape("v2.1.0") {
            TagShape::Version {
                prefix, numbers, ..
            } => {
                assert_eq!(prefix, "v");
                assert_eq!(numbers, vec![2, 1, 0]);
            }
            s => panic!("{s:?}"),
        }
        // Not a date: a month 13, or a dotted run.
        assert!(matches!(shape("20241301"), TagShape::Version { .. }));
        assert!(matches!(shape("1.20240101"), TagShape::Version { .. }));
    }

    #[test]
    fn prerelease_markers() {
        for t in [
            "3.23.0_rc1",
            "8.6.0-rc1-alpine3.23",
            "1.0.0-beta.2",
            "1.0.0-beta-2",
            "2.0.0alpha1",
            "3.13.0b1",
            "0.0.0-dev.abc",
            "nightly",
            "1.2.3-SNAPSHOT",
            "nightly-20240101",
            "22-rc-alpine",
        ] {
            assert!(is_prerelease(t), "{t}");
        }
        for t in [
            "3.23.0",
            "8.4.0-alpine3.22",
            "bookworm",
            "latest",
            "edge",
            "20-bullseye",
        ] {
            assert!(!is_prerelease(t), "{t}");
        }
    }

    #[test]
    fn track_parse() {
        assert_eq!(Track::parse("Minor"), Ok(Track::Minor));
        assert_eq!(Track::parse("patch"), Ok(Track::Patch));
        assert_eq!(Track::parse("major"), Ok(Track::Major));
        assert!(Track::parse("newest").is_err());
        assert_eq!(Track::default(), Track::Patch);
    }
}
