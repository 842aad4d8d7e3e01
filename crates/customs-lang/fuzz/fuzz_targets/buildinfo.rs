//! parse_binary on arbitrary bytes (ELF/PE/Mach-O parsing, Go build info in
//! both layouts, cargo-auditable sections).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = customs_lang::is_binary_candidate(data);
    let _ = customs_lang::parse_binary("bin", data);
});
