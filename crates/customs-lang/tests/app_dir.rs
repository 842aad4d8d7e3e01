//! The application directory of the acceptance image, assembled from real
//! published artifacts by tests/build-app-dir.sh (PyPI wheels, npm tarballs,
//! a Go program from a Debian package). Every file is offered to the
//! analyzers as the image walker would, and the inventory is checked.
//!
//! The directory is /work/targets/app-dir unless CUSTOMS_APP_DIR names
//! another. When it is absent the test says so on stderr and returns.

use customs_lang::{analyzer_for, is_binary_candidate, parse, parse_binary};
use customs_model::{Package, Relationship};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn app_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CUSTOMS_APP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/targets/app-dir"));
    if dir.join(".complete").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED app_dir test: {} is not assembled; run crates/customs-lang/tests/build-app-dir.sh {} (needs pip, npm, apt-get)",
            dir.display(),
            dir.display()
        );
        None
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// (type, file, packages) for every analyzed file.
fn inventory(dir: &Path) -> Vec<(&'static str, String, Vec<Package>)> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(dir)
            .map(|r| r.to_string_lossy().into_owned())
            .unwrap_or_default();
        let data = std::fs::read(&f).unwrap_or_default();
        if let Some(a) = analyzer_for(&rel) {
            let pkgs = parse(&a, &rel, &data).unwrap_or_else(|e| panic!("{e}"));
            out.push((a.lang_type, rel, pkgs));
        } else if is_binary_candidate(&data) {
            if let Some((t, pkgs)) = parse_binary(&rel, &data).unwrap_or_else(|e| panic!("{e}")) {
                out.push((t, rel, pkgs));
            }
        }
    }
    out
}

fn ids(inv: &[(&str, String, Vec<Package>)], ty: &str) -> BTreeSet<String> {
    inv.iter()
        .filter(|(t, _, _)| *t == ty)
        .flat_map(|(_, _, p)| p.iter().map(|p| p.id.clone()))
        .collect()
}

#[test]
fn app_dir_inventory() {
    let Some(dir) = app_dir() else { return };
    let inv = inventory(&dir);

    let py = ids(&inv, "python-pkg");
    let want: BTreeSet<String> = [
        "Jinja2@2.11.2",
        "certifi@2022.9.24",
        "idna@2.10",
        "requests@2.25.1",
        "urllib3@1.26.4",
    ]
    .map(String::from)
    .into();
    assert_eq!(py, want);

    let node = ids(&inv, "node-pkg");
    let want: BTreeSet<String> = [
        "esbuild-linux-64@0.14.0",
        "lodash@4.17.15",
        "minimist@1.2.0",
    ]
    .map(String::from)
    .into();
    assert_eq!(node, want);

    let go: Vec<_> = inv.iter().filter(|(t, _, _)| *t == "gobinary").collect();
    let by_file = |f: &str| {
        go.iter()
            .find(|(_, rel, _)| rel == f)
            .map(|(_, _, p)| p.clone())
            .unwrap_or_else(|| panic!("{f} not found as a Go binary"))
    };
    // Debian bookworm's mkcert: built by golang-1.19 (1.19.8) in GOPATH mode,
    // so the build info has the toolchain and the command path, no modules.
    let mkcert = by_file("usr/local/bin/mkcert");
    let got: Vec<(&str, &str)> = mkcert
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(got, [("stdlib", "v1.19.8")]);
    assert_eq!(mkcert[0].relationship, Some(Relationship::Direct));

    // esbuild 0.14.0 (npm esbuild-linux-64): Go 1.17.2, the pre-1.18 pointer
    // layout of the build info, a module build with one dependency.
    let esb = by_file("app/node_modules/esbuild-linux-64/bin/esbuild");
    let got: Vec<(&str, &str, Option<Relationship>)> = esb
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.relationship))
        .collect();
    assert_eq!(
        got,
        [
            ("github.com/evanw/esbuild", "", Some(Relationship::Root)),
            (
                "golang.org/x/sys",
                "v0.0.0-20210908233432-aa78b53d3365",
                Some(Relationship::Unknown)
            ),
            ("stdlib", "v1.17.2", Some(Relationship::Direct)),
        ]
    );
    assert_eq!(
        esb.iter()
            .find(|p| p.name == "golang.org/x/sys")
            .and_then(|p| p.identifier.purl.clone())
            .as_deref(),
        Some("pkg:golang/golang.org/x/sys@v0.0.0-20210908233432-aa78b53d3365")
    );
    assert_eq!(go.len(), 2, "only the two Go programs are Go binaries");
}

/// Each package found has advisories in ../shared/data (the point of picking
/// these old releases): the PyPA tree has a directory per package, and the
/// Go vulndb names golang.org/x/sys and stdlib.
#[test]
fn app_dir_packages_have_advisories() {
    let Some(dir) = app_dir() else { return };
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/advisories");
    if !data.is_dir() {
        eprintln!("SKIPPED: {} is absent", data.display());
        return;
    }
    let inv = inventory(&dir);
    for id in ids(&inv, "python-pkg") {
        let name = id.split('@').next().unwrap_or("");
        let norm = customs_model::normalize_name("PyPI", name);
        assert!(
            data.join("pypa/vulns").join(&norm).is_dir(),
            "no PyPA advisories for {norm}"
        );
    }
    let mut seen = BTreeSet::new();
    let mut files = Vec::new();
    walk(&data.join("go-vulndb/data/osv"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for m in ["\"name\": \"golang.org/x/sys\"", "\"name\": \"stdlib\""] {
            if text.contains(m) {
                seen.insert(m);
            }
        }
    }
    assert_eq!(
        seen.len(),
        2,
        "go-vulndb lacks x/sys or stdlib records: {seen:?}"
    );
}
