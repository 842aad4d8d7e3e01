//! The history benchmark (`scripts/bench.py history` runs it):
//!
//!     history_bench STORE REPORT.json [OTHER.json] [--scans N] [--images M]
//!
//! Records N scans (default 10,000) of M images (default 50) into STORE (a
//! SQLite path or a postgres:// URL), each a variant of REPORT (its own
//! reference, a share of the vulnerabilities dropped so the counts move),
//! timing every insert; then times `list` (50 newest of an image, and of
//! all), `trend` of an image, `last_two` and the diff of REPORT with OTHER
//! (or with a variant of itself), and prints the store's size.

use customs_history::{diff, Filter, NewScan, Store};
use std::time::{Duration, Instant};

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let q = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    let mean = v.iter().sum::<Duration>() / v.len().max(1) as u32;
    println!(
        "{name:<28} n={:<6} median {:>8.3} ms  p95 {:>8.3} ms  max {:>8.3} ms  mean {:>8.3} ms",
        v.len(),
        q(0.5).as_secs_f64() * 1e3,
        q(0.95).as_secs_f64() * 1e3,
        q(1.0).as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut pos = Vec::new();
    let (mut scans, mut images) = (10_000usize, 50usize);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--scans" => scans = it.next().ok_or("--scans N")?.parse()?,
            "--images" => images = it.next().ok_or("--images M")?.parse()?,
            _ => pos.push(a.clone()),
        }
    }
    let [store, report, rest @ ..] = pos.as_slice() else {
        return Err(
            "usage: history_bench STORE REPORT.json [OTHER.json] [--scans N] [--images M]".into(),
        );
    };
    let base = customs_history::read_report(std::path::Path::new(report))?.report;
    let other = match rest.first() {
        Some(p) => customs_history::read_report(std::path::Path::new(p))?.report,
        None => base.clone(),
    };
    let images = images.max(1);
    let mut st = Store::open(store)?;
    let start_ms = customs_history::store::now_ms() - scans as i64 * 60_000;
    let mut inserts = Vec::with_capacity(scans);
    let wall = Instant::now();
    for i in 0..scans {
        let mut r = base.clone();
        let img = i % images;
        let round = i / images;
        r.artifact_name = format!("bench/app{img}:{round}");
        r.metadata.repo_tags = vec![r.artifact_name.clone()];
        for res in &mut r.results {
            let mut k = 0usize;
            res.vulnerabilities.retain(|_| {
                k += 1;
                !(k + round).is_multiple_of(7)
            });
        }
        let mut scan = NewScan::new(r, "customs bench", "bench");
        scan.scanned_at_ms = Some(start_ms + i as i64 * 60_000);
        let t = Instant::now();
        st.record(&scan)?;
        inserts.push(t.elapsed());
    }
    println!(
        "recorded {scans} scans of {images} images in {:.1} s",
        wall.elapsed().as_secs_f64()
    );
    stats("insert (record)", inserts);

    let runs = 30;
    let time = |f: &mut dyn FnMut() -> Result<usize, Box<dyn std::error::Error>>| -> Result<(Vec<Duration>, usize), Box<dyn std::error::Error>> {
        let mut v = Vec::new();
        let mut n = 0;
        for _ in 0..runs {
            let t = Instant::now();
            n = f()?;
            v.push(t.elapsed());
        }
        Ok((v, n))
    };
    let (v, n) = time(&mut || Ok(st.list(&Filter::parse("bench/app7"), 50)?.len()))?;
    stats(&format!("list app7 (50 of {})", scans / images), v);
    assert_eq!(n, 50.min(scans / images));
    let (v, _) = time(&mut || Ok(st.list(&Filter::parse("bench/app7"), 0)?.len()))?;
    stats("list app7 (all)", v);
    let (v, _) = time(&mut || Ok(st.list(&Filter::All, 50)?.len()))?;
    stats("list all (50 newest)", v);
    let (v, n) = time(&mut || Ok(st.trend(&Filter::parse("bench/app7"))?.len()))?;
    stats(&format!("trend app7 ({n} points)"), v);
    let (v, _) = time(&mut || {
        Ok(st
            .last_two(&Filter::parse("bench/app7"))?
            .map(|_| 2)
            .unwrap_or(0))
    })?;
    stats("last_two app7 (2 reports)", v);
    let (v, n) = time(&mut || {
        let d = diff(&base, &other);
        Ok(d.vulnerabilities.new.len()
            + d.vulnerabilities.fixed.len()
            + d.vulnerabilities.unchanged.len())
    })?;
    stats(&format!("diff ({n} findings)"), v);
    if !store.starts_with("postgres") {
        let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let (db, wal) = (size(store), size(&format!("{store}-wal")));
        println!(
            "store size: {:.1} MB (+ {:.1} MB WAL), {:.1} KB per scan",
            db as f64 / 1e6,
            wal as f64 / 1e6,
            db as f64 / 1e3 / scans.max(1) as f64
        );
    }
    Ok(())
}
