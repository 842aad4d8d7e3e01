//! Scan Dockerfiles (a file or a directory) and print a table per file;
//! `--bench N` repeats the scan N times and prints the elapsed time.
//!
//!     cargo run --release -p customs-misconfig --example scan_config -- crates/customs-misconfig/tests/dockerfiles --bench 100

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = PathBuf::from(args.first().map(String::as_str).unwrap_or("."));
    let reps: usize = args
        .iter()
        .position(|a| a == "--bench")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let start = Instant::now();
    let results = customs_misconfig::scan_config_path(&path);
    let first = start.elapsed();
    for r in &results {
        match r {
            Ok(r) => print!("{}", customs_misconfig::to_table(r)),
            Err(e) => println!("error: {e}"),
        }
    }
    println!("{} files scanned in {:.2?}", results.len(), first);
    if reps > 0 {
        let t = Instant::now();
        let mut checks = 0;
        for _ in 0..reps {
            for r in customs_misconfig::scan_config_path(&path)
                .into_iter()
                .flatten()
            {
                checks += r.misconfigurations.len();
            }
        }
        let e = t.elapsed();
        println!(
            "bench: {reps} passes over {} files in {:.2?} ({:.2?} per pass, {checks} check results)",
            results.len(),
            e,
            e / reps as u32
        );
    }
}
