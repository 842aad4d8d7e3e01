//! Opening an image from wherever the user named it (a file, a registry, a
//! local engine) and analyzing it: one function for the CLI and the server.

use crate::Inventory;
use crate::{analyze_image, analyze_rest, cache, InventoryError, LayerResult, Options, Stats};
use customs_image::digest::Digest;
use customs_image::walk::walk_tar;
use customs_image::{Engine, EngineKind, Image, ImageError, ImageSrc, RemoteOptions, Target};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;

/// Where the local engines listen (`--docker-host`, `--podman-host`).
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub docker_host: Option<String>,
    pub podman_host: Option<String>,
}

/// An analyzed image and where it came from.
pub struct Opened {
    pub image: Image,
    pub inventory: Inventory,
    /// `file`, `remote`, `docker` or `podman`.
    pub source: &'static str,
}

/// Open and analyze `target`. A named image is looked up in its sources in
/// order: an engine that is not running, or does not have the image, passes
/// to the next source (a debug line says so); the registry's answer is
/// final. When every source fails, the error lists what each said.
pub fn open_and_analyze(
    target: &Target,
    remote: &RemoteOptions,
    engines: &EngineOptions,
    opts: &Options,
) -> Result<Opened, InventoryError> {
    let (r, sources) = match target {
        Target::File(path) => {
            let image = Image::open(path)?;
            let inventory = analyze_image(&image, opts)?;
            return Ok(Opened {
                image,
                inventory,
                source: "file",
            });
        }
        Target::Named(r, sources) => (r, sources),
    };
    let mut tried: Vec<String> = Vec::new();
    for src in sources {
        let kind = match src {
            ImageSrc::Remote => {
                let image = Image::open_remote(r, remote).map_err(|e| match e {
                    // Say what the engines said too: the image may be one
                    // the user expected to find locally.
                    ImageError::Registry { reference, message } if !tried.is_empty() => {
                        ImageError::Registry {
                            reference,
                            message: format!("{message} (also tried: {})", tried.join("; ")),
                        }
                    }
                    e => e,
                })?;
                let inventory = analyze_image(&image, opts)?;
                if let Some((bytes, blobs)) = image.transfer_stats() {
                    tracing::debug!(
                        "{}: {bytes} bytes received, {blobs} layer blobs downloaded",
                        r.typed
                    );
                }
                return Ok(Opened {
                    image,
                    inventory,
                    source: "remote",
                });
            }
            ImageSrc::Docker => EngineKind::Docker,
            ImageSrc::Podman => EngineKind::Podman,
        };
        let host = match kind {
            EngineKind::Docker => engines.docker_host.as_deref(),
            EngineKind::Podman => engines.podman_host.as_deref(),
        };
        let Some(engine) = Engine::find(kind, host) else {
            tracing::debug!(
                "{}: no {} socket; trying the next source",
                r.typed,
                kind.name()
            );
            tried.push(format!("{}: no socket", kind.name()));
            continue;
        };
        let inspect = match engine.inspect(&r.name) {
            Ok(Some(i)) => i,
            Ok(None) => {
                tracing::debug!(
                    "{}: not in {} ({}); trying the next source",
                    r.typed,
                    kind.name(),
                    engine.socket.display()
                );
                tried.push(format!("{}: no such image", kind.name()));
                continue;
            }
            Err(e) => {
                tracing::debug!("{e}; trying the next source");
                tried.push(format!("{}: {}", kind.name(), short(&e)));
                continue;
            }
        };
        tracing::debug!(
            "{}: reading {} from {} ({})",
            r.typed,
            inspect.id,
            kind.name(),
            engine.socket.display()
        );
        let stream = engine.export(&r.name)?;
        let (mut image, inventory) = analyze_export(stream, &r.typed, Some(&inspect.id), opts)?;
        // Trivy reports what the engine knows the image as.
        image.repo_tags = inspect.repo_tags.unwrap_or_default();
        image.repo_digests = inspect.repo_digests.unwrap_or_default();
        return Ok(Opened {
            image,
            inventory,
            source: kind.name(),
        });
    }
    Err(InventoryError::Image(ImageError::Registry {
        reference: r.typed.clone(),
        message: format!("image not found ({})", tried.join("; ")),
    }))
}

fn short(e: &ImageError) -> String {
    match e {
        ImageError::Engine { message, .. } => message.clone(),
        e => e.to_string(),
    }
}

/// Analyze an image arriving as a `docker save` stream, in one pass: each
/// large entry is analyzed (or, when its name claims a diff ID whose result
/// is cached, only hashed) as it passes, and kept only once the manifest
/// and the hashes show which verified layer it is.
pub fn analyze_export(
    stream: impl Read,
    label: &str,
    expected_id: Option<&str>,
    opts: &Options,
) -> Result<(Image, Inventory), InventoryError> {
    let an = opts.analyzers(true);
    let fp = an.fingerprint(&opts.secret_fingerprint);
    let cache = cache::LayerCache::open(opts.cache_dir.as_deref(), opts.cache_redis.as_deref());
    let hits: Mutex<HashMap<String, LayerResult>> = Mutex::new(HashMap::new());
    let analyze =
        |claimed: Option<&Digest>, s: &mut dyn Read| -> Result<Option<LayerResult>, ImageError> {
            let name = claimed.map(|d| d.to_string()).unwrap_or_default();
            if let (Some(c), Some(_)) = (&cache, claimed) {
                if let Some(hit) = c.get(&name, &fp) {
                    // Used only if these bytes hash to that diff ID (checked
                    // by `open_export` before anything is handed on).
                    if let Ok(mut h) = hits.lock() {
                        h.insert(name, hit);
                    }
                    return Ok(None);
                }
            }
            let mut result = LayerResult::default();
            let t = std::time::Instant::now();
            walk_tar(s, Path::new(label), &name, &mut |ev| result.visit(&an, ev))?;
            tracing::debug!("export entry {name} analyzed in {:?}", t.elapsed());
            Ok(Some(result))
        };
    let (image, analyzed) = Image::open_export(stream, label, None, expected_id, &analyze)?;
    let mut hits = hits.into_inner().unwrap_or_default();
    let mut done = HashMap::new();
    let mut stats = Stats::default();
    for (i, r) in analyzed {
        let Some(layer) = image.layers.get(i) else {
            continue;
        };
        let result = match r {
            Some(r) => {
                if let Some(c) = &cache {
                    c.put(&layer.diff_id, &fp, &r);
                }
                stats.analyzed += 1;
                r
            }
            None => match hits.remove(&layer.diff_id) {
                Some(r) => {
                    stats.from_cache += 1;
                    r
                }
                None => {
                    return Err(InventoryError::Image(ImageError::Layer {
                        path: image.path.clone(),
                        layer: layer.diff_id.clone(),
                        reason: "skipped as cached, but no cached result matches its content"
                            .into(),
                    }))
                }
            },
        };
        done.insert(i, result);
    }
    let inv = analyze_rest(&image, opts, done, stats)?;
    Ok((image, inv))
}
