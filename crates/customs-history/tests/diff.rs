//! The diff of two reports: real Trivy reports of the alpine 3.10 and
//! 3.20.3 images (tests/fixtures, made with Trivy 0.76 from
//! ../shared/data/images and the Trivy database of ../shared/data), alias
//! folding, and the properties every diff has.

mod common;
use common::*;
use customs_history::diff::{diff, parse_severities};
use customs_history::render::{render, DiffFormat};
use customs_model::Severity;
use customs_report::Report;
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;

fn fixture(name: &str) -> customs_history::Loaded {
    must(customs_history::read_report(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    ))
}

#[test]
fn trivy_reports_of_two_alpine_releases_diff_as_the_packages_say() {
    let old = fixture("trivy-alpine-3.10.json");
    let new = fixture("trivy-alpine-3.20.3.json");
    assert_eq!(old.scanner, "trivy 0.76.0");
    let d = diff(&old.report, &new.report);
    assert!(d.warnings.is_empty(), "both are alpine: {:?}", d.warnings);
    assert_eq!(d.old.repository, "alpine");
    // Trivy's database has no advisories for the end-of-life 3.10: every
    // finding of 3.20.3 is new.
    assert_eq!(d.vulnerabilities.new.len(), 56);
    assert!(d.vulnerabilities.fixed.is_empty());
    assert!(d
        .vulnerabilities
        .new
        .iter()
        .any(|v| v.vulnerability_id == "CVE-2024-12797" && v.pkg_name == "libcrypto3"));
    // (The offline database of ../shared has no severities for these.)
    assert!(d
        .vulnerabilities
        .new
        .iter()
        .all(|v| v.severity == Severity::Unknown));
    let ids: Vec<&str> = d
        .vulnerabilities
        .new
        .iter()
        .map(|v| v.vulnerability_id.as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "by severity, then ID");

    let p = &d.packages;
    assert!(!p.from_vulnerabilities);
    let names = |v: Vec<&str>| v.into_iter().map(String::from).collect::<Vec<_>>();
    assert_eq!(
        p.removed
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        names(vec![
            "ca-certificates-cacert",
            "libc-utils",
            "libcrypto1.1",
            "libssl1.1",
            "libtls-standalone"
        ])
    );
    assert_eq!(
        p.added.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        names(vec![
            "alpine-baselayout-data",
            "busybox-binsh",
            "ca-certificates-bundle",
            "libcrypto3",
            "libssl3"
        ])
    );
    assert_eq!(p.upgraded.len(), 9);
    let busybox = p
        .upgraded
        .iter()
        .find(|c| c.name == "busybox")
        .unwrap_or_else(|| panic!("busybox upgraded"));
    assert_eq!(
        (
            busybox.old_versions.as_slice(),
            busybox.new_versions.as_slice()
        ),
        (
            &["1.30.1-r3".to_string()][..],
            &["1.36.1-r29".to_string()][..]
        )
    );
    assert_eq!(p.unchanged, 0);
    // Different base layers.
    assert!(d.layers.unchanged.is_empty());
    assert_eq!(
        (d.layers.old_changed.len(), d.layers.new_changed.len()),
        (1, 1)
    );

    // The reverse: what was new is fixed.
    let r = diff(&new.report, &old.report);
    assert_eq!(r.vulnerabilities.fixed.len(), 56);
    assert_eq!(r.packages.added.len(), 5);
}

#[test]
fn a_report_diffed_with_itself_is_all_unchanged_and_the_table_says_so() {
    let new = fixture("trivy-alpine-3.20.3.json");
    let d = diff(&new.report, &new.report);
    assert!(d.vulnerabilities.new.is_empty() && d.vulnerabilities.fixed.is_empty());
    assert_eq!(d.vulnerabilities.unchanged.len(), 56);
    assert_eq!(d.packages.unchanged, 14);
    assert_eq!(d.layers.unchanged.len(), 1);
    let t = render(&d, DiffFormat::Table);
    assert!(
        t.contains("Vulnerabilities: 0 new, 0 fixed, 56 unchanged"),
        "{t}"
    );
    assert!(
        t.contains("Layers: 1 shared, 0 old-only, 0 new-only (identical layers)"),
        "{t}"
    );
    let md = render(&d, DiffFormat::Markdown);
    assert!(
        md.starts_with("## customs diff: `../shared/data/images/alpine-3.20.3.tar.gz`"),
        "{md}"
    );
    let js: serde_json::Value = must(serde_json::from_str(&render(&d, DiffFormat::Json)));
    assert_eq!(
        js["Vulnerabilities"]["Unchanged"].as_array().map(Vec::len),
        Some(56)
    );
}

