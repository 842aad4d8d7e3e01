//! Image sources: `docker save` archives (plain or compressed, file or
//! unpacked directory) and OCI image layouts (directory or tar), with an
//! optional `:tag` or `@digest` suffix to pick one image out of several.

use crate::config::ImageConfig;
use crate::digest::{Algorithm, Digest, HashingReader};
use crate::error::ImageError;
use crate::walk::decompress;
use rayon::prelude::*;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Entries of a compressed outer archive smaller than this are kept in memory
/// by the first pass (manifests, configs, tiny layers).
pub(crate) const SMALL_ENTRY: u64 = 1 << 20;
/// JSON documents (manifests, indexes, configs) larger than this are refused.
pub(crate) const MAX_JSON: u64 = 16 << 20;
/// A layer tar is followed by at most a few KiB of zero blocks (the tar
/// record size); more than this after the end-of-archive marker is refused
/// (a decompression bomb hidden where no entry is read).
pub(crate) const MAX_TRAILER: u64 = 16 << 20;

/// How the image was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    DockerArchive,
    OciLayout,
}

/// One layer of the image.
#[derive(Debug, Clone)]
pub struct LayerInfo {
    /// Digest of the blob as stored (compressed for OCI), when known.
    pub digest: String,
    /// Digest of the uncompressed layer tar, from the config's `rootfs.diff_ids`.
    pub diff_id: String,
    /// The `created_by` of the history entry that made this layer.
    pub created_by: String,
    /// Name of the blob inside its container (archive entry, file, or the
    /// digest a registry serves it by).
    pub(crate) blob: String,
    /// What the uncompressed stream must hash to (`diff_id`, parsed).
    pub(crate) diff: Digest,
    /// What the stored blob must hash to, when its name is a content address
    /// (an OCI descriptor, or a docker archive's `blobs/sha256/…`).
    pub(crate) stored: Option<Digest>,
    /// The stored size an OCI descriptor claims.
    pub(crate) stored_size: Option<u64>,
}

impl LayerInfo {
    pub fn layer_ref(&self) -> customs_model::LayerRef {
        customs_model::LayerRef {
            digest: self.digest.clone(),
            diff_id: self.diff_id.clone(),
        }
    }
}

/// An opened image: its metadata, and access to its layers as streams.
pub struct Image {
    pub path: PathBuf,
    pub format: Format,
    /// `sha256:` of the config blob (Trivy's `ImageID`).
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub config: ImageConfig,
    pub config_raw: Vec<u8>,
    pub layers: Vec<LayerInfo>,
    pub(crate) container: Box<dyn BlobStore>,
}

/// Where an image's blobs live: the one part that differs between a
/// directory, an archive, a registry and an engine's export stream. What
/// sits above it (the manifest and config loaders, their digest checks, the
/// layer verification, the walker, the cache rules) is shared, so every
/// source is held to the same rules.
pub(crate) trait BlobStore: Send + Sync {
    /// Whether `name` is present at all (a link counts, and is refused when read).
    fn exists(&self, name: &str) -> bool;
    /// A small document (manifest, index, config), at most `MAX_JSON` bytes;
    /// `Ok(None)` when there is no such entry.
    fn read_doc(&self, image: &Path, name: &str) -> Result<Option<Vec<u8>>, ImageError>;
    /// The entry a link entry stands for (`ID/layer.tar -> ../X.tar`).
    fn resolve_link(&self, name: &str) -> String {
        name.to_string()
    }
    /// Hand the stored bytes of each layer in `which` to `run`, in parallel
    /// where the store allows it.
    fn stream_layers(
        &self,
        img: &Image,
        which: &[usize],
        run: &LayerFn<'_>,
    ) -> Result<(), ImageError>;
    /// Two layers with the same key are the same stored bytes.
    fn blob_key(&self, layer: &LayerInfo) -> String {
        layer.blob.clone()
    }
    /// The identity of a layer's stored bytes on this machine, stable while
    /// the bytes are (see `Image::layer_identity`); `None` when there is none.
    fn identity(&self, img: &Image, layer: &LayerInfo) -> Option<String>;
    /// Bytes received and layer blobs fetched, for a network store.
    fn transfer_stats(&self) -> Option<(u64, u64)> {
        None
    }
}

/// What `BlobStore::stream_layers` calls with each layer's stored bytes.
pub(crate) type LayerFn<'a> = dyn Fn(usize, &mut dyn Read) -> Result<(), ImageError> + Sync + 'a;

/// A directory: an OCI layout or an unpacked docker archive.
struct DirStore(PathBuf);

impl BlobStore for DirStore {
    fn exists(&self, name: &str) -> bool {
        self.0.join(name).symlink_metadata().is_ok()
    }

