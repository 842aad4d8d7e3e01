//! Build over the real feeds in ../shared/data/advisories and check the
//! per-source counts against counts taken independently from the files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use customs_model::Status;
use customs_vulndb::{build, BuildOptions, NoProgress, VulnDb};

fn data() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/advisories"
    ))
}

fn files(dir: &Path, pred: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if pred(&p) {
                out.push(p);
            }
        }
    }
    out
}

fn ends(p: &Path, s: &str) -> bool {
    p.to_string_lossy().ends_with(s)
}

fn count_lines(files: &[PathBuf], pred: &dyn Fn(&str) -> bool) -> u64 {
    files
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .filter(|l| pred(l))
                .count() as u64
        })
        .sum()
}

fn count_files_with(files: &[PathBuf], pred: &dyn Fn(&str) -> bool) -> u64 {
    files
        .iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().lines().any(pred))
        .count() as u64
}

#[test]
fn build_real_feeds_counts_match_files() {
    let root = data();
    if !root.is_dir() {
        panic!("shared data missing at {}", root.display());
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("customs.db");
    let t = Instant::now();
    let report = build(&BuildOptions::new(&root, &out), &NoProgress).unwrap();
    eprintln!(
        "build: {:?} ({} advisories, {} vulnerabilities, {} bytes)",
        t.elapsed(),
        report.advisories,
        report.vulnerabilities,
        report.file_size
    );
    for s in &report.sources {
        eprintln!("{s:?}");
    }
    assert!(
        report.skipped.is_empty(),
        "real feeds should parse cleanly: {:?}",
        report.skipped.iter().take(5).collect::<Vec<_>>()
    );

    // Alpine: one record per `- pkg:` entry of the YAML files, and per
    // `packages[]` member of the JSON ones (v3.20 is in secdb's JSON form).
    let alpine = files(&root.join("alpine-secdb"), &|p| ends(p, ".yaml"));
    let alpine_json = files(&root.join("alpine-secdb"), &|p| ends(p, ".json"));
    let json_records: u64 = alpine_json
        .iter()
        .map(|p| {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            v["packages"].as_array().map_or(0, |a| a.len() as u64)
        })
        .sum();
    let s = report.source("alpine-secdb").unwrap();
    assert_eq!(s.files, (alpine.len() + alpine_json.len()) as u64);
    assert_eq!(
        (s.files, s.records),
        (17, 1397),
        "the snapshot in ../shared"
    );
    assert_eq!(
        s.records,
        count_lines(&alpine, &|l| l.trim() == "- pkg:") + json_records
    );

    // Debian lists: one record per advisory header line.
    for (id, name) in [("debian-dsa", "DSA-list"), ("debian-dla", "DLA-list")] {
        let f = vec![root.join("debian-security-tracker").join(name)];
        let s = report.source(id).unwrap();
        assert_eq!(s.records, count_lines(&f, &|l| l.starts_with('[')), "{id}");
        assert!(s.advisories > 1000, "{id}: {s:?}");
    }

    // OSV: one record per file; withdrawn ones counted and dropped.
    let pypa = files(&root.join("pypa/vulns"), &|p| ends(p, ".yaml"));
    let s = report.source("pypa").unwrap();
    assert_eq!(s.records, pypa.len() as u64);
    assert_eq!(
        s.withdrawn,
        count_files_with(&pypa, &|l| l.starts_with("withdrawn:"))
    );
    let go = files(&root.join("go-vulndb/data/osv"), &|p| ends(p, ".json"));
    let s = report.source("go-vulndb").unwrap();
    assert_eq!(s.records, go.len() as u64);
    assert_eq!(
        s.withdrawn,
        count_files_with(&go, &|l| l.trim_start().starts_with("\"withdrawn\""))
    );

    // KEV: one record per catalog entry, every one a row (the catalog's
    // own count agrees, or the build would have reported it).
    let kev: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("kev/known_exploited_vulnerabilities.json")).unwrap(),
    )
    .unwrap();
    let n = kev["vulnerabilities"].as_array().unwrap().len() as u64;
    let s = report.source("cisa-kev").unwrap();
    assert_eq!((s.files, s.records, s.vulnerabilities), (1, n, n));
    assert_eq!(n, 1404, "the snapshot in ../shared");

    let rust = files(&root.join("rustsec/crates"), &|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("RUSTSEC-"))
    });
    let s = report.source("rustsec").unwrap();
    assert_eq!(s.records, rust.len() as u64);
    assert_eq!(
        s.withdrawn,
        count_files_with(&rust, &|l| l.starts_with("withdrawn"))
    );

    let ruby = files(&root.join("rubysec/gems"), &|p| ends(p, ".yml"));
    let s = report.source("rubysec").unwrap();
    assert_eq!(s.records, ruby.len() as u64);
    assert_eq!(s.advisories, ruby.len() as u64);

    // The database answers like the feeds say.
    let db = VulnDb::open(&out).unwrap();
    let meta = db.metadata().unwrap();
    assert_eq!(meta.schema_version, customs_vulndb::SCHEMA_VERSION);
    assert_eq!(meta.sources, report.sources);

    // alpine v3.10 main: musl 1.1.22-r3 fixed CVE-2019-14697.
    let musl = db.advisories("alpine:3.10", "musl").unwrap();
    let a = musl
        .iter()
        .find(|a| a.vulnerability_id == "CVE-2019-14697")
        .unwrap();
    assert_eq!(a.status, Status::Fixed);
    assert_eq!(a.fixed_versions(), vec!["1.1.22-r3"]);

    // DSA-5380-1: xorg-server CVE-2023-1393 fixed in bullseye.
    let x = db.advisories("debian:11", "xorg-server").unwrap();
    assert!(x.iter().any(|a| a.vulnerability_id == "CVE-2023-1393"
        && a.source == "debian-dsa"
        && a.fixed_versions() == vec!["2:1.20.11-1+deb11u6"]));

    // PyPI names are normalized on both sides.
    let z = db.advisories("PyPI", "ZSTD").unwrap();
    assert!(z.iter().any(|a| a.source_id == "PYSEC-2023-121"));
    let v = db.vulnerability("PYSEC-2023-121").unwrap().unwrap();
    assert_eq!(v.id, "CVE-2022-4899");

    // Go stdlib is a normal package.
    assert!(!db.advisories("Go", "stdlib").unwrap().is_empty());
    // RustSec informational advisories keep their kind.
    let badge = db.advisories("crates.io", "badge").unwrap();
    assert_eq!(badge[0].informational.as_deref(), Some("unmaintained"));
    // RubySec patched versions.
    let r = db.advisories("RubyGems", "resque").unwrap();
    assert!(r
        .iter()
        .any(|a| a.vulnerability_id == "CVE-2023-50725" && a.affected.patched == vec![">= 2.2.1"]));

    // 1,000 lookups of distinct packages taken from the table: each must
    // find its advisories again (names normalized the same way on insert
    // and on lookup). The timed benchmark is `examples/build_db.rs`
    // (release build); debug timings are only printed.
    let pairs = db.sample_packages(1000).unwrap();
    assert_eq!(pairs.len(), 1000);
    let t = Instant::now();
    let mut n = 0;
    for (e, p) in &pairs {
        let found = db.advisories(e, p).unwrap();
        assert!(!found.is_empty(), "{e} {p}");
        n += found.len();
    }
    eprintln!(
        "1000 lookups (debug build): {:?} ({n} advisories)",
        t.elapsed()
    );
    assert!(db.advisories("PyPI", "no-such-package").unwrap().is_empty());
}

