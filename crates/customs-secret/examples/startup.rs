//! What building the scanner and masking a few strings costs (the work
//! `customs config` does per run): wall time and the process's peak RSS.
//!
//! `cargo run --release -p customs-secret --example startup` prints the lazy
//! figures; `-- eager` first makes every built-in rule compile (the cost
//! before rules were compiled on first need).

use customs_secret::SecretScanner;
use std::time::Instant;

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let eager = std::env::args().any(|a| a == "eager");
    let rss0 = peak_rss_kb();
    let t = Instant::now();
    let s = SecretScanner::builtin();
    let built = t.elapsed();
    if eager {
        // Every keyword once: every rule's regex gets compiled.
        let text: String = s
            .rules()
            .iter()
            .flat_map(|r| r.keywords.iter())
            .map(|k| format!("{k}\n"))
            .collect();
        let _ = s.scan_text("all-keywords", text.as_bytes());
    }
    let t = Instant::now();
    let lines = [
        "FROM python:3.12-slim",
        "ENV DB_PASSWORD=hunter2",
        "RUN pip install --no-cache-dir -r requirements.txt",
        "USER root",
        "COPY . /app",
        "CMD [\"python\", \"app.py\"]",
    ];
    let mut masked = 0;
    for _ in 0..3 {
        for l in lines {
            masked += usize::from(s.mask_text("misconfiguration", l).is_some());
        }
    }
    let mask = t.elapsed();
    println!(
        "{}: builtin() {:.2} ms, masking {} lines {:.2} ms ({masked} masked), peak RSS {} KB (+{} KB)",
        if eager { "eager" } else { "lazy" },
        built.as_secs_f64() * 1e3,
        lines.len() * 3,
        mask.as_secs_f64() * 1e3,
        peak_rss_kb(),
        peak_rss_kb().saturating_sub(rss0)
    );
}
