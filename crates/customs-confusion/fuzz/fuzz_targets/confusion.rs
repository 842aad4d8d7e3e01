//! Every parser of the dependency-confusion scanner: the first byte picks
//! the file kind, the rest is split at the first NUL into that file and a
//! second file of another kind (so that configs and lockfiles meet), and
//! into one image `Env` entry. The offline scan must not panic and must be
//! deterministic.
#![no_main]

use customs_confusion::{scan, wanted, Input, Options};
use libfuzzer_sys::fuzz_target;

use customs_confusion::SAMPLE_PATHS as PATHS;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let first = PATHS[usize::from(pick) % PATHS.len()];
    let second = PATHS[usize::from(pick / 7) % PATHS.len()];
    let (a, b) = match rest.iter().position(|&c| c == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    assert!(wanted(first));
    let env_value = String::from_utf8_lossy(b)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    let input = Input {
        files: vec![
            (first.to_string(), a.to_vec()),
            (second.to_string(), b.to_vec()),
        ],
        env: vec![
            ("GOPRIVATE".into(), env_value.clone()),
            ("PIP_EXTRA_INDEX_URL".into(), env_value),
        ],
    };
    let one = scan(&input, &Options::default()).expect("offline scan");
    let two = scan(&input, &Options::default()).expect("offline scan");
    assert_eq!(one, two);
});