#[test]
fn strict_fails_on_a_malformed_record() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds");
    std::fs::create_dir_all(feeds.join("rubysec/gems/x")).unwrap();
    std::fs::write(
        feeds.join("rubysec/gems/x/CVE-1.yml"),
        "gem: x\ncve: 2020-1\n",
    )
    .unwrap();
    std::fs::write(feeds.join("rubysec/gems/x/bad.yml"), "gem: [unclosed\n").unwrap();
    let out = dir.path().join("db");
    let r = build(&BuildOptions::new(&feeds, &out), &NoProgress).unwrap();
    assert_eq!(r.skipped.len(), 1);
    assert!(r.skipped[0].file.contains("bad.yml"));
    assert_eq!(r.source("rubysec").unwrap().records, 2);
    let mut o = BuildOptions::new(&feeds, dir.path().join("db2"));
    o.strict = true;
    let e = build(&o, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("bad.yml"), "{e}");
    assert!(!dir.path().join("db2").exists());
}

#[test]
fn not_a_customs_db_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.db");
    std::fs::write(&p, b"hello, not sqlite at all").unwrap();
    let e = VulnDb::open(&p).err().unwrap();
    assert!(
        e.to_string()
            .contains("not a customs vulnerability database"),
        "{e}"
    );
    let e = VulnDb::open(&dir.path().join("missing.db")).err().unwrap();
    assert!(e.to_string().contains("customs db update"), "{e}");
}
