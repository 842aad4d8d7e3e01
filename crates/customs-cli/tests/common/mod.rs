//! Shared helpers of the end-to-end tests: paths, the customs command, and
//! the real Debian test images (built once into target/images/ and reused).

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub mod server;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn shared(p: &str) -> String {
    format!("../shared/data/{p}")
}

/// `customs` run from the repository root with its own empty cache.
pub fn customs(cache: &Path) -> Command {
    let mut c = Command::cargo_bin("customs").unwrap_or_else(|e| panic!("customs binary: {e}"));
    c.current_dir(repo());
    c.env("CUSTOMS_CACHE_DIR", cache);
    c.env("NO_COLOR", "1");
    c.env_remove("CUSTOMS_LOG");
    c
}

static BUILD: Mutex<()> = Mutex::new(());

/// A real multi-layer Debian image from `scripts/test-images.sh` (built on
/// first use; later runs reuse it). Returns the path relative to the repo.
pub fn debian_image(name: &str) -> String {
    let rel = format!("target/images/{name}.tar");
    let abs = repo().join(&rel);
    let _guard = BUILD.lock().unwrap_or_else(|p| p.into_inner());
    if !abs.exists() {
        let lock_path = repo().join("target/images.lock");
        let _ = std::fs::create_dir_all(repo().join("target"));
        let lock = std::fs::File::create(&lock_path).unwrap_or_else(|e| panic!("{e}"));
        lock.lock().unwrap_or_else(|e| panic!("lock: {e}"));
        if !abs.exists() {
            let st = std::process::Command::new("bash")
                .arg(repo().join("scripts/test-images.sh"))
                .arg(name)
                .current_dir(repo())
                .status()
                .unwrap_or_else(|e| panic!("scripts/test-images.sh: {e}"));
            assert!(st.success(), "building the {name} test image failed");
        }
    }
    rel
}

/// The application tree of the app image (`target/app-dir`: old PyPI
/// wheels, npm packages, Go binaries), built with the app image, or alone
/// when the image is there but the tree is not (a copied `target/images`).
pub fn app_dir() -> String {
    let _ = debian_image("app");
    let rel = "target/app-dir";
    let _guard = BUILD.lock().unwrap_or_else(|p| p.into_inner());
    if !repo().join(rel).join("app").exists() {
        let st = std::process::Command::new("bash")
            .arg(repo().join("crates/customs-lang/tests/build-app-dir.sh"))
            .arg(rel)
            .current_dir(repo())
            .status()
            .unwrap_or_else(|e| panic!("build-app-dir.sh: {e}"));
        assert!(st.success(), "building {rel} failed");
    }
    rel.to_string()
}

pub fn json_of(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

/// Remove what changes from run to run (creation time).
pub fn stable(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("CreatedAt".into(), "[time]".into());
    }
    v
}

