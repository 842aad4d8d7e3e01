//! Regression tests for the lockfile defects found by comparing customs with
//! Trivy on the peers' own test data (issue 15). Each reads a fixture of
//! ours written in the upstream format (tests/fixtures/<dir>/) and checks
//! the behaviour the defect was about; the full lists are in the snapshots
//! of tests/fixtures.rs.

use customs_lang::{analyzer_for, parse};
use customs_model::{Package, Relationship};
use std::path::Path;

fn read(rel: &str) -> Vec<Package> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let a = analyzer_for(rel).unwrap_or_else(|| panic!("no analyzer for {rel}"));
    parse(&a, rel, &data).unwrap_or_else(|e| panic!("{e}"))
}

fn ids(p: &[Package]) -> Vec<&str> {
    p.iter().map(|p| p.id.as_str()).collect()
}

fn get<'a>(p: &'a [Package], id: &str) -> &'a Package {
    p.iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| panic!("{id} not in {:?}", ids(p)))
}

#[test]
fn pnpm_multi_document_lockfile_reads_the_project_document() {
    let p = read("pnpm-multidoc/pnpm-lock.yaml");
    assert_eq!(ids(&p), ["is-number@7.0.0", "ms@2.1.3"]);
    assert!(get(&p, "is-number@7.0.0").dev);
    assert!(!get(&p, "ms@2.1.3").dev);
}

#[test]
fn pnpm_tarball_and_file_entries_keep_name_and_version() {
    let p = read("pnpm-local/pnpm-lock.yaml");
    assert_eq!(
        ids(&p),
        [
            "helper-lib@2.0.0",
            "is-negative@2.1.0",
            "local-util@1.4.0",
            "ms@2.1.3"
        ]
    );
    // Direct from the importer, and not dev: the runtime roots resolve.
    for id in ["helper-lib@2.0.0", "is-negative@2.1.0", "local-util@1.4.0"] {
        assert_eq!(get(&p, id).relationship, Some(Relationship::Direct), "{id}");
        assert!(!get(&p, id).dev, "{id}");
    }
    assert_eq!(get(&p, "local-util@1.4.0").depends_on, ["ms@2.1.3"]);
    assert!(!get(&p, "ms@2.1.3").dev);

    let v6 = read("pnpm-local/v6/pnpm-lock.yaml");
    assert_eq!(
        ids(&v6),
        ["is-positive@3.1.0", "local-pkg@0.3.1", "ms@2.1.3"]
    );
    assert_eq!(
        get(&v6, "local-pkg@0.3.1").relationship,
        Some(Relationship::Direct)
    );
}

#[test]
fn yarn_classic_with_quoted_keys() {
    let p = read("yarn-quoted/yarn.lock");
    assert_eq!(
        ids(&p),
        [
            "@babel/code-frame@7.22.13",
            "@babel/highlight@7.22.20",
            "chalk@2.4.2",
            "typescript@5.2.2"
        ]
    );
    assert_eq!(
        get(&p, "@babel/code-frame@7.22.13").depends_on,
        ["@babel/highlight@7.22.20", "chalk@2.4.2"]
    );
}

#[test]
fn requirements_utf16_with_bom() {
    let p = read("pip-utf16/requirements.txt");
    assert_eq!(ids(&p), ["Flask@2.3.3", "requests@2.31.0"]);
}

#[test]
fn requirements_comments_quotes_and_templates() {
    let p = read("pip-edge/requirements.txt");
    assert_eq!(
        ids(&p),
        [
            "attrs@23.1.0",
            "certifi@2023.7.22",
            "idna@3.4",
            "six@1.16.0",
            "urllib3@1.26.18"
        ]
    );
}

#[test]
fn deps_json_runtime_packs_and_runtime_assets() {
    let p = read("dotnet-selfcontained/app/webapp.deps.json");
    assert_eq!(
        ids(&p),
        [
            // The runtime packs, without the `runtimepack.` prefix.
            "Microsoft.AspNetCore.App.Runtime.linux-x64@8.0.6",
            // runtimeTargets count as runtime assets.
            "Microsoft.Data.SqlClient@5.1.1",
            // Not in the runtime target: kept (cannot tell).
            "Microsoft.Extensions.Orphan@1.0.0",
            "Microsoft.NETCore.App.Runtime.linux-x64@8.0.6",
            "Newtonsoft.Json@13.0.3",
        ]
    );
    // StyleCop.Analyzers and the SNI package have no runtime assets.
}

