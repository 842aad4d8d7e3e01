//! Build a database from a feed directory and print the report, then time
//! 1,000 lookups of distinct packages against it:
//! `cargo run --release --example build_db -- DIR OUT.db`

use std::path::PathBuf;
use std::time::Instant;

use customs_vulndb::{build, BuildOptions, NoProgress, VulnDb};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let from = PathBuf::from(args.next().ok_or("usage: build_db DIR OUT.db")?);
    let out = PathBuf::from(args.next().ok_or("usage: build_db DIR OUT.db")?);
    // `-` as DIR: only time the lookups against an existing OUT.db.
    if from.as_os_str() != "-" {
        report(&from, &out)?;
    }
    let db = VulnDb::open(&out)?;
    let pairs = db.sample_packages(1000)?;
    for round in 0..3 {
        let t = Instant::now();
        let cpu = thread_cpu_ns();
        let mut n = 0;
        for (eco, pkg) in &pairs {
            n += db.advisories(eco, pkg)?.len();
        }
        let cpu_ms = thread_cpu_ns().zip(cpu).map(|(b, a)| (b - a) as f64 / 1e6);
        println!(
            "round {round}: {} lookups of distinct packages: wall {:?}, cpu {cpu_ms:?} ms ({n} advisories)",
            pairs.len(),
            t.elapsed()
        );
    }
    Ok(())
}

fn report(from: &std::path::Path, out: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let report = build(&BuildOptions::new(from, out), &NoProgress)?;
    for s in &report.sources {
        println!(
            "{:16} files {:5} records {:5} withdrawn {:3} skipped {:3} advisories {:6} vulns {:6}",
            s.id, s.files, s.records, s.withdrawn, s.skipped, s.advisories, s.vulnerabilities
        );
    }
    for s in report.skipped.iter().take(20) {
        println!("skipped: {s}");
    }
    println!(
        "advisories {} vulnerabilities {} size {} bytes in {:?}",
        report.advisories, report.vulnerabilities, report.file_size, report.elapsed
    );
    Ok(())
}

/// Time this thread spent on a CPU (Linux), so that a loaded machine does
/// not distort the figure.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}
