//! The inventory of an image or a root directory: runs the analyzers over each
//! layer in one streaming pass (layers in parallel), caches each layer's result
//! by diff ID, and merges the layers' results into the final view, applying
//! whiteouts and attributing every package to the layer that brought it.
//!
//! ```no_run
//! use customs_inventory::{analyze_image, Options};
//! let img = customs_image::Image::open("alpine.tar.gz")?;
//! let inv = analyze_image(&img, &Options::default())?;
//! for p in &inv.os_packages { println!("{} {} {}", p.name, p.version, p.layer.diff_id) }
//! # Ok::<(), customs_inventory::InventoryError>(())
//! ```

mod cache;
pub use cache::{check_redis, REDIS_TTL};
pub mod layer;
mod sources;

pub use sources::{analyze_export, open_and_analyze, EngineOptions, Opened};

use customs_image::walk::{walk_dir_par, walk_tar};
use customs_image::{Image, ImageError};
use customs_model::{LayerRef, OsInfo, Package};
pub use layer::{
    path_hash, AppFile, EntryFilter, FileMeta, FileSecret, FileWant, LayerResult, PathHashes,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{}: the image's layers are {size} bytes, over the limit of {max} bytes", path.display())]
    TooLarge { path: PathBuf, size: u64, max: u64 },
}

/// Which packages of uncertain use are reported, as Trivy's
/// `--detection-priority` chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetectionPriority {
    /// Only what the project certainly uses (Trivy's default): no `stdlib`
    /// from a go.mod's `toolchain` (or `go`) line.
    #[default]
    Precise,
    /// Also what it may use: the `stdlib` a go.mod's toolchain implies.
    Comprehensive,
}

/// What to analyze and where the layer cache lives.
///
/// `include_dev_deps` and `detection_priority` act in [`merge`], after the
/// layer cache: cached layer results do not depend on them.
#[derive(Default)]
pub struct Options {
    /// OS detection and OS packages.
    pub os: bool,
    /// Language packages (installed artifacts and binaries in images; also
    /// lockfiles when `lockfiles` is set).
    pub lang: bool,
    pub lockfiles: bool,
    pub secrets: Option<customs_secret::SecretScanner>,
    /// Fingerprint of the secret rules (part of the cache key).
    pub secret_fingerprint: String,
    /// Keep the final filesystem's metadata (hardening).
    pub keep_files: bool,
    /// Keep the contents of the files these predicates want, as the final
    /// filesystem has them ([`Inventory::extra_files`]).
    pub wanted_files: Vec<layer::FileWant>,
    /// With `keep_files`: the entries whose metadata hardening needs
    /// (every entry when `None`); the others cost a 16-byte hash each.
    pub hardening_entries: Option<layer::EntryFilter>,
    /// Report language packages in files that OS packages installed too.
    pub include_os_owned: bool,
    /// The per-layer cache; `None` disables it.
    pub cache_dir: Option<PathBuf>,
    /// A Redis URL: layer results (and the verification of content-addressed
    /// blobs) are shared there by every process pointed at it
    /// ([`cache`](crate::cache)).
    pub cache_redis: Option<String>,
    /// Refuse an image whose layers (the sizes its manifest claims) add up
    /// to more than this many bytes, before any is read (a server's
    /// per-scan bound; `None`: no bound).
    pub max_image_bytes: Option<u64>,
    /// Today's date for end-of-life checks (days since the Unix epoch).
    pub today_unix_secs: Option<i64>,
    /// Keep development dependencies (`dev`); Trivy drops them unless
    /// `--include-dev-deps`, and so does the default here.
    pub include_dev_deps: bool,
    /// Whether a go.mod's toolchain-derived `stdlib` is reported.
    pub detection_priority: DetectionPriority,
}

/// Language packages of one target (a lockfile, a binary, or an aggregate
/// like `Python` for every installed Python package, as Trivy groups them).
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub lang_type: String,
    pub target: String,
    pub packages: Vec<Package>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub layers: usize,
    pub analyzed: usize,
    pub from_cache: usize,
}

