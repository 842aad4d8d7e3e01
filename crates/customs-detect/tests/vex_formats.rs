//! The three VEX formats as their publishers write them (fixtures in
//! tests/fixtures/vex, written after the OpenVEX specification's examples,
//! CycloneDX's bom-examples/VEX and the CSAF VEX profile's examples), what
//! each statement reads as, and `generate_openvex` read back by the parser.

use std::path::{Path, PathBuf};

use customs_detect::vex::{
    apply_vex, generate_openvex, load, parse, GenerateOptions, Timestamp, VexFormat, VexSet,
    VexStatement, VexStatus, OPENVEX_CONTEXT,
};
use customs_detect::{Date, IgnoreRules};
use customs_model::PkgIdentifier;
use customs_report::{class, DetectedVulnerability, ModifiedFinding, Report, ScanResult};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vex")
        .join(name)
}

fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn ts(s: &str) -> Option<Timestamp> {
    Some(Timestamp::parse(s).unwrap_or_else(|| panic!("{s}")))
}

fn find<'a>(st: &'a [VexStatement], vuln: &str) -> Vec<&'a VexStatement> {
    st.iter().filter(|s| s.vulnerability == vuln).collect()
}

const IMAGE: &str = "sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e";

#[test]
fn openvex_0_2() {
    let d = must(load(&fixture("openvex-0.2.json")));
    assert_eq!(d.format, VexFormat::OpenVex);
    // last_updated (+01:00) wins over timestamp for the document.
    assert_eq!(d.timestamp, ts("2024-03-02T07:30:00.123456789Z"));
    assert_eq!(d.statements.len(), 5);
    let musl = find(&d.statements, "CVE-2019-14697")[0];
    assert_eq!(musl.status, VexStatus::NotAffected);
    assert_eq!(musl.products, ["pkg:apk/alpine/musl"]);
    assert_eq!(
        musl.aliases,
        [
            "GHSA-xxxx-musl-0001",
            "https://nvd.nist.gov/vuln/detail/CVE-2019-14697"
        ]
    );
    assert_eq!(musl.justification, "vulnerable_code_not_in_execute_path");
    assert_eq!(
        musl.statement_text(),
        "vulnerable_code_not_in_execute_path: The i386 code path is not built for x86_64."
    );
    assert_eq!(musl.timestamp, d.timestamp);
    let bb = find(&d.statements, "CVE-2019-5747")[0];
    assert_eq!(bb.status, VexStatus::UnderInvestigation);
    assert_eq!(bb.timestamp, ts("2024-03-03T00:00:00Z"));
    assert!(bb.products.iter().any(|p| p == IMAGE), "{:?}", bb.products);
    assert!(bb.products[0].starts_with("pkg:oci/alpine@sha256%3Aaf341c"));
    assert_eq!(bb.subcomponents, ["pkg:apk/alpine/busybox"]);
    let ssl = find(&d.statements, "CVE-2019-1549")[0];
    assert_eq!(ssl.status, VexStatus::Affected);
    assert_eq!(
        ssl.action_statement,
        "Upgrade to openssl 1.1.1d-r0 or later."
    );
    assert!(d
        .statements
        .iter()
        .all(|s| s.source.ends_with("openvex-0.2.json")));
}

#[test]
fn openvex_0_0_x_strings() {
    let d = must(load(&fixture("openvex-0.0.2.json")));
    assert_eq!(d.format, VexFormat::OpenVex);
    assert_eq!(d.timestamp, ts("2023-01-09T00:02:03.647787998Z"));
    assert_eq!(d.statements.len(), 3, "one statement per product");
    let git: Vec<_> = find(&d.statements, "CVE-2023-12345");
    assert_eq!(git.len(), 2);
    assert_eq!(git[1].products, ["pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64"]);
    assert!(git.iter().all(|s| s.status == VexStatus::Fixed));
    let curl = find(&d.statements, "CVE-2023-23456")[0];
    assert_eq!(curl.subcomponents, ["pkg:apk/wolfi/curl"]);
}

