//! `customs base check|update`: the base images of a Dockerfile (or of a
//! built image) against their registries: newer tags on the same track
//! (`customs_base::track`), floating tags and digest pins resolved to the
//! digest their tag points to now, and with `--scan` what upgrading fixes.
//! `update` rewrites the pins in place (`customs_base::dockerfile`).
//!
//! Each base is checked on its own: an error is a line (status `error`)
//! and the other bases are still checked; exit 3 only when nothing could
//! be checked.

use crate::args::GlobalArgs;
use anyhow::{anyhow, Result};
use clap::{Args, Subcommand, ValueEnum};
use customs_base::{Base, Track};
use customs_image::registry::Client;
use customs_image::{ImageRef, ImageSrc, RemoteOptions, Target};
use customs_model::Severity;
use customs_report::escape::escape_markdown;
use customs_report::escape_control;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Exit code of `base update` when the Dockerfile changed (or would).
pub const EXIT_CHANGED: i32 = 10;

#[derive(Args, Debug)]
pub struct BaseArgs {
    #[command(subcommand)]
    pub command: BaseCommand,
}

#[derive(Subcommand, Debug)]
pub enum BaseCommand {
    /// Newer tags of each base on the same track; moved floating tags and digests.
    Check(CheckArgs),
    /// Rewrite the base pins of a Dockerfile (a unified diff; --write applies it).
    Update(UpdateArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BaseFormat {
    Table,
    Json,
    /// GitHub-flavoured Markdown (a PR body).
    Markdown,
}

#[derive(Args, Debug)]
pub struct CommonArgs {
    /// A Dockerfile, or a built image (a name or an image file).
    #[arg(value_name = "DOCKERFILE|IMAGE", required_unless_present = "input")]
    pub target: Option<String>,
    /// A built image file (`docker save` tar, OCI layout).
    #[arg(long, short = 'i', value_name = "PATH", conflicts_with = "target")]
    pub input: Option<String>,
    /// How far a tag may move: patch, minor or major (docs/base-tracks.md).
    #[arg(long, default_value = "patch", value_parser = parse_track, value_name = "TRACK")]
    pub track: Track,
    /// Offer pre-release tags (`-rc1`, `-beta`) too.
    #[arg(long)]
    pub pre_release: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: BaseFormat,
    /// Write the output to FILE instead of stdout (written whole, atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub registry: crate::args::RegistryArgs,
    /// Bound on each network request (`90s`, `10m`).
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub timeout: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Scan the current and the candidate bases: what upgrading fixes.
    #[arg(long)]
    pub scan: bool,
    /// Vulnerability database for --scan (default: CACHE_DIR/db/customs.db).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Do not use or fill the layer cache (--scan).
    #[arg(long)]
    pub no_cache: bool,
    /// For a built image without base annotations: candidate base images
    /// (comma list of references); the one whose layers the image starts
    /// with (the most layers when several do) is its base.
    #[arg(long, value_delimiter = ',', value_name = "REFS")]
    pub base_candidates: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Rewrite the Dockerfile in place (atomically); else only show the diff.
    #[arg(long)]
    pub write: bool,
    /// Write `name:tag@sha256:…` (the digest the tag points to now).
    #[arg(long)]
    pub pin_digest: bool,
    /// Also write the unified diff to FILE (empty when nothing changed).
    #[arg(long, value_name = "FILE")]
    pub diff_file: Option<PathBuf>,
}

fn parse_track(s: &str) -> Result<Track, String> {
    Track::parse(s)
}

/// What was found for one base.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct BaseReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage_name: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub written: String,
    pub image: String,
    /// `update`, `up-to-date`, `floating`, `skipped` or `error`.
    pub status: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The digest pinned in the Dockerfile (or the image's annotation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned_digest: Option<String>,
    /// The digest the tag points to now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<Candidate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanCompare>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Candidate {
    pub tag: String,
    pub digest: String,
    /// `name:tag@digest`.
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ScanSide {
    pub reference: String,
    #[serde(rename = "OS", skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(rename = "EOSL")]
    pub eosl: bool,
    /// Past end of life: the newest release of the same OS still supported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_to: Option<String>,
    pub vulnerabilities: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ScanCompare {
    pub current: ScanSide,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<ScanSide>,
    pub fixed: BTreeMap<String, usize>,
    pub introduced: BTreeMap<String, usize>,
    pub remaining: BTreeMap<String, usize>,
    #[serde(rename = "FixedIDs")]
    pub fixed_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Output<'a> {
    target: &'a str,
    kind: &'a str,
    track: &'a str,
    bases: &'a [BaseReport],
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<&'a str>,
}

pub fn run(g: &GlobalArgs, a: &BaseArgs) -> Result<i32> {
    match &a.command {
        BaseCommand::Check(c) => check(g, c),
        BaseCommand::Update(u) => update(g, u),
    }
}

fn remote_options(g: &GlobalArgs, c: &CommonArgs) -> Result<RemoteOptions> {
    crate::scan::remote_options(
        g,
        &crate::scan::RegistryFlags {
            registry: &c.registry,
            timeout: c.timeout,
            parallel: 0,
            progress: false,
        },
    )
}

/// A Dockerfile (a text file that is no archive), not an image file.
fn is_dockerfile(p: &str) -> bool {
    let path = Path::new(p);
    if !path.is_file() {
        return false;
    }
    let lower = p.to_ascii_lowercase();
    if [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        return false;
    }
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let head = &head[..n];
    let compressed = head.starts_with(&[0x1f, 0x8b]) || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    let tar = n >= 262 && &head[257..262] == b"ustar";
    !(compressed || tar)
}

/// Registry connections and tag lists, one per repository.
struct Registries<'a> {
    opts: &'a RemoteOptions,
    clients: HashMap<(String, String), std::result::Result<Client, String>>,
    tags: HashMap<(String, String), std::result::Result<Vec<String>, String>>,
}

impl<'a> Registries<'a> {
    fn new(opts: &'a RemoteOptions) -> Self {
        Registries {
            opts,
            clients: HashMap::new(),
            tags: HashMap::new(),
        }
    }

    fn client(&mut self, r: &ImageRef) -> std::result::Result<&Client, String> {
        let key = (r.registry.clone(), r.repository.clone());
        let opts = self.opts;
        self.clients
            .entry(key)
            .or_insert_with(|| Client::connect(r, opts).map_err(|e| customs_model::error_chain(&e)))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn tags(&mut self, r: &ImageRef) -> std::result::Result<Vec<String>, String> {
        let key = (r.registry.clone(), r.repository.clone());
        if let Some(t) = self.tags.get(&key) {
            return t.clone();
        }
        let t = self
            .client(r)
            .and_then(|c| c.tags().map_err(|e| customs_model::error_chain(&e)));
        self.tags.insert(key, t.clone());
        t
    }

    fn digest(&mut self, r: &ImageRef, tag: &str) -> std::result::Result<String, String> {
        self.client(r).and_then(|c| {
            c.resolve_digest(tag)
                .map(|d| d.to_string())
                .map_err(|e| customs_model::error_chain(&e))
        })
    }
}

fn short(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) if hex.len() > 12 => format!("{alg}:{}", &hex[..12]),
        _ => d.to_string(),
    }
}

/// Check one image reference (`name[:tag][@digest]`).
fn check_ref(
    regs: &mut Registries<'_>,
    image: &str,
    track: Track,
    pre: bool,
    rep: &mut BaseReport,
) {
    let r = match ImageRef::parse(image) {
        Ok(r) => r,
        Err(e) => {
            rep.status = "error".into();
            rep.message = e;
            return;
        }
    };
    let tag = r.tag.clone();
    rep.tag = tag.clone();
    rep.pinned_digest = r.digest.clone();
    let Some(tag) = tag else {
        // `name@sha256:…`: nothing to compare the pin with.
        match regs.digest(&r, r.manifest_ref()) {
            Ok(_) => {
                rep.status = "up-to-date".into();
                rep.message = "pinned by digest only (no tag to follow)".into();
            }
            Err(e) => {
                rep.status = "error".into();
                rep.message = e;
            }
        }
        return;
    };
    let now = match regs.digest(&r, &tag) {
        Ok(d) => d,
        Err(e) => {
            rep.status = "error".into();
            rep.message = e;
            return;
        }
    };
    rep.current_digest = Some(now.clone());
    let name = image
        .split('@')
        .next()
        .and_then(|s| s.strip_suffix(tag.as_str()))
        .and_then(|s| s.strip_suffix(':'))
        .unwrap_or(image)
        .to_string();
    let floating = matches!(customs_base::shape(&tag), customs_base::TagShape::Floating);
    let newer = if floating {
        None
    } else {
        match regs.tags(&r) {
            Ok(tags) => customs_base::newer_tag(&tag, &tags, track, pre),
            Err(e) => {
                rep.status = "error".into();
                rep.message = e;
                return;
            }
        }
    };
    if let Some(n) = newer {
        match regs.digest(&r, &n) {
            Ok(d) => {
                rep.status = "update".into();
                rep.message = format!("{tag} → {n} ({})", short(&d));
                rep.candidate = Some(Candidate {
                    reference: format!("{name}:{n}@{d}"),
                    tag: n,
                    digest: d,
                });
            }
            Err(e) => {
                rep.status = "error".into();
                rep.message = format!("newer tag {n}: {e}");
            }
        }
        return;
    }
    match &r.digest {
        Some(pinned) if *pinned != now => {
            rep.status = "update".into();
            rep.message = format!("{tag} moved: {} → {}", short(pinned), short(&now));
            rep.candidate = Some(Candidate {
                reference: format!("{name}:{tag}@{now}"),
                tag: tag.clone(),
                digest: now,
            });
        }
        Some(_) => {
            rep.status = "up-to-date".into();
            rep.message = if floating {
                format!("{tag} still {}", short(&now))
            } else {
                format!("{tag} is the newest on the {} track", track.name())
            };
        }
        None if floating => {
            rep.status = "floating".into();
            rep.message = format!("{tag} now {now}");
        }
        None => {
            rep.status = "up-to-date".into();
            rep.message = format!("{tag} is the newest on the {} track", track.name());
        }
    }
}

fn report_of(b: &Base) -> BaseReport {
    BaseReport {
        line: Some(b.line),
        stage: Some(b.stage),
        stage_name: b.stage_name.clone(),
        written: b.written.clone(),
        image: b.image.clone(),
        ..BaseReport::default()
    }
}

/// Check each base of a Dockerfile; `None` from the parse when it has none.
fn check_dockerfile(
    path: &str,
    text: &str,
    c: &CommonArgs,
    regs: &mut Registries<'_>,
) -> std::result::Result<Vec<(Base, BaseReport)>, String> {
    let bases = customs_base::bases(path, text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for b in bases {
        let mut rep = report_of(&b);
        match &b.skip {
            Some(why) => {
                let benign =
                    b.image.eq_ignore_ascii_case("scratch") || why.contains("earlier stage");
                rep.status = if benign { "skipped" } else { "error" }.into();
                rep.message = why.clone();
            }
            None => check_ref(regs, &b.image, c.track, c.pre_release, &mut rep),
        }
        out.push((b, rep));
    }
    Ok(out)
}

pub fn check(g: &GlobalArgs, a: &CheckArgs) -> Result<i32> {
    let c = &a.common;
    let opts = remote_options(g, c)?;
    let mut regs = Registries::new(&opts);
    let (target, kind, mut reports, history) = match (&c.input, &c.target) {
        (None, Some(t)) if is_dockerfile(t) => {
            let text = std::fs::read_to_string(t).map_err(|e| anyhow!("{t}: {e}"))?;
            let checked = check_dockerfile(t, &text, c, &mut regs).map_err(|e| anyhow!(e))?;
            (
                t.clone(),
                "dockerfile",
                checked.into_iter().map(|(_, r)| r).collect(),
                None,
            )
        }
        (input, target) => {
            let (name, t) = match (input, target) {
                (Some(p), _) => (p.clone(), Target::File(p.clone())),
                (None, Some(n)) => (
                    n.clone(),
                    customs_image::parse_target(n, &ImageSrc::DEFAULT).map_err(|e| anyhow!(e))?,
                ),
                (None, None) => {
                    return Err(anyhow!("customs base check needs a Dockerfile or an image"))
                }
            };
            let (rep, history) = check_image(&t, &opts, c, &a.base_candidates, &mut regs)?;
            (name, "image", vec![rep], Some(history))
        }
    };
    if a.scan {
        scan_bases(g, a, &opts, &mut reports);
    }
    let out = Output {
        target: &target,
        kind,
        track: c.track.name(),
        bases: &reports,
        history: history.as_deref(),
        changed: None,
        diff: None,
    };
    emit(c, &out)?;
    Ok(exit_of(&reports, 0))
}

/// 3 when nothing could be checked, else `ok`.
fn exit_of(reports: &[BaseReport], ok: i32) -> i32 {
    let checked = reports.iter().any(|r| r.status != "error");
    if checked {
        ok
    } else {
        i32::from(crate::EXIT_ERROR)
    }
}

/// The base of a built image: its annotations (manifest, then config
/// labels), checked like a Dockerfile's; else its history's first lines.
fn check_image(
    t: &Target,
    opts: &RemoteOptions,
    c: &CommonArgs,
    candidates: &[String],
    regs: &mut Registries<'_>,
) -> Result<(BaseReport, Vec<String>)> {
    // Only the manifest and config are needed: a file or a registry image
    // is opened without reading its layers; an engine's image comes as one
    // export stream, read as `customs image` reads it.
    let (img, from_registry) = match t {
        Target::File(p) => (customs_image::Image::open(p)?, false),
        Target::Named(r, srcs) if srcs.first() == Some(&ImageSrc::Remote) => {
            (customs_image::Image::open_remote(r, opts)?, true)
        }
        Target::Named(..) => {
            let opened = customs_inventory::open_and_analyze(
                t,
                opts,
                &customs_scan::EngineOptions::default(),
                &customs_inventory::Options::default(),
            )?;
            let remote = opened.source == "remote";
            (opened.image, remote)
        }
    };
    let labels: BTreeMap<String, String> = img
        .config
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    let mut annotations = BTreeMap::new();
    if let Target::Named(r, _) = t {
        if from_registry {
            if let Ok(c) = Client::connect(r, opts) {
                if let Ok((body, _)) = c.manifest(r.manifest_ref()) {
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
                        if let Some(o) = v["annotations"].as_object() {
                            for (k, v) in o {
                                if let Some(s) = v.as_str() {
                                    annotations.insert(k.clone(), s.to_string());
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let history: Vec<String> = img
        .config
        .history
        .iter()
        .filter_map(|h| h.created_by.clone())
        .filter(|s| !s.trim().is_empty())
        .take(3)
        .collect();
    let mut rep = BaseReport::default();
    match customs_base::base_from_annotations(&annotations, &labels) {
        Some((name, digest)) => {
            let image = match &digest {
                Some(d) if !name.contains('@') => format!("{name}@{d}"),
                _ => name.clone(),
            };
            rep.image = image.clone();
            check_ref(regs, &image, c.track, c.pre_release, &mut rep);
        }
        None => {
            let diff_ids: Vec<String> = img.layers.iter().map(|l| l.diff_id.clone()).collect();
            match base_by_layers(&diff_ids, candidates, opts) {
                Some((image, n)) => {
                    rep.image = image.clone();
                    check_ref(regs, &image, c.track, c.pre_release, &mut rep);
                    let found = format!(
                        "base found by layers: the image starts with all {n} layer(s) of {image}"
                    );
                    rep.message = if rep.message.is_empty() {
                        found
                    } else {
                        format!("{found}; {}", rep.message)
                    };
                }
                None => {
                    rep.status = "skipped".into();
                    rep.message = if candidates.is_empty() {
                        "base unknown (no org.opencontainers.image.base.name annotation; --base-candidates can name images to match by layers)".into()
                    } else {
                        "base unknown (no org.opencontainers.image.base.name annotation, and no candidate's layers start the image)".into()
                    };
                }
            }
        }
    }
    Ok((rep, history))
}

/// The candidate whose diff IDs all start the image's (the longest when
/// several do), pinned to the digest it was read at, and its layer count.
/// Only the candidates' manifests and configs are fetched (digests
/// verified); a candidate that cannot be read is skipped with a warning.
fn base_by_layers(
    image_diff_ids: &[String],
    candidates: &[String],
    opts: &RemoteOptions,
) -> Option<(String, usize)> {
    let mut best: Option<(String, usize)> = None;
    for cand in candidates
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
    {
        let opened = ImageRef::parse(cand)
            .map_err(|e| e.to_string())
            .and_then(|r| {
                customs_image::Image::open_remote(&r, opts)
                    .map(|img| (r, img))
                    .map_err(|e| customs_model::error_chain(&e))
            });
        let (r, img) = match opened {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("--base-candidates {cand}: {e}");
                continue;
            }
        };
        let ids: Vec<String> = img.layers.iter().map(|l| l.diff_id.clone()).collect();
        if customs_base::detect::is_built_on(image_diff_ids, &ids)
            && best.as_ref().is_none_or(|(_, n)| ids.len() > *n)
        {
            let pinned = match img.repo_digests.first() {
                Some(d) if r.digest.is_none() => {
                    let digest = d.rsplit('@').next().unwrap_or(d);
                    format!("{}@{digest}", r.typed)
                }
                _ => r.typed.clone(),
            };
            best = Some((pinned, ids.len()));
        }
    }
    best
}

fn severity_counts<'a>(it: impl Iterator<Item = &'a Severity>) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for s in it {
        *m.entry(s.to_string()).or_insert(0) += 1;
    }
    m
}

fn scan_side(r: &customs_report::Report, reference: &str) -> ScanSide {
    let os = r
        .metadata
        .os
        .as_ref()
        .map(|o| format!("{} {}", o.family, o.name));
    let sev = r
        .results
        .iter()
        .flat_map(|x| x.vulnerabilities.iter())
        .map(|v| &v.severity);
    let eosl = r.metadata.os.as_ref().is_some_and(|o| o.eosl);
    let upgrade_to = r.metadata.os.as_ref().filter(|_| eosl).and_then(|o| {
        customs_ospkg::newest_supported(&o.family, customs_ospkg::Date::today())
            .map(|rel| format!("{} {rel}", o.family))
    });
    ScanSide {
        reference: reference.to_string(),
        os,
        eosl,
        upgrade_to,
        vulnerabilities: severity_counts(sev),
    }
}

/// Scan the current and the candidate base of each checked base.
fn scan_bases(g: &GlobalArgs, a: &CheckArgs, opts: &RemoteOptions, reports: &mut [BaseReport]) {
    let path =
        a.db.clone()
            .unwrap_or_else(|| crate::db::default_db_path(g));
    let db = match customs_scan::open_db(&path, false) {
        Ok(d) => Some(d),
        Err(e) => {
            let msg = format!(
                "--scan: {}: {e:#} (run `customs db update`, or pass --db FILE)",
                path.display()
            );
            for r in reports
                .iter_mut()
                .filter(|r| r.status != "error" && r.status != "skipped")
            {
                r.scan = Some(ScanCompare {
                    error: Some(msg.clone()),
                    ..ScanCompare::default()
                });
            }
            None
        }
    };
    let Some(db) = db else { return };
    let scan_opts = customs_scan::ScanOptions {
        scanners: customs_scan::Scanners {
            vuln: true,
            ..Default::default()
        },
        cache_dir: (!a.no_cache).then(|| crate::scan::cache_dir(g)),
        policy: customs_scan::PolicyOptions {
            ignore_files: customs_scan::IgnoreFiles::Files(Vec::new()),
            ..Default::default()
        },
        ..Default::default()
    };
    let scan = |reference: &str| -> Result<customs_report::Report> {
        let r = ImageRef::parse(reference).map_err(|e| anyhow!(e))?;
        let src = customs_scan::ImageSource {
            name: None,
            target: Target::Named(r, vec![ImageSrc::Remote]),
            remote: opts.clone(),
            engines: Default::default(),
        };
        Ok(customs_scan::scan_image(&src, &scan_opts, customs_scan::Db::Open(&db))?.report)
    };
    for rep in reports.iter_mut() {
        if rep.status == "error" || rep.status == "skipped" {
            continue;
        }
        let current_ref = match (&rep.pinned_digest, &rep.current_digest) {
            (Some(_), _) => rep.image.clone(),
            (None, Some(d)) => format!("{}@{d}", rep.image),
            (None, None) => rep.image.clone(),
        };
        let mut cmp = ScanCompare::default();
        let old = match scan(&current_ref) {
            Ok(r) => r,
            Err(e) => {
                cmp.error = Some(format!("scanning {current_ref}: {e:#}"));
                rep.scan = Some(cmp);
                continue;
            }
        };
        cmp.current = scan_side(&old, &current_ref);
        match &rep.candidate {
            None => {
                cmp.remaining = cmp.current.vulnerabilities.clone();
            }
            Some(cand) => match scan(&cand.reference) {
                Ok(new) => {
                    let d = customs_history::diff::diff(&old, &new);
                    let v = &d.vulnerabilities;
                    cmp.candidate = Some(scan_side(&new, &cand.reference));
                    cmp.fixed = severity_counts(v.fixed.iter().map(|e| &e.severity));
                    cmp.introduced = severity_counts(v.new.iter().map(|e| &e.severity));
                    cmp.remaining = severity_counts(v.unchanged.iter().map(|e| &e.severity));
                    let mut ids: Vec<String> =
                        v.fixed.iter().map(|e| e.vulnerability_id.clone()).collect();
                    ids.sort();
                    ids.dedup();
                    cmp.fixed_ids = ids;
                }
                Err(e) => cmp.error = Some(format!("scanning {}: {e:#}", cand.reference)),
            },
        }
        rep.scan = Some(cmp);
    }
}

pub fn update(g: &GlobalArgs, a: &UpdateArgs) -> Result<i32> {
    let c = &a.common;
    let path = match (&c.input, &c.target) {
        (None, Some(t)) if is_dockerfile(t) => t.clone(),
        _ => {
            return Err(anyhow!(
                "customs base update rewrites a Dockerfile; give its path"
            ))
        }
    };
    let opts = remote_options(g, c)?;
    let mut regs = Registries::new(&opts);
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow!("{path}: {e}"))?;
    let checked = check_dockerfile(&path, &text, c, &mut regs).map_err(|e| anyhow!(e))?;
    let mut edits: Vec<customs_base::Edit> = Vec::new();
    let mut reports = Vec::new();
    for (b, mut rep) in checked {
        match edits_for(&b, &rep, a.pin_digest) {
            Ok(e) => {
                // Two bases sharing one ARG must agree on it.
                let mut all = edits.clone();
                all.extend(e.iter().cloned());
                match customs_base::apply(&text, &all) {
                    Ok(_) => edits = all,
                    Err(err) => {
                        rep.status = "error".into();
                        rep.message = format!("not rewritten: {err}");
                    }
                }
            }
            Err(err) => {
                if rep.status == "update" {
                    rep.status = "error".into();
                }
                rep.message = format!("{}; not rewritten: {err}", rep.message);
            }
        }
        reports.push(rep);
    }
    let new = customs_base::apply(&text, &edits).map_err(|e| anyhow!("{path}: {e}"))?;
    let changed = new != text;
    let diff = customs_base::unified_diff(&path, &text, &new);
    if let Some(f) = &a.diff_file {
        crate::scan::write_output(Some(f), diff.as_bytes())?;
    }
    if a.write && changed {
        customs_base::write_atomic(Path::new(&path), &new).map_err(|e| anyhow!("{path}: {e}"))?;
    }
    let out = Output {
        target: &path,
        kind: "dockerfile",
        track: c.track.name(),
        bases: &reports,
        history: None,
        changed: Some(changed),
        diff: Some(&diff),
    };
    emit(c, &out)?;
    Ok(exit_of(&reports, if changed { EXIT_CHANGED } else { 0 }))
}

/// The edits that move `b` to its candidate (and, with `pin`, pin the digest).
fn edits_for(
    b: &Base,
    rep: &BaseReport,
    pin: bool,
) -> std::result::Result<Vec<customs_base::Edit>, String> {
    if rep.status == "error" || rep.status == "skipped" {
        return Ok(Vec::new());
    }
    let (tag, digest) = match (&rep.candidate, &rep.tag, &rep.current_digest) {
        (Some(cand), _, _) => (Some(cand.tag.clone()), Some(cand.digest.clone())),
        (None, t, d) => (t.clone(), d.clone()),
    };
    let mut edits = Vec::new();
    if let (Some(t), true) = (&tag, rep.candidate.is_some()) {
        edits.extend(customs_base::retag(b, t).map_err(|e| e.to_string())?);
    }
    let Some(d) = digest else { return Ok(edits) };
    if b.digest_site.is_some() {
        edits.extend(customs_base::redigest(b, &d).map_err(|e| e.to_string())?);
    } else if pin {
        // Add `@digest` after the tag, written where the tag is.
        let (Some(site), Some(t)) = (&b.tag_site, &tag) else {
            return Err("--pin-digest: the tag is not written in one place".into());
        };
        if b.digest.is_some() {
            return Err("--pin-digest: the digest is not written in one place".into());
        }
        edits.retain(|e| e.site != *site);
        edits.push(customs_base::Edit {
            site: site.clone(),
            new: format!("{t}@{d}"),
        });
    }
    Ok(edits)
}

fn emit(c: &CommonArgs, out: &Output<'_>) -> Result<()> {
    let text = match c.format {
        BaseFormat::Json => {
            let mut s = serde_json::to_string_pretty(out)?;
            s.push('\n');
            s
        }
        BaseFormat::Table => table(out),
        BaseFormat::Markdown => markdown(out),
    };
    crate::scan::write_output(c.output.as_deref(), text.as_bytes())
}

fn counts(m: &BTreeMap<String, usize>) -> String {
    let order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
    let parts: Vec<String> = order
        .iter()
        .filter_map(|k| m.get(*k).filter(|n| **n > 0).map(|n| format!("{k} {n}")))
        .collect();
    if parts.is_empty() {
        "0".into()
    } else {
        format!("{} ({})", m.values().sum::<usize>(), parts.join(", "))
    }
}

fn os_line(s: &ScanSide) -> String {
    let os = s.os.clone().unwrap_or_else(|| "unknown OS".into());
    if s.eosl {
        match &s.upgrade_to {
            Some(u) => format!("{os} (past end of life; {u} is supported)"),
            None => format!("{os} (past end of life)"),
        }
    } else {
        os
    }
}

fn where_of(out: &Output<'_>, r: &BaseReport) -> String {
    match (r.line, &r.stage_name) {
        (Some(l), Some(n)) => format!("{}:{l} ({n})", out.target),
        (Some(l), None) => format!("{}:{l}", out.target),
        _ => out.target.to_string(),
    }
}

fn table(out: &Output<'_>) -> String {
    let mut s = String::new();
    for r in out.bases {
        let image = if r.image.is_empty() {
            "(base)"
        } else {
            &r.image
        };
        s.push_str(&format!(
            "{}  {}  {}  {}\n",
            where_of(out, r),
            image,
            r.status,
            r.message
        ));
        if let Some(sc) = &r.scan {
            if let Some(e) = &sc.error {
                s.push_str(&format!("    scan: {e}\n"));
                continue;
            }
            s.push_str(&format!(
                "    current:   {}: {} vulnerabilities\n",
                os_line(&sc.current),
                counts(&sc.current.vulnerabilities)
            ));
            if let Some(cand) = &sc.candidate {
                s.push_str(&format!(
                    "    candidate: {}: {} vulnerabilities\n",
                    os_line(cand),
                    counts(&cand.vulnerabilities)
                ));
                s.push_str(&format!(
                    "    fixed {}, introduced {}, remaining {}\n",
                    counts(&sc.fixed),
                    counts(&sc.introduced),
                    counts(&sc.remaining)
                ));
            }
        }
    }
    if let Some(h) = out.history {
        if out.bases.iter().all(|b| b.image.is_empty()) && !h.is_empty() {
            s.push_str("first layers (history):\n");
            for l in h {
                s.push_str(&format!("    {l}\n"));
            }
        }
    }
    if let Some(d) = out.diff {
        s.push_str(d);
    }
    escape_control_keep_lines(&s)
}

fn escape_control_keep_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| escape_control(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn markdown(out: &Output<'_>) -> String {
    let md = |s: &str| escape_markdown(s);
    let mut s = format!("## Base images of {}\n\n", md(out.target));
    s.push_str("| Where | Base | Status | Detail |\n|---|---|---|---|\n");
    for r in out.bases {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            md(&where_of(out, r)),
            md(&r.image),
            md(&r.status),
            md(&r.message)
        ));
    }
    let scanned: Vec<&BaseReport> = out.bases.iter().filter(|r| r.scan.is_some()).collect();
    if !scanned.is_empty() {
        s.push_str("\n### What upgrading fixes\n\n");
        s.push_str("| Base | OS now | Candidate OS | Fixed | Introduced | Remaining |\n|---|---|---|---|---|---|\n");
        for r in scanned {
            let Some(sc) = &r.scan else { continue };
            if let Some(e) = &sc.error {
                s.push_str(&format!("| {} | {} | | | | |\n", md(&r.image), md(e)));
                continue;
            }
            let cand = sc
                .candidate
                .as_ref()
                .map(os_line)
                .unwrap_or_else(|| "-".into());
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                md(&r.image),
                md(&os_line(&sc.current)),
                md(&cand),
                md(&counts(&sc.fixed)),
                md(&counts(&sc.introduced)),
                md(&counts(&sc.remaining))
            ));
        }
    }
    if let Some(d) = out.diff.filter(|d| !d.is_empty()) {
        s.push_str("\n```diff\n");
        s.push_str(&escape_control_keep_lines(d).replace("```", "`\u{200b}``"));
        if !d.ends_with('\n') {
            s.push('\n');
        }
        s.push_str("```\n");
    }
    s
}
