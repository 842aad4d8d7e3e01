//! End-to-end: VEX statements in (`--vex FILE`, several, and `--vex oci`
//! from a real registry) and out (`customs vex generate`), on real findings:
//! actionview 5.2.2 of a Gemfile.lock (RubySec) and the real alpine 3.20.3
//! image (Alpine secdb), with the database built from the real feeds.

mod common;
use common::*;
use customs_testkit::artifact::{self, Artifact};
use customs_testkit::registry::Registry;
use std::path::Path;

const RAILS: &str = "crates/customs-cli/tests/fixtures/rails-app";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
    p.display().to_string()
}

fn vulns(out: &[u8]) -> Vec<serde_json::Value> {
    json_of(out)["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Vulnerabilities"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn modified(out: &[u8]) -> Vec<serde_json::Value> {
    json_of(out)["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| {
            r["ModifiedFindings"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

fn has(v: &[serde_json::Value], id: &str, pkg: &str) -> bool {
    v.iter()
        .any(|v| v["VulnerabilityID"] == id && v["PkgName"] == pkg)
}

const OPENVEX: &str = r#"{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/rails-app-1",
  "author": "Platform Security",
  "timestamp": "2026-11-01T10:00:00Z",
  "version": 1,
  "statements": [
    {
      "vulnerability": {"name": "CVE-2019-5418"},
      "products": [{"@id": "pkg:gem/actionview@5.2.2"}],
      "status": "not_affected",
      "justification": "vulnerable_code_not_in_execute_path",
      "impact_statement": "render file: is never called with user input"
    },
    {
      "vulnerability": {"name": "CVE-2019-5419"},
      "products": [{"@id": "pkg:gem/actionview"}],
      "status": "under_investigation"
    },
    {
      "vulnerability": {"name": "CVE-2019-5418"},
      "products": [{"@id": "pkg:npm/left-pad@1.3.0"}],
      "status": "not_affected",
      "justification": "component_not_present"
    }
  ]
}"#;

#[test]
fn openvex_suppresses_annotates_and_ignores_other_products() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vex = write(cache.path(), "app.openvex.json", OPENVEX);
    let run = |extra: &[&str]| {
        customs(cache.path())
            .args(["fs", RAILS, "--scanners", "vuln", "-f", "json", "--db"])
            .arg(vuln_db())
            .args(["--vex", &vex])
            .args(extra)
            .assert()
    };
    let out = run(&["--show-suppressed"])
        .success()
        .get_output()
        .stdout
        .clone();
    let v = vulns(&out);
    assert!(!has(&v, "CVE-2019-5418", "actionview"), "suppressed");
    let ann = v
        .iter()
        .find(|v| v["VulnerabilityID"] == "CVE-2019-5419")
        .unwrap_or_else(|| panic!("CVE-2019-5419 kept"));
    assert_eq!(ann["VEX"]["Status"], "under_investigation");
    assert!(ann["VEX"]["Source"]
        .as_str()
        .unwrap_or("")
        .ends_with("app.openvex.json"));
    let m = modified(&out);
    let s = m
        .iter()
        .find(|m| m["Finding"]["VulnerabilityID"] == "CVE-2019-5418")
        .unwrap_or_else(|| panic!("listed under ModifiedFindings: {m:?}"));
    assert_eq!(s["Status"], "not_affected");
    assert!(
        s["Statement"]
            .as_str()
            .unwrap_or("")
            .contains("vulnerable_code_not_in_execute_path"),
        "{s}"
    );
    // The KEV gate: the only known-exploited finding is not_affected.
    run(&["--kev", "--exit-code", "1"]).success();
    customs(cache.path())
        .args([
            "fs",
            RAILS,
            "--scanners",
            "vuln",
            "--kev",
            "--exit-code",
            "1",
            "--db",
        ])
        .arg(vuln_db())
        .assert()
        .code(1);
}

#[test]
fn several_files_merge_and_the_latest_statement_wins() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let old = write(cache.path(), "old.json", OPENVEX);
    // A later CycloneDX VEX says CVE-2019-5418 is exploitable after all.
    let newer = write(
        cache.path(),
        "new.cdx.json",
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,
            "metadata":{"timestamp":"2026-11-20T00:00:00Z"},
            "vulnerabilities":[{"id":"CVE-2019-5418",
              "analysis":{"state":"exploitable","detail":"reachable from /files"},
              "affects":[{"ref":"pkg:gem/actionview@5.2.2"}]}]}"#,
    );
    for order in [[&old, &newer], [&newer, &old]] {
        let out = customs(cache.path())
            .args(["fs", RAILS, "--scanners", "vuln", "-f", "json", "--db"])
            .arg(vuln_db())
            .args(["--vex", order[0], "--vex", order[1]])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let v = vulns(&out);
        let f = v
            .iter()
            .find(|v| v["VulnerabilityID"] == "CVE-2019-5418")
            .unwrap_or_else(|| panic!("the newer affected statement keeps it"));
        assert_eq!(f["VEX"]["Status"], "affected");
    }
}

#[test]
fn bad_vex_input_is_one_line_and_exit_3() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bad = write(
        cache.path(),
        "broken.json",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": ["#,
    );
    let csaf = write(
        cache.path(),
        "advisory.json",
        r#"{"document":{"category":"csaf_security_advisory","csaf_version":"2.0","title":"x","publisher":{"category":"vendor","name":"x","namespace":"https://x"},"tracking":{"id":"x","status":"final","version":"1","initial_release_date":"2024-01-01T00:00:00Z","current_release_date":"2024-01-01T00:00:00Z","revision_history":[]}}}"#,
    );
    let unknown = write(cache.path(), "sbom.json", r#"{"spdxVersion": "SPDX-2.3"}"#);
    for (f, what) in [
        (&bad, "broken.json"),
        (&csaf, "advisory.json"),
        (&unknown, "sbom.json"),
    ] {
        let a = customs(cache.path())
            .args(["fs", RAILS, "--scanners", "vuln", "--db"])
            .arg(vuln_db())
            .args(["--vex", f])
            .assert()
            .code(3);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(what), "{err}");
        assert!(a.get_output().stdout.is_empty());
    }
    let a = customs(cache.path())
        .args(["fs", RAILS, "--vex", "oci"])
        .assert()
        .code(3);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("--vex oci applies to images"), "{err}");
}

