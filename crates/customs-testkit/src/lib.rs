//! Test support: layer tars and images in the real upstream formats (`docker
//! save` archives and directories, OCI image layouts), built at test time
//! with true digests, or with the false claims a hostile image would make.
//! The one definition of these builders for every crate's tests; never a
//! dependency of shipped code. Failures panic: these are test fixtures.

pub mod artifact;
mod loopback;
pub mod paging;
pub mod podman;
pub mod postgres;
pub mod redis;
pub mod registry;
pub mod tls;

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `sha256:<hex>` of `data`, as OCI names content.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn hex_of(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// A layer tar of regular files (mode 0644).
pub fn layer(files: &[(&str, &[u8])]) -> Vec<u8> {
    let with_modes: Vec<(&str, &[u8], u32)> = files.iter().map(|(p, d)| (*p, *d, 0o644)).collect();
    layer_with_modes(&with_modes)
}

/// A layer tar of regular files with these modes. Names of up to 100 bytes
/// are written into the header as they are, so hostile names (`../x`,
/// `/etc/x`, control characters) are possible, as a malicious image carries
/// them; longer names get a GNU long-name entry.
pub fn layer_with_modes(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_entry_type(tar::EntryType::Regular);
        let raw = p.as_bytes();
        match h.as_gnu_mut() {
            Some(gnu) if raw.len() <= gnu.name.len() => {
                gnu.name[..raw.len()].copy_from_slice(raw);
                h.set_cksum();
                must(b.append(&h, *data));
            }
            _ => must(b.append_data(&mut h, p, *data)),
        }
    }
    must(b.into_inner())
}

/// A plain tar archive of these entries (an image archive's outer tar).
pub fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        must(b.append_data(&mut h, p, *data));
    }
    must(b.into_inner())
}

/// A `docker save` image: its layers, the config (with the layers' true diff
/// IDs unless told to claim others), and the manifest.
#[derive(Clone, Default)]
pub struct DockerImage {
    layers: Vec<Vec<u8>>,
    claimed: Option<Vec<String>>,
    extra: serde_json::Map<String, serde_json::Value>,
    history: Option<Vec<String>>,
    manifest_layers: Option<Vec<String>>,
    tags: Vec<String>,
}

/// What a written image is made of.
pub struct Written {
    /// The image (archive file or directory).
    pub path: PathBuf,
    /// The config's name inside the image (`<hex>.json`).
    pub config_name: String,
    /// The diff IDs the config claims.
    pub diff_ids: Vec<String>,
    /// Where each layer is stored inside the image.
    pub layer_names: Vec<String>,
}

impl DockerImage {
    pub fn new(layers: &[Vec<u8>]) -> Self {
        DockerImage {
            layers: layers.to_vec(),
            tags: vec!["test:1".into()],
            ..Default::default()
        }
    }

    /// Claim these diff IDs instead of the true ones (a forgery).
    pub fn claim_diff_ids(mut self, ids: Vec<String>) -> Self {
        self.claimed = Some(ids);
        self
    }

    /// Set a top-level member of the config (`config`, `created`, …).
    pub fn config(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra.insert(key.to_string(), value);
        self
    }

