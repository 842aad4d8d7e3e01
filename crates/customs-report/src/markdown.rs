//! GitHub-flavoured Markdown (`--format markdown`): for a job's step summary
//! (`$GITHUB_STEP_SUMMARY`) or a pull-request comment. A "Report Summary"
//! table, the counts per severity, then one section per target:
//! vulnerabilities (linked to their advisory, KEV / EPSS / VEX noted),
//! secrets (as masked in the report), misconfigurations, and the hardening
//! findings of the final filesystem. Long sections are folded in
//! `<details>`.
//!
//! The document never exceeds [`MarkdownOptions::max_bytes`] (1 MiB by
//! default, GitHub's step-summary limit): rows are dropped whole, most
//! severe kept first, and a note at the end says what was cut.
//!
//! Every input-derived string goes through [`escape_markdown`] (or
//! [`link_url`] for a link target): the image may be hostile, and a package
//! named `x|<img src=…>` must render as that text.

use crate::escape::{clip, escape_markdown as md, link_url};
use crate::model::{class, severity_int, DetectedVulnerability, Report, ScanResult};
use customs_model::Severity;
use std::fmt::Write;

/// GitHub's limit for one step summary (and close to a comment's).
pub const DEFAULT_MAX_BYTES: usize = 1024 * 1024;

/// Sections with more rows than this are folded by default.
pub const DEFAULT_FOLD_AFTER: usize = 10;

/// What [`to_markdown`] can be told.
#[derive(Debug, Clone, Default)]
pub struct MarkdownOptions {
    /// The size limit of the document in bytes; `None` for
    /// [`DEFAULT_MAX_BYTES`].
    pub max_bytes: Option<usize>,
    /// Fold a section in `<details>` when it has more rows than this;
    /// `None` for [`DEFAULT_FOLD_AFTER`].
    pub fold_after: Option<usize>,
    /// Keep the report's order of vulnerabilities (`--sort-by`) instead of
    /// severity, known-exploited, package, id.
    pub keep_order: bool,
}

/// Bytes kept free for the truncation notes and closing tags: at most
/// [`MAX_NOTES`] notes of at most [`NOTE_TARGET_BYTES`] of target name each,
/// plus the aggregate line.
const RESERVE: usize = 8192;
const MAX_NOTES: usize = 8;
const NOTE_TARGET_BYTES: usize = 60;

/// One table section: rows are dropped from the end when the limit is near.
struct Section {
    head: String,
    rows: Vec<String>,
    tail: String,
    /// What a row is (`vulnerabilities`, `secrets`, ...), for the note.
    noun: &'static str,
    /// The target the rows belong to, for the note (empty: none).
    target: String,
}

struct Cut {
    count: usize,
    noun: &'static str,
    target: String,
}

struct Doc {
    out: String,
    budget: usize,
    cuts: Vec<Cut>,
}

impl Doc {
    /// Add `s` whole if it fits (`false` otherwise).
    fn text(&mut self, s: &str) -> bool {
        if self.out.len() + s.len() > self.budget {
            return false;
        }
        self.out.push_str(s);
        true
    }

    /// Add as much of the section as fits: the head and tail only with at
    /// least one row, rows in order; what does not fit is noted.
    fn section(&mut self, s: Section) {
        let total = s.rows.len();
        let fixed = s.head.len() + s.tail.len();
        let mut shown = 0;
        if total > 0 && self.out.len() + fixed + s.rows[0].len() <= self.budget {
            self.out.push_str(&s.head);
            for row in &s.rows {
                if self.out.len() + row.len() + s.tail.len() > self.budget {
                    break;
                }
                self.out.push_str(row);
                shown += 1;
            }
            self.out.push_str(&s.tail);
        }
        if shown < total {
            self.cuts.push(Cut {
                count: total - shown,
                noun: s.noun,
                target: s.target,
            });
        }
    }
}

