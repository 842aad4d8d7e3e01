//! A self-contained HTML report (`--format html`): one file that opens
//! offline and loads nothing (all CSS and JavaScript inline, a
//! `Content-Security-Policy` of `default-src 'none'`), readable without
//! JavaScript (every table is rendered here) and better with it (click a
//! header to sort, a filter box, severity checkboxes).
//!
//! Content: the image's metadata, summary cards, a severity chart (inline
//! SVG drawn here), the findings tables (vulnerabilities with KEV, EPSS and
//! VEX, secrets as masked in the report, misconfigurations, hardening), and
//! a per-layer view: which layer brought which package and finding, with
//! the layer's `created_by`.
//!
//! Every input-derived string goes through [`escape_html`] (a package named
//! `<script>` stays text), links through [`link_url`] (http and https
//! only), and the JSON summary in the page through [`json_in_script`].

use crate::escape::{clip, escape_html as h, json_in_script, link_url};
use crate::model::{class, severity_int, DetectedVulnerability, LayerMetadata, Report, ScanResult};
use crate::sbom::pkg_key;
use customs_model::{Package, Severity};
use serde_json::json;
use std::collections::HashMap;
use std::fmt::Write;

/// The page's Content-Security-Policy: nothing from anywhere, inline styles
/// and scripts only, images only as `data:` URLs.
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// What [`to_html`] can be told.
#[derive(Debug, Clone, Default)]
pub struct HtmlOptions {
    /// The version shown in the footer (`customs VERSION`); empty for none.
    pub tool_version: String,
    /// Keep the report's order of vulnerabilities (`--sort-by`) instead of
    /// severity, known-exploited, package, id.
    pub keep_order: bool,
}

const STYLE: &str = r#"
:root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--line:#d1d9e0;--soft:#f6f8fa;--crit:#b4232a;--high:#d1491e;--med:#b58105;--low:#2f6fbd;--unk:#6e7781}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 28px;background:#0d1117;color:#f0f6fc}
header h1{margin:0 0 4px;font-size:20px}
header .artifact{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:15px;word-break:break-all}
main{padding:12px 28px 40px;max-width:1600px}
h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px;word-break:break-all}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:118px;background:var(--soft)}
.card .n{font-size:24px;font-weight:650;display:block}
.card .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card.s-CRITICAL{border-left:5px solid var(--crit)}.card.s-HIGH{border-left:5px solid var(--high)}.card.s-MEDIUM{border-left:5px solid var(--med)}.card.s-LOW{border-left:5px solid var(--low)}.card.s-UNKNOWN{border-left:5px solid var(--unk)}.card.kevcard{border-left:5px solid #000}
.sev{display:inline-block;padding:1px 6px;border-radius:4px;color:#fff;font-size:11.5px;font-weight:600}
.sev.s-CRITICAL{background:var(--crit)}.sev.s-HIGH{background:var(--high)}.sev.s-MEDIUM{background:var(--med)}.sev.s-LOW{background:var(--low)}.sev.s-UNKNOWN{background:var(--unk)}
.kev{display:inline-block;padding:1px 5px;border-radius:4px;background:#000;color:#fff;font-size:11px;font-weight:700}
.vex,.note{color:var(--muted);font-size:12.5px}
table{border-collapse:collapse;width:100%;margin:6px 0 14px}
th,td{border:1px solid var(--line);padding:4px 7px;text-align:left;vertical-align:top}
th{background:var(--soft);position:sticky;top:0;white-space:nowrap}
html.js th{cursor:pointer;user-select:none}
html.js th::after{content:" \2195";color:var(--muted);font-size:11px}
th[aria-sort=ascending]::after{content:" \25B2"!important}th[aria-sort=descending]::after{content:" \25BC"!important}
tbody tr:nth-child(even){background:#fbfcfd}
#controls{position:sticky;top:0;z-index:2;background:var(--bg);padding:8px 0;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:14px;align-items:center}
#filter{padding:5px 8px;min-width:280px;border:1px solid var(--line);border-radius:6px}
details.layer{border:1px solid var(--line);border-radius:8px;margin:8px 0;padding:4px 10px}
details.layer>summary{cursor:pointer;padding:4px 0}
.count{color:var(--muted);font-size:12.5px}
footer{color:var(--muted);font-size:12px;padding:0 28px 20px}
"#;

const SCRIPT: &str = r#"
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function key(cell) {
    var k = cell.getAttribute("data-sort");
    return k !== null ? k : cell.textContent.trim();
  }
  function sortBy(table, i, th) {
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var num = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[i]), y = key(b.cells[i]);
      var r = num ? (parseFloat(x) || 0) - (parseFloat(y) || 0)
                  : x.localeCompare(y, undefined, { numeric: true, sensitivity: "base" });
      return dir === "ascending" ? r : -r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.tabIndex = 0;
      var go = function () { sortBy(table, i, th); };
      th.addEventListener("click", go);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); }
      });
    });
  });
  var q = document.getElementById("filter");
  var kev = document.getElementById("kev-only");
  var boxes = document.querySelectorAll("input.sev-box");
  function apply() {
    var s = q.value.trim().toLowerCase();
    var on = {};
    boxes.forEach(function (b) { on[b.value] = b.checked; });
    document.querySelectorAll("table.findings").forEach(function (t) {
      var shown = 0, total = 0;
      Array.prototype.forEach.call(t.tBodies[0].rows, function (r) {
        total++;
        var ok = on[r.getAttribute("data-sev")] !== false
          && (!kev.checked || r.getAttribute("data-kev") === "1")
          && (!s || r.textContent.toLowerCase().indexOf(s) >= 0);
        r.hidden = !ok;
        if (ok) { shown++; }
      });
      var c = document.getElementById(t.id + "-count");
      if (c) { c.textContent = shown + " of " + total + " shown"; }
    });
  }
  if (q) {
    q.addEventListener("input", apply);
    kev.addEventListener("change", apply);
    boxes.forEach(function (b) { b.addEventListener("change", apply); });
    document.getElementById("controls").hidden = false;
    apply();
  }
})();
"#;