    /// The `created_by` of each layer's history entry (default `ADD x`).
    pub fn history(mut self, created_by: &[&str]) -> Self {
        self.history = Some(created_by.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Name these layer paths in the manifest (the layers are still stored
    /// at `l<i>/layer.tar`), for missing or hostile names.
    pub fn manifest_layers(mut self, names: &[&str]) -> Self {
        self.manifest_layers = Some(names.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.tags = tags.iter().map(|s| s.to_string()).collect();
        self
    }

    fn parts(&self) -> (Vec<u8>, String, Vec<String>, Vec<String>, Vec<u8>) {
        let diff_ids = self
            .claimed
            .clone()
            .unwrap_or_else(|| self.layers.iter().map(|l| sha256(l)).collect());
        let history: Vec<serde_json::Value> = match &self.history {
            Some(h) => h
                .iter()
                .map(|c| serde_json::json!({"created_by": c}))
                .collect(),
            None => diff_ids
                .iter()
                .map(|_| serde_json::json!({"created_by": "ADD x"}))
                .collect(),
        };
        let mut cfg = serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let Some(obj) = cfg.as_object_mut() {
            for (k, v) in &self.extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        let cfg = must(serde_json::to_vec(&cfg));
        let cfg_name = format!("{}.json", hex_of(&cfg));
        let stored: Vec<String> = (0..self.layers.len())
            .map(|i| format!("l{i}/layer.tar"))
            .collect();
        let named = self
            .manifest_layers
            .clone()
            .unwrap_or_else(|| stored.clone());
        let manifest = must(serde_json::to_vec(&serde_json::json!([{
            "Config": cfg_name, "RepoTags": self.tags, "Layers": named}])));
        (cfg, cfg_name, diff_ids, stored, manifest)
    }

    /// Write the image as a `docker save` tar archive.
    pub fn write_tar(&self, path: &Path) -> Written {
        let (cfg, cfg_name, diff_ids, stored, manifest) = self.parts();
        let mut entries: Vec<(&str, &[u8])> = vec![("manifest.json", &manifest), (&cfg_name, &cfg)];
        for (n, l) in stored.iter().zip(&self.layers) {
            entries.push((n, l));
        }
        must(std::fs::write(path, tar_of(&entries)));
        Written {
            path: path.to_path_buf(),
            config_name: cfg_name,
            diff_ids,
            layer_names: stored,
        }
    }

    /// Write the image as an unpacked `docker save` directory.
    pub fn write_dir(&self, dir: &Path) -> Written {
        let (cfg, cfg_name, diff_ids, stored, manifest) = self.parts();
        write(&dir.join("manifest.json"), &manifest);
        write(&dir.join(&cfg_name), &cfg);
        for (n, l) in stored.iter().zip(&self.layers) {
            write(&dir.join(n), l);
        }
        Written {
            path: dir.to_path_buf(),
            config_name: cfg_name,
            diff_ids,
            layer_names: stored,
        }
    }
}

/// A reader of generated text: whole lines `line(0)`, `line(1)`, … until at
/// least `total` bytes are out, never holding more than one line (for
/// gigabyte-sized hostile inputs that are never allocated whole).
pub struct LineStream<F> {
    line: F,
    total: u64,
    produced: u64,
    /// Lines handed out so far.
    pub lines: u64,
    pending: Vec<u8>,
    pos: usize,
}

impl<F: FnMut(u64) -> String> LineStream<F> {
    pub fn new(total: u64, line: F) -> Self {
        LineStream {
            line,
            total,
            produced: 0,
            lines: 0,
            pending: Vec::new(),
            pos: 0,
        }
    }
}

impl<F: FnMut(u64) -> String> std::io::Read for LineStream<F> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < out.len() {
            if self.pos >= self.pending.len() {
                if self.produced >= self.total {
                    break;
                }
                self.pending = (self.line)(self.lines).into_bytes();
                self.pos = 0;
                self.lines += 1;
            }
            let avail = self.pending.get(self.pos..).unwrap_or_default();
            let k = avail.len().min(out.len() - n);
            if let (Some(dst), Some(src)) = (out.get_mut(n..n + k), avail.get(..k)) {
                dst.copy_from_slice(src);
            }
            self.pos += k;
            n += k;
            self.produced += k as u64;
        }
        Ok(n)
    }
}

/// Peak resident memory (`VmHWM`) of this process so far, in KiB (0 where
/// `/proc` does not say).
pub fn peak_rss_kib() -> u64 {
    vm_hwm_kib("self").unwrap_or(0)
}

/// Peak resident memory (`VmHWM`) of process `pid` (or `"self"`), in KiB.
pub fn vm_hwm_kib(pid: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Write `data` to `p`, creating its directories.
pub fn write(p: &Path, data: &[u8]) {
    if let Some(d) = p.parent() {
        must(std::fs::create_dir_all(d));
    }
    std::fs::write(p, data).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
}

/// An OCI image layout directory with gzip layers and true digests.
/// Returns the config's digest and the layer blobs' digests.
pub fn oci_dir(dir: &Path, layers: &[Vec<u8>]) -> (String, Vec<String>) {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256(l)).collect();
    let cfg = must(serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": diff_ids.iter().map(|_| serde_json::json!({"created_by": "ADD x"})).collect::<Vec<_>>(),
    })));
    let blobs = dir.join("blobs/sha256");
    write(&blobs.join(hex_of(&cfg)), &cfg);
    let mut descs = Vec::new();
    let mut digests = Vec::new();
    for l in layers {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        must(gz.write_all(l));
        let gz = must(gz.finish());
        write(&blobs.join(hex_of(&gz)), &gz);
        descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": sha256(&gz), "size": gz.len()}));
        digests.push(sha256(&gz));
    }
    let man = must(serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(&cfg), "size": cfg.len()},
        "layers": descs,
    })));
    write(&blobs.join(hex_of(&man)), &man);
    let idx = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha256(&man), "size": man.len(),
        "annotations": {"org.opencontainers.image.ref.name": "1"}}]});
    write(&dir.join("index.json"), &must(serde_json::to_vec(&idx)));
    write(
        &dir.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    );
    (sha256(&cfg), digests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_images_carry_true_digests_unless_told_otherwise() {
        let l = layer(&[("../etc/x", b"1"), ("a", b"2")]);
        let d = std::env::temp_dir().join(format!("customs-testkit-{}", std::process::id()));
        let w = DockerImage::new(std::slice::from_ref(&l)).write_dir(&d);
        assert_eq!(w.diff_ids, vec![sha256(&l)]);
        let cfg = must(std::fs::read(d.join(&w.config_name)));
        assert_eq!(
            format!("sha256:{}", w.config_name.trim_end_matches(".json")),
            sha256(&cfg)
        );
        let forged = DockerImage::new(&[l])
            .claim_diff_ids(vec!["sha256:00".into()])
            .write_dir(&d);
        assert_eq!(forged.diff_ids, vec!["sha256:00".to_string()]);
        let mut names = Vec::new();
        let data = must(std::fs::read(d.join("l0/layer.tar")));
        for e in must(tar::Archive::new(&data[..]).entries()) {
            names.push(String::from_utf8_lossy(&must(e).path_bytes()).into_owned());
        }
        assert_eq!(names, ["../etc/x", "a"]);
        let _ = std::fs::remove_dir_all(&d);
    }
}
