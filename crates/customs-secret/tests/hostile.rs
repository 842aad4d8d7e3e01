//! Hostile input built at test time: a stream where every line holds a
//! credential, produced by a reader (never allocated whole) and scanned
//! with `scan_reader`. The findings stop at the per-file limit, the dropped
//! count is exact, and memory stays that of one chunk.
//!
//! Both sizes run in a few seconds in debug builds, so neither is ignored.

use customs_secret::{SecretScanner, MAX_FINDINGS_PER_FILE, MAX_FINDINGS_PER_RULE};
use customs_testkit::peak_rss_kib;

/// Alphabets without vowels, `x`, `0`, `1` or `3`: no placeholder word or
/// digit run (`example`, `xxxxxx`, `12345678`) can appear in a value.
const ALNUM: &[u8] = b"BCDFGHJKLMNPQRSTVWZbcdfghjkmnpqrstvwz2456789";
const B32: &[u8] = b"BCDFGHJKLMNPQRSTVWZ2456";
const HEX: &[u8] = b"bcdf24689";
const DIGITS: &[u8] = b"2456789";
const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWZbcdfghjkmnpqrstvwz";

/// `len` characters of `alpha` from `seed`, stepping by a stride coprime
/// with the alphabet's size: any 16 consecutive characters hold at least
/// min(16, size) distinct ones, so no "repeated characters" allow rule and
/// no entropy threshold ever takes the value.
fn body(alpha: &[u8], seed: u64, len: usize) -> String {
    let n = alpha.len();
    let stride = [7usize, 5, 2, 3]
        .into_iter()
        .find(|s| !n.is_multiple_of(*s))
        .unwrap_or(1);
    let start = (seed % n as u64) as usize;
    (0..len)
        .map(|i| char::from(alpha[(start + i * stride) % n]))
        .collect()
}

/// One credential per kind, the rule that reports it, and the line.
/// Prefixes are split so this file holds no scannable token.
fn credential(kind: usize, seed: u64) -> (&'static str, String) {
    match kind % KINDS {
        0 => (
            "aws-access-key-id",
            format!("{}{}", "AK", "IA") + &body(B32, seed, 16),
        ),
        1 => (
            "github-pat",
            format!("{}{}", "gh", "p_") + &body(ALNUM, seed, 36),
        ),
        2 => (
            "gitlab-pat",
            format!("{}{}", "glp", "at-") + &body(ALNUM, seed, 20),
        ),
        3 => (
            "slack-bot-token",
            format!(
                "{}{}-{}-{}",
                "xo",
                "xb-".to_owned() + &body(DIGITS, seed, 12),
                body(DIGITS, seed + 3, 12),
                body(ALNUM, seed, 24)
            ),
        ),
        4 => (
            "stripe-secret-key",
            format!("{}{}", "sk_li", "ve_") + &body(ALNUM, seed, 24),
        ),
        5 => (
            "shopify-access-token",
            format!("{}{}", "shp", "at_") + &body(HEX, seed, 32),
        ),
        6 => (
            "npm-access-token",
            format!("{}{}", "np", "m_") + &body(ALNUM, seed, 36),
        ),
        7 => (
            "huggingface-access-token",
            format!("{}{}", "h", "f_") + &body(LETTERS, seed, 34),
        ),
        8 => (
            "digitalocean-pat",
            format!("{}{}", "dop_", "v1_") + &body(HEX, seed, 64),
        ),
        9 => (
            "linear-api-key",
            format!("{}{}", "lin_", "api_") + &body(ALNUM, seed, 40),
        ),
        10 => (
            "rubygems-api-key",
            format!("{}{}", "ruby", "gems_") + &body(HEX, seed, 48),
        ),
        11 => (
            "doppler-token",
            format!("{}{}", "dp.", "pt.") + &body(ALNUM, seed, 40),
        ),
        _ => (
            "generic-password-assignment",
            format!("{}{}\"{}\"", "pass", "word = ", body(ALNUM, seed, 20)),
        ),
    }
}

const KINDS: usize = 13;

/// Line `n` (0-based) of the hostile stream.
fn line(n: u64) -> String {
    let seed = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7;
    let (_, cred) = credential((n % KINDS as u64) as usize, seed);
    format!("k{n} = {cred}\n")
}

/// Every line of the stream is exactly one finding of the expected rule.
#[test]
fn every_hostile_line_is_one_finding() {
    let s = SecretScanner::builtin();
    for n in 0..(KINDS as u64 * 20) {
        let text = line(n);
        let out = s.scan("app/creds.txt", text.as_bytes());
        let (rule, _) = credential((n % KINDS as u64) as usize, 0);
        let ids: Vec<&str> = out.iter().map(|f| f.rule_id.as_str()).collect();
        assert_eq!(ids, vec![rule], "line {n}: {text}");
        assert_eq!(out.dropped, 0);
    }
}

fn stream(total: u64) -> (customs_secret::ScanOutcome, u64, u64) {
    let s = SecretScanner::builtin();
    let mut gen = customs_testkit::LineStream::new(total, line);
    let before = peak_rss_kib();
    let out = s.scan_reader("app/creds.txt", &mut gen);
    assert!(out.is_ok(), "{:?}", out.err());
    let grew = peak_rss_kib().saturating_sub(before);
    (out.unwrap_or_default(), gen.lines, grew)
}

fn check(out: &customs_secret::ScanOutcome, lines: u64) {
    assert_eq!(out.findings.len(), MAX_FINDINGS_PER_FILE);
    assert_eq!(out.dropped, lines - MAX_FINDINGS_PER_FILE as u64);
    // 13 rules in turn: the first 1,000 lines are the ones kept (no rule
    // reaches its own limit of 100 before the file's limit).
    assert!(MAX_FINDINGS_PER_FILE.div_ceil(KINDS) <= MAX_FINDINGS_PER_RULE);
    for (i, f) in out.iter().enumerate() {
        assert_eq!(f.start_line, i + 1);
        assert_eq!(f.rule_id, credential(i % KINDS, 0).0);
    }
    let json = serde_json::to_vec(&out.findings).unwrap_or_default();
    assert!(json.len() < 3 << 20, "{} bytes of findings", json.len());
}

#[test]
fn hostile_8_mib_stream_is_capped_exactly() {
    let (out, lines, grew) = stream(8 << 20);
    assert!(lines > 100_000, "{lines} lines");
    check(&out, lines);
    println!("8 MiB: {lines} credentials, peak RSS +{} MiB", grew / 1024);
}

#[test]
fn hostile_64_mib_stream_is_capped_in_bounded_memory() {
    let t = std::time::Instant::now();
    let (out, lines, grew) = stream(64 << 20);
    println!(
        "64 MiB: {lines} credentials, {} kept, {} dropped, {:.1} s, peak RSS +{} MiB",
        out.findings.len(),
        out.dropped,
        t.elapsed().as_secs_f64(),
        grew / 1024
    );
    check(&out, lines);
    assert!(grew < 64 * 1024, "peak RSS grew by {grew} KiB");
}
