//! The scan commands: turn the arguments into `customs_scan` options, open
//! the database a scan uses (its default path, the first-run download),
//! render and write the report, and decide the exit code. The scan itself
//! is `customs_scan`'s.

use crate::args::{
    parse_scanners, ConfigArgs, DirArgs, Format, GlobalArgs, ImageArgs, OutputArgs, PolicyArgs,
    ScanArgs,
};
use anyhow::{anyhow, bail, Context, Result};
use customs_image::{parse_target, ImageSrc, RemoteOptions, Target};
use customs_scan::{
    Db, EngineOptions, IgnoreFiles, ImageSource, PolicyOptions, ScanOptions, Scanned, VulnDb,
};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

pub use customs_scan::DirMode;

pub fn cache_dir(g: &GlobalArgs) -> PathBuf {
    g.cache_dir.clone().unwrap_or_else(|| {
        dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("customs")
    })
}

fn policy_options(p: &PolicyArgs) -> PolicyOptions {
    PolicyOptions {
        severities: p.severity.clone(),
        ignore_unfixed: p.ignore_unfixed,
        ignore_statuses: p.ignore_status.clone(),
        pkg_types: p.pkg_types.clone(),
        ignore_files: if p.ignorefile.is_empty() {
            IgnoreFiles::InCurrentDir
        } else {
            IgnoreFiles::Files(p.ignorefile.clone())
        },
        show_suppressed: p.show_suppressed,
        kev_only: p.kev,
        min_epss: p.min_epss,
        sort_by: p.sort_by.clone(),
        vex: p
            .vex
            .iter()
            .map(|v| match v.as_str() {
                "oci" => customs_scan::VexInput::Registry,
                f => customs_scan::VexInput::File(PathBuf::from(f)),
            })
            .collect(),
    }
}

fn scan_options(g: &GlobalArgs, a: &ScanArgs, scanners: &[String]) -> Result<ScanOptions> {
    Ok(ScanOptions {
        scanners: parse_scanners(scanners).map_err(|e| anyhow!(e))?,
        image_config_scanners: Default::default(),
        // An SBOM lists every package.
        list_all_pkgs: a.list_all_pkgs
            || matches!(a.output.format, Format::Cyclonedx | Format::SpdxJson),
        secret_config: a.secret_config.clone(),
        include_os_owned: a.include_os_owned,
        include_dev_deps: a.include_dev_deps,
        detection_priority: a.detection_priority.into(),
        setuid_allow: a.setuid_allow.clone(),
        max_image_age_days: a.max_image_age,
        cache_dir: (!a.no_cache).then(|| cache_dir(g)),
        cache_redis: None,
        max_image_bytes: None,
        confusion: confusion_options(g, a),
        policy: policy_options(&a.policy),
    })
}

/// The confusion scanner's options: the registries `--confusion-registry`
/// names count as public; with `--confusion-check-public` they are also
/// the ones asked (the defaults for the others), and `--offline` keeps the
/// check to the cached answers.
fn confusion_options(g: &GlobalArgs, a: &ScanArgs) -> customs_scan::ConfusionOptions {
    let also_public: Vec<String> = a
        .confusion_registry
        .iter()
        .map(|(_, u)| u.clone())
        .collect();
    if !a.confusion_check_public {
        return customs_scan::ConfusionOptions {
            public: None,
            also_public,
        };
    }
    let mut c = customs_scan::PublicCheck {
        cache_dir: cache_dir(g),
        offline: a.db.offline,
        // One name lookup; the scan's own bound applies when it is lower.
        timeout: a.timeout.min(std::time::Duration::from_secs(30)),
        ..Default::default()
    };
    for (eco, url) in &a.confusion_registry {
        // The name was checked when the flag was parsed.
        if let Some(slot) = c.registry_mut(eco) {
            *slot = url.clone();
        }
    }
    customs_scan::ConfusionOptions {
        public: Some(c),
        also_public,
    }
}

/// The vulnerability database of a scan, opened when the scan needs it.
fn db<'a>(g: &'a GlobalArgs, a: &'a ScanArgs) -> Db<'a> {
    Db::OnDemand(Box::new(move || open_db(g, a)))
}

/// Open the vulnerability database.
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
fn open_db(g: &GlobalArgs, a: &ScanArgs) -> Result<VulnDb> {
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
    customs_scan::open_db(&path, !a.db.skip_db_update && !a.db.offline)
}

/// The registry flags of `customs image` (and `customs base`).
pub(crate) struct RegistryFlags<'a> {
    pub registry: &'a crate::args::RegistryArgs,
    pub timeout: std::time::Duration,
    pub parallel: usize,
    /// Draw layer progress bars (on a terminal).
    pub progress: bool,
}