/// The merged result.
#[derive(Debug, Default)]
pub struct Inventory {
    pub os: Option<OsInfo>,
    /// Trivy's result type for the OS packages (`alpine`, `debian`...).
    pub os_type: String,
    pub os_packages: Vec<Package>,
    pub applications: Vec<Application>,
    pub secrets: Vec<FileSecret>,
    /// The final filesystem (when hardening asked for it): the entries
    /// `hardening_entries` keeps, each with the index of its layer in the
    /// image's layer list (the merge input).
    pub files: Vec<(FileMeta, u32)>,
    pub extra_files: BTreeMap<String, Vec<u8>>,
    pub warnings: Vec<String>,
    pub stats: Stats,
}

impl Options {
    fn analyzers(&self, installed: bool) -> layer::Analyzers<'_> {
        layer::Analyzers {
            os: self.os,
            installed: self.lang && installed,
            lockfiles: self.lang && self.lockfiles,
            secrets: self.secrets.as_ref(),
            keep_files: self.keep_files,
            extra_wanted: &self.wanted_files,
            keep_entry: self.hardening_entries,
        }
    }
}

/// Analyze every layer of an image (reading from the cache what it holds) and
/// merge the results.
///
/// A layer's cached result is used only when the layer's stored bytes are
/// known to hash to its diff ID (a verification record for the same file
/// identity); every other layer is read, verified while it streams, and its
/// result cached only after the verification passed. A layer whose bytes do
/// not match what the image claims fails the scan.
pub fn analyze_image(img: &Image, opts: &Options) -> Result<Inventory, InventoryError> {
    if let (Some(max), Some(size)) = (opts.max_image_bytes, img.claimed_layer_bytes()) {
        if size > max {
            return Err(InventoryError::TooLarge {
                path: img.path.clone(),
                size,
                max,
            });
        }
    }
    analyze_rest(img, opts, HashMap::new(), Stats::default())
}

/// `analyze_image` for the layers not in `done` (results an export pass
/// already verified), adding to `before`'s counts.
fn analyze_rest(
    img: &Image,
    opts: &Options,
    mut done: HashMap<usize, LayerResult>,
    before: Stats,
) -> Result<Inventory, InventoryError> {
    let an = opts.analyzers(true);
    let fp = an.fingerprint(&opts.secret_fingerprint);
    let cache = cache::LayerCache::open(opts.cache_dir.as_deref(), opts.cache_redis.as_deref());
    let n = img.layers.len();
    let mut initial: Vec<Option<LayerResult>> = vec![None; n];
    for (i, r) in done.drain() {
        if let Some(slot) = initial.get_mut(i) {
            *slot = Some(r);
        }
    }
    let slots: Mutex<Vec<Option<LayerResult>>> = Mutex::new(initial);
    let mut todo = Vec::new();
    // Layers stored as the same bytes are read once; layers that only claim
    // the same diff ID are each read (and each verified).
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut copy_of: Vec<Option<usize>> = vec![None; n];
    let mut identities: Vec<Option<String>> = vec![None; n];
    let mut stats = Stats {
        layers: n,
        ..before
    };
    for (i, l) in img.layers.iter().enumerate() {
        let key = img.blob_key(i).unwrap_or_else(|| i.to_string());
        let preset = slots.lock().map(|s| s[i].is_some()).unwrap_or(false);
        if let Some(&first) = seen.get(&key) {
            // The same bytes cannot hash to two diff IDs.
            if img.layers[first].diff_id != l.diff_id {
                return Err(InventoryError::Image(ImageError::Layer {
                    path: img.path.clone(),
                    layer: l.diff_id.clone(),
                    reason: format!(
                        "stored as the same blob as layer {}, which claims another diff ID",
                        img.layers[first].diff_id
                    ),
                }));
            }
            copy_of[i] = Some(first);
            continue;
        }
        seen.insert(key, i);
        if preset {
            continue;
        }
        if let Some(c) = &cache {
            identities[i] = img.layer_identity(i);
            let known = identities[i]
                .as_deref()
                .and_then(|id| c.verified(id))
                .is_some_and(|d| d == l.diff_id);
            if known {
                if let Some(hit) = c.get(&l.diff_id, &fp) {
                    tracing::debug!("layer {} read from the cache", l.diff_id);
                    stats.from_cache += 1;
                    if let Ok(mut s) = slots.lock() {
                        s[i] = Some(hit);
                    }
                    continue;
                }
            }
        }
        todo.push(i);
    }
    stats.analyzed += todo.len();
    img.for_each_layer(
        &todo,
        &|i, stream| {
            let label = img.layers.get(i).map(|l| l.diff_id.as_str()).unwrap_or("");
            let mut result = LayerResult::default();
            let t = std::time::Instant::now();
            walk_tar(stream, &img.path, label, &mut |ev| result.visit(&an, ev))?;
            tracing::debug!("layer {label} analyzed in {:?}", t.elapsed());
            Ok(result)
        },
        &|i, result| {
            let label = img.layers.get(i).map(|l| l.diff_id.as_str()).unwrap_or("");
            if let Some(c) = &cache {
                if let Some(id) = identities.get(i).and_then(|x| x.as_deref()) {
                    c.record_verified(id, label);
                }
                c.put(label, &fp, &result);
            }
            if let Ok(mut s) = slots.lock() {
                if let Some(slot) = s.get_mut(i) {
                    *slot = Some(result);
                }
            }
            Ok(())
        },
    )?;
    let mut slots = slots.into_inner().unwrap_or_default();
    for (i, first) in copy_of.iter().enumerate() {
        if let Some(&f) = first.as_ref() {
            slots[i] = slots[f].clone();
        }
    }
    let layers: Vec<(LayerRef, LayerResult)> = img
        .layers
        .iter()
        .zip(slots)
        .map(|(l, r)| (l.layer_ref(), r.unwrap_or_default()))
        .collect();
    let mut inv = merge(&layers, opts);
    inv.stats = stats;
    Ok(inv)
}

