//! Reading an image from a one-time stream (an engine's `docker save`
//! export), in one pass.
//!
//! The engines write the layers first and `manifest.json` last, so which
//! entry is which layer is known only at the end. Each large entry is
//! therefore hashed (as stored and uncompressed) and analyzed as it passes;
//! small entries (configs, manifests, tiny layers) are kept. At the end the
//! image is opened from what was kept by the same loaders as an archive on
//! disk, and each layer the manifest names is held to its digests: a
//! result is handed on only for bytes that hashed to the layer's diff ID.
//! Nothing is written to disk.

use crate::digest::{Algorithm, Digest, HashingReader};
use crate::error::ImageError;
use crate::source::{
    entry_name, link_aliases, Format, Image, StreamedStore, MAX_JSON, MAX_TRAILER, SMALL_ENTRY,
};
use crate::walk::decompress;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

/// What the pass learned of one large entry.
struct Record<T> {
    claimed: Option<Digest>,
    raw: Option<Digest>,
    raw_len: u64,
    diff: Option<Digest>,
    result: Option<Result<Option<T>, ImageError>>,
}

/// The digest an entry's name claims: `HEX.tar` (docker-archive, Podman) or
/// `blobs/sha256/HEX` (OCI layout, Docker 25 and later).
fn claimed(name: &str) -> Option<Digest> {
    if let Some(rest) = name.strip_prefix("blobs/") {
        let (alg, hex) = rest.split_once('/')?;
        return Digest::parse(&format!("{alg}:{hex}"));
    }
    let hex = name.strip_suffix(".tar")?;
    if hex.contains('/') {
        return None;
    }
    Digest::parse(&format!("sha256:{hex}"))
}

/// The layers an export pass analyzed: layer index → `Some(result)`, or
/// `None` where `analyze` chose to skip the bytes (they were still hashed
/// and verified). Layers not in the map were small and are read with
/// `Image::for_each_layer`.
pub type Analyzed<T> = HashMap<usize, Option<T>>;

impl Image {
    /// Open an image from a `docker save` stream (docker-archive or OCI
    /// layout, uncompressed or compressed layers), running `analyze` on the
    /// uncompressed stream of each large entry as it passes. `analyze` gets
    /// the digest the entry's name claims (so it may skip bytes whose result
    /// it already holds, returning `Ok(None)`). `label` names the image in
    /// errors; `expected_id`, when given, is the config digest the engine
    /// announced, which the stream's config must hash to.
    pub fn open_export<T, A>(
        stream: impl Read,
        label: &str,
        reference: Option<&str>,
        expected_id: Option<&str>,
        analyze: &A,
    ) -> Result<(Image, Analyzed<T>), ImageError>
    where
        A: Fn(Option<&Digest>, &mut dyn Read) -> Result<Option<T>, ImageError>,
    {
        let path = PathBuf::from(label);
        let bad = |e: std::io::Error| ImageError::NotAnImage {
            path: path.clone(),
            reason: crate::walk::read_error("export stream", &e),
        };
        let mut ar = tar::Archive::new(stream);
        let mut small: HashMap<String, Vec<u8>> = HashMap::new();
        let mut large: HashSet<String> = HashSet::new();
        let mut records: HashMap<String, Record<T>> = HashMap::new();
        let mut links: Vec<(String, String)> = Vec::new();
        for entry in ar.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            let name = entry_name(&entry);
            match entry.header().entry_type() {
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if let Ok(Some(t)) = entry.link_name() {
                        links.push((name, t.to_string_lossy().into_owned()));
                    }
                    continue;
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {}
                _ => continue,
            }
            let size = entry.size();
            if size <= SMALL_ENTRY {
                let mut v = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut v).map_err(bad)?;
                small.insert(name, v);
                continue;
            }
            let mut buf = BufReader::with_capacity(256 << 10, &mut entry);
            let json = buf.fill_buf().map_err(bad)?.first() == Some(&b'{');
            if json {
                if size > MAX_JSON {
                    return Err(ImageError::malformed(&path, &name, "document too large"));
                }
                let mut v = Vec::with_capacity(size as usize);
                buf.read_to_end(&mut v).map_err(bad)?;
                small.insert(name, v);
                continue;
            }
            let rec = pass_layer(&mut buf, claimed(&name), analyze);
            large.insert(name.clone());
            records.insert(name, rec);
        }
        if small.is_empty() && large.is_empty() {
            return Err(ImageError::NotAnImage {
                path,
                reason: "the export stream holds no entries".into(),
            });
        }
        let aliases = link_aliases(links, &mut small, &large);
        let mut img = Image {
            path: path.clone(),
            format: Format::DockerArchive,
            id: String::new(),
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            config: Default::default(),
            config_raw: Vec::new(),
            layers: Vec::new(),
            container: Box::new(StreamedStore {
                path: None,
                small,
                large,
                aliases,
            }),
        };
        if img.exists("oci-layout") || img.exists("index.json") && !img.exists("manifest.json") {
            img.format = Format::OciLayout;
            img.load_oci(reference)?;
        } else if img.exists("manifest.json") {
            img.load_docker(reference)?;
        } else {
            return Err(ImageError::NotAnImage {
                path,
                reason: "no manifest.json or oci-layout in the export stream".into(),
            });
        }
        if let Some(want) = expected_id.filter(|s| !s.is_empty()) {
            if img.id != want {
                return Err(ImageError::DigestMismatch {
                    path,
                    what: "config of the exported image (vs the engine's image ID)".into(),
                    expected: want.to_string(),
                    actual: img.id.clone(),
                });
            }
        }
        let mut out: Analyzed<T> = HashMap::new();
        let mut used: HashSet<String> = HashSet::new();
        for i in 0..img.layers.len() {
            let (blob, diff, stored, stored_size) = {
                let l = &img.layers[i];
                (
                    l.blob.clone(),
                    l.diff.clone(),
                    l.stored.clone(),
                    l.stored_size,
                )
            };
            // The loaders resolved link entries already.
            let key = blob.clone();
            if !records.contains_key(&key) && img.exists(&key) {
                continue; // small: kept, and read by `for_each_layer`
            }
            let Some(rec) = records.get_mut(&key) else {
                return Err(ImageError::MissingBlob {
                    path,
                    what: format!("layer '{blob}'"),
                });
            };
            // A layer that failed to read says why, before any digest does.
            if matches!(rec.result, Some(Err(_))) {
                if let Some(Err(e)) = rec.result.take() {
                    return Err(e);
                }
            }
            if rec.diff.as_ref() != Some(&diff) {
                return Err(ImageError::DigestMismatch {
                    path,
                    what: format!("layer {blob} (uncompressed content vs its diff ID)"),
                    expected: diff.to_string(),
                    actual: shown(&rec.diff),
                });
            }
            if let Some(st) = stored.as_ref().filter(|s| **s != diff) {
                if st.algorithm != Algorithm::Sha256 || rec.raw.as_ref() != Some(st) {
                    return Err(ImageError::DigestMismatch {
                        path,
                        what: format!("layer blob '{blob}'"),
                        expected: st.to_string(),
                        actual: shown(&rec.raw),
                    });
                }
            }
            if let Some(size) = stored_size {
                if rec.raw_len != size {
                    return Err(ImageError::Layer {
                        path,
                        layer: diff.to_string(),
                        reason: format!(
                            "blob '{blob}' holds {} bytes but its descriptor says {size}",
                            rec.raw_len
                        ),
                    });
                }
            }
            // A name that claims a digest must be telling the truth (a
            // skipped entry was skipped on that claim).
            if let Some(c) = &rec.claimed {
                if rec.diff.as_ref() != Some(c) && rec.raw.as_ref() != Some(c) {
                    return Err(ImageError::DigestMismatch {
                        path,
                        what: format!("export entry '{key}' (its name vs its content)"),
                        expected: c.to_string(),
                        actual: shown(&rec.diff),
                    });
                }
            }
            if !used.insert(key) {
                continue; // the same bytes as an earlier layer
            }
            match rec.result.take() {
                Some(Ok(t)) => {
                    out.insert(i, t);
                }
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(ImageError::Layer {
                        path,
                        layer: diff.to_string(),
                        reason: "was not analyzed".into(),
                    })
                }
            }
        }
        Ok((img, out))
    }
}