/// How registries are reached: the credential given (and where it came
/// from, for messages), TLS, mirrors, bounds.
pub(crate) fn remote_options(g: &GlobalArgs, f: &RegistryFlags<'_>) -> Result<RemoteOptions> {
    let a = f.registry;
    use customs_image::registry::auth::{CredKind, Credential};
    // Where a credential came from, for messages (never the secret).
    let from_env = |k: &str, v: &str| std::env::var(k).is_ok_and(|e| e == v);
    let credential = match (&a.username, &a.password, &a.registry_token) {
        (_, _, Some(t)) => Some(Credential {
            kind: CredKind::Bearer(t.clone()),
            source: if from_env("CUSTOMS_REGISTRY_TOKEN", t) {
                "CUSTOMS_REGISTRY_TOKEN".into()
            } else {
                "--registry-token".into()
            },
        }),
        (Some(u), Some(p), None) => {
            let label = if from_env("CUSTOMS_PASSWORD", p) {
                "CUSTOMS_USERNAME/CUSTOMS_PASSWORD"
            } else {
                "--username/--password"
            };
            Some(Credential::basic(u, p, label))
        }
        (Some(_), None, None) => bail!("--username needs --password (or CUSTOMS_PASSWORD)"),
        (None, Some(_), None) => bail!("--password needs --username (or CUSTOMS_USERNAME)"),
        (None, None, None) => None,
    };
    let observer = if f.progress {
        crate::progress::LayerBars::for_terminal(g.quiet, g.no_progress)
            .map(|b| b as std::sync::Arc<dyn customs_image::registry::TransferObserver>)
    } else {
        None
    };
    Ok(RemoteOptions {
        platform: a.platform.clone(),
        insecure: a.insecure,
        credential,
        mirrors: a.registry_mirror.clone(),
        timeout: f.timeout,
        parallel: f.parallel,
        observer,
        ..RemoteOptions::default()
    })
}

/// Where `customs image` reads from, and how it reaches registries and engines.
fn image_source(g: &GlobalArgs, a: &ImageArgs) -> Result<ImageSource> {
    let target = match (&a.input, &a.image) {
        (Some(p), _) => Target::File(p.clone()),
        (None, Some(name)) => {
            let mut sources: Vec<ImageSrc> = Vec::new();
            for &src in &a.image_src {
                if !sources.contains(&src) {
                    sources.push(src);
                }
            }
            parse_target(name, &sources).map_err(|e| anyhow!(e))?
        }
        (None, None) => bail!("customs image needs an IMAGE or --input PATH"),
    };
    let remote = remote_options(
        g,
        &RegistryFlags {
            registry: &a.registry,
            timeout: a.scan.timeout,
            parallel: a.scan.parallel,
            progress: true,
        },
    )?;
    Ok(ImageSource {
        name: None,
        target,
        remote,
        engines: EngineOptions {
            docker_host: a.docker_host.clone(),
            podman_host: a.podman_host.clone(),
        },
    })
}

fn scan_image(g: &GlobalArgs, a: &ImageArgs) -> Result<Scanned> {
    let mut opts = scan_options(g, &a.scan, &a.scan.scanners)?;
    opts.image_config_scanners = parse_scanners(&a.image_config_scanners)
        .map_err(|e| anyhow!(e.replace("--scanners", "--image-config-scanners")))?;
    let src = image_source(g, a)?;
    if !a.server.is_empty() {
        return scan_on_server(a, &src, opts);
    }
    customs_scan::scan_image(&src, &opts, db(g, &a.scan))
}

/// Client mode (`--server`). A name the registry serves is pulled and
/// scanned by the server; a file or an engine's image is analyzed here
/// (every scanner but vulnerabilities) and its inventory sent, so its
/// layers never leave this machine. The server's report gets the same
/// policy, VEX and rendering as a local scan's.
fn scan_on_server(a: &ImageArgs, src: &ImageSource, opts: ScanOptions) -> Result<Scanned> {
    let tls = customs_server::client::ClientTls {
        ca: a.server_ca.clone(),
        identity: a.server_cert.clone().zip(a.server_key.clone()),
    };
    let mut client =
        customs_server::client::Client::with_tls(&a.server, a.token.clone(), a.scan.timeout, &tls)?;
    let names = opts.scanners.names();
    let by_server =
        matches!(&src.target, Target::Named(_, srcs) if srcs.contains(&ImageSrc::Remote));
    let body = if by_server {
        if opts.image_config_scanners != Default::default() {
            bail!("--image-config-scanners is not available with --server for a registry image");
        }
        let Target::Named(r, _) = &src.target else {
            bail!("--server: no image name");
        };
        let r_args = &a.registry;
        let mut creds = serde_json::Map::new();
        if let Some(u) = &r_args.username {
            creds.insert("username".into(), u.clone().into());
            creds.insert(
                "password".into(),
                r_args.password.clone().unwrap_or_default().into(),
            );
        } else if let Some(t) = &r_args.registry_token {
            creds.insert("token".into(), t.clone().into());
        }
        let mut b = serde_json::json!({
            "image": r.typed,
            "scanners": names,
            "list_all_pkgs": opts.list_all_pkgs,
        });
        if !creds.is_empty() {
            b["credentials"] = serde_json::Value::Object(creds);
        }
        if let Some(p) = &r_args.platform {
            b["platform"] = p.clone().into();
        }
        b
    } else {
        let mut local = opts.clone();
        local.scanners.vuln = false;
        local.list_all_pkgs = true;
        local.policy = PolicyOptions::default();
        let inv = customs_scan::scan_image(src, &local, Db::None)?;
        serde_json::json!({
            "inventory": inv.report,
            "scanners": if opts.scanners.vuln { vec!["vuln"] } else { vec!["none"] },
        })
    };
    let done = client.scan(&body)?;
    tracing::debug!(
        "scan {} done by {} (replica {}){}",
        done.job.id,
        done.server,
        done.job.replica,
        done.job
            .stats
            .map(|s| format!(
                ": {} layers, {} analyzed, {} from the cache",
                s.layers, s.analyzed, s.from_cache
            ))
            .unwrap_or_default()
    );
    let mut report = done.report;
    if !opts.list_all_pkgs && opts.scanners.vuln {
        for r in &mut report.results {
            r.packages.clear();
        }
    }
    customs_scan::finish_report(report, Some(src), &opts)
}

