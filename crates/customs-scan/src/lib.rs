//! A scan as a library: a source and options in, one [`Report`] out.
//!
//! [`scan_image`] (an archive, a layout, a local engine, a registry), [`scan_dir`]
//! (a project directory or an unpacked root filesystem) and [`scan_config`]
//! (Dockerfiles) build the inventory, run the scanners (vulnerabilities,
//! secrets, misconfigurations, hardening), mask what the secret rules
//! recognise, apply the policy (filters, ignore files, `ModifiedFindings`)
//! and return the final report in a [`Scanned`].
//!
//! Rendering the report, writing it and choosing the exit code are the
//! caller's (`customs_report` renders it, `customs_detect::exit_code` reads
//! it). Nothing here prints or exits: warnings go through `tracing`, errors
//! are returned.
//!
//! ```no_run
//! use customs_scan::{scan_image, Db, ImageSource, ScanOptions, Scanners};
//!
//! let opts = ScanOptions {
//!     scanners: Scanners { secret: true, ..Default::default() },
//!     ..Default::default()
//! };
//! let scanned = scan_image(&ImageSource::file("alpine.tar"), &opts, Db::None)?;
//! println!("{}", customs_report::to_json(&scanned.report));
//! # Ok::<(), anyhow::Error>(())
//! ```

use anyhow::{anyhow, bail, Context, Result};
use customs_inventory::Inventory;
use customs_model::{Severity, Status};
use customs_report::{
    class, LayerMetadata, Metadata, Report, ScanResult, SecretFinding, SCHEMA_VERSION,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use customs_confusion::{Options as ConfusionOptions, PublicCheck};
pub use customs_inventory::EngineOptions;
pub use customs_vulndb::VulnDb;

/// The scanners a scan runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scanners {
    pub vuln: bool,
    pub secret: bool,
    pub misconfig: bool,
    pub hardening: bool,
    /// Dependency confusion (`customs_confusion`).
    pub confusion: bool,
}

impl Scanners {
    /// Scanner names as `--scanners` takes them (`vuln`, `secret`,
    /// `misconfig` or `config`, `hardening`, `confusion`, `none`).
    pub fn parse(list: &[String]) -> std::result::Result<Scanners, String> {
        let mut s = Scanners::default();
        for item in list {
            match item.trim().to_ascii_lowercase().as_str() {
                "none" | "" => {}
                "vuln" => s.vuln = true,
                "secret" => s.secret = true,
                "misconfig" | "config" => s.misconfig = true,
                "hardening" => s.hardening = true,
                "confusion" => s.confusion = true,
                other => {
                    return Err(format!(
                        "unknown scanner '{other}' (expected vuln, secret, misconfig, hardening, confusion or none)"
                    ))
                }
            }
        }
        Ok(s)
    }

    /// The table's sections for these scanners (dependency confusion's
    /// findings are misconfiguration-style results).
    pub fn table(&self) -> customs_report::table::Scanners {
        customs_report::table::Scanners {
            vuln: self.vuln,
            secret: self.secret,
            misconfig: self.misconfig || self.confusion,
            hardening: self.hardening,
        }
    }

    /// The names of the scanners that are on.
    pub fn names(&self) -> Vec<String> {
        [
            (self.vuln, "vuln"),
            (self.secret, "secret"),
            (self.misconfig, "misconfig"),
            (self.hardening, "hardening"),
            (self.confusion, "confusion"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| n.to_string())
        .collect()
    }
}

/// What a directory is: a project (lockfiles, Dockerfiles) or an unpacked
/// root filesystem (installed packages, binaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirMode {
    Fs,
    Rootfs,
}

/// Which ignore files the policy reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreFiles {
    /// Those of `.trivyignore`, `.customsignore.yaml` and `.trivyignore.yaml`
    /// found in the current directory.
    InCurrentDir,
    /// These files (`.trivyignore` line format, or YAML), none if empty.
    Files(Vec<PathBuf>),
}

impl Default for IgnoreFiles {
    fn default() -> Self {
        IgnoreFiles::Files(Vec::new())
    }
}

/// The policy applied to the finished report. Lists are as given on a
/// command line (blank items are skipped; unknown ones are errors).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyOptions {
    /// Report only these severities (`UNKNOWN`, `LOW`, …); empty: all.
    pub severities: Vec<String>,
    /// Drop vulnerabilities that have no fixed version yet.
    pub ignore_unfixed: bool,
    /// Drop vulnerabilities with these statuses (`fixed`, `will_not_fix`, …).
    pub ignore_statuses: Vec<String>,
    /// Package types whose vulnerabilities are reported (`os,library`).
    pub pkg_types: String,
    pub ignore_files: IgnoreFiles,
    /// List suppressed findings (with their statement) under `ModifiedFindings`.
    pub show_suppressed: bool,
    /// Keep only known-exploited vulnerabilities (CISA KEV).
    pub kev_only: bool,
    /// Keep only vulnerabilities whose EPSS score is at least this (0 to 1).
    pub min_epss: Option<f64>,
    /// Order of vulnerabilities: `package` (default), `severity`, `risk`,
    /// `epss`, `cvss`, `kev` (docs/prioritise.md).
    pub sort_by: String,
    /// VEX documents to apply, in order (a later one wins a tie).
    pub vex: Vec<VexInput>,
}