#[test]
fn pom_ranges_and_scopes() {
    let p = read("pom-edge/pom.xml");
    let got: Vec<(&str, bool)> = p.iter().map(|p| (p.id.as_str(), p.dev)).collect();
    assert_eq!(
        got,
        [
            ("com.example:edge:1.0.0", false),
            // A hard requirement is a version; a range is not.
            ("com.google.guava:guava:32.1.2-jre", false),
            ("javax.servlet:javax.servlet-api:4.0.1", true), // managed scope provided
            ("junit:junit:4.13.2", true),
            ("org.apache.commons:commons-lang3", false),
            ("org.projectlombok:lombok:1.18.30", true),
            ("org.slf4j:slf4j-api:2.0.9", false),
        ]
    );
    assert_eq!(get(&p, "org.apache.commons:commons-lang3").version, "");
}

#[test]
fn npm_broken_link_is_not_a_package_named_by_its_path() {
    let p = read("npm-broken-link/package-lock.json");
    assert_eq!(ids(&p), ["@acme/ui@0.2.0", "ms@2.1.3"]);
    assert_eq!(
        get(&p, "@acme/ui@0.2.0").relationship,
        Some(Relationship::Workspace)
    );
}

#[test]
fn go_mod_stdlib_from_toolchain_or_recent_go_line() {
    let parse_mod = |text: &str| {
        let a = analyzer_for("go.mod").unwrap_or_else(|| panic!("go.mod"));
        parse(&a, "go.mod", text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    };
    let v = |p: &[Package]| {
        p.iter()
            .find(|p| p.name == customs_lang::STDLIB)
            .map(|p| p.version.clone())
    };
    assert_eq!(
        v(&parse_mod("module m\ngo 1.21\ntoolchain go1.22.3\n")).as_deref(),
        Some("v1.22.3")
    );
    assert_eq!(
        v(&parse_mod("module m\ngo 1.22\n")).as_deref(),
        Some("v1.22.0")
    );
    assert_eq!(
        v(&parse_mod("module m\ngo 1.21.5\n")).as_deref(),
        Some("v1.21.5")
    );
    assert_eq!(v(&parse_mod("module m\ngo 1.20\n")), None);
    // No go line: an old module; its indirect requirements are dropped.
    let old = parse_mod("module m\nrequire (\n a.com/x v1.0.0\n b.com/y v1.1.0 // indirect\n)\n");
    assert_eq!(ids(&old), ["a.com/x@v1.0.0", "m"]);
    assert!(customs_lang::go_mod_needs_go_sum(b"module m\n"));
    assert!(customs_lang::go_mod_needs_go_sum(b"module m\ngo 1.16\n"));
    assert!(!customs_lang::go_mod_needs_go_sum(b"module m\ngo 1.17\n"));
}

#[test]
fn lone_go_sum() {
    let p = read("go-sum/go.sum");
    assert_eq!(
        ids(&p),
        [
            "github.com/davecgh/go-spew@v1.1.1",
            "github.com/pmezard/go-difflib@v1.0.0",
            "github.com/stretchr/testify@v1.8.4",
            "golang.org/x/text@v0.14.0"
        ]
    );
}

#[test]
fn new_formats() {
    let conan1 = read("conan-v1/conan.lock");
    assert_eq!(
        ids(&conan1),
        [
            "fmt@10.0.0",
            "libcurl@8.1.2",
            "openssl@3.1.1",
            "zlib@1.2.13"
        ]
    );
    assert_eq!(
        get(&conan1, "libcurl@8.1.2").relationship,
        Some(Relationship::Direct)
    );
    assert_eq!(
        get(&conan1, "zlib@1.2.13").relationship,
        Some(Relationship::Indirect)
    );
    assert_eq!(get(&conan1, "openssl@3.1.1").depends_on, ["zlib@1.2.13"]);

    let conan2 = read("conan-v2/conan.lock");
    let got: Vec<(&str, bool)> = conan2.iter().map(|p| (p.id.as_str(), p.dev)).collect();
    assert_eq!(
        got,
        [
            ("boost@1.84.0", false),
            ("cmake@3.28.1", true),
            ("openssl@3.2.1", false),
            ("zlib@1.3.1", false)
        ]
    );

    let j1 = read("julia-v1/Manifest.toml");
    // Format 1.0 does not record the Julia version: stdlib has none.
    assert_eq!(
        get(&j1, "JSON@0.21.4").depends_on,
        ["Dates", "Mmap", "Parsers@2.8.1", "Unicode"]
    );
    assert!(j1.iter().any(|p| p.id == "Base64"));
    let j2 = read("julia-v2/Manifest.toml");
    assert_eq!(get(&j2, "Printf@1.10.4").version, "1.10.4"); // stdlib: julia_version
    assert_eq!(
        get(&j2, "CSV@0.10.14").identifier.purl.as_deref(),
        Some("pkg:julia/CSV@0.10.14?uuid=336ed68f-0bac-5ca0-87d4-7b16caf5d00b")
    );
    assert_eq!(get(&j2, "MyLocal@0.1.0").depends_on, ["Dates@1.11.0"]);

    let sbt = read("sbt/build.sbt.lock");
    let got: Vec<(&str, bool)> = sbt.iter().map(|p| (p.id.as_str(), p.dev)).collect();
    assert_eq!(
        got,
        [
            ("com.typesafe.akka:akka-actor_2.13:2.6.20", false),
            ("javax.servlet:javax.servlet-api:4.0.1", true),
            ("org.scala-lang:scala-library:2.13.12", false),
            ("org.scalatest:scalatest_2.13:3.2.17", true)
        ]
    );

    let conda = read("conda-env/environment.yml");
    assert_eq!(
        ids(&conda),
        [
            "jupyterlab",
            "libblas",
            "matplotlib",
            "numpy@1.26.2",
            "pandas@2.1.4",
            "pip",
            "python@3.11.6",
            "scipy@1.11.4"
        ]
    );

    let cfg = read("nuget-config/packages.config");
    let got: Vec<(&str, bool)> = cfg.iter().map(|p| (p.id.as_str(), p.dev)).collect();
    assert_eq!(
        got,
        [
            ("Microsoft.CodeAnalysis.NetAnalyzers@7.0.4", true),
            ("NUnit@3.13.3", false),
            ("Newtonsoft.Json@13.0.1", false),
            ("log4net@2.0.12", false)
        ]
    );

    // Visual Studio writes UTF-16 (with a BOM and `encoding="utf-16"`).
    assert_eq!(
        ids(&read("nuget-config/utf16/packages.config")),
        ["Dapper@2.1.35"]
    );

    let props = read("packages-props/Directory.Packages.props");
    assert_eq!(
        ids(&props),
        [
            "Dapper@2.1.28",
            "Microsoft.Extensions.Logging@8.0.0",
            "Newtonsoft.Json@13.0.3",
            "System.Text.Json@8.0.4"
        ]
    );

    let pylock = read("pylock/pylock.toml");
    let got: Vec<(&str, bool)> = pylock.iter().map(|p| (p.id.as_str(), p.dev)).collect();
    assert_eq!(
        got,
        [
            ("certifi@2024.8.30", false),
            ("charset-normalizer@3.4.0", false),
            ("idna@3.10", false),
            ("iniconfig@2.0.0", true),
            ("myapp", false),
            ("pytest@8.3.3", true),
            ("requests@2.32.3", false),
            ("urllib3@2.2.3", false)
        ]
    );
    assert_eq!(get(&pylock, "requests@2.32.3").depends_on.len(), 4);

    let gems = read("gems-locked/gems.locked");
    assert_eq!(ids(&gems), ["nokogiri@1.15.4", "racc@1.7.1", "rack@2.2.8"]);
}
