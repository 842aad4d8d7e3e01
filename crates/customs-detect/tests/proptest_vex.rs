//! VEX documents are untrusted input: no bytes make the parsers panic, and
//! neither does applying what they parse to a report.

use customs_detect::vex::{apply_vex, parse, Timestamp, VexSet};
use customs_model::PkgIdentifier;
use customs_report::{class, DetectedVulnerability, Report, ScanResult};
use proptest::prelude::*;

fn report() -> Report {
    let mut r = ScanResult::new("t", class::OS_PKGS, "alpine");
    r.vulnerabilities.push(DetectedVulnerability {
        vulnerability_id: "CVE-1".into(),
        vendor_ids: vec!["GHSA-1".into()],
        pkg_name: "musl".into(),
        pkg_identifier: PkgIdentifier {
            purl: Some("pkg:apk/alpine/musl@1.1?arch=x86_64".into()),
            uid: None,
        },
        ..Default::default()
    });
    let mut rep = Report {
        results: vec![r],
        ..Default::default()
    };
    rep.metadata.image_id = format!("sha256:{}", "ab".repeat(32));
    rep
}

fn exercise(bytes: &[u8]) {
    if let Ok(doc) = parse(bytes, "f.json") {
        let mut r = report();
        let _ = apply_vex(&mut r, &VexSet::new([doc]), true);
    } else if let Err(e) = parse(bytes, "f.json") {
        let msg = e.to_string();
        assert!(msg.starts_with("VEX file f.json: "), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}

/// JSON-ish text in the shape of each format, with arbitrary values.
fn shaped() -> impl Strategy<Value = String> {
    let s = "[ -~]{0,24}";
    (0..3usize, s, s, s, s, s).prop_map(|(kind, a, b, c, d, e)| {
        let q = |x: &str| serde_json::to_string(x).unwrap_or_default();
        match kind {
            0 => format!(
                r#"{{"@context":"https://openvex.dev/ns/v0.2.0","timestamp":{},"statements":[{{"vulnerability":{{"name":{},"aliases":[{}]}},"products":[{{"@id":{},"subcomponents":[{}]}}],"status":"not_affected","justification":{}}}]}}"#,
                q(&a), q(&b), q(&c), q(&d), q(&e), q(&a)
            ),
            1 => format!(
                r#"{{"bomFormat":"CycloneDX","metadata":{{"component":{{"bom-ref":{},"purl":{}}}}},"vulnerabilities":[{{"id":{},"analysis":{{"state":"not_affected","lastUpdated":{}}},"affects":[{{"ref":{}}}]}}]}}"#,
                q(&a), q(&b), q(&c), q(&d), q(&e)
            ),
            _ => format!(
                r#"{{"document":{{"category":"csaf_vex","tracking":{{"current_release_date":{}}}}},"product_tree":{{"branches":[{{"product":{{"product_id":{},"product_identification_helper":{{"purl":{}}}}}}}],"relationships":[{{"category":"default_component_of","full_product_name":{{"product_id":{}}},"product_reference":{},"relates_to_product_reference":{}}}]}},"vulnerabilities":[{{"cve":{},"product_status":{{"known_not_affected":[{}]}},"flags":[{{"label":{},"product_ids":[{}]}}]}}]}}"#,
                q(&a), q(&b), q(&c), q(&d), q(&b), q(&e), q(&a), q(&d), q(&c), q(&b)
            ),
        }
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes);
    }

    #[test]
    fn shaped_documents_never_panic(doc in shaped()) {
        exercise(doc.as_bytes());
    }

    #[test]
    fn purl_like_products_never_panic(
        product in "(pkg:|sha256:|cpe:)?[a-z0-9%@?=&/:.+-]{0,40}",
        sub in "pkg:[a-z0-9%@?=&/:.+-]{0,30}",
    ) {
        let doc = format!(
            r#"{{"@context":"https://openvex.dev/ns","statements":[{{"vulnerability":"CVE-1","products":[{}],"subcomponents":[{}],"status":"fixed"}}]}}"#,
            serde_json::to_string(&product).unwrap_or_default(),
            serde_json::to_string(&sub).unwrap_or_default(),
        );
        exercise(doc.as_bytes());
    }

    #[test]
    fn timestamps_never_panic(s in "[0-9TZtz:+. -]{0,40}") {
        let _ = Timestamp::parse(&s);
    }
}
