#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = customs_ospkg::parse_apk_installed("lib/apk/db/installed", data);
    for pkg in &p.packages {
        assert!(!pkg.name.is_empty() && !pkg.version.is_empty());
    }
    // The streaming parser, over a small buffer, gives the same result.
    let streamed = customs_ospkg::read_apk_installed(
        "lib/apk/db/installed",
        std::io::BufReader::with_capacity(7, data),
        &customs_ospkg::StreamLimits::default(),
    );
    assert_eq!(streamed.ok().as_ref(), Some(&p));
});