/// Where VEX statements come from (docs/vex.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VexInput {
    /// An OpenVEX, CycloneDX VEX or CSAF VEX file.
    File(PathBuf),
    /// The documents attached to the image in its registry (OCI referrers).
    Registry,
}

impl Default for PolicyOptions {
    fn default() -> Self {
        PolicyOptions {
            severities: Vec::new(),
            ignore_unfixed: false,
            ignore_statuses: Vec::new(),
            pkg_types: "os,library".to_string(),
            ignore_files: IgnoreFiles::default(),
            show_suppressed: false,
            kev_only: false,
            min_epss: None,
            sort_by: "package".to_string(),
            vex: Vec::new(),
        }
    }
}

/// Everything a scan of an image or a directory needs besides its source
/// and its vulnerability database.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanOptions {
    pub scanners: Scanners,
    /// Images only: scanners run on the image config alone (`misconfig`,
    /// `secret`), on top of [`scanners`](Self::scanners).
    pub image_config_scanners: Scanners,
    /// List every package in the report, not only the vulnerable ones
    /// (packages are always listed when the vulnerability scanner is off).
    pub list_all_pkgs: bool,
    /// Secret rules config (trivy-secret.yaml shape); `None`: the built-in rules.
    pub secret_config: Option<PathBuf>,
    /// Also report language packages in files that OS packages installed.
    pub include_os_owned: bool,
    /// Keep development dependencies (dropped by default, as Trivy does).
    pub include_dev_deps: bool,
    /// Whether packages of uncertain use (a go.mod toolchain's `stdlib`)
    /// are reported (Trivy's `--detection-priority`).
    pub detection_priority: customs_inventory::DetectionPriority,
    /// setuid/setgid files accepted by the hardening scanner.
    pub setuid_allow: Vec<String>,
    /// Image age (days since `created`) past which a rebuild is advised.
    pub max_image_age_days: u64,
    /// The per-layer cache (images only); `None`: no cache.
    pub cache_dir: Option<PathBuf>,
    /// A Redis URL for a per-layer cache shared by many processes (a
    /// fleet of servers); layer results go there instead of `cache_dir`.
    pub cache_redis: Option<String>,
    /// Images only: refuse an image whose layers add up to more bytes.
    pub max_image_bytes: Option<u64>,
    /// The dependency-confusion scanner's options (its online name check).
    pub confusion: ConfusionOptions,
    pub policy: PolicyOptions,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            scanners: Scanners::default(),
            image_config_scanners: Scanners::default(),
            list_all_pkgs: false,
            secret_config: None,
            include_os_owned: false,
            include_dev_deps: false,
            detection_priority: customs_inventory::DetectionPriority::Precise,
            setuid_allow: Vec::new(),
            max_image_age_days: 30,
            cache_dir: None,
            cache_redis: None,
            max_image_bytes: None,
            confusion: customs_confusion::Options::default(),
            policy: PolicyOptions::default(),
        }
    }
}

/// The vulnerability database of a scan. It is used only when the `vuln`
/// scanner runs; without one, packages get no vulnerabilities.
pub enum Db<'a> {
    None,
    /// A database already open (a server keeps one for every scan).
    Open(&'a VulnDb),
    /// Opened when the scan needs it: after the source was opened and
    /// analyzed, so an input that cannot be read is reported as such before
    /// anything is done about the database.
    OnDemand(Box<dyn FnOnce() -> Result<VulnDb> + 'a>),
}

/// A database a scan uses: the caller's, or one it opened for the scan.
enum Held<'a> {
    Borrowed(&'a VulnDb),
    Owned(VulnDb),
}

impl Held<'_> {
    fn get(&self) -> &VulnDb {
        match self {
            Held::Borrowed(d) => d,
            Held::Owned(d) => d,
        }
    }
}

impl<'a> Db<'a> {
    /// The database, when the scan `wants` one (opening it on demand).
    fn open_if(self, wants: bool) -> Result<Option<Held<'a>>> {
        Ok(match self {
            Db::OnDemand(open) if wants => Some(Held::Owned(open()?)),
            Db::Open(d) if wants => Some(Held::Borrowed(d)),
            _ => None,
        })
    }
}

impl<'a> From<Option<&'a VulnDb>> for Db<'a> {
    fn from(db: Option<&'a VulnDb>) -> Self {
        match db {
            Some(d) => Db::Open(d),
            None => Db::None,
        }
    }
}

/// A finished scan.
#[derive(Debug)]
pub struct Scanned {
    /// The report, masked and with the policy applied.
    pub report: Report,
    /// The scanners whose findings the report shows (the table's sections).
    pub scanners: Scanners,
    /// What the policy removed and kept.
    pub policy: customs_detect::Outcome,
    /// What the VEX statements suppressed and annotated.
    pub vex: customs_detect::vex::VexOutcome,
    /// [`scan_config`] only: the files that could not be checked (the
    /// report has the others).
    pub errors: Vec<customs_misconfig::ParseError>,
    /// What the scan of an image read and what the layer cache saved.
    pub stats: ScanStats,
}

/// The work an image scan did: layers analyzed or taken from the cache,
/// and what it downloaded from a registry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanStats {
    pub layers: usize,
    pub analyzed: usize,
    pub from_cache: usize,
    /// Bytes of blobs downloaded (registry images only).
    pub bytes_downloaded: u64,
    /// Blobs fetched (registry images only).
    pub blobs_fetched: u64,
}

