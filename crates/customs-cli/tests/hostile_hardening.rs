//! The hardening scanner on a layer of a million files, end to end with the
//! real checks: the findings of the few entries that matter, and a peak RSS
//! of tens of MiB (it was 400 MB when every entry's metadata was kept and
//! copied three times). Ignored by default; CI runs it with the other large
//! hostile inputs (`cargo test --workspace -- --ignored large_`).

mod common;
use common::*;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A writer that hashes what it writes.
struct Hashing<W: Write> {
    inner: W,
    sha: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_cksum();
    h
}

/// An unpacked `docker save` directory whose one layer holds `n` empty
/// files, a setuid binary, a shell, a world-writable directory and one
/// setuid file that a second layer fixes.
fn image(dir: &Path, n: usize) {
    let mut diff_ids = Vec::new();
    for (i, upper) in [false, true].into_iter().enumerate() {
        must(std::fs::create_dir_all(dir.join(format!("l{i}"))));
        let f = must(std::fs::File::create(dir.join(format!("l{i}/layer.tar"))));
        let mut w = Hashing {
            inner: std::io::BufWriter::new(f),
            sha: Sha256::new(),
        };
        {
            let mut b = tar::Builder::new(&mut w);
            let mut add = |p: &str, kind, mode| {
                let mut h = header(kind, mode, 0);
                must(b.append_data(&mut h, p, std::io::empty()));
            };
            if upper {
                add("usr/bin/chfn", tar::EntryType::Regular, 0o755);
            } else {
                add("bin/sh", tar::EntryType::Regular, 0o755);
                add("usr/bin/passwd", tar::EntryType::Regular, 0o4755);
                add("usr/bin/chfn", tar::EntryType::Regular, 0o4755);
                add("scratch", tar::EntryType::Directory, 0o777);
                for i in 0..n {
                    if i % 1000 == 0 {
                        let d = format!("data/d{:04}", i / 1000);
                        add(&d, tar::EntryType::Directory, 0o755);
                    }
                    let p = format!("data/d{:04}/file-{:04}.txt", i / 1000, i % 1000);
                    add(&p, tar::EntryType::Regular, 0o644);
                }
            }
            must(b.finish());
        }
        must(w.flush());
        diff_ids.push(format!("sha256:{:x}", w.sha.finalize()));
    }
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/sh"]},
        "history": [{"created_by": "ADD files"}, {"created_by": "RUN chmod u-s /usr/bin/chfn"}],
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    must(std::fs::write(
        dir.join("config.json"),
        must(serde_json::to_vec(&config)),
    ));
    let manifest = serde_json::json!([{
        "Config": "config.json", "RepoTags": ["files:1"],
        "Layers": ["l0/layer.tar", "l1/layer.tar"],
    }]);
    must(std::fs::write(
        dir.join("manifest.json"),
        must(serde_json::to_vec(&manifest)),
    ));
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    customs_testkit::vm_hwm_kib(&pid.to_string())
}

#[test]
#[ignore = "large hostile input; run by .ci/run"]
fn large_hardening_of_a_million_file_layer() {
    let tmp = must(tempfile::tempdir());
    let img = tmp.path().join("img");
    image(&img, 1_000_000);
    let out = tmp.path().join("report.json");
    let cmd = customs(&tmp.path().join("cache"));
    let mut child = must(
        std::process::Command::new(cmd.get_program())
            .args(["image", "--input"])
            .arg(&img)
            .args(["--scanners", "hardening", "-f", "json", "-o"])
            .arg(&out)
            .env("CUSTOMS_CACHE_DIR", tmp.path().join("cache"))
            .spawn(),
    );
    let t = std::time::Instant::now();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(s) = must(child.try_wait()) {
            break s;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    eprintln!(
        "1 M files: hardening scan {:?}, peak RSS {} MiB",
        t.elapsed(),
        peak >> 10
    );
    assert!(status.success(), "{status}");
    let report: serde_json::Value = must(serde_json::from_slice(&must(std::fs::read(&out))));
    let msgs: Vec<String> = report["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Misconfigurations"].as_array().into_iter().flatten())
        .filter(|m| m["Status"] == "FAIL")
        .map(|m| {
            format!(
                "{} {}",
                m["ID"].as_str().unwrap_or(""),
                m["Message"].as_str().unwrap_or("")
            )
        })
        .collect();
    let has = |s: &str| msgs.iter().any(|m| m.contains(s));
    assert!(has("/usr/bin/passwd is setuid"), "{msgs:#?}");
    assert!(!has("/usr/bin/chfn"), "fixed in the upper layer: {msgs:#?}");
    assert!(
        has("/scratch is world-writable without the sticky bit"),
        "{msgs:#?}"
    );
    assert!(has("Shells present: /bin/sh"), "{msgs:#?}");
    assert!(peak < 150 << 10, "peak RSS {} MiB", peak >> 10);
}