fn sev_badge(s: Severity) -> String {
    format!("<span class=\"sev s-{0}\">{0}</span>", s.as_str())
}

/// A link to `url` (when it is one to link to) around the escaped `text`.
fn link(text: &str, url: &str) -> String {
    match link_url(url) {
        Some(u) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
            h(&u),
            h(text)
        ),
        None => h(text),
    }
}

fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", hex.get(..12).unwrap_or(hex)),
        None => d.get(..19).unwrap_or(d).to_string(),
    }
}

#[derive(Default, Clone, Copy)]
struct Counts {
    vulns: [usize; 5],
    secrets: [usize; 5],
    misconf: [usize; 5],
    hardening: [usize; 5],
    kev: usize,
    packages: usize,
}

impl Counts {
    fn of(report: &Report) -> Self {
        let mut c = Counts::default();
        for r in &report.results {
            for v in &r.vulnerabilities {
                c.vulns[severity_int(v.severity) as usize] += 1;
                c.kev += usize::from(v.known_exploited.is_some());
            }
            for s in &r.secrets {
                c.secrets[severity_int(s.severity) as usize] += 1;
            }
            for m in r.failed_misconfigs() {
                let t = if r.is_hardening() {
                    &mut c.hardening
                } else {
                    &mut c.misconf
                };
                t[severity_int(m.severity) as usize] += 1;
            }
            if r.is_packages() {
                c.packages += r.packages.len();
            }
        }
        c
    }
}

fn sum(a: [usize; 5]) -> usize {
    a.iter().sum()
}