impl Scanned {
    /// Whether the scanned OS is past its end of life.
    pub fn eosl(&self) -> bool {
        self.report.metadata.os.as_ref().is_some_and(|os| os.eosl)
    }
}

/// Where an image comes from: a file, or a name looked up in the local
/// engines and registries (`customs_image::parse_target`).
#[derive(Debug, Clone)]
pub struct ImageSource {
    pub target: customs_image::Target,
    /// The report's `ArtifactName` when it is not the path or the name as
    /// typed (a server names an uploaded archive as its client did).
    pub name: Option<String>,
    pub remote: customs_image::RemoteOptions,
    pub engines: EngineOptions,
}

impl ImageSource {
    /// A `docker save` archive (plain, gzip, zstd) or an OCI layout,
    /// optionally with `:TAG` or `@DIGEST`.
    pub fn file(path: &str) -> ImageSource {
        ImageSource {
            target: customs_image::Target::File(path.to_string()),
            name: None,
            remote: customs_image::RemoteOptions::default(),
            engines: Default::default(),
        }
    }

    /// The report's `ArtifactName`: the path or the name as typed.
    pub fn artifact_name(&self) -> &str {
        if let Some(n) = &self.name {
            return n;
        }
        match &self.target {
            customs_image::Target::File(p) => p,
            customs_image::Target::Named(r, _) => &r.typed,
        }
    }
}

/// Scan a container image from a file, an engine or a registry; the name
/// as typed names the artifact in the report.
pub fn scan_image(src: &ImageSource, opts: &ScanOptions, db: Db<'_>) -> Result<Scanned> {
    let prepared = prepare(&opts.policy)?;
    let sc = opts.scanners;
    let cfg_sc = opts.image_config_scanners;
    let inv_opts = inventory_options(opts, false)?;
    let input = src.artifact_name();
    let (img, inv) = open_and_analyze(src, &inv_opts)?;
    for w in &inv.warnings {
        tracing::warn!("{w}");
    }
    let (bytes_downloaded, blobs_fetched) = img.transfer_stats().unwrap_or((0, 0));
    let stats = ScanStats {
        layers: inv.stats.layers,
        analyzed: inv.stats.analyzed,
        from_cache: inv.stats.from_cache,
        bytes_downloaded,
        blobs_fetched,
    };
    let held = db.open_if(sc.vuln)?;
    let db = held.as_ref().map(|h| h.get());
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        created_at: now_rfc3339(),
        artifact_name: input.to_string(),
        artifact_type: "container_image".into(),
        metadata: Metadata {
            os: inv.os.clone(),
            image_id: img.id.clone(),
            diff_ids: img.layers.iter().map(|l| l.diff_id.clone()).collect(),
            repo_tags: img.repo_tags.clone(),
            repo_digests: img.repo_digests.clone(),
            image_config: image_config_json(&img),
            layers: img
                .layers
                .iter()
                .map(|l| LayerMetadata {
                    digest: l.digest.clone(),
                    diff_id: l.diff_id.clone(),
                    created_by: l.created_by.clone(),
                })
                .collect(),
        },
        results: Vec::new(),
    };
    package_results(&mut report, &inv, opts.list_all_pkgs || !sc.vuln);
    if let Some(db) = db {
        warn_eol(&inv);
        vuln_results(&mut report, &inv, db)?;
    }
    secret_results(&mut report, &inv, true);
    if sc.secret || cfg_sc.secret {
        image_config_secrets(&mut report, &img, opts)?;
    }
    if sc.misconfig || cfg_sc.misconfig {
        let input = customs_misconfig::ImageConfigInput::from_oci_config_json(&img.config_raw)
            .map_err(|e| anyhow!("{}: image config: {e}", img.path.display()))?;
        let o = customs_misconfig::ImageConfigOptions {
            max_age_days: opts.max_image_age_days,
            now: std::time::SystemTime::now(),
        };
        let r = customs_misconfig::scan_image_config_with(&input, &o);
        report.results.push(config_result(r));
    }
    if sc.hardening {
        let cfg = img.config.config.clone().unwrap_or_default();
        hardening_result(&mut report, &inv, opts, cfg.user, cfg.entrypoint, cfg.cmd);
    }
    if sc.confusion {
        let env = img
            .config
            .config
            .as_ref()
            .and_then(|c| c.env.as_ref())
            .map(|e| e.iter().filter_map(|kv| split_env(kv)).collect())
            .unwrap_or_default();
        confusion_results(&mut report, &inv, env, &opts.confusion)?;
    }
    let shown = Scanners {
        misconfig: sc.misconfig || cfg_sc.misconfig,
        secret: sc.secret || cfg_sc.secret,
        ..sc
    };
    let registry_vex = if opts.policy.vex.contains(&VexInput::Registry) {
        registry_vex(src, &report)?
    } else {
        Vec::new()
    };
    let mut scanned = finish(report, prepared, shown, Vec::new(), registry_vex)?;
    scanned.stats = stats;
    Ok(scanned)
}

