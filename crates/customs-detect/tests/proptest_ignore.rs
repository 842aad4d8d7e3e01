//! Ignore files are user input: no input makes the parsers (or applying
//! their rules) panic, and what `.trivyignore` reads round-trips.

use std::path::Path;

use customs_detect::{apply, Date, IgnoreRules, Policy};
use customs_report::{class, DetectedVulnerability, Report, ScanResult};
use proptest::prelude::*;

fn one_vuln_report(id: &str) -> Report {
    let mut r = ScanResult::new("t", class::OS_PKGS, "alpine");
    r.vulnerabilities.push(DetectedVulnerability {
        vulnerability_id: id.into(),
        pkg_name: "p".into(),
        pkg_path: "a/b".into(),
        ..Default::default()
    });
    Report {
        results: vec![r],
        ..Default::default()
    }
}

proptest! {
    #[test]
    fn trivyignore_never_panics(text in any::<String>()) {
        if let Ok(rules) = IgnoreRules::parse_trivyignore(Path::new("f"), &text) {
            let mut r = one_vuln_report("CVE-1");
            let _ = apply(&mut r, &Policy { ignores: vec![rules], today: Date::from_days(19_000), ..Policy::default() });
        }
    }

    #[test]
    fn yaml_never_panics(text in any::<String>()) {
        if let Ok(rules) = IgnoreRules::parse_yaml(Path::new("f.yaml"), &text) {
            let mut r = one_vuln_report("CVE-1");
            let _ = apply(&mut r, &Policy { ignores: vec![rules], today: Date::from_days(19_000), ..Policy::default() });
        }
    }

    #[test]
    fn yaml_shaped_input_never_panics(
        id in "[A-Za-z0-9:*\\[\\]{}#'\"-]{0,12}",
        path in "[a-z/*?\\[\\]{}!.-]{0,12}",
        purl in "[a-z:/@?=&%.-]{0,20}",
        exp in "[0-9T:-]{0,12}",
    ) {
        let text = format!(
            "vulnerabilities:\n  - id: {id}\n    paths: [\"{path}\"]\n    purls: [\"{purl}\"]\n    expired_at: {exp}\n"
        );
        if let Ok(rules) = IgnoreRules::parse_yaml(Path::new("f.yaml"), &text) {
            let mut r = one_vuln_report(&id);
            let _ = apply(&mut r, &Policy { ignores: vec![rules], today: Date::from_days(19_000), ..Policy::default() });
        }
    }

    /// Written ids and dates are read back as written.
    #[test]
    fn trivyignore_round_trip(
        entries in proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,20}", proptest::option::of(0i64..40_000)), 0..8)
    ) {
        let mut text = String::from("# header\n");
        for (id, days) in &entries {
            match days {
                Some(d) => text.push_str(&format!("{id} exp:{} # note\n", Date::from_days(*d))),
                None => text.push_str(&format!("{id}\n\n")),
            }
        }
        let rules = IgnoreRules::parse_trivyignore(Path::new("f"), &text);
        prop_assert!(rules.is_ok());
        let rules = rules.unwrap_or_default();
        prop_assert_eq!(rules.rules.len(), entries.len());
        for (rule, (id, days)) in rules.rules.iter().zip(&entries) {
            prop_assert_eq!(&rule.id, id);
            prop_assert_eq!(rule.expired_at, days.map(Date::from_days));
        }
    }
}
