//! The policy over a report: each filter, each ignore-file form, and the
//! exit codes. Each test fails when the feature it names is removed.

use std::path::Path;

use customs_detect::{apply, exit_code, Date, ExitCodes, IgnoreRules, Outcome, PkgTypes, Policy};
use customs_model::{OsInfo, PkgIdentifier, Severity, Status};
use customs_report::{
    class, DetectedVulnerability, MisconfSummary, Misconfiguration, Report, ScanResult,
    SecretFinding,
};

fn today() -> Date {
    Date::new(2024, 6, 15).unwrap_or_else(|| panic!("date"))
}

fn vuln(
    id: &str,
    pkg: &str,
    sev: Severity,
    status: Status,
    fixed: &str,
    purl: &str,
    path: &str,
) -> DetectedVulnerability {
    DetectedVulnerability {
        vulnerability_id: id.into(),
        pkg_name: pkg.into(),
        pkg_path: path.into(),
        pkg_identifier: PkgIdentifier {
            purl: Some(purl.into()),
            uid: None,
        },
        installed_version: "1".into(),
        fixed_version: fixed.into(),
        status,
        severity: sev,
        ..Default::default()
    }
}

fn misconf(id: &str, avd: &str, sev: Severity, status: &str) -> Misconfiguration {
    Misconfiguration {
        kind: "dockerfile".into(),
        id: id.into(),
        avd_id: avd.into(),
        title: id.into(),
        severity: sev,
        status: status.into(),
        ..Default::default()
    }
}

fn secret(rule: &str, sev: Severity) -> SecretFinding {
    SecretFinding {
        rule_id: rule.into(),
        category: "test".into(),
        severity: sev,
        title: rule.into(),
        start_line: 1,
        end_line: 1,
        ..Default::default()
    }
}

/// One result of each class.
fn report() -> Report {
    let mut os = ScanResult::new("img (alpine 3.10.4)", class::OS_PKGS, "alpine");
    os.vulnerabilities = vec![
        vuln(
            "CVE-A",
            "musl",
            Severity::Critical,
            Status::Fixed,
            "1.1.22-r3",
            "pkg:apk/alpine/musl@1.1.15-r4?arch=x86_64&distro=3.10.4",
            "",
        ),
        vuln(
            "CVE-B",
            "busybox",
            Severity::Low,
            Status::Affected,
            "",
            "pkg:apk/alpine/busybox@1.27.2-r4?arch=x86_64&distro=3.10.4",
            "",
        ),
        vuln(
            "CVE-C",
            "libc-utils",
            Severity::Medium,
            Status::WillNotFix,
            "",
            "pkg:apk/alpine/libc-utils@0.7.1-r0?arch=x86_64&distro=3.10.4",
            "",
        ),
    ];
    let mut py = ScanResult::new("Python", class::LANG_PKGS, "python-pkg");
    py.vulnerabilities = vec![
        vuln(
            "CVE-D",
            "requests",
            Severity::High,
            Status::Fixed,
            "2.31.0",
            "pkg:pypi/requests@2.25.1",
            "app/venv/lib/python3.11/site-packages/requests-2.25.1.dist-info/METADATA",
        ),
        vuln(
            "CVE-E",
            "urllib3",
            Severity::Unknown,
            Status::Fixed,
            "1.26.5",
            "pkg:pypi/urllib3@1.26.4",
            "usr/lib/python3/dist-packages/urllib3-1.26.4.dist-info/METADATA",
        ),
    ];
    let mut sec = ScanResult::new("app/.env", class::SECRET, "");
    sec.secrets = vec![
        secret("aws-access-key-id", Severity::Critical),
        secret("github-pat", Severity::Low),
    ];
    let mut cfg = ScanResult::new("Dockerfile", class::CONFIG, "dockerfile");
    cfg.misconfigurations = vec![
        misconf("DS002", "AVD-DS-0002", Severity::High, "FAIL"),
        misconf("DS001", "AVD-DS-0001", Severity::Low, "FAIL"),
        misconf("DS005", "AVD-DS-0005", Severity::High, "PASS"),
    ];
    cfg.misconf_summary = Some(MisconfSummary {
        successes: 1,
        failures: 2,
    });
    Report {
        schema_version: 2,
        artifact_name: "img".into(),
        artifact_type: "container_image".into(),
        metadata: customs_report::Metadata {
            os: Some(OsInfo {
                family: "alpine".into(),
                name: "3.10.4".into(),
                eosl: false,
            }),
            ..Default::default()
        },
        results: vec![os, py, sec, cfg],
        ..Default::default()
    }
}