/// Fill the package results of a report made elsewhere with their
/// vulnerabilities: a client that analyzed an image itself sends its
/// inventory (a report listing `Packages`, with `Metadata.OS`), and the
/// server, which holds the database, detects. Vulnerabilities already in
/// the report are replaced.
pub fn detect_report(report: &mut Report, db: &VulnDb) -> Result<()> {
    let mut inv = Inventory {
        os: report.metadata.os.clone(),
        ..Default::default()
    };
    for r in &report.results {
        if r.class == class::OS_PKGS {
            inv.os_type = r.kind.clone();
            inv.os_packages = r.packages.clone();
        } else if r.class == class::LANG_PKGS {
            inv.applications.push(customs_inventory::Application {
                lang_type: r.kind.clone(),
                target: r.target.clone(),
                packages: r.packages.clone(),
            });
        }
    }
    vuln_results(report, &inv, db)
}

/// Apply the policy and the VEX statements of `opts` to a report made
/// elsewhere (a server's, in client mode), as [`scan_image`] applies them
/// to its own; `src` is the image, for `--vex oci`.
pub fn finish_report(
    report: Report,
    src: Option<&ImageSource>,
    opts: &ScanOptions,
) -> Result<Scanned> {
    let prepared = prepare(&opts.policy)?;
    let (sc, cfg_sc) = (opts.scanners, opts.image_config_scanners);
    let shown = Scanners {
        misconfig: sc.misconfig || cfg_sc.misconfig,
        secret: sc.secret || cfg_sc.secret,
        ..sc
    };
    let registry_vex = match src {
        Some(src) if opts.policy.vex.contains(&VexInput::Registry) => registry_vex(src, &report)?,
        _ => Vec::new(),
    };
    finish(report, prepared, shown, Vec::new(), registry_vex)
}

/// The VEX documents attached to the scanned image in its registry: looked
/// up by the digest the name was given with, else by the image's registry
/// digest (`RepoDigests`), with the credentials of the scan.
fn registry_vex(
    src: &ImageSource,
    report: &Report,
) -> Result<Vec<customs_detect::vex::VexDocument>> {
    let named = match &src.target {
        customs_image::Target::Named(r, _) if r.digest.is_some() => Some(r.clone()),
        _ => None,
    };
    let r = match named {
        Some(r) => r,
        None => {
            let Some(d) = report.metadata.repo_digests.first() else {
                bail!(
                    "--vex oci: {} has no registry digest (its RepoDigests is empty); give the VEX document with --vex FILE",
                    report.artifact_name
                );
            };
            customs_image::ImageRef::parse(d).map_err(|e| anyhow!("--vex oci: {d}: {e}"))?
        }
    };
    let docs = customs_image::registry::referrers::discover_vex(&r, &src.remote).map_err(|e| {
        anyhow!(
            "--vex oci: {}: {}",
            r.qualified(),
            customs_model::error_chain(&e)
        )
    })?;
    tracing::debug!(
        "--vex oci: {} VEX document(s) attached to {}",
        docs.len(),
        r.qualified()
    );
    docs.iter()
        .map(|d| customs_detect::vex::parse(&d.bytes, &d.source).map_err(|e| anyhow!("{e}")))
        .collect()
}

/// The image and its inventory, from whichever source has it.
fn open_and_analyze(
    src: &ImageSource,
    inv: &customs_inventory::Options,
) -> Result<(customs_image::Image, Inventory)> {
    let t = std::time::Instant::now();
    let opened = customs_inventory::open_and_analyze(&src.target, &src.remote, &src.engines, inv)?;
    let (img, inv) = (opened.image, opened.inventory);
    tracing::debug!(
        "{} from {}: {} layers",
        src.artifact_name(),
        opened.source,
        img.layers.len()
    );
    tracing::debug!(
        "inventory in {:?}: {} layers, {} analyzed, {} from cache",
        t.elapsed(),
        inv.stats.layers,
        inv.stats.analyzed,
        inv.stats.from_cache
    );
    Ok((img, inv))
}

/// Scan a directory: a project ([`DirMode::Fs`]: lockfiles, secrets,
/// Dockerfiles) or an unpacked root filesystem ([`DirMode::Rootfs`]:
/// installed packages, binaries). Targets are relative to `path`.
pub fn scan_dir(path: &Path, mode: DirMode, opts: &ScanOptions, db: Db<'_>) -> Result<Scanned> {
    let sc = opts.scanners;
    if !path.exists() {
        bail!("{}: no such file or directory", path.display());
    }
    no_registry_vex(&opts.policy)?;
    let prepared = prepare(&opts.policy)?;
    let held = db.open_if(sc.vuln)?;
    let db = held.as_ref().map(|h| h.get());
    let mut inv_opts = inventory_options(opts, mode == DirMode::Fs)?;
    inv_opts.cache_dir = None; // a directory has no diff ID to key a cache on
    inv_opts.cache_redis = None;
    let inv = customs_inventory::analyze_dir(path, &inv_opts, mode == DirMode::Rootfs)?;
    for w in &inv.warnings {
        tracing::warn!("{w}");
    }
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        created_at: now_rfc3339(),
        artifact_name: path.display().to_string(),
        artifact_type: "filesystem".into(),
        metadata: Metadata {
            os: inv.os.clone(),
            ..Default::default()
        },
        results: Vec::new(),
    };
    package_results(&mut report, &inv, opts.list_all_pkgs || !sc.vuln);
    if let Some(db) = db {
        warn_eol(&inv);
        vuln_results(&mut report, &inv, db)?;
    }
    secret_results(&mut report, &inv, false);
    if sc.misconfig {
        for r in customs_misconfig::scan_config_path(path) {
            match r {
                Ok(fr) => report.results.push(config_result(fr)),
                Err(e) => tracing::warn!("{e}"),
            }
        }
    }
    if sc.hardening {
        hardening_result(&mut report, &inv, opts, None, None, None);
    }
    if sc.confusion {
        confusion_results(&mut report, &inv, Vec::new(), &opts.confusion)?;
    }
    finish(report, prepared, sc, Vec::new(), Vec::new())
}

