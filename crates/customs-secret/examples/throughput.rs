//! Throughput of the secret scanner on generated mixed text, one core.
//!
//! `cargo run --release -p customs-secret --example throughput [MB]`
//! (default 200 MB): source code, configs, logs, JSON, base64 blobs and a
//! few planted secrets, scanned file by file with `scan`.

use customs_secret::SecretScanner;
use std::time::Instant;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next() % v.len() as u64) as usize]
    }
    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| A[(self.next() % 62) as usize] as char)
            .collect()
    }
}

fn file(rng: &mut Rng, size: usize, secret: bool) -> Vec<u8> {
    let lines = [
        "    if let Some(path) = self.paths.get(index) { return Ok(path.clone()); }",
        "def handle(request, token=None):  # validate the session token first",
        "  password_min_length: 12",
        "2026-11-02T10:00:00Z INFO request_id=%ID% path=/api/v1/items status=200 took=12ms",
        "    \"integrity\": \"sha512-%B64%\",",
        "const config = { apiBase: 'https://api.example.invalid', retries: 3, timeout: 5000 };",
        "import os, sys, json  # standard library only",
        "    <dependency><groupId>org.acme</groupId><artifactId>core</artifactId></dependency>",
        "export PATH=/usr/local/bin:$PATH",
        "	return fmt.Errorf(\"decode %s: %w\", name, err)",
        "| secret scanning | enabled | see docs for the access key rotation policy |",
        "SELECT id, name FROM users WHERE token_hash = $1 AND expires_at > now();",
    ];
    let mut out = String::with_capacity(size + 200);
    while out.len() < size {
        let l = rng.pick(&lines);
        let l = l
            .replace("%ID%", &rng.alnum(16))
            .replace("%B64%", &rng.alnum(86));
        out.push_str(&l);
        out.push('\n');
    }
    if secret {
        out.push_str(&format!("GITHUB_TOKEN={}{}\n", "ghp_", rng.alnum(36)));
    }
    out.into_bytes()
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "200".into());
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut files = Vec::new();
    let mut total = 0usize;
    let mut planted = 0usize;
    let mb: usize = match arg.parse() {
        Ok(mb) => mb,
        Err(_) => {
            let mut stack = vec![std::path::PathBuf::from(&arg)];
            while let Some(d) = stack.pop() {
                let Ok(rd) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in rd.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if let Ok(b) = std::fs::read(&p) {
                        total += b.len();
                        files.push(b);
                    }
                }
            }
            0
        }
    };
    while total < mb << 20 {
        let size = 1024 + (rng.next() % (256 * 1024)) as usize;
        let secret = rng.next().is_multiple_of(50);
        planted += secret as usize;
        let f = file(&mut rng, size, secret);
        total += f.len();
        files.push(f);
    }
    let s = SecretScanner::builtin();
    // SHOW=1 prints each finding (masked).
    let show = std::env::var_os("SHOW").is_some();
    let t = Instant::now();
    let mut found = 0usize;
    for (i, f) in files.iter().enumerate() {
        let fs = s.scan(&format!("srv/app/src/file{i}.txt"), f);
        if show {
            for x in &fs {
                println!("file{i}:{} {} | {}", x.start_line, x.rule_id, x.match_line);
            }
        }
        found += fs.len();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} files, {:.1} MB: {found} findings ({planted} planted) in {secs:.2} s = {:.0} MB/s on one core",
        files.len(),
        total as f64 / 1e6,
        total as f64 / 1e6 / secs
    );
}
