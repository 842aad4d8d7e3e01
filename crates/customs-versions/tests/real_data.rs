//! Every version string of the real advisory feeds in ../shared/data must
//! parse: Alpine secdb fixed versions (apk) and the fixed versions of the
//! Debian security tracker's DSA list (dpkg). At least 99.9 % must parse;
//! failures are listed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use customs_versions::{compare, validate, Scheme};
use serde::Deserialize;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

#[derive(Deserialize)]
struct SecDb {
    /// `packages:` is null in feeds without advisories.
    #[serde(default)]
    packages: Option<Vec<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    pkg: Pkg,
}

#[derive(Deserialize)]
struct Pkg {
    name: String,
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<String>>>>,
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

fn report(what: &str, total: usize, failures: &[String]) {
    let ok = total - failures.len();
    eprintln!("{what}: {ok}/{total} versions parse");
    for f in failures {
        eprintln!("  {f}");
    }
    assert!(total > 0, "{what}: no versions found");
    assert!(
        ok * 1000 >= total * 999,
        "{what}: only {ok}/{total} parse:\n{}",
        failures.join("\n")
    );
}

#[test]
fn alpine_secdb_versions_parse_as_apk() {
    let mut files = Vec::new();
    yaml_files(&Path::new(DATA).join("advisories/alpine-secdb"), &mut files);
    files.sort();
    assert!(files.len() >= 16, "expected the alpine secdb in {DATA}");
    let mut total = 0;
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let db: SecDb =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for entry in db.packages.unwrap_or_default() {
            let mut prev: Option<String> = None;
            for v in entry.pkg.secfixes.unwrap_or_default().keys() {
                total += 1;
                if let Err(e) = validate(Scheme::Apk, v) {
                    failures.push(format!("{} {}: {e}", f.display(), entry.pkg.name));
                    continue;
                }
                // Comparing neighbours exercises the comparator on real data.
                if let Some(p) = &prev {
                    assert!(compare(Scheme::Apk, p, v).is_ok());
                }
                prev = Some(v.clone());
            }
        }
    }
    report("alpine secdb", total, &failures);
    assert!(total > 3000, "only {total} secfixes versions");
}

#[test]
fn debian_dsa_list_versions_parse_as_dpkg() {
    let path = Path::new(DATA).join("advisories/debian-security-tracker/DSA-list");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut total = 0;
    let mut failures = Vec::new();
    for (n, line) in text.lines().enumerate() {
        // `\t[bullseye] - apache2 2.4.56-1~deb11u1 (bug #123)`
        let Some(rest) = line.strip_prefix("\t[") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(_release), Some("-"), Some(_pkg), Some(version)) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        if version.starts_with('<') {
            continue; // <not-affected>, <unfixed>, <end-of-life>
        }
        total += 1;
        if let Err(e) = validate(Scheme::Dpkg, version) {
            failures.push(format!("DSA-list:{}: {e}", n + 1));
        }
    }
    report("debian DSA-list", total, &failures);
    assert!(total > 6000, "only {total} versions");
}