fn policy() -> Policy {
    Policy {
        today: today(),
        ..Policy::default()
    }
}

fn vuln_ids(r: &Report) -> Vec<String> {
    r.results
        .iter()
        .flat_map(|x| x.vulnerabilities.iter().map(|v| v.vulnerability_id.clone()))
        .collect()
}

fn secret_ids(r: &Report) -> Vec<String> {
    r.results
        .iter()
        .flat_map(|x| x.secrets.iter().map(|s| s.rule_id.clone()))
        .collect()
}

fn misconf_ids(r: &Report) -> Vec<String> {
    r.results
        .iter()
        .flat_map(|x| x.misconfigurations.iter().map(|m| m.id.clone()))
        .collect()
}

fn run(p: &Policy) -> (Report, Outcome) {
    let mut r = report();
    let o = apply(&mut r, p);
    (r, o)
}

#[test]
fn default_policy_keeps_everything() {
    let (r, o) = run(&policy());
    assert_eq!(vuln_ids(&r), ["CVE-A", "CVE-B", "CVE-C", "CVE-D", "CVE-E"]);
    assert_eq!(secret_ids(&r).len(), 2);
    assert_eq!(misconf_ids(&r).len(), 3);
    assert_eq!(o.remaining, 5 + 2 + 2);
    assert_eq!(
        o,
        Outcome {
            remaining: 9,
            ..Default::default()
        }
    );
}

