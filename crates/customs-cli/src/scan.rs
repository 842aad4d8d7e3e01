//! The scan commands: build the inventory, run the scanners, assemble one
//! report, filter it, render it, and decide the exit code.

use crate::args::{
    ConfigArgs, DirArgs, Format, GlobalArgs, ImageArgs, OutputArgs, PolicyArgs, ScanArgs, Scanners,
};
use anyhow::{anyhow, bail, Context, Result};
use customs_inventory::{Inventory, Options};
use customs_model::{Severity, Status};
use customs_report::{
    class, table, LayerMetadata, Metadata, Report, ScanResult, SecretFinding, SCHEMA_VERSION,
};
use customs_vulndb::VulnDb;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirMode {
    Fs,
    Rootfs,
}

pub fn cache_dir(g: &GlobalArgs) -> PathBuf {
    g.cache_dir.clone().unwrap_or_else(|| {
        dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("customs")
    })
}

/// Serialize one Trivy-shaped type and read it back as another (the scanner
/// crates and the report share Trivy's field names).
fn retype<T: serde::Serialize, U: serde::de::DeserializeOwned>(t: &T) -> Result<U> {
    let v = serde_json::to_value(t)?;
    Ok(serde_json::from_value(v)?)
}

fn secret_scanner(a: &ScanArgs) -> Result<(customs_secret::SecretScanner, String)> {
    match &a.secret_config {
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

fn options(g: &GlobalArgs, a: &ScanArgs, sc: &Scanners, lockfiles: bool) -> Result<Options> {
    let (secrets, secret_fingerprint) = if sc.secret {
        let (s, f) = secret_scanner(a)?;
        (Some(s), f)
    } else {
        (None, String::new())
    };
    Ok(Options {
        os: true,
        lang: true,
        lockfiles,
        secrets,
        secret_fingerprint,
        hardening_files: sc
            .hardening
            .then_some(customs_misconfig::hardening_wanted as fn(&str) -> bool),
        hardening_entries: sc.hardening.then_some(customs_inventory::EntryFilter {
            keep: hardening_keeps,
            version: customs_misconfig::HARDENING_KEEPS_VERSION,
        }),
        include_os_owned: a.include_os_owned,
        cache_dir: (!a.no_cache).then(|| cache_dir(g)),
        today_unix_secs: None,
    })
}

/// Open the vulnerability database when the vuln scanner runs.
///
/// A first run with no database at the default path fetches one, as
/// `customs db update` would (from `--db-repository` or the feeds), unless
/// `--offline`/`--skip-db-update` forbid the network: then it stops and
/// names the commands that make one. An explicit `--db FILE` must exist.
///
/// After that, scans never touch the network: a database past its
/// `next_update` is used as is, with a warning naming the command that
/// refreshes it (`customs db update`, run on a schedule), unless
/// `--skip-db-update`/`--offline` say staleness is expected. This keeps a
/// CI gate's result a function of the image and the database it was given.
fn open_db(g: &GlobalArgs, a: &ScanArgs, sc: &Scanners) -> Result<Option<VulnDb>> {
    if !sc.vuln {
        return Ok(None);
    }
    let path =
        a.db.db
            .clone()
            .unwrap_or_else(|| crate::db::default_db_path(g));
    if !path.exists() {
        if a.db.db.is_some() {
            bail!("{}: no such vulnerability database file", path.display());
        }
        if a.db.offline || a.db.skip_db_update {
            let flag = if a.db.offline {
                "--offline"
            } else {
                "--skip-db-update"
            };
            bail!(
                "{}: no vulnerability database, and {flag} forbids fetching one; run `customs db update` where the network is reachable, or `customs db build --from DIR` from feed files, or pass --db FILE",
                path.display()
            );
        }
        tracing::warn!(
            "{}: no vulnerability database yet; fetching one (as `customs db update` does)",
            path.display()
        );
        crate::db::update(
            g,
            &path,
            &a.db.source,
            false,
            false,
            &mut std::io::stderr().lock(),
        )
        .with_context(|| {
            format!(
                "{}: fetching the first vulnerability database failed (pass --offline and --db FILE to scan with a database built elsewhere)",
                path.display()
            )
        })?;
    }
    let db = crate::db::open(&path)?;
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
        if !a.db.skip_db_update && !a.db.offline && next < now_rfc3339().as_str() {
            tracing::warn!(
                "{}: the vulnerability database was due for an update at {next}; run `customs db update` (or pass --skip-db-update)",
                path.display()
            );
        }
    }
    Ok(Some(db))
}

/// Fill each package result with its vulnerabilities.
fn vuln_results(report: &mut Report, inv: &Inventory, db: &VulnDb) -> Result<()> {
    let t = std::time::Instant::now();
    for r in report.results.iter_mut() {
        let found = if r.class == class::OS_PKGS {
            match &inv.os {
                Some(os) => customs_detect::detect_os(db, os, &inv.os_packages),
                None => continue,
            }
        } else if r.class == class::LANG_PKGS {
            let Some(app) = inv.applications.iter().find(|a| a.target == r.target) else {
                continue;
            };
            customs_detect::detect_lang(db, &app.lang_type, &app.packages)
        } else {
            continue;
        };
        match found {
            Ok(v) => r.vulnerabilities = v,
            Err(e) if e.is_unsupported() => tracing::warn!("{}: {e}", r.target),
            Err(e) => return Err(anyhow!("{}: {e}", r.target)),
        }
    }
    tracing::debug!("vulnerability detection in {:?}", t.elapsed());
    Ok(())
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

pub fn image(g: &GlobalArgs, a: &ImageArgs) -> Result<i32> {
    let sc = Scanners::parse(&a.scan.scanners).map_err(|e| anyhow!(e))?;
    let cfg_sc = Scanners::parse(&a.image_config_scanners)
        .map_err(|e| anyhow!(e.replace("--scanners", "--image-config-scanners")))?;
    let t = std::time::Instant::now();
    let img = customs_image::Image::open(&a.input)?;
    let db = open_db(g, &a.scan, &sc)?;
    tracing::debug!(
        "opened {} ({} layers) in {:?}",
        a.input,
        img.layers.len(),
        t.elapsed()
    );
    let opts = options(g, &a.scan, &sc, false)?;
    let inv = customs_inventory::analyze_image(&img, &opts)?;
    tracing::debug!(
        "inventory in {:?}: {} layers, {} analyzed, {} from cache",
        t.elapsed(),
        inv.stats.layers,
        inv.stats.analyzed,
        inv.stats.from_cache
    );
    for w in &inv.warnings {
        tracing::warn!("{w}");
    }
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        created_at: now_rfc3339(),
        artifact_name: a.input.clone(),
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
    // An SBOM lists every package.
    let sbom = a.scan.output.format == Format::Cyclonedx;
    package_results(&mut report, &inv, a.scan.list_all_pkgs || !sc.vuln || sbom);
    if let Some(db) = &db {
        warn_eol(&inv);
        vuln_results(&mut report, &inv, db)?;
    }
    secret_results(&mut report, &inv, true);
    if sc.secret || cfg_sc.secret {
        image_config_secrets(&mut report, &img, &a.scan)?;
    }
    if sc.misconfig || cfg_sc.misconfig {
        let input = customs_misconfig::ImageConfigInput::from_oci_config_json(&img.config_raw)
            .map_err(|e| anyhow!("{}: image config: {e}", img.path.display()))?;
        let o = customs_misconfig::ImageConfigOptions {
            max_age_days: a.scan.max_image_age,
            now: std::time::SystemTime::now(),
        };
        let r = customs_misconfig::scan_image_config_with(&input, &o);
        report.results.push(retype(&r)?);
    }
    if sc.hardening {
        let cfg = img.config.config.clone().unwrap_or_default();
        hardening_result(
            &mut report,
            &inv,
            &a.scan,
            cfg.user,
            cfg.entrypoint,
            cfg.cmd,
        )?;
    }
    let shown = Scanners {
        misconfig: sc.misconfig || cfg_sc.misconfig,
        secret: sc.secret || cfg_sc.secret,
        ..sc
    };
    finish(
        report,
        &a.scan.output,
        &a.scan.policy,
        shown,
        a.scan.list_all_pkgs,
        None,
    )
}

pub fn dir(g: &GlobalArgs, a: &DirArgs, mode: DirMode) -> Result<i32> {
    let sc = Scanners::parse(&a.scan.scanners).map_err(|e| anyhow!(e))?;
    if !a.path.exists() {
        bail!("{}: no such file or directory", a.path.display());
    }
    let db = open_db(g, &a.scan, &sc)?;
    let mut opts = options(g, &a.scan, &sc, mode == DirMode::Fs)?;
    opts.cache_dir = None; // a directory has no diff ID to key a cache on
    let inv = customs_inventory::analyze_dir(&a.path, &opts, mode == DirMode::Rootfs)?;
    for w in &inv.warnings {
        tracing::warn!("{w}");
    }
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        created_at: now_rfc3339(),
        artifact_name: a.path.display().to_string(),
        artifact_type: "filesystem".into(),
        metadata: Metadata {
            os: inv.os.clone(),
            ..Default::default()
        },
        results: Vec::new(),
    };
    // An SBOM lists every package.
    let sbom = a.scan.output.format == Format::Cyclonedx;
    package_results(&mut report, &inv, a.scan.list_all_pkgs || !sc.vuln || sbom);
    if let Some(db) = &db {
        warn_eol(&inv);
        vuln_results(&mut report, &inv, db)?;
    }
    secret_results(&mut report, &inv, false);
    if sc.misconfig {
        for r in customs_misconfig::scan_config_path(&a.path) {
            match r {
                Ok(fr) => report.results.push(retype(&fr)?),
                Err(e) => tracing::warn!("{e}"),
            }
        }
    }
    if sc.hardening {
        hardening_result(&mut report, &inv, &a.scan, None, None, None)?;
    }
    finish(
        report,
        &a.scan.output,
        &a.scan.policy,
        sc,
        a.scan.list_all_pkgs,
        Some(&a.path),
    )
}

pub fn config(_g: &GlobalArgs, a: &ConfigArgs) -> Result<i32> {
    if !a.path.exists() {
        bail!("{}: no such file or directory", a.path.display());
    }
    let mut report = Report {
        schema_version: SCHEMA_VERSION,
        created_at: now_rfc3339(),
        artifact_name: a.path.display().to_string(),
        artifact_type: "filesystem".into(),
        ..Default::default()
    };
    let mut errors = 0;
    for r in customs_misconfig::scan_config_path(&a.path) {
        match r {
            Ok(fr) => report.results.push(retype(&fr)?),
            Err(e) => {
                errors += 1;
                eprintln!(
                    "customs: error: {}",
                    customs_report::escape_control(&e.to_string())
                );
            }
        }
    }
    let sc = Scanners {
        misconfig: true,
        ..Default::default()
    };
    // Config targets are paths as given on the command line.
    let code = finish(
        report,
        &a.output,
        &a.policy,
        sc,
        false,
        Some(Path::new(".")),
    )?;
    if errors > 0 && code == 0 {
        return Ok(i32::from(crate::EXIT_ERROR));
    }
    Ok(code)
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
        match retype::<_, SecretFinding>(&s.finding) {
            Ok(f) => entry.0.push(f),
            Err(e) => tracing::warn!("{}: {e}", s.path),
        }
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
    a: &ScanArgs,
) -> Result<()> {
    let (sc, _) = secret_scanner(a)?;
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
    }
    if !found.is_empty() {
        let mut r = ScanResult::new("image config", class::SECRET, "image-config");
        r.secrets_dropped = found.dropped;
        for f in found {
            r.secrets.push(retype(&f)?);
        }
        report.results.push(r);
    }
    Ok(())
}