/// Analyze a root directory (an unpacked image, a VM disk mount, a project
/// tree) as one layer. `lockfiles` in `opts` selects the project-tree analyzers.
pub fn analyze_dir(
    root: &Path,
    opts: &Options,
    installed: bool,
) -> Result<Inventory, InventoryError> {
    let an = opts.analyzers(installed);
    // The files of a tree on disk can be read side by side (a layer tar
    // cannot): each thread visits runs of entries into its own result.
    let (result, _) = walk_dir_par(
        root,
        LayerResult::default,
        |r, ev| r.visit(&an, ev),
        LayerResult::append,
    )?;
    let mut inv = merge(&[(LayerRef::default(), result)], opts);
    inv.stats = Stats {
        layers: 1,
        analyzed: 1,
        from_cache: 0,
    };
    Ok(inv)
}

/// Remove `p` and everything below it.
fn delete_tree<V>(map: &mut BTreeMap<String, V>, p: &str) {
    map.remove(p);
    let prefix = if p.is_empty() {
        String::new()
    } else {
        format!("{p}/")
    };
    let doomed: Vec<String> = map
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    for k in doomed {
        map.remove(&k);
    }
}

/// Stack one kind of per-path result across layers: deletions of a layer
/// apply to the layers below it, then its own entries go on top. The value
/// of each surviving path comes with the index of its layer.
fn overlay<'a, V>(
    layers: &'a [(LayerRef, LayerResult)],
    get: impl Fn(&'a LayerResult) -> Vec<(&'a str, &'a V)>,
) -> BTreeMap<String, (usize, &'a V)> {
    let mut map: BTreeMap<String, (usize, &V)> = BTreeMap::new();
    for (i, (_, r)) in layers.iter().enumerate() {
        for o in &r.opaque {
            // The directory itself stays; what lower layers had in it goes.
            let keep = map.remove(o.as_str());
            delete_tree(&mut map, o);
            if let Some(k) = keep {
                map.insert(o.clone(), k);
            }
        }
        for w in &r.whiteouts {
            delete_tree(&mut map, w);
        }
        for (k, v) in get(r) {
            map.insert(k.to_string(), (i, v));
        }
    }
    map
}

