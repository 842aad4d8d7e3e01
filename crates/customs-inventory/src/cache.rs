//! The per-layer cache: one zstd-compressed JSON file per (diff ID, analyzer
//! set), written to a temporary name and renamed into place, so any number of
//! customs processes can share one cache without a lock (a reader sees either
//! nothing or a whole file; two writers of the same key write the same bytes).

use crate::layer::LayerResult;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bumped whenever the layout of `LayerResult` or an analyzer's output changes.
const CACHE_VERSION: &str = "customs-layer-cache-1";

pub struct LayerCache {
    dir: PathBuf,
}

impl LayerCache {
    pub fn new(root: &Path) -> Self {
        LayerCache {
            dir: root.join("layers"),
        }
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

    /// Store a result; failures only cost a re-analysis next time.
    pub fn put(&self, diff_id: &str, fingerprint: &str, result: &LayerResult) {
        let Some(p) = self.key_path(diff_id, fingerprint) else {
            return;
        };
        if let Err(e) = self.write(&p, result) {
            tracing::warn!("{}: could not write the layer cache: {e}", p.display());
        }
    }

    fn write(&self, p: &Path, result: &LayerResult) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self.dir.join(format!(
            ".tmp-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        {
            let f = std::fs::File::create(&tmp)?;
            let mut enc = zstd::stream::write::Encoder::new(std::io::BufWriter::new(f), 3)?;
            serde_json::to_writer(&mut enc, result)?;
            let mut w = enc.finish()?;
            w.flush()?;
        }
        std::fs::rename(&tmp, p).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}
