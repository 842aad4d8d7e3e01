//! The human table format: a Trivy-like "Report Summary", then one table per
//! target (vulnerabilities, secrets, misconfigurations, packages).

//!
//! Every piece of text that comes from the image (targets, package names,
//! versions, titles, quoted code) goes through [`escape_control`] before it
//! reaches the output, so control characters and bidi overrides are shown as
//! `\x1b`, `\u{202e}`, never interpreted by the terminal.

use crate::escape::{escape_control as esc, escape_control_lines};
use crate::model::{class, Report, ScanResult};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Attribute, Cell, CellAlignment, Color, Table};
use customs_model::Severity;
use std::fmt::Write;

/// Which scanners ran: a summary column is shown for each.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scanners {
    pub vuln: bool,
    pub secret: bool,
    pub misconfig: bool,
    pub hardening: bool,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TableOptions {
    pub scanners: Scanners,
    /// Colours (only on a terminal).
    pub color: bool,
    /// Show the package table of every target.
    pub list_all_pkgs: bool,
    /// Keep the report's order of vulnerabilities (`--sort-by`) instead of
    /// the table's own (severity, package, id).
    pub keep_order: bool,
}

fn sev_color(s: Severity) -> Color {
    match s {
        Severity::Critical => Color::Red,
        Severity::High => Color::DarkRed,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Blue,
        Severity::Unknown => Color::Grey,
    }
}

fn sev_cell(s: Severity, color: bool) -> Cell {
    sev_cell_text(s, s.as_str().to_string(), color)
}

/// A severity cell with `text` (the severity, and `(KEV)` for a finding in
/// CISA's Known Exploited Vulnerabilities catalog).
fn sev_cell_text(s: Severity, text: String, color: bool) -> Cell {
    let c = Cell::new(text);
    if color {
        c.fg(sev_color(s)).add_attribute(Attribute::Bold)
    } else {
        c
    }
}

/// A table cell holding image-derived text, escaped.
fn cell(s: &str) -> Cell {
    Cell::new(esc(s))
}

fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
    t.set_header(
        header
            .iter()
            .map(|h| Cell::new(h).set_alignment(CellAlignment::Center)),
    );
    t
}

fn summary(report: &Report, opts: &TableOptions) -> String {
    let sc = opts.scanners;
    let mut header = vec!["Target", "Type"];
    let inventory_only = !(sc.vuln || sc.secret || sc.misconfig || sc.hardening);
    if inventory_only {
        header.push("Packages");
    }
    if sc.vuln {
        header.push("Vulnerabilities");
    }
    if sc.secret {
        header.push("Secrets");
    }
    if sc.misconfig || sc.hardening {
        header.push("Misconfigurations");
    }
    let mut t = new_table(&header);
    for r in &report.results {
        let mut row: Vec<Cell> = vec![cell(&r.target), cell(&r.kind)];
        let center = |s: String| Cell::new(s).set_alignment(CellAlignment::Center);
        if inventory_only {
            row.push(center(if r.is_packages() {
                r.packages.len().to_string()
            } else {
                "-".into()
            }));
        }
        if sc.vuln {
            row.push(center(if r.missing_data.is_some() {
                UNKNOWN_COUNT.to_string()
            } else if r.is_packages() {
                r.vulnerabilities.len().to_string()
            } else {
                "-".into()
            }));
        }
        if sc.secret {
            row.push(center(if r.class == class::SECRET {
                r.secrets.len().to_string()
            } else {
                "-".into()
            }));
        }
        if sc.misconfig || sc.hardening {
            row.push(center(if r.class == class::CONFIG {
                r.failed_misconfigs().count().to_string()
            } else {
                "-".into()
            }));
        }
        t.add_row(row);
    }
    let mut out = String::from("\nReport Summary\n\n");
    let _ = writeln!(out, "{t}");
    out.push_str("Legend:\n- '-': Not scanned\n- '0': Clean (no security findings detected)\n");
    if sc.vuln && report.results.iter().any(|r| r.missing_data.is_some()) {
        out.push_str(UNKNOWN_LEGEND);
    }
    out
}

/// What the summaries show instead of a count when the database has no
/// advisories for a result (`ScanResult::missing_data`): unknown is not clean.
pub const UNKNOWN_COUNT: &str = "unknown";
const UNKNOWN_LEGEND: &str =
    "- 'unknown': No advisory data in the database for this OS release or ecosystem\n";

fn underline(title: &str) -> String {
    format!("\n{title}\n{}\n", "=".repeat(title.chars().count()))
}

fn totals(counts: [usize; 5]) -> String {
    let total: usize = counts.iter().sum();
    format!(
        "Total: {total} (UNKNOWN: {}, LOW: {}, MEDIUM: {}, HIGH: {}, CRITICAL: {})\n",
        counts[0], counts[1], counts[2], counts[3], counts[4]
    )
}

/// The columns of a vulnerability table (Trivy's).
pub const VULN_HEADER: [&str; 7] = [
    "Library",
    "Vulnerability",
    "Severity",
    "Status",
    "Installed Version",
    "Fixed Version",
    "Title",
];

