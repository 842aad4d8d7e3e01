//! Opening an image from a registry: resolve the reference to one image
//! manifest (through an index, for the chosen platform), fetch and verify
//! its config, and describe its layers by their content addresses. The
//! layers themselves stream later, from `Image::for_each_layer`.

use crate::digest::Digest;
use crate::error::ImageError;
use crate::reference::ImageRef;
use crate::registry::{Client, Platform, RemoteOptions};
use crate::source::{BlobStore, Format, Image, LayerFn, LayerInfo};
use oci_spec::image::{ImageIndex, ImageManifest};
use rayon::prelude::*;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// What a manifest body is, from its own `mediaType` and shape.
enum Doc {
    Index(Box<ImageIndex>),
    Manifest(Box<ImageManifest>),
}

fn parse_doc(c: &Client, body: &[u8], what: &str) -> Result<Doc, ImageError> {
    let bad = |e: String| ImageError::Registry {
        reference: c.reference().to_string(),
        message: format!("{what} from registry {}: {e}", c.host()),
    };
    let probe: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("not JSON ({e})")))?;
    let media = probe
        .get("mediaType")
        .and_then(|m| m.as_str())
        .unwrap_or("");
    if probe.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1)
        || media.starts_with("application/vnd.docker.distribution.manifest.v1+")
    {
        return Err(bad(
            "a Docker schema 1 manifest (deprecated since 2017; push the image again with a current client)".into(),
        ));
    }
    if probe.get("manifests").is_some() {
        return serde_json::from_slice(body)
            .map(|i| Doc::Index(Box::new(i)))
            .map_err(|e| bad(format!("not an image index ({e})")));
    }
    serde_json::from_slice(body)
        .map(|m| Doc::Manifest(Box::new(m)))
        .map_err(|e| bad(format!("not an image manifest ({e})")))
}

/// Pick the manifest for `want` out of an index (attestations, whose
/// platform is `unknown/unknown`, never count).
fn pick(
    c: &Client,
    idx: &ImageIndex,
    want: &Platform,
    explicit: bool,
) -> Result<oci_spec::image::Descriptor, ImageError> {
    let mut available = Vec::new();
    for d in idx.manifests() {
        let Some(p) = d.platform() else { continue };
        let (os, arch) = (p.os().to_string(), p.architecture().to_string());
        if os == "unknown" || arch == "unknown" {
            continue;
        }
        let variant = p.variant().as_deref();
        if want.matches(&os, &arch, variant) {
            return Ok(d.clone());
        }
        available.push(match variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        });
    }
    // An index whose entries carry no platform: take the only one.
    if available.is_empty() && !explicit {
        if let [only] = idx.manifests().as_slice() {
            return Ok(only.clone());
        }
    }
    Err(ImageError::Registry {
        reference: c.reference().to_string(),
        message: format!(
            "the image index has no {want} image (it has: {}){}",
            if available.is_empty() {
                "no platform entries".to_string()
            } else {
                available.join(", ")
            },
            if explicit {
                ""
            } else {
                "; choose one with --platform"
            }
        ),
    })
}