/// Check Dockerfiles: `path` is one, or a directory searched for
/// `Dockerfile`, `Containerfile`, `*.dockerfile`. The files that cannot be
/// parsed are in [`Scanned::errors`]; targets are paths as `path` names them.
pub fn scan_config(path: &Path, policy: &PolicyOptions) -> Result<Scanned> {
    if !path.exists() {
        bail!("{}: no such file or directory", path.display());
    }
    no_registry_vex(policy)?;
    let prepared = prepare(policy)?;
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        created_at: now_rfc3339(),
        artifact_name: path.display().to_string(),
        artifact_type: "filesystem".into(),
        ..Default::default()
    };
    let mut errors = Vec::new();
    for r in customs_misconfig::scan_config_path(path) {
        match r {
            Ok(fr) => report.results.push(config_result(fr)),
            Err(e) => errors.push(e),
        }
    }
    let sc = Scanners {
        misconfig: true,
        ..Default::default()
    };
    finish(report, prepared, sc, errors, Vec::new())
}

/// Open the vulnerability database at `path` (which must exist) and check
/// its metadata. With `warn_if_due`, a database past its `next_update` is
/// used with a warning naming the command that refreshes it; nothing here
/// touches the network.
pub fn open_db(path: &Path, warn_if_due: bool) -> Result<VulnDb> {
    let db = open_db_file(path)?;
    let meta = db
        .metadata()
        .with_context(|| format!("{}: vulnerability database metadata", path.display()))?;
    tracing::debug!(
        "vulnerability database {} (schema {}, built {})",
        path.display(),
        meta.schema_version,
        meta.built_at
    );
    if let Some(next) = meta.next_update.as_deref() {
        if warn_if_due && next < now_rfc3339().as_str() {
            tracing::warn!(
                "{}: the vulnerability database was due for an update at {next}; run `customs db update` (or pass --skip-db-update)",
                path.display()
            );
        }
    }
    Ok(db)
}

/// Open the vulnerability database file at `path`, saying how to make one
/// when there is none.
pub fn open_db_file(path: &Path) -> Result<VulnDb> {
    if !path.exists() {
        bail!(
            "{}: no vulnerability database; build one with `customs db build --from DIR` (offline, from feed files) or `customs db update` (online)",
            path.display()
        );
    }
    Ok(VulnDb::open(path)?)
}

/// Current time as RFC 3339 (UTC), without a date crate.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let d = customs_ospkg::Date::from_unix(secs);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{d}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn secret_scanner(opts: &ScanOptions) -> Result<(customs_secret::SecretScanner, String)> {
    match &opts.secret_config {
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("{}", p.display()))?;
            let sc = customs_secret::SecretScanner::from_config_file(p)?;
            let fp = format!("config:{:x}", fxhash(&bytes));
            Ok((sc, fp))
        }
        None => {
            // Key the layer cache on the rules themselves, not only on the
            // version: a rule fixed during development invalidates old results.
            let sc = customs_secret::SecretScanner::builtin();
            let rules = format!("{:?}", sc.rules());
            let fp = format!(
                "builtin:{}:{:x}",
                env!("CARGO_PKG_VERSION"),
                fxhash(rules.as_bytes())
            );
            Ok((sc, fp))
        }
    }
}

