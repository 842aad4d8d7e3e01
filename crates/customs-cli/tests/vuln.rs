//! End-to-end: the vulnerability database built from the real feeds in
//! ../shared/data/advisories, vulnerability scans of real images and of
//! rootfs fixtures carrying older real package versions, and every policy
//! flag of the CI gate.
//!
//! The expected findings were derived by hand from the feeds (see
//! crates/customs-detect/tests/detect_real.rs for the derivation of each) and
//! were checked against Trivy 0.76 run on the same inputs with a Trivy
//! database built from the same feeds: identical (package, vulnerability,
//! installed, fixed, status) sets on the alpine fixture (12), the bullseye
//! fixture (13) and the application directory (210).

mod common;
use common::*;
use predicates::prelude::*;
use std::path::Path;

const ALPINE_OLD: &str = "crates/customs-detect/tests/fixtures/alpine-3.10-old";

fn db_arg() -> String {
    vuln_db().display().to_string()
}

fn scan_json(cache: &Path, args: &[&str]) -> serde_json::Value {
    let out = customs(cache)
        .args(args)
        .args(["--db", &db_arg(), "-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json_of(&out)
}

#[test]
fn db_build_reports_every_feed_and_info_describes_it() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = cache.path().join("x.db");
    let o = customs(cache.path())
        .args(["db", "build", "--from", &shared("advisories"), "--output"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&o);
    // Per-source record counts of the feed snapshot in ../shared.
    for (source, records) in [
        ("alpine-secdb", 1397),
        ("debian-dsa", 5406),
        ("debian-dla", 3534),
        ("go-vulndb", 4291),
        ("pypa", 2661),
        ("rubysec", 1234),
        ("rustsec", 1205),
        ("cisa-kev", 1404),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(source))
            .unwrap_or_else(|| panic!("no {source} line in:\n{text}"));
        let n: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(n.get(2), Some(&records.to_string().as_str()), "{line}");
    }
    customs(cache.path())
        .args(["db", "--db"])
        .arg(&out)
        .arg("info")
        .assert()
        .success()
        .stdout(predicate::str::contains("Schema version: 2"))
        .stdout(predicate::str::contains("alpine-secdb"))
        .stdout(predicate::str::contains("Next update:"));
    customs(cache.path())
        .args(["version", "--db"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("Version: "))
        .stdout(predicate::str::contains("Vulnerability DB:"));
}

#[test]
fn db_build_from_a_missing_or_empty_dir_fails_and_keeps_the_old_file() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = cache.path().join("keep.db");
    std::fs::write(&out, b"old").unwrap_or_else(|e| panic!("{e}"));
    customs(cache.path())
        .args(["db", "build", "--from", "/nonexistent/feeds", "--output"])
        .arg(&out)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("/nonexistent/feeds"));
    let empty = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    customs(cache.path())
        .args(["db", "build", "--from"])
        .arg(empty.path())
        .arg("--output")
        .arg(&out)
        .assert()
        .code(3);
    assert_eq!(std::fs::read(&out).unwrap_or_default(), b"old");
}

#[test]
fn alpine_310_image_has_no_findings_like_trivy() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // alpine 3.10.4 is newer than every fix in the secdb snapshot: zero
    // findings (Trivy says the same), so --exit-code 1 still exits 0.
    let out = customs(cache.path())
        .args(["image", "--input", &shared("images/alpine-3.10.tar.gz")])
        .args(["--scanners", "vuln", "--db", &db_arg(), "--exit-code", "1"])
        .assert()
        .success()
        .stderr(predicate::str::contains("end of life"))
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!(String::from_utf8_lossy(&out));
}

