//! The JSON report must read as Trivy's: this test mirrors Trivy's report
//! types (pkg/types: Report, Metadata, Result, DetectedVulnerability,
//! DetectedMisconfiguration, ModifiedFinding; pkg/fanal/types: OS, Package,
//! Layer, SecretFinding, Code/Line) as serde structs with the Go field names
//! and types, and rejects any field Trivy does not have (but the customs-only
//! ones named below). Our reports of real
//! inputs, with every scanner on, must deserialize into them. A renamed or
//! retyped field (e.g. `Epoch` as a string, `CVSS` keys in another case)
//! fails here before it breaks a user's pipeline.

#![allow(non_snake_case, dead_code, clippy::upper_case_acronyms)]

mod common;
use common::*;
use serde::Deserialize;
use std::collections::BTreeMap;

type Json = serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    SchemaVersion: i64,
    CreatedAt: Option<Rfc3339>,
    ReportID: Option<String>,
    ArtifactID: Option<String>,
    ArtifactName: String,
    ArtifactType: ArtifactType,
    Metadata: Option<Metadata>,
    Results: Option<Vec<ScanResult>>,
    Trivy: Option<Json>,
}

#[derive(Deserialize)]
enum ArtifactType {
    #[serde(rename = "container_image")]
    ContainerImage,
    #[serde(rename = "filesystem")]
    Filesystem,
    #[serde(rename = "repository")]
    Repository,
    #[serde(rename = "cyclonedx")]
    CycloneDx,
    #[serde(rename = "spdx")]
    Spdx,
    #[serde(rename = "vm")]
    Vm,
}

/// Go's time.Time reads RFC 3339.
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct Rfc3339(String);

impl TryFrom<String> for Rfc3339 {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let b = s.as_bytes();
        let ok = b.len() >= 20
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && (s.ends_with('Z') || s[19..].contains(['+', '-']));
        if ok {
            Ok(Rfc3339(s))
        } else {
            Err(format!("not RFC 3339: {s:?}"))
        }
    }
}