fn vuln_section(r: &ScanResult, opts: &TableOptions, out: &mut String) {
    out.push_str(&underline(&esc(&r.target)));
    if let Some(m) = &r.missing_data {
        let _ = writeln!(out, "Total: {UNKNOWN_COUNT} ({})", esc(&m.reason));
        return;
    }
    out.push_str(&totals(r.vuln_counts()));
    if r.vulnerabilities.is_empty() {
        return;
    }
    let mut vulns: Vec<_> = r.vulnerabilities.iter().collect();
    if !opts.keep_order {
        vulns.sort_by(|a, b| crate::model::display_order(a, b));
    }
    let mut t = new_table(&VULN_HEADER);
    for v in vulns {
        let mut title = esc(&v.title).into_owned();
        if title.chars().count() > 60 {
            title = title.chars().take(57).collect::<String>() + "...";
        }
        if !v.primary_url.is_empty() {
            let url = esc(&v.primary_url);
            title = if title.is_empty() {
                url.into_owned()
            } else {
                format!("{title}\n{url}")
            };
        }
        t.add_row(vec![
            cell(&v.pkg_name),
            cell(&v.vulnerability_id),
            if v.known_exploited.is_some() {
                sev_cell_text(v.severity, format!("{} (KEV)", v.severity), opts.color)
            } else {
                sev_cell(v.severity, opts.color)
            },
            Cell::new(v.status.as_str()),
            cell(&v.installed_version),
            cell(&v.fixed_version),
            // Escaped above, piece by piece; the newline is the layout's.
            Cell::new(title),
        ]);
    }
    let _ = writeln!(out, "\n{t}");
}

fn pkg_section(r: &ScanResult, out: &mut String) {
    if r.packages.is_empty() {
        return;
    }
    let _ = writeln!(out, "Packages: {}", r.packages.len());
    let mut t = new_table(&["Package", "Version", "Source", "Layer"]);
    for p in &r.packages {
        let src = if p.src_name.is_empty() || (p.src_name == p.name && p.src_version.is_empty()) {
            String::new()
        } else {
            format!("{} {}", p.src_name, p.full_src_version())
        };
        let layer = p.layer.diff_id.chars().take(19).collect::<String>();
        t.add_row(vec![
            cell(&p.name),
            cell(&p.full_version()),
            cell(&src),
            cell(&layer),
        ]);
    }
    let _ = writeln!(out, "{t}");
}

fn secret_section(r: &ScanResult, opts: &TableOptions, out: &mut String) {
    out.push_str(&underline(&format!("{} (secrets)", esc(&r.target))));
    let mut counts = [0usize; 5];
    for s in &r.secrets {
        counts[crate::model::severity_int(s.severity) as usize] += 1;
    }
    out.push_str(&totals(counts));
    for s in &r.secrets {
        let sev = if opts.color {
            format!("\x1b[1;31m{}\x1b[0m", s.severity)
        } else {
            s.severity.to_string()
        };
        let title = esc(&s.title);
        let _ = writeln!(out, "\n{sev}: {title} ({})", esc(&s.rule_id));
        out.push_str(&"═".repeat(40));
        out.push('\n');
        let _ = writeln!(out, "{title}");
        out.push_str(&"─".repeat(40));
        out.push('\n');
        for l in &s.code.lines {
            let marker = if l.is_cause { ">" } else { " " };
            let content = esc(&l.content);
            let content = if l.is_cause && opts.color {
                format!("\x1b[1;31m{content}\x1b[0m")
            } else {
                content.into_owned()
            };
            let _ = writeln!(out, "{marker}{:>5} {content}", l.number);
        }
        out.push_str(&"─".repeat(40));
        out.push('\n');
        if !s.layer.is_empty() {
            let _ = writeln!(out, "  Layer: {}", esc(&s.layer.diff_id));
        }
    }
    if r.secrets_dropped > 0 {
        let _ = writeln!(
            out,
            "\n… and {} more secret findings not shown (limit per file)",
            r.secrets_dropped
        );
    }
}

fn misconf_section(r: &ScanResult, opts: &TableOptions, out: &mut String) {
    out.push_str(&underline(&format!(
        "{} ({})",
        esc(&r.target),
        esc(&r.kind)
    )));
    let failed: Vec<_> = r.failed_misconfigs().collect();
    let mut counts = [0usize; 5];
    for m in &failed {
        counts[crate::model::severity_int(m.severity) as usize] += 1;
    }
    if let Some(s) = &r.misconf_summary {
        let _ = writeln!(
            out,
            "Tests: {} (SUCCESSES: {}, FAILURES: {})",
            s.successes + s.failures,
            s.successes,
            s.failures
        );
    }
    out.push_str(&totals(counts));
    let mut failed = failed;
    failed.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    for m in failed {
        let sev = if opts.color {
            format!("\x1b[1;31m{}\x1b[0m", m.severity)
        } else {
            m.severity.to_string()
        };
        let _ = writeln!(out, "\n{} ({}): {}", esc(&m.id), sev, esc(&m.title));
        out.push_str(&"═".repeat(40));
        out.push('\n');
        if !m.message.is_empty() {
            let _ = writeln!(out, "{}", escape_control_lines(&m.message));
        }
        if !m.resolution.is_empty() {
            let _ = writeln!(out, "Resolution: {}", escape_control_lines(&m.resolution));
        }
        if !m.primary_url.is_empty() {
            let _ = writeln!(out, "See {}", esc(&m.primary_url));
        }
        if let Some(code) = &m.cause_metadata.code {
            if !code.lines.is_empty() {
                out.push_str(&"─".repeat(40));
                out.push('\n');
                for l in &code.lines {
                    let _ = writeln!(out, "{:>5} {}", l.number, esc(&l.content));
                }
            }
        }
        out.push_str(&"─".repeat(40));
        out.push('\n');
    }
}

