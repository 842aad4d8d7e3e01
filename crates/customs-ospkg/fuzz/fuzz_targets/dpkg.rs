#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = customs_ospkg::parse_dpkg_status("var/lib/dpkg/status", data);
    for pkg in &p.packages {
        assert!(!pkg.name.is_empty() && !pkg.version.is_empty());
    }
    // The streaming parser, over a small buffer, gives the same result.
    let streamed = customs_ospkg::read_dpkg_status(
        "var/lib/dpkg/status",
        std::io::BufReader::with_capacity(7, data),
        &customs_ospkg::StreamLimits::default(),
    );
    assert_eq!(streamed.ok().as_ref(), Some(&p));
    let _ = customs_ospkg::parse_dpkg_list("var/lib/dpkg/info/x.list", data);
    let _ = customs_ospkg::parse_dpkg_copyright(data);
    if let Ok(s) = std::str::from_utf8(data) {
        if let Some(v) = customs_ospkg::split_dpkg_version(s) {
            let j = customs_ospkg::join_dpkg_version(&v);
            assert_eq!(customs_ospkg::split_dpkg_version(&j), Some(v));
        }
    }
});
