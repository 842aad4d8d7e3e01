#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = customs_ospkg::parse_apk_installed("lib/apk/db/installed", data);
    for pkg in &p.packages {
        assert!(!pkg.name.is_empty() && !pkg.version.is_empty());
    }
});
