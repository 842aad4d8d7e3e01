//! The first byte picks the parser; the rest is the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

const PATHS: &[&str] = &[
    "Cargo.lock",
    "go.mod",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "requirements.txt",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "Gemfile.lock",
    "composer.lock",
    "mix.lock",
    "pom.xml",
    "gradle.lockfile",
    "packages.lock.json",
    "pubspec.lock",
    "Podfile.lock",
    "Package.resolved",
    "node_modules/x/package.json",
    "lib/x-1.0.dist-info/METADATA",
    "specifications/x.gemspec",
    "vendor/composer/installed.json",
    "app.deps.json",
    "conda-meta/x.json",
    "lib/x.jar",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let path = PATHS[usize::from(pick) % PATHS.len()];
    if let Some(a) = customs_lang::analyzer_for(path) {
        let _ = customs_lang::parse(&a, path, rest);
    }
    if path == "go.mod" {
        let half = rest.len() / 2;
        let _ = customs_lang::merge_go_sum("go.mod", &rest[..half], "go.sum", &rest[half..]);
    }
});
