//! The VEX parsers (OpenVEX, CycloneDX, CSAF) on arbitrary bytes, and the
//! statements they give applied to a small report: nothing may panic.
#![no_main]

use customs_detect::vex::{apply_vex, parse, VexSet};
use customs_model::PkgIdentifier;
use customs_report::{class, DetectedVulnerability, Report, ScanResult};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = parse(data, "fuzz.json") else {
        return;
    };
    let mut result = ScanResult::new("img (alpine 3.10.4)", class::OS_PKGS, "alpine");
    result.vulnerabilities.push(DetectedVulnerability {
        vulnerability_id: "CVE-2019-14697".into(),
        vendor_ids: vec!["GHSA-xxxx-0001".into()],
        pkg_name: "musl".into(),
        pkg_identifier: PkgIdentifier {
            purl: Some("pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4".into()),
            uid: None,
        },
        ..Default::default()
    });
    let mut report = Report {
        artifact_name: "alpine:3.10".into(),
        artifact_type: "container_image".into(),
        results: vec![result],
        ..Default::default()
    };
    report.metadata.image_id =
        "sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e".into();
    report.metadata.repo_digests = vec![
        "alpine@sha256:af341ccd2df8b0e2d67cf8dd32e087bfda4e5756ebd1c76bbf3efa0dc246590e".into(),
    ];
    let _ = apply_vex(&mut report, &VexSet::new([doc]), true);
});
