//! Real Dockerfiles of public projects: official images and applications,
//! each named with its repository, path, commit and SHA-256 in
//! `tests/dockerfile-corpus/manifest.json`.
//!
//! The files themselves are third-party code and are not committed: the
//! test reads them from `$CUSTOMS_DOCKERFILE_CORPUS` (default
//! `target/dockerfile-corpus` of the workspace), laid out as the manifest's
//! `file` fields, and checks each against its recorded hash. Without that
//! directory the corpus tests print a note and pass; the manifest, the
//! expected results and the explained disagreements are checked always.
//!
//! - every file parses (BuildKit builds them all, so must we);
//! - the IDs customs reports for each file equal `expected.json` (so a
//!   change in what a check reports on real files is seen in review;
//!   regenerate with `UPDATE_CORPUS=1`);
//! - where customs and Trivy (0.76, its results in `trivy.json`) disagree
//!   on a `DS-` ID, the disagreement is listed in `disagreements.json` with
//!   who is right and why (README.md explains each); an unexplained
//!   disagreement, or an explanation that no longer applies, fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use customs_misconfig::{scan_dockerfile, DockerfileContext};
use serde::Deserialize;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dockerfile-corpus")
}

/// Where the corpus files are, when they are there.
fn files_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CUSTOMS_DOCKERFILE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/dockerfile-corpus")
        });
    if dir.join("files").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "note: no Dockerfile corpus at {} (third-party files, not committed; see tests/dockerfile-corpus/README.md): corpus scan skipped",
            dir.display()
        );
        None
    }
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[derive(Deserialize)]
struct Entry {
    file: String,
    repo: String,
    path: String,
    commit: String,
    sha256: String,
}

#[derive(Deserialize)]
struct Disagreement {
    id: String,
    /// Corpus files (as in the manifest) the disagreement is seen in.
    files: Vec<String>,
    /// "customs" when only customs reports the ID, "trivy" when only Trivy
    /// does.
    reported_by: String,
    /// Which of the two is right: "customs" or "trivy".
    right: String,
    reason: String,
}

fn read_json<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let p = root().join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn manifest() -> Vec<Entry> {
    read_json("manifest.json")
}

/// The failing IDs customs reports for each corpus file; `None` without
/// the corpus files.
fn scan_all() -> Option<BTreeMap<String, Vec<String>>> {
    let dir = files_dir()?;
    let ctx = DockerfileContext {
        dockerignore: None,
        from_history: false,
    };
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for e in manifest() {
        let bytes =
            std::fs::read(dir.join(&e.file)).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        assert_eq!(
            sha256_hex(&bytes),
            e.sha256,
            "{}: not the file of {} {} at {}",
            e.file,
            e.repo,
            e.path,
            e.commit
        );
        match scan_dockerfile(&e.file, &bytes, &ctx) {
            Ok(r) => {
                let ids: BTreeSet<String> =
                    r.failed_ids().into_iter().map(str::to_string).collect();
                out.insert(e.file.clone(), ids.into_iter().collect());
            }
            Err(err) => errors.push(format!("{err} ({} {} at {})", e.repo, e.path, e.commit)),
        }
    }
    assert!(
        errors.is_empty(),
        "files BuildKit builds were refused:\n{}",
        errors.join("\n")
    );
    Some(out)
}

#[test]
fn corpus_is_large_and_provenanced() {
    let m = manifest();
    assert!(m.len() >= 100, "only {} files", m.len());
    let mut seen = BTreeSet::new();
    for e in &m {
        assert!(seen.insert(&e.file), "duplicate {}", e.file);
        assert!(!e.repo.is_empty() && !e.path.is_empty(), "{}", e.file);
        assert!(
            e.commit.len() == 40 && e.commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}: commit {:?}",
            e.file,
            e.commit
        );
        let (owner, name) = e.repo.split_once('/').unwrap_or_default();
        assert_eq!(e.file, format!("files/{owner}__{name}/{}", e.path));
        assert!(
            e.sha256.len() == 64 && e.sha256.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}: sha256 {:?}",
            e.file,
            e.sha256
        );
        if let Some(dir) = files_dir() {
            assert!(dir.join(&e.file).is_file(), "{} missing", e.file);
        }
    }
    let repos: BTreeSet<&str> = m.iter().map(|e| e.repo.as_str()).collect();
    assert!(repos.len() >= 30, "only {} repositories", repos.len());
}

#[test]
fn every_file_parses_and_reports_what_is_expected() {
    let Some(got) = scan_all() else { return };
    let path = root().join("expected.json");
    if std::env::var_os("UPDATE_CORPUS").is_some() {
        let text = serde_json::to_string_pretty(&got).unwrap_or_default();
        std::fs::write(&path, text + "\n").unwrap_or_else(|e| panic!("{e}"));
        return;
    }
    let want: BTreeMap<String, Vec<String>> = read_json("expected.json");
    let mut diffs = Vec::new();
    for (f, ids) in &got {
        match want.get(f) {
            Some(w) if w == ids => {}
            Some(w) => diffs.push(format!("{f}: expected {w:?}, got {ids:?}")),
            None => diffs.push(format!("{f}: not in expected.json (got {ids:?})")),
        }
    }
    for f in want.keys().filter(|f| !got.contains_key(*f)) {
        diffs.push(format!("{f}: in expected.json but not in the manifest"));
    }
    assert!(
        diffs.is_empty(),
        "{} files differ (UPDATE_CORPUS=1 regenerates after review):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn disagreements_with_trivy_are_explained() {
    let Some(got) = scan_all() else { return };
    let trivy: BTreeMap<String, Vec<String>> = read_json("trivy.json");
    let explained: Vec<Disagreement> = read_json("disagreements.json");
    let mut documented: BTreeSet<(String, String, String)> = BTreeSet::new();
    for d in &explained {
        assert!(
            matches!(d.reported_by.as_str(), "customs" | "trivy")
                && matches!(d.right.as_str(), "customs" | "trivy")
                && d.reason.len() > 20,
            "{}: incomplete entry",
            d.id
        );
        for f in &d.files {
            documented.insert((f.clone(), d.id.clone(), d.reported_by.clone()));
        }
    }
    let mut actual = BTreeSet::new();
    for (f, ids) in &got {
        let ours: BTreeSet<&String> = ids.iter().filter(|i| i.starts_with("DS-")).collect();
        let theirs: BTreeSet<&String> = trivy
            .get(f)
            .unwrap_or_else(|| panic!("{f} not in trivy.json"))
            .iter()
            .collect();
        for id in ours.difference(&theirs) {
            actual.insert((f.clone(), (*id).clone(), "customs".to_string()));
        }
        for id in theirs.difference(&ours) {
            actual.insert((f.clone(), (*id).clone(), "trivy".to_string()));
        }
    }
    let unexplained: Vec<_> = actual.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&actual).collect();
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "unexplained disagreements (file, id, reported only by): {unexplained:#?}\nexplained but no longer seen: {stale:#?}"
    );
}