    fn read_doc(&self, _image: &Path, name: &str) -> Result<Option<Vec<u8>>, ImageError> {
        let p = self.0.join(name);
        let f = match open_inside(&self.0, name) {
            Ok(f) => f,
            Err(ImageError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut v = Vec::new();
        f.take(MAX_JSON)
            .read_to_end(&mut v)
            .map_err(|e| ImageError::io(&p, e))?;
        Ok(Some(v))
    }

    fn stream_layers(
        &self,
        img: &Image,
        which: &[usize],
        run: &LayerFn<'_>,
    ) -> Result<(), ImageError> {
        which.par_iter().try_for_each(|&i| {
            let layer = img.layer(i)?;
            let mut file = open_inside(&self.0, &layer.blob)?;
            run(i, &mut file)
        })
    }

    fn identity(&self, _img: &Image, layer: &LayerInfo) -> Option<String> {
        let f = open_inside(&self.0, &layer.blob).ok()?;
        Some(file_identity(&f.metadata().ok()?, ""))
    }
}

/// An uncompressed tar: every entry is read in place with a seek.
struct TarStore {
    path: PathBuf,
    entries: HashMap<String, (u64, u64)>,
}

impl BlobStore for TarStore {
    fn exists(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }

    fn read_doc(&self, _image: &Path, name: &str) -> Result<Option<Vec<u8>>, ImageError> {
        let Some(&(off, len)) = self.entries.get(name) else {
            return Ok(None);
        };
        if len > MAX_JSON {
            return Err(ImageError::malformed(
                &self.path,
                name,
                "document too large",
            ));
        }
        let mut f = File::open(&self.path).map_err(|e| ImageError::io(&self.path, e))?;
        f.seek(SeekFrom::Start(off))
            .map_err(|e| ImageError::io(&self.path, e))?;
        let mut v = Vec::with_capacity(len as usize);
        f.take(len)
            .read_to_end(&mut v)
            .map_err(|e| ImageError::io(&self.path, e))?;
        if (v.len() as u64) < len {
            return Err(ImageError::malformed(&self.path, name, "truncated archive"));
        }
        Ok(Some(v))
    }

    fn stream_layers(
        &self,
        img: &Image,
        which: &[usize],
        run: &LayerFn<'_>,
    ) -> Result<(), ImageError> {
        which.par_iter().try_for_each(|&i| {
            let layer = img.layer(i)?;
            let &(off, len) =
                self.entries
                    .get(&layer.blob)
                    .ok_or_else(|| ImageError::MissingBlob {
                        path: self.path.clone(),
                        what: format!("layer '{}'", layer.blob),
                    })?;
            let mut file = File::open(&self.path).map_err(|e| ImageError::io(&self.path, e))?;
            file.seek(SeekFrom::Start(off))
                .map_err(|e| ImageError::io(&self.path, e))?;
            run(i, &mut file.take(len))
        })
    }

    fn blob_key(&self, layer: &LayerInfo) -> String {
        match self.entries.get(&layer.blob) {
            Some((off, len)) => format!("{off}+{len}"),
            None => layer.blob.clone(),
        }
    }

    fn identity(&self, _img: &Image, layer: &LayerInfo) -> Option<String> {
        let meta = std::fs::metadata(&self.path).ok()?;
        Some(file_identity(&meta, &self.blob_key(layer)))
    }
}

/// A tar read as a stream: small entries were kept by the first pass. The
/// large ones are read by streaming the file again (a compressed archive),
/// or were consumed by that pass (an engine's export stream, `path: None`:
/// its layers were analyzed as they passed, see `Image::open_export`).
pub(crate) struct StreamedStore {
    pub(crate) path: Option<PathBuf>,
    pub(crate) small: HashMap<String, Vec<u8>>,
    pub(crate) large: std::collections::HashSet<String>,
    /// Link entries (`ID/layer.tar -> ../X.tar`) and what they point at.
    pub(crate) aliases: HashMap<String, String>,
}

impl BlobStore for StreamedStore {
    fn exists(&self, name: &str) -> bool {
        self.small.contains_key(name) || self.large.contains(name)
    }

    fn read_doc(&self, _image: &Path, name: &str) -> Result<Option<Vec<u8>>, ImageError> {
        Ok(self.small.get(name).cloned())
    }

    fn resolve_link(&self, name: &str) -> String {
        self.aliases
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    fn stream_layers(
        &self,
        img: &Image,
        which: &[usize],
        run: &LayerFn<'_>,
    ) -> Result<(), ImageError> {
        // Tiny layers were kept by the first pass; stream for the rest.
        let mut rest: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &i in which {
            let layer = img.layer(i)?;
            if let Some(bytes) = self.small.get(&layer.blob) {
                run(i, &mut &bytes[..])?;
            } else {
                rest.entry(layer.blob.clone()).or_default().push(i);
            }
        }
        let Some(&first) = rest.values().flatten().next() else {
            return Ok(());
        };
        let Some(path) = &self.path else {
            // An export stream: its large entries were consumed by the pass.
            return Err(img.layer_err_msg(
                first,
                "was read with the export stream and cannot be read again".into(),
            ));
        };
        let file = File::open(path).map_err(|e| ImageError::io(path, e))?;
        let outer = decompress(file).map_err(|e| ImageError::io(path, e))?;
        let mut ar = tar::Archive::new(outer);
        let entries = ar.entries().map_err(|e| ImageError::io(path, e))?;
        let archive_err = |e: std::io::Error| {
            ImageError::malformed(path, "archive", crate::walk::read_error("tar", &e))
        };
        for entry in entries {
            let mut entry = entry.map_err(archive_err)?;
            let name = entry_name(&entry);
            if let Some(idxs) = rest.remove(&name) {
                // One pass reads a blob once; two layers (with two diff
                // IDs, the caller merged equal ones) cannot both be that blob.
                if let [first, second, ..] = idxs[..] {
                    return Err(img.layer_err_msg(
                        second,
                        format!(
                            "names the same blob '{name}' as layer {} with another diff ID",
                            img.layer(first)?.diff_id
                        ),
                    ));
                }
                if let Some(&i) = idxs.first() {
                    run(i, &mut entry)?;
                }
                if rest.is_empty() {
                    break;
                }
            }
        }
        if let Some((name, _)) = rest.into_iter().next() {
            return Err(ImageError::MissingBlob {
                path: path.clone(),
                what: format!("layer '{name}'"),
            });
        }
        Ok(())
    }

    /// A one-time stream has no identity to come back to.
    fn identity(&self, _img: &Image, layer: &LayerInfo) -> Option<String> {
        let meta = std::fs::metadata(self.path.as_ref()?).ok()?;
        Some(file_identity(&meta, &self.blob_key(layer)))
    }
}

/// A file's device, inode, size, modification and change times, and a
/// place inside it: while these are unchanged, so are the bytes (a write
/// changes the ctime, which no user can set back).
fn file_identity(meta: &std::fs::Metadata, place: &str) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "file dev={} ino={} size={} mtime={}.{} ctime={}.{} at={place}",
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    )
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Image")
            .field("path", &self.path)
            .field("id", &self.id)
            .field("layers", &self.layers)
            .finish()
    }
}

