//! 1 GiB of generated text streamed through `scan_reader` with bounded
//! memory. Ignored by default (about a minute in release):
//! `cargo test --release -p customs-secret --test big_stream -- --ignored --nocapture`

use customs_secret::SecretScanner;
use std::io::Read;

/// A reader producing `total` bytes of source-like text, with a planted
/// token every `every` lines, without holding the data in memory.
struct Gen {
    total: u64,
    produced: u64,
    line: u64,
    pending: Vec<u8>,
    pos: usize,
}

const TOKEN_EVERY: u64 = 1_000_000;

impl Read for Gen {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < out.len() && self.produced < self.total {
            if self.pos >= self.pending.len() {
                self.pending.clear();
                self.pos = 0;
                self.line += 1;
                if self.line.is_multiple_of(TOKEN_EVERY) {
                    self.pending.extend_from_slice(
                        format!("TOKEN={}{:036}\n", "ghp_", self.line * 7919 + 17).as_bytes(),
                    );
                } else {
                    let x = self.line.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    self.pending.extend_from_slice(
                        format!(
                            "    let value_{x:x} = compute(path, token_count, {});\n",
                            x % 1000
                        )
                        .as_bytes(),
                    );
                }
            }
            let avail = &self.pending[self.pos..];
            let k = avail
                .len()
                .min(out.len() - n)
                .min((self.total - self.produced) as usize);
            out[n..n + k].copy_from_slice(&avail[..k]);
            self.pos += k;
            n += k;
            self.produced += k as u64;
        }
        Ok(n)
    }
}

use customs_testkit::peak_rss_kib;

#[test]
#[ignore]
fn one_gib_stream_bounded_memory() {
    let s = SecretScanner::builtin();
    let before = peak_rss_kib();
    let g = Gen {
        total: 1 << 30,
        produced: 0,
        line: 0,
        pending: Vec::new(),
        pos: 0,
    };
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