#[test]
fn cyclonedx_1_6() {
    let d = must(load(&fixture("cyclonedx-1.6.vex.json")));
    assert_eq!(d.format, VexFormat::CycloneDx);
    assert_eq!(d.timestamp, ts("2024-05-01T00:00:00Z"));
    // CVE-2019-1549 has no analysis: no statement. CVE-2019-1563's only
    // affects entry carries a version range: no product.
    let ids: Vec<_> = d
        .statements
        .iter()
        .map(|s| s.vulnerability.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "CVE-2019-14697",
            "CVE-2019-5747",
            "CVE-2018-20679",
            "CVE-2019-1563"
        ]
    );
    let musl = &d.statements[0];
    assert_eq!(musl.status, VexStatus::NotAffected, "false_positive");
    assert_eq!(musl.justification, "code_not_reachable");
    assert_eq!(musl.aliases, ["GHSA-xxxx-musl-0001"]);
    // bom-refs, nested components and BOM-Links resolve to PURLs.
    assert_eq!(
        musl.products,
        [
            "pkg:apk/alpine/musl@1.1.15-r4?arch=x86_64&distro=3.10.4",
            "pkg:apk/alpine/musl-utils@1.1.15-r4?arch=x86_64&distro=3.10.4"
        ]
    );
    assert_eq!(musl.timestamp, ts("2024-04-02T00:00:00Z"), "lastUpdated");
    assert_eq!(d.statements[1].status, VexStatus::UnderInvestigation);
    assert_eq!(d.statements[1].products, ["pkg:apk/alpine/busybox"]);
    assert_eq!(d.statements[1].timestamp, d.timestamp);
    assert_eq!(d.statements[2].status, VexStatus::Fixed, "resolved");
    assert_eq!(d.statements[3].status, VexStatus::Affected, "exploitable");
    assert!(d.statements[3].products.is_empty());
    assert_eq!(d.statements[3].action_statement, "update");
}

#[test]
fn csaf_vex_profile() {
    let d = must(load(&fixture("csaf-vex.json")));
    assert_eq!(d.format, VexFormat::Csaf);
    assert_eq!(d.timestamp, ts("2024-06-01T10:00:00Z"));
    let na = find(&d.statements, "CVE-2018-20679");
    assert_eq!(na.len(), 1);
    let na = na[0];
    assert_eq!(na.status, VexStatus::NotAffected);
    assert_eq!(na.aliases, ["EXBUG-1234"]);
    // A relationship: the component inside the product it relates to.
    assert_eq!(
        na.products,
        ["pkg:oci/alpine@sha256%3Aaf341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e"]
    );
    assert_eq!(
        na.subcomponents,
        ["pkg:apk/alpine/busybox@1.27.2-r4?arch=x86_64"]
    );
    // The flag names the product through its group, and carries a date.
    assert_eq!(na.justification, "vulnerable_code_not_in_execute_path");
    assert_eq!(
        na.impact_statement,
        "udhcpc is never started in this image."
    );
    assert_eq!(na.timestamp, ts("2024-06-01T09:00:00Z"));

    let bb = find(&d.statements, "CVE-2019-5747");
    let statuses: Vec<_> = bb
        .iter()
        .map(|s| (s.status, s.products[0].as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            (VexStatus::Fixed, "pkg:apk/alpine/ssl_client@1.27.2-r4"),
            (
                VexStatus::UnderInvestigation,
                "pkg:apk/alpine/busybox@1.27.2-r4?arch=x86_64"
            ),
        ]
    );
    assert_eq!(
        bb[0].action_statement,
        "vendor_fix: Rebuilt with the upstream patch."
    );

    let aff = find(&d.statements, "CVE-2019-14697");
    assert_eq!(aff.len(), 2);
    // A product without a package URL cannot match anything...
    assert!(aff[0].products.is_empty());
    assert_eq!(
        aff[0].action_statement,
        "no_fix_planned: The appliance is end of life."
    );
    // ... and a component of it stands for itself.
    assert_eq!(aff[1].products, ["pkg:apk/alpine/ssl_client@1.27.2-r4"]);
    assert!(aff[1].subcomponents.is_empty());
}

