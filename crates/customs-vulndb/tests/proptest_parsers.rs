//! Property tests of the feed parsers: no input makes them panic, the
//! record counts add up, and generated well-formed feeds parse exactly.

use customs_vulndb::feeds::normalize_ecosystem;
use customs_vulndb::{parse_feed_bytes, FEED_KINDS};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_never_panic(kind in 0..FEED_KINDS.len(), bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let name = FEED_KINDS[kind];
        let file = if name == "osv" && bytes.first() == Some(&b'{') { "x.json" } else { "x.yaml" };
        let out = parse_feed_bytes(name, file, &bytes).unwrap();
        prop_assert!(out.skipped.len() + out.withdrawn <= out.records.max(1) || name == "osv-zip" || name == "nvd");
    }

    #[test]
    fn any_text_never_panics(kind in 0..FEED_KINDS.len(), text in "\\PC{0,300}") {
        let out = parse_feed_bytes(FEED_KINDS[kind], "x.json", text.as_bytes()).unwrap();
        prop_assert!(out.advisories.iter().all(|a| !a.package.is_empty()));
    }

    /// Mangled versions of a real-shaped document: truncated anywhere or
    /// with a byte replaced.
    #[test]
    fn mangled_documents_never_panic(kind in 0..4usize, cut in 0usize..2000, pos in 0usize..2000, byte in any::<u8>()) {
        let (name, doc): (&str, &str) = [
            ("alpine", "distroversion: v3.10\nreponame: main\npackages:\n  - pkg:\n      name: musl\n      secfixes:\n        1.1.22-r3:\n          - CVE-2019-14697\n        \"0\":\n          - CVE-2016-0001\n"),
            ("debian-list", "[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\t{CVE-2023-1393}\n\t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n\t[buster] - x <not-affected> (no)\n"),
            ("rustsec", "```toml\n[advisory]\nid = \"RUSTSEC-2020-0001\"\npackage = \"x\"\ndate = \"2020-01-01\"\n[versions]\npatched = [\">= 1.0\"]\n```\n# Title\nBody\n"),
            ("rubysec", "gem: rack\ncve: 2020-1\nghsa: aaaa-bbbb-cccc\ncvss_v3: 7.5\npatched_versions:\n  - \">= 2.0\"\n"),
        ][kind];
        let mut b = doc.as_bytes().to_vec();
        if !b.is_empty() {
            let p = pos % b.len();
            b[p] = byte;
        }
        b.truncate(cut.min(b.len()));
        let _ = parse_feed_bytes(name, "x.yaml", &b).unwrap();
    }

    /// A generated DSA list parses to exactly one record per header and one
    /// advisory per (CVE, release line).
    #[test]
    fn generated_dsa_lists(entries in proptest::collection::vec(
        (1u32..9999, "[a-z][a-z0-9+.-]{1,12}", proptest::collection::vec(1u32..99999, 0..4), "[0-9][0-9a-z.+~:-]{0,12}"),
        1..20)) {
        let mut text = String::new();
        let mut expected = std::collections::HashSet::new();
        for (i, (n, pkg, cves, version)) in entries.iter().enumerate() {
            let id = format!("DSA-{}-1", n * 100 + i as u32);
            text.push_str(&format!("[01 Jan 2020] {id} {pkg} - security update\n"));
            let ids: Vec<String> = if cves.is_empty() {
                vec![id.clone()]
            } else {
                let c: Vec<String> = cves.iter().map(|c| format!("CVE-2020-{c}")).collect();
                text.push_str(&format!("\t{{{}}}\n", c.join(" ")));
                c
            };
            text.push_str(&format!("\t[bookworm] - {pkg} {version}\n"));
            for v in ids {
                expected.insert((pkg.clone(), v));
            }
        }
        let out = parse_feed_bytes("debian-list", "DSA-list", text.as_bytes()).unwrap();
        prop_assert_eq!(out.records, entries.len());
        prop_assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let got: std::collections::HashSet<_> = out
            .advisories
            .iter()
            .map(|a| (a.package.clone(), a.vulnerability_id.clone()))
            .collect();
        prop_assert_eq!(got, expected);
    }

    /// Alpine secdb written from generated data reads back the same
    /// (package, CVE, fixed version) triples.
    #[test]
    fn generated_alpine_round_trips(pkgs in proptest::collection::btree_map(
        "[a-z][a-z0-9-]{0,10}",
        proptest::collection::btree_map("[1-9][0-9.]{0,6}-r[0-9]", proptest::collection::btree_set(1u32..99999, 1..3), 1..3),
        1..6)) {
        let mut y = String::from("distroversion: v3.18\nreponame: main\npackages:\n");
        let mut expected = std::collections::BTreeSet::new();
        for (p, fixes) in &pkgs {
            y.push_str(&format!("  - pkg:\n      name: {p}\n      secfixes:\n"));
            for (v, cves) in fixes {
                y.push_str(&format!("        {v}:\n"));
                for c in cves {
                    y.push_str(&format!("          - CVE-2021-{c}\n"));
                    expected.insert((p.clone(), format!("CVE-2021-{c}"), v.clone()));
                }
            }
        }
        let out = parse_feed_bytes("alpine", "main.yaml", y.as_bytes()).unwrap();
        prop_assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        prop_assert_eq!(out.records, pkgs.len());
        let got: std::collections::BTreeSet<_> = out
            .advisories
            .iter()
            .map(|a| (a.package.clone(), a.vulnerability_id.clone(), a.affected.fixed_versions()[0].to_string()))
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert!(out.advisories.iter().all(|a| a.ecosystem == "alpine:3.18"));
    }

    #[test]
    fn ecosystem_normalization_is_idempotent(e in "\\PC{0,30}") {
        let once = normalize_ecosystem(&e);
        prop_assert_eq!(normalize_ecosystem(&once), once);
    }
}
