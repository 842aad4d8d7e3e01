#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = customs_ospkg::parse_rpm_header(data);
});