#[test]
fn vex_generate_from_an_ignore_file_round_trips() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ignore = write(
        cache.path(),
        ".customsignore.yaml",
        "vulnerabilities:\n  - id: CVE-2019-5418\n    purls:\n      - pkg:gem/actionview@5.2.2\n    statement: render file is never given user input\n  - id: CVE-2020-8165\n    purls:\n      - pkg:gem/activesupport@5.2.2\n    expired_at: 2020-01-01\n",
    );
    let out = cache.path().join("app.openvex.json");
    customs(cache.path())
        .args([
            "vex",
            "generate",
            "--from",
            &ignore,
            "--author",
            "Platform Security",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["@context"], "https://openvex.dev/ns/v0.2.0");
    assert_eq!(doc["author"], "Platform Security");
    let st = doc["statements"].as_array().cloned().unwrap_or_default();
    assert_eq!(st.len(), 1, "the expired rule is left out: {doc}");
    assert_eq!(st[0]["status"], "not_affected");
    // Applying the generated document suppresses what the ignore file did.
    let o = customs(cache.path())
        .args(["fs", RAILS, "--scanners", "vuln", "-f", "json", "--db"])
        .arg(vuln_db())
        .arg("--vex")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = vulns(&o);
    assert!(!has(&v, "CVE-2019-5418", "actionview"));
    assert!(has(&v, "CVE-2020-8165", "activesupport"));
    customs(cache.path())
        .args(["vex", "generate"])
        .assert()
        .code(2);
}

#[test]
fn vex_attached_to_the_image_in_a_real_registry() {
    let reg = Registry::plain();
    let image = repo().join(shared("images/alpine-3.20.3.tar.gz"));
    let subject = reg.push(
        &format!("docker-archive:{}", image.display()),
        "library/alpine:3.20.3",
    );
    let name = format!("{}/library/alpine:3.20.3", reg.host());
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let scan = |extra: &[&str]| {
        customs(cache.path())
            .args(["image", &name, "--image-src", "remote", "--insecure"])
            .args(["--scanners", "vuln", "-f", "json", "--db"])
            .arg(vuln_db())
            .args(extra)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let before = vulns(&scan(&[]));
    assert!(has(&before, "CVE-2024-58251", "busybox"));
    assert!(has(&before, "CVE-2024-58251", "busybox-binsh"));
    // Nothing attached yet: --vex oci finds no document and changes nothing.
    assert_eq!(vulns(&scan(&["--vex", "oci"])).len(), before.len());
    let doc = br#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/alpine-1","author":"Platform Security","timestamp":"2026-11-01T00:00:00Z","version":1,"statements":[{"vulnerability":{"name":"CVE-2024-58251"},"products":[{"@id":"pkg:apk/alpine/busybox"}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}"#;
    artifact::attach(&reg, "library/alpine", &subject, &Artifact::openvex(doc));
    let out = scan(&["--vex", "oci", "--show-suppressed"]);
    let after = vulns(&out);
    assert!(!has(&after, "CVE-2024-58251", "busybox"));
    assert!(
        has(&after, "CVE-2024-58251", "busybox-binsh"),
        "another package"
    );
    assert_eq!(after.len(), before.len() - 1);
    let m = modified(&out);
    assert!(
        m.iter().any(|m| m["Source"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("oci:{}", reg.host()))),
        "{m:?}"
    );
}
