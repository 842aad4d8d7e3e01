//! End-to-end: known-exploited (CISA KEV, the real catalog in
//! ../shared/data/advisories/kev), EPSS (a scores file in FIRST's format),
//! CVSS scores, `--sort-by`, `--kev` and `--min-epss`, on real feeds and
//! real package versions: sudo 1.8.27-1+deb10u2 of Debian 10 (DSA-4839-1,
//! CVE-2021-3156, in KEV since 2022-04-06) and actionview 5.2.2 of a
//! Gemfile.lock (RubySec, CVE-2019-5418, in KEV since 2025-07-07).

mod common;
use common::*;
use std::path::Path;

const RAILS: &str = "crates/customs-cli/tests/fixtures/rails-app";

fn scan(cache: &Path, db: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    customs(cache)
        .args(args)
        .arg("--db")
        .arg(db)
        .args(["--scanners", "vuln", "-f", "json"])
        .assert()
}

fn vulns(out: &[u8]) -> Vec<serde_json::Value> {
    let r = json_of(out);
    r["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Vulnerabilities"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn ids(v: &[serde_json::Value]) -> Vec<String> {
    v.iter()
        .map(|v| {
            format!(
                "{} {}",
                v["PkgName"].as_str().unwrap_or(""),
                v["VulnerabilityID"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn known_exploited_on_real_feeds() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = debian_rootfs("10.7", "buster-status");
    let root = root.path().display().to_string();
    let out = scan(cache.path(), &vuln_db(), &["rootfs", &root])
        .success()
        .get_output()
        .stdout
        .clone();
    let v = vulns(&out);
    let sudo = v
        .iter()
        .find(|v| v["VulnerabilityID"] == "CVE-2021-3156")
        .unwrap_or_else(|| panic!("sudo CVE-2021-3156 not found in {:?}", ids(&v)));
    assert_eq!(sudo["PkgName"], "sudo");
    assert_eq!(sudo["FixedVersion"], "1.8.27-1+deb10u3");
    let kev = &sudo["KnownExploited"];
    assert_eq!(kev["CVEID"], "CVE-2021-3156");
    assert_eq!(kev["DateAdded"], "2022-04-06");
    assert_eq!(kev["DueDate"], "2022-04-27");
    assert_eq!(kev["KnownRansomwareCampaignUse"], "Unknown");
    // mutt's CVE-2021-3181 (DSA-4838-1) is not in the catalog.
    let mutt = v
        .iter()
        .find(|v| v["VulnerabilityID"] == "CVE-2021-3181")
        .unwrap_or_else(|| panic!("mutt CVE-2021-3181 not found in {:?}", ids(&v)));
    assert!(mutt.get("KnownExploited").is_none(), "{mutt}");

    let out = scan(cache.path(), &vuln_db(), &["fs", RAILS])
        .success()
        .get_output()
        .stdout
        .clone();
    let v = vulns(&out);
    let av = v
        .iter()
        .find(|v| v["VulnerabilityID"] == "CVE-2019-5418")
        .unwrap_or_else(|| panic!("actionview CVE-2019-5418 not found in {:?}", ids(&v)));
    assert_eq!(av["PkgName"], "actionview");
    assert_eq!(av["KnownExploited"]["DateAdded"], "2025-07-07");
    assert!(
        v.len() > 1,
        "actionview 5.2.2 has more advisories than the KEV one"
    );
}

#[test]
fn kev_gate_fails_only_on_known_exploited() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = scan(
        cache.path(),
        &vuln_db(),
        &["fs", RAILS, "--kev", "--exit-code", "1"],
    )
    .code(1)
    .get_output()
    .stdout
    .clone();
    let v = vulns(&out);
    assert!(!v.is_empty());
    assert!(
        v.iter().all(|v| v.get("KnownExploited").is_some()),
        "{:?}",
        ids(&v)
    );
    // The bullseye fixture has findings (13), none of them in KEV: the
    // KEV gate passes.
    let root = debian_rootfs("11.6", "bullseye-status");
    let root = root.path().display().to_string();
    let out = scan(
        cache.path(),
        &vuln_db(),
        &["rootfs", &root, "--exit-code", "1"],
    )
    .code(1)
    .get_output()
    .stdout
    .clone();
    assert!(!vulns(&out).is_empty());
    let out = scan(
        cache.path(),
        &vuln_db(),
        &["rootfs", &root, "--kev", "--exit-code", "1"],
    )
    .success()
    .get_output()
    .stdout
    .clone();
    assert!(vulns(&out).is_empty());
}

#[test]
fn epss_scores_filter_and_risk_order() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = vuln_db_with_epss();
    let out = scan(cache.path(), &db, &["fs", RAILS, "--sort-by", "risk"])
        .success()
        .get_output()
        .stdout
        .clone();
    let v = vulns(&out);
    let first = &v[0];
    assert_eq!(first["VulnerabilityID"], "CVE-2019-5418", "{:?}", ids(&v));
    let epss = &first["EPSS"];
    assert_eq!(epss["Score"], 0.94326);
    assert_eq!(epss["Percentile"], 0.99942);
    assert_eq!(epss["Date"], "2025-08-25");
    assert_eq!(epss["ModelVersion"], "v2025.03.14");
    // After the KEV finding: EPSS-scored ones first (highest first), then
    // by CVSS score, highest first.
    let key = |v: &serde_json::Value| {
        let epss = v["EPSS"]["Score"].as_f64().unwrap_or(-1.0);
        let c = v["CVSS"].as_object().cloned().unwrap_or_default();
        let cvss = c
            .values()
            .filter_map(|e| {
                e["V40Score"]
                    .as_f64()
                    .or(e["V3Score"].as_f64())
                    .or(e["V2Score"].as_f64())
            })
            .fold(-1.0, f64::max);
        (epss, cvss)
    };
    let keys: Vec<(f64, f64)> = v[1..].iter().map(key).collect();
    assert!(keys.len() >= 2, "{:?}", ids(&v));
    assert!(
        keys.windows(2)
            .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 >= w[1].1)),
        "{keys:?}"
    );
    assert!(
        keys.iter().any(|k| k.1 > 0.0),
        "some have CVSS scores: {keys:?}"
    );

    // --min-epss keeps the findings scored at least that high.
    let out = scan(cache.path(), &db, &["fs", RAILS, "--min-epss", "0.5"])
        .success()
        .get_output()
        .stdout
        .clone();
    let v = vulns(&out);
    assert_eq!(ids(&v), vec!["actionview CVE-2019-5418"]);
    // Without EPSS data nothing is scored: nothing passes the filter.
    let out = scan(
        cache.path(),
        &vuln_db(),
        &["fs", RAILS, "--min-epss", "0.5"],
    )
    .success()
    .get_output()
    .stdout
    .clone();
    assert!(vulns(&out).is_empty());
}

#[test]
fn sort_by_severity_and_cvss() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rank = |s: &str| match s {
        "CRITICAL" => 4,
        "HIGH" => 3,
        "MEDIUM" => 2,
        "LOW" => 1,
        _ => 0,
    };
    let out = scan(
        cache.path(),
        &vuln_db(),
        &["fs", RAILS, "--sort-by", "severity"],
    )
    .success()
    .get_output()
    .stdout
    .clone();
    let sev: Vec<i32> = vulns(&out)
        .iter()
        .map(|v| rank(v["Severity"].as_str().unwrap_or("")))
        .collect();
    assert!(sev.len() > 1);
    assert!(sev.windows(2).all(|w| w[0] >= w[1]), "{sev:?}");
}

#[test]
fn bad_prioritise_flags() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let a = customs(cache.path())
        .args(["fs", RAILS, "--min-epss", "1.5", "--db"])
        .arg(vuln_db())
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("--min-epss"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    customs(cache.path())
        .args(["fs", RAILS, "--sort-by", "age"])
        .assert()
        .code(2);
}

#[test]
fn db_info_names_the_exploit_data() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let a = customs(cache.path())
        .args(["db", "--db"])
        .arg(vuln_db_with_epss())
        .arg("info")
        .assert()
        .success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    assert!(
        out.contains("Known exploited (CISA KEV): catalog 2025.08.25"),
        "{out}"
    );
    assert!(
        out.contains("EPSS: scores of 2025-08-25, model v2025.03.14"),
        "{out}"
    );
}
