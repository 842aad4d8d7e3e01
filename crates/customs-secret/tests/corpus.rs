//! The labelled corpus: precision and recall of the built-in rules.
//!
//! `tests/corpus/files/` holds realistic files (a .env, AWS credentials, a
//! YAML config, a shell history, Django settings, a GCP key file, .npmrc,
//! docker config.json, Maven settings.xml, private keys...) and near-misses
//! (placeholders, hashes, UUIDs, base64 images, minified JS, certificates,
//! allowed paths). `labels.txt` says which rule must fire at which
//! file:line; any other finding is a false positive. Secrets are stored with
//! "@@" inserted in their middle (see `generate.py`), removed here.
//!
//! Run with `--nocapture` to see the figures.

use customs_secret::SecretScanner;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Undo the storage transformation: drop every "@@".
fn restore(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data.get(i..i + 2) == Some(b"@@") {
            i += 2;
        } else {
            out.extend_from_slice(data.get(i..i + 1).unwrap_or_default());
            i += 1;
        }
    }
    out
}

struct Corpus {
    /// relative path → restored bytes
    files: BTreeMap<String, Vec<u8>>,
    /// (path, line, rule)
    labels: BTreeSet<(String, usize, String)>,
    near_misses: BTreeSet<String>,
}

fn load() -> Corpus {
    let dir = corpus_dir();
    let root = dir.join("files");
    let mut paths = Vec::new();
    walk(&root, &mut paths);
    let mut files = BTreeMap::new();
    for p in paths {
        let rel = p
            .strip_prefix(&root)
            .map(|r| r.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let data = std::fs::read(&p).unwrap_or_default();
        files.insert(rel, restore(&data));
    }
    let mut labels = BTreeSet::new();
    let text = std::fs::read_to_string(dir.join("labels.txt")).unwrap_or_default();
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (loc, rule) = l.split_once(' ').unwrap_or_default();
        let (path, line) = loc.rsplit_once(':').unwrap_or_default();
        labels.insert((
            path.to_string(),
            line.parse().unwrap_or(0),
            rule.to_string(),
        ));
    }
    let near_misses = std::fs::read_to_string(dir.join("near-misses.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    Corpus {
        files,
        labels,
        near_misses,
    }
}

#[test]
fn corpus_precision_and_recall() {
    let c = load();
    assert!(
        c.files.len() > 60,
        "corpus missing: {} files",
        c.files.len()
    );
    assert!(c.labels.len() >= 170, "{} labels", c.labels.len());
    let s = SecretScanner::builtin();

    let mut found = BTreeSet::new();
    let mut fps = Vec::new();
    let mut near_miss_fps = 0;
    let mut bytes = 0usize;
    for (path, data) in &c.files {
        bytes += data.len();
        let findings = s.scan(path, data);
        let streamed = s
            .scan_reader(path, std::io::Cursor::new(data))
            .unwrap_or_default();
        assert_eq!(findings, streamed, "{path}: scan and scan_reader differ");
        for f in findings {
            let key = (path.clone(), f.start_line, f.rule_id.clone());
            if c.labels.contains(&key) {
                found.insert(key);
            } else {
                if c.near_misses.contains(path) {
                    near_miss_fps += 1;
                }
                fps.push(format!(
                    "{path}:{} {} | {}",
                    f.start_line, f.rule_id, f.match_line
                ));
            }
            // The secret never appears in the output.
            let json = serde_json::to_string(&f).unwrap_or_default();
            assert!(!json.is_empty());
        }
    }
    let missed: Vec<_> = c.labels.difference(&found).collect();
    let tp = found.len();
    let precision = tp as f64 / (tp + fps.len()).max(1) as f64;
    let recall = tp as f64 / c.labels.len().max(1) as f64;
    println!(
        "secret corpus: {} files ({} near-miss files, {} bytes), {} labelled secrets",
        c.files.len(),
        c.near_misses.len(),
        bytes,
        c.labels.len()
    );
    println!(
        "secret corpus: TP {tp}, FP {} (near-miss files: {near_miss_fps}), FN {}; precision {:.4}, recall {:.4}",
        fps.len(),
        missed.len(),
        precision,
        recall
    );
    assert!(missed.is_empty(), "missed labelled secrets: {missed:#?}");
    assert!(fps.is_empty(), "false positives: {fps:#?}");
    assert_eq!(near_miss_fps, 0);
}

#[test]
fn every_rule_has_a_true_positive_containing_its_keywords() {
    let c = load();
    let s = SecretScanner::builtin();
    for rule in s.rules() {
        let tps: Vec<_> = c.labels.iter().filter(|(_, _, r)| r == &rule.id).collect();
        assert!(
            !tps.is_empty(),
            "rule {} has no true positive in the corpus",
            rule.id
        );
        if rule.keywords.is_empty() {
            assert!(
                rule.path.is_some(),
                "{}: keywordless rule without path",
                rule.id
            );
            continue;
        }
        for (path, line, _) in tps {
            let data = c.files.get(path).cloned().unwrap_or_default();
            let text = String::from_utf8_lossy(&data).to_ascii_lowercase();
            let lines: Vec<&str> = text.lines().collect();
            // The keyword's line: the secret's line, or the BEGIN line of a
            // multi-line block just above it.
            let lo = line.saturating_sub(if rule.lines_after > 0 { 12 } else { 1 });
            let window = lines
                .get(lo..(*line).min(lines.len()))
                .unwrap_or_default()
                .join("\n");
            assert!(
                rule.keywords.iter().any(|k| window.contains(k.as_str())),
                "{}: no keyword of {:?} near {path}:{line}",
                rule.id,
                rule.keywords
            );
        }
    }
}

#[test]
fn masked_output_never_holds_a_labelled_secret() {
    let c = load();
    let s = SecretScanner::builtin();
    for (path, data) in &c.files {
        for f in s.scan(path, data) {
            // Rebuild the secret from the offset: the masked line has as
            // many '*' as the secret has bytes on its first line.
            let off = f.offset as usize;
            let end = data
                .get(off..)
                .and_then(|s| {
                    s.iter()
                        .position(|&b| b == b'\n' || b == b'"' || b == b'\'')
                })
                .map_or(data.len(), |i| off + i);
            let secret =
                String::from_utf8_lossy(data.get(off..end).unwrap_or_default()).into_owned();
            if secret.len() < 8 {
                continue;
            }
            let json = serde_json::to_string(&f).unwrap_or_default();
            assert!(
                !json.contains(&secret),
                "{path}: {} leaks its secret",
                f.rule_id
            );
        }
    }
}
