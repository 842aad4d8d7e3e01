//! `customs base check|update`, end to end, against Debian's docker-registry
//! on 127.0.0.1 filled with the real alpine 3.10 and 3.20.3 images of
//! ../shared under tags that exercise each track: dated slim tags
//! (`debian:bullseye-20260202-slim` → `-20260301-slim`), semver with a
//! variant suffix and a pre-release (`redis:8.4.0-alpine3.22`, …), a moved
//! floating tag (`latest`, first 3.10 then 3.20.3) and a moved digest pin.

mod common;

use common::{customs, json_of, shared, vuln_db};
use customs_testkit::artifact;
use customs_testkit::paging::{LinkStyle, PagingProxy};
use customs_testkit::registry::Registry;
use std::path::Path;

const OLD: &str = "images/alpine-3.10.tar.gz";
const NEW: &str = "images/alpine-3.20.3.tar.gz";

fn archive(p: &str) -> String {
    format!(
        "docker-archive:{}",
        common::repo().join(shared(p)).display()
    )
}

struct Filled {
    reg: Registry,
    old: String,
    new: String,
}

/// Push an image once per repo, then PUT its manifest under more tags.
fn tag_as(reg: &Registry, repo: &str, from_tag: &str, tags: &[&str]) {
    let (media, body) = artifact::get_manifest(reg, repo, from_tag)
        .unwrap_or_else(|| panic!("{repo}:{from_tag} is not in the registry"));
    for t in tags {
        artifact::put_manifest(reg, repo, t, &media, &body);
    }
}

fn fill(reg: Registry) -> Filled {
    let old = reg.push(&archive(OLD), "library/alpine:3.10");
    // `latest` first on 3.10 …
    tag_as(&reg, "library/alpine", "3.10", &["latest"]);
    let new = reg.push(&archive(NEW), "library/alpine:3.20.3");
    // … then moved to 3.20.3.
    tag_as(&reg, "library/alpine", "3.20.3", &["latest", "3.20"]);

    reg.push(&archive(OLD), "library/debian:bullseye-20260202-slim");
    reg.push(&archive(NEW), "library/debian:bullseye-20260301-slim");
    tag_as(
        &reg,
        "library/debian",
        "bullseye-20260202-slim",
        &[
            "bullseye-20251201-slim",
            "bookworm-20260101-slim",
            "bullseye",
        ],
    );

    reg.push(&archive(OLD), "library/redis:8.4.0-alpine3.22");
    reg.push(&archive(NEW), "library/redis:8.4.1-alpine3.22");
    tag_as(
        &reg,
        "library/redis",
        "8.4.1-alpine3.22",
        &[
            "8.6.1-alpine3.23",
            "8.6.0-rc1-alpine3.23",
            "8.4.2-rc1-alpine3.22",
        ],
    );
    Filled { reg, old, new }
}

const DOCKERFILE: &str = r#"# syntax=docker/dockerfile:1
ARG REGISTRY=localhost:PORT
ARG REDIS_VERSION=8.4.0-alpine3.22
ARG DEBIAN_TAG=bullseye-20260202-slim

FROM ${REGISTRY}/library/redis:${REDIS_VERSION} AS cache
RUN redis-server --version

FROM --platform=linux/amd64 ${REGISTRY}/library/debian:${DEBIAN_TAG} AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential
COPY . /src
RUN make -C /src

FROM ${REGISTRY}/library/alpine:latest AS tools
RUN apk add --no-cache curl

FROM build AS test
RUN make -C /src test

FROM ${REGISTRY}/library/alpine:3.20.3@OLD
COPY --from=build /src/out /usr/local/bin/app
COPY --from=tools /usr/bin/curl /usr/bin/curl
USER 65534
ENTRYPOINT ["/usr/local/bin/app"]
"#;

fn dockerfile(f: &Filled) -> String {
    DOCKERFILE
        .replace("PORT", &f.reg.port().to_string())
        .replace("OLD", &f.old)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("{e}"));
    p.display().to_string()
}

