//! The Dockerfile corpus under tests/dockerfiles: realistic good and bad
//! files for an Elixir release, a static Go binary on Alpine, a Python app
//! on slim Debian, a Node app, a Redis-style image, UBI and SUSE images, and
//! a file with a syntax error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use customs_misconfig::{registry, scan_config_path, to_table, FileResult, ParseError, Scanner};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dockerfiles")
}

/// Results with targets relative to the corpus directory.
fn scan_corpus() -> (Vec<FileResult>, Vec<ParseError>) {
    let root = corpus();
    let mut ok = Vec::new();
    let mut errs = Vec::new();
    for r in scan_config_path(&root) {
        match r {
            Ok(mut r) => {
                r.target = Path::new(&r.target)
                    .strip_prefix(&root)
                    .map(|p| p.display().to_string())
                    .unwrap_or(r.target);
                ok.push(r);
            }
            Err(e) => errs.push(e),
        }
    }
    (ok, errs)
}

#[test]
fn syntax_error_is_reported_with_line_and_others_still_checked() {
    let (ok, errs) = scan_corpus();
    assert_eq!(errs.len(), 1, "{errs:?}");
    let e = &errs[0];
    assert!(
        e.path().ends_with("errors/broken/Dockerfile"),
        "{}",
        e.path()
    );
    assert_eq!(e.line(), Some(4));
    let msg = e.to_string();
    assert!(
        msg.contains(
            "errors/broken/Dockerfile:4:1: Dockerfile syntax error: unknown instruction 'RUNN'"
        ),
        "{msg}"
    );
    assert_eq!(ok.len(), 13);
}

#[test]
fn good_files_pass_every_check() {
    let (ok, _) = scan_corpus();
    let good: Vec<&FileResult> = ok
        .iter()
        .filter(|r| r.target.starts_with("good/"))
        .collect();
    assert_eq!(good.len(), 5);
    let n_checks = registry()
        .iter()
        .filter(|c| c.scanner == Scanner::Dockerfile)
        .count();
    for r in good {
        assert_eq!(r.misconf_summary.failures, 0, "{}", to_table(r));
        // fs mode: the .dockerignore check is evaluated too.
        assert_eq!(
            r.misconf_summary.successes as usize, n_checks,
            "{}",
            r.target
        );
    }
}

#[test]
fn every_dockerfile_check_fails_somewhere_and_passes_somewhere() {
    let (ok, _) = scan_corpus();
    let mut failed = BTreeSet::new();
    let mut passed = BTreeSet::new();
    for r in &ok {
        for m in &r.misconfigurations {
            if m.is_failure() {
                failed.insert(m.id.clone());
            } else {
                passed.insert(m.id.clone());
            }
        }
    }
    for c in registry()
        .iter()
        .filter(|c| c.scanner == Scanner::Dockerfile)
    {
        assert!(failed.contains(c.id), "no failing example for {}", c.id);
        assert!(passed.contains(c.id), "no passing example for {}", c.id);
    }
}

#[test]
fn bad_files_fail_what_they_should() {
    let (ok, _) = scan_corpus();
    let get = |t: &str| {
        ok.iter()
            .find(|r| r.target == t)
            .map(|r| {
                r.failed_ids()
                    .into_iter()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        get("bad/ubi-yum/Dockerfile"),
        [
            "CS-DS-001",
            "CS-DS-006",
            "CS-DS-007",
            "DS-0015",
            "DS-0017",
            "DS-0019",
            "DS-0026",
            "DS-0027"
        ]
    );
    assert_eq!(
        get("bad/redis-style/Dockerfile"),
        [
            "CS-DS-001",
            "CS-DS-003",
            "CS-DS-007",
            "CS-DS-008",
            "DS-0002",
            "DS-0026"
        ]
    );
    let go = get("bad/go-static-alpine/Dockerfile");
    for id in [
        "CS-DS-002",
        "CS-DS-005",
        "CS-DS-011",
        "DS-0005",
        "DS-0007",
        "DS-0008",
        "DS-0013",
        "DS-0014",
        "DS-0025",
        "DS-0032",
    ] {
        assert!(go.iter().any(|g| g == id), "{id} not in {go:?}");
    }
}

#[test]
fn snapshots() {
    let (ok, _) = scan_corpus();
    for r in ok.iter().filter(|r| r.target.starts_with("bad/")) {
        let name = r
            .target
            .trim_start_matches("bad/")
            .trim_end_matches("/Dockerfile")
            .to_string();
        insta::assert_snapshot!(format!("{name}_table"), to_table(r));
        let mut failures = r.clone();
        failures.misconfigurations.retain(|m| m.is_failure());
        insta::assert_json_snapshot!(format!("{name}_json"), failures);
    }
}
