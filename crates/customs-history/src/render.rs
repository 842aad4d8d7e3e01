//! A diff as text: a terminal table, JSON (the `ReportDiff` serialized) or
//! Markdown (for a pull-request comment). Image-derived text is escaped of
//! control characters as the report renderers do.

use crate::diff::{FindingDiff, PkgChange, PkgEntry, ReportDiff, VulnEntry};
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use customs_report::escape_control;
use customs_report::table::VULN_HEADER;

/// Output formats of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Table,
    Json,
    Markdown,
}

pub fn render(d: &ReportDiff, format: DiffFormat) -> String {
    match format {
        DiffFormat::Json => to_json(d),
        DiffFormat::Table => table(d),
        DiffFormat::Markdown => markdown(d),
    }
}

pub fn to_json(d: &ReportDiff) -> String {
    let mut s =
        serde_json::to_string_pretty(d).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

fn esc(s: &str) -> String {
    escape_control(s).into_owned()
}

fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((algo, hex)) if hex.len() > 12 => format!("{algo}:{}", &hex[..12]),
        _ => d.to_string(),
    }
}

fn side_line(s: &crate::diff::Side) -> String {
    let mut out = esc(&s.artifact_name);
    let mut extra = Vec::new();
    if !s.os.is_empty() {
        extra.push(esc(&s.os));
    }
    if !s.digest.is_empty() {
        extra.push(short_digest(&esc(&s.digest)));
    }
    if !s.created_at.is_empty() {
        extra.push(esc(&s.created_at));
    }
    if !extra.is_empty() {
        out.push_str(&format!(" ({})", extra.join(", ")));
    }
    out
}

fn layers_line(d: &ReportDiff) -> String {
    let l = &d.layers;
    if l.unchanged.is_empty() && l.old_changed.is_empty() && l.new_changed.is_empty() {
        return "Layers: none listed".into();
    }
    let base = if l.unchanged.is_empty() {
        "no shared base".to_string()
    } else if l.old_changed.is_empty() && l.new_changed.is_empty() {
        "identical layers".to_string()
    } else if l.old_changed.is_empty() {
        "base unchanged".to_string()
    } else {
        "base changed".to_string()
    };
    format!(
        "Layers: {} shared, {} old-only, {} new-only ({base})",
        l.unchanged.len(),
        l.old_changed.len(),
        l.new_changed.len()
    )
}

fn summary_lines(d: &ReportDiff) -> Vec<String> {
    let v = &d.vulnerabilities;
    let p = &d.packages;
    let note = if p.from_vulnerabilities {
        " (vulnerable packages only: a report has no package list)"
    } else {
        ""
    };
    vec![
        format!(
            "Vulnerabilities: {} new, {} fixed, {} unchanged",
            v.new.len(),
            v.fixed.len(),
            v.unchanged.len()
        ),
        format!(
            "Packages: {} added, {} removed, {} upgraded, {} unchanged{note}",
            p.added.len(),
            p.removed.len(),
            p.upgraded.len(),
            p.unchanged
        ),
        format!(
            "Secrets: {} new, {} resolved, {} unchanged",
            d.secrets.new.len(),
            d.secrets.resolved.len(),
            d.secrets.unchanged
        ),
        format!(
            "Misconfigurations: {} new, {} resolved, {} unchanged",
            d.misconfigurations.new.len(),
            d.misconfigurations.resolved.len(),
            d.misconfigurations.unchanged
        ),
        layers_line(d),
    ]
}

fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.to_vec());
    t
}

fn vuln_id(v: &VulnEntry) -> String {
    if v.matched_id.is_empty() {
        esc(&v.vulnerability_id)
    } else {
        format!("{} (= {})", esc(&v.vulnerability_id), esc(&v.matched_id))
    }
}

fn pkg_label(name: &str, path: &str) -> String {
    if path.is_empty() {
        esc(name)
    } else {
        format!("{} ({})", esc(name), esc(path))
    }
}

