//! Precision on real library code nobody here wrote: the unpacked releases
//! pinned in `tests/secret-corpus/packages.txt` (downloaded into
//! `target/secret-corpus` by `scripts/secret-corpus.py`), and the
//! site-packages / node_modules of the app test image (`target/app-dir`,
//! built by `scripts/test-images.sh`) when present.
//!
//! Every finding must be listed, with its classification, in
//! `tests/secret-corpus/expected.txt`; a finding not listed fails the test
//! (a new false positive, or a new true positive to classify), and so does a
//! listed finding that is gone (update the list). `BLESS=1` rewrites the
//! list, keeping the classification of the lines that stay and marking new
//! lines `TODO`; a `TODO` line fails the test until it is classified.
//!
//! When the corpus is missing the test is skipped with a note, except under
//! `CI=true`, where the download script has run first and a missing corpus
//! is an error.

use customs_secret::SecretScanner;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn expected_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/secret-corpus/expected.txt")
}

/// Files under `dir`, sorted, as paths relative to `root` with `/`.
fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(root, &p, out);
        } else if ft.is_file() {
            let rel = p
                .strip_prefix(root)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            out.push((rel, p));
        }
    }
}

/// Every finding of the built-in rules as `prefix/path:line rule-id`, and
/// per-rule counts.
fn scan_tree(s: &SecretScanner, root: &Path, prefix: &str, out: &mut Vec<String>) -> (usize, u64) {
    let mut files = Vec::new();
    walk(root, root, &mut files);
    let show = std::env::var("SHOW").is_ok_and(|v| v == "1");
    let (mut scanned, mut bytes) = (0usize, 0u64);
    for (rel, p) in files {
        // As customs walks a tree: the path filters before reading.
        if s.skip_path(&rel) {
            continue;
        }
        let Ok(f) = std::fs::File::open(&p) else {
            continue;
        };
        let Ok(found) = s.scan_reader(&rel, f) else {
            continue;
        };
        scanned += 1;
        bytes += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        for f in &found {
            out.push(format!("{prefix}{rel}:{} {}", f.start_line, f.rule_id));
            if show {
                // The masked line, to classify a finding (`SHOW=1`).
                println!(
                    "SHOW {prefix}{rel}:{} {}  {}",
                    f.start_line, f.rule_id, f.match_line
                );
            }
        }
    }
    (scanned, bytes)
}

/// `line → classification` of the expected list.
fn read_expected() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(expected_path()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| match l.split_once(" | ") {
            Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
            None => (l.trim().to_string(), "TODO".to_string()),
        })
        .collect()
}

const HEADER: &str = "\
# Findings of the built-in secret rules on the real-library corpus
# (tests/library_corpus.rs; releases pinned in packages.txt, plus the
# site-packages/node_modules of the app test image under app-dir/).
# One line a finding: `path:line rule-id | classification`. Every line must
# be a credential-shaped sample the package really ships (a complete private
# key, a full JWT, a full live-format token); anything else is a false
# positive to fix in the rules, not to list here. `BLESS=1 cargo test -p
# customs-secret --test library_corpus` rewrites this file and marks new
# lines TODO.
";

#[test]
fn real_library_code_has_only_the_listed_findings() {
    let ws = workspace();
    let corpus = ws.join("target/secret-corpus");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !corpus.join("pypi").is_dir() || !corpus.join("npm").is_dir() {
        assert!(
            !ci,
            "{} is missing: run scripts/secret-corpus.py before the tests",
            corpus.display()
        );
        eprintln!(
            "skipping: {} not found (python3 scripts/secret-corpus.py downloads it)",
            corpus.display()
        );
        return;
    }
    let s = SecretScanner::builtin();
    let mut found = Vec::new();
    let mut trees = 0usize;
    let (mut files, mut bytes) = (0usize, 0u64);
    for eco in ["pypi", "npm"] {
        let Ok(rd) = std::fs::read_dir(corpus.join(eco)) else {
            continue;
        };
        let mut dirs: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        dirs.sort();
        for d in dirs.iter().filter(|d| d.is_dir()) {
            let name = d
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (n, b) = scan_tree(&s, d, &format!("{eco}/{name}/"), &mut found);
            trees += 1;
            files += n;
            bytes += b;
        }
    }
    assert!(trees >= 80, "only {trees} releases in {}", corpus.display());
    // The app test image's installed packages, when it was built.
    let app = ws.join("target/app-dir");
    for sub in ["app/node_modules", "usr/local/lib"] {
        let d = app.join(sub);
        if d.is_dir() {
            let (n, b) = scan_tree(&s, &d, &format!("app-dir/{sub}/"), &mut found);
            files += n;
            bytes += b;
        }
    }
    found.sort();
    found.dedup();

    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &found {
        let rule = f.rsplit(' ').next().unwrap_or_default();
        *per_rule.entry(rule).or_default() += 1;
    }
    println!(
        "secret corpus: {trees} releases, {files} files scanned ({} MB), {} findings",
        bytes / 1_000_000,
        found.len()
    );
    for (r, n) in &per_rule {
        println!("  {n:5} {r}");
    }

    let expected = read_expected();
    if std::env::var("BLESS").is_ok_and(|v| v == "1") {
        let mut text = String::from(HEADER);
        for f in &found {
            let class = expected.get(f).map_or("TODO", String::as_str);
            text.push_str(&format!("{f} | {class}\n"));
        }
        if let Err(e) = std::fs::write(expected_path(), text) {
            panic!("writing {}: {e}", expected_path().display());
        }
        return;
    }
    let new: Vec<&String> = found
        .iter()
        .filter(|f| !expected.contains_key(*f))
        .collect();
    let gone: Vec<&String> = expected.keys().filter(|k| !found.contains(k)).collect();
    let todo: Vec<&String> = expected
        .iter()
        .filter(|(_, v)| v.as_str() == "TODO" || v.is_empty())
        .map(|(k, _)| k)
        .collect();
    assert!(
        new.is_empty() && gone.is_empty() && todo.is_empty(),
        "secret corpus differs from {}:\nnew findings (false positives to fix, or samples to classify):\n  {}\n\
         listed but gone:\n  {}\nunclassified:\n  {}",
        expected_path().display(),
        new.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  "),
        gone.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  "),
        todo.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n  "),
    );
}