/// A small, stable hash for cache keys (FNV-1a).
fn fxhash(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

const HARDENING_FILES: customs_inventory::FileWant = customs_inventory::FileWant {
    name: "hardening",
    wanted: customs_misconfig::hardening_wanted,
};

const CONFUSION_FILES: customs_inventory::FileWant = customs_inventory::FileWant {
    name: customs_confusion::WANTED_ID,
    wanted: customs_confusion::wanted,
};

fn inventory_options(opts: &ScanOptions, lockfiles: bool) -> Result<customs_inventory::Options> {
    let sc = opts.scanners;
    let (secrets, secret_fingerprint) = if sc.secret {
        let (s, f) = secret_scanner(opts)?;
        (Some(s), f)
    } else {
        (None, String::new())
    };
    Ok(customs_inventory::Options {
        os: true,
        lang: true,
        lockfiles,
        secrets,
        secret_fingerprint,
        keep_files: sc.hardening,
        wanted_files: [
            (sc.hardening, HARDENING_FILES),
            (sc.confusion, CONFUSION_FILES),
        ]
        .into_iter()
        .filter_map(|(on, w)| on.then_some(w))
        .collect(),
        hardening_entries: sc.hardening.then_some(customs_inventory::EntryFilter {
            keep: hardening_keeps,
            version: customs_misconfig::HARDENING_KEEPS_VERSION,
        }),
        include_os_owned: opts.include_os_owned,
        cache_dir: opts.cache_dir.clone(),
        cache_redis: opts.cache_redis.clone(),
        max_image_bytes: opts.max_image_bytes,
        today_unix_secs: None,
        include_dev_deps: opts.include_dev_deps,
        detection_priority: opts.detection_priority,
    })
}

/// Fill each package result with its vulnerabilities.
fn vuln_results(report: &mut Report, inv: &Inventory, db: &VulnDb) -> Result<()> {
    let t = std::time::Instant::now();
    for r in report.results.iter_mut() {
        let (found, ecosystem, what) = if r.class == class::OS_PKGS {
            let Some(os) = &inv.os else { continue };
            if inv.os_packages.is_empty() {
                continue;
            }
            (
                customs_detect::detect_os(db, os, &inv.os_packages),
                customs_vulndb::os_ecosystem(os),
                format!("{} {}", os.family, os.name),
            )
        } else if r.class == class::LANG_PKGS {
            let Some(app) = inv.applications.iter().find(|a| a.target == r.target) else {
                continue;
            };
            if app.packages.is_empty() {
                continue;
            }
            (
                customs_detect::detect_lang(db, &app.lang_type, &app.packages),
                customs_model::osv_ecosystem(&app.lang_type).map(str::to_string),
                format!("{} packages", app.lang_type),
            )
        } else {
            continue;
        };
        match found {
            Ok(v) => {
                r.vulnerabilities = v;
                if let Some(eco) = ecosystem {
                    if r.vulnerabilities.is_empty() && !db.has_advisories(&eco)? {
                        r.missing_data = Some(missing_data(db, &r.target, eco, &what));
                    }
                }
            }
            Err(e) if e.is_unsupported() => {
                tracing::warn!("{}: {e}; its vulnerabilities are unknown", r.target);
                r.missing_data = Some(customs_report::MissingData {
                    ecosystem: String::new(),
                    reason: format!("no advisory feed covers {what}"),
                });
            }
            Err(e) => return Err(anyhow!("{}: {e}", r.target)),
        }
    }
    tracing::debug!("vulnerability detection in {:?}", t.elapsed());
    Ok(())
}

/// The database has no advisories at all for `ecosystem`: say so once, in
/// one line naming the release and the database, and record it in the
/// result (unknown is not clean).
fn missing_data(
    db: &VulnDb,
    target: &str,
    ecosystem: String,
    what: &str,
) -> customs_report::MissingData {
    let reason = format!(
        "the database has no advisories for {what} ({ecosystem}); its vulnerabilities are unknown, not none"
    );
    tracing::warn!(
        "{target}: {} has no advisories for {what} ({ecosystem}): vulnerabilities unknown, not none; `customs db update` or a database built from a feed that covers it fills it",
        db.path().display()
    );
    customs_report::MissingData { ecosystem, reason }
}

fn warn_eol(inv: &Inventory) {
    if let Some(os) = &inv.os {
        if os.eosl {
            tracing::warn!(
                "{} {}: this OS version is past its end of life; its packages get no more security fixes, so the findings may be incomplete",
                os.family,
                os.name
            );
        }
    }
}

fn os_target(report: &Report, inv: &Inventory) -> String {
    match &inv.os {
        Some(os) => format!("{} ({} {})", report.artifact_name, os.family, os.name),
        None => report.artifact_name.clone(),
    }
}

fn package_results(report: &mut Report, inv: &Inventory, with_packages: bool) {
    if inv.os.is_some() || !inv.os_packages.is_empty() {
        let mut r = ScanResult::new(os_target(report, inv), class::OS_PKGS, inv.os_type.clone());
        if with_packages {
            r.packages = inv.os_packages.clone();
        }
        report.results.push(r);
    }
    for app in &inv.applications {
        let mut r = ScanResult::new(app.target.clone(), class::LANG_PKGS, app.lang_type.clone());
        if with_packages {
            r.packages = app.packages.clone();
        }
        report.results.push(r);
    }
}

/// The config for `Metadata.ImageConfig`, keeping what a crafted config lets
/// us keep, and saying what was left out.
fn image_config_json(img: &customs_image::Image) -> Option<serde_json::Value> {
    let (v, dropped) = customs_image::config::config_json(&img.config_raw);
    for d in &dropped {
        tracing::warn!(
            "{}: image config: {d}; left out of Metadata.ImageConfig",
            img.path.display()
        );
    }
    v
}

/// One secret result per file. Image paths are absolute (`/app/.env`), as
/// Trivy writes them; directory scans keep paths relative to the root.
fn secret_results(report: &mut Report, inv: &Inventory, absolute: bool) {
    // Per file: the findings, and the matches the scanner's limits dropped.
    let mut by_path: BTreeMap<&str, (Vec<SecretFinding>, u64)> = BTreeMap::new();
    for s in &inv.secrets {
        let entry = by_path.entry(s.path.as_str()).or_default();
        entry.1 += s.dropped;
        entry.0.push(s.finding.clone());
    }
    for (path, (secrets, dropped)) in by_path {
        let target = if absolute && !path.starts_with('/') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        if dropped > 0 {
            tracing::warn!(
                "{}",
                customs_secret::limit_warning(&target, secrets.len(), dropped)
            );
        }
        let mut r = ScanResult::new(target, class::SECRET, "text");
        r.secrets = secrets;
        r.secrets_dropped = dropped;
        report.results.push(r);
    }
}

/// Secrets passed as build args or env end up in the config: scan `Env`,
/// the history's `created_by` and the labels.
fn image_config_secrets(
    report: &mut Report,
    img: &customs_image::Image,
    opts: &ScanOptions,
) -> Result<()> {
    let (sc, _) = secret_scanner(opts)?;
    let mut text = String::new();
    if let Some(c) = &img.config.config {
        for e in c.env.iter().flatten() {
            text.push_str(e);
            text.push('\n');
        }
        for (k, v) in c.labels.iter().flatten() {
            text.push_str(&format!("{k}={v}\n"));
        }
    }
    for h in &img.config.history {
        if let Some(c) = &h.created_by {
            text.push_str(c);
            text.push('\n');
        }
    }
    let found = sc.scan_text("image config", text.as_bytes());
    if !found.is_empty() {
        // The report repeats the config under Metadata.ImageConfig: mask
        // the secrets there too, so they are printed in clear nowhere.
        if let Some(cfg) = report.metadata.image_config.as_mut() {
            mask_strings(cfg, &sc);
        }
        let mut r = ScanResult::new("image config", class::SECRET, "image-config");
        r.secrets_dropped = found.dropped;
        r.secrets = found.findings;
        report.results.push(r);
    }
    Ok(())
}

/// A misconfiguration scanner's result as a report result (class `config`).
fn config_result(fr: customs_misconfig::FileResult) -> ScanResult {
    let mut r = ScanResult::new(fr.target, &fr.class, fr.kind);
    r.misconf_summary = Some(fr.misconf_summary);
    r.misconfigurations = fr.misconfigurations;
    r
}

/// Misconfiguration findings quote the offending lines (`ENV TOKEN=…`):
/// mask what the secret rules recognise there, as secret findings are.
fn mask_misconfig_code(report: &mut Report) {
    let has_code = report
        .results
        .iter()
        .flat_map(|r| &r.misconfigurations)
        .any(|m| m.is_failure());
    if !has_code {
        return;
    }
    let sc = customs_secret::SecretScanner::builtin();
    for m in report
        .results
        .iter_mut()
        .flat_map(|r| r.misconfigurations.iter_mut())
    {
        if let Some(x) = sc.mask_text("misconfiguration", &m.message) {
            m.message = x;
        }
        if let Some(code) = m.cause_metadata.code.as_mut() {
            for l in code.lines.iter_mut() {
                if let Some(x) = sc.mask_text("misconfiguration", &l.content) {
                    l.content = x;
                }
                if let Some(x) = sc.mask_text("misconfiguration", &l.highlighted) {
                    l.highlighted = x;
                }
            }
        }
    }
}

fn mask_strings(v: &mut serde_json::Value, sc: &customs_secret::SecretScanner) {
    match v {
        serde_json::Value::String(s) => {
            if let Some(m) = sc.mask_text("image config", s) {
                *s = m;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|x| mask_strings(x, sc)),
        serde_json::Value::Object(o) => {
            // Label keys can hold secrets too; keys are rare, rebuild the map.
            let old = std::mem::take(o);
            for (k, mut x) in old {
                mask_strings(&mut x, sc);
                let k = sc.mask_text("image config", &k).unwrap_or(k);
                o.insert(k, x);
            }
        }
        _ => {}
    }
}

/// The walker's entry kind as the hardening checks name it.
fn fs_kind(k: customs_image::walk::EntryKind) -> customs_misconfig::EntryKind {
    use customs_image::walk::EntryKind as W;
    use customs_misconfig::EntryKind as K;
    match k {
        W::File => K::File,
        W::Dir => K::Dir,
        W::Symlink => K::Symlink,
        W::Hardlink => K::Hardlink,
        W::Other => K::Other,
    }
}

/// Whether a hardening check looks at this entry (see
/// `customs_misconfig::hardening_keeps`).
fn hardening_keeps(path: &str, kind: customs_image::walk::EntryKind, mode: u32) -> bool {
    customs_misconfig::hardening_keeps(path, fs_kind(kind), mode)
}

fn hardening_result(
    report: &mut Report,
    inv: &Inventory,
    opts: &ScanOptions,
    user: Option<String>,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
) {
    use customs_misconfig::{FsEntry, FsSnapshot, HardeningOptions};
    let entries = inv
        .files
        .iter()
        .map(|(f, _)| FsEntry {
            path: f.path.clone(),
            kind: fs_kind(f.kind),
            mode: f.mode,
            uid: f.uid,
            gid: f.gid,
            size: f.size,
            link_target: f.link_target.clone(),
        })
        .collect();
    let snap = FsSnapshot {
        entries,
        contents: inv
            .extra_files
            .iter()
            .filter(|(p, _)| customs_misconfig::hardening_wanted(p))
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect(),
        user,
        entrypoint: entrypoint.unwrap_or_default(),
        cmd: cmd.unwrap_or_default(),
    };
    let o = HardeningOptions {
        setuid_allow: opts.setuid_allow.clone(),
    };
    let r = customs_misconfig::scan_hardening(&snap, &o);
    report.results.push(config_result(r));
}

/// `KEY=VALUE` of an image config's `Env`; an entry without `=` names no
/// value and is left out.
fn split_env(kv: &str) -> Option<(String, String)> {
    let (k, v) = kv.split_once('=')?;
    Some((k.to_string(), v.to_string()))
}

/// The dependency-confusion findings: one `config` result per file read
/// (paths as the package results name them), and one for the image
/// environment (`image config`).
fn confusion_results(
    report: &mut Report,
    inv: &Inventory,
    env: Vec<(String, String)>,
    opts: &customs_confusion::Options,
) -> Result<()> {
    let t = std::time::Instant::now();
    let input = customs_confusion::Input {
        files: inv
            .extra_files
            .iter()
            .filter(|(p, c)| {
                customs_confusion::wanted(p) && c.len() as u64 <= customs_confusion::MAX_FILE
            })
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect(),
        env,
    };
    let n = input.files.len();
    let found = customs_confusion::scan(&input, opts).map_err(|e| anyhow!("{e}"))?;
    for fr in found {
        let target = if fr.path.is_empty() {
            "image config".to_string()
        } else {
            fr.path
        };
        let kind = if fr.kind.is_empty() {
            customs_confusion::KIND.to_string()
        } else {
            fr.kind
        };
        let mut r = ScanResult::new(target, class::CONFIG, kind);
        r.misconf_summary = Some(customs_model::finding::MisconfSummary {
            successes: 0,
            failures: u32::try_from(fr.findings.len()).unwrap_or(u32::MAX),
        });
        r.misconfigurations = fr.findings;
        report.results.push(r);
    }
    tracing::debug!("dependency confusion: {n} files in {:?}", t.elapsed());
    Ok(())
}

fn policy(p: &PolicyOptions) -> Result<customs_detect::Policy> {
    let ignore_statuses = p
        .ignore_statuses
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            Status::parse(s.trim()).ok_or_else(|| {
                anyhow!("--ignore-status: unknown status '{s}' (expected unknown, affected, fixed, under_investigation, will_not_fix, fix_deferred, end_of_life)")
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let pkg_types =
        customs_detect::PkgTypes::parse(&p.pkg_types).map_err(|e| anyhow!("--pkg-types: {e}"))?;
    let files: Vec<PathBuf> = match &p.ignore_files {
        IgnoreFiles::InCurrentDir => [".trivyignore", ".customsignore.yaml", ".trivyignore.yaml"]
            .iter()
            .map(PathBuf::from)
            .filter(|f| f.is_file())
            .collect(),
        IgnoreFiles::Files(files) => files.clone(),
    };
    let mut ignores = Vec::new();
    for f in &files {
        tracing::debug!("ignore file {}", f.display());
        ignores.push(customs_detect::IgnoreRules::load(f).map_err(|e| anyhow!("{e}"))?);
    }
    Ok(customs_detect::Policy {
        severities: parse_severities(&p.severities)?,
        ignore_unfixed: p.ignore_unfixed,
        ignore_statuses,
        pkg_types,
        ignores,
        show_suppressed: p.show_suppressed,
        today: customs_detect::Date::today(),
        kev_only: p.kev_only,
        min_epss: match p.min_epss {
            Some(m) if !(0.0..=1.0).contains(&m) => {
                bail!("--min-epss: {m} is not a probability (expected a number from 0 to 1)")
            }
            m => m,
        },
        sort_by: customs_detect::SortBy::parse(&p.sort_by)
            .map_err(|e| anyhow!("--sort-by: {e}"))?,
    })
}

fn parse_severities(list: &[String]) -> Result<Vec<Severity>> {
    list.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            Severity::parse(s).ok_or_else(|| {
                anyhow!("--severity: unknown severity '{s}' (expected UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL)")
            })
        })
        .collect()
}

/// `--vex oci` names the documents attached to an image in its registry: a
/// directory has none.
fn no_registry_vex(p: &PolicyOptions) -> Result<()> {
    if p.vex.contains(&VexInput::Registry) {
        bail!("--vex oci applies to images (the VEX documents attached to an image in its registry); give a directory's VEX document with --vex FILE");
    }
    Ok(())
}

/// The policy and the VEX files of a scan, read before the scan starts, so
/// that a bad flag, ignore file or VEX file fails at once.
struct Prepared {
    policy: customs_detect::Policy,
    vex: Vec<customs_detect::vex::VexDocument>,
    show_suppressed: bool,
}

fn prepare(p: &PolicyOptions) -> Result<Prepared> {
    let policy = self::policy(p)?;
    let mut vex = Vec::new();
    for v in &p.vex {
        if let VexInput::File(f) = v {
            vex.push(customs_detect::vex::load(f).map_err(|e| anyhow!("{e}"))?);
        }
    }
    Ok(Prepared {
        policy,
        vex,
        show_suppressed: p.show_suppressed,
    })
}

/// Mask, then apply the policy, then the VEX statements (files first, in
/// order, then the registry's).
fn finish(
    mut report: Report,
    prepared: Prepared,
    scanners: Scanners,
    errors: Vec<customs_misconfig::ParseError>,
    registry_vex: Vec<customs_detect::vex::VexDocument>,
) -> Result<Scanned> {
    mask_misconfig_code(&mut report);
    let outcome = customs_detect::apply(&mut report, &prepared.policy);
    tracing::debug!("policy: {outcome:?}");
    let mut docs = prepared.vex;
    docs.extend(registry_vex);
    let vex = if docs.is_empty() {
        Default::default()
    } else {
        let set = customs_detect::vex::VexSet::new(docs);
        let o = customs_detect::vex::apply_vex(&mut report, &set, prepared.show_suppressed);
        tracing::debug!("vex: {o:?}");
        o
    };
    Ok(Scanned {
        report,
        scanners,
        policy: outcome,
        vex,
        errors,
        stats: ScanStats::default(),
    })
}