#[test]
fn csaf_without_the_vex_profile_is_refused() {
    let e = load(&fixture("csaf-advisory.json"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.starts_with("VEX file ")
            && e.ends_with(
                "csaf-advisory.json: a CSAF document of category \"csaf_security_advisory\", not the VEX profile (csaf_vex)"
            ),
        "{e}"
    );
}

fn finding(id: &str, purl: &str) -> DetectedVulnerability {
    DetectedVulnerability {
        vulnerability_id: id.into(),
        pkg_name: purl
            .split('/')
            .nth(2)
            .unwrap_or("")
            .split('@')
            .next()
            .unwrap_or("")
            .into(),
        pkg_identifier: PkgIdentifier {
            purl: Some(purl.into()),
            uid: None,
        },
        ..Default::default()
    }
}

#[test]
fn generated_openvex_reads_back() {
    let rules = must(IgnoreRules::parse_yaml(
        Path::new(".customsignore.yaml"),
        "vulnerabilities:\n\
         \x20 - id: CVE-2019-14697\n\
         \x20   purls: [\"pkg:apk/alpine/musl\"]\n\
         \x20   statement: vulnerable_code_not_in_execute_path\n\
         \x20 - id: CVE-2019-5747\n\
         \x20   paths: [\"lib/apk/db/installed\"]\n\
         \x20   statement: udhcpc is not used\n\
         \x20   expired_at: 2099-01-01\n\
         \x20 - id: CVE-2018-0734\n\
         \x20   expired_at: 2020-01-01\n\
         \x20 - id: CVE-2000-0001\n\
         \x20   paths: [\"nowhere/**\"]\n\
         misconfigurations:\n\
         \x20 - id: AVD-DS-0002\n",
    ));
    let mut res = ScanResult::new("alpine:3.10 (alpine 3.10.4)", class::OS_PKGS, "alpine");
    let mut bb = finding(
        "CVE-2019-5747",
        "pkg:apk/alpine/busybox@1.27.2-r4?arch=x86_64&distro=3.10.4",
    );
    bb.pkg_path = "lib/apk/db/installed".into();
    res.vulnerabilities.push(bb);
    let mut fixed = finding(
        "CVE-2019-1547",
        "pkg:apk/alpine/libcrypto1.1@1.1.1b-r1?arch=x86_64",
    );
    fixed.vendor_ids = vec!["ALPINE-1547".into()];
    res.modified_findings.push(ModifiedFinding {
        kind: "vulnerability".into(),
        status: "fixed".into(),
        statement: "Rebuilt".into(),
        source: "vendor.vex.json".into(),
        finding: must(serde_json::to_value(&fixed)),
    });
    res.modified_findings.push(ModifiedFinding {
        kind: "vulnerability".into(),
        status: "ignored".into(),
        statement: String::new(),
        source: ".trivyignore".into(),
        finding: must(serde_json::to_value(finding(
            "CVE-2019-1549",
            "pkg:apk/alpine/libssl1.1@1.1.1b-r1?arch=x86_64",
        ))),
    });
    let report = Report {
        results: vec![res],
        ..Default::default()
    };
    let opts = GenerateOptions {
        author: "Example Security".into(),
        role: "Document Creator".into(),
        timestamp: "2026-12-01T00:00:00Z".into(),
        today: must(Date::parse("2026-12-01").ok_or("date")),
        products: Vec::new(),
    };
    let g = must(generate_openvex(
        std::slice::from_ref(&rules),
        Some(&report),
        &opts,
    ));
    assert_eq!(g.statements, 4, "{}", g.document);
    assert_eq!(g.skipped.len(), 2, "{:?}", g.skipped);
    assert!(
        g.skipped[0].starts_with("CVE-2018-0734 (.customsignore.yaml:"),
        "{:?}",
        g.skipped
    );
    assert!(g.skipped[0].ends_with("expired; left out"));
    assert!(g.skipped[1].starts_with("CVE-2000-0001"));

    // Deterministic: the same input gives the same bytes (and @id).
    let again = must(generate_openvex(
        std::slice::from_ref(&rules),
        Some(&report),
        &opts,
    ));
    assert_eq!(g.document, again.document);
    let other = must(generate_openvex(
        &[rules],
        Some(&report),
        &GenerateOptions {
            timestamp: "2026-12-02T00:00:00Z".into(),
            ..opts.clone()
        },
    ));
    let id = |doc: &str| must(serde_json::from_str::<serde_json::Value>(doc))["@id"].clone();
    assert_ne!(id(&g.document), id(&other.document));
    let json: serde_json::Value = must(serde_json::from_str(&g.document));
    assert_eq!(json["@context"], OPENVEX_CONTEXT);
    assert_eq!(json["author"], "Example Security");

    // Read back.
    let d = must(parse(g.document.as_bytes(), "generated.json"));
    assert_eq!(d.format, VexFormat::OpenVex);
    assert_eq!(d.timestamp, ts("2026-12-01T00:00:00Z"));
    let musl = find(&d.statements, "CVE-2019-14697")[0];
    assert_eq!(musl.status, VexStatus::NotAffected);
    assert_eq!(musl.justification, "vulnerable_code_not_in_execute_path");
    assert_eq!(musl.products, ["pkg:apk/alpine/musl"]);
    let bb = find(&d.statements, "CVE-2019-5747")[0];
    // A path-scoped rule: the package of the finding it matched.
    assert_eq!(
        bb.products,
        ["pkg:apk/alpine/busybox@1.27.2-r4?arch=x86_64&distro=3.10.4"]
    );
    assert_eq!(bb.justification, "");
    assert_eq!(
        bb.impact_statement,
        "udhcpc is not used (ignored until 2099-01-01 (.customsignore.yaml:5))"
    );
    let fx = find(&d.statements, "CVE-2019-1547")[0];
    assert_eq!(fx.status, VexStatus::Fixed);
    assert_eq!(fx.aliases, ["ALPINE-1547"]);
    let ig = find(&d.statements, "CVE-2019-1549")[0];
    assert_eq!(ig.impact_statement, "suppressed by .trivyignore");

    // And it suppresses what it says.
    let mut res = ScanResult::new("t", class::OS_PKGS, "alpine");
    res.vulnerabilities.push(finding(
        "CVE-2019-14697",
        "pkg:apk/alpine/musl@1.1.15-r4?arch=x86_64&distro=3.10.4",
    ));
    res.vulnerabilities.push(finding(
        "CVE-2019-14697",
        "pkg:apk/alpine/musl-utils@1.1.15-r4?arch=x86_64&distro=3.10.4",
    ));
    let mut r = Report {
        results: vec![res],
        ..Default::default()
    };
    let out = apply_vex(&mut r, &VexSet::new([d]), true);
    assert_eq!(out.suppressed, 1);
    assert_eq!(r.results[0].vulnerabilities[0].pkg_name, "musl-utils");
}

#[test]
fn generate_refuses_bad_options() {
    let opts = GenerateOptions {
        author: String::new(),
        role: String::new(),
        timestamp: "2026-12-01T00:00:00Z".into(),
        today: Date::from_days(20_000),
        products: Vec::new(),
    };
    let e = generate_openvex(&[], None, &opts)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("cannot generate VEX: an author is required")
    );
    let e = generate_openvex(
        &[],
        None,
        &GenerateOptions {
            author: "me".into(),
            timestamp: "today".into(),
            ..opts
        },
    )
    .err()
    .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("cannot generate VEX: timestamp \"today\" is not an RFC 3339 timestamp")
    );
}

#[test]
fn trivyignore_rules_without_packages_use_the_given_products() {
    let rules = must(IgnoreRules::parse_trivyignore(
        Path::new(".trivyignore"),
        "CVE-2019-14697\nAVD-DS-0002\naws-access-key-id\n",
    ));
    let image = format!("pkg:oci/alpine@{}", IMAGE.replace(':', "%3A"));
    let g = must(generate_openvex(
        &[rules],
        None,
        &GenerateOptions {
            author: "me".into(),
            role: String::new(),
            timestamp: "2026-12-01T00:00:00Z".into(),
            today: Date::from_days(20_000),
            products: vec![image.clone()],
        },
    ));
    assert_eq!(g.statements, 1, "{}", g.document);
    let d = must(parse(g.document.as_bytes(), "g"));
    assert_eq!(d.statements[0].products, [image]);
    assert_eq!(
        d.statements[0].impact_statement,
        "ignored by .trivyignore:1"
    );
}