/// The report of an image scanned as `customs image` scans it (for
/// `customs diff IMAGE IMAGE`).
pub(crate) fn image_report(g: &GlobalArgs, a: &ImageArgs) -> Result<customs_report::Report> {
    Ok(scan_image(g, a)?.report)
}

pub fn image(g: &GlobalArgs, a: &ImageArgs) -> Result<i32> {
    let scanned = scan_image(g, a)?;
    render(&scanned, &a.scan.output, a.scan.list_all_pkgs, None)?;
    crate::history_cmd::record_after_scan(g, &a.scan, &scanned.report)?;
    Ok(exit_code(&scanned, &a.scan.policy))
}

pub fn dir(g: &GlobalArgs, a: &DirArgs, mode: DirMode) -> Result<i32> {
    let opts = scan_options(g, &a.scan, &a.scan.scanners)?;
    let scanned = customs_scan::scan_dir(&a.path, mode, &opts, db(g, &a.scan))?;
    render(
        &scanned,
        &a.scan.output,
        a.scan.list_all_pkgs,
        Some(&a.path),
    )?;
    crate::history_cmd::record_after_scan(g, &a.scan, &scanned.report)?;
    Ok(exit_code(&scanned, &a.scan.policy))
}

pub fn config(_g: &GlobalArgs, a: &ConfigArgs) -> Result<i32> {
    let scanned = customs_scan::scan_config(&a.path, &policy_options(&a.policy))?;
    for e in &scanned.errors {
        eprintln!(
            "customs: error: {}",
            customs_report::escape_control(&e.to_string())
        );
    }
    // Config targets are paths as given on the command line.
    render(&scanned, &a.output, false, Some(Path::new(".")))?;
    let code = exit_code(&scanned, &a.policy);
    if !scanned.errors.is_empty() && code == 0 {
        return Ok(i32::from(crate::EXIT_ERROR));
    }
    Ok(code)
}

fn exit_code(scanned: &Scanned, policy: &PolicyArgs) -> i32 {
    let codes = customs_detect::ExitCodes {
        findings: policy.exit_code,
        eol: policy.exit_on_eol,
        missing_data: policy.exit_on_missing_data,
    };
    customs_detect::exit_code(&scanned.report, &codes)
}

/// The `file:` URI that SARIF result paths are relative to: the image's
/// root, or the directory the targets are relative to.
fn sarif_root(base: Option<&Path>) -> String {
    let abs = base.map(|b| std::fs::canonicalize(b).unwrap_or_else(|_| b.to_path_buf()));
    customs_report::sarif::root_uri(abs.as_deref().map(|p| p.to_string_lossy()).as_deref())
}

/// Render the report in the chosen format and write it.
fn render(
    scanned: &Scanned,
    out: &OutputArgs,
    list_all_pkgs: bool,
    target_base: Option<&Path>,
) -> Result<()> {
    let report = &scanned.report;
    let sc = scanned.scanners;
    let to_terminal = out.output.is_none() && std::io::stdout().is_terminal();
    // The user chose an order: every view keeps it.
    let keep_order = scanned.policy.sort_by != customs_detect::SortBy::Package;
    let opts = customs_report::RenderOptions {
        tool_version: env!("CARGO_PKG_VERSION").into(),
        scanners: sc.table(),
        color: to_terminal && std::env::var_os("NO_COLOR").is_none(),
        list_all_pkgs,
        keep_order,
        sarif_root: if out.format == Format::Sarif {
            sarif_root(target_base)
        } else {
            String::new()
        },
        now: customs_scan::now_rfc3339(),
    };
    let text = customs_report::render(report, out.format.into(), &opts);
    write_output(out.output.as_deref(), text.as_bytes())
}

/// Write the report whole: to a temporary file beside the target, renamed
/// into place, so a failure never leaves a half-written report. A target
/// that is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is
/// written in place, never replaced; a symbolic link is written through
/// (the link stays, its target gets the report).
pub(crate) fn write_output(path: Option<&Path>, text: &[u8]) -> Result<()> {
    let Some(p) = path else {
        let mut so = std::io::stdout().lock();
        return match so.write_all(text).and_then(|_| so.flush()) {
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
                .write_all(text)
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
