//! Property tests: the parsers of untrusted configs and lockfiles never
//! panic, whatever the bytes, and give the same answer twice.

use customs_confusion::{scan, wanted, Input, Options};
use proptest::prelude::*;

use customs_confusion::SAMPLE_PATHS as PATHS;

/// Fragments of the real formats, so that random inputs reach past the
/// first syntax check.
const TOKENS: [&str; 48] = [
    "\n",
    " ",
    "  ",
    "    ",
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    "=",
    "\\\n",
    "#",
    "\"packages\": {",
    "\"node_modules/@a/b\": {",
    "\"resolved\": \"https://r.internal/@a/b/-/b-1.tgz\"",
    "\"integrity\": \"sha512-x\"",
    "@a:registry=https://r.internal/",
    "registry=",
    "npmScopes:",
    "npmRegistryServer: ",
    "packages:",
    "resolution: {integrity: x, tarball: http://h/}",
    "[[tool.uv.index]]",
    "url = \"https://p.internal/simple\"",
    "explicit = true",
    "[[tool.poetry.source]]",
    "priority = \"supplemental\"",
    "[[source]]",
    "[[package]]",
    "source = \"sparse+https://c.internal/\"",
    "--extra-index-url ",
    "extra-index-url =",
    "<repository><url>https://m.internal</url></repository>",
    "repositories {",
    "maven {",
    "content {",
    "require (",
    "GOPRIVATE=a.internal",
    "ENV ",
    "RUN pip install ",
    "source \"https://g\"",
    "GEM\n  remote: x\n  remote: y\n  specs:\n    a (1)",
    "{:hex, :a, \"1\", \"h\", [:mix], [], \"hexpm:o\", \"h\"}",
    "[hex: :a, repo: \"hexpm\"",
    "\u{e9}",
    "\r\n",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..60).prop_map(|v| v.concat())
}

fn check(files: Vec<(String, Vec<u8>)>, env: Vec<(String, String)>) {
    let input = Input { files, env };
    let a = scan(&input, &Options::default()).expect("offline scan never fails");
    let b = scan(&input, &Options::default()).expect("offline scan never fails");
    assert_eq!(a, b);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(i in 0..PATHS.len(), bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(vec![(PATHS[i].to_string(), bytes)], Vec::new());
    }

    #[test]
    fn format_fragments_never_panic(i in 0..PATHS.len(), j in 0..PATHS.len(), a in text(), b in text()) {
        check(
            vec![(PATHS[i].to_string(), a.into_bytes()), (PATHS[j].to_string(), b.into_bytes())],
            vec![("GOPRIVATE".into(), "a.internal".into()), ("PIP_EXTRA_INDEX_URL".into(), "https://p.internal/simple".into())],
        );
    }

    #[test]
    fn env_values_never_panic(k in "[A-Za-z_@:]{0,24}", v in ".{0,80}") {
        check(Vec::new(), vec![(k, v)]);
    }

    #[test]
    fn wanted_never_panics(p in "[a-zA-Z0-9_./@-]{0,60}") {
        let _ = wanted(&p);
    }
}
