//! The renderers on reports of real images (`tests/fixtures`, produced by
//! the CLI from the real alpine 3.20.3 and app images; see the README
//! there): Markdown within its limit, HTML self-contained and small, SPDX
//! valid — checked here structurally, and with the SPDX project's own
//! validator (`pyspdxtools`) when it is installed (required on CI).

use customs_report::{to_html, to_markdown, to_spdx, HtmlOptions, MarkdownOptions, Report};
use serde_json::Value;
use std::collections::HashSet;
use std::path::PathBuf;

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

const FIXTURES: [&str; 2] = ["alpine-3.20.3.json", "app-image.json"];

fn vuln_total(r: &Report) -> usize {
    r.results.iter().map(|r| r.vulnerabilities.len()).sum()
}

#[test]
fn markdown_of_real_images() {
    for f in FIXTURES {
        let r = fixture(f);
        let md = to_markdown(&r, &MarkdownOptions::default());
        std::fs::write(artifacts().join(f.replace(".json", ".md")), &md)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(md.len() <= 1024 * 1024);
        assert!(
            !md.contains("not shown (limit"),
            "{f}: nothing cut at 1 MiB"
        );
        let rows = md
            .lines()
            .filter(|l| l.starts_with("| <code>") && l.contains("](https://"))
            .count();
        let linked = r
            .results
            .iter()
            .flat_map(|r| &r.vulnerabilities)
            .filter(|v| v.primary_url.starts_with("https://"))
            .count();
        assert_eq!(rows, linked, "{f}: one linked row per vulnerability");
        // The severity table gives the report's counts.
        let total = vuln_total(&r);
        assert!(
            md.contains(&format!("| **Total** | **{total}** |")),
            "{f}\n{md}"
        );
    }
    let alpine = to_markdown(&fixture("alpine-3.20.3.json"), &MarkdownOptions::default());
    assert!(alpine.contains("[CVE-2024-58251](https://nvd.nist.gov/vuln/detail/CVE-2024-58251)"));
    assert!(alpine.contains("| <code>../shared/data/images/alpine-3.20.3.tar.gz (alpine 3.20.3)</code> | alpine | 56 | - | - |"), "{alpine}");

    // Cut to 16 KiB: whole rows, a note with the exact remainder.
    let r = fixture("app-image.json");
    let md = to_markdown(
        &r,
        &MarkdownOptions {
            max_bytes: Some(16 * 1024),
            ..Default::default()
        },
    );
    assert!(md.len() <= 16 * 1024, "{}", md.len());
    let mut cut = 0;
    for line in md.lines().filter(|l| l.starts_with("… ")) {
        assert!(line.ends_with("not shown (limit 16 KiB)"), "{line}");
        cut += line
            .split(' ')
            .nth(1)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
    }
    // The rows missing from the cut document are the ones the notes count.
    let full = to_markdown(&r, &MarkdownOptions::default());
    let rows = |m: &str| {
        m.lines()
            .filter(|l| l.starts_with("| "))
            .filter(|l| {
                !["| ---", "| Package |", "| Check |", "| Rule |"]
                    .iter()
                    .any(|h| l.starts_with(h))
            })
            .count()
    };
    assert!(cut > 0);
    assert_eq!(rows(&full) - rows(&md), cut, "{md}");
}