/// `1 MiB`, `64 KiB`, `1000 bytes`.
fn human_limit(n: usize) -> String {
    if n >= 1024 * 1024 && n / (1024 * 1024) * (1024 * 1024) == n {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 && n / 1024 * 1024 == n {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Input-derived text as inline code (entities inside, so nothing in it
/// can close the element or split a table row).
fn code(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    format!("<code>{}</code>", md(s))
}

/// `[text](url)` when the URL is one to link to, else the text.
fn link(text: &str, url: &str) -> String {
    match link_url(url) {
        Some(u) => format!("[{}]({u})", md(text)),
        None => md(text),
    }
}

fn counts_line(c: [usize; 5]) -> String {
    Severity::ALL
        .iter()
        .rev()
        .filter(|s| c[severity_int(**s) as usize] > 0)
        .map(|s| format!("{}: {}", s.as_str(), c[severity_int(*s) as usize]))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Head and tail of a table, folded when it has more than `fold` rows.
fn frame(title: String, summary: String, header: &str, n: usize, fold: usize) -> (String, String) {
    let mut head = format!("\n{title}\n\n");
    let mut tail = String::new();
    if n > fold {
        let _ = write!(head, "<details><summary>{summary}</summary>\n\n");
        tail.push_str("\n</details>\n");
    } else if !summary.is_empty() {
        let _ = write!(head, "{summary}\n\n");
    }
    head.push_str(header);
    (head, tail)
}

fn vuln_row(v: &DetectedVulnerability) -> String {
    let mut sev = v.severity.as_str().to_string();
    if v.known_exploited.is_some() {
        sev.push_str(" **KEV**");
    }
    let mut title = if v.title.is_empty() {
        md(&clip(&v.description, 120))
    } else {
        md(&clip(&v.title, 200))
    };
    let mut notes = Vec::new();
    if let Some(k) = &v.known_exploited {
        notes.push(format!("Known exploited: {}", md(&k.summary())));
    }
    if let Some(e) = &v.epss {
        notes.push(format!("EPSS {}", md(&e.summary())));
    }
    if let Some(x) = &v.vex {
        notes.push(format!("VEX: {}", md(&clip(&x.summary(), 300))));
    }
    if !notes.is_empty() {
        if !title.is_empty() {
            title.push_str("<br>");
        }
        title.push_str(&notes.join(" · "));
    }
    format!(
        "| {} | {} | {sev} | {} | {} | {} | {title} |\n",
        code(&v.pkg_name),
        link(&v.vulnerability_id, &v.primary_url),
        v.status.as_str(),
        code(&v.installed_version),
        code(&v.fixed_version),
    )
}

fn vuln_section(r: &ScanResult, fold: usize, keep_order: bool) -> Section {
    let mut vulns: Vec<&DetectedVulnerability> = r.vulnerabilities.iter().collect();
    if !keep_order {
        vulns.sort_by(|a, b| crate::model::display_order(a, b));
    }
    let n = vulns.len();
    let kev = vulns.iter().filter(|v| v.known_exploited.is_some()).count();
    let mut summary = format!(
        "{n} {} ({})",
        if n == 1 {
            "vulnerability"
        } else {
            "vulnerabilities"
        },
        counts_line(r.vuln_counts())
    );
    if kev > 0 {
        let _ = write!(summary, ", {kev} known exploited");
    }
    let (head, tail) = frame(
        format!("### {} ({})", code(&r.target), md(&r.kind)),
        summary,
        "| Package | Vulnerability | Severity | Status | Installed | Fixed | Title |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        n,
        fold,
    );
    Section {
        head,
        rows: vulns.into_iter().map(vuln_row).collect(),
        tail,
        noun: "vulnerabilities",
        target: r.target.clone(),
    }
}

fn secret_section(r: &ScanResult, fold: usize) -> Section {
    let mut counts = [0usize; 5];
    for s in &r.secrets {
        counts[severity_int(s.severity) as usize] += 1;
    }
    let n = r.secrets.len();
    let mut summary = format!(
        "{n} {} ({})",
        if n == 1 { "secret" } else { "secrets" },
        counts_line(counts)
    );
    if r.secrets_dropped > 0 {
        let _ = write!(
            summary,
            "; {} more matches not listed (scanner limit per file)",
            r.secrets_dropped
        );
    }
    let (head, tail) = frame(
        format!("### {} (secrets)", code(&r.target)),
        summary,
        "| Rule | Severity | Title | Line | Match (masked) |\n| --- | --- | --- | ---: | --- |\n",
        n,
        fold,
    );
    let rows = r
        .secrets
        .iter()
        .map(|s| {
            format!(
                "| {} | {} | {} | {} | {} |\n",
                code(&s.rule_id),
                s.severity.as_str(),
                md(&s.title),
                s.start_line,
                // The scanner masked the secret in the match line; it is
                // the only part of the file that is printed.
                code(&clip(&s.match_line, 200)),
            )
        })
        .collect();
    Section {
        head,
        rows,
        tail,
        noun: "secrets",
        target: r.target.clone(),
    }
}

fn misconf_section(r: &ScanResult, fold: usize) -> Section {
    let mut failed: Vec<_> = r.failed_misconfigs().collect();
    failed.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    let mut counts = [0usize; 5];
    for m in &failed {
        counts[severity_int(m.severity) as usize] += 1;
    }
    let n = failed.len();
    let hardening = r.is_hardening();
    let noun = if hardening {
        "hardening findings"
    } else {
        "misconfigurations"
    };
    let one = if hardening {
        "hardening finding"
    } else {
        "misconfiguration"
    };
    let mut summary = format!(
        "{n} {} ({})",
        if n == 1 { one } else { noun },
        counts_line(counts)
    );
    if let Some(s) = &r.misconf_summary {
        let _ = write!(
            summary,
            "; {} checks passed, {} failed",
            s.successes, s.failures
        );
    }
    let title = if hardening {
        format!("### Hardening: {}", code(&r.target))
    } else {
        format!("### {} ({})", code(&r.target), md(&r.kind))
    };
    let (head, tail) = frame(
        title,
        summary,
        "| Check | Severity | Title | Message |\n| --- | --- | --- | --- |\n",
        n,
        fold,
    );
    let rows = failed
        .iter()
        .map(|m| {
            let msg = if m.message.is_empty() {
                &m.description
            } else {
                &m.message
            };
            format!(
                "| {} | {} | {} | {} |\n",
                link(&m.id, &m.primary_url),
                m.severity.as_str(),
                md(&m.title),
                md(&clip(msg, 400)),
            )
        })
        .collect();
    Section {
        head,
        rows,
        tail,
        noun,
        target: r.target.clone(),
    }
}

fn image_line(report: &Report) -> String {
    let m = &report.metadata;
    let mut parts = Vec::new();
    if let Some(os) = &m.os {
        let mut s = format!("**OS** {} {}", md(&os.family), md(&os.name));
        if os.eosl {
            s.push_str(" (end of life)");
        }
        parts.push(s);
    }
    if !m.image_id.is_empty() {
        parts.push(format!("**ID** {}", code(&clip(&m.image_id, 19))));
    }
    if !m.repo_tags.is_empty() {
        let tags: Vec<String> = m.repo_tags.iter().take(5).map(|t| code(t)).collect();
        parts.push(format!("**Tags** {}", tags.join(" ")));
    }
    if !m.repo_digests.is_empty() {
        let d: Vec<String> = m.repo_digests.iter().take(3).map(|t| code(t)).collect();
        parts.push(format!("**Digests** {}", d.join(" ")));
    }
    if !m.layers.is_empty() {
        parts.push(format!("**Layers** {}", m.layers.len()));
    }
    parts.join(" · ")
}

fn summary_section(report: &Report) -> Section {
    let head = "\n### Report Summary\n\n| Target | Type | Vulnerabilities | Secrets | Misconfigurations |\n| --- | --- | ---: | ---: | ---: |\n".to_string();
    let rows = report
        .results
        .iter()
        .map(|r| {
            let dash = || "-".to_string();
            let vulns = if r.missing_data.is_some() {
                crate::table::UNKNOWN_COUNT.to_string()
            } else if r.is_packages() {
                r.vulnerabilities.len().to_string()
            } else {
                dash()
            };
            let secrets = if r.class == class::SECRET {
                r.secrets.len().to_string()
            } else {
                dash()
            };
            let misconf = if r.class == class::CONFIG {
                r.failed_misconfigs().count().to_string()
            } else {
                dash()
            };
            format!(
                "| {} | {} | {vulns} | {secrets} | {misconf} |\n",
                code(&r.target),
                md(&r.kind)
            )
        })
        .collect();
    Section {
        head,
        rows,
        tail: String::new(),
        noun: "targets of the summary",
        target: String::new(),
    }
}

fn severity_table(report: &Report) -> String {
    let mut v = [0usize; 5];
    let mut s = [0usize; 5];
    let mut m = [0usize; 5];
    let mut kev = 0;
    for r in &report.results {
        for x in &r.vulnerabilities {
            v[severity_int(x.severity) as usize] += 1;
            kev += usize::from(x.known_exploited.is_some());
        }
        for x in &r.secrets {
            s[severity_int(x.severity) as usize] += 1;
        }
        for x in r.failed_misconfigs() {
            m[severity_int(x.severity) as usize] += 1;
        }
    }
    let mut out = String::from(
        "\n### Severities\n\n| Severity | Vulnerabilities | Secrets | Misconfigurations |\n| --- | ---: | ---: | ---: |\n",
    );
    for sev in Severity::ALL.iter().rev() {
        let i = severity_int(*sev) as usize;
        let _ = writeln!(out, "| {} | {} | {} | {} |", sev.as_str(), v[i], s[i], m[i]);
    }
    let sum = |a: [usize; 5]| a.iter().sum::<usize>();
    let _ = writeln!(
        out,
        "| **Total** | **{}** | **{}** | **{}** |",
        sum(v),
        sum(s),
        sum(m)
    );
    if kev > 0 {
        let _ = writeln!(
            out,
            "\n**{kev}** {} in CISA's Known Exploited Vulnerabilities catalog (**KEV**).",
            if kev == 1 {
                "vulnerability is"
            } else {
                "vulnerabilities are"
            }
        );
    }
    out
}

/// The report as GitHub-flavoured Markdown, at most
/// [`MarkdownOptions::max_bytes`] long.
pub fn to_markdown(report: &Report, opts: &MarkdownOptions) -> String {
    let max = opts.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
    let fold = opts.fold_after.unwrap_or(DEFAULT_FOLD_AFTER);
    let mut doc = Doc {
        out: String::new(),
        budget: max.saturating_sub(RESERVE),
        cuts: Vec::new(),
    };
    let mut intro = format!("## customs report: {}\n", code(&report.artifact_name));
    let line = image_line(report);
    if !line.is_empty() {
        let _ = write!(intro, "\n{line}\n");
    }
    doc.text(&intro);
    doc.section(summary_section(report));
    let missing: Vec<String> = report
        .results
        .iter()
        .filter_map(|r| {
            let m = r.missing_data.as_ref()?;
            Some(format!(
                "> **No advisory data** for {}: {}",
                code(&r.target),
                md(&m.reason)
            ))
        })
        .collect();
    if !missing.is_empty() {
        doc.text(&format!("\n{}\n", missing.join("\n>\n")));
    }
    doc.text(&severity_table(report));

    let mut sections = Vec::new();
    for r in &report.results {
        if r.is_packages() && !r.vulnerabilities.is_empty() {
            sections.push(vuln_section(r, fold, opts.keep_order));
        }
    }
    for r in &report.results {
        if r.class == class::SECRET && !r.secrets.is_empty() {
            sections.push(secret_section(r, fold));
        }
    }
    for hardening in [false, true] {
        for r in &report.results {
            if r.class == class::CONFIG
                && r.is_hardening() == hardening
                && r.failed_misconfigs().next().is_some()
            {
                sections.push(misconf_section(r, fold));
            }
        }
    }
    if sections.is_empty() {
        if missing.is_empty() {
            doc.text("\nNo vulnerabilities, secrets or misconfigurations found.\n");
        } else {
            // Unknown is not clean: nothing found only where data was.
            doc.text("\nNo vulnerabilities, secrets or misconfigurations found where the database has advisories.\n");
        }
    }
    for s in sections {
        doc.section(s);
    }

    // The notes go into the reserve kept free for them.
    let mut out = doc.out;
    if !doc.cuts.is_empty() {
        let limit = human_limit(max);
        out.push_str("\n---\n");
        for c in doc.cuts.iter().take(MAX_NOTES) {
            let of = if c.target.is_empty() {
                String::new()
            } else {
                format!(" of target {}", code(&clip(&c.target, NOTE_TARGET_BYTES)))
            };
            let _ = writeln!(
                out,
                "\n… {} more {}{of} not shown (limit {limit})",
                c.count, c.noun
            );
        }
        if doc.cuts.len() > MAX_NOTES {
            let rest: usize = doc.cuts[MAX_NOTES..].iter().map(|c| c.count).sum();
            let _ = writeln!(
                out,
                "\n… and {rest} more findings in {} more sections not shown (limit {limit})",
                doc.cuts.len() - MAX_NOTES
            );
        }
    }
    if out.len() > max {
        // Only a limit smaller than the reserve gets here: say so, within it.
        let all: usize = report
            .results
            .iter()
            .map(|r| r.vulnerabilities.len() + r.secrets.len() + r.failed_misconfigs().count())
            .sum();
        out = clip(
            &format!(
                "customs report: {all} findings not shown (limit {})\n",
                human_limit(max)
            ),
            max.saturating_sub(3),
        );
        if out.len() > max {
            out.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Epss, KnownExploited, SecretFinding, VexAnnotation};
    use customs_model::finding::Misconfiguration;
    use customs_model::Status;

    fn vuln(id: &str, pkg: &str, sev: Severity) -> DetectedVulnerability {
        DetectedVulnerability {
            vulnerability_id: id.into(),
            pkg_name: pkg.into(),
            installed_version: "1.0-r0".into(),
            fixed_version: "1.1-r0".into(),
            status: Status::Fixed,
            severity: sev,
            title: format!("{pkg}: a flaw"),
            primary_url: format!("https://nvd.nist.gov/vuln/detail/{id}"),
            ..Default::default()
        }
    }

    /// A small report with one of everything.
    pub(crate) fn small() -> Report {
        let mut os = ScanResult::new("app.tar (alpine 3.20.3)", class::OS_PKGS, "alpine");
        let mut kev = vuln("CVE-2024-3094", "xz", Severity::Critical);
        kev.known_exploited = Some(KnownExploited {
            cve_id: "CVE-2024-3094".into(),
            date_added: "2024-04-01".into(),
            due_date: "2024-04-22".into(),
            known_ransomware_campaign_use: "Known".into(),
            required_action: String::new(),
        });
        kev.epss = Some(Epss {
            cve_id: "CVE-2024-3094".into(),
            score: 0.8512,
            percentile: 0.9931,
            ..Default::default()
        });
        let mut vexed = vuln("CVE-2024-0001", "musl", Severity::Low);
        vexed.vex = Some(VexAnnotation {
            status: "under_investigation".into(),
            statement: "checking".into(),
            source: "vex.json".into(),
            ..Default::default()
        });
        os.vulnerabilities = vec![vexed, vuln("CVE-2024-0002", "busybox", Severity::High), kev];
        let mut sec = ScanResult::new("app/.env", class::SECRET, "");
        sec.secrets.push(SecretFinding {
            rule_id: "aws-access-key-id".into(),
            category: "AWS".into(),
            severity: Severity::Critical,
            title: "AWS Access Key ID".into(),
            start_line: 3,
            end_line: 3,
            match_line: "AWS_ACCESS_KEY_ID=********************".into(),
            ..Default::default()
        });
        let mut cfg = ScanResult::new("image config", class::CONFIG, "image-config");
        cfg.misconfigurations.push(Misconfiguration {
            kind: "image-config".into(),
            id: "DS-0002".into(),
            title: "Image user should not be 'root'".into(),
            message: "Last USER command in image is root".into(),
            severity: Severity::High,
            status: customs_model::finding::FAIL.into(),
            primary_url: "https://avd.aquasec.com/misconfig/ds002".into(),
            ..Default::default()
        });
        let mut hard = ScanResult::new("filesystem", class::CONFIG, crate::model::HARDENING_TYPE);
        hard.misconfigurations.push(Misconfiguration {
            kind: "hardening".into(),
            id: "CS-0101".into(),
            title: "World-writable files".into(),
            message: "etc/passwd is world-writable".into(),
            severity: Severity::Medium,
            status: customs_model::finding::FAIL.into(),
            ..Default::default()
        });
        Report {
            schema_version: 2,
            artifact_name: "app.tar".into(),
            artifact_type: "container_image".into(),
            results: vec![os, sec, cfg, hard],
            ..Default::default()
        }
    }

    #[test]
    fn small_report_snapshot() {
        insta::assert_snapshot!(to_markdown(&small(), &MarkdownOptions::default()));
    }

    #[test]
    fn folded_when_long() {
        let opts = MarkdownOptions {
            fold_after: Some(2),
            ..Default::default()
        };
        let md = to_markdown(&small(), &opts);
        assert!(
            md.contains("<details><summary>3 vulnerabilities (CRITICAL: 1 · HIGH: 1 · LOW: 1), 1 known exploited</summary>"),
            "{md}"
        );
        // Markdown inside <details> needs the blank line after the summary.
        assert!(md.contains("</summary>\n\n| Package"), "{md}");
        assert_eq!(
            md.matches("<details>").count(),
            md.matches("</details>").count()
        );
    }

    #[test]
    fn kev_epss_vex_and_masked_secret_are_shown() {
        let md = to_markdown(&small(), &MarkdownOptions::default());
        assert!(md.contains("| CRITICAL **KEV** |"), "{md}");
        assert!(
            md.contains("EPSS 85.12% &#40;p99&#41;") || md.contains("EPSS 85.12% (p99)"),
            "{md}"
        );
        assert!(
            md.contains("VEX: under&#95;investigation: checking"),
            "{md}"
        );
        assert!(md.contains("**1** vulnerability is in CISA"), "{md}");
        assert!(
            md.contains("AWS&#95;ACCESS&#95;KEY&#95;ID=&#42;&#42;&#42;"),
            "{md}"
        );
        assert!(
            md.contains("### Hardening: <code>filesystem</code>"),
            "{md}"
        );
        // Most severe first.
        let crit = md.find("CVE-2024-3094").unwrap_or(usize::MAX);
        let low = md.find("CVE-2024-0001").unwrap_or(0);
        assert!(crit < low, "{md}");
    }

    #[test]
    fn hostile_strings_are_escaped() {
        let evil = "a|b`c`<img src=x onerror=alert(1)>&amp;[click](https://evil.example)\n## forged\u{1b}[2J\u{202e} @admin *bold* _it_ ~~s~~ \\";
        let mut r = ScanResult::new(format!("t{evil}"), class::LANG_PKGS, format!("npm{evil}"));
        let mut v = vuln(&format!("CVE{evil}"), evil, Severity::High);
        v.installed_version = evil.into();
        v.title = evil.into();
        v.primary_url = "javascript:alert(1)".into();
        r.vulnerabilities.push(v);
        let mut s = ScanResult::new(format!("s{evil}"), class::SECRET, "");
        s.secrets.push(SecretFinding {
            rule_id: evil.into(),
            title: evil.into(),
            match_line: evil.into(),
            ..Default::default()
        });
        let report = Report {
            artifact_name: evil.into(),
            results: vec![r, s],
            ..Default::default()
        };
        let md = to_markdown(&report, &MarkdownOptions::default());
        for bad in [
            "<img",
            "`c`",
            "](https://evil",
            "javascript:",
            "\n## forged",
            "@admin",
            "*bold*",
            "_it_",
            "~~s~~",
            "&amp;[",
        ] {
            assert!(!md.contains(bad), "{bad:?} in\n{md}");
        }
        assert!(!md
            .chars()
            .any(|c| c != '\n' && crate::escape::is_dangerous(c)));
        // Every table row still has its columns: no `|` got through.
        for line in md
            .lines()
            .filter(|l| l.starts_with("| ") && l.contains("CVE"))
        {
            assert_eq!(line.matches('|').count(), 8, "{line}");
        }
    }

    fn big(n: usize) -> Report {
        let mut r = ScanResult::new("big.tar (debian 12)", class::OS_PKGS, "debian");
        for i in 0..n {
            let sev = Severity::ALL[i % 5];
            r.vulnerabilities
                .push(vuln(&format!("CVE-2024-{i:05}"), &format!("pkg{i}"), sev));
        }
        let mut other = ScanResult::new("app/package-lock.json", class::LANG_PKGS, "npm");
        for i in 0..50 {
            other
                .vulnerabilities
                .push(vuln(&format!("GHSA-{i:04}"), "lodash", Severity::Low));
        }
        Report {
            artifact_name: "big.tar".into(),
            results: vec![r, other],
            ..Default::default()
        }
    }

    #[test]
    fn truncated_under_the_limit_with_an_exact_note() {
        let report = big(5000);
        let full = to_markdown(
            &report,
            &MarkdownOptions {
                max_bytes: Some(usize::MAX),
                ..Default::default()
            },
        );
        assert!(full.len() > 64 * 1024);
        for limit in [64 * 1024, 100_000, 20_000] {
            let md = to_markdown(
                &report,
                &MarkdownOptions {
                    max_bytes: Some(limit),
                    ..Default::default()
                },
            );
            assert!(md.len() <= limit, "{} > {limit}", md.len());
            let shown = md.lines().filter(|l| l.contains("[CVE-2024-")).count();
            let note = format!(
                "… {} more vulnerabilities of target <code>big.tar &#40;debian 12&#41;</code> not shown (limit {})",
                5000 - shown,
                human_limit(limit)
            );
            let note = note.replace("&#40;", "(").replace("&#41;", ")");
            assert!(md.contains(&note), "{note}\n{}", &md[md.len() - 600..]);
            let shown2 = md.lines().filter(|l| l.contains("[GHSA-")).count();
            assert!(
                md.contains(&format!(
                    "… {} more vulnerabilities of target <code>app/package-lock.json</code>",
                    50 - shown2
                )),
                "{}",
                &md[md.len() - 600..]
            );
            // Whole rows only, and the folded section is closed.
            assert_eq!(
                md.matches("<details>").count(),
                md.matches("</details>").count()
            );
            assert!(md
                .lines()
                .all(|l| !l.starts_with("| ") || l.ends_with(" |")));
            // The most severe are the ones kept.
            assert!(md.contains("| CRITICAL |"));
        }
        // The default limit is 1 MiB.
        let huge = big(20_000);
        let md = to_markdown(&huge, &MarkdownOptions::default());
        assert!(md.len() <= DEFAULT_MAX_BYTES);
        assert!(md.contains("not shown (limit 1 MiB)"));
    }

    #[test]
    fn tiny_limits_are_still_honoured() {
        for limit in [0, 10, 100, 5000] {
            let md = to_markdown(
                &big(100),
                &MarkdownOptions {
                    max_bytes: Some(limit),
                    ..Default::default()
                },
            );
            assert!(md.len() <= limit, "{limit}: {md}");
        }
    }

    #[test]
    fn an_empty_report_says_so() {
        let md = to_markdown(&Report::default(), &MarkdownOptions::default());
        assert!(md.contains("No vulnerabilities, secrets or misconfigurations found."));
    }
}
