//! Bad input: malformed files give one-line errors naming the file; no
//! parser panics on arbitrary bytes (proptest).

use customs_lang::{analyzer_for, parse, parse_binary};
use proptest::prelude::*;

use customs_lang::SAMPLE_PATHS as PATHS;

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
        ("go.sum", b"a.com/b v1.0.0\n", "module version hash"),
        ("conan.lock", b"{\"requires\": \"zlib/1\"}", "invalid JSON"),
        (
            "Manifest.toml",
            b"manifest_format = \"2.0\"\n[[deps.A]]\nversion = \"1\"\n",
            "no uuid",
        ),
        ("Manifest.toml", b"manifest_format = \"2.0\"\ndeps = 1\n", "not a table"),
        ("build.sbt.lock", b"{\"lockVersion\": 2}", "unsupported lockVersion"),
        (
            "build.sbt.lock",
            b"{\"lockVersion\": 1, \"dependencies\": [{\"org\": \"\", \"name\": \"a\", \"version\": \"1\"}]}",
            "without org",
        ),
        ("environment.yml", b"dependencies: [\n", "invalid YAML"),
        ("packages.config", b"<packages><package id=\"a\"", "invalid XML"),
        ("packages.config", b"<Project/>", "not <packages>"),
        ("packages.config", b"\xff\xfe<\x00p", "odd number"),
        ("Directory.Packages.props", b"<packages/>", "not <Project>"),
        ("pylock.toml", b"lock-version = \"2.0\"\n", "unsupported lock-version"),
        ("pylock.toml", b"[[packages]]\nname = \"a\"\n", "invalid TOML"),
        ("requirements.txt", b"\xff\xfeA\x00\x00\xd8", "not UTF-16"),
        ("pnpm-lock.yaml", b"", "no lockfile document"),
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
    fn pom_parents_and_manifests_never_panic(child in "[ -~\n]{0,300}", parent in "[ -~\n]{0,300}",
                                            manifest in "[ -~\n\"{}\\[\\]:,=]{0,300}", lock_pick in 0usize..3) {
        let pom = |p: &str| format!("<project><parent><groupId>g</groupId><artifactId>p</artifactId></parent><artifactId>a</artifactId>{p}</project>");
        let parent_text = pom(&parent);
        let _ = customs_lang::parse_pom_with_parents("a/b/pom.xml", pom(&child).as_bytes(), &|_| Some(parent_text.clone()));
        let _ = customs_lang::parse_pom_with_parents("pom.xml", child.as_bytes(), &|_| Some(parent.clone()));
        let (lock, man) = [("yarn.lock", "package.json"), ("poetry.lock", "pyproject.toml"), ("Cargo.lock", "Cargo.toml")][lock_pick];
        let la = analyzer_for(lock).expect("analyzer");
        let ma = analyzer_for(man).expect("analyzer");
        if let Ok(m) = parse(&ma, man, manifest.as_bytes()) {
            let pkgs = parse(&la, lock, child.as_bytes()).unwrap_or_default();
            let _ = customs_lang::apply_manifests(la.lang_type, pkgs, &[&m]);
        }
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