fn pkg_key(p: &Package) -> (String, String, String) {
    (p.name.clone(), p.full_version(), p.arch.clone())
}

/// Aggregate targets of installed packages, as Trivy names them.
fn aggregate_target(lang_type: &str) -> Option<&'static str> {
    use customs_model::lang_type as lt;
    Some(match lang_type {
        lt::PYTHON_PKG => "Python",
        lt::NODE_PKG => "Node.js",
        lt::GEMSPEC => "Ruby",
        lt::JAR => "Java",
        lt::CONDA_PKG => "Conda",
        _ => return None,
    })
}

/// Merge per-layer results (bottom layer first) into the final inventory.
pub fn merge(layers: &[(LayerRef, LayerResult)], opts: &Options) -> Inventory {
    let mut inv = Inventory::default();
    for (_, r) in layers {
        inv.warnings.extend(r.warnings.iter().cloned());
    }

    // OS.
    let releases = overlay(layers, |r| {
        r.release_files
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    });
    inv.os = customs_ospkg::detect_os(&|p: &str| releases.get(p).map(|(_, v)| v.as_slice()));
    if let Some(os) = inv.os.as_mut() {
        let today = opts.today_unix_secs.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
        os.eosl = customs_ospkg::eol(os, customs_ospkg::Date::from_unix(today)).is_ended();
        inv.os_type = customs_ospkg::os_type(os).to_string();
    }

    // OS packages: the final databases; each package attributed to the
    // lowest layer whose copy of the same database lists it at that version.
    let dbs = overlay(layers, |r| {
        r.pkg_dbs.iter().map(|(k, v)| (k.as_str(), v)).collect()
    });
    let lists = overlay(layers, |r| {
        r.dpkg_lists.iter().map(|(k, v)| (k.as_str(), v)).collect()
    });
    let copyrights = overlay(layers, |r| {
        r.copyrights.iter().map(|(k, v)| (k.as_str(), v)).collect()
    });
    for (path, (top, pkgs)) in &dbs {
        let mut first_seen: HashMap<(String, String, String), usize> = HashMap::new();
        for (i, (_, r)) in layers.iter().enumerate().take(top + 1) {
            if let Some(list) = r.pkg_dbs.get(path) {
                for p in list {
                    first_seen.entry(pkg_key(p)).or_insert(i);
                }
            }
        }
        for p in pkgs.iter() {
            let mut p = p.clone();
            let li = first_seen.get(&pkg_key(&p)).copied().unwrap_or(*top);
            p.layer = layers[li].0.clone();
            inv.os_packages.push(p);
        }
    }
    for (list_path, (_, files)) in &lists {
        customs_ospkg::attach_dpkg_files(&mut inv.os_packages, list_path, (*files).clone());
    }
    if !copyrights.is_empty() {
        for p in inv.os_packages.iter_mut() {
            if p.licenses.is_empty() {
                let key = format!("usr/share/doc/{}/copyright", p.name);
                if let Some((_, l)) = copyrights.get(&key) {
                    p.licenses = (*l).clone();
                }
            }
        }
    }
    if let Some(os) = &inv.os {
        for p in inv.os_packages.iter_mut() {
            let purl = customs_ospkg::purl(os, p);
            if !purl.is_empty() {
                p.identifier.purl = Some(purl);
            }
            if p.id.is_empty() {
                p.id = format!("{}@{}", p.name, p.full_version());
            }
        }
    } else {
        for p in inv.os_packages.iter_mut() {
            if p.id.is_empty() {
                p.id = format!("{}@{}", p.name, p.full_version());
            }
        }
    }
    inv.os_packages.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| a.full_version().cmp(&b.full_version()))
    });
    inv.os_packages.dedup_by(|a, b| pkg_key(a) == pkg_key(b));

    // Language packages, without files an OS package installed.
    let owned: HashSet<&str> = if opts.include_os_owned {
        HashSet::new()
    } else {
        inv.os_packages
            .iter()
            .flat_map(|p| p.installed_files.iter().map(String::as_str))
            .collect()
    };
    let apps = overlay(layers, |r| {
        r.apps.iter().map(|(k, v)| (k.as_str(), v)).collect()
    });
    let mut aggregated: BTreeMap<&'static str, Application> = BTreeMap::new();
    for (path, (li, app)) in &apps {
        if owned.contains(path.as_str()) || owned_dir(&owned, path) {
            tracing::debug!("{path}: installed by an OS package; not reported again");
            continue;
        }
        let Some(mut pkgs) = complete_app(&apps, path, app, &mut inv.warnings) else {
            continue;
        };
        filter_packages(&mut pkgs, &app.lang_type, path, opts);
        if pkgs.is_empty() {
            continue;
        }
        for p in pkgs.iter_mut() {
            p.layer = layers[*li].0.clone();
        }
        match aggregate_target(&app.lang_type) {
            Some(target) => {
                for p in pkgs.iter_mut() {
                    if p.file_path.is_empty() {
                        p.file_path = path.clone();
                    }
                }
                aggregated
                    .entry(target)
                    .or_insert_with(|| Application {
                        lang_type: app.lang_type.clone(),
                        target: target.to_string(),
                        packages: Vec::new(),
                    })
                    .packages
                    .extend(pkgs);
            }
            None => inv.applications.push(Application {
                lang_type: app.lang_type.clone(),
                target: path.clone(),
                packages: pkgs,
            }),
        }
    }
    for (_, mut a) in aggregated {
        a.packages.sort_by(|x, y| {
            x.name
                .cmp(&y.name)
                .then_with(|| x.version.cmp(&y.version))
                .then_with(|| x.file_path.cmp(&y.file_path))
        });
        inv.applications.push(a);
    }

    // Secrets: every layer counts (a file deleted later is still in the
    // image); a finding copied by several layers is reported once, with the
    // lowest layer.
    let mut seen: HashSet<(String, String, usize, String)> = HashSet::new();
    for (lr, r) in layers {
        for s in &r.secrets {
            let key = (
                s.path.clone(),
                s.finding.rule_id.clone(),
                s.finding.start_line,
                s.finding.match_line.clone(),
            );
            if seen.insert(key) {
                let mut s = s.clone();
                s.finding.layer = lr.clone();
                inv.secrets.push(s);
            }
        }
    }

    // The final filesystem, for hardening: the kept entries that survive
    // the whiteouts and are not replaced in an upper layer by an entry no
    // check looks at (known by its path hash only).
    if opts.keep_files {
        let files = overlay(layers, |r| {
            r.files.iter().map(|f| (f.path.as_str(), f)).collect()
        });
        let lowest = files
            .values()
            .map(|(i, _)| *i)
            .min()
            .unwrap_or(layers.len());
        let shadows: Vec<Vec<[u8; 16]>> = layers
            .iter()
            .enumerate()
            .map(|(j, (_, r))| {
                let mut v = if j > lowest {
                    r.shadows.0.clone()
                } else {
                    Vec::new()
                };
                v.sort_unstable();
                v
            })
            .collect();
        inv.files = files
            .into_iter()
            .filter(|(path, (i, _))| {
                let h = layer::path_hash(path);
                !shadows
                    .iter()
                    .skip(i + 1)
                    .any(|s| s.binary_search(&h).is_ok())
            })
            .map(|(_, (i, f))| (f.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
    }
    if !opts.wanted_files.is_empty() {
        let extra = overlay(layers, |r| {
            r.extra_files.iter().map(|(k, v)| (k.as_str(), v)).collect()
        });
        inv.extra_files = extra
            .into_iter()
            .map(|(k, (_, v))| (k, v.clone()))
            .collect();
    }
    inv
}

type Apps<'a> = BTreeMap<String, (usize, &'a AppFile)>;