fn vuln_rows(vs: &[VulnEntry]) -> Vec<Vec<String>> {
    vs.iter()
        .map(|v| {
            vec![
                pkg_label(&v.pkg_name, &v.pkg_path),
                vuln_id(v),
                v.severity.as_str().to_string(),
                v.status.as_str().to_string(),
                esc(&v.installed_version),
                esc(&v.fixed_version),
                esc(&v.title),
            ]
        })
        .collect()
}

fn pkg_rows(added: &[PkgEntry], removed: &[PkgEntry], up: &[PkgChange]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for c in up {
        rows.push(vec![
            "upgraded".into(),
            pkg_label(&c.name, &c.path),
            esc(&c.kind),
            esc(&c.old_versions.join(", ")),
            esc(&c.new_versions.join(", ")),
        ]);
    }
    for p in added {
        rows.push(vec![
            "added".into(),
            pkg_label(&p.name, &p.path),
            esc(&p.kind),
            String::new(),
            esc(&p.versions.join(", ")),
        ]);
    }
    for p in removed {
        rows.push(vec![
            "removed".into(),
            pkg_label(&p.name, &p.path),
            esc(&p.kind),
            esc(&p.versions.join(", ")),
            String::new(),
        ]);
    }
    rows
}

const PKG_HEADER: [&str; 5] = ["Change", "Package", "Type", "Old Version", "New Version"];

fn secret_rows(d: &FindingDiff<crate::diff::SecretEntry>) -> Vec<Vec<String>> {
    let row = |what: &str, s: &crate::diff::SecretEntry| {
        vec![
            what.to_string(),
            esc(&s.target),
            esc(&s.rule_id),
            s.severity.as_str().to_string(),
            esc(&s.match_line),
        ]
    };
    d.new
        .iter()
        .map(|s| row("new", s))
        .chain(d.resolved.iter().map(|s| row("resolved", s)))
        .collect()
}

const SECRET_HEADER: [&str; 5] = ["Change", "Target", "Rule", "Severity", "Match"];

fn misconf_rows(d: &FindingDiff<crate::diff::MisconfEntry>) -> Vec<Vec<String>> {
    let row = |what: &str, m: &crate::diff::MisconfEntry| {
        vec![
            what.to_string(),
            esc(&m.target),
            esc(&m.id),
            m.severity.as_str().to_string(),
            esc(&m.title),
        ]
    };
    d.new
        .iter()
        .map(|m| row("new", m))
        .chain(d.resolved.iter().map(|m| row("resolved", m)))
        .collect()
}

const MISCONF_HEADER: [&str; 5] = ["Change", "Target", "ID", "Severity", "Title"];

fn table(d: &ReportDiff) -> String {
    let mut out = String::new();
    out.push_str(&format!("Old: {}\n", side_line(&d.old)));
    out.push_str(&format!("New: {}\n", side_line(&d.new)));
    for w in &d.warnings {
        out.push_str(&format!("WARN {}\n", esc(w)));
    }
    out.push('\n');
    for l in summary_lines(d) {
        out.push_str(&l);
        out.push('\n');
    }
    let mut section = |title: &str, header: &[&str], rows: Vec<Vec<String>>| {
        if rows.is_empty() {
            return;
        }
        let mut t = new_table(header);
        for r in rows {
            t.add_row(r);
        }
        out.push_str(&format!("\n{title}\n{t}\n"));
    };
    section(
        "New vulnerabilities",
        &VULN_HEADER,
        vuln_rows(&d.vulnerabilities.new),
    );
    section(
        "Fixed vulnerabilities",
        &VULN_HEADER,
        vuln_rows(&d.vulnerabilities.fixed),
    );
    let p = &d.packages;
    section(
        "Packages",
        &PKG_HEADER,
        pkg_rows(&p.added, &p.removed, &p.upgraded),
    );
    section("Secrets", &SECRET_HEADER, secret_rows(&d.secrets));
    section(
        "Misconfigurations",
        &MISCONF_HEADER,
        misconf_rows(&d.misconfigurations),
    );
    out
}