/// `(name, version-release, layer diff id)` of every OS package.
pub fn os_packages(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["Class"] == "os-pkgs")
        .flat_map(|r| r["Packages"].as_array().cloned().unwrap_or_default())
        .map(|p| {
            let mut v = p["Version"].as_str().unwrap_or("").to_string();
            if let Some(rel) = p["Release"].as_str() {
                v = format!("{v}-{rel}");
            }
            (
                p["Name"].as_str().unwrap_or("").to_string(),
                v,
                p["Layer"]["DiffID"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

static DB: Mutex<()> = Mutex::new(());

/// The vulnerability database built by `customs db build` from the real
/// feeds in ../shared/data/advisories, once, into target/test-db/ (later
/// tests and runs reuse it). Returns its absolute path.
pub fn vuln_db() -> PathBuf {
    let path = repo().join("target/test-db/customs.db");
    let _guard = DB.lock().unwrap_or_else(|p| p.into_inner());
    if !path.exists() {
        let _ = std::fs::create_dir_all(repo().join("target/test-db"));
        let lock = std::fs::File::create(repo().join("target/test-db.lock"))
            .unwrap_or_else(|e| panic!("{e}"));
        lock.lock().unwrap_or_else(|e| panic!("lock: {e}"));
        if !path.exists() {
            let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            customs(cache.path())
                .args(["-q", "db", "build", "--from", &shared("advisories")])
                .arg("--output")
                .arg(&path)
                .assert()
                .success();
        }
    }
    path
}

/// A database built from the real feeds of ../shared/data/advisories plus
/// an EPSS scores file in FIRST's format
/// (crates/customs-vulndb/tests/fixtures/epss_scores-2025-08-25.csv: no EPSS
/// file is in ../shared, and the scores in it are ours, not FIRST's), once,
/// into target/test-db-epss/. The feed directory links each shared feed.
pub fn vuln_db_with_epss() -> PathBuf {
    let dir = repo().join("target/test-db-epss");
    let path = dir.join("customs.db");
    let _guard = DB.lock().unwrap_or_else(|p| p.into_inner());
    if !path.exists() {
        let _ = std::fs::create_dir_all(&dir);
        let lock = std::fs::File::create(repo().join("target/test-db-epss.lock"))
            .unwrap_or_else(|e| panic!("{e}"));
        lock.lock().unwrap_or_else(|e| panic!("lock: {e}"));
        if !path.exists() {
            let feeds = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let shared_dir = repo().join(shared("advisories"));
            for e in std::fs::read_dir(&shared_dir).unwrap_or_else(|e| panic!("{e}")) {
                let e = e.unwrap_or_else(|e| panic!("{e}"));
                std::os::unix::fs::symlink(e.path(), feeds.path().join(e.file_name()))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            std::fs::create_dir_all(feeds.path().join("epss")).unwrap_or_else(|e| panic!("{e}"));
            std::fs::copy(
                repo().join("crates/customs-vulndb/tests/fixtures/epss_scores-2025-08-25.csv"),
                feeds.path().join("epss/epss_scores-2025-08-25.csv"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            customs(cache.path())
                .args(["-q", "db", "build", "--from"])
                .arg(feeds.path())
                .arg("--output")
                .arg(&path)
                .assert()
                .success();
        }
    }
    path
}

/// A Debian root filesystem: `etc/debian_version` and a dpkg status file
/// (real stanzas from a fixture), in a temporary directory.
pub fn debian_rootfs(debian_version: &str, status_fixture: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let status = repo()
        .join("crates/customs-detect/tests/fixtures")
        .join(status_fixture);
    std::fs::create_dir_all(d.path().join("etc")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(d.path().join("var/lib/dpkg")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        d.path().join("etc/debian_version"),
        format!("{debian_version}\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(&status, d.path().join("var/lib/dpkg/status"))
        .unwrap_or_else(|e| panic!("{}: {e}", status.display()));
    d
}

/// `(target, package, vulnerability, installed, fixed, status)` of every finding.
pub fn findings(report: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| {
            let target = r["Target"].as_str().unwrap_or("").to_string();
            r["Vulnerabilities"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |v| {
                    format!(
                        "{} {} {} {} {} {}",
                        target,
                        v["PkgName"].as_str().unwrap_or(""),
                        v["VulnerabilityID"].as_str().unwrap_or(""),
                        v["InstalledVersion"].as_str().unwrap_or(""),
                        v["FixedVersion"].as_str().unwrap_or("-"),
                        v["Status"].as_str().unwrap_or(""),
                    )
                })
        })
        .collect();
    v.sort();
    v
}

/// `customs -q image ARGS --db <test db> --format json`, which must succeed;
/// its report.
pub fn image_json(cache: &Path, args: &[&str]) -> serde_json::Value {
    let out = customs(cache)
        .args(["-q", "image"])
        .args(args)
        .arg("--db")
        .arg(vuln_db())
        .args(["--format", "json"])
        .output()
        .unwrap_or_else(|e| panic!("customs image {args:?}: {e}"));
    assert!(
        out.status.success(),
        "customs image {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out.stdout)
}