/// Split `path[:tag]` / `path@sha256:...` when the whole string is not itself
/// an existing path.
fn split_reference(input: &str) -> (PathBuf, Option<String>) {
    let whole = PathBuf::from(input);
    if whole.exists() {
        return (whole, None);
    }
    if let Some((p, d)) = input.rsplit_once('@') {
        if Path::new(p).exists() {
            return (PathBuf::from(p), Some(d.to_string()));
        }
    }
    if let Some((p, t)) = input.rsplit_once(':') {
        if !t.contains('/') && Path::new(p).exists() {
            return (PathBuf::from(p), Some(t.to_string()));
        }
    }
    (whole, None)
}

impl Image {
    /// Open an image from `docker save` output (`.tar`, `.tar.gz`, `.tar.zst`,
    /// or its unpacked directory) or an OCI image layout (directory or tar),
    /// optionally suffixed with `:tag` or `@digest`.
    pub fn open(input: &str) -> Result<Image, ImageError> {
        let (path, reference) = split_reference(input);
        // The path the user typed may be a symlink; nothing inside it may.
        let meta = std::fs::metadata(&path).map_err(|e| ImageError::io(&path, e))?;
        let container = if meta.is_dir() {
            Box::new(DirStore(path.clone())) as Box<dyn BlobStore>
        } else {
            if !meta.is_file() {
                return Err(ImageError::NotAnImage {
                    path,
                    reason:
                        "not a regular file or directory (a FIFO, socket or device is never read)"
                            .into(),
                });
            }
            if meta.len() == 0 {
                return Err(ImageError::NotAnImage {
                    path,
                    reason: "the file is empty".into(),
                });
            }
            index_archive(&path)?
        };
        let mut img = Image {
            path,
            format: Format::DockerArchive,
            id: String::new(),
            repo_tags: Vec::new(),
            repo_digests: Vec::new(),
            config: ImageConfig::default(),
            config_raw: Vec::new(),
            layers: Vec::new(),
            container,
        };
        if img.exists("oci-layout") || img.exists("index.json") && !img.exists("manifest.json") {
            img.format = Format::OciLayout;
            img.load_oci(reference.as_deref())?;
        } else if img.exists("manifest.json") {
            img.load_docker(reference.as_deref())?;
        } else {
            let hint = if meta.is_dir() {
                "no manifest.json or oci-layout here; to scan an unpacked root filesystem use `customs rootfs DIR`"
            } else {
                "no manifest.json or oci-layout in the archive (is it a `docker save` or OCI layout tar?)"
            };
            return Err(ImageError::NotAnImage {
                path: img.path.clone(),
                reason: hint.into(),
            });
        }
        Ok(img)
    }

    pub(crate) fn exists(&self, name: &str) -> bool {
        self.container.exists(name)
    }

