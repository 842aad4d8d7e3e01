//! `--scanners confusion` end to end, on lockfiles npm made against real
//! Verdaccio registries on 127.0.0.1 (one private, one standing in for the
//! public registry, behind a connection counter): `customs fs` on the tree,
//! `customs image` on an image built from it (a later layer deletes a file,
//! the image `Env` sets a pip index), the online name check with its cache,
//! `--offline`, ignore files and exit codes.

mod common;
#[path = "../../customs-confusion/tests/support/mod.rs"]
mod support;

use common::{customs, json_of};
use customs_testkit::{layer, DockerImage};
use serde_json::Value;
use std::path::Path;
use support::*;

/// (target, ID, severity, first line) of every failed confusion finding.
fn confusion(report: &Value) -> Vec<(String, String, String, u64)> {
    let mut v = Vec::new();
    for r in report["Results"].as_array().into_iter().flatten() {
        for m in r["Misconfigurations"].as_array().into_iter().flatten() {
            if m["Type"] == "dependency-confusion" && m["Status"] == "FAIL" {
                v.push((
                    r["Target"].as_str().unwrap_or("").to_string(),
                    m["ID"].as_str().unwrap_or("").to_string(),
                    m["Severity"].as_str().unwrap_or("").to_string(),
                    m["CauseMetadata"]["StartLine"].as_u64().unwrap_or(0),
                ));
            }
        }
    }
    v.sort();
    v
}

