//! Regressions of issue 15, each on a fixture written in the shape of the
//! upstream files that showed it (tests/regressions/<name>/Dockerfile):
//!
//! - `ENTRYPOINT []` (docker-library/tomcat) was refused with "instruction
//!   requires at least one argument" and the whole file went unreported;
//! - DS-0017 fired when the install was in the same RUN but inside a loop, a
//!   branch, a `case` arm or a `su -c` script;
//! - DS-0014 missed `curl` inside `su -c "…"`;
//! - DS-0032 fired on `case` patterns such as `x86_64|aarch64)`;
//! - DS-0031 had no name rule, so `ARG API_TOKEN` / `ENV DB_PASSWORD=…` got
//!   only CS-DS-010 and a `.trivyignore` entry for DS-0031 did not cover
//!   them.

use std::path::Path;

use customs_misconfig::dockerfile::Dockerfile;
use customs_misconfig::{scan_dockerfile, DockerfileContext, FileResult};

fn fixture(name: &str) -> (String, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(name)
        .join("Dockerfile");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (format!("{name}/Dockerfile"), bytes)
}

fn scan(name: &str) -> FileResult {
    let (path, bytes) = fixture(name);
    let ctx = DockerfileContext {
        dockerignore: Some(true),
        from_history: false,
    };
    scan_dockerfile(&path, &bytes, &ctx).unwrap_or_else(|e| panic!("{e}"))
}

/// Start lines of the failures of check `id`.
fn lines(r: &FileResult, id: &str) -> Vec<usize> {
    r.failures()
        .filter(|m| m.id == id)
        .map(|m| m.cause_metadata.start_line)
        .collect()
}

#[test]
fn empty_exec_form_entrypoint_is_parsed_and_the_file_reported() {
    let (path, bytes) = fixture("entrypoint-reset");
    let text = String::from_utf8_lossy(&bytes);
    let df = Dockerfile::parse(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    let ep: Vec<_> = df.all("entrypoint").collect();
    assert_eq!(ep.len(), 1);
    assert!(ep[0].json && ep[0].value.is_empty(), "{:?}", ep[0]);
    assert_eq!(ep[0].start_line, 18);
    let r = scan("entrypoint-reset");
    // The checks ran on the whole file.
    assert!(r.misconf_summary.successes > 25, "{:?}", r.misconf_summary);
    assert_eq!(lines(&r, "DS-0026"), [0]);
    assert!(r.passed("DS-0007") && r.passed("DS-0017"));
    // An emptied entrypoint starts no init.
    assert_eq!(lines(&r, "CS-DS-007"), [18]);
}

#[test]
fn update_followed_by_install_inside_compound_commands_is_not_alone() {
    let r = scan("update-in-compound");
    // Only the last RUN, where the update really is alone.
    assert_eq!(lines(&r, "DS-0017"), [35]);
    // The installs were seen (in the loop, the branch, the case arms, the
    // su -c script): apt-get flags are checked on them.
    assert!(r.passed("DS-0021") && r.passed("DS-0029"));
    assert!(
        lines(&r, "CS-DS-008").contains(&20),
        "build-essential in a case arm"
    );
}

#[test]
fn curl_inside_su_c_counts_for_wget_and_curl() {
    let r = scan("download-in-su-c");
    assert_eq!(lines(&r, "DS-0014"), [18]);
    // The `cd` is in the script given to su, not the RUN's own.
    assert!(r.passed("DS-0013"));
}

#[test]
fn case_patterns_quotes_and_comments_are_not_pipes() {
    let r = scan("case-patterns");
    assert_eq!(lines(&r, "DS-0032"), [17]);
}

#[test]
fn secret_names_are_ds0031_and_not_reported_twice() {
    let r = scan("secret-names");
    // Trivy's name rule, final stage only; GPG_KEY (line 13) is public.
    assert_eq!(lines(&r, "DS-0031"), [10, 11, 14]);
    // The builder stage's NPM_TOKEN is not in the final image's config, so
    // not DS-0031; customs still advises against it.
    assert_eq!(lines(&r, "CS-DS-010"), [6]);
    let text = serde_json::to_string(&r).unwrap_or_default();
    assert!(!text.contains("changeme"), "value not masked: {text}");
}
