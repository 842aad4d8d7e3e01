//! `customs history` and `--history`: scans of the real alpine images
//! recorded in the default SQLite store (in the cache dir), in a real
//! PostgreSQL server started here, from several processes at once; the
//! trend chart; a corrupt or unreachable store.

mod common;
use common::*;
use customs_testkit::postgres::Postgres;
use predicates::prelude::*;
use std::path::Path;

const OLD_IMAGE: &str = "../shared/data/images/alpine-3.10.tar.gz";
const NEW_IMAGE: &str = "../shared/data/images/alpine-3.20.3.tar.gz";

fn db() -> String {
    vuln_db().display().to_string()
}

fn trivy_fixture(name: &str) -> String {
    repo()
        .join("crates/customs-history/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// `customs image --input IMAGE --history` plus `extra`; returns the output.
fn scan_recorded(cache: &Path, image: &str, extra: &[&str]) -> std::process::Output {
    customs(cache)
        .args([
            "image",
            "--input",
            image,
            "--db",
            &db(),
            "--skip-db-update",
            "--history",
        ])
        .arg("--list-all-pkgs")
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn stdout_json(cache: &Path, args: &[&str]) -> serde_json::Value {
    let out = customs(cache)
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json_of(&out)
}

fn count(v: &serde_json::Value) -> usize {
    v.as_array().map(Vec::len).unwrap_or(0)
}

#[test]
fn scans_are_recorded_listed_shown_diffed_and_charted() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = dir.path();
    let report = dir.path().join("new.json");
    let o = scan_recorded(cache, OLD_IMAGE, &["-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = scan_recorded(
        cache,
        NEW_IMAGE,
        &["-q", "-f", "json", "-o", &report.display().to_string()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        cache.join("history.db").is_file(),
        "the default store is in the cache dir"
    );

    let list = stdout_json(cache, &["history", "list", "alpine", "-f", "json"]);
    assert_eq!(count(&list), 2);
    assert_eq!(list[0]["ArtifactRef"], "alpine:3.20.3", "newest first");
    assert_eq!(list[1]["ArtifactRef"], "alpine:3.10");
    assert_eq!(
        list[0]["Scanner"],
        format!("customs {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(
        list[0]["DbVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("schema ")),
        "{list}"
    );
    assert!(list[0]["Digest"]
        .as_str()
        .is_some_and(|d| d.starts_with("sha256:")));
    let scanned = json_of(&std::fs::read(&report).unwrap_or_else(|e| panic!("{e}")));
    let vulns: usize = scanned["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| count(&r["Vulnerabilities"]))
        .sum();
    let c = &list[0]["Counts"]["Vulnerabilities"];
    let recorded: i64 = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
        .iter()
        .map(|s| c[s].as_i64().unwrap_or(-1))
        .sum();
    assert_eq!(recorded, vulns as i64);

    // show: the report as it was written.
    let id = list[0]["ID"].as_i64().unwrap_or(0).to_string();
    let shown = stdout_json(cache, &["history", "show", &id, "-f", "json"]);
    assert_eq!(shown, scanned);
    customs(cache)
        .args(["history", "show", &id])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("alpine:3.20.3")
                .and(predicate::str::contains("Report Summary")),
        );
    customs(cache)
        .args(["history", "show", "999"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no scan 999 in the history"));

    // The last two scans of the repository.
    let d = stdout_json(cache, &["history", "diff", "alpine", "-f", "json"]);
    assert_eq!(count(&d["Vulnerabilities"]["New"]), vulns);
    assert_eq!(count(&d["Packages"]["Upgraded"]), 9);
    customs(cache)
        .args(["history", "diff", "alpine", "--exit-code", "4"])
        .assert()
        .code(4);
    customs(cache)
        .args(["history", "diff", "alpine:3.10"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "alpine:3.10: fewer than two scans in the history",
        ));

    // Trends: JSON, Markdown, SVG and PNG (format from the file name).
    let t = stdout_json(cache, &["history", "trend", "alpine", "-f", "json"]);
    assert_eq!(count(&t["Points"]), 2);
    assert_eq!(t["Points"][0]["ArtifactRef"], "alpine:3.10", "oldest first");
    customs(cache)
        .args(["history", "trend", "alpine"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "| Scan | Time | Reference | Critical |",
        ));
    let svg = dir.path().join("trend.svg");
    let png = dir.path().join("trend.png");
    for f in [&svg, &png] {
        customs(cache)
            .args(["history", "trend", "alpine", "-o"])
            .arg(f)
            .assert()
            .success();
    }
    let svg_text = std::fs::read_to_string(&svg).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        svg_text.starts_with("<svg"),
        "{}",
        &svg_text[..svg_text.len().min(200)]
    );
    assert!(svg_text.contains("alpine: vulnerabilities by severity (2 scans)"));
    assert!(
        svg_text.contains(&format!("UNKNOWN {}", c["UNKNOWN"])),
        "the legend"
    );
    let png_bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(png_bytes.get(..8), Some(&b"\x89PNG\r\n\x1a\n"[..]));
    let be = |i: usize| {
        png_bytes
            .get(i..i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    assert_eq!(
        (be(16), be(20)),
        (Some(960), Some(540)),
        "IHDR width and height"
    );
}

#[test]
fn imports_prune_and_writers_in_several_processes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = dir.path();
    let store = dir.path().join("team.db").display().to_string();
    // An old scan of the past (CreatedAt in 2020), as a team keeps them.
    let mut old: serde_json::Value = json_of(
        &std::fs::read(trivy_fixture("trivy-alpine-3.10.json")).unwrap_or_else(|e| panic!("{e}")),
    );
    old["CreatedAt"] = "2020-01-02T03:04:05Z".into();
    let old_path = dir.path().join("old.json");
    std::fs::write(&old_path, old.to_string()).unwrap_or_else(|e| panic!("{e}"));

    // Six processes import at once into one SQLite file.
    let children: Vec<_> = (0..6)
        .map(|_| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("customs"));
            c.current_dir(repo())
                .env("CUSTOMS_CACHE_DIR", cache)
                .env("CUSTOMS_HISTORY", &store)
                .args(["-q", "history", "import"]);
            for _ in 0..5 {
                c.arg(trivy_fixture("trivy-alpine-3.20.3.json"));
            }
            c.spawn().unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for mut ch in children {
        let st = ch.wait().unwrap_or_else(|e| panic!("{e}"));
        assert!(st.success(), "an importer failed: {st}");
    }
    let list = |args: &[&str]| {
        let mut c = customs(cache);
        c.env("CUSTOMS_HISTORY", &store)
            .args(["history", "list"])
            .args(args)
            .args(["-f", "json", "--limit", "0"]);
        json_of(&c.assert().success().get_output().stdout.clone())
    };
    let all = list(&[]);
    assert_eq!(count(&all), 30, "every write of every process landed");
    assert_eq!(all[0]["Scanner"], "trivy 0.76.0");

    customs(cache)
        .args(["history", "--history-store", &store, "import"])
        .arg(&old_path)
        .assert()
        .success()
        .stderr(predicate::str::contains("as scan 31"));
    // An import is all or none: one bad file, nothing recorded.
    customs(cache)
        .args(["history", "--history-store", &store, "import"])
        .arg(&old_path)
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(3);
    assert_eq!(count(&list(&[])), 31);

    customs(cache)
        .args([
            "history",
            "--history-store",
            &store,
            "prune",
            "--older-than",
            "365d",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("removed 1 scans"));
    customs(cache)
        .args(["history", "--history-store", &store, "prune", "--keep", "3"])
        .assert()
        .success()
        .stderr(predicate::str::contains("removed 27 scans"));
    assert_eq!(count(&list(&["alpine:3.20.3"])), 3);
    customs(cache)
        .args(["history", "--history-store", &store, "prune"])
        .assert()
        .code(2);
}

#[test]
fn a_broken_store_warns_without_changing_the_scan_exit_code_unless_required() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = dir.path();
    let hist = cache.join("history.db");
    std::fs::write(&hist, vec![b'x'; 4096]).unwrap_or_else(|e| panic!("{e}"));

    let o = scan_recorded(cache, NEW_IMAGE, &["-f", "json", "--exit-code", "5"]);
    assert_eq!(o.status.code(), Some(5), "the scan's own exit code");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "{}: not a customs history database",
            hist.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("the scan was not recorded in the history"),
        "{err}"
    );
    assert!(!o.stdout.is_empty(), "the report is still written");
    let o = scan_recorded(cache, NEW_IMAGE, &["-q", "-f", "json"]);
    assert_eq!(o.status.code(), Some(0));

    let o = scan_recorded(
        cache,
        NEW_IMAGE,
        &["-q", "-f", "json", "--history-required"],
    );
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("the scan could not be recorded (--history-required)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&hist).unwrap_or_default(),
        vec![b'x'; 4096],
        "left as it was"
    );

    let o = customs(cache)
        .args(["history", "list"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "customs: error: {}: not a customs history database",
            hist.display()
        )),
        "{err}"
    );
}

#[test]
fn a_team_history_in_postgresql() {
    let pg = Postgres::start();
    let url = pg.create_db("team");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = dir.path();
    // CUSTOMS_HISTORY names the store for the scans and for `history`.
    let o = customs(cache)
        .env("CUSTOMS_HISTORY", &url)
        .args([
            "-q",
            "image",
            "--input",
            OLD_IMAGE,
            "--db",
            &db(),
            "--skip-db-update",
            "--history",
        ])
        .arg("--list-all-pkgs")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = customs(cache)
        .args([
            "-q",
            "image",
            "--input",
            NEW_IMAGE,
            "--db",
            &db(),
            "--skip-db-update",
            "--history",
        ])
        .arg("--list-all-pkgs")
        .args(["--history-store", &url])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !cache.join("history.db").exists(),
        "nothing in the local file"
    );
    assert_eq!(pg.psql("team", "SELECT count(*) FROM customs_scans"), "2");
    let mut c = customs(cache);
    c.env("CUSTOMS_HISTORY", &url)
        .args(["history", "list", "alpine", "-f", "json"]);
    let list = json_of(&c.assert().success().get_output().stdout.clone());
    assert_eq!(count(&list), 2);
    let mut c = customs(cache);
    c.env("CUSTOMS_HISTORY", &url)
        .args(["history", "diff", "alpine", "-f", "json"]);
    let d = json_of(&c.assert().success().get_output().stdout.clone());
    assert_eq!(count(&d["Packages"]["Added"]), 5);

    // The server goes away: a scan still passes (warning), a required
    // record fails in one line, and the password is never shown.
    let port = pg.port();
    drop(pg);
    let gone = format!("postgres://customs:hunter2@127.0.0.1:{port}/team");
    let o = scan_recorded(
        cache,
        NEW_IMAGE,
        &["-q", "--history-store", &gone, "--history-required"],
    );
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "postgres://customs:***@127.0.0.1:{port}/team: cannot connect"
        )),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let o = scan_recorded(cache, NEW_IMAGE, &["--history-store", &gone, "-f", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("the scan was not recorded"));
}

#[test]
fn affected_lists_the_images_whose_latest_scan_has_the_vulnerability() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let cache = dir.path();
    for image in [OLD_IMAGE, NEW_IMAGE] {
        let o = scan_recorded(cache, image, &["-q"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // alpine 3.20.3 has OpenSSL's CVE-2024-12797 (libcrypto3 and libssl3).
    let found = stdout_json(
        cache,
        &["history", "affected", "cve-2024-12797", "-f", "json"],
    );
    let rows = found.as_array().cloned().unwrap_or_default();
    let pkgs: Vec<&str> = rows.iter().filter_map(|r| r["PkgName"].as_str()).collect();
    assert_eq!(pkgs, ["libcrypto3", "libssl3"], "{found}");
    assert!(rows
        .iter()
        .all(|r| r["Scan"]["ArtifactRef"] == "alpine:3.20.3"));
    assert!(
        rows.iter().all(|r| r["FixedVersion"] == "3.3.3-r0"),
        "{found}"
    );
    // A reference filter that excludes it, and an ID no image has.
    let none = stdout_json(
        cache,
        &[
            "history",
            "affected",
            "CVE-2024-12797",
            "alpine:3.10",
            "-f",
            "json",
        ],
    );
    assert_eq!(count(&none), 0);
    let out = customs(cache)
        .args(["history", "affected", "CVE-1999-0001"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&out).contains("No recorded image"));
}