/// A Markdown table cell: pipes escaped, newlines as `<br>`.
fn md(s: &str) -> String {
    esc(s).replace('|', "\\|").replace("\\x0a", "<br>")
}

fn md_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| md(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
}

fn markdown(d: &ReportDiff) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "## customs diff: `{}` → `{}`\n\n",
        md(&d.old.artifact_name),
        md(&d.new.artifact_name)
    ));
    for w in &d.warnings {
        out.push_str(&format!("> **Warning:** {}\n\n", md(w)));
    }
    for l in summary_lines(d) {
        out.push_str(&format!("- {}\n", md(&l)));
    }
    // The tables' cells are escaped once, by md_table.
    let mut section = |title: &str, header: &[&str], rows: Vec<Vec<String>>| {
        if rows.is_empty() {
            return;
        }
        out.push_str(&format!("\n### {title}\n\n"));
        md_table(&mut out, header, &rows);
    };
    let v = &d.vulnerabilities;
    let plain = |vs: &[VulnEntry]| -> Vec<Vec<String>> {
        vs.iter()
            .map(|v| {
                vec![
                    if v.pkg_path.is_empty() {
                        v.pkg_name.clone()
                    } else {
                        format!("{} ({})", v.pkg_name, v.pkg_path)
                    },
                    if v.matched_id.is_empty() {
                        v.vulnerability_id.clone()
                    } else {
                        format!("{} (= {})", v.vulnerability_id, v.matched_id)
                    },
                    v.severity.as_str().to_string(),
                    v.status.as_str().to_string(),
                    v.installed_version.clone(),
                    v.fixed_version.clone(),
                    v.title.clone(),
                ]
            })
            .collect()
    };
    section("New vulnerabilities", &VULN_HEADER, plain(&v.new));
    section("Fixed vulnerabilities", &VULN_HEADER, plain(&v.fixed));
    let p = &d.packages;
    let mut pkgs = Vec::new();
    for c in &p.upgraded {
        pkgs.push(vec![
            "upgraded".into(),
            pkg_plain(&c.name, &c.path),
            c.kind.clone(),
            c.old_versions.join(", "),
            c.new_versions.join(", "),
        ]);
    }
    for a in &p.added {
        pkgs.push(vec![
            "added".into(),
            pkg_plain(&a.name, &a.path),
            a.kind.clone(),
            String::new(),
            a.versions.join(", "),
        ]);
    }
    for r in &p.removed {
        pkgs.push(vec![
            "removed".into(),
            pkg_plain(&r.name, &r.path),
            r.kind.clone(),
            r.versions.join(", "),
            String::new(),
        ]);
    }
    section("Packages", &PKG_HEADER, pkgs);
    let s = &d.secrets;
    let srow = |w: &str, e: &crate::diff::SecretEntry| {
        vec![
            w.to_string(),
            e.target.clone(),
            e.rule_id.clone(),
            e.severity.as_str().to_string(),
            e.match_line.clone(),
        ]
    };
    section(
        "Secrets",
        &SECRET_HEADER,
        s.new
            .iter()
            .map(|e| srow("new", e))
            .chain(s.resolved.iter().map(|e| srow("resolved", e)))
            .collect(),
    );
    let m = &d.misconfigurations;
    let mrow = |w: &str, e: &crate::diff::MisconfEntry| {
        vec![
            w.to_string(),
            e.target.clone(),
            e.id.clone(),
            e.severity.as_str().to_string(),
            e.title.clone(),
        ]
    };
    section(
        "Misconfigurations",
        &MISCONF_HEADER,
        m.new
            .iter()
            .map(|e| mrow("new", e))
            .chain(m.resolved.iter().map(|e| mrow("resolved", e)))
            .collect(),
    );
    out
}

fn pkg_plain(name: &str, path: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({path})")
    }
}
