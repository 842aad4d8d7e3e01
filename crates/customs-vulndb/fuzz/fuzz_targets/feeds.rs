//! Every feed parser on arbitrary input: the first byte picks the parser
//! (and JSON or YAML where both exist), the rest is the file. No panic.
#![no_main]

use customs_vulndb::{parse_feed_bytes, FEED_KINDS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let kind = FEED_KINDS[usize::from(sel) % FEED_KINDS.len()];
    let file = if sel & 0x80 != 0 { "x.json" } else { "x.yaml" };
    if let Some(out) = parse_feed_bytes(kind, file, rest) {
        assert!(out.advisories.iter().all(|a| !a.package.is_empty()));
    }
});