#[test]
fn alpine_rootfs_with_older_versions_json() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let r = scan_json(cache.path(), &["rootfs", ALPINE_OLD, "--scanners", "vuln"]);
    assert_eq!(r["Metadata"]["OS"]["Family"], "alpine");
    assert_eq!(r["Metadata"]["OS"]["EOSL"], true);
    let f = findings(&r);
    // musl + musl-utils (origin musl): CVE-2019-14697; busybox + ssl_client
    // (origin busybox): 2; libcrypto1.1 + libssl1.1 (origin openssl): 3.
    assert_eq!(f.len(), 12, "{f:#?}");
    assert!(f
        .iter()
        .any(|l| l.contains(" ssl_client CVE-2018-20679 1.27.2-r4 1.29.3-r10 fixed")));
    assert!(f
        .iter()
        .any(|l| l.contains(" musl-utils CVE-2019-14697 1.1.15-r4 1.1.22-r3 fixed")));
    // CVE-2016-8859 was fixed in 1.1.15-r4, the installed version: not reported.
    assert!(!f.iter().any(|l| l.contains("CVE-2016-8859")));
    // Trivy's field names on one finding.
    let v = r["Results"][0]["Vulnerabilities"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|v| v["PkgName"] == "libssl1.1" && v["VulnerabilityID"] == "CVE-2019-1547")
        })
        .cloned()
        .unwrap_or_else(|| panic!("missing libssl1.1 CVE-2019-1547"));
    assert_eq!(v["PkgID"], "libssl1.1@1.1.1b-r1");
    assert_eq!(v["Status"], "fixed");
    assert_eq!(v["Severity"], "UNKNOWN");
    assert_eq!(v["DataSource"]["ID"], "alpine-secdb");
    assert_eq!(
        v["PrimaryURL"],
        "https://nvd.nist.gov/vuln/detail/CVE-2019-1547"
    );
    assert!(v["PkgIdentifier"]["PURL"]
        .as_str()
        .unwrap_or("")
        .starts_with("pkg:apk/alpine/libssl1.1@1.1.1b-r1"));
    insta::assert_snapshot!(f.join("\n"));
}

#[test]
fn alpine_rootfs_table() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args([
            "rootfs",
            ALPINE_OLD,
            "--scanners",
            "vuln",
            "--db",
            &db_arg(),
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("Total: 12 (UNKNOWN: 12"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn debian_bullseye_rootfs_against_dsa_and_dla_lists() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = debian_rootfs("11.6", "bullseye-status");
    let r = scan_json(
        cache.path(),
        &[
            "rootfs",
            root.path().to_str().unwrap_or(""),
            "--scanners",
            "vuln",
        ],
    );
    assert_eq!(r["Metadata"]["OS"]["Family"], "debian");
    assert_eq!(r["Metadata"]["OS"]["Name"], "11.6");
    let f: Vec<String> = findings(&r)
        .into_iter()
        .map(|l| l.split_once(") ").map(|x| x.1.to_string()).unwrap_or(l))
        .collect();
    // DSA-5343-1 (openssl, bullseye 1.1.1n-0+deb11u4) lists CVE-2022-2097,
    // CVE-2022-4304, CVE-2022-4450, CVE-2023-0215, CVE-2023-0286: installed
    // 1.1.1n-0+deb11u3 is older. Source openssl, binary libssl1.1.
    for id in ["CVE-2022-2097", "CVE-2022-4304", "CVE-2022-4450"] {
        assert!(
            f.contains(&format!(
                "libssl1.1 {id} 1.1.1n-0+deb11u3 1.1.1n-0+deb11u4 fixed"
            )),
            "{id}: {f:#?}"
        );
    }
    assert_eq!(f.len(), 13, "{f:#?}");
    insta::assert_snapshot!(f.join("\n"));
}

#[test]
fn debian_images_built_from_current_packages_are_clean() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for name in ["bookworm", "bullseye"] {
        let image = debian_image(name);
        let r = scan_json(
            cache.path(),
            &["image", "--input", &image, "--scanners", "vuln"],
        );
        // Built today from the archive: newer than every DSA/DLA fix.
        assert!(findings(&r).is_empty(), "{name}: {:#?}", findings(&r));
        assert_eq!(r["Results"][0]["Class"], "os-pkgs");
        assert_eq!(r["Results"][0]["Type"], "debian");
    }
}

#[test]
fn language_packages_of_the_app_image() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let image = debian_image("app");
    let r = scan_json(
        cache.path(),
        &["image", "--input", &image, "--scanners", "vuln"],
    );
    let f = findings(&r);
    let per_target = |t: &str| f.iter().filter(|l| l.starts_with(t)).count();
    // Same 210 findings as Trivy on the same artifacts.
    assert_eq!(f.len(), 210, "{f:#?}");
    // Installed PyPI packages are aggregated under one "Python" target, and
    // Node.js packages under "Node.js", as Trivy does for images.
    assert_eq!(per_target("Python "), 8, "{f:#?}");
    assert!(per_target("usr/local/bin/mkcert ") > 0, "{f:#?}");
    // Go: the toolchain version as `stdlib`, from the binaries' build info.
    assert!(f.iter().any(|l| l.contains(" stdlib ")), "{f:#?}");
    // Findings name the layer that brought the files: the last one.
    let last = r["Metadata"]["DiffIDs"]
        .as_array()
        .and_then(|a| a.last())
        .cloned()
        .unwrap_or_default();
    for res in r["Results"].as_array().into_iter().flatten() {
        if res["Class"] == "lang-pkgs" {
            for v in res["Vulnerabilities"].as_array().into_iter().flatten() {
                assert_eq!(v["Layer"]["DiffID"], last, "{v}");
            }
        }
    }
    let summary: Vec<String> = r["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|res| {
            format!(
                "{} [{} {}] {}",
                res["Target"].as_str().unwrap_or(""),
                res["Class"].as_str().unwrap_or(""),
                res["Type"].as_str().unwrap_or(""),
                res["Vulnerabilities"].as_array().map_or(0, |a| a.len())
            )
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"));
}

// ---- the CI gate -------------------------------------------------------

fn gate(cache: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    customs(cache)
        .args([
            "rootfs",
            ALPINE_OLD,
            "--scanners",
            "vuln",
            "--db",
            &db_arg(),
            "-f",
            "json",
        ])
        .args(extra)
        .assert()
}

fn count(a: &assert_cmd::assert::Assert) -> usize {
    findings(&json_of(&a.get_output().stdout)).len()
}

#[test]
fn exit_code_when_findings_remain() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    gate(cache.path(), &["--exit-code", "1"]).code(1);
    gate(cache.path(), &["--exit-code", "7"]).code(7);
    gate(cache.path(), &[]).code(0);
    // Nothing of these severities: exit 0 despite --exit-code.
    let a = gate(
        cache.path(),
        &["--exit-code", "1", "--severity", "HIGH,CRITICAL"],
    )
    .code(0);
    assert_eq!(count(&a), 0);
    let a = gate(cache.path(), &["--severity", "UNKNOWN"]).code(0);
    assert_eq!(count(&a), 12);
}

