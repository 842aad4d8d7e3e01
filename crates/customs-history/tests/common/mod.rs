//! Reports built for the tests, and the store checks shared by the SQLite
//! and PostgreSQL tests (the same behaviour is expected of both).

#![allow(dead_code)]

use customs_history::{Filter, NewScan, Prune, Store};
use customs_report::Report;
use serde_json::json;

pub fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A report of `reference` with these (id, package, version, severity)
/// vulnerabilities and one secret per `secrets` entry (rule id).
pub fn report(reference: &str, vulns: &[(&str, &str, &str, &str)], secrets: &[&str]) -> Report {
    let vs: Vec<serde_json::Value> = vulns
        .iter()
        .map(|(id, pkg, ver, sev)| {
            json!({"VulnerabilityID": id, "PkgName": pkg, "InstalledVersion": ver,
                   "FixedVersion": "99", "Status": "fixed", "Severity": sev})
        })
        .collect();
    let ss: Vec<serde_json::Value> = secrets
        .iter()
        .map(|rule| {
            json!({"RuleID": rule, "Category": "c", "Severity": "HIGH", "Title": "t",
                   "StartLine": 1, "EndLine": 1, "Match": "key=****"})
        })
        .collect();
    let mut results = vec![
        json!({"Target": format!("{reference} (alpine 3.20.3)"), "Class": "os-pkgs",
                                  "Type": "alpine", "Vulnerabilities": vs}),
    ];
    if !ss.is_empty() {
        results.push(json!({"Target": "/app/.env", "Class": "secret", "Secrets": ss}));
    }
    let v = json!({
        "SchemaVersion": 2, "CreatedAt": "2026-01-02T03:04:05Z",
        "ArtifactName": reference, "ArtifactType": "container_image",
        "Metadata": {"ImageID": format!("sha256:{:0>64}", reference.len()),
                     "DiffIDs": ["sha256:aa", "sha256:bb"]},
        "Results": results,
    });
    must(customs_history::parse_report(
        v.to_string().as_bytes(),
        reference,
    ))
    .report
}

pub fn at(report: Report, ms: i64) -> NewScan {
    let mut s = NewScan::new(report, "customs 0.1.0", "v2 2026-01-01");
    s.scanned_at_ms = Some(ms);
    s
}

const DAY: i64 = 86_400_000;