fn metadata(report: &Report, out: &mut String) {
    let m = &report.metadata;
    out.push_str("<section id=\"image\"><h2>Image</h2><dl class=\"meta\">");
    let mut row = |k: &str, v: String| {
        let _ = write!(out, "<dt>{k}</dt><dd>{v}</dd>");
    };
    row("Name", format!("<code>{}</code>", h(&report.artifact_name)));
    row("Type", h(&report.artifact_type));
    if !m.image_id.is_empty() {
        row("Image ID", format!("<code>{}</code>", h(&m.image_id)));
    }
    if !m.repo_tags.is_empty() {
        let t: Vec<String> = m
            .repo_tags
            .iter()
            .map(|t| format!("<code>{}</code>", h(t)))
            .collect();
        row("Repo tags", t.join(", "));
    }
    if !m.repo_digests.is_empty() {
        let t: Vec<String> = m
            .repo_digests
            .iter()
            .map(|t| format!("<code>{}</code>", h(t)))
            .collect();
        row("Repo digests", t.join("<br>"));
    }
    if let Some(os) = &m.os {
        let mut s = format!("{} {}", h(&os.family), h(&os.name));
        if os.eosl {
            s.push_str(" <span class=\"note\">(end of life: no more security fixes)</span>");
        }
        row("OS", s);
    }
    if let Some(cfg) = &m.image_config {
        for (k, label) in [
            ("architecture", "Architecture"),
            ("created", "Image created"),
        ] {
            if let Some(v) = cfg.get(k).and_then(|v| v.as_str()) {
                row(label, h(v));
            }
        }
    }
    if !m.layers.is_empty() || !m.diff_ids.is_empty() {
        row("Layers", m.layers.len().max(m.diff_ids.len()).to_string());
    }
    if !report.created_at.is_empty() {
        row("Scanned", h(&report.created_at));
    }
    out.push_str("</dl></section>\n");
}

fn cards(c: &Counts, out: &mut String) {
    out.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    for s in Severity::ALL.iter().rev() {
        let _ = write!(
            out,
            "<div class=\"card s-{0}\"><span class=\"n\">{1}</span><span class=\"l\">{0}</span></div>",
            s.as_str(),
            c.vulns[severity_int(*s) as usize]
        );
    }
    for (cls, n, label) in [
        ("kevcard", c.kev, "Known exploited (KEV)"),
        ("", sum(c.secrets), "Secrets"),
        ("", sum(c.misconf), "Misconfigurations"),
        ("", sum(c.hardening), "Hardening"),
        ("", c.packages, "Packages"),
    ] {
        let _ = write!(
            out,
            "<div class=\"card {cls}\"><span class=\"n\">{n}</span><span class=\"l\">{label}</span></div>"
        );
    }
    out.push_str("</div>\n");
}

/// Horizontal stacked bars per severity: vulnerabilities, misconfigurations
/// (hardening included) and secrets, drawn here as SVG.
fn chart(c: &Counts, out: &mut String) {
    let colors = |s: Severity| match s {
        Severity::Critical => "#b4232a",
        Severity::High => "#d1491e",
        Severity::Medium => "#b58105",
        Severity::Low => "#2f6fbd",
        Severity::Unknown => "#6e7781",
    };
    let rows: Vec<(Severity, [usize; 3])> = Severity::ALL
        .iter()
        .rev()
        .map(|s| {
            let i = severity_int(*s) as usize;
            (
                *s,
                [c.vulns[i], c.misconf[i] + c.hardening[i], c.secrets[i]],
            )
        })
        .collect();
    let max = rows
        .iter()
        .map(|(_, v)| v.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (label_w, bar_w, row_h) = (96.0, 520.0, 30.0);
    let height = row_h * rows.len() as f64 + 34.0;
    let _ = write!(
        out,
        "<svg id=\"chart\" role=\"img\" aria-label=\"Findings by severity\" width=\"700\" height=\"{height}\" viewBox=\"0 0 700 {height}\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui,sans-serif\" font-size=\"12\">"
    );
    for (k, (s, v)) in rows.iter().enumerate() {
        let y = k as f64 * row_h + 4.0;
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{:.1}\" fill=\"#1f2328\">{}</text>",
            y + 16.0,
            s.as_str()
        );
        let mut x = label_w;
        for (j, n) in v.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let w = (*n as f64 / max as f64 * bar_w).max(2.0);
            let opacity = [1.0, 0.6, 0.35][j];
            let kind = ["vulnerabilities", "misconfigurations", "secrets"][j];
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"20\" rx=\"3\" fill=\"{}\" fill-opacity=\"{opacity}\"><title>{} {kind}: {n}</title></rect>",
                colors(*s),
                s.as_str()
            );
            x += w;
        }
        let total: usize = v.iter().sum();
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#59636e\">{total}</text>",
            x + 6.0,
            y + 15.0
        );
    }
    let ly = row_h * rows.len() as f64 + 18.0;
    for (j, (label, opacity)) in [
        ("vulnerabilities", 1.0),
        ("misconfigurations", 0.6),
        ("secrets", 0.35),
    ]
    .iter()
    .enumerate()
    {
        let x = label_w + j as f64 * 150.0;
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"#59636e\" fill-opacity=\"{opacity}\"/><text x=\"{:.1}\" y=\"{ly:.1}\" fill=\"#59636e\">{label}</text>",
            ly - 10.0,
            x + 16.0
        );
    }
    out.push_str("</svg></section>\n");
}