#[test]
fn severity_filters_vulns_secrets_and_misconfigs() {
    let (r, o) = run(&Policy {
        severities: vec![Severity::High, Severity::Critical],
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-A", "CVE-D"]);
    assert_eq!(secret_ids(&r), ["aws-access-key-id"]);
    assert_eq!(misconf_ids(&r), ["DS002", "DS005"]);
    assert_eq!(o.removed_by_severity, 3 + 1 + 1);
    let cfg = r
        .results
        .iter()
        .find(|x| x.class == class::CONFIG)
        .and_then(|x| x.misconf_summary.clone());
    assert_eq!(
        cfg,
        Some(MisconfSummary {
            successes: 1,
            failures: 1
        })
    );
    // UNKNOWN is a severity like the others.
    let (r, _) = run(&Policy {
        severities: vec![Severity::Unknown],
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-E"]);
}

#[test]
fn ignore_unfixed_drops_vulns_without_a_fix() {
    let (r, o) = run(&Policy {
        ignore_unfixed: true,
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-A", "CVE-D", "CVE-E"]);
    assert_eq!(o.removed_unfixed, 2);
    // Secrets and misconfigurations are not vulnerabilities: untouched.
    assert_eq!(secret_ids(&r).len(), 2);
}

#[test]
fn ignore_status_drops_those_statuses() {
    let (r, o) = run(&Policy {
        ignore_statuses: vec![Status::WillNotFix],
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-A", "CVE-B", "CVE-D", "CVE-E"]);
    assert_eq!(o.removed_by_status, 1);
    let (r, _) = run(&Policy {
        ignore_statuses: vec![Status::Affected, Status::Fixed],
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-C"]);
}

#[test]
fn pkg_types_select_os_or_library_results() {
    let os_only = PkgTypes::parse("os").unwrap_or_else(|e| panic!("{e}"));
    let (r, o) = run(&Policy {
        pkg_types: os_only,
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-A", "CVE-B", "CVE-C"]);
    assert_eq!(o.removed_results, 1);
    // Secrets and misconfigurations are not packages.
    assert_eq!(secret_ids(&r).len(), 2);
    assert_eq!(misconf_ids(&r).len(), 3);
    let lib = PkgTypes::parse("library").unwrap_or_else(|e| panic!("{e}"));
    let (r, _) = run(&Policy {
        pkg_types: lib,
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-D", "CVE-E"]);
    assert_eq!(
        PkgTypes::parse("os, library"),
        Ok(PkgTypes {
            os: true,
            library: true
        })
    );
    assert!(PkgTypes::parse("os,binary").is_err());
    assert!(PkgTypes::parse("").is_err());
}

fn trivyignore(text: &str) -> IgnoreRules {
    IgnoreRules::parse_trivyignore(Path::new(".trivyignore"), text)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn yaml(text: &str) -> IgnoreRules {
    IgnoreRules::parse_yaml(Path::new(".customsignore.yaml"), text)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn trivyignore_ids_suppress_every_kind() {
    let rules = trivyignore(
        "# accepted risks\nCVE-A\naws-access-key-id\n\n# misconfigurations by AVD id\nAVD-DS-0002\n",
    );
    let (r, o) = run(&Policy {
        ignores: vec![rules],
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-B", "CVE-C", "CVE-D", "CVE-E"]);
    assert_eq!(secret_ids(&r), ["github-pat"]);
    assert_eq!(misconf_ids(&r), ["DS001", "DS005"]);
    assert_eq!(o.suppressed, 3);
    assert!(o.expired.is_empty());
    // Without --show-suppressed they are gone, not listed.
    assert!(r.results.iter().all(|x| x.modified_findings.is_empty()));
}

#[test]
fn trivyignore_expiry() {
    // exp: in the future: still suppresses. In the past (or today): expired,
    // the finding is back, and the entry is reported.
    let rules = trivyignore("CVE-A exp:2024-06-16\nCVE-D exp:2024-06-15\nCVE-E exp:2023-01-01\n");
    let (r, o) = run(&Policy {
        ignores: vec![rules],
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-B", "CVE-C", "CVE-D", "CVE-E"]);
    assert_eq!(o.suppressed, 1);
    let expired: Vec<_> = o
        .expired
        .iter()
        .map(|e| (e.id.as_str(), e.expired_at.to_string(), e.origin.as_str()))
        .collect();
    assert_eq!(
        expired,
        [
            ("CVE-D", "2024-06-15".to_string(), ".trivyignore:2"),
            ("CVE-E", "2023-01-01".to_string(), ".trivyignore:3")
        ]
    );
}

const YAML: &str = r#"
vulnerabilities:
  # only the copy under usr/lib
  - id: CVE-E
    paths:
      - "usr/lib/python3/**"
    statement: "Debian's python3-urllib3 is not used by the app"
  # only the musl package
  - id: CVE-A
    purls:
      - "pkg:apk/alpine/musl"
    statement: "musl is patched in our base image"
  # a path that does not match: stays
  - id: CVE-D
    paths:
      - "srv/**"
  # expired
  - id: CVE-B
    expired_at: 2024-01-01
misconfigurations:
  - id: AVD-DS-0001
    paths: ["Dockerfile"]
    statement: needs root
secrets:
  - id: github-pat
    paths: ["app/*.env", "app/.env"]
"#;

#[test]
fn yaml_paths_purls_statements_and_expiry() {
    let (r, o) = run(&Policy {
        ignores: vec![yaml(YAML)],
        ..policy()
    });
    assert_eq!(vuln_ids(&r), ["CVE-B", "CVE-C", "CVE-D"]);
    assert_eq!(misconf_ids(&r), ["DS002", "DS005"]);
    assert_eq!(secret_ids(&r), ["aws-access-key-id"]);
    assert_eq!(o.suppressed, 4);
    assert_eq!(o.expired.len(), 1);
    assert_eq!(o.expired[0].origin, ".customsignore.yaml:18");
    assert!(r.results.iter().all(|x| x.modified_findings.is_empty()));

    // The purl rule names musl only: another package with the same id stays.
    let mut other = report();
    other.results[0].vulnerabilities[1].vulnerability_id = "CVE-A".into();
    apply(
        &mut other,
        &Policy {
            ignores: vec![yaml(YAML)],
            ..policy()
        },
    );
    let busy: Vec<_> = other.results[0]
        .vulnerabilities
        .iter()
        .map(|v| (v.vulnerability_id.as_str(), v.pkg_name.as_str()))
        .collect();
    assert_eq!(busy, [("CVE-A", "busybox"), ("CVE-C", "libc-utils")]);
}

#[test]
fn show_suppressed_lists_them_with_the_statement() {
    let (r, o) = run(&Policy {
        ignores: vec![yaml(YAML)],
        show_suppressed: true,
        ..policy()
    });
    assert_eq!(o.suppressed, 4);
    let listed: Vec<_> = r
        .results
        .iter()
        .flat_map(|x| x.modified_findings.iter())
        .map(|m| {
            (
                m.kind.as_str(),
                m.status.as_str(),
                m.statement.as_str(),
                m.source.as_str(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "vulnerability",
                "ignored",
                "musl is patched in our base image",
                ".customsignore.yaml"
            ),
            (
                "vulnerability",
                "ignored",
                "Debian's python3-urllib3 is not used by the app",
                ".customsignore.yaml"
            ),
            ("secret", "ignored", "", ".customsignore.yaml"),
            (
                "misconfiguration",
                "ignored",
                "needs root",
                ".customsignore.yaml"
            ),
        ]
    );
    // The finding itself is kept in Trivy's JSON shape.
    let first = &r.results[0].modified_findings[0].finding;
    assert_eq!(first["VulnerabilityID"], "CVE-A");
    assert_eq!(first["PkgName"], "musl");
    // Suppressed findings do not count: CVE-B/C/D, one secret, DS002.
    assert_eq!(o.remaining, 3 + 1 + 1);
}

#[test]
fn filters_run_before_ignores() {
    // A finding removed by --severity is not listed as suppressed.
    let (r, o) = run(&Policy {
        ignores: vec![trivyignore("CVE-B\n")],
        severities: vec![Severity::Critical],
        show_suppressed: true,
        ..policy()
    });
    assert_eq!(o.suppressed, 0);
    assert!(r.results.iter().all(|x| x.modified_findings.is_empty()));
}

#[test]
fn exit_codes() {
    // Findings remain → --exit-code.
    let (r, _) = run(&policy());
    assert_eq!(exit_code(&r, &codes(1, 0)), 1);
    assert_eq!(exit_code(&r, &codes(5, 0)), 5);
    // --exit-code 0 (the default) never fails.
    assert_eq!(exit_code(&r, &codes(0, 0)), 0);
    // Everything filtered or suppressed → 0.
    let (r, o) = run(&Policy {
        severities: vec![Severity::Critical],
        ignores: vec![trivyignore("CVE-A\naws-access-key-id\n")],
        ..policy()
    });
    assert_eq!(o.remaining, 0);
    assert_eq!(exit_code(&r, &codes(1, 0)), 0);
    // A passed misconfiguration alone does not fail the gate.
    let mut only_pass = report();
    only_pass.results.retain(|x| x.class == class::CONFIG);
    only_pass.results[0]
        .misconfigurations
        .retain(|m| m.status == "PASS");
    assert_eq!(exit_code(&only_pass, &codes(1, 0)), 0);
    // Only a secret → fails.
    let mut only_secret = report();
    only_secret.results.retain(|x| x.class == class::SECRET);
    assert_eq!(exit_code(&only_secret, &codes(1, 0)), 1);
    // End-of-life OS → --exit-on-eol, which wins over --exit-code (as in
    // Trivy); without the flag an EOL OS does not change the code.
    let mut eol = report();
    if let Some(os) = eol.metadata.os.as_mut() {
        os.eosl = true;
    }
    assert_eq!(exit_code(&eol, &codes(1, 2)), 2);
    assert_eq!(exit_code(&eol, &codes(1, 0)), 1);
    assert_eq!(exit_code(&eol, &codes(0, 0)), 0);
    let mut clean_eol = eol.clone();
    clean_eol.results.clear();
    assert_eq!(exit_code(&clean_eol, &codes(1, 2)), 2);
    clean_eol.metadata.os = None;
    assert_eq!(exit_code(&clean_eol, &codes(1, 2)), 0);
    assert_eq!(customs_detect::EXIT_USAGE, 2);
    assert_eq!(customs_detect::EXIT_ERROR, 3);
}

fn codes(findings: i32, eol: i32) -> ExitCodes {
    ExitCodes {
        findings,
        eol,
        missing_data: 0,
    }
}

#[test]
fn missing_data_is_not_clean() {
    // No finding, but one result's vulnerabilities are unknown.
    let mut r = report();
    for x in r.results.iter_mut() {
        x.vulnerabilities.clear();
        x.secrets.clear();
        x.misconfigurations.clear();
    }
    let gate = ExitCodes {
        findings: 1,
        eol: 0,
        missing_data: 4,
    };
    assert_eq!(exit_code(&r, &gate), 0);
    r.results[0].missing_data = Some(customs_report::MissingData {
        ecosystem: "alpine:3.20".into(),
        reason: "no advisories".into(),
    });
    assert_eq!(exit_code(&r, &gate), 4);
    // Not asked for: unknown data alone does not fail the gate.
    assert_eq!(exit_code(&r, &codes(1, 0)), 0);
    // End of life is checked first, as Trivy does.
    if let Some(os) = r.metadata.os.as_mut() {
        os.eosl = true;
    }
    assert_eq!(exit_code(&r, &ExitCodes { eol: 2, ..gate }), 2);
}

#[test]
fn load_ignore_files_from_disk() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let t = dir.path().join(".trivyignore");
    std::fs::write(&t, "CVE-A exp:2030-01-01\n").unwrap_or_else(|e| panic!("{e}"));
    let y = dir.path().join(".customsignore.yaml");
    std::fs::write(&y, YAML).unwrap_or_else(|e| panic!("{e}"));
    let ty = dir.path().join(".trivyignore.yaml");
    std::fs::write(&ty, "secrets:\n  - id: github-pat\n").unwrap_or_else(|e| panic!("{e}"));
    let load = |p: &Path| IgnoreRules::load(p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(load(&t).rules.len(), 1);
    assert_eq!(load(&y).rules.len(), 6);
    assert_eq!(load(&ty).rules.len(), 1);
    // Several files at once.
    let (r, o) = run(&Policy {
        ignores: vec![load(&t), load(&ty)],
        ..policy()
    });
    assert_eq!(o.suppressed, 2);
    assert!(!vuln_ids(&r).contains(&"CVE-A".to_string()));

    // Errors: one line, naming the file (and the line).
    let missing = dir.path().join("nope.yaml");
    let e = IgnoreRules::load(&missing)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.starts_with("cannot read ignore file "), "{e}");
    assert!(e.contains("nope.yaml"), "{e}");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "vulnerabilities:\n  - id: CVE-1\n    expired_at: 2024-13-01\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let e = IgnoreRules::load(&bad)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.ends_with("bad.yaml:3: invalid expired_at \"2024-13-01\" (expected YYYY-MM-DD)"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}
