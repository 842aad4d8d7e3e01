//! `customs history …` and the `--history` flags of the scan commands: the
//! scans of an image over time, in one SQLite file in the cache dir or a
//! team's PostgreSQL (`CUSTOMS_HISTORY=postgres://…`). The store is
//! `customs_history::Store`'s.

use crate::args::{GlobalArgs, ScanArgs};
use crate::diff_cmd::DiffOutputArgs;
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use customs_history::{chart, Filter, NewScan, Prune, Store};
use customs_report::{escape_control, Report};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The scan commands' flags for recording a scan.
#[derive(Args, Debug, Clone, Default)]
pub struct RecordArgs {
    /// Record this scan in the history (`customs history list` shows it).
    #[arg(long)]
    pub history: bool,
    /// The history store: a SQLite file, or a postgres:// URL (default:
    /// CACHE_DIR/history.db).
    #[arg(
        long,
        env = "CUSTOMS_HISTORY",
        hide_env_values = true,
        value_name = "PATH|URL"
    )]
    pub history_store: Option<String>,
    /// Fail (exit 3) when the scan cannot be recorded, instead of warning
    /// (implies --history).
    #[arg(long)]
    pub history_required: bool,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The history store: a SQLite file, or a postgres:// URL (default:
    /// CACHE_DIR/history.db).
    #[arg(
        long = "history-store",
        alias = "store",
        env = "CUSTOMS_HISTORY",
        hide_env_values = true,
        global = true,
        value_name = "PATH|URL"
    )]
    pub store: Option<String>,
    #[command(subcommand)]
    pub command: HistoryCommand,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TrendFormat {
    /// An SVG chart.
    Svg,
    /// A PNG chart (to a file or a pipe).
    Png,
    /// A Markdown table.
    Markdown,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum HistoryCommand {
    /// The recorded scans, newest first: all, of a repository (`app`) or of
    /// one reference (`app:1.4`).
    List {
        #[arg(value_name = "REF")]
        reference: Option<String>,
        /// At most this many (0: all).
        #[arg(long, default_value_t = 50, value_name = "N")]
        limit: usize,
        #[arg(short, long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// One scan: its record and its report.
    Show {
        id: i64,
        /// `table` prints the record and the report's table; `json` the report.
        #[arg(short, long, value_enum, default_value = "table")]
        format: ListFormat,
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Vulnerability counts by severity over time, as a chart or a table.
    Trend {
        #[arg(value_name = "REF")]
        reference: String,
        /// Default: from the -o file's extension, else markdown.
        #[arg(short, long, value_enum)]
        format: Option<TrendFormat>,
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Which images a vulnerability affects: each reference whose latest
    /// recorded scan has it (all, or of a repository or reference).
    Affected {
        #[arg(value_name = "VULN_ID")]
        vulnerability: String,
        #[arg(value_name = "REF")]
        reference: Option<String>,
        #[arg(short, long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// The diff of the last two scans of a repository or reference.
    Diff {
        #[arg(value_name = "REF")]
        reference: String,
        #[command(flatten)]
        out: DiffOutputArgs,
    },
    /// Record reports made elsewhere (customs or Trivy JSON), with their own
    /// times; all or none.
    Import {
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
    /// Remove old scans: all but the newest N of each reference, or those
    /// older than a duration (`90d`, `12w`).
    Prune {
        /// Of this repository or reference only.
        #[arg(value_name = "REF")]
        reference: Option<String>,
        #[arg(
            long,
            value_name = "N",
            required_unless_present = "older_than",
            conflicts_with = "older_than"
        )]
        keep: Option<usize>,
        #[arg(long, value_name = "DURATION", value_parser = parse_age)]
        older_than: Option<std::time::Duration>,
    },
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (expected e.g. 90d, 12w, 36h)"))
}

/// The store a command uses: the flag or `CUSTOMS_HISTORY`, else the
/// SQLite file in the cache dir.
pub fn store_spec(g: &GlobalArgs, given: Option<&str>) -> String {
    match given {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => crate::scan::cache_dir(g)
            .join("history.db")
            .display()
            .to_string(),
    }
}

fn open(g: &GlobalArgs, given: Option<&str>) -> Result<Store> {
    Ok(Store::open(&store_spec(g, given))?)
}

/// What names this build in a recorded scan.
pub fn scanner_name() -> String {
    format!("customs {}", env!("CARGO_PKG_VERSION"))
}

/// The vulnerability database a scan used, as recorded (empty when the
/// scan did not use one or it cannot be read).
fn db_version(g: &GlobalArgs, a: &ScanArgs) -> String {
    let vuln = crate::args::parse_scanners(&a.scanners).is_ok_and(|s| s.vuln);
    if !vuln {
        return String::new();
    }
    let path =
        a.db.db
            .clone()
            .unwrap_or_else(|| crate::db::default_db_path(g));
    match customs_vulndb::VulnDb::open(&path).and_then(|d| d.metadata()) {
        Ok(m) => format!("schema {}, built {}", m.schema_version, m.built_at),
        Err(_) => String::new(),
    }
}

/// After a scan: record its report when asked. A failure warns and leaves
/// the scan's exit code alone, unless `--history-required`.
pub fn record_after_scan(g: &GlobalArgs, a: &ScanArgs, report: &Report) -> Result<()> {
    let h = &a.history;
    if !h.history && !h.history_required {
        return Ok(());
    }
    let spec = store_spec(g, h.history_store.as_deref());
    let scan = NewScan::new(report.clone(), scanner_name(), db_version(g, a));
    let recorded = Store::open(&spec).and_then(|mut st| st.record(&scan));
    match recorded {
        Ok(id) => {
            tracing::debug!("recorded as scan {id} in the history");
            Ok(())
        }
        Err(e) if h.history_required => {
            Err(anyhow!(e).context("the scan could not be recorded (--history-required)"))
        }
        Err(e) => {
            tracing::warn!("{e}: the scan was not recorded in the history");
            Ok(())
        }
    }
}

pub fn run(g: &GlobalArgs, a: &HistoryArgs) -> Result<i32> {
    let given = a.store.as_deref();
    match &a.command {
        HistoryCommand::List {
            reference,
            limit,
            format,
        } => {
            let filter = Filter::parse(reference.as_deref().unwrap_or(""));
            let scans = open(g, given)?.list(&filter, *limit)?;
            let text = match format {
                ListFormat::Json => json_text(&scans)?,
                ListFormat::Table => list_table(&scans),
            };
            crate::scan::write_output(None, text.as_bytes())?;
            Ok(0)
        }
        HistoryCommand::Affected {
            vulnerability,
            reference,
            format,
        } => {
            let filter = Filter::parse(reference.as_deref().unwrap_or(""));
            let found = open(g, given)?.affected(vulnerability, &filter)?;
            let text = match format {
                ListFormat::Json => json_text(&found)?,
                ListFormat::Table => affected_table(&found),
            };
            crate::scan::write_output(None, text.as_bytes())?;
            Ok(0)
        }
        HistoryCommand::Show { id, format, output } => {
            let Some((scan, report)) = open(g, given)?.show(*id)? else {
                bail!("no scan {id} in the history");
            };
            let text = match format {
                ListFormat::Json => customs_report::to_json(&report),
                ListFormat::Table => format!(
                    "{}\n{}",
                    list_table(std::slice::from_ref(&scan)),
                    report_table(&report, output.is_none())
                ),
            };
            crate::scan::write_output(output.as_deref(), text.as_bytes())?;
            Ok(0)
        }
        HistoryCommand::Trend {
            reference,
            format,
            output,
        } => {
            let points = open(g, given)?.trend(&Filter::parse(reference))?;
            let format = format.unwrap_or_else(|| trend_format_of(output.as_deref()));
            let bytes = match format {
                TrendFormat::Svg => chart::svg(reference, &points)?.into_bytes(),
                TrendFormat::Png => {
                    if output.is_none() && std::io::stdout().is_terminal() {
                        bail!("a PNG is not for the terminal: pass -o FILE (or pipe the output)");
                    }
                    chart::png(reference, &points)?
                }
                TrendFormat::Markdown => chart::markdown(reference, &points).into_bytes(),
                TrendFormat::Json => chart::json(reference, &points).into_bytes(),
            };
            crate::scan::write_output(output.as_deref(), &bytes)?;
            Ok(0)
        }
        HistoryCommand::Diff { reference, out } => {
            let filter = Filter::parse(reference);
            let Some(((old, ro), (new, rn))) = open(g, given)?.last_two(&filter)? else {
                bail!("{reference}: fewer than two scans in the history");
            };
            tracing::debug!("diffing scan {} with scan {}", old.id, new.id);
            crate::diff_cmd::finish(customs_history::diff(&ro, &rn), out)
        }
        HistoryCommand::Import { files } => {
            // Every file is read before anything is written: all or none.
            let mut scans = Vec::with_capacity(files.len());
            for f in files {
                let loaded = customs_history::read_report(f)?;
                scans.push(NewScan::new(loaded.report, loaded.scanner, String::new()));
            }
            let mut st = open(g, given)?;
            let ids = st.record_all(&scans)?;
            if !g.quiet {
                for (f, id) in files.iter().zip(&ids) {
                    eprintln!(
                        "imported {} as scan {id}",
                        escape_control(&f.display().to_string())
                    );
                }
            }
            Ok(0)
        }
        HistoryCommand::Prune {
            reference,
            keep,
            older_than,
        } => {
            let what = match (keep, older_than) {
                (Some(n), _) => Prune::Keep(*n),
                (None, Some(d)) => Prune::OlderThan(*d),
                (None, None) => bail!("prune needs --keep N or --older-than DURATION"),
            };
            let filter = Filter::parse(reference.as_deref().unwrap_or(""));
            let n = open(g, given)?.prune(what, &filter)?;
            if !g.quiet {
                eprintln!("removed {n} scans");
            }
            Ok(0)
        }
    }
}

fn trend_format_of(output: Option<&Path>) -> TrendFormat {
    let ext = output
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => TrendFormat::Svg,
        Some("png") => TrendFormat::Png,
        Some("json") => TrendFormat::Json,
        _ => TrendFormat::Markdown,
    }
}

fn json_text<T: serde::Serialize>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v).context("JSON")?;
    s.push('\n');
    Ok(s)
}

fn short(d: &str) -> String {
    match d.split_once(':') {
        Some((a, h)) if h.len() > 12 => format!("{a}:{}", &h[..12]),
        _ => d.to_string(),
    }
}

fn affected_table(found: &[customs_history::Affected]) -> String {
    use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
    if found.is_empty() {
        return "No recorded image has it in its latest scan.\n".into();
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "Reference",
        "Scan",
        "Time",
        "Package",
        "Installed",
        "Fixed",
        "Severity",
        "Target",
    ]);
    for a in found {
        t.add_row(vec![
            escape_control(&a.scan.artifact_ref).into_owned(),
            a.scan.id.to_string(),
            a.scan.scanned_at.clone(),
            escape_control(&a.pkg_name).into_owned(),
            escape_control(&a.installed_version).into_owned(),
            escape_control(&a.fixed_version).into_owned(),
            a.severity.clone(),
            escape_control(&a.target).into_owned(),
        ]);
    }
    format!("{t}\n")
}