    /// Read a small document (manifest, index, config) from the container.
    fn read_doc(&self, name: &str, what: &str) -> Result<Vec<u8>, ImageError> {
        self.container
            .read_doc(&self.path, name)?
            .ok_or_else(|| ImageError::MissingBlob {
                path: self.path.clone(),
                what: format!("{what} '{name}'"),
            })
    }

    pub(crate) fn parse_doc<T: serde::de::DeserializeOwned>(
        &self,
        name: &str,
        what: &str,
    ) -> Result<T, ImageError> {
        let bytes = self.read_doc(name, what)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ImageError::malformed(&self.path, &format!("{what} '{name}'"), e))
    }

    pub(crate) fn load_docker(&mut self, reference: Option<&str>) -> Result<(), ImageError> {
        let manifests: Vec<DockerManifest> = self.parse_doc("manifest.json", "manifest")?;
        if manifests.is_empty() {
            return Err(ImageError::malformed(
                &self.path,
                "manifest.json",
                "it lists no image",
            ));
        }
        let chosen = match reference {
            None => {
                if manifests.len() > 1 {
                    tracing::warn!(
                        "{}: the archive holds {} images; scanning the first (name one with :TAG)",
                        self.path.display(),
                        manifests.len()
                    );
                }
                &manifests[0]
            }
            Some(r) => manifests
                .iter()
                .find(|m| {
                    m.repo_tags
                        .iter()
                        .any(|t| t == r || t.ends_with(&format!(":{r}")))
                })
                .ok_or_else(|| ImageError::NoSuchReference {
                    path: self.path.clone(),
                    reference: r.to_string(),
                    available: manifests
                        .iter()
                        .flat_map(|m| m.repo_tags.iter().cloned())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?,
        };
        let config_name = self.inside_name(&chosen.config, "config")?;
        let config_raw = self.read_doc(&config_name, "config")?;
        // `docker save` names the config by its digest (`HEX.json`, or
        // `blobs/sha256/HEX` since Docker 25): hold it to that name.
        let claimed = config_name
            .strip_suffix(".json")
            .filter(|h| !h.contains('/'))
            .and_then(|h| Digest::parse(&format!("sha256:{h}")))
            .or_else(|| digest_of_blob_path(&config_name));
        self.set_config(config_raw, &config_name, claimed.as_ref())?;
        self.repo_tags = chosen.repo_tags.clone();
        let diff_ids = self.diff_ids()?;
        if diff_ids.len() != chosen.layers.len() {
            return Err(ImageError::malformed(
                &self.path,
                "manifest.json",
                format!(
                    "it lists {} layers but the config has {} diff IDs",
                    chosen.layers.len(),
                    diff_ids.len()
                ),
            ));
        }
        let commands = self.config.layer_commands();
        for (i, blob) in chosen.layers.iter().enumerate() {
            let blob = self.inside_name(blob, "layer")?;
            let blob = self.resolve_link(&blob);
            if !self.exists(&blob) {
                return Err(ImageError::MissingBlob {
                    path: self.path.clone(),
                    what: format!("layer '{blob}'"),
                });
            }
            let diff = diff_ids[i].clone();
            let digest = chosen
                .layer_sources
                .as_ref()
                .and_then(|s| s.get(&diff.to_string()))
                .map(|d| d.digest.clone())
                .unwrap_or_default();
            let stored = digest_of_blob_path(&blob);
            self.layers.push(LayerInfo {
                digest,
                diff_id: diff.to_string(),
                created_by: commands.get(i).cloned().unwrap_or_default(),
                blob,
                diff,
                stored,
                stored_size: None,
            });
        }
        Ok(())
    }

    pub(crate) fn load_oci(&mut self, reference: Option<&str>) -> Result<(), ImageError> {
        let index: oci_spec::image::ImageIndex = self.parse_doc("index.json", "index")?;
        let desc = self.select_manifest(&index, reference)?;
        let manifest = self.load_manifest(&desc)?;
        let cfg = manifest.config();
        let cfg_digest = self.descriptor_digest(cfg.digest().as_ref(), "config")?;
        let cfg_name = cfg_digest.blob_path();
        let config_raw = self.read_doc(&cfg_name, "config")?;
        self.set_config(config_raw, &cfg_name, Some(&cfg_digest))?;
        if let Some(ann) = desc.annotations() {
            if let Some(tag) = ann.get("org.opencontainers.image.ref.name") {
                self.repo_tags.push(tag.clone());
            }
        }
        self.repo_digests.push(desc.digest().to_string());
        self.add_manifest_layers(manifest.layers(), "manifest", |d| d.blob_path())?;
        Ok(())
    }

    /// The layers of an image manifest, each paired with the config's diff
    /// ID in order: the stored blob named by its digest (`blob_of` says
    /// where the store keeps it, which must exist), its size, its history.
    /// Foreign layers (served from URLs outside the image) are refused.
    pub(crate) fn add_manifest_layers(
        &mut self,
        layers: &[oci_spec::image::Descriptor],
        what: &str,
        blob_of: impl Fn(&Digest) -> String,
    ) -> Result<(), ImageError> {
        let diff_ids = self.diff_ids()?;
        if diff_ids.len() != layers.len() {
            return Err(ImageError::malformed(
                &self.path,
                what,
                format!(
                    "it lists {} layers but the config has {} diff IDs",
                    layers.len(),
                    diff_ids.len()
                ),
            ));
        }
        let commands = self.config.layer_commands();
        for (i, (l, diff)) in layers.iter().zip(diff_ids).enumerate() {
            let stored = self.descriptor_digest(l.digest().as_ref(), "layer")?;
            if l.urls().as_ref().is_some_and(|u| !u.is_empty()) {
                return Err(ImageError::malformed(
                    &self.path,
                    what,
                    format!("layer {stored} is a foreign layer (served from outside the image); not supported"),
                ));
            }
            let blob = blob_of(&stored);
            if !self.exists(&blob) {
                return Err(ImageError::MissingBlob {
                    path: self.path.clone(),
                    what: format!("layer '{blob}'"),
                });
            }
            self.layers.push(LayerInfo {
                digest: stored.to_string(),
                diff_id: diff.to_string(),
                created_by: commands.get(i).cloned().unwrap_or_default(),
                blob,
                diff,
                stored: Some(stored),
                stored_size: Some(l.size()),
            });
        }
        Ok(())
    }

    fn select_manifest(
        &self,
        index: &oci_spec::image::ImageIndex,
        reference: Option<&str>,
    ) -> Result<oci_spec::image::Descriptor, ImageError> {
        let manifests = index.manifests();
        let name_of = |d: &oci_spec::image::Descriptor| {
            d.annotations()
                .as_ref()
                .and_then(|a| a.get("org.opencontainers.image.ref.name").cloned())
        };
        let found = match reference {
            Some(r) => manifests
                .iter()
                .find(|d| d.digest().to_string() == r || name_of(d).is_some_and(|n| n == r)),
            None => manifests.first(),
        };
        let Some(desc) = found else {
            return Err(ImageError::NoSuchReference {
                path: self.path.clone(),
                reference: reference.unwrap_or("").to_string(),
                available: manifests
                    .iter()
                    .map(|d| name_of(d).unwrap_or_else(|| d.digest().to_string()))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        if reference.is_none() && manifests.len() > 1 {
            tracing::warn!(
                "{}: the layout holds {} images; scanning the first (name one with :TAG or @DIGEST)",
                self.path.display(),
                manifests.len()
            );
        }
        Ok(desc.clone())
    }

    /// Follow image indexes down to one image manifest (linux/amd64 preferred).
    fn load_manifest(
        &self,
        desc: &oci_spec::image::Descriptor,
    ) -> Result<oci_spec::image::ImageManifest, ImageError> {
        let mut desc = desc.clone();
        for _ in 0..4 {
            let digest = self.descriptor_digest(desc.digest().as_ref(), "manifest")?;
            let name = digest.blob_path();
            let raw = self.read_doc(&name, "manifest")?;
            self.check_digest(&format!("manifest '{name}'"), &digest, &raw)?;
            let probe: serde_json::Value = serde_json::from_slice(&raw)
                .map_err(|e| ImageError::malformed(&self.path, &name, e))?;
            if probe.get("manifests").is_some() {
                let idx: oci_spec::image::ImageIndex = serde_json::from_slice(&raw)
                    .map_err(|e| ImageError::malformed(&self.path, &name, e))?;
                let pick = idx
                    .manifests()
                    .iter()
                    .find(|d| {
                        d.platform().as_ref().is_some_and(|p| {
                            p.os().to_string() == "linux" && p.architecture().to_string() == "amd64"
                        })
                    })
                    .or_else(|| idx.manifests().first())
                    .cloned();
                desc = pick.ok_or_else(|| {
                    ImageError::malformed(&self.path, &name, "an image index with no manifests")
                })?;
                continue;
            }
            return serde_json::from_slice(&raw)
                .map_err(|e| ImageError::malformed(&self.path, &format!("manifest '{name}'"), e));
        }
        Err(ImageError::malformed(
            &self.path,
            "index.json",
            "image indexes nested too deep",
        ))
    }

    pub(crate) fn set_config(
        &mut self,
        raw: Vec<u8>,
        name: &str,
        claimed: Option<&Digest>,
    ) -> Result<(), ImageError> {
        if let Some(d) = claimed {
            self.check_digest(&format!("config '{name}'"), d, &raw)?;
        }
        self.config = serde_json::from_slice(&raw)
            .map_err(|e| ImageError::malformed(&self.path, &format!("config '{name}'"), e))?;
        self.id = Digest::of(Algorithm::Sha256, &raw).to_string();
        self.config_raw = raw;
        Ok(())
    }

    /// The config's `rootfs.diff_ids`, each a well-formed digest.
    pub(crate) fn diff_ids(&self) -> Result<Vec<Digest>, ImageError> {
        self.config
            .rootfs
            .diff_ids
            .iter()
            .map(|d| {
                Digest::parse(d).ok_or_else(|| {
                    ImageError::malformed(
                        &self.path,
                        "config",
                        format!("rootfs.diff_ids: '{d}' is not a sha256 or sha512 digest"),
                    )
                })
            })
            .collect()
    }

    /// A descriptor's digest, which must be well formed (it becomes a path).
    pub(crate) fn descriptor_digest(&self, d: &str, what: &str) -> Result<Digest, ImageError> {
        Digest::parse(d).ok_or_else(|| {
            ImageError::malformed(
                &self.path,
                what,
                format!("descriptor digest '{d}' is not a sha256 or sha512 digest"),
            )
        })
    }

    fn check_digest(&self, what: &str, want: &Digest, data: &[u8]) -> Result<(), ImageError> {
        let got = Digest::of(want.algorithm, data);
        if &got != want {
            return Err(ImageError::DigestMismatch {
                path: self.path.clone(),
                what: what.to_string(),
                expected: want.to_string(),
                actual: got.to_string(),
            });
        }
        Ok(())
    }

    /// A name the manifest gives must stay inside the image: no absolute
    /// path, no `..`. Returned normalized.
    fn inside_name(&self, name: &str, what: &str) -> Result<String, ImageError> {
        let escapes = name.starts_with('/') || name.split('/').any(|c| c == "..");
        match crate::walk::normalize_path(name) {
            Some(n) if !escapes => Ok(n),
            _ => Err(ImageError::malformed(
                &self.path,
                "manifest.json",
                format!("{what} path '{name}' points outside the image; refused"),
            )),
        }
    }

    /// `docker save` writes `ID/layer.tar -> ../X.tar` links: read the target.
    fn resolve_link(&self, name: &str) -> String {
        let name = crate::walk::normalize_path(name).unwrap_or_default();
        self.container.resolve_link(&name)
    }

    /// The artifact name to report: the first tag, or the path given.
    pub fn artifact_name(&self, input: &str) -> String {
        input.to_string()
    }

    /// Run `analyze` on the decompressed stream of each layer in `which`
    /// (indexes into `layers`), then `verified` with its result once the
    /// layer's bytes are known to be what the image claims: the stored blob
    /// hashes to its content address (OCI) and the uncompressed stream to its
    /// diff ID. A mismatch is an error naming the layer, and `verified` is
    /// not called for it: nothing learned from unverified bytes is kept.
    ///
    /// Layers of directories and uncompressed archives are read in parallel;
    /// a compressed archive is streamed once, in order. The hashes are taken
    /// while the layer streams, so each blob is read once.
    pub fn for_each_layer<T, A, V>(
        &self,
        which: &[usize],
        analyze: &A,
        verified: &V,
    ) -> Result<(), ImageError>
    where
        A: Fn(usize, &mut dyn Read) -> Result<T, ImageError> + Sync,
        V: Fn(usize, T) -> Result<(), ImageError> + Sync,
    {
        let run = |i: usize, raw: &mut dyn Read| -> Result<(), ImageError> {
            let t = self.read_verified(i, raw, analyze)?;
            verified(i, t)
        };
        self.container.stream_layers(self, which, &run)
    }

    /// Decompress and analyze one layer, hashing the stored and the
    /// uncompressed bytes as they stream, and hold both to their digests.
    fn read_verified<T, A>(
        &self,
        i: usize,
        raw: &mut dyn Read,
        analyze: &A,
    ) -> Result<T, ImageError>
    where
        A: Fn(usize, &mut dyn Read) -> Result<T, ImageError>,
    {
        let layer = self.layer(i)?;
        // The stored blob is hashed only when a digest names it and it is
        // not the diff ID (an uncompressed `blobs/sha256/<diff ID>` is
        // covered by the diff ID's check of the same bytes).
        let stored_want = layer.stored.as_ref().filter(|d| **d != layer.diff);
        let mut stored = match stored_want {
            Some(d) => HashingReader::new(raw, d.algorithm),
            None => HashingReader::counting(raw),
        };
        let (t, diff) = {
            let dec = decompress(&mut stored).map_err(|e| self.layer_err(i, e))?;
            // The uncompressed stream is hashed on another core, beside the walk.
            let mut plain = HashingReader::threaded(dec, layer.diff.algorithm);
            let t = analyze(i, &mut plain)?;
            // The walker stops at the end-of-archive blocks: the diff ID
            // covers what follows them too.
            plain.drain(MAX_TRAILER).map_err(|e| self.layer_err(i, e))?;
            (t, plain.finish().map_err(|e| self.layer_err(i, e))?)
        };
        if diff.as_ref() != Some(&layer.diff) {
            return Err(ImageError::DigestMismatch {
                path: self.path.clone(),
                what: format!("layer {} (uncompressed content vs its diff ID)", layer.blob),
                expected: layer.diff.to_string(),
                actual: diff
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "no digest".into()),
            });
        }
        // Bytes after the compressed stream's end still belong to the blob.
        stored
            .drain(MAX_TRAILER)
            .map_err(|e| self.layer_err(i, e))?;
        if let Some(size) = layer.stored_size {
            if stored.len() != size {
                return Err(self.layer_err_msg(
                    i,
                    format!(
                        "blob '{}' holds {} bytes but its descriptor says {size}",
                        layer.blob,
                        stored.len()
                    ),
                ));
            }
        }
        let got = stored.finish().map_err(|e| self.layer_err(i, e))?;
        if let Some(want) = stored_want {
            if got.as_ref() != Some(want) {
                return Err(ImageError::DigestMismatch {
                    path: self.path.clone(),
                    what: format!("layer blob '{}'", layer.blob),
                    expected: want.to_string(),
                    actual: got
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "no digest".into()),
                });
            }
        }
        Ok(t)
    }

    /// Where layer `i`'s bytes are stored, as a key: two layers with the same
    /// key are the same bytes (so one read serves both).
    pub fn blob_key(&self, i: usize) -> Option<String> {
        let layer = self.layers.get(i)?;
        Some(self.container.blob_key(layer))
    }

    /// The identity of the stored bytes of layer `i` on this machine, when
    /// they have one: for a file, its device, inode, size, modification and
    /// change times, and where in the file the layer lies (a write to the
    /// file changes its ctime, which no user can set back); for a registry
    /// blob, its content address. When a layer's content was verified
    /// against its diff ID, the caller may keep a record of this identity;
    /// while the identity is unchanged, so are the bytes.
    pub fn layer_identity(&self, i: usize) -> Option<String> {
        let layer = self.layers.get(i)?;
        self.container.identity(self, layer)
    }

    /// The sum of the layer sizes the manifest's descriptors claim (what a
    /// registry scan downloads), when every layer has one. A blob is never
    /// read past its claimed size, so this bounds what the scan reads.
    pub fn claimed_layer_bytes(&self) -> Option<u64> {
        self.layers
            .iter()
            .map(|l| l.stored_size)
            .try_fold(0u64, |acc, s| Some(acc.saturating_add(s?)))
    }

    /// For a network source: bytes received so far and layer blobs requested.
    pub fn transfer_stats(&self) -> Option<(u64, u64)> {
        self.container.transfer_stats()
    }

    pub(crate) fn layer(&self, i: usize) -> Result<&LayerInfo, ImageError> {
        self.layers
            .get(i)
            .ok_or_else(|| ImageError::malformed(&self.path, "layers", format!("no layer {i}")))
    }

    fn layer_err(&self, i: usize, e: std::io::Error) -> ImageError {
        self.layer_err_msg(i, e.to_string())
    }

    pub(crate) fn layer_err_msg(&self, i: usize, reason: String) -> ImageError {
        ImageError::Layer {
            path: self.path.clone(),
            layer: self
                .layers
                .get(i)
                .map(|l| l.diff_id.clone())
                .unwrap_or_default(),
            reason,
        }
    }
}

/// `blobs/<alg>/<hex>` names its content: the digest it must hash to.
fn digest_of_blob_path(name: &str) -> Option<Digest> {
    let rest = name.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    Digest::parse(&format!("{alg}:{hex}"))
}

/// Open `name` (a normalized relative path) below `root` as a regular file,
/// following no symbolic link on the way, and never blocking on a FIFO.
/// Whatever an image directory holds, customs reads nothing outside it and
/// nothing but plain files.
fn open_inside(root: &Path, name: &str) -> Result<File, ImageError> {
    use std::os::unix::fs::OpenOptionsExt;
    let refuse = |p: &Path, why: &str| ImageError::NotAnImage {
        path: p.to_path_buf(),
        reason: format!("{why}; customs reads only regular files inside the image"),
    };
    if name.starts_with('/') || name.split('/').any(|c| c == ".." || c.is_empty()) {
        return Err(refuse(&root.join(name), "a path outside the image"));
    }
    // Every directory on the way must be a real directory, not a link.
    let mut at = root.to_path_buf();
    let comps: Vec<&str> = name.split('/').collect();
    for c in comps.iter().take(comps.len().saturating_sub(1)) {
        at.push(c);
        let m = at.symlink_metadata().map_err(|e| ImageError::io(&at, e))?;
        if m.file_type().is_symlink() {
            return Err(refuse(&at, "a symbolic link"));
        }
        if !m.is_dir() {
            return Err(refuse(&at, "not a directory"));
        }
    }
    let p = root.join(name);
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(&p)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                refuse(&p, "a symbolic link")
            } else {
                ImageError::io(&p, e)
            }
        })?;
    let m = f.metadata().map_err(|e| ImageError::io(&p, e))?;
    if !m.is_file() {
        return Err(refuse(
            &p,
            "not a regular file (a FIFO, socket, device or directory)",
        ));
    }
    Ok(f)
}