#[test]
fn different_artifacts_are_diffed_with_a_warning() {
    let a = report("app:1", &[("CVE-1", "p", "1", "HIGH")], &[]);
    let b = report("other:1", &[("CVE-1", "p", "1", "HIGH")], &[]);
    let d = diff(&a, &b);
    assert_eq!(
        d.warnings,
        ["the reports are of different artifacts (app and other); diffing them anyway"]
    );
    assert_eq!(
        d.vulnerabilities.unchanged.len(),
        1,
        "the OS targets of both compare as (image)"
    );
    let t = render(&d, DiffFormat::Table);
    assert!(
        t.contains("WARN the reports are of different artifacts"),
        "{t}"
    );
}

fn with_vendor_ids(mut r: Report, ids: &[&str]) -> Report {
    for res in &mut r.results {
        for v in &mut res.vulnerabilities {
            v.vendor_ids = ids.iter().map(|s| s.to_string()).collect();
        }
    }
    r
}

#[test]
fn an_alias_is_the_same_finding_but_a_shared_advisory_does_not_merge_two_cves() {
    // Trivy names it by its GHSA, customs by the CVE with the GHSA as vendor ID.
    let old = report(
        "app:1",
        &[("GHSA-xxxx-yyyy-zzzz", "requests", "2.0", "HIGH")],
        &[],
    );
    let new = with_vendor_ids(
        report("app:2", &[("CVE-2024-1", "requests", "2.0", "HIGH")], &[]),
        &["GHSA-xxxx-yyyy-zzzz"],
    );
    let d = diff(&old, &new);
    assert!(
        d.vulnerabilities.new.is_empty() && d.vulnerabilities.fixed.is_empty(),
        "{d:?}"
    );
    assert_eq!(
        d.vulnerabilities.unchanged[0].matched_id,
        "GHSA-xxxx-yyyy-zzzz"
    );

    // Two CVEs fixed by one DSA stay two findings.
    let old = with_vendor_ids(
        report(
            "app:1",
            &[
                ("CVE-1", "openssl", "1", "HIGH"),
                ("CVE-2", "openssl", "1", "HIGH"),
            ],
            &[],
        ),
        &["DSA-5000-1"],
    );
    let new = with_vendor_ids(
        report("app:2", &[("CVE-1", "openssl", "1", "HIGH")], &[]),
        &["DSA-5000-1"],
    );
    let d = diff(&old, &new);
    assert_eq!(d.vulnerabilities.fixed.len(), 1);
    assert_eq!(d.vulnerabilities.fixed[0].vulnerability_id, "CVE-2");
    // Another package's same CVE is another finding.
    let new = report(
        "app:2",
        &[
            ("CVE-1", "openssl", "1", "HIGH"),
            ("CVE-2", "libssl", "1", "HIGH"),
        ],
        &[],
    );
    let d = diff(&old, &new);
    assert_eq!(d.vulnerabilities.new.len(), 1);
    assert_eq!(d.vulnerabilities.new[0].pkg_name, "libssl");
}

#[test]
fn severity_filters_apply_to_what_is_shown_and_counted() {
    let old = report("app:1", &[("CVE-1", "p", "1", "LOW")], &[]);
    let new = report(
        "app:2",
        &[("CVE-2", "p", "1", "CRITICAL"), ("CVE-3", "p", "1", "LOW")],
        &["aws-access-key-id"],
    );
    let mut d = diff(&old, &new);
    assert_eq!(d.new_findings(), 3);
    d.retain_severities(&must(parse_severities(&["HIGH,CRITICAL".to_string()])));
    assert_eq!(
        d.new_findings(),
        2,
        "the CRITICAL vulnerability and the HIGH secret"
    );
    assert!(d.vulnerabilities.fixed.is_empty());
    assert!(parse_severities(&["SEVERE".to_string()]).is_err());
}

#[test]
fn secrets_and_misconfigurations_are_new_or_resolved() {
    let mut old = report("app:1", &[], &["github-pat"]);
    let new = report("app:2", &[], &["aws-access-key-id"]);
    let mis = json!({"Type": "dockerfile", "ID": "DS002", "Title": "root user", "Severity": "HIGH",
                     "Status": "FAIL", "Message": "Specify at least 1 USER command", "CauseMetadata": {}});
    old.results.push(must(serde_json::from_value(
        json!({"Target": "Dockerfile", "Class": "config", "Misconfigurations": [mis]}),
    )));
    let d = diff(&old, &new);
    assert_eq!(d.secrets.new.len(), 1);
    assert_eq!(d.secrets.new[0].rule_id, "aws-access-key-id");
    assert_eq!(d.secrets.resolved[0].rule_id, "github-pat");
    assert_eq!(d.misconfigurations.resolved.len(), 1);
    assert_eq!(
        d.misconfigurations.resolved[0].cause,
        "Specify at least 1 USER command"
    );
    assert_eq!(
        d.layers.unchanged.len(),
        2,
        "same layers in both test reports"
    );
}

