//! Shared helpers of the end-to-end tests: paths, the customs command, and
//! the real Debian test images (built once into target/images/ and reused).

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
