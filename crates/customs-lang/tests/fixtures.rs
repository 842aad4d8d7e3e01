//! Every fixture directory under tests/fixtures/<format>/ is walked; each
//! file an analyzer claims is parsed and the package lists are compared with
//! the committed insta snapshot (tests/snapshots/fixtures__<format>.snap).

use customs_lang::{analyzer_for, parse, Kind};
use customs_model::Package;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Serialize)]
struct FileResult {
    file: String,
    r#type: &'static str,
    packages: Vec<Package>,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn run(format: &str) -> Vec<FileResult> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format);
    let mut files = Vec::new();
    walk(&base, &mut files);
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&base)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(a) = analyzer_for(&rel) else {
            continue;
        };
        assert_ne!(a.kind, Kind::Binary);
        if a.kind == Kind::Manifest {
            // Read only at the merge, to complete a lockfile (customs-inventory).
            continue;
        }
        let data = std::fs::read(&f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        let packages = parse(&a, &rel, &data).unwrap_or_else(|e| panic!("{e}"));
        out.push(FileResult {
            file: rel,
            r#type: a.lang_type,
            packages,
        });
    }
    assert!(!out.is_empty(), "no analyzable file in fixtures/{format}");
    out
}

macro_rules! fixture {
    ($($name:ident => $dir:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            insta::assert_json_snapshot!($dir, run($dir));
        }
    )*};
}

fixture! {
    cargo => "cargo",
    cargo_v1 => "cargo-v1",
    go => "go",
    go_old => "go-old",
    npm_v1 => "npm-v1",
    npm_v3 => "npm-v3",
    yarn_classic => "yarn-classic",
    yarn_berry => "yarn-berry",
    pnpm_v5 => "pnpm-v5",
    pnpm_v6 => "pnpm-v6",
    pnpm_v9 => "pnpm-v9",
    bun => "bun",
    pip => "pip",
    poetry => "poetry",
    pipenv => "pipenv",
    uv => "uv",
    bundler => "bundler",
    composer => "composer",
    hex => "hex",
    pom => "pom",
    gradle => "gradle",
    nuget => "nuget",
    pub_ => "pub",
    cocoapods => "cocoapods",
    swift_v1 => "swift-v1",
    swift_v2 => "swift-v2",
    python_pkg => "python-pkg",
    node_pkg => "node-pkg",
    gemspec => "gemspec",
    composer_vendor => "composer-vendor",
    dotnet_core => "dotnet-core",
    conda => "conda",
    conan_v1 => "conan-v1",
    conan_v2 => "conan-v2",
    julia_v1 => "julia-v1",
    julia_v2 => "julia-v2",
    sbt => "sbt",
    conda_env => "conda-env",
    nuget_config => "nuget-config",
    packages_props => "packages-props",
    pylock => "pylock",
    gems_locked => "gems-locked",
    go_sum => "go-sum",
    pnpm_multidoc => "pnpm-multidoc",
    pnpm_local => "pnpm-local",
    yarn_quoted => "yarn-quoted",
    pip_utf16 => "pip-utf16",
    pip_edge => "pip-edge",
    dotnet_selfcontained => "dotnet-selfcontained",
    pom_edge => "pom-edge",
    npm_broken_link => "npm-broken-link",
}
