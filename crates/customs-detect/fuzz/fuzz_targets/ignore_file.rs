//! Both ignore-file parsers on arbitrary bytes, and the rules they give
//! applied to a small report: nothing may panic.
#![no_main]

use std::path::Path;

use customs_detect::{apply, Date, IgnoreRules, Policy};
use customs_model::PkgIdentifier;
use customs_report::{class, DetectedVulnerability, Report, ScanResult};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut rules = Vec::new();
    if let Ok(r) = IgnoreRules::parse_trivyignore(Path::new(".trivyignore"), text) {
        rules.push(r);
    }
    if let Ok(r) = IgnoreRules::parse_yaml(Path::new(".customsignore.yaml"), text) {
        rules.push(r);
    }
    let mut result = ScanResult::new("usr/lib/app", class::LANG_PKGS, "pip");
    result.vulnerabilities.push(DetectedVulnerability {
        vulnerability_id: "CVE-2023-1".into(),
        pkg_name: "p".into(),
        pkg_path: "usr/lib/app/METADATA".into(),
        pkg_identifier: PkgIdentifier {
            purl: Some("pkg:pypi/p@1.0".into()),
            uid: None,
        },
        ..Default::default()
    });
    let mut report = Report {
        results: vec![result],
        ..Default::default()
    };
    let policy = Policy {
        ignores: rules,
        show_suppressed: true,
        today: Date::from_days(19_500),
        ..Policy::default()
    };
    let _ = apply(&mut report, &policy);
});