fn run(cache: &Path, args: &[&str]) -> (i32, String, String) {
    let out = customs(cache)
        .args(["-q", "base"])
        .args(args)
        .arg("--insecure")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn bases(json: &str) -> Vec<serde_json::Value> {
    json_of(json.as_bytes())["Bases"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn check_reports_every_base_and_update_rewrites_exactly_the_pins() {
    let f = fill(Registry::plain());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let text = dockerfile(&f);
    let path = write(dir.path(), "Dockerfile", &text);
    let port = f.reg.port();

    let (code, out, err) = run(cache.path(), &["check", &path, "-f", "json"]);
    assert_eq!(code, 0, "{err}\n{out}");
    let b = bases(&out);
    let st: Vec<(&str, &str)> = b
        .iter()
        .map(|x| {
            (
                x["Image"].as_str().unwrap_or(""),
                x["Status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let host = format!("localhost:{port}");
    assert_eq!(
        st,
        vec![
            (
                format!("{host}/library/redis:8.4.0-alpine3.22").as_str(),
                "update"
            ),
            (
                format!("{host}/library/debian:bullseye-20260202-slim").as_str(),
                "update"
            ),
            (format!("{host}/library/alpine:latest").as_str(), "floating"),
            ("build", "skipped"),
            (
                format!("{host}/library/alpine:3.20.3@{}", f.old).as_str(),
                "update"
            ),
        ],
        "{out}"
    );
    // Patch track: 8.4.1 on alpine3.22, not the 8.6 line nor the pre-release.
    assert_eq!(b[0]["Candidate"]["Tag"], "8.4.1-alpine3.22", "{out}");
    assert_eq!(b[0]["Candidate"]["Digest"], f.new.as_str());
    assert_eq!(b[0]["Line"], 6);
    assert_eq!(b[0]["StageName"], "cache");
    assert_eq!(b[1]["Candidate"]["Tag"], "bullseye-20260301-slim", "{out}");
    assert_eq!(b[2]["CurrentDigest"], f.new.as_str());
    assert_eq!(b[2]["Message"], format!("latest now {}", f.new).as_str());
    // The digest pin moved: 3.20.3 points to another manifest now.
    assert_eq!(b[4]["PinnedDigest"], f.old.as_str());
    assert_eq!(b[4]["Candidate"]["Tag"], "3.20.3");
    assert_eq!(b[4]["Candidate"]["Digest"], f.new.as_str());

    // The minor track reaches 8.6.1; pre-releases only when asked.
    let (_, out, err) = run(
        cache.path(),
        &["check", &path, "-f", "json", "--track", "minor"],
    );
    assert_eq!(
        bases(&out)[0]["Candidate"]["Tag"],
        "8.6.1-alpine3.23",
        "{err}{out}"
    );
    let (_, out, err) = run(
        cache.path(),
        &["check", &path, "-f", "json", "--pre-release"],
    );
    assert_eq!(
        bases(&out)[0]["Candidate"]["Tag"],
        "8.4.2-rc1-alpine3.22",
        "{err}{out}"
    );

    // Table and markdown name the same.
    let (code, table, _) = run(cache.path(), &["check", &path]);
    assert_eq!(code, 0);
    assert!(
        table.contains("8.4.0-alpine3.22 → 8.4.1-alpine3.22"),
        "{table}"
    );
    let (_, md, _) = run(cache.path(), &["check", &path, "-f", "markdown"]);
    assert!(md.contains("| Where | Base | Status | Detail |"), "{md}");

    // A dry run changes nothing but says what would change (exit 10).
    let diff_file = dir.path().join("base.diff");
    let (code, out, err) = run(
        cache.path(),
        &[
            "update",
            &path,
            "--diff-file",
            &diff_file.display().to_string(),
        ],
    );
    assert_eq!(code, 10, "{err}{out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), text);
    let diff = std::fs::read_to_string(&diff_file).unwrap_or_default();
    assert!(
        diff.contains("-ARG REDIS_VERSION=8.4.0-alpine3.22"),
        "{diff}"
    );
    assert!(
        diff.contains("+ARG REDIS_VERSION=8.4.1-alpine3.22"),
        "{diff}"
    );
    assert!(out.contains(&diff), "{out}");

    // --write: exactly the pins.
    let (code, _, err) = run(cache.path(), &["update", &path, "--write"]);
    assert_eq!(code, 10, "{err}");
    let want = text
        .replace(
            "ARG REDIS_VERSION=8.4.0-alpine3.22",
            "ARG REDIS_VERSION=8.4.1-alpine3.22",
        )
        .replace(
            "ARG DEBIAN_TAG=bullseye-20260202-slim",
            "ARG DEBIAN_TAG=bullseye-20260301-slim",
        )
        .replace(
            &format!("alpine:3.20.3@{}", f.old),
            &format!("alpine:3.20.3@{}", f.new),
        );
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), want);

    // Again: nothing to do (exit 0, an empty diff file).
    let (code, _, err) = run(
        cache.path(),
        &[
            "update",
            &path,
            "--write",
            "--diff-file",
            &diff_file.display().to_string(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), want);
    assert_eq!(std::fs::read_to_string(&diff_file).unwrap_or_default(), "");

    // --pin-digest on the original: every tag gets the digest it points to.
    let pinned = write(dir.path(), "Dockerfile.pin", &text);
    let (code, _, err) = run(
        cache.path(),
        &[
            "update",
            &pinned,
            "--write",
            "--pin-digest",
            "--track",
            "minor",
        ],
    );
    assert_eq!(code, 10, "{err}");
    let want = text
        .replace(
            "ARG REDIS_VERSION=8.4.0-alpine3.22",
            &format!("ARG REDIS_VERSION=8.6.1-alpine3.23@{}", f.new),
        )
        .replace(
            "ARG DEBIAN_TAG=bullseye-20260202-slim",
            &format!("ARG DEBIAN_TAG=bullseye-20260301-slim@{}", f.new),
        )
        .replace("alpine:latest AS", &format!("alpine:latest@{} AS", f.new))
        .replace(
            &format!("alpine:3.20.3@{}", f.old),
            &format!("alpine:3.20.3@{}", f.new),
        );
    assert_eq!(std::fs::read_to_string(&pinned).unwrap_or_default(), want);
}

#[test]
fn scan_shows_what_the_upgrade_fixes_and_a_rerun_transfers_no_layer() {
    let f = fill(Registry::plain());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The test database has findings for alpine 3.20.3 and none for the
    // 3.10.4 image, so the newer tag here holds the image with fewer.
    f.reg.push(&archive(NEW), "library/base:1.0.0");
    f.reg.push(&archive(OLD), "library/base:1.0.1");
    let text = format!(
        "ARG BASE=localhost:{}/library/base:1.0.0\nFROM $BASE\nRUN true\n",
        f.reg.port()
    );
    let path = write(dir.path(), "Dockerfile", &text);
    let db = vuln_db().display().to_string();
    let args = ["check", &path, "--scan", "--db", &db, "-f", "json"];
    let (code, out, err) = run(cache.path(), &args);
    assert_eq!(code, 0, "{err}{out}");
    let b = bases(&out);
    let scan = &b[0]["Scan"];
    assert!(scan["Error"].is_null(), "{out}");
    assert!(
        scan["Current"]["OS"]
            .as_str()
            .unwrap_or("")
            .starts_with("alpine 3.20.3"),
        "{out}"
    );
    assert_eq!(scan["Current"]["EOSL"], true, "{out}");
    // Past end of life: the newest supported alpine is named (from the
    // end-of-life table, today), and it is newer than 3.20.
    let up = scan["Current"]["UpgradeTo"].as_str().unwrap_or("");
    let minor: u32 = up
        .strip_prefix("alpine 3.")
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("UpgradeTo {up:?}: {out}"));
    assert!(minor > 20, "{out}");
    assert!(
        scan["Candidate"]["OS"]
            .as_str()
            .unwrap_or("")
            .starts_with("alpine 3.10"),
        "{out}"
    );
    let fixed: u64 = scan["Fixed"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0);
    let current: u64 = scan["Current"]["Vulnerabilities"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0);
    assert!(fixed > 0, "{out}");
    assert_eq!(fixed, current, "{out}");
    assert_eq!(scan["Introduced"], serde_json::json!({}), "{out}");
    assert!(
        !scan["FixedIDs"]
            .as_array()
            .map(Vec::is_empty)
            .unwrap_or(true),
        "{out}"
    );
    let blobs = f.reg.blob_gets("library/base");
    assert!(blobs > 0);

    // Again: the layer cache answers; only manifests and configs are read.
    let (code, again, err) = run(cache.path(), &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(bases(&again)[0]["Scan"], b[0]["Scan"]);
    let configs = 2; // one config blob per image
    assert!(
        f.reg.blob_gets("library/base") <= blobs + configs,
        "layer blobs fetched again: {} → {}",
        blobs,
        f.reg.blob_gets("library/base")
    );

    let (_, md, _) = run(
        cache.path(),
        &["check", &path, "--scan", "--db", &db, "-f", "markdown"],
    );
    assert!(md.contains("What upgrading fixes"), "{md}");
}

#[test]
fn bad_bases_are_one_line_each_and_the_others_are_still_checked() {
    let f = fill(Registry::plain());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let port = f.reg.port();

    let none = write(dir.path(), "Dockerfile.none", "# nothing\nRUN true\n");
    let (code, _, err) = run(cache.path(), &["check", &none]);
    assert_eq!(code, 3);
    assert!(err.contains("expected FROM"), "{err}");
    let args_only = write(dir.path(), "Dockerfile.args", "ARG A=1\n");
    let (code, _, err) = run(cache.path(), &["check", &args_only]);
    assert_eq!(code, 3);
    assert!(err.contains("no FROM instruction"), "{err}");

    let text = format!(
        "ARG TAG\nFROM localhost:{port}/library/alpine:${{TAG}}\nFROM localhost:{port}/library/nothing-here:1.0\nFROM localhost:{port}/library/redis:8.4.0-alpine3.22\n"
    );
    let path = write(dir.path(), "Dockerfile", &text);
    let (code, out, err) = run(cache.path(), &["check", &path, "-f", "json"]);
    assert_eq!(code, 0, "{err}{out}");
    let b = bases(&out);
    assert_eq!(b[0]["Status"], "error");
    assert!(
        b[0]["Message"]
            .as_str()
            .unwrap_or("")
            .contains("TAG has no default"),
        "{out}"
    );
    assert_eq!(b[1]["Status"], "error");
    assert!(
        b[1]["Message"]
            .as_str()
            .unwrap_or("")
            .contains("nothing-here"),
        "{out}"
    );
    assert_eq!(b[2]["Status"], "update", "{out}");
    // `update` leaves a file whose bases all failed alone (exit 3).
    let bad = write(
        dir.path(),
        "Dockerfile.bad",
        &format!("FROM localhost:{port}/library/nothing-here:1.0\n"),
    );
    let (code, _, _) = run(cache.path(), &["update", &bad, "--write"]);
    assert_eq!(code, 3);

    // A Basic-auth registry: without credentials an error line; with them, checked.
    let basic = Registry::basic("ci", "s3cret");
    basic.push(&archive(OLD), "library/redis:8.4.0-alpine3.22");
    basic.push(&archive(NEW), "library/redis:8.4.1-alpine3.22");
    let priv_df = write(
        dir.path(),
        "Dockerfile.private",
        &format!(
            "FROM localhost:{}/library/redis:8.4.0-alpine3.22\n",
            basic.port()
        ),
    );
    let (code, out, _) = run(cache.path(), &["check", &priv_df, "-f", "json"]);
    assert_eq!(code, 3, "{out}");
    let b = bases(&out);
    assert_eq!(b[0]["Status"], "error");
    assert!(
        b[0]["Message"]
            .as_str()
            .unwrap_or("")
            .contains("asks for a user name and password"),
        "{out}"
    );
    let (code, out, err) = run(
        cache.path(),
        &[
            "check",
            &priv_df,
            "-f",
            "json",
            "--username",
            "ci",
            "--password",
            "s3cret",
        ],
    );
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(bases(&out)[0]["Candidate"]["Tag"], "8.4.1-alpine3.22");
}

#[test]
fn a_built_image_names_its_base_or_shows_its_history() {
    let f = fill(Registry::plain());
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The alpine images carry no base annotation.
    let image = format!("{}/library/alpine:3.10", f.reg.host());
    let out = customs(cache.path())
        .args(["-q", "base", "check", "--insecure", "-f", "json"])
        .arg(format!("docker://{image}"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out.stdout);
    assert_eq!(v["Kind"], "image");
    assert_eq!(
        v["Bases"][0]["Message"],
        "base unknown (no org.opencontainers.image.base.name annotation; --base-candidates can name images to match by layers)"
    );
    assert!(
        v["History"][0].as_str().unwrap_or("").contains("ADD file:"),
        "{stdout}"
    );

    // Matching by layers: of the candidates, the one whose layers start the
    // image is its base (3.20.3 shares none of 3.10's; a missing one is
    // skipped), pinned to the digest it was read at, and then checked.
    let host = f.reg.host();
    let cands =
        format!("{host}/library/alpine:3.20.3,{host}/library/alpine:3.10,{host}/library/nothing:1");
    let out = customs(cache.path())
        .args([
            "-q",
            "base",
            "check",
            "--insecure",
            "-f",
            "json",
            "--base-candidates",
            &cands,
        ])
        .arg(format!("docker://{image}"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out.stdout);
    let b = &v["Bases"][0];
    let img = b["Image"].as_str().unwrap_or("");
    assert!(
        img.starts_with(&format!("{host}/library/alpine:3.10@sha256:")),
        "{stdout}"
    );
    assert!(
        b["Message"]
            .as_str()
            .unwrap_or("")
            .starts_with("base found by layers: the image starts with all 1 layer(s) of"),
        "{stdout}"
    );
    // No candidate shares the image's layers: still unknown, and said so.
    let out = customs(cache.path())
        .args([
            "-q",
            "base",
            "check",
            "--insecure",
            "-f",
            "json",
            "--base-candidates",
        ])
        .arg(format!("{host}/library/alpine:3.20.3"))
        .arg(format!("docker://{image}"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let v = json_of(&out.stdout);
    assert_eq!(
        v["Bases"][0]["Message"],
        "base unknown (no org.opencontainers.image.base.name annotation, and no candidate's layers start the image)"
    );
}

#[test]
fn tags_are_read_across_pages_and_a_registry_without_listing_is_one_error() {
    let f = fill(Registry::plain());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // More tags than one page of 1000: old patch levels, and the newest
    // sorting last (`8.4.9-…` after every `8.4.1-build…`).
    let filler: Vec<String> = (0..1005)
        .map(|i| format!("8.3.{i}-alpine3.22"))
        .chain(std::iter::once("8.4.9-alpine3.22".to_string()))
        .collect();
    let filler: Vec<&str> = filler.iter().map(String::as_str).collect();
    tag_as(&f.reg, "library/redis", "8.4.1-alpine3.22", &filler);
    // distribution 2.8 ignores `n`; the proxy pages its list as the spec says.
    let proxy = PagingProxy::start(&f.reg, LinkStyle::Relative);
    let text = format!("FROM {}/library/redis:8.4.0-alpine3.22\n", proxy.host());
    let path = write(dir.path(), "Dockerfile", &text);
    let (code, out, err) = run(cache.path(), &["check", &path, "-f", "json"]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(
        bases(&out)[0]["Candidate"]["Tag"],
        "8.4.9-alpine3.22",
        "{out}"
    );
    let served = proxy.tag_requests();
    assert_eq!(served.len(), 2, "{served:?}");
    assert_eq!(served[0], "/v2/library/redis/tags/list?n=1000");
    assert!(served[1].contains("last="), "{served:?}");

    // No tag listing: a versioned base cannot be checked, a floating one can.
    let none = PagingProxy::start(&f.reg, LinkStyle::NoTagList);
    let text = format!(
        "FROM {h}/library/redis:8.4.0-alpine3.22\nFROM {h}/library/alpine:latest\n",
        h = none.host()
    );
    let path = write(dir.path(), "Dockerfile.nolist", &text);
    let (code, out, err) = run(cache.path(), &["check", &path, "-f", "json"]);
    assert_eq!(code, 0, "{err}{out}");
    let b = bases(&out);
    assert_eq!(b[0]["Status"], "error", "{out}");
    let msg = b[0]["Message"].as_str().unwrap_or("");
    assert!(
        msg.contains("has no tag list of library/redis") && msg.contains("UNSUPPORTED"),
        "{out}"
    );
    assert_eq!(b[1]["Status"], "floating", "{out}");
}