impl Image {
    /// Open `r` from its registry. The manifest (and index) are verified
    /// against their digests and the config against its descriptor; each
    /// layer blob is verified as it streams.
    pub fn open_remote(r: &ImageRef, opts: &RemoteOptions) -> Result<Image, ImageError> {
        let explicit = opts.platform.is_some();
        let want = match &opts.platform {
            Some(p) => Platform::parse(p).map_err(|message| ImageError::Registry {
                reference: r.typed.clone(),
                message,
            })?,
            None => Platform::host(),
        };
        let client = Client::connect(r, opts)?;
        let (mut body, top_digest) = client.manifest(r.manifest_ref())?;
        let mut digest = top_digest.clone();
        let mut what = format!("manifest {}", r.manifest_ref());
        let mut hops = 0;
        let manifest = loop {
            match parse_doc(&client, &body, &what)? {
                Doc::Manifest(m) => break m,
                Doc::Index(idx) => {
                    hops += 1;
                    if hops > 2 {
                        return Err(ImageError::Registry {
                            reference: r.typed.clone(),
                            message: "image indexes nested too deep".into(),
                        });
                    }
                    let d = pick(&client, &idx, &want, explicit)?;
                    let dd =
                        Digest::parse(d.digest().as_ref()).ok_or_else(|| ImageError::Registry {
                            reference: r.typed.clone(),
                            message: format!(
                                "the index names '{}', which is not a sha256 or sha512 digest",
                                d.digest()
                            ),
                        })?;
                    tracing::debug!("{}: {want} is {dd}", r.typed);
                    what = format!("manifest {dd}");
                    let (b, got) = client.manifest(&dd.to_string())?;
                    if d.size() != b.len() as u64 {
                        return Err(ImageError::Registry {
                            reference: r.typed.clone(),
                            message: format!(
                                "manifest {dd} holds {} bytes but the index says {}",
                                b.len(),
                                d.size()
                            ),
                        });
                    }
                    body = b;
                    digest = got;
                }
            }
        };
        let cfg = manifest.config();
        let cfg_digest =
            Digest::parse(cfg.digest().as_ref()).ok_or_else(|| ImageError::Registry {
                reference: r.typed.clone(),
                message: format!(
                    "the manifest's config digest '{}' is not a sha256 or sha512 digest",
                    cfg.digest()
                ),
            })?;
        if cfg.size() > crate::registry::MAX_DOCUMENT {
            return Err(ImageError::Registry {
                reference: r.typed.clone(),
                message: format!("the config claims {} bytes; refused", cfg.size()),
            });
        }
        let config_raw = client.small_blob(&cfg_digest, "config")?;
        let mut img = Image {
            path: r.typed.clone().into(),
            format: Format::OciLayout,
            id: String::new(),
            repo_tags: r.repo_tags(),
            repo_digests: vec![format!("{}@{top_digest}", r.familiar_name())],
            config: Default::default(),
            config_raw: Vec::new(),
            layers: Vec::new(),
            container: Box::new(RemoteStore(Arc::new(client))),
        };
        img.set_config(config_raw, &format!("blob {cfg_digest}"), Some(&cfg_digest))?;
        // A single-platform image asked for another platform (an index
        // entry was chosen by its platform already).
        if explicit && hops == 0 {
            let (os, arch) = (
                img.config.os.clone().unwrap_or_default(),
                img.config.architecture.clone().unwrap_or_default(),
            );
            if !os.is_empty() && !want.matches(&os, &arch, img.config.variant.as_deref()) {
                return Err(ImageError::Registry {
                    reference: r.typed.clone(),
                    message: format!("the image is {os}/{arch}, not {want}"),
                });
            }
        }
        // Blobs are fetched by their digest.
        img.add_manifest_layers(manifest.layers(), &format!("manifest {digest}"), |d| {
            d.to_string()
        })?;
        Ok(img)
    }
}

/// A registry: blobs are fetched by digest, several at once.
struct RemoteStore(Arc<Client>);

impl BlobStore for RemoteStore {
    /// Blobs are named by their digest, and a manifest names only blobs its
    /// registry holds (fetching one verifies it); documents come from the
    /// registry API, not by name.
    fn exists(&self, name: &str) -> bool {
        Digest::parse(name).is_some()
    }

    fn read_doc(&self, _image: &Path, _name: &str) -> Result<Option<Vec<u8>>, ImageError> {
        Ok(None)
    }

    fn stream_layers(
        &self,
        img: &Image,
        which: &[usize],
        run: &LayerFn<'_>,
    ) -> Result<(), ImageError> {
        // Downloads wait on the network more than on the CPU: up to
        // `parallel` at once, on a pool of their own.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.0.parallel().min(which.len()).max(1))
            .build()
            .map_err(|e| img.layer_err_msg(0, e.to_string()))?;
        pool.install(|| {
            which.par_iter().try_for_each(|&i| {
                let layer = img.layer(i)?;
                let digest = layer.stored.as_ref().unwrap_or(&layer.diff);
                let mut body = self.0.blob_stream(digest, layer.stored_size.unwrap_or(0))?;
                run(i, &mut body as &mut dyn Read)
            })
        })
    }

    /// Content-addressed: bytes that hashed to this digest once (and to the
    /// diff ID recorded with it) are those bytes wherever they are served.
    fn identity(&self, _img: &Image, layer: &LayerInfo) -> Option<String> {
        layer.stored.as_ref().map(|d| format!("blob {d}"))
    }

    fn transfer_stats(&self) -> Option<(u64, u64)> {
        Some((self.0.transferred(), self.0.blobs_fetched()))
    }
}