#[derive(Deserialize)]
enum Severity {
    UNKNOWN,
    LOW,
    MEDIUM,
    HIGH,
    CRITICAL,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    Size: Option<i64>,
    OS: Option<Os>,
    ImageID: Option<String>,
    DiffIDs: Option<Vec<String>>,
    RepoTags: Option<Vec<String>>,
    RepoDigests: Option<Vec<String>>,
    Reference: Option<String>,
    ImageConfig: Option<BTreeMap<String, Json>>,
    Layers: Option<Vec<Layer>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Os {
    Family: String,
    Name: String,
    EOSL: Option<bool>,
    Extended: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    Size: Option<i64>,
    Digest: Option<String>,
    DiffID: Option<String>,
    CreatedBy: Option<String>,
}

#[derive(Deserialize)]
enum Class {
    #[serde(rename = "os-pkgs")]
    OsPkgs,
    #[serde(rename = "lang-pkgs")]
    LangPkgs,
    #[serde(rename = "config")]
    Config,
    #[serde(rename = "secret")]
    Secret,
    #[serde(rename = "license")]
    License,
    #[serde(rename = "license-file")]
    LicenseFile,
    #[serde(rename = "custom")]
    Custom,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanResult {
    Target: String,
    Class: Option<Class>,
    Type: Option<String>,
    Packages: Option<Vec<Package>>,
    Vulnerabilities: Option<Vec<Vulnerability>>,
    MisconfSummary: Option<MisconfSummary>,
    Misconfigurations: Option<Vec<Misconfiguration>>,
    Secrets: Option<Vec<Secret>>,
    Licenses: Option<Vec<Json>>,
    CustomResources: Option<Vec<Json>>,
    ModifiedFindings: Option<Vec<ModifiedFinding>>,
    /// customs only, and named here so that no other field slips in: set
    /// when the database has no advisories for the result's ecosystem
    /// (Trivy's Go reader skips fields it does not know).
    MissingData: Option<MissingData>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MissingData {
    Ecosystem: String,
    Reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Identifier {
    PURL: Option<String>,
    UID: Option<String>,
    BOMRef: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Location {
    StartLine: i64,
    EndLine: i64,
}

#[derive(Deserialize)]
enum Relationship {
    #[serde(rename = "root")]
    Root,
    #[serde(rename = "workspace")]
    Workspace,
    #[serde(rename = "direct")]
    Direct,
    #[serde(rename = "indirect")]
    Indirect,
    #[serde(rename = "unknown")]
    Unknown,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Package {
    ID: Option<String>,
    Name: String,
    Identifier: Option<Identifier>,
    Version: Option<String>,
    Release: Option<String>,
    Epoch: Option<i64>,
    Arch: Option<String>,
    Dev: Option<bool>,
    SrcName: Option<String>,
    SrcVersion: Option<String>,
    SrcRelease: Option<String>,
    SrcEpoch: Option<i64>,
    Licenses: Option<Vec<String>>,
    Maintainer: Option<String>,
    ExternalReferences: Option<Vec<Json>>,
    Modularitylabel: Option<String>,
    BuildInfo: Option<Json>,
    Indirect: Option<bool>,
    Relationship: Option<Relationship>,
    DependsOn: Option<Vec<String>>,
    Layer: Option<Layer>,
    FilePath: Option<String>,
    Digest: Option<String>,
    Locations: Option<Vec<Location>>,
    InstalledFiles: Option<Vec<String>>,
    AnalyzedBy: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataSource {
    ID: String,
    Name: String,
    URL: String,
    BaseID: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cvss {
    V2Vector: Option<String>,
    V3Vector: Option<String>,
    V40Vector: Option<String>,
    V2Score: Option<f64>,
    V3Score: Option<f64>,
    V40Score: Option<f64>,
}

#[derive(Deserialize)]
enum Status {
    #[serde(rename = "unknown")]
    Unknown,
    #[serde(rename = "not_affected")]
    NotAffected,
    #[serde(rename = "affected")]
    Affected,
    #[serde(rename = "fixed")]
    Fixed,
    #[serde(rename = "under_investigation")]
    UnderInvestigation,
    #[serde(rename = "will_not_fix")]
    WillNotFix,
    #[serde(rename = "fix_deferred")]
    FixDeferred,
    #[serde(rename = "end_of_life")]
    EndOfLife,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vulnerability {
    VulnerabilityID: String,
    VendorIDs: Option<Vec<String>>,
    PkgID: Option<String>,
    PkgName: String,
    PkgPath: Option<String>,
    PkgIdentifier: Option<Identifier>,
    InstalledVersion: String,
    FixedVersion: Option<String>,
    Status: Option<Status>,
    Layer: Option<Layer>,
    SeveritySource: Option<String>,
    PrimaryURL: Option<String>,
    DataSource: Option<DataSource>,
    Custom: Option<Json>,
    Fingerprint: Option<String>,
    Title: Option<String>,
    Description: Option<String>,
    Severity: Severity,
    CweIDs: Option<Vec<String>>,
    /// Trivy's vendor severities are integers 0..4 keyed by source ID.
    VendorSeverity: Option<BTreeMap<String, u8>>,
    CVSS: Option<BTreeMap<String, Cvss>>,
    References: Option<Vec<String>>,
    PublishedDate: Option<Rfc3339>,
    LastModifiedDate: Option<Rfc3339>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MisconfSummary {
    Successes: i64,
    Failures: i64,
    Exceptions: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    Number: i64,
    Content: String,
    IsCause: bool,
    Annotation: Option<String>,
    Truncated: bool,
    Highlighted: Option<String>,
    FirstCause: bool,
    LastCause: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Code {
    Lines: Option<Vec<Line>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CauseMetadata {
    Resource: Option<String>,
    Provider: Option<String>,
    Service: Option<String>,
    StartLine: Option<i64>,
    EndLine: Option<i64>,
    Code: Option<Code>,
    Occurrences: Option<Vec<Json>>,
    RenderedCause: Option<Json>,
}

#[derive(Deserialize)]
enum PassFail {
    PASS,
    FAIL,
    EXCEPTION,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Misconfiguration {
    Type: Option<String>,
    ID: String,
    AVDID: Option<String>,
    Title: Option<String>,
    Description: Option<String>,
    Message: Option<String>,
    Namespace: Option<String>,
    Query: Option<String>,
    Resolution: Option<String>,
    Severity: Severity,
    PrimaryURL: Option<String>,
    References: Option<Vec<String>>,
    Status: PassFail,
    Layer: Option<Layer>,
    CauseMetadata: Option<CauseMetadata>,
    Traces: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Secret {
    RuleID: String,
    Category: String,
    Severity: Severity,
    Title: String,
    StartLine: i64,
    EndLine: i64,
    Code: Option<Code>,
    Match: String,
    Layer: Option<Layer>,
    Offset: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModifiedFinding {
    Type: String,
    Status: String,
    Statement: String,
    Source: String,
    Finding: Json,
}

fn check(label: &str, args: &[&str], needs_db: bool) -> Report {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = customs(cache.path());
    cmd.args(args).args(["-f", "json"]);
    if needs_db {
        cmd.arg("--db").arg(vuln_db());
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{label}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str::<Report>(&text).unwrap_or_else(|e| {
        panic!(
            "{label}: not Trivy's shape: {e}\n{}",
            &text[..text.len().min(3000)]
        )
    })
}

fn results(r: &Report) -> &[ScanResult] {
    r.Results.as_deref().unwrap_or(&[])
}

#[test]
fn image_report_with_every_scanner_has_trivys_shape() {
    let r = check(
        "alpine image",
        &[
            "image",
            "--input",
            &shared("images/alpine-3.10.tar.gz"),
            "--scanners",
            "vuln,secret,misconfig,hardening",
            "--list-all-pkgs",
        ],
        true,
    );
    assert!(matches!(r.ArtifactType, ArtifactType::ContainerImage));
    let m = r.Metadata.as_ref().unwrap_or_else(|| panic!("no Metadata"));
    assert!(m.OS.is_some() && m.DiffIDs.is_some() && m.ImageConfig.is_some());
    let res = results(&r);
    assert!(res
        .iter()
        .any(|x| x.Packages.as_ref().is_some_and(|p| !p.is_empty())));
    assert!(res.iter().any(|x| x.Misconfigurations.is_some()));
}

#[test]
fn vulnerability_report_has_trivys_shape() {
    for (label, path) in [
        (
            "alpine fixture",
            "crates/customs-detect/tests/fixtures/alpine-3.10-old",
        ),
        ("application dir", "target/app-dir"),
    ] {
        if label == "application dir" {
            // Built by the app image's script; make sure it is there.
            let _ = app_dir();
        }
        let r = check(
            label,
            &[
                "rootfs",
                path,
                "--scanners",
                "vuln,secret",
                "--list-all-pkgs",
            ],
            true,
        );
        let n: usize = results(&r)
            .iter()
            .map(|x| x.Vulnerabilities.as_ref().map_or(0, |v| v.len()))
            .sum();
        assert!(n > 0, "{label}: no vulnerabilities to check the shape of");
    }
}

#[test]
fn misconfig_secret_and_suppressed_reports_have_trivys_shape() {
    let r = check(
        "bad Dockerfiles",
        &["config", "crates/customs-misconfig/tests/dockerfiles/bad"],
        false,
    );
    assert!(results(&r).iter().any(|x| x.MisconfSummary.is_some()));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ignore = dir.path().join("i.yaml");
    std::fs::write(
        &ignore,
        "vulnerabilities:\n  - id: CVE-2019-14697\n    statement: not reachable\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = check(
        "suppressed",
        &[
            "rootfs",
            "crates/customs-detect/tests/fixtures/alpine-3.10-old",
            "--scanners",
            "vuln",
            "--show-suppressed",
            "--ignorefile",
            ignore.to_str().unwrap_or(""),
        ],
        true,
    );
    assert!(results(&r).iter().any(|x| x.ModifiedFindings.is_some()));
}
