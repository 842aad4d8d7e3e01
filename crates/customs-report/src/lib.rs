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