// ---- properties

fn arb_report(tag: &'static str) -> impl Strategy<Value = Report> {
    // A few packages and IDs, so that reports overlap; GHSA-k is CVE-k's
    // alias, named either way, with or without the other as vendor ID.
    let vuln = (
        0usize..4,
        0usize..5,
        any::<bool>(),
        any::<bool>(),
        0usize..5,
        0usize..2,
    );
    (
        prop::collection::vec(vuln, 0..12),
        prop::collection::vec(0usize..3, 0..3),
    )
        .prop_map(move |(vs, secrets)| {
            let pkgs = ["busybox", "zlib", "musl", "openssl"];
            let sevs = ["LOW", "MEDIUM", "HIGH", "CRITICAL", "UNKNOWN"];
            let rules = ["aws-access-key-id", "github-pat", "private-key"];
            let mut list = Vec::new();
            let mut vendor = Vec::new();
            for (p, k, as_ghsa, with_alias, sev, ver) in vs {
                let (id, alias) = if as_ghsa {
                    (format!("GHSA-{k}"), format!("CVE-{k}"))
                } else {
                    (format!("CVE-{k}"), format!("GHSA-{k}"))
                };
                list.push((
                    id,
                    pkgs[p].to_string(),
                    ver.to_string(),
                    sevs[sev].to_string(),
                ));
                vendor.push(with_alias.then_some(alias));
            }
            let refs: Vec<(&str, &str, &str, &str)> = list
                .iter()
                .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
                .collect();
            let secret_rules: Vec<&str> = secrets.iter().map(|i| rules[*i]).collect();
            let mut r = report(tag, &refs, &secret_rules);
            if let Some(res) = r.results.first_mut() {
                for (v, alias) in res.vulnerabilities.iter_mut().zip(vendor) {
                    v.vendor_ids = alias.into_iter().collect();
                }
            }
            r
        })
}

type Key = (String, String, String);

fn keys(v: &[customs_history::diff::VulnEntry]) -> BTreeSet<Key> {
    v.iter()
        .map(|e| {
            (
                e.vulnerability_id.clone(),
                e.pkg_name.clone(),
                e.pkg_path.clone(),
            )
        })
        .collect()
}

proptest! {
    #[test]
    fn a_report_diffed_with_itself_has_nothing_new_or_fixed(a in arb_report("app:1")) {
        let d = diff(&a, &a);
        prop_assert!(d.vulnerabilities.new.is_empty());
        prop_assert!(d.vulnerabilities.fixed.is_empty());
        prop_assert!(d.secrets.new.is_empty() && d.secrets.resolved.is_empty());
        prop_assert!(d.packages.added.is_empty() && d.packages.removed.is_empty() && d.packages.upgraded.is_empty());
        prop_assert_eq!(d.new_findings(), 0);
    }

    #[test]
    fn what_is_new_one_way_is_fixed_the_other(a in arb_report("app:1"), b in arb_report("app:2")) {
        let ab = diff(&a, &b);
        let ba = diff(&b, &a);
        prop_assert_eq!(keys(&ab.vulnerabilities.new), keys(&ba.vulnerabilities.fixed));
        prop_assert_eq!(keys(&ab.vulnerabilities.fixed), keys(&ba.vulnerabilities.new));
        prop_assert_eq!(ab.vulnerabilities.unchanged.len(), ba.vulnerabilities.unchanged.len());
        prop_assert_eq!(&ab.secrets.new, &ba.secrets.resolved);
        prop_assert_eq!(ab.packages.added.len(), ba.packages.removed.len());
        prop_assert_eq!(ab.packages.upgraded.len(), ba.packages.upgraded.len());
    }

    #[test]
    fn every_finding_is_new_fixed_or_unchanged_once(a in arb_report("app:1"), b in arb_report("app:2")) {
        let d = diff(&a, &b);
        let distinct = |r: &Report| r.results.iter().flat_map(|x| &x.vulnerabilities)
            .map(|v| (v.vulnerability_id.clone(), v.pkg_name.clone(), v.pkg_path.clone()))
            .collect::<BTreeSet<_>>().len();
        prop_assert_eq!(d.vulnerabilities.new.len() + d.vulnerabilities.unchanged.len(), distinct(&b));
        prop_assert_eq!(d.vulnerabilities.fixed.len() + d.vulnerabilities.unchanged.len(), distinct(&a));
        // The renderers take every diff.
        for f in [DiffFormat::Table, DiffFormat::Json, DiffFormat::Markdown] {
            prop_assert!(!render(&d, f).is_empty());
        }
    }
}