fn run<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(cache: &Path, args: &[S]) -> (Value, String) {
    let out = customs(cache).args(args).output().expect("run customs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "customs {args:?}: {stderr}");
    (json_of(&out.stdout), stderr)
}

/// Nothing may leave the machine: every registry the name check could ask
/// is a loopback address (port 9 refuses at once).
const NO_INTERNET: [&str; 4] = [
    "pypi=http://127.0.0.1:9/pypi",
    "crates=http://127.0.0.1:9",
    "rubygems=http://127.0.0.1:9",
    "hex=http://127.0.0.1:9",
];

#[test]
fn confusion_scanner_on_fs_and_image_with_real_registries() {
    let Some(services) = services() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let work = tmp.path();
    let NpmRegistries {
        private,
        public: _public,
        counter,
        public_url,
        ptoken,
        otoken,
    } = npm_registries(&services, work);
    npm_publish(&private, &ptoken, work, "@acme/lib", "1.0.0");
    npm_publish(&private, &ptoken, work, "acme-internal", "1.0.0");
    // Someone published the private scope's name publicly, higher.
    npm_publish_at(&public_url, &otoken, work, "@acme/lib", "2.0.0");
    npm_publish_at(&public_url, &otoken, work, "pubdep", "1.0.0");
    let priv_url = private.url.as_str();

    // The project: the scope mapped to the private registry (safe), and an
    // unscoped private package (CS-DEP-002); a service whose requirements
    // merge a private index with PyPI (CS-DEP-010).
    let tree = work.join("tree");
    let app = tree.join("app");
    write(
        &app.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"@acme/lib":"^1.0.0","acme-internal":"^1.0.0"}}"#,
    );
    write(&app.join(".npmrc"), &format!("@acme:registry={priv_url}\n"));
    let home = work.join("npm-home");
    npm(
        &app,
        &home,
        &["install", "--package-lock-only"],
        &[("npm_config_registry", priv_url)],
    );
    // Then a public dependency, added against the public registry (npm
    // keeps the entries it has): the tree mixes registries, so the private
    // one is not a proxy of the public one.
    write(
        &app.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"@acme/lib":"^1.0.0","acme-internal":"^1.0.0","pubdep":"^1.0.0"}}"#,
    );
    npm(
        &app,
        &home,
        &["install", "--package-lock-only"],
        &[("npm_config_registry", public_url.as_str())],
    );
    let lock = std::fs::read_to_string(app.join("package-lock.json")).expect("lock");
    let internal = line_of(&lock, "\"node_modules/acme-internal\"") as u64;
    let scoped = line_of(&lock, "\"node_modules/@acme/lib\"") as u64;
    let reqs = "--extra-index-url https://pypi.acme.internal/simple/\nacme-tools==1.0\n";
    write(&tree.join("svc/requirements.txt"), reqs);
    let tree_s = tree.to_str().expect("utf-8 path");

    let cache = work.join("cache");
    // The stand-in's URL is public to the checks, as registry.npmjs.org is.
    let npm_reg = format!("npm={}", counter.url);
    let scan_args = |verb: &'static str, target: &str| -> Vec<String> {
        [verb, target, "--scanners", "confusion", "--format", "json"]
            .iter()
            .map(|s| s.to_string())
            .chain(["--confusion-registry".to_string(), npm_reg.clone()])
            .collect()
    };
    let fs_args = scan_args("fs", tree_s);
    let (report, _) = run(&cache, &fs_args);
    let unscoped = (
        "app/package-lock.json".to_string(),
        "CS-DEP-002".to_string(),
        "HIGH".to_string(),
        internal,
    );
    let extra_index = (
        "svc/requirements.txt".to_string(),
        "CS-DEP-010".to_string(),
        "HIGH".to_string(),
        1,
    );
    assert_eq!(
        confusion(&report),
        vec![unscoped.clone(), extra_index.clone()]
    );
    // Every file read has its result, clean ones too ("0" in the table).
    let npmrc = report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["Target"] == "app/.npmrc")
        .expect("a result for the .npmrc");
    assert_eq!(npmrc["Class"], "config");
    assert_eq!(npmrc["Type"], "npm");
    assert_eq!(npmrc["MisconfSummary"]["Failures"], 0);

    // The gate: findings fail it; an ignore file takes one out by ID.
    let ignore = work.join(".trivyignore");
    std::fs::write(&ignore, "CS-DEP-010\n").expect("ignore file");
    let out = customs(&cache)
        .args(&fs_args)
        .args([
            "--exit-code",
            "3",
            "--ignorefile",
            ignore.to_str().expect("utf-8"),
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(confusion(&json_of(&out.stdout)), vec![unscoped.clone()]);

    // The table has a misconfiguration column for it.
    let out = customs(&cache)
        .args(["fs", tree_s, "--scanners", "confusion"])
        .output()
        .expect("run");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Misconfigurations"), "{table}");
    assert!(table.contains("CS-DEP-002"), "{table}");

    // The same files in an image: the second layer deletes the service's
    // requirements; the image Env merges a private pip index (CS-DEP-011).
    let file = |rel: &str| std::fs::read(tree.join(rel)).expect("tree file");
    let (pj, rc, pl, rq) = (
        file("app/package.json"),
        file("app/.npmrc"),
        file("app/package-lock.json"),
        file("svc/requirements.txt"),
    );
    let l1 = layer(&[
        ("srv/app/package.json", &pj),
        ("srv/app/.npmrc", &rc),
        ("srv/app/package-lock.json", &pl),
        ("srv/svc/requirements.txt", &rq),
    ]);
    let l2 = layer(&[("srv/svc/.wh.requirements.txt", b"")]);
    let img = work.join("img.tar");
    DockerImage::new(&[l1, l2])
        .config(
            "config",
            serde_json::json!({"Env": [
                "PATH=/usr/bin",
                "PIP_EXTRA_INDEX_URL=https://pypi.acme.internal/simple/"
            ]}),
        )
        .write_tar(&img);
    let img_s = img.to_str().expect("utf-8 path");
    let image_args = scan_args("image", img_s);
    let (report, _) = run(&cache, &image_args);
    let found = confusion(&report);
    let in_image = (
        "srv/app/package-lock.json".to_string(),
        "CS-DEP-002".to_string(),
        "HIGH".to_string(),
        internal,
    );
    assert!(found.contains(&in_image), "{found:?}");
    assert!(
        found
            .iter()
            .any(|f| f.0 == "image config" && f.1 == "CS-DEP-011"),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|f| f.0.starts_with("srv/svc/")),
        "a deleted file has no finding: {found:?}"
    );
    // Again from the layer cache: the same findings.
    let (again, _) = run(&cache, &image_args);
    assert_eq!(confusion(&again), found);

    // The online name check, against the stand-in public registry: the
    // unscoped private name is claimable (CS-DEP-090); the scope's package
    // exists publicly at a higher version (CS-DEP-091, CRITICAL).
    let mut online = fs_args.clone();
    online.push("--confusion-check-public".into());
    for r in NO_INTERNET {
        online.extend(["--confusion-registry".into(), r.into()]);
    }
    let before = counter.connections();
    let (report, _) = run(&cache, &online);
    let found = confusion(&report);
    assert!(
        found.contains(&(
            "app/package-lock.json".into(),
            "CS-DEP-090".into(),
            "HIGH".into(),
            internal
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            "app/package-lock.json".into(),
            "CS-DEP-091".into(),
            "CRITICAL".into(),
            scoped
        )),
        "{found:?}"
    );
    let asked = counter.connections();
    assert!(asked > before, "the name check asked the registry");
    // A warm cache asks nothing and gives the same answer.
    let (warm, _) = run(&cache, &online);
    assert_eq!(confusion(&warm), found);
    assert_eq!(
        counter.connections(),
        asked,
        "a warm cache issues no request"
    );

    // --offline with a cold cache: nothing asked, said once, offline
    // findings kept.
    let cold = work.join("cold-cache");
    let mut offline = online.clone();
    offline.push("--offline".into());
    let (report, stderr) = run(&cold, &offline);
    assert_eq!(counter.connections(), asked, "--offline asks nothing");
    assert_eq!(stderr.matches("--offline").count(), 1, "{stderr}");
    assert_eq!(confusion(&report), vec![unscoped, extra_index]);
}

#[test]
fn confusion_flags_are_checked() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (extra, want) in [
        (
            &[
                "--confusion-check-public",
                "--confusion-registry",
                "maven=http://127.0.0.1:9",
            ][..],
            "unknown ecosystem 'maven'",
        ),
        (
            &["--confusion-registry", "npm=ftp://x"][..],
            "'ftp://x' is not an http(s) URL",
        ),
    ] {
        let out = customs(tmp.path())
            .args(["fs", ".", "--scanners", "confusion"])
            .args(extra)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{extra:?}: {err}");
    }
}
