//! Bad input: malformed files give one-line errors naming the file; no
//! parser panics on arbitrary bytes (proptest).

use customs_lang::{analyzer_for, parse, parse_binary};
use proptest::prelude::*;

/// Every file name with an analyzer (one path per parser).
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

#[test]
fn malformed_lockfiles_are_errors_naming_the_file() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("Cargo.lock", b"[[package]]\nname = \"a\"\n", "invalid TOML"),
        (
            "go.mod",
            b"module x\nrequire (\n  a.com/b v1\n",
            "unterminated",
        ),
        ("go.mod", b"module x\nfrobnicate y\n", "unknown directive"),
        (
            "package-lock.json",
            b"{\"lockfileVersion\": 3, \"packages\": [}",
            "invalid JSON",
        ),
        (
            "yarn.lock",
            b"# yarn lockfile v1\n\nfoo@^1:\n  resolved \"x\"\n",
            "has no version",
        ),
        (
            "yarn.lock",
            b"__metadata:\n  version: 6\n\"a@npm:1\": [unclosed\n",
            "invalid YAML",
        ),
        (
            "pnpm-lock.yaml",
            b"lockfileVersion: [1]\n",
            "lockfileVersion",
        ),
        (
            "bun.lock",
            b"{\"packages\": {\"a\": []}}",
            "no `name@version`",
        ),
        ("poetry.lock", b"[[package]]\nname = 1\n", "invalid TOML"),
        ("Pipfile.lock", b"{\"default\": [1]}", "invalid JSON"),
        (
            "uv.lock",
            b"version = 1\n[[package]]\nversion = \"1\"\n",
            "invalid TOML",
        ),
        ("Gemfile.lock", b"GEM\n  specs:\n    rack\n", "spec without"),
        (
            "composer.lock",
            b"{\"packages\": [{\"name\": \"a\"}]}",
            "invalid JSON",
        ),
        (
            "mix.lock",
            b"%{\"a\": {:hex, :a, \"1.0\"",
            "invalid mix.lock",
        ),
        ("mix.lock", b"[1, 2]", "not a map"),
        (
            "pom.xml",
            b"<project><dependencies></project>",
            "invalid XML",
        ),
        ("pom.xml", b"<settings/>", "not <project>"),
        (
            "gradle.lockfile",
            b"only:two=compileClasspath\n",
            "group:artifact:version",
        ),
        (
            "packages.lock.json",
            b"{\"dependencies\": {\"net6.0\": {\"A\": {\"type\": \"Direct\"}}}}",
            "no resolved version",
        ),
        (
            "pubspec.lock",
            b"packages:\n  a:\n    source: hosted\n",
            "invalid YAML",
        ),
        ("Podfile.lock", b"PODS:\n  - Alamofire\n", "has no version"),
        (
            "Package.resolved",
            b"{\"pins\": [{\"state\": {\"version\": \"1\"}}]}",
            "without location",
        ),
        (
            "specifications/x.gemspec",
            b"Gem::Specification.new do |s|\nend\n",
            "no `.name",
        ),
        ("lib/x-1.0.dist-info/METADATA", b"Name: x\n", "no Version"),
        (
            "app.deps.json",
            b"{\"libraries\": {\"NoSlash\": {\"type\": \"package\"}}}",
            "Name/Version",
        ),
        ("conda-meta/x.json", b"{}", "without name"),
    ];
    for (path, data, want) in cases {
        let full = format!("proj/{path}");
        let a = analyzer_for(&full).unwrap_or_else(|| panic!("no analyzer for {full}"));
        let e = parse(&a, &full, data).expect_err(&format!("{full} must fail"));
        let s = e.to_string();
        assert!(s.starts_with(&format!("{full}: ")), "{s}");
        assert!(s.contains(want), "{full}: {s:?} lacks {want:?}");
        assert!(!s.contains('\n'), "multi-line error: {s:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn no_parser_panics_on_bytes(which in 0..PATHS.len(), data in proptest::collection::vec(any::<u8>(), 0..512)) {
        let path = PATHS[which];
        let a = analyzer_for(path).expect("analyzer");
        let _ = parse(&a, path, &data);
    }

    #[test]
    fn no_parser_panics_on_text(which in 0..PATHS.len(), data in "[ -~\n\t\"'{}\\[\\]:,=@#%/()-]{0,400}") {
        let path = PATHS[which];
        let a = analyzer_for(path).expect("analyzer");
        let _ = parse(&a, path, data.as_bytes());
    }

    #[test]
    fn buildinfo_never_panics(prefix in proptest::collection::vec(any::<u8>(), 0..64),
                              body in proptest::collection::vec(any::<u8>(), 0..256),
                              flags in any::<u8>(), ptr in any::<u8>()) {
        let mut data = prefix;
        data.extend_from_slice(b"\xff Go buildinf:");
        data.push(ptr);
        data.push(flags);
        data.extend(body);
        let _ = parse_binary("bin", &data);
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.extend(&data);
        let _ = parse_binary("bin", &elf);
    }

    #[test]
    fn analyzer_for_never_panics(p in "\\PC{0,80}") {
        let _ = analyzer_for(&p);
    }
}

#[test]
fn toml_errors_are_one_readable_line() {
    let a = analyzer_for("Cargo.lock").expect("analyzer");
    let e = parse(&a, "Cargo.lock", b"[[package]]\nname = \"a\"\n").expect_err("error");
    assert_eq!(
        e.to_string(),
        "Cargo.lock: invalid TOML at line 1, column 1: missing field `version`"
    );
}
