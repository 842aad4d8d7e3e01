//! Real Dockerfiles (tests/fixtures/MANIFEST): new tags applied through
//! bases() + retag()/redigest() + apply(), compared byte for byte with
//! NAME.Dockerfile.expected. `CUSTOMS_BLESS=1` rewrites the expected files.

use std::path::PathBuf;

use customs_base::{apply, bases, redigest, retag, unified_diff, write_atomic, Base, Edit};

fn fixture(name: &str) -> (PathBuf, String) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let t = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (p, t)
}

fn parse(name: &str) -> (PathBuf, String, Vec<Base>) {
    let (p, t) = fixture(name);
    let b = bases(name, &t).unwrap_or_else(|e| panic!("{e}"));
    (p, t, b)
}

enum Change {
    Tag(usize, &'static str),
    Digest(usize, &'static str),
}

fn check(name: &str, changes: &[Change]) -> Vec<Base> {
    let (p, text, bs) = parse(name);
    // No edits: the file comes back byte for byte.
    assert_eq!(apply(&text, &[]).as_deref(), Ok(text.as_str()), "{name}");
    let mut edits: Vec<Edit> = Vec::new();
    for c in changes {
        let r = match c {
            Change::Tag(i, t) => retag(&bs[*i], t),
            Change::Digest(i, d) => redigest(&bs[*i], d),
        };
        edits.extend(r.unwrap_or_else(|e| panic!("{name}: {e}")));
    }
    let new = apply(&text, &edits).unwrap_or_else(|e| panic!("{name}: {e}"));
    let exp_path = p.with_extension("Dockerfile.expected");
    if std::env::var_os("CUSTOMS_BLESS").is_some() {
        std::fs::write(&exp_path, &new).unwrap_or_else(|e| panic!("{e}"));
    }
    let expected = std::fs::read_to_string(&exp_path)
        .unwrap_or_else(|e| panic!("{}: {e}", exp_path.display()));
    assert!(
        new == expected,
        "{name}:\n{}",
        unified_diff(name, &expected, &new)
    );
    // Re-reading the rewritten file gives the new tags at the same places.
    let again = bases(name, &new).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.len(), bs.len());
    for c in changes {
        if let Change::Tag(i, t) = c {
            assert_eq!(again[*i].tag.as_deref(), Some(*t), "{name}");
        }
    }
    bs
}

#[test]
fn dydns_composite_go_and_alpine() {
    let bs = check("dydns.Dockerfile", &[Change::Tag(0, "1.23-alpine3.21")]);
    assert_eq!(
        bs[0].written,
        "golang:${GO_VERSION}-alpine${ALPINE_VERSION}"
    );
    assert_eq!(bs[0].image, "golang:1.22-alpine3.20");
    assert_eq!(bs[0].stage_name.as_deref(), Some("builder"));
    assert_eq!(bs[0].line, 4);
    // Written in three places: no single site, but parts.
    assert_eq!(bs[0].tag_site, None);
    let parts: Vec<(&str, bool)> = bs[0]
        .tag_parts
        .iter()
        .map(|p| (p.text.as_str(), p.editable))
        .collect();
    assert_eq!(
        parts,
        vec![("1.22", true), ("-alpine", false), ("3.20", true)]
    );
    assert_eq!(bs[1].image, "alpine");
    assert_eq!(bs[1].tag, None);
    assert!(retag(&bs[1], "3.23").is_err());
    // A new tag that drops the fixed `-alpine` cannot be written.
    let e = retag(&bs[0], "1.23-bookworm").unwrap_err();
    assert!(e.0.contains("'-alpine'"), "{e}");
}

#[test]
fn strace_variable_without_default() {
    let bs = check("strace.Dockerfile", &[Change::Tag(1, "3.18.12")]);
    let skip = bs[0].skip.as_deref().unwrap_or("");
    assert!(skip.contains("GO_VERSION has no default"), "{skip}");
    assert!(!skip.contains('\n'));
    assert!(retag(&bs[0], "1.22-alpine").is_err());
    let site = bs[1].tag_site.clone().unwrap_or_else(|| panic!("no site"));
    assert_eq!(site.arg, None);
}

#[test]
fn kanban_elixir_through_builder_img() {
    let bs = check(
        "kanban.Dockerfile",
        &[Change::Tag(
            0,
            "1.16.3-erlang-26.2.5-debian-bullseye-20240130-slim",
        )],
    );
    assert_eq!(
        bs[0].image,
        "hexpm/elixir:1.16.0-erlang-26.2.1-debian-bullseye-20231009-slim"
    );
    assert_eq!(bs[0].name, "hexpm/elixir");
}

#[test]
fn lagoon_default_and_untagged() {
    let bs = check("lagoon-php.Dockerfile", &[]);
    // `${CLI_IMAGE:-builder}` is the image `builder` (no earlier stage).
    assert_eq!(bs[0].image, "builder");
    assert_eq!(bs[0].tag, None);
    assert_eq!(bs[1].image, "uselagoon/php-7.4-fpm");
}

#[test]
fn python_uv_floating_tags_in_from_lines() {
    let bs = check(
        "python-uv.Dockerfile",
        &[
            Change::Tag(0, "bookworm-20260301-slim"),
            Change::Tag(1, "bookworm-20260301-slim"),
        ],
    );
    assert_eq!(bs[0].stage_name.as_deref(), Some("builder"));
    assert_eq!(bs[1].line, 24);
}

#[test]
fn digests_tag_and_digest() {
    let d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    let bs = check(
        "digests.Dockerfile",
        &[
            Change::Tag(0, "12.9-slim"),
            Change::Digest(0, d1),
            Change::Digest(2, d2),
        ],
    );
    assert_eq!(bs[0].name, "docker.io/library/debian");
    assert!(bs[0]
        .digest
        .as_deref()
        .is_some_and(|d| d.starts_with("sha256:2bc5")));
    assert!(bs[0].digest_site.is_some());
    assert!(redigest(&bs[0], "sha256:xyz").is_err());
}

#[test]
fn udp_single_stage_elixir() {
    check(
        "udp.Dockerfile",
        &[Change::Tag(
            0,
            "1.15.8-erlang-26.2.5-debian-bullseye-20260301-slim",
        )],
    );
}

#[test]
fn phoenix_builder_and_runner_share_debian_version() {
    let bs = check(
        "phoenix-storybook.Dockerfile",
        &[
            Change::Tag(0, "1.18.3-erlang-27.3.3-debian-bullseye-20260301-slim"),
            Change::Tag(1, "bullseye-20260301-slim"),
        ],
    );
    assert_eq!(bs[1].image, "debian:bullseye-20250428-slim");
    let site = bs[1].tag_site.clone().unwrap_or_else(|| panic!("no site"));
    assert_eq!(site.arg.as_deref(), Some("DEBIAN_VERSION"));
    // The two stages disagreeing on DEBIAN_VERSION is an error, not a guess.
    let (_, text) = fixture("phoenix-storybook.Dockerfile");
    let mut edits = retag(&bs[0], "1.18.3-erlang-27.3.3-debian-bullseye-20260301-slim")
        .unwrap_or_else(|e| panic!("{e}"));
    edits.extend(retag(&bs[1], "bullseye-20260315-slim").unwrap_or_else(|e| panic!("{e}")));
    let e = apply(&text, &edits).unwrap_err();
    assert!(
        e.0.contains("conflicting edits of the default of ARG DEBIAN_VERSION"),
        "{e}"
    );
}

#[test]
fn diff_and_atomic_write() {
    let (_, text, bs) = parse("strace.Dockerfile");
    let edits = retag(&bs[1], "3.18.12").unwrap_or_else(|e| panic!("{e}"));
    let new = apply(&text, &edits).unwrap_or_else(|e| panic!("{e}"));
    let d = unified_diff("Dockerfile", &text, &new);
    assert!(d.starts_with("--- a/Dockerfile\n+++ b/Dockerfile\n"), "{d}");
    assert!(
        d.contains("-FROM alpine:3.18.2\n+FROM alpine:3.18.12\n"),
        "{d}"
    );
    assert_eq!(unified_diff("Dockerfile", &text, &text), "");

    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let p = dir.path().join("Dockerfile");
    std::fs::write(&p, &text).unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    write_atomic(&p, &new).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        std::fs::read_to_string(&p).ok().as_deref(),
        Some(new.as_str())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o640));
    }
    // Only the file itself is left in the directory (no temp files).
    let n = std::fs::read_dir(dir.path())
        .map(|r| r.count())
        .unwrap_or(0);
    assert_eq!(n, 1);
    // A new file is created too.
    let q = dir.path().join("new.Dockerfile");
    write_atomic(&q, "FROM alpine\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        std::fs::read_to_string(&q).ok().as_deref(),
        Some("FROM alpine\n")
    );
}
