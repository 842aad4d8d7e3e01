//! A scan's first run: with no database at the default path, customs
//! fetches one (from the feeds, or a prebuilt file with --db-repository),
//! unless --offline / --skip-db-update forbid the network. Later scans use
//! that database without touching the network.
//!
//! The feeds and the prebuilt file are served by a small HTTP server on
//! 127.0.0.1 (hand-written with std::net: the test only needs GET, 404 and a
//! request counter).

mod common;
use common::*;
use predicates::prelude::*;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ALPINE_OLD: &str = "crates/customs-detect/tests/fixtures/alpine-3.10-old";

struct Server {
    addr: String,
    requests: Arc<AtomicUsize>,
}

fn serve(files: HashMap<String, Vec<u8>>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    // The thread ends with the test process.
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            let _ = answer(stream, &files);
        }
    });
    Server { addr, requests }
}

fn answer(mut stream: TcpStream, files: &HashMap<String, Vec<u8>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    match files.get(path) {
        Some(body) => {
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(body)?;
        }
        None => stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?,
    }
    stream.flush()
}

fn read(p: &str) -> Vec<u8> {
    std::fs::read(repo().join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn vulnerability_count(stdout: &[u8]) -> usize {
    let r = json_of(stdout);
    findings(&r).len()
}

#[test]
fn first_run_builds_the_database_from_the_feeds_then_stays_offline() {
    let server = serve(HashMap::from([
        (
            "/alpine/v3.10/main.yaml".to_string(),
            read(&shared("advisories/alpine-secdb/v3.10/main.yaml")),
        ),
        (
            "/alpine/v3.10/community.yaml".to_string(),
            read(&shared("advisories/alpine-secdb/v3.10/community.yaml")),
        ),
        // The mirror's index page, which `db update` reads to find releases.
        (
            "/alpine/".to_string(),
            b"<html><body><pre><a href=\"../\">../</a>\n<a href=\"v3.10/\">v3.10/</a>\n</pre></body></html>\n".to_vec(),
        ),
    ]));
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // A mirror of the Alpine secdb only; every other feed disabled.
    let feeds = cache.path().join("feeds.toml");
    std::fs::write(
        &feeds,
        format!(
            r#"alpine_template = "http://{}/alpine/{{release}}/{{repo}}.yaml"
alpine_releases = ["v3.10"]
alpine_repos = ["main", "community"]
debian_tracker = ""
debian_dsa_list = ""
debian_dla_list = ""
osv_template = ""
nvd_template = ""
kev = ""
epss = ""
"#,
            server.addr
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let scan = || {
        let mut c = customs(cache.path());
        c.args([
            "rootfs",
            ALPINE_OLD,
            "--scanners",
            "vuln",
            "--format",
            "json",
        ])
        .env("CUSTOMS_FEEDS_CONFIG", &feeds);
        c
    };
    let out = scan()
        .assert()
        .success()
        .stderr(predicate::str::contains("no vulnerability database yet"))
        .stderr(predicate::str::contains("Feeds: 2 downloaded"))
        .get_output()
        .stdout
        .clone();
    // stdout holds the report only (the fetch summary went to stderr), with
    // the same 12 findings as with a database built by `db build`.
    assert_eq!(vulnerability_count(&out), 12);
    // The index page, then the two secdb files.
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
    assert!(cache.path().join("db/customs.db").is_file());
    assert_eq!(files_in(&cache.path().join("db")), vec!["customs.db"]);

    // The second scan uses that database and makes no request.
    let out = scan()
        .assert()
        .success()
        .stderr(predicate::str::contains("fetching").not())
        .get_output()
        .stdout
        .clone();
    assert_eq!(vulnerability_count(&out), 12);
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
}

#[test]
fn first_run_fetches_a_prebuilt_database_with_db_repository() {
    let db = std::fs::read(vuln_db()).unwrap_or_else(|e| panic!("{e}"));
    let server = serve(HashMap::from([("/customs.db".to_string(), db)]));
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("http://{}/customs.db", server.addr);
    let out = customs(cache.path())
        .args([
            "rootfs",
            ALPINE_OLD,
            "--scanners",
            "vuln",
            "--format",
            "json",
        ])
        .args(["--db-repository", &url])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("from {url}")))
        .get_output()
        .stdout
        .clone();
    assert_eq!(vulnerability_count(&out), 12);
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    assert_eq!(files_in(&cache.path().join("db")), vec!["customs.db"]);
}

#[test]
fn a_failed_first_fetch_is_one_line_and_leaves_nothing_behind() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // A server that has no such file: 404, not retried.
    let server = serve(HashMap::new());
    let url = format!("http://{}/customs.db", server.addr);
    let a = customs(cache.path())
        .args([
            "rootfs",
            ALPINE_OLD,
            "--scanners",
            "vuln",
            "--format",
            "json",
        ])
        .args(["--db-repository", &url])
        .assert()
        .code(3)
        .stdout(predicate::str::is_empty());
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("customs: error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("fetching the first vulnerability database failed"));
    assert!(errors[0].contains("404"), "{stderr}");
    assert!(files_in(&cache.path().join("db")).is_empty());

    // A prebuilt file that is not a customs database is rejected the same way.
    let server = serve(HashMap::from([(
        "/customs.db".to_string(),
        b"not a database".to_vec(),
    )]));
    let url = format!("http://{}/customs.db", server.addr);
    customs(cache.path())
        .args(["rootfs", ALPINE_OLD, "--scanners", "vuln"])
        .args(["--db-repository", &url])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "fetching the first vulnerability database failed",
        ));
    assert!(files_in(&cache.path().join("db")).is_empty());
}

#[test]
fn offline_first_run_says_which_command_to_run() {
    for flag in ["--offline", "--skip-db-update", "--offline-scan"] {
        let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        customs(cache.path())
            .args([
                "image",
                "--input",
                &shared("images/alpine-3.10.tar.gz"),
                flag,
            ])
            // Would be fetched from if the flag were ignored.
            .args(["--db-repository", "http://127.0.0.1:9/customs.db"])
            .assert()
            .code(3)
            .stdout(predicate::str::is_empty())
            .stderr(predicate::str::contains("customs db update"))
            .stderr(predicate::str::contains("customs db build --from DIR"))
            .stderr(predicate::str::contains("forbids fetching"));
        assert!(!cache.path().join("db").exists(), "{flag}");
    }
}

#[test]
fn an_explicit_db_file_must_exist_and_works_offline_on_a_first_run() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let missing = cache.path().join("nope.db");
    customs(cache.path())
        .args(["rootfs", ALPINE_OLD, "--scanners", "vuln", "--db"])
        .arg(&missing)
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "nope.db: no such vulnerability database file",
        ));
    assert!(!missing.exists());
    // Trivy refuses --skip-db-update on a first run; with --db FILE customs
    // needs nothing else.
    let out = customs(cache.path())
        .args([
            "rootfs",
            ALPINE_OLD,
            "--scanners",
            "vuln",
            "--format",
            "json",
        ])
        .args(["--skip-db-update", "--offline", "--db"])
        .arg(vuln_db())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(vulnerability_count(&out), 12);
}