fn controls(out: &mut String) {
    out.push_str("<div id=\"controls\" hidden><input id=\"filter\" type=\"search\" placeholder=\"Filter: package, CVE, path, text…\" aria-label=\"Filter findings\">");
    for s in Severity::ALL.iter().rev() {
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" class=\"sev-box\" value=\"{0}\" checked> {0}</label>",
            s.as_str()
        );
    }
    out.push_str(
        "<label><input type=\"checkbox\" id=\"kev-only\"> only known exploited</label></div>\n",
    );
}

fn table_head(id: &str, title: &str, n: usize, cols: &[(&str, bool)], out: &mut String) {
    let _ = write!(
        out,
        "<section><h2>{title} <span class=\"count\" id=\"{id}-count\">{n}</span></h2><table id=\"{id}\" class=\"sortable findings\"><thead><tr>"
    );
    for (c, num) in cols {
        if *num {
            let _ = write!(out, "<th data-type=\"num\">{c}</th>");
        } else {
            let _ = write!(out, "<th>{c}</th>");
        }
    }
    out.push_str("</tr></thead><tbody>\n");
}

/// The sort key of a severity column: higher is more severe, a KEV finding
/// above the others of its severity.
fn sev_key(s: Severity, kev: bool) -> String {
    format!("{}{}", severity_int(s), if kev { ".5" } else { "" })
}

/// The results whose vulnerabilities are unknown (`ScanResult::missing_data`):
/// said before the findings, so that an empty table is not read as clean.
fn missing_data(report: &Report, out: &mut String) {
    let missing: Vec<_> = report
        .results
        .iter()
        .filter_map(|r| r.missing_data.as_ref().map(|m| (r, m)))
        .collect();
    if missing.is_empty() {
        return;
    }
    out.push_str("<section id=\"missing-data\"><h2>No advisory data</h2><ul>");
    for (r, m) in missing {
        let _ = write!(
            out,
            "<li><code>{}</code>: <span class=\"note\">{}</span></li>",
            h(&r.target),
            h(&m.reason)
        );
    }
    out.push_str("</ul></section>\n");
}

