#![no_main]
//! Arbitrary bytes through every entry point of the scanner, plus a check
//! that streamed and whole-buffer scans agree.

use customs_secret::SecretScanner;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn scanner() -> &'static SecretScanner {
    static S: OnceLock<SecretScanner> = OnceLock::new();
    S.get_or_init(SecretScanner::builtin)
}

fuzz_target!(|data: &[u8]| {
    let s = scanner();
    let (path, body) = match data.iter().position(|&b| b == 0) {
        Some(i) if i < 64 => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        _ => ("app/.env".to_string(), data),
    };
    let _ = s.skip_path(&path);
    let text = s.scan_text(&path, body);
    let whole = s.scan(&path, body);
    let streamed = s.scan_reader(&path, std::io::Cursor::new(body)).unwrap_or_default();
    assert_eq!(whole, streamed);
    for f in text {
        assert!(f.start_line >= 1 && f.end_line >= f.start_line);
    }
});