/// Record, list, show, trend, last two, prune: what a store must do.
pub fn exercise(spec: &str) {
    let mut st = must(Store::open(spec));
    let base = customs_history::store::now_ms() - 10 * DAY;
    let a1 = report(
        "app:1.4",
        &[
            ("CVE-1", "busybox", "1.0", "CRITICAL"),
            ("CVE-2", "zlib", "1.2", "LOW"),
        ],
        &[],
    );
    let a2 = report(
        "app:1.5",
        &[("CVE-2", "zlib", "1.3", "LOW")],
        &["aws-access-key-id"],
    );
    let b1 = report("other:1", &[("CVE-9", "musl", "1", "HIGH")], &[]);
    let id1 = must(st.record(&at(a1.clone(), base)));
    let id2 = must(st.record(&at(b1, base + DAY)));
    let id3 = must(st.record(&at(a2.clone(), base + 2 * DAY)));
    assert!(id1 < id2 && id2 < id3, "{id1} {id2} {id3}");

    let all = must(st.list(&Filter::All, 0));
    assert_eq!(
        all.iter().map(|s| s.id).collect::<Vec<_>>(),
        [id3, id2, id1],
        "newest first"
    );
    let app = must(st.list(&Filter::parse("app"), 0));
    assert_eq!(
        app.iter()
            .map(|s| s.artifact_ref.as_str())
            .collect::<Vec<_>>(),
        ["app:1.5", "app:1.4"]
    );
    assert_eq!(must(st.list(&Filter::parse("app:1.4"), 0)).len(), 1);
    assert_eq!(must(st.list(&Filter::All, 2)).len(), 2, "limit");
    assert!(must(st.list(&Filter::parse("nothing"), 0)).is_empty());

    let s1 = &app[1];
    assert_eq!(s1.repository, "app");
    assert_eq!(s1.scanner, "customs 0.1.0");
    assert_eq!(s1.db_version, "v2 2026-01-01");
    assert_eq!(s1.digest, format!("sha256:{:0>64}", 7));
    assert_eq!(s1.counts.vulnerabilities.critical, 1);
    assert_eq!(s1.counts.vulnerabilities.low, 1);
    assert_eq!(s1.counts.vulnerabilities.total(), 2);
    assert_eq!(app[0].counts.secrets.high, 1);

    let (scan, rep) = must(st.show(id1)).unwrap_or_else(|| panic!("scan {id1} not found"));
    assert_eq!(scan.id, id1);
    assert_eq!(
        must(serde_json::to_value(&rep)),
        must(serde_json::to_value(&a1)),
        "report kept whole"
    );
    assert!(must(st.show(id3 + 1000)).is_none());

    let trend = must(st.trend(&Filter::parse("app")));
    assert_eq!(
        trend.iter().map(|p| p.id).collect::<Vec<_>>(),
        [id1, id3],
        "oldest first"
    );
    assert_eq!(trend[0].counts.vulnerabilities.critical, 1);
    assert_eq!(trend[1].counts.vulnerabilities.critical, 0);

    let ((old, ro), (new, rn)) =
        must(st.last_two(&Filter::parse("app"))).unwrap_or_else(|| panic!("two scans"));
    assert_eq!((old.id, new.id), (id1, id3));
    let d = customs_history::diff(&ro, &rn);
    assert_eq!(d.vulnerabilities.fixed.len(), 1);
    assert_eq!(d.vulnerabilities.unchanged.len(), 1);
    assert_eq!(d.secrets.new.len(), 1);
    assert!(
        must(st.last_two(&Filter::parse("other"))).is_none(),
        "one scan is not two"
    );

    // prune: the newest of each reference stays with --keep 1.
    for i in 0..3 {
        must(st.record(&at(a1.clone(), base + (3 + i) * DAY)));
    }
    assert_eq!(must(st.list(&Filter::parse("app:1.4"), 0)).len(), 4);
    assert_eq!(must(st.prune(Prune::Keep(1), &Filter::All)), 3);
    let left = must(st.list(&Filter::All, 0));
    assert_eq!(left.len(), 3, "one of each reference");
    assert!(
        left.iter()
            .any(|s| s.artifact_ref == "app:1.4" && s.scanned_at_ms == base + 5 * DAY),
        "the newest kept"
    );
    // older than 7.5 days: other:1 (base+1d) and app:1.5 (base+2d) go.
    let removed = must(st.prune(
        Prune::OlderThan(std::time::Duration::from_millis((7 * DAY + DAY / 2) as u64)),
        &Filter::All,
    ));
    assert_eq!(removed, 2);
    let left = must(st.list(&Filter::All, 0));
    assert_eq!(left.len(), 1);
    assert!(
        must(st.show(id3)).is_none(),
        "a pruned scan's report is gone too"
    );
    assert_eq!(
        must(st.schema_version()),
        customs_history::store::schema::latest()
    );

    // Reopening applies no migration again and sees the same scans.
    drop(st);
    let mut again = must(Store::open(spec));
    assert_eq!(must(again.list(&Filter::All, 0)).len(), 1);
}

/// Threads writing at once, each with its own connection.
pub fn concurrent_writers(spec: &str, threads: usize, each: usize) {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let spec = spec.to_string();
            std::thread::spawn(move || {
                let mut st = must(Store::open(&spec));
                let mut ids = Vec::new();
                for i in 0..each {
                    let r = report(&format!("img{t}:{i}"), &[("CVE-1", "p", "1", "HIGH")], &[]);
                    ids.push(must(st.record(&at(r, 1_000_000 + i as i64))));
                }
                ids
            })
        })
        .collect();
    let mut ids: Vec<i64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_else(|_| panic!("a writer panicked")))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), threads * each, "every write got its own ID");
    let mut st = must(Store::open(spec));
    assert_eq!(must(st.list(&Filter::All, 0)).len(), threads * each);
    for t in 0..threads {
        assert_eq!(
            must(st.trend(&Filter::parse(&format!("img{t}")))).len(),
            each
        );
    }
}
