//! The per-layer cache: one zstd-compressed JSON file per (diff ID, analyzer
//! set), written to a temporary name and renamed into place, so any number of
//! customs processes can share one cache without a lock (a reader sees either
//! nothing or a whole file; two writers of the same key write the same bytes).
//!
//! Trust: a result is stored only for a layer whose bytes customs hashed to
//! its diff ID itself, and read back only for a layer known to hold those
//! bytes. For a local file, that knowledge is a verification record under
//! `verified/`: the identity of the stored bytes (device, inode, size, mtime,
//! ctime, offset; see `customs_image::Image::layer_identity`) → the diff ID
//! they hashed to. An image that merely claims a cached diff ID has no such
//! record, so its layers are read and verified, and a false claim fails.
//!
//! Temporary files of killed processes are swept when the cache is opened
//! (`customs_model::tmpfile`).

use crate::layer::LayerResult;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bumped whenever the layout of `LayerResult` or an analyzer's output changes.
const CACHE_VERSION: &str = "customs-layer-cache-4";
/// The prefix of temporary files in the cache's folders.
const TMP: &str = ".tmp-";

pub struct LayerCache {
    dir: PathBuf,
    verified: PathBuf,
}

impl LayerCache {
    pub fn new(root: &Path) -> Self {
        let c = LayerCache {
            dir: root.join("layers"),
            verified: root.join("verified"),
        };
        let swept = customs_model::tmpfile::sweep_dir(&c.dir, TMP)
            + customs_model::tmpfile::sweep_dir(&c.verified, TMP);
        if swept > 0 {
            tracing::debug!("removed {swept} temporary files that killed scans left in the cache");
        }
        c
    }

    fn key_path(&self, diff_id: &str, fingerprint: &str) -> Option<PathBuf> {
        if diff_id.is_empty() {
            return None;
        }
        let mut h = Sha256::new();
        h.update(CACHE_VERSION);
        h.update(env!("CARGO_PKG_VERSION"));
        h.update(diff_id);
        h.update(fingerprint);
        Some(
            self.dir
                .join(format!("{}.json.zst", hex::encode(h.finalize()))),
        )
    }

    fn record_path(&self, identity: &str) -> PathBuf {
        let mut h = Sha256::new();
        h.update(CACHE_VERSION);
        h.update(identity);
        self.verified.join(hex::encode(h.finalize()))
    }

    /// The diff ID the bytes with this identity hashed to when customs last
    /// read them, if it did.
    pub fn verified(&self, identity: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.record_path(identity)).ok()?;
        // The record holds the identity it is for, then the diff ID: a hash
        // collision of record names cannot vouch for other bytes.
        let (id, diff) = text.split_once('\n')?;
        (id == identity).then(|| diff.trim().to_string())
    }

    /// Remember that the bytes with this identity hash to `diff_id`.
    pub fn record_verified(&self, identity: &str, diff_id: &str) {
        let p = self.record_path(identity);
        let body = format!("{identity}\n{diff_id}\n");
        if let Err(e) = self.atomic_write(&self.verified, &p, &mut |w| w.write_all(body.as_bytes()))
        {
            tracing::warn!("{}: could not write the layer cache: {e}", p.display());
        }
    }

    /// The cached result of a layer with this (verified) diff ID.
    pub fn get(&self, diff_id: &str, fingerprint: &str) -> Option<LayerResult> {
        let p = self.key_path(diff_id, fingerprint)?;
        let f = std::fs::File::open(&p).ok()?;
        let dec = zstd::stream::read::Decoder::new(f).ok()?;
        match serde_json::from_reader(std::io::BufReader::new(dec)) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!("{}: unreadable cache entry ignored: {e}", p.display());
                None
            }
        }
    }

    /// Store the result of a layer whose content was verified against
    /// `diff_id`; failures only cost a re-analysis next time.
    pub fn put(&self, diff_id: &str, fingerprint: &str, result: &LayerResult) {
        let Some(p) = self.key_path(diff_id, fingerprint) else {
            return;
        };
        let r = self.atomic_write(&self.dir, &p, &mut |w| {
            let mut enc = zstd::stream::write::Encoder::new(w, 3)?;
            serde_json::to_writer(&mut enc, result)?;
            enc.finish()?;
            Ok(())
        });
        if let Err(e) = r {
            tracing::warn!("{}: could not write the layer cache: {e}", p.display());
        }
    }

    fn atomic_write(
        &self,
        dir: &Path,
        p: &Path,
        body: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let tmp = customs_model::tmpfile::temp_in(dir, TMP);
        let written = (|| {
            let f = std::fs::File::create(&tmp)?;
            let mut w = std::io::BufWriter::new(f);
            body(&mut w)?;
            w.flush()
        })();
        written
            .and_then(|()| std::fs::rename(&tmp, p))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
    }
}
