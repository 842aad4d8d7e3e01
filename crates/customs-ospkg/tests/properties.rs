//! Property tests: the parsers never panic on arbitrary bytes, and Debian
//! versions split and join back to themselves.

use customs_ospkg::*;
use proptest::prelude::*;

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..2048)
}

/// Bytes that look like database lines, to reach deeper branches.
fn arb_lines() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(String::new()),
        "[PVAoLmDpFRct]:[ -~]{0,20}",
        "(Package|Version|Status|Source|Depends|Pre-Depends|Provides|Architecture): [ -~]{0,30}",
        " [ -~]{0,10}",
        "[ -~]{0,30}",
    ];
    prop::collection::vec(line, 0..40).prop_map(|ls| ls.join("\n").into_bytes())
}

/// A reader that hands out at most `step` bytes per `fill_buf`, so that
/// lines straddle buffer boundaries.
fn chunked(data: &[u8], step: usize) -> std::io::BufReader<&[u8]> {
    std::io::BufReader::with_capacity(step.max(1), data)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn apk_stream_equals_slice(
        data in prop_oneof![arb_bytes(), arb_lines()],
        step in 1usize..64,
    ) {
        let path = "lib/apk/db/installed";
        let streamed = read_apk_installed(path, chunked(&data, step), &StreamLimits::default());
        prop_assert_eq!(streamed.ok(), Some(parse_apk_installed(path, &data)));
    }

    #[test]
    fn dpkg_stream_equals_slice(
        data in prop_oneof![arb_bytes(), arb_lines()],
        step in 1usize..64,
    ) {
        let path = "var/lib/dpkg/status";
        let streamed = read_dpkg_status(path, chunked(&data, step), &StreamLimits::default());
        prop_assert_eq!(streamed.ok(), Some(parse_dpkg_status(path, &data)));
    }

    #[test]
    fn stream_limits_fail_or_match(
        data in arb_lines(),
        max_line in 1usize..40,
        max_stanza in 1usize..200,
    ) {
        // Under any limits the stream either gives what the slice gives or
        // fails with a TooLong error; never a partial result.
        let path = "var/lib/dpkg/status";
        let limits = StreamLimits {
            max_line,
            max_stanza,
            max_packages: max_stanza / 20,
            max_package_bytes: max_stanza,
        };
        match read_dpkg_status(path, data.as_slice(), &limits) {
            Ok(p) => prop_assert_eq!(p, parse_dpkg_status(path, &data)),
            Err(e) => prop_assert!(matches!(e, OsPkgError::TooLong { .. } | OsPkgError::TooBig { .. }), "{e}"),
        }
        match read_apk_installed("lib/apk/db/installed", data.as_slice(), &limits) {
            Ok(p) => prop_assert_eq!(p, parse_apk_installed("lib/apk/db/installed", &data)),
            Err(e) => prop_assert!(matches!(e, OsPkgError::TooLong { .. } | OsPkgError::TooBig { .. }), "{e}"),
        }
    }

    #[test]
    fn apk_never_panics(data in prop_oneof![arb_bytes(), arb_lines()]) {
        let p = parse_apk_installed("lib/apk/db/installed", &data);
        for pkg in &p.packages {
            prop_assert!(!pkg.name.is_empty() && !pkg.version.is_empty());
        }
    }

    #[test]
    fn dpkg_never_panics(data in prop_oneof![arb_bytes(), arb_lines()]) {
        let p = parse_dpkg_status("var/lib/dpkg/status", &data);
        for pkg in &p.packages {
            prop_assert!(!pkg.name.is_empty() && !pkg.version.is_empty());
        }
        let _ = parse_dpkg_list("var/lib/dpkg/info/x.list", &data);
        let _ = parse_dpkg_copyright(&data);
    }

    #[test]
    fn rpm_header_never_panics(data in arb_bytes()) {
        let _ = parse_rpm_header(&data);
    }

    #[test]
    fn rpm_header_with_plausible_counts(il in 1u32..8, dl in 0u32..64, rest in arb_bytes()) {
        let mut b = il.to_be_bytes().to_vec();
        b.extend_from_slice(&dl.to_be_bytes());
        b.extend_from_slice(&rest);
        let _ = parse_rpm_header(&b);
    }

    #[test]
    fn detect_os_never_panics(osr in arb_lines(), other in arb_bytes()) {
        let _ = detect_os(&|p: &str| match p {
            "etc/os-release" => Some(osr.as_slice()),
            "etc/debian_version" | "etc/redhat-release" | "etc/lsb-release" => Some(other.as_slice()),
            _ => None,
        });
    }

    #[test]
    fn eol_never_panics(family in "[a-z-]{0,12}", name in "[ -~]{0,20}") {
        let os = customs_model::OsInfo { family, name, eosl: false };
        let _ = eol(&os, Date::today());
        let _ = purl(&os, &customs_model::Package { name: "x".into(), version: "1".into(), ..Default::default() });
    }

    #[test]
    fn dpkg_version_round_trips(
        epoch in prop::option::of(0u32..100),
        upstream in "[0-9][A-Za-z0-9.+~]{0,12}",
        revision in prop::option::of("[A-Za-z0-9.+~]{1,8}"),
    ) {
        let mut s = String::new();
        if let Some(e) = epoch { s.push_str(&format!("{e}:")); }
        s.push_str(&upstream);
        if let Some(r) = &revision { s.push('-'); s.push_str(r); }
        let v = split_dpkg_version(&s);
        prop_assert!(v.is_some(), "{s}");
        let v = v.unwrap_or_default();
        prop_assert_eq!(v.epoch, epoch.unwrap_or(0));
        prop_assert_eq!(&v.upstream, &upstream);
        prop_assert_eq!(&v.revision, &revision.clone().unwrap_or_default());
        // join(split(s)) == s, modulo an explicit "0:" epoch
        let joined = join_dpkg_version(&v);
        let expect = if epoch == Some(0) { s.trim_start_matches("0:").to_string() } else { s.clone() };
        prop_assert_eq!(joined.clone(), expect);
        prop_assert_eq!(split_dpkg_version(&joined), Some(v));
    }

    #[test]
    fn dpkg_version_split_join_is_stable(s in "[0-9:.A-Za-z+~-]{0,20}") {
        if let Some(v) = split_dpkg_version(&s) {
            let j = join_dpkg_version(&v);
            prop_assert_eq!(split_dpkg_version(&j), Some(v));
        }
    }
}
