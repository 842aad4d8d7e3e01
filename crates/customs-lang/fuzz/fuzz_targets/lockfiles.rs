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
    "go.sum",
    "gems.locked",
    "conan.lock",
    "Manifest.toml",
    "build.sbt.lock",
    "environment.yml",
    "packages.config",
    "Directory.Packages.props",
    "pylock.toml",
    "package.json",
    "pyproject.toml",
    "Cargo.toml",
    "lib/x.jar",
];

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