/// Render the whole report as text tables.
pub fn render(report: &Report, opts: &TableOptions) -> String {
    let mut out = summary(report, opts);
    for r in &report.results {
        match r.class.as_str() {
            class::OS_PKGS | class::LANG_PKGS => {
                if opts.scanners.vuln {
                    vuln_section(r, opts, &mut out);
                } else if opts.list_all_pkgs {
                    out.push_str(&underline(&esc(&r.target)));
                }
                if opts.list_all_pkgs {
                    pkg_section(r, &mut out);
                }
            }
            class::SECRET => secret_section(r, opts, &mut out),
            class::CONFIG => misconf_section(r, opts, &mut out),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Code, DetectedVulnerability, Line, SecretFinding};

    /// A report whose every image-derived field carries terminal controls.
    fn hostile() -> Report {
        let evil = "\u{1b}]0;pwned\u{7}\u{1b}[31m\u{202e}";
        let secret = SecretFinding {
            rule_id: "aws-access-key-id".into(),
            title: format!("AWS{evil}"),
            code: Code {
                lines: vec![Line {
                    number: 1,
                    content: format!("AWS_ACCESS_KEY_ID=****{evil}"),
                    is_cause: true,
                    ..Default::default()
                }],
            },
            ..Default::default()
        };
        let vuln = DetectedVulnerability {
            vulnerability_id: format!("CVE-1{evil}"),
            pkg_name: format!("pkg{evil}"),
            installed_version: format!("1.0{evil}"),
            fixed_version: format!("1.1{evil}"),
            title: format!("title{evil}"),
            primary_url: format!("https://x/{evil}"),
            ..Default::default()
        };
        Report {
            results: vec![
                ScanResult {
                    target: format!("app/{evil}.env"),
                    class: class::SECRET.into(),
                    secrets: vec![secret],
                    ..Default::default()
                },
                ScanResult {
                    target: format!("lib/{evil}"),
                    class: class::LANG_PKGS.into(),
                    kind: format!("npm{evil}"),
                    vulnerabilities: vec![vuln],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn opts(color: bool) -> TableOptions {
        TableOptions {
            scanners: Scanners {
                vuln: true,
                secret: true,
                ..Default::default()
            },
            color,
            list_all_pkgs: true,
            keep_order: false,
        }
    }

    #[test]
    fn table_escapes_image_derived_text() {
        let out = render(&hostile(), &opts(false));
        assert!(
            !out.chars()
                .any(|c| c != '\n' && crate::escape::is_dangerous(c)),
            "{out}"
        );
        assert!(
            out.contains("app/\\x1b]0;pwned\\x07\\x1b[31m\\u{202e}.env"),
            "{out}"
        );
        assert!(out.contains("pkg\\x1b]0;pwned"), "{out}");
        assert!(out.contains("AWS_ACCESS_KEY_ID=****\\x1b]0;pwned"), "{out}");
    }

    #[test]
    fn colour_codes_are_only_our_own() {
        let out = render(&hostile(), &opts(true));
        // Our colours are SGR sequences (ESC [ ... m); the image's OSC
        // (ESC ]) and BEL never get through.
        assert!(!out.contains("\u{1b}]"), "{out}");
        assert!(!out.contains('\u{7}'), "{out}");
        assert!(!out.contains('\u{202e}'), "{out}");
    }

    #[test]
    fn known_exploited_is_marked_next_to_the_severity() {
        let mut r = hostile();
        r.results[1].vulnerabilities[0].severity = Severity::High;
        let plain = render(&r, &opts(false));
        assert!(plain.contains("┆ HIGH     ┆"), "{plain}");
        assert!(!plain.contains("(KEV)"));
        r.results[1].vulnerabilities[0].known_exploited =
            Some(crate::model::KnownExploited::default());
        let kev = render(&r, &opts(false));
        assert!(kev.contains("┆ HIGH (KEV) ┆"), "{kev}");
    }

    #[test]
    fn json_escapes_controls_itself() {
        let json = crate::to_json(&hostile());
        assert!(!json.contains('\u{1b}') && !json.contains('\u{7}'));
        assert!(json.contains("app/\\u001b]0;pwned\\u0007"), "{json}");
    }
}