#[test]
fn html_of_real_images() {
    for f in FIXTURES {
        let r = fixture(f);
        let t0 = std::time::Instant::now();
        let html = to_html(&r, &HtmlOptions::default());
        let took = t0.elapsed();
        eprintln!("{f}: HTML {} bytes in {took:?}", html.len());
        std::fs::write(artifacts().join(f.replace(".json", ".html")), &html)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(html.len() <= 2 * 1024 * 1024, "{f}: {} bytes", html.len());
        assert!(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"));
        for bad in [" src=", "url(", "@import", "rel=\"stylesheet\""] {
            assert!(!html.contains(bad), "{f}: {bad}");
        }
        assert_eq!(
            html.matches("<tr id=\"v-").count(),
            vuln_total(&r),
            "{f}: one row per vulnerability"
        );
        // Every layer with its command.
        for l in &r.metadata.layers {
            let short = l.diff_id.get(..19).unwrap_or(&l.diff_id);
            assert!(html.contains(short), "{f}: layer {short}");
        }
    }
}

fn spdx_of(r: &Report) -> String {
    to_spdx(
        r,
        "0.1.0",
        "2026-12-01T18:00:00Z",
        &format!("{}{}", r.artifact_name, r.metadata.image_id),
    )
}

#[test]
fn spdx_of_real_images_is_consistent() {
    for f in FIXTURES {
        let r = fixture(f);
        let s = spdx_of(&r);
        std::fs::write(artifacts().join(f.replace(".json", ".spdx.json")), &s)
            .unwrap_or_else(|e| panic!("{e}"));
        let d: Value = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{f}: {e}"));
        let pkgs = d["packages"].as_array().cloned().unwrap_or_default();
        let n_pkgs: usize = r
            .results
            .iter()
            .filter(|x| x.is_packages())
            .map(|x| x.packages.len())
            .sum();
        let libs = pkgs
            .iter()
            .filter(|p| p["primaryPackagePurpose"] == "LIBRARY")
            .count();
        assert_eq!(libs, n_pkgs, "{f}");
        let ids: HashSet<&str> = pkgs.iter().filter_map(|p| p["SPDXID"].as_str()).collect();
        assert_eq!(ids.len(), pkgs.len(), "{f}: unique ids");
        for id in &ids {
            assert!(
                id.starts_with("SPDXRef-")
                    && id[8..]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                "{id}"
            );
        }
        for rel in d["relationships"].as_array().into_iter().flatten() {
            for k in ["spdxElementId", "relatedSpdxElement"] {
                let id = rel[k].as_str().unwrap_or("");
                assert!(id == "SPDXRef-DOCUMENT" || ids.contains(id), "{f}: {rel}");
            }
        }
        // Every package with a PURL carries it.
        let with_purl = r
            .results
            .iter()
            .flat_map(|x| &x.packages)
            .filter(|p| p.identifier.purl.is_some())
            .count();
        let refs = pkgs
            .iter()
            .filter(|p| {
                p["externalRefs"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|e| e["referenceType"] == "purl"))
            })
            .filter(|p| p["primaryPackagePurpose"] == "LIBRARY")
            .count();
        assert_eq!(refs, with_purl, "{f}");
    }
    // alpine's `GPL-2.0-only AND …`: real licences, valid ones kept.
    let d: Value =
        serde_json::from_str(&spdx_of(&fixture("alpine-3.20.3.json"))).unwrap_or_default();
    let musl = d["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "musl").cloned())
        .unwrap_or_default();
    assert_eq!(musl["licenseDeclared"], "MIT");
    assert!(musl["supplier"]
        .as_str()
        .unwrap_or("")
        .starts_with("Organization: "));
}

/// `pyspdxtools` (the SPDX project's spdx-tools): `$PYSPDXTOOLS`, on
/// `PATH`, or in `target/spdx-venv`.
fn pyspdxtools() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PYSPDXTOOLS") {
        return Some(PathBuf::from(p));
    }
    let venv =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/spdx-venv/bin/pyspdxtools");
    if venv.exists() {
        return Some(venv);
    }
    std::process::Command::new("pyspdxtools")
        .arg("--help")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("pyspdxtools"))
}

#[test]
fn spdx_of_real_images_passes_the_spdx_validator() {
    let Some(tool) = pyspdxtools() else {
        if std::env::var_os("CI").is_some() {
            panic!("pyspdxtools is missing; CI must install it: python3 -m venv target/spdx-venv && target/spdx-venv/bin/pip install spdx-tools");
        }
        eprintln!("\n**********\nSKIPPED: pyspdxtools is missing (python3 -m venv target/spdx-venv && target/spdx-venv/bin/pip install spdx-tools)\n**********\n");
        return;
    };
    for f in FIXTURES {
        let path = artifacts().join(f.replace(".json", ".validate.spdx.json"));
        std::fs::write(&path, spdx_of(&fixture(f))).unwrap_or_else(|e| panic!("{e}"));
        let out = std::process::Command::new(&tool)
            .arg("-i")
            .arg(&path)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // pyspdxtools exits 0 on validation errors too: it prints them.
        assert!(out.status.success(), "{f}: pyspdxtools failed:\n{text}");
        assert!(text.trim().is_empty(), "{f}: pyspdxtools:\n{text}");
    }
    // And it does print them: a document with an unknown licence fails.
    let bad = spdx_of(&fixture("alpine-3.20.3.json")).replace(
        "\"licenseDeclared\": \"MIT\"",
        "\"licenseDeclared\": \"NotALicence\"",
    );
    let path = artifacts().join("broken.spdx.json");
    std::fs::write(&path, bad).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(&tool)
        .arg("-i")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("NotALicence"),
        "the validator saw nothing wrong:\n{text}"
    );
}
