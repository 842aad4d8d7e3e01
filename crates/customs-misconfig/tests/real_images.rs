//! The three scanners on real images: alpine:3.10 (docker save, from
//! ../shared/data) and, as an ignored test, a Debian bookworm image built by
//! ../shared/scripts/build-test-image.sh. This test reads the docker-archive
//! itself (the real image walker is another crate's job): two passes over
//! the outer tar, layers applied in order with whiteouts.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use customs_misconfig::{
    hardening_wanted, scan_hardening, scan_image_config_with, EntryKind, FsEntry, FsSnapshot,
    HardeningOptions, ImageConfigInput, ImageConfigOptions,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn outer(path: &Path) -> tar::Archive<Box<dyn Read>> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    tar::Archive::new(r)
}

/// An entry of one layer and, if wanted, its content.
type LayerItem = (FsEntry, Option<Vec<u8>>);

fn load(path: &Path) -> (ImageConfigInput, FsSnapshot) {
    // Pass 1: manifest and config.
    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    for e in outer(path).entries().unwrap_or_else(|e| panic!("{e}")) {
        let mut e = e.unwrap_or_else(|e| panic!("{e}"));
        let name = e
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if name.ends_with(".json") {
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap_or_else(|e| panic!("{e}"));
            files.insert(name, b);
        }
    }
    let manifest: serde_json::Value = serde_json::from_slice(
        files
            .get("manifest.json")
            .map(Vec::as_slice)
            .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("manifest: {e}"));
    let config_name = manifest[0]["Config"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let layers: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let cfg = ImageConfigInput::from_oci_config_json(
        files
            .get(&config_name)
            .map(Vec::as_slice)
            .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    // Pass 2: each layer, in manifest order (layers are read from the outer
    // tar in its order and applied in manifest order afterwards).
    let mut per_layer: HashMap<String, Vec<LayerItem>> = HashMap::new();
    for e in outer(path).entries().unwrap_or_else(|e| panic!("{e}")) {
        let e = e.unwrap_or_else(|e| panic!("{e}"));
        let name = e
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if !layers.contains(&name) {
            continue;
        }
        let mut items = Vec::new();
        let mut inner = tar::Archive::new(e);
        for le in inner.entries().unwrap_or_else(|e| panic!("{e}")) {
            let mut le = le.unwrap_or_else(|e| panic!("{e}"));
            let h = le.header().clone();
            let p = le
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let p = p.trim_start_matches("./").trim_end_matches('/').to_string();
            let kind = match h.entry_type() {
                tar::EntryType::Regular => EntryKind::File,
                tar::EntryType::Directory => EntryKind::Dir,
                tar::EntryType::Symlink => EntryKind::Symlink,
                tar::EntryType::Link => EntryKind::Hardlink,
                _ => EntryKind::Other,
            };
            let content = if hardening_wanted(&p) {
                let mut b = Vec::new();
                le.read_to_end(&mut b).unwrap_or_else(|e| panic!("{e}"));
                Some(b)
            } else {
                None
            };
            items.push((
                FsEntry {
                    path: p,
                    kind,
                    mode: h.mode().unwrap_or(0),
                    uid: h.uid().unwrap_or(0),
                    gid: h.gid().unwrap_or(0),
                    size: h.size().unwrap_or(0),
                    link_target: le
                        .link_name()
                        .ok()
                        .flatten()
                        .map(|l| l.display().to_string()),
                },
                content,
            ));
        }
        per_layer.insert(name, items);
    }
    let mut view: BTreeMap<String, FsEntry> = BTreeMap::new();
    let mut contents = HashMap::new();
    for l in &layers {
        for (e, c) in per_layer.remove(l).unwrap_or_default() {
            let (dir, base) = e.path.rsplit_once('/').unwrap_or(("", e.path.as_str()));
            if base == ".wh..wh..opq" {
                let prefix = format!("{dir}/");
                view.retain(|k, _| !k.starts_with(&prefix));
                continue;
            }
            if let Some(victim) = base.strip_prefix(".wh.") {
                let gone = if dir.is_empty() {
                    victim.to_string()
                } else {
                    format!("{dir}/{victim}")
                };
                let prefix = format!("{gone}/");
                view.retain(|k, _| *k != gone && !k.starts_with(&prefix));
                contents.remove(&gone);
                continue;
            }
            if let Some(c) = c {
                contents.insert(e.path.clone(), c);
            }
            view.insert(e.path.clone(), e);
        }
    }
    let snap = FsSnapshot {
        entries: view.into_values().collect(),
        contents,
        user: Some(cfg.user.clone()),
        entrypoint: cfg.entrypoint.clone(),
        cmd: cfg.cmd.clone(),
    };
    (cfg, snap)
}

/// 2026-11-22, fixed so the age check is reproducible.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_305_600)
}

#[test]
fn alpine_3_10_config_and_hardening() {
    let (cfg, snap) = load(&PathBuf::from(DATA).join("images/alpine-3.10.tar.gz"));
    assert_eq!(cfg.cmd, vec!["/bin/sh"]);
    assert_eq!(cfg.history.len(), 2);

    let opts = ImageConfigOptions {
        max_age_days: 30,
        now: now(),
    };
    let r = scan_image_config_with(&cfg, &opts);
    // Runs as root, no healthcheck, built in January 2020.
    assert_eq!(
        r.failed_ids(),
        ["CS-IMG-002", "DS-0002", "DS-0026"],
        "{}",
        customs_misconfig::to_table(&r)
    );
    assert!(r.passed("DS-0004") && r.passed("CS-IMG-001"));
    let age = r
        .failures()
        .find(|m| m.id == "CS-IMG-002")
        .map(|m| m.message.clone())
        .unwrap_or_default();
    assert!(age.contains("2020-01-23T16:53:06.686519038Z"), "{age}");
    // Young enough with a generous limit.
    let r = scan_image_config_with(
        &cfg,
        &ImageConfigOptions {
            max_age_days: 5000,
            now: now(),
        },
    );
    assert!(r.passed("CS-IMG-002"));

    assert!(snap.entries.len() > 400, "{}", snap.entries.len());
    assert!(snap.contents.contains_key("etc/shadow"));
    let h = scan_hardening(&snap, &HardeningOptions::default());
    let table = customs_misconfig::to_table(&h);
    // busybox shell, apk, no init; no setuid files, /tmp is sticky, root is locked.
    assert_eq!(
        h.failed_ids(),
        ["CS-HARD-007", "CS-HARD-008", "CS-HARD-011"],
        "{table}"
    );
    for id in [
        "CS-HARD-001",
        "CS-HARD-003",
        "CS-HARD-004",
        "CS-HARD-005",
        "CS-HARD-006",
        "CS-HARD-009",
        "CS-HARD-010",
    ] {
        assert!(h.passed(id), "{id}\n{table}");
    }
    assert!(table.contains("/bin/busybox"), "{table}");
    assert!(table.contains("/sbin/apk"), "{table}");
}

/// Builds (once, about a minute, needs Debian's mirror) a bookworm minbase
/// image with ../shared/scripts/build-test-image.sh. Run with `--ignored`.
#[test]
#[ignore]
fn debian_bookworm_built_image() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bookworm-minbase.tar");
    if !out.exists() {
        let script = PathBuf::from(DATA).join("../scripts/build-test-image.sh");
        let st = std::process::Command::new(script)
            .arg(&out)
            .arg("bookworm")
            .status()
            .unwrap_or_else(|e| panic!("build-test-image.sh: {e}"));
        assert!(st.success(), "build-test-image.sh failed");
    }
    let (cfg, snap) = load(&out);
    let r = scan_image_config_with(
        &cfg,
        &ImageConfigOptions {
            max_age_days: 30,
            now: SystemTime::now(),
        },
    );
    assert!(r.failed("DS-0002"), "{}", customs_misconfig::to_table(&r));
    assert!(r.failed("DS-0026"));

    let h = scan_hardening(&snap, &HardeningOptions::default());
    let table = customs_misconfig::to_table(&h);
    for id in ["CS-HARD-001", "CS-HARD-007", "CS-HARD-008", "CS-HARD-011"] {
        assert!(h.failed(id), "{id}\n{table}");
    }
    assert!(
        table.contains("/usr/bin/passwd is setuid (owner 0:0, mode 4755)"),
        "{table}"
    );
    assert!(
        h.passed("CS-HARD-004") && h.passed("CS-HARD-005"),
        "{table}"
    );
    // The allow list removes what it names.
    let allow = HardeningOptions {
        setuid_allow: vec!["/usr/bin/passwd".into()],
    };
    let h2 = scan_hardening(&snap, &allow);
    assert_eq!(
        h2.misconf_summary.failures + 1,
        h.misconf_summary.failures,
        "{}",
        customs_misconfig::to_table(&h2)
    );
    println!("{table}");
}
