//! `customs db build | update | info` and the database a scan uses.

use crate::args::{DbArgs, DbCommand, DbSource, GlobalArgs};
use anyhow::{anyhow, Context, Result};
use customs_vulndb::{Progress, VulnDb};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Where the database lives when `--db` is not given.
pub fn default_db_path(g: &GlobalArgs) -> PathBuf {
    crate::scan::cache_dir(g).join("db").join("customs.db")
}

/// indicatif bars on a terminal; nothing in CI, with `-q`, or when piped.
pub struct Bars {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    enabled: bool,
}

impl Bars {
    pub fn new(quiet: bool) -> Bars {
        let enabled = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Bars {
            bar: Mutex::new(None),
            enabled,
        }
    }
}

impl Progress for Bars {
    fn stage(&self, name: &str, total: Option<u64>) {
        if !self.enabled {
            return;
        }
        let pb = match total {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>24} [{bar:30}] {pos}/{len} ({elapsed})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            None => indicatif::ProgressBar::new_spinner(),
        };
        pb.set_message(name.to_string());
        if let Ok(mut b) = self.bar.lock() {
            if let Some(old) = b.take() {
                old.finish_and_clear();
            }
            *b = Some(pb);
        }
    }
    fn inc(&self, n: u64) {
        if let Ok(b) = self.bar.lock() {
            if let Some(pb) = b.as_ref() {
                pb.inc(n);
            }
        }
    }
    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock() {
            if let Some(pb) = b.take() {
                pb.finish_and_clear();
            }
        }
    }
}

pub fn run(g: &GlobalArgs, a: &DbArgs) -> Result<i32> {
    match &a.command {
        DbCommand::Build {
            from,
            output,
            strict,
        } => {
            let out = output.clone().unwrap_or_else(|| default_db_path(g));
            if let Some(dir) = out.parent() {
                std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
            }
            let mut opts = customs_vulndb::BuildOptions::new(from, &out);
            opts.strict = *strict;
            let report = customs_vulndb::build(&opts, &Bars::new(g.quiet))?;
            if !g.quiet {
                print_build(&mut std::io::stdout().lock(), &report)?;
            }
            Ok(0)
        }
        DbCommand::Update {
            source,
            force,
            strict,
        } => {
            let db = a.db.clone().unwrap_or_else(|| default_db_path(g));
            update(
                g,
                &db,
                source,
                *force,
                *strict,
                &mut std::io::stdout().lock(),
            )?;
            Ok(0)
        }
        DbCommand::Info => {
            let db = a.db.clone().unwrap_or_else(|| default_db_path(g));
            let v = open(&db)?;
            print_info(&db, &v)?;
            Ok(0)
        }
    }
}

pub fn open(path: &Path) -> Result<VulnDb> {
    customs_scan::open_db_file(path)
}

fn print_build(out: &mut dyn Write, r: &customs_vulndb::BuildReport) -> std::io::Result<()> {
    writeln!(
        out,
        "Built {} in {:.1}s: {} advisories, {} vulnerabilities, {} bytes",
        r.output.display(),
        r.elapsed.as_secs_f64(),
        r.advisories,
        r.vulnerabilities,
        r.file_size
    )?;
    writeln!(
        out,
        "{:<22} {:>8} {:>9} {:>9} {:>8} {:>11}",
        "Source", "Files", "Records", "Withdrawn", "Skipped", "Advisories"
    )?;
    for s in &r.sources {
        writeln!(
            out,
            "{:<22} {:>8} {:>9} {:>9} {:>8} {:>11}",
            s.id, s.files, s.records, s.withdrawn, s.skipped, s.advisories
        )?;
    }
    for s in r.skipped.iter().take(20) {
        eprintln!(
            "skipped: {}",
            customs_report::escape_control(&s.to_string())
        );
    }
    Ok(())
}

/// Refresh (or create) the database at `db`: a prebuilt file from
/// `--db-repository`, or the feeds (conditional GETs) rebuilt beside the old
/// file. Any failure keeps the old database.
/// The summary goes to `out` (stdout for `db update`, stderr when a scan
/// fetches its first database, so the report on stdout stays clean).
pub fn update(
    g: &GlobalArgs,
    db: &Path,
    source: &DbSource,
    force: bool,
    strict: bool,
    out: &mut dyn Write,
) -> Result<()> {
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    let bars = Bars::new(g.quiet);
    if let Some(url) = &source.db_repository {
        let bytes = customs_vulndb::fetch_prebuilt(
            url,
            db,
            &customs_vulndb::HttpOptions::default(),
            &bars,
        )?;
        if !g.quiet {
            writeln!(out, "Fetched {} ({bytes} bytes) from {url}", db.display())?;
        }
        return Ok(());
    }
    let mut opts = customs_vulndb::UpdateOptions::new(crate::scan::cache_dir(g), db);
    opts.force = force;
    opts.strict = strict;
    if let Some(p) = &source.feeds_config {
        let text = std::fs::read_to_string(p).with_context(|| p.display().to_string())?;
        opts.feeds =
            toml::from_str(&text).map_err(|e| anyhow!("{}: {}", p.display(), e.message()))?;
    }
    let report = customs_vulndb::update(&opts, &bars)?;
    if !g.quiet {
        writeln!(
            out,
            "Feeds: {} downloaded, {} unchanged, {} bytes received",
            report.downloaded.len(),
            report.not_modified.len(),
            report.bytes
        )?;
        match &report.build {
            Some(b) => print_build(out, b)?,
            None => writeln!(out, "Nothing changed; kept {}", db.display())?,
        }
    }
    Ok(())
}

pub fn print_info(path: &Path, db: &VulnDb) -> Result<()> {
    use std::fmt::Write as _;
    let m = db.metadata()?;
    let mut o = String::new();
    let _ = writeln!(o, "Vulnerability DB:");
    let _ = writeln!(o, "  Path: {}", path.display());
    let _ = writeln!(o, "  Schema version: {}", m.schema_version);
    let _ = writeln!(o, "  Built at: {}", m.built_at);
    let _ = writeln!(
        o,
        "  Next update: {}",
        m.next_update.as_deref().unwrap_or("-")
    );
    let _ = writeln!(
        o,
        "  Downloaded at: {}",
        m.downloaded_at.as_deref().unwrap_or("-")
    );
    let _ = writeln!(
        o,
        "  Known exploited (CISA KEV): {}",
        m.kev_catalog_version
            .as_deref()
            .map(|v| format!("catalog {v}"))
            .unwrap_or_else(|| "- (no kev/ feed in the build)".into())
    );
    let _ = writeln!(
        o,
        "  EPSS: {}",
        match (&m.epss_score_date, &m.epss_model_version) {
            (Some(d), Some(v)) if !v.is_empty() => format!("scores of {d}, model {v}"),
            (Some(d), _) => format!("scores of {d}"),
            _ => "- (no epss/ feed in the build)".into(),
        }
    );
    let _ = writeln!(o, "  Sources:");
    for s in &m.sources {
        let _ = writeln!(
            o,
            "    {:<20} {:>7} records {:>7} advisories  updated {}",
            s.id,
            s.records,
            s.advisories,
            s.updated_at.as_deref().unwrap_or("-")
        );
    }
    // Written whole; a closed pipe (`| head`) is not an error.
    crate::scan::write_output(None, o.as_bytes())
}
