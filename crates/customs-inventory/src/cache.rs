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
//!
//! A fleet of servers shares one cache in Redis (`--cache-backend
//! redis://…`): layer results under `customs:layer:<key>` and verification
//! records under `customs:verified:<key>`, each with an expiry
//! ([`REDIS_TTL`]). Only content-addressed identities (a registry blob's
//! digest, `blob sha256:…`) are recorded in Redis: a file identity (device,
//! inode, times) names bytes on one machine only, so it stays in the local
//! directory. Redis being down costs a re-analysis, never a scan: the first
//! error is logged and the cache is off for the rest of that scan.

use crate::layer::LayerResult;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Bumped whenever the layout of `LayerResult` or an analyzer's output changes.
const CACHE_VERSION: &str = "customs-layer-cache-4";
/// The prefix of temporary files in the cache's folders.
const TMP: &str = ".tmp-";

/// How long a layer result or a verification record lives in Redis after
/// it was written.
pub const REDIS_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Bound on connecting to Redis and on each command.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// The per-layer cache: a local directory, Redis, or both (layer results
/// in Redis, file identities in the directory).
pub struct LayerCache {
    dir: Option<DirCache>,
    redis: Option<RedisCache>,
}

impl LayerCache {
    /// The cache of a scan; `None` when neither is configured.
    pub fn open(dir: Option<&Path>, redis_url: Option<&str>) -> Option<LayerCache> {
        let dir = dir.map(DirCache::new);
        let redis = redis_url.map(RedisCache::new);
        (dir.is_some() || redis.is_some()).then_some(LayerCache { dir, redis })
    }

    /// The diff ID the bytes with this identity hashed to when customs last
    /// read them, if it did.
    pub fn verified(&self, identity: &str) -> Option<String> {
        match (&self.redis, &self.dir) {
            (Some(r), _) if content_addressed(identity) => r.verified(identity),
            (_, Some(d)) => d.verified(identity),
            _ => None,
        }
    }

    /// Remember that the bytes with this identity hash to `diff_id`.
    pub fn record_verified(&self, identity: &str, diff_id: &str) {
        match (&self.redis, &self.dir) {
            (Some(r), _) if content_addressed(identity) => r.record_verified(identity, diff_id),
            (_, Some(d)) => d.record_verified(identity, diff_id),
            _ => {}
        }
    }

    /// The cached result of a layer with this (verified) diff ID.
    pub fn get(&self, diff_id: &str, fingerprint: &str) -> Option<LayerResult> {
        match (&self.redis, &self.dir) {
            (Some(r), _) => r.get(diff_id, fingerprint),
            (None, Some(d)) => d.get(diff_id, fingerprint),
            (None, None) => None,
        }
    }

    /// Store the result of a layer whose content was verified against
    /// `diff_id`; failures only cost a re-analysis next time.
    pub fn put(&self, diff_id: &str, fingerprint: &str, result: &LayerResult) {
        match (&self.redis, &self.dir) {
            (Some(r), _) => r.put(diff_id, fingerprint, result),
            (None, Some(d)) => d.put(diff_id, fingerprint, result),
            (None, None) => {}
        }
    }
}

/// Whether an identity names bytes by their digest (the same everywhere),
/// not by where one machine stores them.
fn content_addressed(identity: &str) -> bool {
    identity.starts_with("blob sha256:")
}

/// The key of a layer result: the cache version, this build, the diff ID
/// and the analyzers' fingerprint.
fn result_key(diff_id: &str, fingerprint: &str) -> Option<String> {
    if diff_id.is_empty() {
        return None;
    }
    let mut h = Sha256::new();
    h.update(CACHE_VERSION);
    h.update(env!("CARGO_PKG_VERSION"));
    h.update(diff_id);
    h.update(fingerprint);
    Some(hex::encode(h.finalize()))
}

fn record_key(identity: &str) -> String {
    let mut h = Sha256::new();
    h.update(CACHE_VERSION);
    h.update(identity);
    hex::encode(h.finalize())
}

/// A verification record holds the identity it is for, then the diff ID: a
/// hash collision of record names cannot vouch for other bytes.
fn parse_record(text: &str, identity: &str) -> Option<String> {
    let (id, diff) = text.split_once('\n')?;
    (id == identity).then(|| diff.trim().to_string())
}

fn encode_result(result: &LayerResult) -> std::io::Result<Vec<u8>> {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 3)?;
    serde_json::to_writer(&mut enc, result)?;
    enc.finish()
}

/// A layer cache in Redis, shared by every process that points at it.
struct RedisCache {
    /// Shown in messages, its password hidden.
    name: String,
    client: Option<redis::Client>,
    conn: Mutex<Option<redis::Connection>>,
    /// Set at the first error: the rest of the scan does without.
    failed: AtomicBool,
}

