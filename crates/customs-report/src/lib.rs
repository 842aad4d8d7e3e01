//! The customs report model and its renderers. Every output format is a pure
//! function of [`Report`].

pub mod cyclonedx;
pub mod escape;
pub mod html;
pub mod markdown;
pub mod model;
pub mod sarif;
mod sbom;
pub mod spdx;
pub mod table;

pub use cyclonedx::to_cyclonedx;
pub use escape::escape_control;
pub use html::{to_html, HtmlOptions};
pub use markdown::{to_markdown, MarkdownOptions};
pub use model::*;
pub use sarif::to_sarif;
pub use spdx::to_spdx;

/// The JSON format: Trivy's schema (SchemaVersion 2), pretty-printed.
pub fn to_json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        // Serializing plain data structures cannot fail; keep a valid document anyway.
        format!("{{\"error\": \"{e}\"}}")
    });
    s.push('\n');
    s
}

/// An output format, by the name `--format` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    Sarif,
    Cyclonedx,
    SpdxJson,
    Markdown,
    Html,
}

impl ReportFormat {
    /// Every format with its name, as `--format` and the server's
    /// `?format=` take them.
    pub const ALL: [(&'static str, ReportFormat); 7] = [
        ("table", ReportFormat::Table),
        ("json", ReportFormat::Json),
        ("sarif", ReportFormat::Sarif),
        ("cyclonedx", ReportFormat::Cyclonedx),
        ("spdx-json", ReportFormat::SpdxJson),
        ("markdown", ReportFormat::Markdown),
        ("html", ReportFormat::Html),
    ];

    pub fn parse(name: &str) -> Option<ReportFormat> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// The HTTP media type of a rendered report.
    pub fn media_type(self) -> &'static str {
        match self {
            ReportFormat::Table => "text/plain; charset=utf-8",
            ReportFormat::Json => "application/json",
            ReportFormat::Sarif => "application/sarif+json",
            ReportFormat::Cyclonedx => "application/vnd.cyclonedx+json",
            ReportFormat::SpdxJson => "application/spdx+json",
            ReportFormat::Markdown => "text/markdown; charset=utf-8",
            ReportFormat::Html => "text/html; charset=utf-8",
        }
    }

    /// SBOMs list every package, whatever was asked.
    pub fn lists_all_packages(self) -> bool {
        matches!(self, ReportFormat::Cyclonedx | ReportFormat::SpdxJson)
    }
}

/// What rendering needs besides the report.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// customs' version, named by SARIF, the SBOMs and HTML.
    pub tool_version: String,
    /// The table's sections.
    pub scanners: table::Scanners,
    /// Colours (the table on a terminal).
    pub color: bool,
    /// The table shows every package.
    pub list_all_pkgs: bool,
    /// Keep the report's order of findings (a `--sort-by` was chosen).
    pub keep_order: bool,
    /// The `file:` URI SARIF paths are relative to (`sarif::root_uri`).
    pub sarif_root: String,
    /// The time the SBOMs are stamped with (RFC 3339).
    pub now: String,
}

/// Render a report in a format: the one function the CLI and the server
/// share.
pub fn render(report: &Report, format: ReportFormat, o: &RenderOptions) -> String {
    match format {
        ReportFormat::Json => to_json(report),
        ReportFormat::Sarif => to_sarif(report, &o.tool_version, &o.sarif_root),
        ReportFormat::Cyclonedx => to_cyclonedx(report, &o.tool_version, &o.now),
        ReportFormat::SpdxJson => {
            let seed = format!(
                "{}\0{}\0{}",
                report.artifact_name, report.metadata.image_id, o.now
            );
            to_spdx(report, &o.tool_version, &o.now, &seed)
        }
        ReportFormat::Markdown => to_markdown(
            report,
            &MarkdownOptions {
                keep_order: o.keep_order,
                ..Default::default()
            },
        ),
        ReportFormat::Html => to_html(
            report,
            &HtmlOptions {
                tool_version: o.tool_version.clone(),
                keep_order: o.keep_order,
            },
        ),
        ReportFormat::Table => table::render(
            report,
            &table::TableOptions {
                scanners: o.scanners,
                color: o.color,
                list_all_pkgs: o.list_all_pkgs,
                keep_order: o.keep_order,
            },
        ),
    }
}