fn vuln_rows(
    report: &Report,
    anchors: &HashMap<*const DetectedVulnerability, usize>,
    keep_order: bool,
    out: &mut String,
) {
    missing_data(report, out);
    let n: usize = report.results.iter().map(|r| r.vulnerabilities.len()).sum();
    if n == 0 {
        if report.results.iter().any(|r| r.missing_data.is_some()) {
            out.push_str("<section><h2>Vulnerabilities</h2><p>No vulnerabilities found where the database has advisories.</p></section>\n");
        } else {
            out.push_str(
                "<section><h2>Vulnerabilities</h2><p>No vulnerabilities found.</p></section>\n",
            );
        }
        return;
    }
    table_head(
        "t-vulns",
        "Vulnerabilities",
        n,
        &[
            ("Target", false),
            ("Package", false),
            ("Vulnerability", false),
            ("Severity", true),
            ("Status", false),
            ("Installed", false),
            ("Fixed", false),
            ("EPSS", true),
            ("Title", false),
        ],
        out,
    );
    let mut all: Vec<(&ScanResult, &DetectedVulnerability)> = report
        .results
        .iter()
        .flat_map(|r| r.vulnerabilities.iter().map(move |v| (r, v)))
        .collect();
    if !keep_order {
        all.sort_by(|(_, a), (_, b)| crate::model::display_order(a, b));
    }
    for (r, v) in all {
        let kev = v.known_exploited.is_some();
        let anchor = anchors
            .get(&(v as *const DetectedVulnerability))
            .copied()
            .unwrap_or(0);
        let _ = write!(
            out,
            "<tr id=\"v-{anchor}\" data-sev=\"{}\" data-kev=\"{}\"><td><code>{}</code></td><td><code>{}</code></td><td>{}</td>",
            v.severity.as_str(),
            u8::from(kev),
            h(&r.target),
            h(&v.pkg_name),
            link(&v.vulnerability_id, &v.primary_url),
        );
        let _ = write!(
            out,
            "<td data-sort=\"{}\">{}",
            sev_key(v.severity, kev),
            sev_badge(v.severity)
        );
        if let Some(k) = &v.known_exploited {
            let _ = write!(
                out,
                " <span class=\"kev\" title=\"{}\">KEV</span>",
                h(&k.summary())
            );
        }
        out.push_str("</td>");
        let _ = write!(
            out,
            "<td>{}</td><td><code>{}</code></td><td><code>{}</code></td>",
            v.status.as_str(),
            h(&v.installed_version),
            h(&v.fixed_version)
        );
        match &v.epss {
            Some(e) => {
                let _ = write!(
                    out,
                    "<td data-sort=\"{}\">{}</td>",
                    e.score,
                    h(&e.summary())
                );
            }
            None => out.push_str("<td data-sort=\"-1\"></td>"),
        }
        let title = if v.title.is_empty() {
            clip(&v.description, 160)
        } else {
            v.title.clone()
        };
        let _ = write!(out, "<td>{}", h(&title));
        if let Some(k) = &v.known_exploited {
            let _ = write!(
                out,
                "<div class=\"note\">Known exploited: {}</div>",
                h(&k.summary())
            );
        }
        if let Some(x) = &v.vex {
            let _ = write!(out, "<div class=\"vex\">VEX: {}</div>", h(&x.summary()));
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table></section>\n");
}

fn secret_rows(report: &Report, out: &mut String) {
    let n: usize = report.results.iter().map(|r| r.secrets.len()).sum();
    if n == 0 {
        return;
    }
    table_head(
        "t-secrets",
        "Secrets",
        n,
        &[
            ("File", false),
            ("Rule", false),
            ("Severity", true),
            ("Title", false),
            ("Line", true),
            ("Match (masked)", false),
            ("Layer", false),
        ],
        out,
    );
    for r in &report.results {
        for s in &r.secrets {
            let _ = writeln!(
                out,
                "<tr data-sev=\"{}\" data-kev=\"0\"><td><code>{}</code></td><td><code>{}</code></td><td data-sort=\"{}\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                s.severity.as_str(),
                h(&r.target),
                h(&s.rule_id),
                severity_int(s.severity),
                sev_badge(s.severity),
                h(&s.title),
                s.start_line,
                // Masked by the scanner: the only part of the file printed.
                h(&clip(&s.match_line, 300)),
                h(&short_digest(&s.layer.diff_id)),
            );
        }
    }
    let dropped: u64 = report.results.iter().map(|r| r.secrets_dropped).sum();
    if dropped > 0 {
        let _ = writeln!(
            out,
            "</tbody></table><p class=\"note\">{dropped} more secret matches were counted but not listed (scanner limit per file).</p></section>"
        );
    } else {
        out.push_str("</tbody></table></section>\n");
    }
}

fn misconf_rows(report: &Report, hardening: bool, out: &mut String) {
    let results: Vec<&ScanResult> = report
        .results
        .iter()
        .filter(|r| r.class == class::CONFIG && r.is_hardening() == hardening)
        .collect();
    let n: usize = results.iter().map(|r| r.failed_misconfigs().count()).sum();
    if n == 0 {
        return;
    }
    let (id, title) = if hardening {
        ("t-hardening", "Hardening")
    } else {
        ("t-misconf", "Misconfigurations")
    };
    table_head(
        id,
        title,
        n,
        &[
            ("Target", false),
            ("Check", false),
            ("Severity", true),
            ("Title", false),
            ("Message", false),
            ("Resolution", false),
        ],
        out,
    );
    for r in results {
        let mut failed: Vec<_> = r.failed_misconfigs().collect();
        failed.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        for m in failed {
            let _ = writeln!(
                out,
                "<tr data-sev=\"{}\" data-kev=\"0\"><td><code>{}</code></td><td>{}</td><td data-sort=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                m.severity.as_str(),
                h(&r.target),
                link(&m.id, &m.primary_url),
                severity_int(m.severity),
                sev_badge(m.severity),
                h(&m.title),
                h(&clip(&m.message, 600)),
                h(&clip(&m.resolution, 300)),
            );
        }
    }
    out.push_str("</tbody></table></section>\n");
}

/// What one layer brought.
#[derive(Default)]
struct LayerFindings<'a> {
    packages: Vec<(&'a ScanResult, &'a Package)>,
    vulns: usize,
    secrets: Vec<(&'a ScanResult, &'a crate::model::SecretFinding)>,
    misconf: Vec<(&'a ScanResult, &'a crate::model::Misconfiguration)>,
}

fn layers(
    report: &Report,
    anchors: &HashMap<*const DetectedVulnerability, usize>,
    out: &mut String,
) {
    // The layers in order: from the metadata, else the bare diff IDs.
    let list: Vec<LayerMetadata> = if report.metadata.layers.is_empty() {
        report
            .metadata
            .diff_ids
            .iter()
            .map(|d| LayerMetadata {
                diff_id: d.clone(),
                ..Default::default()
            })
            .collect()
    } else {
        report.metadata.layers.clone()
    };
    let index: HashMap<&str, usize> = list
        .iter()
        .enumerate()
        .map(|(i, l)| (l.diff_id.as_str(), i))
        .collect();
    // One more group for what names no known layer.
    let mut groups: Vec<LayerFindings> = (0..=list.len()).map(|_| Default::default()).collect();
    let slot = |diff_id: &str| index.get(diff_id).copied().unwrap_or(list.len());
    // Findings of a package: (target, package key) → vulnerabilities.
    let mut by_pkg: HashMap<(&str, String), Vec<&DetectedVulnerability>> = HashMap::new();
    for r in &report.results {
        for v in &r.vulnerabilities {
            by_pkg
                .entry((
                    r.target.as_str(),
                    pkg_key(&v.pkg_id, &v.pkg_name, &v.installed_version),
                ))
                .or_default()
                .push(v);
            groups[slot(&v.layer.diff_id)].vulns += 1;
        }
        for p in &r.packages {
            groups[slot(&p.layer.diff_id)].packages.push((r, p));
        }
        for s in &r.secrets {
            groups[slot(&s.layer.diff_id)].secrets.push((r, s));
        }
        for m in r.failed_misconfigs() {
            if !m.layer.is_empty() {
                groups[slot(&m.layer.diff_id)].misconf.push((r, m));
            }
        }
    }
    if list.is_empty() && groups.iter().all(|g| g.packages.is_empty()) {
        return;
    }
    out.push_str("<section id=\"layers\"><h2>Layers</h2><p class=\"note\">Each layer with the command that created it, the packages it brought and their findings.</p>\n");
    for (i, g) in groups.iter().enumerate() {
        let layer = list.get(i);
        if layer.is_none() && g.packages.is_empty() && g.secrets.is_empty() && g.misconf.is_empty()
        {
            continue;
        }
        let (name, created_by, diff) = match layer {
            Some(l) => (
                format!("#{}", i + 1),
                l.created_by.as_str(),
                short_digest(&l.diff_id),
            ),
            None => ("Unattributed".to_string(), "", String::new()),
        };
        let findings = g.vulns + g.secrets.len() + g.misconf.len();
        let open = if findings > 0 { " open" } else { "" };
        let _ = write!(
            out,
            "<details class=\"layer\"{open}><summary><strong>{name}</strong> <code>{}</code> <span class=\"count\">{} · {} packages · {} vulnerabilities · {} secrets</span></summary>",
            h(&clip(created_by, 200)),
            h(&diff),
            g.packages.len(),
            g.vulns,
            g.secrets.len(),
        );
        if created_by.len() > 200 {
            let _ = write!(out, "<p><code>{}</code></p>", h(created_by));
        }
        if !g.packages.is_empty() {
            out.push_str("<table class=\"sortable\"><thead><tr><th>Package</th><th>Version</th><th>Target</th><th data-type=\"num\">Vulnerabilities</th><th>Findings</th></tr></thead><tbody>\n");
            let mut pkgs = g.packages.clone();
            pkgs.sort_by(|a, b| a.1.name.cmp(&b.1.name));
            for (r, p) in pkgs {
                let found = by_pkg
                    .get(&(r.target.as_str(), pkg_key(&p.id, &p.name, &p.version)))
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                let mut list: Vec<&&DetectedVulnerability> = found.iter().collect();
                list.sort_by_key(|v| std::cmp::Reverse(v.severity));
                let links: Vec<String> = list
                    .iter()
                    .map(|v| {
                        let a = anchors
                            .get(&(**v as *const DetectedVulnerability))
                            .copied()
                            .unwrap_or(0);
                        let kev = if v.known_exploited.is_some() {
                            " <span class=\"kev\">KEV</span>"
                        } else {
                            ""
                        };
                        format!(
                            "<a href=\"#v-{a}\">{}</a>&nbsp;{}{kev}",
                            h(&v.vulnerability_id),
                            sev_badge(v.severity)
                        )
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td data-sort=\"{}\">{}</td><td>{}</td></tr>",
                    h(&p.name),
                    h(&p.full_version()),
                    h(&r.target),
                    found.len(),
                    found.len(),
                    links.join(", ")
                );
            }
            out.push_str("</tbody></table>");
        }
        if !g.secrets.is_empty() || !g.misconf.is_empty() {
            out.push_str("<ul>");
            for (r, s) in &g.secrets {
                let _ = write!(
                    out,
                    "<li>{} secret <code>{}</code> in <code>{}</code> line {}</li>",
                    sev_badge(s.severity),
                    h(&s.rule_id),
                    h(&r.target),
                    s.start_line
                );
            }
            for (r, m) in &g.misconf {
                let _ = write!(
                    out,
                    "<li>{} {} <code>{}</code>: {}</li>",
                    sev_badge(m.severity),
                    h(&m.id),
                    h(&r.target),
                    h(&m.title)
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

/// The report as one self-contained HTML page.
pub fn to_html(report: &Report, opts: &HtmlOptions) -> String {
    let c = Counts::of(report);
    // A stable anchor per vulnerability, for the links of the layer view.
    let anchors: HashMap<*const DetectedVulnerability, usize> = report
        .results
        .iter()
        .flat_map(|r| r.vulnerabilities.iter())
        .enumerate()
        .map(|(i, v)| (v as *const DetectedVulnerability, i + 1))
        .collect();
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<link rel=\"icon\" href=\"data:,\">\n<title>customs report: {}</title>\n<style>{STYLE}</style></head>\n<body>\n<header><h1>customs report</h1><div class=\"artifact\">{}</div></header>\n<main>\n",
        h(&report.artifact_name),
        h(&report.artifact_name),
    );
    metadata(report, &mut out);
    cards(&c, &mut out);
    chart(&c, &mut out);
    controls(&mut out);
    vuln_rows(report, &anchors, opts.keep_order, &mut out);
    secret_rows(report, &mut out);
    misconf_rows(report, false, &mut out);
    misconf_rows(report, true, &mut out);
    layers(report, &anchors, &mut out);
    let summary = json!({
        "artifactName": report.artifact_name,
        "artifactType": report.artifact_type,
        "vulnerabilities": sum(c.vulns),
        "bySeverity": Severity::ALL
            .iter()
            .rev()
            .map(|s| (s.as_str().to_string(), json!(c.vulns[severity_int(*s) as usize])))
            .collect::<serde_json::Map<String, serde_json::Value>>(),
        "knownExploited": c.kev,
        "secrets": sum(c.secrets),
        "misconfigurations": sum(c.misconf),
        "hardening": sum(c.hardening),
        "packages": c.packages,
    });
    let by = if opts.tool_version.is_empty() {
        "customs".to_string()
    } else {
        format!("customs {}", h(&opts.tool_version))
    };
    let _ = write!(
        out,
        "</main>\n<footer>Generated by {by}. This file loads nothing from the network.</footer>\n<script type=\"application/json\" id=\"customs-summary\">{}</script>\n<script>{SCRIPT}</script>\n</body></html>\n",
        json_in_script(&summary)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use customs_model::LayerRef;

    fn report() -> Report {
        let evil = "<script>alert(1)</script>";
        let layer = |d: &str| LayerRef {
            diff_id: d.into(),
            ..Default::default()
        };
        let mut r = ScanResult::new(format!("t{evil}"), class::OS_PKGS, "alpine");
        r.packages.push(Package {
            id: "musl@1.2".into(),
            name: format!("musl{evil}"),
            version: "1.2".into(),
            layer: layer("sha256:l2"),
            ..Default::default()
        });
        r.vulnerabilities.push(DetectedVulnerability {
            vulnerability_id: "CVE-2024-1".into(),
            pkg_id: "musl@1.2".into(),
            pkg_name: format!("musl{evil}"),
            installed_version: "1.2".into(),
            severity: Severity::High,
            primary_url: "https://x/\"><script>".into(),
            layer: layer("sha256:l2"),
            ..Default::default()
        });
        Report {
            artifact_name: format!("img</script><!--{evil}"),
            artifact_type: "container_image".into(),
            metadata: crate::model::Metadata {
                layers: vec![
                    LayerMetadata {
                        diff_id: "sha256:l1".into(),
                        created_by: "ADD rootfs.tar /".into(),
                        ..Default::default()
                    },
                    LayerMetadata {
                        diff_id: "sha256:l2".into(),
                        created_by: format!("RUN apk add musl {evil}"),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            results: vec![r],
            ..Default::default()
        }
    }

    #[test]
    fn input_never_becomes_markup() {
        let html = to_html(&report(), &HtmlOptions::default());
        // Our own two scripts (the JSON summary and the code), nothing else.
        assert_eq!(html.matches("<script").count(), 2, "{html}");
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(!html.contains("<!--"));
        assert!(html.contains("musl&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(
            html.contains("href=\"https://x/%22%3E%3Cscript%3E\""),
            "{html}"
        );
        assert!(html.contains(&format!("content=\"{CSP}\"")));
        // Nothing is loaded from anywhere.
        for bad in [" src=", "url(", "@import", "<link rel=\"stylesheet"] {
            assert!(!html.contains(bad), "{bad}");
        }
    }

    #[test]
    fn secrets_show_the_masked_match_and_their_layer() {
        let mut r = report();
        let mut sec = ScanResult::new("app/.env", class::SECRET, "");
        sec.secrets.push(crate::model::SecretFinding {
            rule_id: "aws-access-key-id".into(),
            severity: Severity::Critical,
            title: "AWS Access Key ID".into(),
            start_line: 7,
            match_line: "AWS_ACCESS_KEY_ID=****".into(),
            layer: LayerRef {
                diff_id: "sha256:l1".into(),
                ..Default::default()
            },
            ..Default::default()
        });
        r.results.push(sec);
        let html = to_html(&r, &HtmlOptions::default());
        assert!(html.contains("<td>7</td><td><code>AWS_ACCESS_KEY_ID=****</code></td><td><code>sha256:l1</code></td>"), "{html}");
        // Listed under the layer that holds it.
        let l1 = html.find("ADD rootfs.tar /").unwrap_or(usize::MAX);
        let item = html
            .find("secret <code>aws-access-key-id</code> in <code>app/.env</code> line 7")
            .unwrap_or(0);
        assert!(l1 < item);
    }

    #[test]
    fn layers_show_what_they_brought() {
        let html = to_html(&report(), &HtmlOptions::default());
        let l2 = html.find("RUN apk add musl &lt;script&gt;").unwrap_or(0);
        let l1 = html.find("ADD rootfs.tar /").unwrap_or(usize::MAX);
        assert!(l1 < l2, "layers in order");
        let section = &html[l2..];
        assert!(
            section.contains("1 packages · 1 vulnerabilities"),
            "{section}"
        );
        assert!(
            section.contains("<a href=\"#v-1\">CVE-2024-1</a>"),
            "{section}"
        );
        assert!(html.contains("<tr id=\"v-1\""));
    }
}