fn list_table(scans: &[customs_history::Scan]) -> String {
    use comfy_table::{presets::UTF8_FULL_CONDENSED, CellAlignment, Table};
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "ID",
        "Time",
        "Reference",
        "Digest",
        "Scanner",
        "Critical",
        "High",
        "Medium",
        "Low",
        "Unknown",
        "Secrets",
        "Misconf",
    ]);
    for s in scans {
        let v = &s.counts.vulnerabilities;
        t.add_row(vec![
            s.id.to_string(),
            s.scanned_at.clone(),
            escape_control(&s.artifact_ref).into_owned(),
            short(&escape_control(&s.digest)),
            escape_control(&s.scanner).into_owned(),
            v.critical.to_string(),
            v.high.to_string(),
            v.medium.to_string(),
            v.low.to_string(),
            v.unknown.to_string(),
            s.counts.secrets.total().to_string(),
            s.counts.misconfigurations.total().to_string(),
        ]);
    }
    for i in [0, 5, 6, 7, 8, 9, 10, 11] {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    if scans.is_empty() {
        return "No scans recorded.\n".into();
    }
    format!("{t}\n")
}

fn report_table(report: &Report, to_stdout: bool) -> String {
    use customs_report::table;
    let has = |f: fn(&customs_report::ScanResult) -> bool| report.results.iter().any(f);
    table::render(
        report,
        &table::TableOptions {
            scanners: table::Scanners {
                vuln: true,
                secret: has(|r| !r.secrets.is_empty()),
                misconfig: has(|r| !r.misconfigurations.is_empty()),
                hardening: false,
            },
            color: to_stdout
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none(),
            list_all_pkgs: false,
            keep_order: false,
        },
    )
}