#[test]
fn exit_on_eol() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // alpine 3.10 is past its end of life: --exit-on-eol wins over --exit-code.
    gate(cache.path(), &["--exit-on-eol", "4", "--exit-code", "1"]).code(4);
    customs(cache.path())
        .args(["image", "--input", &shared("images/alpine-3.10.tar.gz")])
        .args([
            "--scanners",
            "vuln",
            "--db",
            &db_arg(),
            "--exit-on-eol",
            "5",
        ])
        .assert()
        .code(5);
    // bookworm is supported.
    let image = debian_image("bookworm");
    customs(cache.path())
        .args([
            "image",
            "--input",
            &image,
            "--scanners",
            "vuln",
            "--db",
            &db_arg(),
        ])
        .args(["--exit-on-eol", "5"])
        .assert()
        .code(0);
}

#[test]
fn ignore_unfixed_and_ignore_status() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = debian_rootfs("11.6", "bullseye-status");
    let p = root.path().to_str().unwrap_or("");
    let all = scan_json(cache.path(), &["rootfs", p, "--scanners", "vuln"]);
    let n = findings(&all).len();
    assert!(n > 0);
    // Every finding here has a fix: --ignore-unfixed keeps them all...
    let kept = scan_json(
        cache.path(),
        &["rootfs", p, "--scanners", "vuln", "--ignore-unfixed"],
    );
    assert_eq!(findings(&kept).len(), n);
    // ...and --ignore-status fixed drops them all.
    let none = scan_json(
        cache.path(),
        &[
            "rootfs",
            p,
            "--scanners",
            "vuln",
            "--ignore-status",
            "fixed",
        ],
    );
    assert_eq!(findings(&none).len(), 0);
    customs(cache.path())
        .args(["rootfs", p, "--scanners", "vuln", "--db", &db_arg()])
        .args(["--ignore-status", "bogus"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "--ignore-status: unknown status 'bogus'",
        ));
}

#[test]
fn pkg_types_select_os_or_library() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let a = gate(cache.path(), &["--pkg-types", "library"]).success();
    assert_eq!(count(&a), 0);
    let a = gate(cache.path(), &["--pkg-types", "os"]).success();
    assert_eq!(count(&a), 12);
    gate(cache.path(), &["--pkg-types", "kernel"])
        .code(3)
        .stderr(predicate::str::contains("--pkg-types"));
}