impl RedisCache {
    fn new(url: &str) -> RedisCache {
        let name = customs_model::redact_url(url);
        let client = match redis::Client::open(url) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("{name}: not a usable Redis URL ({e}); the layer cache is off");
                None
            }
        };
        RedisCache {
            failed: AtomicBool::new(client.is_none()),
            name,
            client,
            conn: Mutex::new(None),
        }
    }

    /// Run one command on the shared connection (opened on first use).
    fn with<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Option<T> {
        if self.failed.load(Ordering::Relaxed) {
            return None;
        }
        let client = self.client.as_ref()?;
        let mut guard = self.conn.lock().ok()?;
        if guard.is_none() {
            match client
                .get_connection_with_timeout(REDIS_TIMEOUT)
                .and_then(|c| {
                    c.set_read_timeout(Some(REDIS_TIMEOUT))?;
                    c.set_write_timeout(Some(REDIS_TIMEOUT))?;
                    Ok(c)
                }) {
                Ok(c) => *guard = Some(c),
                Err(e) => {
                    self.fail(what, &e);
                    return None;
                }
            }
        }
        let conn = guard.as_mut()?;
        match f(conn) {
            Ok(v) => Some(v),
            Err(e) => {
                *guard = None;
                self.fail(what, &e);
                None
            }
        }
    }

    fn fail(&self, what: &str, e: &redis::RedisError) {
        if !self.failed.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "{}: layer cache {what} failed ({e}); this scan goes on without the shared cache",
                self.name
            );
        }
    }

    fn verified(&self, identity: &str) -> Option<String> {
        let key = format!("customs:verified:{}", record_key(identity));
        let text: Option<String> = self.with("read", |c| redis::cmd("GET").arg(&key).query(c))?;
        parse_record(&text?, identity)
    }

    fn record_verified(&self, identity: &str, diff_id: &str) {
        let key = format!("customs:verified:{}", record_key(identity));
        let body = format!("{identity}\n{diff_id}\n");
        self.with("write", |c| {
            redis::cmd("SET")
                .arg(&key)
                .arg(body)
                .arg("EX")
                .arg(REDIS_TTL.as_secs())
                .query::<()>(c)
        });
    }

    fn get(&self, diff_id: &str, fingerprint: &str) -> Option<LayerResult> {
        let key = format!("customs:layer:{}", result_key(diff_id, fingerprint)?);
        let bytes: Option<Vec<u8>> = self.with("read", |c| redis::cmd("GET").arg(&key).query(c))?;
        let bytes = bytes?;
        let dec = zstd::stream::read::Decoder::new(bytes.as_slice()).ok()?;
        match serde_json::from_reader(std::io::BufReader::new(dec)) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!("{}: unreadable cache entry {key} ignored: {e}", self.name);
                None
            }
        }
    }

    fn put(&self, diff_id: &str, fingerprint: &str, result: &LayerResult) {
        let Some(key) = result_key(diff_id, fingerprint) else {
            return;
        };
        let key = format!("customs:layer:{key}");
        let bytes = match encode_result(result) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("layer {diff_id}: could not encode its cache entry: {e}");
                return;
            }
        };
        self.with("write", |c| {
            redis::cmd("SET")
                .arg(&key)
                .arg(bytes)
                .arg("EX")
                .arg(REDIS_TTL.as_secs())
                .query::<()>(c)
        });
    }
}

/// Whether the Redis at `url` answers (a server checks it when it starts).
pub fn check_redis(url: &str) -> Result<(), String> {
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut c = client
        .get_connection_with_timeout(REDIS_TIMEOUT)
        .map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(REDIS_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let pong: String = redis::cmd("PING")
        .query(&mut c)
        .map_err(|e| e.to_string())?;
    if pong == "PONG" {
        Ok(())
    } else {
        Err(format!("PING answered {pong:?}"))
    }
}

/// The per-layer cache in a local directory.
struct DirCache {
    dir: PathBuf,
    verified: PathBuf,
}

impl DirCache {
    fn new(root: &Path) -> Self {
        let c = DirCache {
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
        let key = result_key(diff_id, fingerprint)?;
        Some(self.dir.join(format!("{key}.json.zst")))
    }

    fn record_path(&self, identity: &str) -> PathBuf {
        self.verified.join(record_key(identity))
    }

    fn verified(&self, identity: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.record_path(identity)).ok()?;
        parse_record(&text, identity)
    }

    fn record_verified(&self, identity: &str, diff_id: &str) {
        let p = self.record_path(identity);
        let body = format!("{identity}\n{diff_id}\n");
        if let Err(e) = self.atomic_write(&self.verified, &p, &mut |w| w.write_all(body.as_bytes()))
        {
            tracing::warn!("{}: could not write the layer cache: {e}", p.display());
        }
    }

    fn get(&self, diff_id: &str, fingerprint: &str) -> Option<LayerResult> {
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

    fn put(&self, diff_id: &str, fingerprint: &str, result: &LayerResult) {
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
