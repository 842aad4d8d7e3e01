//! `customs diff OLD NEW`: what changed between two reports (customs or
//! Trivy JSON) or two images (scanned as `customs image` scans them). The
//! diff is `customs_history::diff`'s; `--exit-code` with `--severity` fails
//! on what is new only.

use crate::args::{GlobalArgs, ImageArgs};
use anyhow::{anyhow, Result};
use clap::{Args, Parser, ValueEnum};
use customs_history::render::DiffFormat;
use customs_report::Report;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormatArg {
    Table,
    Json,
    /// A Markdown summary with tables (for a pull-request comment).
    Markdown,
}

impl From<DiffFormatArg> for DiffFormat {
    fn from(f: DiffFormatArg) -> DiffFormat {
        match f {
            DiffFormatArg::Table => DiffFormat::Table,
            DiffFormatArg::Json => DiffFormat::Json,
            DiffFormatArg::Markdown => DiffFormat::Markdown,
        }
    }
}

/// How a diff is shown and gated (shared with `customs history diff`).
#[derive(Args, Debug, Clone)]
pub struct DiffOutputArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value = "table")]
    pub format: DiffFormatArg,
    /// Write the diff to FILE instead of stdout (written whole, atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show and count only these severities (comma list: UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL).
    #[arg(short, long, value_delimiter = ',', value_name = "LIST")]
    pub severity: Vec<String>,
    /// Exit with this code when there are new findings (vulnerabilities,
    /// secrets, misconfigurations) of the chosen severities.
    #[arg(long, default_value_t = 0, value_name = "CODE")]
    pub exit_code: i32,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The old side: a JSON report (customs or Trivy) or an image (a name
    /// or an image file, as `customs image` takes it).
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new side: a JSON report or an image.
    #[arg(value_name = "NEW")]
    pub new: String,
    #[command(flatten)]
    pub out: DiffOutputArgs,
    /// Scanners run on an image side (comma list: vuln, secret, misconfig, hardening).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "vuln,secret",
        value_name = "LIST"
    )]
    pub scanners: Vec<String>,
    /// Vulnerability database file for image sides (default: CACHE_DIR/db/customs.db).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Never touch the network when scanning an image side.
    #[arg(long)]
    pub offline: bool,
    /// Do not update the database before scanning an image side.
    #[arg(long)]
    pub skip_db_update: bool,
    /// Allow plain HTTP and unverified TLS for image sides read from a registry.
    #[arg(long)]
    pub insecure: bool,
    /// The platform of a multi-platform image side.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Where to look for an image side given by name (comma list: docker, podman, remote).
    #[arg(long, value_name = "LIST")]
    pub image_src: Option<String>,
}

/// `customs image` arguments, parsed as its command line would be.
#[derive(Parser, Debug)]
#[command(no_binary_name = true)]
struct ImageCommand {
    #[command(flatten)]
    args: ImageArgs,
}

/// Whether `arg` names a JSON report rather than an image: a `.json`
/// path, or an existing file whose first byte is `{`.
fn is_report_file(arg: &str) -> bool {
    let p = Path::new(arg);
    // A `.json` side is a report, there or not (a missing one is an error
    // naming it, never an image name to look up).
    if p.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return true;
    }
    if !p.is_file() {
        return false;
    }
    use std::io::Read;
    let mut head = [0u8; 64];
    let n = std::fs::File::open(p)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    head.get(..n)
        .and_then(|h| h.iter().find(|b| !b.is_ascii_whitespace()))
        .is_some_and(|b| *b == b'{')
}

fn side(g: &GlobalArgs, a: &DiffArgs, arg: &str) -> Result<Report> {
    if is_report_file(arg) {
        return Ok(customs_history::read_report(Path::new(arg))?.report);
    }
    // An image: scanned as `customs image` would, with every package listed
    // (so the package diff is complete) and no severity filter (the diff
    // filters).
    let mut argv: Vec<String> = Vec::new();
    if Path::new(arg).exists() {
        argv.extend(["--input".into(), arg.into()]);
    } else {
        argv.push(arg.into());
    }
    argv.extend(["--list-all-pkgs".into(), "--format".into(), "json".into()]);
    argv.push(format!("--scanners={}", a.scanners.join(",")));
    if let Some(db) = &a.db {
        argv.push("--db".into());
        argv.push(db.display().to_string());
    }
    for (on, flag) in [
        (a.offline, "--offline"),
        (a.skip_db_update, "--skip-db-update"),
        (a.insecure, "--insecure"),
    ] {
        if on {
            argv.push(flag.into());
        }
    }
    if let Some(p) = &a.platform {
        argv.push(format!("--platform={p}"));
    }
    if let Some(s) = &a.image_src {
        argv.push(format!("--image-src={s}"));
    }
    let cmd = ImageCommand::try_parse_from(&argv).map_err(|e| {
        anyhow!(
            "{arg}: {}",
            e.to_string()
                .lines()
                .next()
                .unwrap_or("invalid image arguments")
        )
    })?;
    crate::scan::image_report(g, &cmd.args)
}

/// Show a diff and pick the exit code (shared with `customs history diff`).
pub fn finish(mut d: customs_history::ReportDiff, out: &DiffOutputArgs) -> Result<i32> {
    let sevs = customs_history::diff::parse_severities(&out.severity).map_err(|e| anyhow!(e))?;
    d.retain_severities(&sevs);
    // The table on the terminal shows the warnings itself.
    if out.format != DiffFormatArg::Table || out.output.is_some() {
        for w in &d.warnings {
            tracing::warn!("{w}");
        }
    }
    let text = customs_history::render::render(&d, out.format.into());
    crate::scan::write_output(out.output.as_deref(), text.as_bytes())?;
    Ok(if d.new_findings() > 0 {
        out.exit_code
    } else {
        0
    })
}

pub fn run(g: &GlobalArgs, a: &DiffArgs) -> Result<i32> {
    let old = side(g, a, &a.old)?;
    let new = side(g, a, &a.new)?;
    finish(customs_history::diff(&old, &new), &a.out)
}
