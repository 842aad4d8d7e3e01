//! The HTML report in a real headless Chromium (the Debian package),
//! driven over the DevTools protocol: the page must load with no console
//! error, no CSP violation and no request other than itself; its text must
//! show the image, a known CVE and the counts; clicking a header must sort;
//! the filter must filter. Screenshots are kept in target/artifacts/.
//!
//! The reports are real: `tests/fixtures/*.json` were produced by the CLI
//! from the real images (see tests/fixtures/README.md).
//!
//! Without Chromium the tests fail on CI (`CI` set) and are skipped with a
//! loud message elsewhere.

#[path = "support/chrome.rs"]
mod chrome;

use chrome::{require_chromium, Browser};
use customs_model::{Package, Severity};
use customs_report::{
    class, to_html, DetectedVulnerability, Epss, HtmlOptions, KnownExploited, Report, ScanResult,
    VexAnnotation,
};
use std::path::PathBuf;
use std::time::Duration;

fn fixture(name: &str) -> Report {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn artifacts() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../artifacts");
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    d
}

/// Write the page, load it, and check that it loaded cleanly: no console
/// error or warning, no CSP violation, no request but the page itself.
fn open(chromium: &std::path::Path, html: &str, name: &str) -> Browser {
    let path = artifacts().join(name);
    std::fs::write(&path, html).unwrap_or_else(|e| panic!("{e}"));
    let abs = std::fs::canonicalize(&path).unwrap_or_else(|e| panic!("{e}"));
    let url = format!("file://{}", abs.display());
    let mut b = Browser::start(chromium, 1400, 1000);
    b.load(&url);
    let problems = b.problems();
    assert!(problems.is_empty(), "{name}: {problems:#?}");
    let other: Vec<String> = b
        .requests()
        .into_iter()
        .filter(|u| *u != url && !u.starts_with("data:"))
        .collect();
    assert!(other.is_empty(), "{name}: requests attempted: {other:#?}");
    b
}

fn text_of(b: &mut Browser) -> String {
    b.eval("document.body.innerText")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The cells of column `col` (1-based) of the visible rows of `table`.
fn column(b: &mut Browser, table: &str, col: usize) -> Vec<String> {
    let v = b.eval(&format!(
        "Array.from(document.querySelectorAll('#{table} tbody tr')).filter(r => !r.hidden).map(r => r.cells[{}].textContent.trim())",
        col - 1
    ));
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_string())
        .collect()
}

fn is_sorted_by(v: &[String], b: &mut Browser, descending: bool) -> bool {
    // Compare as the page does (localeCompare, numeric), in the page.
    let arr = serde_json::to_string(v).unwrap_or_default();
    let sign = if descending { -1 } else { 1 };
    b.eval(&format!(
        "(() => {{ const a = {arr}; for (let i = 1; i < a.length; i++) {{ if ({sign} * a[i-1].localeCompare(a[i], undefined, {{numeric: true, sensitivity: 'base'}}) > 0) return false; }} return true; }})()"
    ))
    .as_bool()
    .unwrap_or(false)
}