pub(crate) fn entry_name<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    crate::walk::normalize_path(&raw).unwrap_or_default()
}

/// Resolve a link inside the archive (relative to the link's directory).
pub(crate) fn resolve_in_archive(link_name: &str, target: &str) -> String {
    let dir = link_name.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let joined = if target.starts_with('/') || dir.is_empty() {
        target.to_string()
    } else {
        format!("{dir}/{target}")
    };
    crate::walk::normalize_path(&joined).unwrap_or_default()
}

/// Resolve the link entries of a streamed archive (`ID/layer.tar ->
/// ../X.tar`): a link to a kept small entry becomes a copy of it; a link to
/// a large one is returned as an alias, for `BlobStore::resolve_link`.
pub(crate) fn link_aliases(
    links: Vec<(String, String)>,
    small: &mut HashMap<String, Vec<u8>>,
    large: &std::collections::HashSet<String>,
) -> HashMap<String, String> {
    let mut aliases = HashMap::new();
    for (name, target) in links {
        let resolved = resolve_in_archive(&name, &target);
        if let Some(v) = small.get(&resolved).cloned() {
            small.insert(name, v);
        } else if large.contains(&resolved) {
            aliases.insert(name, resolved);
        }
    }
    aliases
}

/// Index an archive file: offsets of every entry for a plain tar; for a
/// compressed one, the small entries' contents and the large entries' names.
fn index_archive(path: &Path) -> Result<Box<dyn BlobStore>, ImageError> {
    let file = File::open(path).map_err(|e| ImageError::io(path, e))?;
    let mut head = BufReader::new(file);
    let compression = crate::walk::sniff(&mut head)
        .map_err(|e| ImageError::io(path, e))?
        .map_err(|m| ImageError::NotAnImage {
            path: path.to_path_buf(),
            reason: m.into(),
        })?;
    let bad = |e: std::io::Error| ImageError::NotAnImage {
        path: path.to_path_buf(),
        reason: crate::walk::read_error("archive", &e),
    };
    let mut links: Vec<(String, String)> = Vec::new();
    if compression == crate::walk::Compression::None {
        let mut file = head.into_inner();
        file.seek(SeekFrom::Start(0))
            .map_err(|e| ImageError::io(path, e))?;
        let file_len = file.metadata().map_err(|e| ImageError::io(path, e))?.len();
        let mut ar = tar::Archive::new(file);
        let mut entries = HashMap::new();
        for entry in ar.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            let name = entry_name(&entry);
            match entry.header().entry_type() {
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if let Ok(Some(t)) = entry.link_name() {
                        links.push((name, t.to_string_lossy().into_owned()));
                    }
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let off = entry.raw_file_position();
                    let len = entry.size();
                    if off.saturating_add(len) > file_len {
                        return Err(ImageError::NotAnImage {
                            path: path.to_path_buf(),
                            reason: format!("archive: truncated tar stream (entry '{name}' runs past the end of the file)"),
                        });
                    }
                    entries.insert(name, (off, len));
                }
                // Directories, FIFOs, devices: never a blob.
                _ => {}
            }
        }
        if entries.is_empty() {
            return Err(ImageError::NotAnImage {
                path: path.to_path_buf(),
                reason: "not a tar archive (no entries)".into(),
            });
        }
        for (name, target) in links {
            let resolved = resolve_in_archive(&name, &target);
            if let Some(&slot) = entries.get(&resolved) {
                entries.insert(name, slot);
            }
        }
        return Ok(Box::new(TarStore {
            path: path.to_path_buf(),
            entries,
        }));
    }
    // Compressed: one streaming pass; keep small entries, note large ones.
    let outer = decompress(head).map_err(|e| ImageError::io(path, e))?;
    let mut ar = tar::Archive::new(outer);
    let mut small = HashMap::new();
    let mut large = std::collections::HashSet::new();
    for entry in ar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry_name(&entry);
        match entry.header().entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                if let Ok(Some(t)) = entry.link_name() {
                    links.push((name, t.to_string_lossy().into_owned()));
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if entry.size() <= SMALL_ENTRY {
                    let mut v = Vec::with_capacity(entry.size() as usize);
                    entry.read_to_end(&mut v).map_err(bad)?;
                    small.insert(name, v);
                } else {
                    large.insert(name);
                }
            }
            _ => {}
        }
    }
    if small.is_empty() && large.is_empty() {
        return Err(ImageError::NotAnImage {
            path: path.to_path_buf(),
            reason: "not a tar archive (no entries)".into(),
        });
    }
    let aliases = link_aliases(links, &mut small, &large);
    Ok(Box::new(StreamedStore {
        path: Some(path.to_path_buf()),
        small,
        large,
        aliases,
    }))
}

#[derive(Debug, Deserialize)]
struct DockerManifest {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Vec<String>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
    #[serde(rename = "LayerSources", default)]
    layer_sources: Option<HashMap<String, LayerSource>>,
}

#[derive(Debug, Deserialize)]
struct LayerSource {
    #[serde(default)]
    digest: String,
}
