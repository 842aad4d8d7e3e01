//! 1 GiB of generated text streamed through `scan_reader` with bounded
//! memory. Ignored by default (about a minute in release):
//! `cargo test --release -p customs-secret --test big_stream -- --ignored --nocapture`

use customs_secret::SecretScanner;
use customs_testkit::peak_rss_kib;

const TOKEN_EVERY: u64 = 1_000_000;

/// Line `n` (1-based) of source-like text, with a planted token every
/// `TOKEN_EVERY` lines.
fn source_line(n: u64) -> String {
    if n.is_multiple_of(TOKEN_EVERY) {
        format!("TOKEN={}{:036}\n", "ghp_", n * 7919 + 17)
    } else {
        let x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        format!(
            "    let value_{x:x} = compute(path, token_count, {});\n",
            x % 1000
        )
    }
}

#[test]
#[ignore]
fn one_gib_stream_bounded_memory() {
    let s = SecretScanner::builtin();
    let before = peak_rss_kib();
    let g = customs_testkit::LineStream::new(1 << 30, |n| source_line(n + 1));
    let t = std::time::Instant::now();
    let f = s.scan_reader("var/log/app.log", g).unwrap_or_default();
    let secs = t.elapsed().as_secs_f64();
    let after = peak_rss_kib();
    println!(
        "1 GiB stream: {} findings, {:.1} s ({:.0} MB/s), peak RSS {} MiB -> {} MiB",
        f.len(),
        secs,
        1024.0 / secs,
        before / 1024,
        after / 1024
    );
    // ~17.8M lines of ~60 bytes: one token every million lines.
    assert!(f.len() >= 15, "{} findings", f.len());
    assert!(f
        .iter()
        .all(|x| x.rule_id == "github-pat" && x.start_line % TOKEN_EVERY as usize == 0));
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "memory grew by {} KiB",
        after - before
    );
}