#[test]
fn app_image_report_renders_sorts_and_filters_in_chromium() {
    let Some(chromium) = require_chromium("app_image_report_renders_sorts_and_filters_in_chromium")
    else {
        return;
    };
    let report = fixture("app-image.json");
    let t0 = std::time::Instant::now();
    let html = to_html(
        &report,
        &HtmlOptions {
            tool_version: "test".into(),
            ..Default::default()
        },
    );
    eprintln!(
        "app image: HTML {} bytes, rendered in {:?}",
        html.len(),
        t0.elapsed()
    );
    assert!(html.len() <= 2 * 1024 * 1024, "{} bytes", html.len());
    let mut b = open(&chromium, &html, "report.html");

    let text = text_of(&mut b);
    assert!(text.contains("target/images/app.tar"), "{text}");
    assert!(text.contains("CVE-2022-29526"), "{text}");
    assert!(text.contains("debian 12.15"), "{text}");
    // The cards show the report's counts.
    let total: usize = report.results.iter().map(|r| r.vulnerabilities.len()).sum();
    let unknown = report
        .results
        .iter()
        .flat_map(|r| &r.vulnerabilities)
        .filter(|v| v.severity == Severity::Unknown)
        .count();
    let cards = b.eval(
        "Object.fromEntries(Array.from(document.querySelectorAll('.card')).map(c => [c.querySelector('.l').textContent, c.querySelector('.n').textContent]))",
    );
    assert_eq!(cards["UNKNOWN"], unknown.to_string(), "{cards}");
    let hardening = report
        .results
        .iter()
        .filter(|r| r.is_hardening())
        .map(|r| r.failed_misconfigs().count())
        .sum::<usize>();
    assert_eq!(cards["Hardening"], hardening.to_string(), "{cards}");
    assert_eq!(column(&mut b, "t-vulns", 3).len(), total);
    // The layer view names the layer's command.
    assert!(text.contains("umoci repack"), "{text}");
    // The chart is SVG drawn by the renderer.
    assert_eq!(
        b.eval("document.querySelectorAll('svg#chart rect').length > 0"),
        true
    );

    let shot = b.screenshot(false);
    std::fs::write(artifacts().join("report.png"), &shot).unwrap_or_else(|e| panic!("{e}"));

    // Clicking the "Vulnerability" header sorts by it, again reverses.
    b.click("#t-vulns thead th:nth-child(3)");
    b.settle(Duration::from_millis(200));
    let ids = column(&mut b, "t-vulns", 3);
    assert_eq!(ids.len(), total);
    assert!(is_sorted_by(&ids, &mut b, false), "{ids:?}");
    assert_eq!(
        b.eval(
            "document.querySelector('#t-vulns thead th:nth-child(3)').getAttribute('aria-sort')"
        ),
        "ascending"
    );
    b.click("#t-vulns thead th:nth-child(3)");
    b.settle(Duration::from_millis(200));
    let ids = column(&mut b, "t-vulns", 3);
    assert!(is_sorted_by(&ids, &mut b, true), "{ids:?}");
    // Sorting by package name too.
    b.click("#t-vulns thead th:nth-child(2)");
    let pkgs = column(&mut b, "t-vulns", 2);
    assert!(is_sorted_by(&pkgs, &mut b, false), "{pkgs:?}");

    // The filter box keeps the matching rows only.
    let id = "CVE-2022-29526";
    let want = report
        .results
        .iter()
        .flat_map(|r| &r.vulnerabilities)
        .filter(|v| v.vulnerability_id == id)
        .count();
    assert!(want > 0);
    b.click("#filter");
    b.type_text(&id.to_lowercase());
    b.settle(Duration::from_millis(200));
    let shown = column(&mut b, "t-vulns", 3);
    assert!(shown.iter().all(|p| p == id), "{shown:?}");
    assert_eq!(shown.len(), want);
    let count = b.eval("document.getElementById('t-vulns-count').textContent");
    assert_eq!(count, format!("{want} of {total} shown"));
    // Unticking the severity the rows have hides them all.
    b.click("input.sev-box[value=UNKNOWN]");
    b.settle(Duration::from_millis(200));
    assert_eq!(
        column(&mut b, "t-vulns", 2).len(),
        report
            .results
            .iter()
            .flat_map(|r| &r.vulnerabilities)
            .filter(|v| v.vulnerability_id == id && v.severity != Severity::Unknown)
            .count()
    );
    let shot = b.screenshot(false);
    std::fs::write(artifacts().join("report-filtered.png"), &shot)
        .unwrap_or_else(|e| panic!("{e}"));
    let problems = b.problems();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn hostile_names_stay_text_and_kev_epss_vex_show_in_chromium() {
    let Some(chromium) =
        require_chromium("hostile_names_stay_text_and_kev_epss_vex_show_in_chromium")
    else {
        return;
    };
    let evil = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">";
    let mut r = ScanResult::new(format!("app/{evil}"), class::LANG_PKGS, "npm");
    r.packages.push(Package {
        id: format!("{evil}@1.0"),
        name: evil.into(),
        version: "1.0".into(),
        ..Default::default()
    });
    r.vulnerabilities.push(DetectedVulnerability {
        vulnerability_id: "CVE-2024-3094".into(),
        pkg_id: format!("{evil}@1.0"),
        pkg_name: evil.into(),
        installed_version: "1.0".into(),
        severity: Severity::Critical,
        title: format!("title {evil}"),
        primary_url: "javascript:window.__pwned=3".into(),
        known_exploited: Some(KnownExploited {
            cve_id: "CVE-2024-3094".into(),
            date_added: "2024-04-01".into(),
            due_date: "2024-04-22".into(),
            known_ransomware_campaign_use: "Unknown".into(),
            required_action: String::new(),
        }),
        epss: Some(Epss {
            cve_id: "CVE-2024-3094".into(),
            score: 0.8512,
            percentile: 0.9931,
            ..Default::default()
        }),
        vex: Some(VexAnnotation {
            status: "under_investigation".into(),
            statement: format!("checking {evil}"),
            source: "vex.json".into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    let report = Report {
        schema_version: 2,
        artifact_name: format!("evil{evil}"),
        artifact_type: "container_image".into(),
        results: vec![r],
        ..Default::default()
    };
    let html = to_html(&report, &HtmlOptions::default());
    let mut b = open(&chromium, &html, "hostile.html");
    assert_eq!(b.eval("typeof window.__pwned"), "undefined");
    assert_eq!(
        b.eval("document.querySelectorAll('main img, main script').length"),
        0
    );
    assert_eq!(
        b.eval("document.querySelectorAll('a[href^=javascript]').length"),
        0
    );
    let text = text_of(&mut b);
    assert!(text.contains("<script>window.__pwned=1</script>"), "{text}");
    assert!(text.contains("KEV"), "{text}");
    assert!(text.contains("85.12% (p99)"), "{text}");
    assert!(text.contains("VEX: under_investigation"), "{text}");
    let summary = b.eval("JSON.parse(document.getElementById('customs-summary').textContent)");
    assert_eq!(summary["artifactName"], report.artifact_name);
    assert_eq!(summary["knownExploited"], 1);
    let shot = b.screenshot(false);
    std::fs::write(artifacts().join("hostile.png"), &shot).unwrap_or_else(|e| panic!("{e}"));
}

/// The checks above can fail: a page that loads something from elsewhere,
/// or breaks its CSP, is caught.
#[test]
fn the_harness_catches_requests_and_csp_violations() {
    let Some(chromium) = require_chromium("the_harness_catches_requests_and_csp_violations") else {
        return;
    };
    let dir = artifacts();
    // No CSP: the request is attempted and recorded.
    let p = dir.join("harness-request.html");
    std::fs::write(
        &p,
        "<!DOCTYPE html><html><head><link rel=\"icon\" href=\"data:,\"></head><body><img src=\"http://127.0.0.1:9/x.png\"></body></html>",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut b = Browser::start(&chromium, 800, 600);
    b.load(&format!(
        "file://{}",
        std::fs::canonicalize(&p).unwrap_or(p).display()
    ));
    b.settle(Duration::from_millis(500));
    assert!(
        b.requests()
            .iter()
            .any(|u| u.starts_with("http://127.0.0.1:9/")),
        "{:?}",
        b.requests()
    );
    drop(b);
    // Our CSP: the same image is blocked, and the violation is an error.
    let p = dir.join("harness-csp.html");
    std::fs::write(
        &p,
        format!("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"{}\"><link rel=\"icon\" href=\"data:,\"></head><body><img src=\"http://127.0.0.1:9/x.png\"></body></html>", customs_report::html::CSP),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut b = Browser::start(&chromium, 800, 600);
    b.load(&format!(
        "file://{}",
        std::fs::canonicalize(&p).unwrap_or(p).display()
    ));
    b.settle(Duration::from_millis(500));
    assert!(
        b.problems()
            .iter()
            .any(|m| m.contains("Content Security Policy")),
        "{:#?}",
        b.problems()
    );
}
