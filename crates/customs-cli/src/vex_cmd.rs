//! `customs vex generate`: turn triage (an ignore file, and the suppressed
//! findings of a report) into an OpenVEX document. The document is built by
//! `customs_detect::vex`; this file parses the arguments and writes it.

use anyhow::{anyhow, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct VexArgs {
    #[command(subcommand)]
    pub command: VexCommand,
}

#[derive(Subcommand, Debug)]
pub enum VexCommand {
    /// Write an OpenVEX 0.2 document from an ignore file and/or a report's
    /// suppressed findings (scanned with --show-suppressed).
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Ignore file (`.trivyignore` lines, or YAML: `.customsignore.yaml`,
    /// `.trivyignore.yaml`); repeatable. Expired rules are left out.
    #[arg(long = "from", value_name = "IGNOREFILE")]
    pub from: Vec<PathBuf>,
    /// A customs or Trivy JSON report: its suppressed findings
    /// (`ModifiedFindings`) become statements, and its packages resolve the
    /// rules' paths to products.
    #[arg(long, value_name = "REPORT.json")]
    pub report: Option<PathBuf>,
    /// The document's author (OpenVEX requires one).
    #[arg(long, default_value = "customs", value_name = "NAME")]
    pub author: String,
    /// The author's role.
    #[arg(long, default_value = "", value_name = "ROLE")]
    pub role: String,
    /// Product for rules that name no package (e.g. the image:
    /// `pkg:oci/app@sha256%3A…`); repeatable.
    #[arg(long, value_name = "PURL")]
    pub product: Vec<String>,
    /// Write the document to FILE instead of stdout (whole, atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(a: &VexArgs) -> Result<i32> {
    match &a.command {
        VexCommand::Generate(g) => generate(g),
    }
}

fn generate(g: &GenerateArgs) -> Result<i32> {
    if g.from.is_empty() && g.report.is_none() {
        // A usage error, as clap reports them.
        eprintln!(
            "customs: error: vex generate needs --from IGNOREFILE and/or --report REPORT.json"
        );
        return Ok(2);
    }
    let mut ignores = Vec::new();
    for f in &g.from {
        ignores.push(customs_detect::IgnoreRules::load(f).map_err(|e| anyhow!("{e}"))?);
    }
    let report = match &g.report {
        Some(p) => Some(
            customs_history::load::read_report(p)
                .map_err(|e| anyhow!("{e}"))?
                .report,
        ),
        None => None,
    };
    let opts = customs_detect::vex::GenerateOptions {
        author: g.author.clone(),
        role: g.role.clone(),
        timestamp: customs_scan::now_rfc3339(),
        today: customs_detect::Date::today(),
        products: g.product.clone(),
    };
    let out = customs_detect::vex::generate_openvex(&ignores, report.as_ref(), &opts)
        .map_err(|e| anyhow!("{e}"))?;
    for s in &out.skipped {
        tracing::warn!("{s}");
    }
    tracing::info!("{} VEX statement(s) written", out.statements);
    crate::scan::write_output(g.output.as_deref(), out.document.as_bytes())?;
    Ok(0)
}
