//! The first byte picks the parser; the rest is the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

use customs_lang::SAMPLE_PATHS as PATHS;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let path = PATHS[usize::from(pick) % PATHS.len()];
    if let Some(a) = customs_lang::analyzer_for(path) {
        let _ = customs_lang::parse(&a, path, rest);
    }
    if path == "pom.xml" {
        let half = rest.len() / 2;
        let parent = String::from_utf8_lossy(&rest[half..]).into_owned();
        let _ = customs_lang::parse_pom_with_parents("a/b/pom.xml", &rest[..half], &|_| {
            Some(parent.clone())
        });
    }
    if let (Some(lock), Some(m)) = (
        match path {
            "package.json" => Some("yarn.lock"),
            "pyproject.toml" => Some("poetry.lock"),
            "Cargo.toml" => Some("Cargo.lock"),
            _ => None,
        },
        customs_lang::analyzer_for(path),
    ) {
        let half = rest.len() / 2;
        if let (Some(la), Ok(man)) = (
            customs_lang::analyzer_for(lock),
            customs_lang::parse(&m, path, &rest[..half]),
        ) {
            let pkgs = customs_lang::parse(&la, lock, &rest[half..]).unwrap_or_default();
            let _ = customs_lang::apply_manifests(la.lang_type, pkgs, &[&man]);
        }
    }
    if path == "go.mod" {
        let half = rest.len() / 2;
        let _ = customs_lang::merge_go_sum("go.mod", &rest[..half], "go.sum", &rest[half..]);
    }
});