fn shown(d: &Option<Digest>) -> String {
    d.as_ref()
        .map(|d| d.to_string())
        .unwrap_or_else(|| "no digest".into())
}

/// Hash one large entry as stored and uncompressed, running `analyze` on
/// the uncompressed stream. An error is kept, not raised: it matters only
/// if the manifest names this entry.
fn pass_layer<T, A>(entry: &mut dyn Read, claimed: Option<Digest>, analyze: &A) -> Record<T>
where
    A: Fn(Option<&Digest>, &mut dyn Read) -> Result<Option<T>, ImageError>,
{
    let mut raw = HashingReader::new(entry, Algorithm::Sha256);
    let mut rec = Record {
        claimed: claimed.clone(),
        raw: None,
        raw_len: 0,
        diff: None,
        result: None,
    };
    let outcome: Result<Option<T>, ImageError> = (|| {
        let dec = decompress(&mut raw).map_err(|e| ImageError::Visitor(e.to_string()))?;
        let mut plain = HashingReader::threaded(dec, Algorithm::Sha256);
        let t = analyze(claimed.as_ref(), &mut plain)?;
        // Skipped bytes are hashed in full; after a walk, only the trailer is left.
        let limit = if t.is_some() { MAX_TRAILER } else { u64::MAX };
        plain
            .drain(limit)
            .map_err(|e| ImageError::Visitor(e.to_string()))?;
        rec.diff = plain
            .finish()
            .map_err(|e| ImageError::Visitor(e.to_string()))?;
        Ok(t)
    })();
    // Whatever happened, the stored bytes are hashed to their end.
    if raw.drain(u64::MAX).is_ok() {
        rec.raw_len = raw.len();
        rec.raw = raw.finish().ok().flatten();
    }
    rec.result = Some(outcome);
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_claim_digests() {
        let hex = "a".repeat(64);
        assert_eq!(
            claimed(&format!("{hex}.tar")).map(|d| d.to_string()),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            claimed(&format!("blobs/sha256/{hex}")).map(|d| d.to_string()),
            Some(format!("sha256:{hex}"))
        );
        assert!(claimed("abc/layer.tar").is_none());
        assert!(claimed("short.tar").is_none());
    }
}