fn dir_and_file(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some((d, f)) => (d, f),
        None => ("", path),
    }
}

fn sibling(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

/// The packages of one lockfile app, completed from the other files of
/// the final tree; `None` when the app is not a target of its own (a
/// project manifest, a go.sum beside its go.mod).
fn complete_app(
    apps: &Apps<'_>,
    path: &str,
    app: &AppFile,
    warnings: &mut Vec<String>,
) -> Option<Vec<Package>> {
    use customs_model::lang_type as lt;
    if customs_lang::is_manifest(&app.lang_type) {
        return None;
    }
    let (dir, file) = dir_and_file(path);
    let is_gomod = |p: &str| apps.get(p).is_some_and(|(_, a)| a.lang_type == lt::GOMOD);
    if app.lang_type == lt::GOMOD && file == "go.sum" && is_gomod(&sibling(dir, "go.mod")) {
        // It completes (or is ignored by) the go.mod beside it.
        return None;
    }
    let mut pkgs = app.packages.clone();
    if app.lang_type == lt::GOMOD && file == "go.mod" && app.source.is_some() {
        if let Some((_, sum)) = apps
            .get(&sibling(dir, "go.sum"))
            .filter(|(_, a)| a.lang_type == lt::GOMOD)
        {
            pkgs = customs_lang::merge_go_sum_packages(pkgs, &sum.packages);
        }
    }
    if app.lang_type == lt::POM {
        if let Some(src) = app
            .source
            .as_deref()
            .filter(|s| customs_lang::pom_has_parent(s.as_bytes()))
        {
            let lookup = |p: &str| -> Option<String> {
                apps.get(p)
                    .filter(|(_, a)| a.lang_type == lt::POM)
                    .and_then(|(_, a)| a.source.clone())
            };
            match customs_lang::parse_pom_with_parents(path, src.as_bytes(), &lookup) {
                Ok(p) => pkgs = p,
                Err(e) => warnings.push(e.to_string()),
            }
        }
    }
    if let Some((kind, subtree)) = customs_lang::manifest_for(&app.lang_type) {
        let manifests: Vec<&[Package]> = if subtree {
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            apps.range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .filter(|(_, (_, a))| a.lang_type == kind)
                .map(|(_, (_, a))| a.packages.as_slice())
                .collect()
        } else {
            let name = kind.rsplit(':').next().unwrap_or(kind);
            apps.get(&sibling(dir, name))
                .filter(|(_, a)| a.lang_type == kind)
                .map(|(_, a)| vec![a.packages.as_slice()])
                .unwrap_or_default()
        };
        pkgs = customs_lang::apply_manifests(&app.lang_type, pkgs, &manifests);
    }
    Some(pkgs)
}

/// Drop what the options leave out: dev dependencies (unless
/// `include_dev_deps`) and a go.mod's toolchain `stdlib` (unless
/// `DetectionPriority::Comprehensive`); dependency edges to dropped
/// packages go with them.
fn filter_packages(pkgs: &mut Vec<Package>, lang_type: &str, path: &str, opts: &Options) {
    let go_mod = lang_type == customs_model::lang_type::GOMOD && path.ends_with("go.mod");
    let before = pkgs.len();
    let mut dropped: HashSet<String> = HashSet::new();
    pkgs.retain(|p| {
        let drop = (p.dev && !opts.include_dev_deps)
            || (go_mod
                && p.name == customs_lang::STDLIB
                && opts.detection_priority == DetectionPriority::Precise);
        if drop {
            dropped.insert(p.id.clone());
        }
        !drop
    });
    if pkgs.len() != before {
        for p in pkgs.iter_mut() {
            p.depends_on.retain(|d| !dropped.contains(d));
        }
    }
}

/// Is `path` inside a directory some OS package owns as a whole? dpkg lists
/// the files of `foo.egg-info/` directories, so a METADATA or PKG-INFO file
/// inside one counts as owned when its directory holds owned files.
fn owned_dir(owned: &HashSet<&str>, path: &str) -> bool {
    match path.rsplit_once('/') {
        Some((dir, _)) if dir.ends_with(".egg-info") || dir.ends_with(".dist-info") => owned
            .iter()
            .any(|o| o.starts_with(dir) && o.len() > dir.len()),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
