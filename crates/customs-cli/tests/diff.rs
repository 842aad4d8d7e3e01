//! `customs diff`: two reports (customs or Trivy JSON) or two images, on the
//! real alpine 3.10 and 3.20.3 images of ../shared/data/images, scanned here
//! with the customs binary and the database built from the real feeds; the
//! Trivy side is Trivy 0.76's own report of the same image
//! (crates/customs-history/tests/fixtures).

mod common;
use common::*;
use predicates::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const OLD_IMAGE: &str = "../shared/data/images/alpine-3.10.tar.gz";
const NEW_IMAGE: &str = "../shared/data/images/alpine-3.20.3.tar.gz";

fn trivy_fixture(name: &str) -> String {
    repo()
        .join("crates/customs-history/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn db() -> String {
    vuln_db().display().to_string()
}

/// A customs JSON report of an image (every package listed).
fn scan(cache: &Path, image: &str, out: &Path) -> serde_json::Value {
    customs(cache)
        .args([
            "-q",
            "image",
            "--input",
            image,
            "--db",
            &db(),
            "--skip-db-update",
        ])
        .args(["--list-all-pkgs", "-f", "json", "-o"])
        .arg(out)
        .assert()
        .success();
    json_of(&std::fs::read(out).unwrap_or_else(|e| panic!("{e}")))
}

fn vuln_keys(report: &serde_json::Value) -> BTreeSet<(String, String)> {
    report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Vulnerabilities"].as_array().cloned().unwrap_or_default())
        .map(|v| {
            (
                v["VulnerabilityID"].as_str().unwrap_or("").to_string(),
                v["PkgName"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn diff_json(cache: &Path, args: &[&str]) -> serde_json::Value {
    let out = customs(cache)
        .arg("diff")
        .args(args)
        .args(["-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json_of(&out)
}

fn names(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|p| p["Name"].as_str().unwrap_or("").to_string())
        .collect()
}

struct Reports {
    _dir: tempfile::TempDir,
    cache: PathBuf,
    old: PathBuf,
    new: PathBuf,
    old_json: serde_json::Value,
    new_json: serde_json::Value,
}

fn reports() -> Reports {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = dir.path().join("cache");
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    let old_json = scan(&cache, OLD_IMAGE, &old);
    let new_json = scan(&cache, NEW_IMAGE, &new);
    Reports {
        _dir: dir,
        cache,
        old,
        new,
        old_json,
        new_json,
    }
}

#[test]
fn two_customs_reports_of_real_images_diff_by_what_they_hold() {
    let r = reports();
    let (o, n) = (r.old.display().to_string(), r.new.display().to_string());
    let d = diff_json(&r.cache, &[&o, &n]);
    let new_keys = vuln_keys(&r.new_json);
    let old_keys = vuln_keys(&r.old_json);
    assert!(
        !new_keys.is_empty(),
        "alpine 3.20.3 has findings in the feeds"
    );
    let listed = |k: &str| -> BTreeSet<(String, String)> {
        d["Vulnerabilities"][k]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| {
                (
                    v["VulnerabilityID"].as_str().unwrap_or("").to_string(),
                    v["PkgName"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let shared: BTreeSet<_> = old_keys.intersection(&new_keys).cloned().collect();
    assert_eq!(listed("New"), &new_keys - &shared);
    assert_eq!(listed("Fixed"), &old_keys - &shared);
    assert_eq!(listed("Unchanged"), shared);
    // The apk databases of the two releases.
    let p = &d["Packages"];
    assert_eq!(p["FromVulnerabilities"], false);
    assert_eq!(
        names(&p["Removed"]),
        [
            "ca-certificates-cacert",
            "libc-utils",
            "libcrypto1.1",
            "libssl1.1",
            "libtls-standalone"
        ]
    );
    assert_eq!(
        names(&p["Added"]),
        [
            "alpine-baselayout-data",
            "busybox-binsh",
            "ca-certificates-bundle",
            "libcrypto3",
            "libssl3"
        ]
    );
    let busybox = p["Upgraded"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["Name"] == "busybox")
        .cloned()
        .unwrap_or_else(|| panic!("busybox upgraded: {p}"));
    assert_eq!(busybox["OldVersions"][0], "1.30.1-r3");
    assert_eq!(busybox["NewVersions"][0], "1.36.1-r29");
    assert_eq!(p["Upgraded"].as_array().map(Vec::len), Some(9));
    // Two unrelated bases: nothing shared.
    assert_eq!(d["Layers"]["Unchanged"].as_array().map(Vec::len), Some(0));
    assert_eq!(d["Old"]["Repository"], "alpine");
    assert!(d.get("Warnings").is_none(), "same repository: {d}");
}

#[test]
fn a_trivy_report_as_the_old_side_matches_customs_on_the_same_image() {
    let r = reports();
    let n = r.new.display().to_string();
    let d = diff_json(&r.cache, &[&trivy_fixture("trivy-alpine-3.20.3.json"), &n]);
    let count = |k: &str| {
        d["Vulnerabilities"][k]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    };
    assert_eq!((count("New"), count("Fixed")), (0, 0), "{d}");
    assert_eq!(count("Unchanged"), vuln_keys(&r.new_json).len());
    assert_eq!(d["Packages"]["Unchanged"], 14);
    assert_eq!(d["Layers"]["Unchanged"].as_array().map(Vec::len), Some(1));
}

#[test]
fn two_images_diff_and_the_gate_fails_on_new_findings_only() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = |old: &str, new: &str, sev: &str| {
        customs(cache.path())
            .args(["-q", "diff", old, new, "--db", &db(), "--skip-db-update"])
            .args(["--exit-code", "7", "--severity", sev])
            .output()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let up = run(OLD_IMAGE, NEW_IMAGE, "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL");
    assert_eq!(
        up.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let text = String::from_utf8_lossy(&up.stdout);
    assert!(text.contains("New vulnerabilities"), "{text}");
    assert!(
        text.contains("Packages: 5 added, 5 removed, 9 upgraded"),
        "{text}"
    );
    // The findings of 3.20.3 are all UNKNOWN in this database: none new at CRITICAL.
    assert_eq!(run(OLD_IMAGE, NEW_IMAGE, "CRITICAL").status.code(), Some(0));
    // Going back fixes them; fixed findings never fail the gate.
    let down = run(NEW_IMAGE, OLD_IMAGE, "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL");
    assert_eq!(down.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&down.stdout).contains(" new, "),
        "summary printed"
    );
}

#[test]
fn the_markdown_of_two_trivy_reports_is_stable() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args([
            "diff",
            &trivy_fixture("trivy-alpine-3.10.json"),
            &trivy_fixture("trivy-alpine-3.20.3.json"),
        ])
        .args(["-f", "markdown"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!("diff_trivy_alpine_markdown", String::from_utf8_lossy(&out));
}

#[test]
fn different_artifacts_warn_and_still_diff() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut other: serde_json::Value = json_of(
        &std::fs::read(trivy_fixture("trivy-alpine-3.20.3.json")).unwrap_or_else(|e| panic!("{e}")),
    );
    other["ArtifactName"] = "registry.example/app:2".into();
    other["Metadata"]["RepoTags"] = serde_json::json!(["registry.example/app:2"]);
    let p = dir.path().join("other.json");
    std::fs::write(&p, other.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let warning =
        "the reports are of different artifacts (alpine and registry.example/app); diffing them anyway";
    // The table carries the warning; other formats leave it to stderr.
    customs(dir.path())
        .args(["diff", &trivy_fixture("trivy-alpine-3.20.3.json")])
        .arg(&p)
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("WARN {warning}")))
        .stdout(predicate::str::contains(
            "Vulnerabilities: 0 new, 0 fixed, 56 unchanged",
        ));
    customs(dir.path())
        .args([
            "diff",
            "-f",
            "json",
            &trivy_fixture("trivy-alpine-3.20.3.json"),
        ])
        .arg(&p)
        .assert()
        .success()
        .stderr(predicate::str::contains(warning))
        .stdout(predicate::str::contains(warning));
}

#[test]
fn a_file_that_is_not_a_report_is_one_line_and_exit_3() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sbom = dir.path().join("sbom.json");
    customs(dir.path())
        .args([
            "-q",
            "image",
            "--input",
            NEW_IMAGE,
            "--scanners",
            "none",
            "-f",
            "cyclonedx",
            "-o",
        ])
        .arg(&sbom)
        .assert()
        .success();
    let good = trivy_fixture("trivy-alpine-3.10.json");
    for (file, problem) in [
        (
            sbom.clone(),
            "not a customs or Trivy JSON report (a CycloneDX document)",
        ),
        (dir.path().join("missing.json"), "No such file or directory"),
    ] {
        let out = customs(dir.path())
            .args(["diff", &good])
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("customs: error: {}: ", file.display())),
            "{err}"
        );
        assert!(err.contains(problem), "{err}");
        assert!(out.stdout.is_empty());
    }
    let text = dir.path().join("notes.json");
    std::fs::write(&text, "hello").unwrap_or_else(|e| panic!("{e}"));
    customs(dir.path())
        .args(["diff"])
        .arg(&text)
        .arg(&good)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "notes.json: not a customs or Trivy JSON report (invalid JSON",
        ));
}