/// Misconfiguration findings quote the offending lines (`ENV TOKEN=…`):
/// mask what the secret rules recognise there, as secret findings are.
fn mask_misconfig_code(report: &mut Report) {
    let has_code = report
        .results
        .iter()
        .flat_map(|r| &r.misconfigurations)
        .any(|m| m.status == "FAIL");
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
    a: &ScanArgs,
    user: Option<String>,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
) -> Result<()> {
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
        contents: inv.extra_files.clone().into_iter().collect(),
        user,
        entrypoint: entrypoint.unwrap_or_default(),
        cmd: cmd.unwrap_or_default(),
    };
    let o = HardeningOptions {
        setuid_allow: a.setuid_allow.clone(),
    };
    let r = customs_misconfig::scan_hardening(&snap, &o);
    report.results.push(retype(&r)?);
    Ok(())
}

fn policy(p: &PolicyArgs) -> Result<customs_detect::Policy> {
    let ignore_statuses = p
        .ignore_status
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
    let files: Vec<PathBuf> = if p.ignorefile.is_empty() {
        [".trivyignore", ".customsignore.yaml", ".trivyignore.yaml"]
            .iter()
            .map(PathBuf::from)
            .filter(|f| f.is_file())
            .collect()
    } else {
        p.ignorefile.clone()
    };
    let mut ignores = Vec::new();
    for f in &files {
        tracing::debug!("ignore file {}", f.display());
        ignores.push(customs_detect::IgnoreRules::load(f).map_err(|e| anyhow!("{e}"))?);
    }
    Ok(customs_detect::Policy {
        severities: parse_severities(&p.severity)?,
        ignore_unfixed: p.ignore_unfixed,
        ignore_statuses,
        pkg_types,
        ignores,
        show_suppressed: p.show_suppressed,
        today: customs_detect::Date::today(),
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

/// The `file:` URI that SARIF result paths are relative to: the image's
/// root, or the directory the targets are relative to.
fn sarif_root(base: Option<&Path>) -> String {
    let abs = base.map(|b| std::fs::canonicalize(b).unwrap_or_else(|_| b.to_path_buf()));
    customs_report::sarif::root_uri(abs.as_deref().map(|p| p.to_string_lossy()).as_deref())
}

fn finish(
    mut report: Report,
    out: &OutputArgs,
    policy: &PolicyArgs,
    sc: Scanners,
    list_all_pkgs: bool,
    target_base: Option<&Path>,
) -> Result<i32> {
    mask_misconfig_code(&mut report);
    let pol = self::policy(policy)?;
    let outcome = customs_detect::apply(&mut report, &pol);
    tracing::debug!("policy: {outcome:?}");
    let to_terminal = out.output.is_none() && std::io::stdout().is_terminal();
    let text = match out.format {
        Format::Json => customs_report::to_json(&report),
        Format::Sarif => {
            customs_report::to_sarif(&report, env!("CARGO_PKG_VERSION"), &sarif_root(target_base))
        }
        Format::Cyclonedx => {
            customs_report::to_cyclonedx(&report, env!("CARGO_PKG_VERSION"), &now_rfc3339())
        }
        Format::Table => table::render(
            &report,
            &table::TableOptions {
                scanners: table::Scanners {
                    vuln: sc.vuln,
                    secret: sc.secret,
                    misconfig: sc.misconfig,
                    hardening: sc.hardening,
                },
                color: to_terminal && std::env::var_os("NO_COLOR").is_none(),
                list_all_pkgs,
            },
        ),
    };
    write_output(out.output.as_deref(), &text)?;
    Ok(customs_detect::exit_code(
        &report,
        policy.exit_code,
        policy.exit_on_eol,
    ))
}

/// Write the report whole: to a temporary file beside the target, renamed
/// into place, so a failure never leaves a half-written report. A target
/// that is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is
/// written in place, never replaced; a symbolic link is written through
/// (the link stays, its target gets the report).
fn write_output(path: Option<&Path>, text: &str) -> Result<()> {
    let Some(p) = path else {
        let mut so = std::io::stdout().lock();
        return match so.write_all(text.as_bytes()).and_then(|_| so.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(anyhow!("stdout: {e}")),
        };
    };
    let shown = || p.display().to_string();
    // What the path names, links followed by the kernel.
    let target = match std::fs::metadata(p) {
        // `/dev/null`, `/dev/stdout`, a FIFO: written in place, never replaced.
        Ok(m) if !m.is_file() => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .with_context(shown)?;
            return f
                .write_all(text.as_bytes())
                .and_then(|_| f.flush())
                .with_context(shown);
        }
        // A regular file, perhaps through links: replace the file, not a link.
        Ok(_) => std::fs::canonicalize(p).with_context(shown)?,
        // Nothing there yet; a dangling link names where the report goes
        // (a chain of at most 40, as the kernel allows).
        Err(_) => {
            let mut t = p.to_path_buf();
            for _ in 0..40 {
                match std::fs::symlink_metadata(&t) {
                    Ok(m) if m.file_type().is_symlink() => {
                        let to = std::fs::read_link(&t).with_context(shown)?;
                        t = match t.parent() {
                            Some(dir) if to.is_relative() => dir.join(to),
                            _ => to,
                        };
                    }
                    _ => break,
                }
            }
            t
        }
    };
    customs_model::tmpfile::sweep_beside(&target, "customs-tmp");
    let tmp = customs_model::tmpfile::temp_beside(&target, "customs-tmp");
    std::fs::write(&tmp, text).with_context(shown)?;
    std::fs::rename(&tmp, &target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow!("{}: {e}", shown())
    })
}

/// Current time as RFC 3339 (UTC), without a date crate.
fn now_rfc3339() -> String {
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