#[test]
fn trivyignore_suppresses_and_expires() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let f = dir.path().join(".trivyignore");
    std::fs::write(
        &f,
        "# accepted until the rebuild\nCVE-2019-14697\nCVE-2019-1547 exp:2099-01-01\n# expired: suppresses nothing\nCVE-2019-1549 exp:2020-01-01\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let fs = f.to_str().unwrap_or("");
    // musl+musl-utils (2) and libcrypto1.1+libssl1.1 CVE-2019-1547 (2) gone.
    let a = gate(cache.path(), &["--ignorefile", fs])
        .success()
        .stderr(predicate::str::contains("CVE-2019-1549"))
        .stderr(predicate::str::contains("expired"));
    assert_eq!(count(&a), 8);
    // Found in the current directory by default, as Trivy does.
    let out = customs(cache.path())
        .current_dir(dir.path())
        .args(["rootfs"])
        .arg(repo().join(ALPINE_OLD))
        .args(["--scanners", "vuln", "--db", &db_arg(), "-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(findings(&json_of(&out)).len(), 8);
    // All suppressed: --exit-code no longer fails.
    std::fs::write(
        &f,
        "CVE-2019-14697\nCVE-2019-1547\nCVE-2019-1549\nCVE-2019-1563\nCVE-2018-20679\nCVE-2019-5747\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    gate(cache.path(), &["--ignorefile", fs, "--exit-code", "1"]).code(0);
}

#[test]
fn yaml_ignore_file_with_purls_statement_and_show_suppressed() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let f = dir.path().join(".customsignore.yaml");
    std::fs::write(
        &f,
        "vulnerabilities:\n  - id: CVE-2019-1563\n    purls:\n      - pkg:apk/alpine/libssl1.1@1.1.1b-r1?arch=x86_64&distro=3.10.4\n    statement: libssl timing side channel not reachable in this service\n    expired_at: 2099-12-31\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let fs = f.to_str().unwrap_or("");
    let a = gate(cache.path(), &["--ignorefile", fs]).success();
    let f1 = findings(&json_of(&a.get_output().stdout));
    assert_eq!(f1.len(), 11, "{f1:#?}");
    assert!(!f1.iter().any(|l| l.contains(" libssl1.1 CVE-2019-1563")));
    // Only libssl1.1: libcrypto1.1's CVE-2019-1563 stays.
    assert!(f1.iter().any(|l| l.contains(" libcrypto1.1 CVE-2019-1563")));
    let a = gate(cache.path(), &["--ignorefile", fs, "--show-suppressed"]).success();
    let r = json_of(&a.get_output().stdout);
    let m = &r["Results"][0]["ModifiedFindings"][0];
    assert_eq!(m["Type"], "vulnerability");
    assert_eq!(m["Status"], "ignored");
    assert_eq!(
        m["Statement"],
        "libssl timing side channel not reachable in this service"
    );
    assert_eq!(m["Finding"]["VulnerabilityID"], "CVE-2019-1563");
    // A malformed ignore file is an error naming the file, not a silent pass.
    std::fs::write(&f, "vulnerabilities: [ {id: \n").unwrap_or_else(|e| panic!("{e}"));
    gate(cache.path(), &["--ignorefile", fs])
        .code(3)
        .stderr(predicate::str::contains(".customsignore.yaml"));
}

#[test]
fn os_owned_language_packages_only_with_the_flag() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let image = debian_image("app");
    // Debian's python3-idna (idna 3.3 dist-info under /usr/lib/python3) and
    // mkcert (a Go binary in /usr/bin) are dpkg-owned: not reported as
    // language packages by default, as Trivy does...
    let r = scan_json(
        cache.path(),
        &["image", "--input", &image, "--scanners", "vuln"],
    );
    let f = findings(&r);
    assert!(
        !f.iter().any(|l| l.starts_with("usr/bin/mkcert ")),
        "{f:#?}"
    );
    assert!(
        !f.iter().any(|l| l.contains(" idna CVE-2024-3651 3.3 ")),
        "{f:#?}"
    );
    // ...and reported with --include-os-owned: idna 3.3 < 3.7 (PyPA
    // PYSEC/GHSA for CVE-2024-3651) and mkcert's Go stdlib.
    let r = scan_json(
        cache.path(),
        &[
            "image",
            "--input",
            &image,
            "--scanners",
            "vuln",
            "--include-os-owned",
        ],
    );
    let g = findings(&r);
    assert!(g.iter().any(|l| l.starts_with("usr/bin/mkcert ")), "{g:#?}");
    assert!(
        g.iter().any(|l| l.contains(" idna CVE-2024-3651 3.3 ")),
        "{g:#?}"
    );
    assert_eq!(g.len(), f.len() + 80 + 1, "mkcert's 80 and idna's 1");
}

#[test]
fn sarif_output_has_one_result_per_finding_and_one_rule_per_id() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let json = scan_json(cache.path(), &["rootfs", ALPINE_OLD, "--scanners", "vuln"]);
    let ids: std::collections::BTreeSet<String> = findings(&json)
        .iter()
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("CVE-"))
                .map(String::from)
        })
        .collect();
    let out = customs(cache.path())
        .args([
            "rootfs",
            ALPINE_OLD,
            "--scanners",
            "vuln",
            "--format",
            "sarif",
        ])
        .args(["--db", &db_arg()])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let results = run["results"].as_array().cloned().unwrap_or_default();
    // The same 12 findings as the JSON report, one rule per distinct ID.
    assert_eq!(results.len(), 12);
    let rule_ids: std::collections::BTreeSet<String> = rules
        .iter()
        .filter_map(|r| r["id"].as_str().map(String::from))
        .collect();
    assert_eq!(rule_ids, ids);
    assert_eq!(rules.len(), ids.len());
    for r in &results {
        let i = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        // Severity UNKNOWN in this snapshot (no NVD data): a note.
        assert_eq!(r["level"], "note");
    }
    let ssl = results
        .iter()
        .find(|r| {
            r["ruleId"] == "CVE-2019-1547"
                && r["message"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("libssl1.1")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no libssl1.1 CVE-2019-1547 in {results:#?}"));
    // Located in the fixture's apk database, relative to the scanned root.
    assert_eq!(
        ssl["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "lib/apk/db/installed"
    );
    let root = std::fs::canonicalize(repo().join(ALPINE_OLD)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        v["runs"][0]["originalUriBaseIds"]["ROOTPATH"]["uri"],
        format!("file://{}/", root.display())
    );
    let text = ssl["message"]["text"].as_str().unwrap_or("");
    assert!(text.contains("Installed Version: 1.1.1b-r1"), "{text}");
    assert!(text.contains("Status: fixed"), "{text}");

    // Dockerfile checks: the failing line of each check is the region.
    let out = customs(cache.path())
        .args([
            "config",
            "crates/customs-misconfig/tests/dockerfiles/bad",
            "-f",
            "sarif",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    let results = v["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let root = results
        .iter()
        .find(|r| r["ruleId"] == "DS-0002")
        .unwrap_or_else(|| panic!("no DS-0002 in {results:#?}"));
    let loc = &root["locations"][0]["physicalLocation"];
    assert!(loc["artifactLocation"]["uri"]
        .as_str()
        .unwrap_or("")
        .starts_with("crates/customs-misconfig/tests/dockerfiles/bad/"));
    assert!(loc["region"]["startLine"].as_u64().unwrap_or(0) >= 1);
}

#[test]
fn cyclonedx_sbom_lists_every_package_and_the_vulnerabilities() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sbom = |args: &[&str]| {
        let out = customs(cache.path())
            .args(args)
            .args(["--format", "cyclonedx", "--db", &db_arg()])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        json_of(&out)
    };
    // The real alpine 3.10 image: its 14 apk packages (no --list-all-pkgs
    // needed), each with its PURL and the layer that brought it.
    let image = shared("images/alpine-3.10.tar.gz");
    let v = sbom(&["image", "--input", &image, "--scanners", "vuln"]);
    assert_eq!(v["bomFormat"], "CycloneDX");
    assert_eq!(v["specVersion"], "1.5");
    assert_eq!(v["metadata"]["component"]["type"], "container");
    let comps = v["components"].as_array().cloned().unwrap_or_default();
    let libs: Vec<&serde_json::Value> = comps.iter().filter(|c| c["type"] == "library").collect();
    assert_eq!(libs.len(), 14);
    assert!(libs.iter().all(|c| c["purl"]
        .as_str()
        .unwrap_or("")
        .starts_with("pkg:apk/alpine/")));
    let os: Vec<&serde_json::Value> = comps
        .iter()
        .filter(|c| c["type"] == "operating-system")
        .collect();
    assert_eq!(os.len(), 1);
    assert_eq!(os[0]["name"], "alpine");
    assert_eq!(os[0]["version"], "3.10.4");
    let musl = libs
        .iter()
        .find(|c| c["name"] == "musl")
        .unwrap_or_else(|| panic!("no musl in {libs:#?}"));
    let props = musl["properties"].as_array().cloned().unwrap_or_default();
    assert!(props.iter().any(|p| p["name"] == "customs:LayerDiffID"
        && p["value"].as_str().unwrap_or("").starts_with("sha256:")));
    assert!(
        v.get("vulnerabilities").is_none(),
        "alpine 3.10.4 has no findings"
    );

    // The Alpine fixture with older versions: the 12 findings become one
    // vulnerability entry per ID, each affecting the packages it was found in.
    let json = scan_json(cache.path(), &["rootfs", ALPINE_OLD, "--scanners", "vuln"]);
    let found = findings(&json);
    let v = sbom(&["rootfs", ALPINE_OLD, "--scanners", "vuln"]);
    let refs: std::collections::BTreeSet<String> = v["components"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c["bom-ref"].as_str().map(String::from))
        .collect();
    let vulns = v["vulnerabilities"].as_array().cloned().unwrap_or_default();
    let affects: usize = vulns
        .iter()
        .map(|x| x["affects"].as_array().map(Vec::len).unwrap_or(0))
        .sum();
    assert_eq!(affects, found.len());
    for x in &vulns {
        for a in x["affects"].as_array().cloned().unwrap_or_default() {
            assert!(refs.contains(a["ref"].as_str().unwrap_or("")), "{a}");
        }
    }
    let ssl = vulns
        .iter()
        .find(|x| x["id"] == "CVE-2019-1547")
        .unwrap_or_else(|| panic!("no CVE-2019-1547"));
    let affected: Vec<&str> = ssl["affects"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["ref"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        affected
            .iter()
            .any(|r| r.starts_with("pkg:apk/alpine/libssl1.1@1.1.1b-r1")),
        "{affected:?}"
    );
    assert!(
        affected
            .iter()
            .any(|r| r.starts_with("pkg:apk/alpine/libcrypto1.1@1.1.1b-r1")),
        "{affected:?}"
    );
}

/// Unknown is not clean: alpine 3.20.3 scanned against a database built
/// from the real secdb of 3.10 alone has no advisory to look up, and says
/// so (warning, `MissingData`, "unknown" in the summary, its own exit code)
/// instead of "0 vulnerabilities".
#[test]
fn an_os_release_without_advisories_is_unknown_not_clean() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let feeds = cache.path().join("feeds/alpine-secdb");
    std::fs::create_dir_all(&feeds).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(
        repo().join(shared("advisories/alpine-secdb/v3.10")),
        feeds.join("v3.10"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let db = cache.path().join("only-3.10.db");
    customs(cache.path())
        .args(["db", "build", "--from"])
        .arg(cache.path().join("feeds"))
        .arg("--output")
        .arg(&db)
        .assert()
        .success();
    let image = shared("images/alpine-3.20.3.tar.gz");
    let run = |extra: &[&str]| {
        customs(cache.path())
            .args(["image", "--input", &image, "--scanners", "vuln", "--db"])
            .arg(&db)
            .args(extra)
            .assert()
    };
    let out = run(&["-f", "json"]).success().get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("has no advisories for alpine 3.20.3 (alpine:3.20)")
            && err.contains("only-3.10.db"),
        "{err}"
    );
    let report = json_of(&out.stdout);
    let os = &report["Results"][0];
    assert_eq!(os["Class"], "os-pkgs");
    assert_eq!(os["MissingData"]["Ecosystem"], "alpine:3.20");
    assert!(os.get("Vulnerabilities").is_none());
    // The table says unknown, not 0.
    let table = run(&[]).success().get_output().stdout.clone();
    let table = String::from_utf8_lossy(&table);
    assert!(table.contains("unknown"), "{table}");
    assert!(
        table.contains("No advisory data in the database"),
        "{table}"
    );
    assert!(!table.contains("Total: 0"), "{table}");
    let md = run(&["-f", "markdown"])
        .success()
        .get_output()
        .stdout
        .clone();
    let md = String::from_utf8_lossy(&md);
    assert!(md.contains("| unknown |"), "{md}");
    assert!(md.contains("> **No advisory data** for <code>"), "{md}");
    assert!(
        md.contains("found where the database has advisories"),
        "{md}"
    );
    // CI can make it an error; the findings gate alone does not fire.
    run(&["--exit-on-missing-data", "4", "--exit-code", "1"]).code(4);
    run(&["--exit-code", "1"]).success();
    // With the data, the result is a count, not unknown.
    let full = scan_json(
        cache.path(),
        &["image", "--input", &image, "--scanners", "vuln"],
    );
    assert!(full["Results"][0].get("MissingData").is_none());
}
