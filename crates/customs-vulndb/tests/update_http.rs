//! `update` and `fetch_prebuilt` end to end against a small HTTP server on
//! 127.0.0.1 that serves the ../shared feeds in their upstream URL layout.
//!
//! The server is hand-written (std::net, one connection at a time, ETag /
//! If-None-Match, and a switch that cuts a body short) because the test
//! needs exactly these failure modes and nothing more.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use customs_vulndb::{
    fetch_prebuilt, update, FeedUrls, HttpOptions, NoProgress, UpdateError, UpdateOptions, VulnDb,
};

#[derive(Default)]
struct Files {
    by_path: HashMap<String, Vec<u8>>,
    /// Paths whose body is cut in half and the connection closed.
    truncate: HashSet<String>,
    body_bytes_sent: u64,
    statuses: Vec<(String, u16)>,
}

struct Server {
    addr: String,
    files: Arc<Mutex<Files>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

fn etag(body: &[u8]) -> String {
    // FNV-1a: enough to tell versions of a file apart.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("\"{h:016x}\"")
}

fn handle(mut stream: TcpStream, files: &Mutex<Files>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut if_none_match = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("if-none-match") {
                if_none_match = Some(v.trim().to_string());
            }
        }
    }
    let mut f = files.lock().unwrap();
    let Some(body) = f.by_path.get(&path).cloned() else {
        f.statuses.push((path, 404));
        stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    };
    let tag = etag(&body);
    if if_none_match.as_deref() == Some(tag.as_str()) {
        f.statuses.push((path, 304));
        write!(
            stream,
            "HTTP/1.1 304 Not Modified\r\nETag: {tag}\r\nConnection: close\r\n\r\n"
        )?;
        return Ok(());
    }
    f.statuses.push((path.clone(), 200));
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: {tag}\r\nLast-Modified: Sun, 22 Nov 2026 03:30:07 GMT\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    let send = if f.truncate.contains(&path) {
        &body[..body.len() / 2]
    } else {
        &body[..]
    };
    f.body_bytes_sent += send.len() as u64;
    drop(f);
    stream.write_all(send)?;
    stream.flush()?;
    Ok(())
}

impl Server {
    fn start(files: Files) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let files = Arc::new(Mutex::new(files));
        let stop = Arc::new(AtomicBool::new(false));
        let (f2, s2) = (files.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(s) = stream {
                    let _ = handle(s, &f2);
                }
            }
        });
        Server {
            addr,
            files,
            stop,
            thread: Some(thread),
        }
    }

    fn sent(&self) -> u64 {
        self.files.lock().unwrap().body_bytes_sent
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn shared() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/advisories"
    ))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

const GO_RECORDS: usize = 300;

/// The feeds in their upstream URL layout.
fn upstream_files() -> (Files, Vec<String>) {
    let root = shared();
    let mut f = Files::default();
    let mut releases = Vec::new();
    for rel in std::fs::read_dir(root.join("alpine-secdb"))
        .unwrap()
        .flatten()
    {
        let name = rel.file_name().to_string_lossy().to_string();
        // This server speaks the YAML layout; v3.20 is in ../shared as the
        // JSON secdb serves (main.json only), read by the real-data test.
        if !rel.path().join("community.yaml").exists() {
            continue;
        }
        for repo in ["main", "community"] {
            let body = std::fs::read(rel.path().join(format!("{repo}.yaml"))).unwrap();
            f.by_path.insert(format!("/{name}/{repo}.yaml"), body);
        }
        releases.push(name);
    }
    releases.sort();
    let raw = "/security-tracker-team/security-tracker/-/raw/master/data";
    for (list, name) in [("DSA", "DSA-list"), ("DLA", "DLA-list")] {
        let body = std::fs::read(root.join("debian-security-tracker").join(name)).unwrap();
        f.by_path.insert(format!("{raw}/{list}/list"), body);
    }
    f.by_path
        .insert("/tracker/data/json".into(), fixture("debian-tracker.json"));
    // OSV's Go archive: ID.json entries, here the first GO_RECORDS records.
    let mut go: Vec<PathBuf> = std::fs::read_dir(root.join("go-vulndb/data/osv"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    go.sort();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for p in go.iter().take(GO_RECORDS) {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        w.start_file(name, opts).unwrap();
        w.write_all(&std::fs::read(p).unwrap()).unwrap();
    }
    f.by_path
        .insert("/Go/all.zip".into(), w.finish().unwrap().into_inner());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&fixture("nvdcve-2.0-2019.json")).unwrap();
    f.by_path.insert(
        "/feeds/json/cve/2.0/nvdcve-2.0-2019.json.gz".into(),
        gz.finish().unwrap(),
    );
    f.by_path.insert(
        "/kev/known_exploited_vulnerabilities.json".into(),
        std::fs::read(root.join("kev/known_exploited_vulnerabilities.json")).unwrap(),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&fixture("epss_scores-2025-08-25.csv"))
        .unwrap();
    f.by_path.insert(
        "/epss/epss_scores-current.csv.gz".into(),
        gz.finish().unwrap(),
    );
    (f, releases)
}

fn options(base: &str, releases: Vec<String>, cache: &Path) -> UpdateOptions {
    let raw = format!("{base}/security-tracker-team/security-tracker/-/raw/master/data");
    let mut o = UpdateOptions::new(cache, cache.join("db/customs.db"));
    o.feeds = FeedUrls {
        alpine_template: format!("{base}/{{release}}/{{repo}}.yaml"),
        alpine_index: String::new(),
        alpine_releases: releases,
        alpine_repos: vec!["main".into(), "community".into()],
        debian_tracker: format!("{base}/tracker/data/json"),
        debian_dsa_list: format!("{raw}/DSA/list"),
        debian_dla_list: format!("{raw}/DLA/list"),
        debian_releases: String::new(),
        osv_template: format!("{base}/{{ecosystem}}/all.zip"),
        osv_ecosystems: vec!["Go".into()],
        nvd_template: format!("{base}/feeds/json/cve/2.0/nvdcve-2.0-{{year}}.json.gz"),
        nvd_years: vec![2019],
        kev: format!("{base}/kev/known_exploited_vulnerabilities.json"),
        epss: format!("{base}/epss/epss_scores-current.csv.gz"),
    };
    o.http = HttpOptions {
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(30),
        retries: 1,
        backoff: Duration::from_millis(1),
        user_agent: "customs-test".into(),
    };
    o
}

fn read_all(p: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    std::fs::File::open(p).unwrap().read_to_end(&mut v).unwrap();
    v
}

#[test]
fn update_fetches_then_304_then_survives_an_interrupted_download() {
    let (files, releases) = upstream_files();
    let n_files = files.by_path.len();
    let server = Server::start(files);
    let cache = tempfile::tempdir().unwrap();
    let opts = options(&server.addr, releases, cache.path());

    // 1. First fetch: everything downloaded, database built.
    let r = update(&opts, &NoProgress).unwrap();
    assert_eq!(r.downloaded.len(), n_files);
    assert!(r.not_modified.is_empty());
    assert_eq!(r.bytes, server.sent());
    let b = r.build.as_ref().unwrap();
    assert_eq!(b.source("go-vulndb"), None);
    assert_eq!(b.source("osv").unwrap().records, GO_RECORDS as u64);
    assert_eq!(b.source("debian-tracker").unwrap().records, 2);
    assert_eq!(b.source("nvd").unwrap().records, 2);
    assert_eq!(b.source("alpine-secdb").unwrap().files, 16);
    assert!(b.skipped.is_empty(), "{:?}", b.skipped);
    let db = VulnDb::open(&opts.db_path).unwrap();
    let meta = db.metadata().unwrap();
    assert!(meta.downloaded_at.is_some());
    // NVD enriches the Alpine advisory's CVE.
    assert!(db
        .advisories("alpine:3.10", "musl")
        .unwrap()
        .iter()
        .any(|a| a.vulnerability_id == "CVE-2019-14697"));
    let v = db.vulnerability("CVE-2019-14697").unwrap().unwrap();
    assert_eq!(v.severity_source.as_deref(), Some("nvd"));
    assert_eq!(v.cwe_ids, vec!["CWE-787"]);
    // Exploit data: the real KEV catalog, and EPSS scores of the CVEs the
    // database names (the fixture's CVE-1999-0001 is in no advisory).
    assert_eq!(b.source("cisa-kev").unwrap().records, 1404);
    assert_eq!(b.source("cisa-kev").unwrap().vulnerabilities, 1404);
    let kev = db.known_exploited(&["CVE-2021-3156"]).unwrap().unwrap();
    assert_eq!(kev.date_added, "2022-04-06");
    let epss = db.epss(&["CVE-2019-14697"]).unwrap().unwrap();
    assert!((epss.score - 0.01766).abs() < 1e-9);
    assert_eq!(db.epss(&["CVE-1999-0001"]).unwrap(), None);
    assert_eq!(meta.epss_score_date.as_deref(), Some("2025-08-25"));
    assert_eq!(meta.kev_catalog_version.as_deref(), Some("2025.08.25"));
    drop(db);
    let db_bytes = read_all(&opts.db_path);

    // 2. Second run: every feed answers 304, nothing is transferred, the
    //    database is kept as it is.
    let sent = server.sent();
    let r = update(&opts, &NoProgress).unwrap();
    assert_eq!(r.not_modified.len(), n_files);
    assert!(r.downloaded.is_empty());
    assert_eq!(r.bytes, 0);
    assert_eq!(server.sent(), sent);
    assert!(r.build.is_none());
    assert_eq!(read_all(&opts.db_path), db_bytes);

    // 3. The DSA list changes upstream but its download is cut mid-body:
    //    the update fails, and the database and cached feeds are intact.
    let dsa = "/security-tracker-team/security-tracker/-/raw/master/data/DSA/list".to_string();
    {
        let mut f = server.files.lock().unwrap();
        let body = f.by_path.get_mut(&dsa).unwrap();
        body.extend_from_slice(
            b"[01 Jan 2030] DSA-9999-1 newpkg - security update\n\t{CVE-2030-0001}\n\t[bookworm] - newpkg 1.0-1\n",
        );
        f.truncate.insert(dsa.clone());
    }
    let e = update(&opts, &NoProgress).unwrap_err();
    assert!(
        matches!(e, UpdateError::Download { attempts: 2, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("existing database was kept"), "{e}");
    assert_eq!(read_all(&opts.db_path), db_bytes);
    let cached = read_all(&cache.path().join("feeds/debian-security-tracker/DSA-list"));
    assert_eq!(
        cached,
        read_all(&shared().join("debian-security-tracker/DSA-list"))
    );
    assert!(!cache.path().join("feeds.staging").exists());
    VulnDb::open(&opts.db_path).unwrap();

    // 4. The server recovers: only the DSA list is downloaded again, and
    //    the rebuilt database has the new advisory.
    server.files.lock().unwrap().truncate.clear();
    let r = update(&opts, &NoProgress).unwrap();
    assert_eq!(r.downloaded, vec![format!("{}{dsa}", server.addr)]);
    assert_eq!(r.not_modified.len(), n_files - 1);
    let db = VulnDb::open(&opts.db_path).unwrap();
    let adv = db.advisories("debian:12", "newpkg").unwrap();
    assert_eq!(adv.len(), 1);
    assert_eq!(adv[0].source_id, "DSA-9999-1");
}

#[test]
fn update_discovers_releases_from_the_secdb_index_and_debian_list() {
    let (mut files, releases) = upstream_files();
    // The secdb's index page, as its server lists it: every release of
    // ../shared, one (v3.99) whose files are not published yet, and edge
    // (not published here either).
    let mut index = String::from("<html><head><title>Index of /</title></head><body><h1>Index of /</h1><hr><pre><a href=\"../\">../</a>\n");
    for r in releases.iter().map(String::as_str).chain(["v3.99", "edge"]) {
        index.push_str(&format!(
            "<a href=\"{r}/\">{r}/</a>   21-Nov-2026 07:12    -\n"
        ));
    }
    index.push_str("<a href=\"license.txt\">license.txt</a>\n</pre><hr></body></html>\n");
    files.by_path.insert("/".into(), index.into_bytes());
    // Debian's release list names a release this build does not know, and
    // the DSA list has an advisory for it.
    files.by_path.insert(
        "/distro-info-data/debian.csv".into(),
        b"version,codename,series,created,release,eol\n12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-06-10\n17,Zebra,zebra,2031-08-01\n,Sid,sid,1993-08-16\n".to_vec(),
    );
    let dsa = "/security-tracker-team/security-tracker/-/raw/master/data/DSA/list";
    if let Some(body) = files.by_path.get_mut(dsa) {
        body.extend_from_slice(
            b"[01 Jan 2032] DSA-9998-1 zebrapkg - security update\n\t{CVE-2032-0001}\n\t[zebra] - zebrapkg 2.0-1\n",
        );
    }
    let server = Server::start(files);
    let cache = tempfile::tempdir().unwrap();
    // Only the oldest release is configured: the others come from the index.
    let mut opts = options(&server.addr, vec![releases[0].clone()], cache.path());
    // `auto`: the template's URL up to {release}, here the server's root.
    opts.feeds.alpine_index = customs_vulndb::ALPINE_INDEX_AUTO.into();
    opts.feeds.debian_releases = format!("{}/distro-info-data/debian.csv", server.addr);
    let r = update(&opts, &NoProgress).unwrap();
    let b = r.build.as_ref().unwrap();
    // Every release the index lists and the server publishes is built;
    // the unpublished ones are skipped, not fatal.
    assert_eq!(
        b.source("alpine-secdb").unwrap().files as usize,
        2 * releases.len()
    );
    let statuses = server.files.lock().unwrap().statuses.clone();
    assert!(
        statuses.contains(&("/v3.99/main.yaml".into(), 404)),
        "{statuses:?}"
    );
    assert!(statuses.contains(&("/edge/community.yaml".into(), 404)));
    let db = VulnDb::open(&opts.db_path).unwrap();
    let newest = releases.last().unwrap().trim_start_matches('v');
    assert!(db.has_advisories(&format!("alpine:{newest}")).unwrap());
    assert!(!db.has_advisories("alpine:3.99").unwrap());
    let adv = db.advisories("debian:17", "zebrapkg").unwrap();
    assert_eq!(adv.len(), 1, "the release named by Debian's list is read");
    assert_eq!(adv[0].source_id, "DSA-9998-1");

    // An index that lists nothing: with `auto`, the configured releases
    // are still fetched (a mirror need not serve an index); an index named
    // explicitly is refused, and the database is kept.
    server
        .files
        .lock()
        .unwrap()
        .by_path
        .insert("/".into(), b"<html>maintenance</html>".to_vec());
    update(&opts, &NoProgress).unwrap();
    opts.feeds.alpine_index = format!("{}/", server.addr);
    let e = update(&opts, &NoProgress).unwrap_err();
    assert!(e.to_string().contains("lists no release"), "{e}");
    assert!(e.to_string().contains("existing database was kept"), "{e}");
    VulnDb::open(&opts.db_path).unwrap();
    // Debian's list unreachable: a warning, the known releases still read.
    opts.feeds.alpine_index = String::new();
    opts.feeds.debian_releases = format!("{}/gone.csv", server.addr);
    opts.force = true;
    let r = update(&opts, &NoProgress).unwrap();
    assert!(r.build.is_some());
}

#[test]
fn alpine_index_parsing() {
    use customs_vulndb::alpine_releases_from_index as parse;
    let page = "<a href=\"../\">../</a><a href=\"v3.9/\">v3.9/</a><a href=\"edge/\">edge/</a>\
        <a href=\"v3.23/\">v3.23/</a><a href=\"v3.10/\">v3.10/</a><a href=\"v3.10/\">dup</a>\
        <a href=\"license.txt\">x</a><a href=\"v3.x/\">bad</a><a href=\"v99999.1/\">long</a>";
    assert_eq!(parse(page), ["v3.9", "v3.10", "v3.23", "edge"]);
    assert!(parse("").is_empty());
    assert!(parse("<a href=\"").is_empty());
}

#[test]
fn prebuilt_database_is_verified_before_replacing() {
    // A valid database to serve, built from the fixtures.
    let work = tempfile::tempdir().unwrap();
    let feeds = work.path().join("feeds");
    std::fs::create_dir_all(feeds.join("debian-security-tracker")).unwrap();
    std::fs::write(
        feeds.join("debian-security-tracker/tracker.json"),
        fixture("debian-tracker.json"),
    )
    .unwrap();
    let good = work.path().join("good.db");
    customs_vulndb::build(
        &customs_vulndb::BuildOptions::new(&feeds, &good),
        &NoProgress,
    )
    .unwrap();
    let good_bytes = read_all(&good);
    // Another SQLite file that is not ours.
    let other = work.path().join("other.db");
    foreign_sqlite(&other);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&good_bytes).unwrap();
    let mut files = Files::default();
    files
        .by_path
        .insert("/db/customs.db".into(), good_bytes.clone());
    files
        .by_path
        .insert("/db/customs.db.gz".into(), gz.finish().unwrap());
    files.by_path.insert(
        "/db/corrupt.db".into(),
        b"SQLite format 3\0garbage".to_vec(),
    );
    files.by_path.insert(
        "/db/half.db".into(),
        good_bytes[..good_bytes.len() / 2].to_vec(),
    );
    files
        .by_path
        .insert("/db/other.db".into(), read_all(&other));
    files
        .by_path
        .insert("/db/cut.db".into(), good_bytes.clone());
    files.truncate.insert("/db/cut.db".into());
    let server = Server::start(files);
    let http = HttpOptions {
        retries: 0,
        backoff: Duration::from_millis(1),
        ..HttpOptions::default()
    };

    let target = work.path().join("cache/customs.db");
    let n = fetch_prebuilt(
        &format!("{}/db/customs.db", server.addr),
        &target,
        &http,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(n, good_bytes.len() as u64);
    assert_eq!(read_all(&target), good_bytes);
    fetch_prebuilt(
        &format!("{}/db/customs.db.gz", server.addr),
        &target,
        &http,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(read_all(&target), good_bytes);

    for bad in ["corrupt.db", "half.db", "other.db", "cut.db", "missing.db"] {
        let e = fetch_prebuilt(
            &format!("{}/db/{bad}", server.addr),
            &target,
            &http,
            &NoProgress,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("existing database was kept"),
            "{bad}: {e}"
        );
        assert_eq!(read_all(&target), good_bytes, "{bad}");
    }
    // No temporary file is left beside the database.
    let left: Vec<_> = std::fs::read_dir(work.path().join("cache"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

/// A SQLite database with a table that is not ours.
fn foreign_sqlite(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE metadata (k TEXT, v TEXT); INSERT INTO metadata VALUES ('a', 'b');",
    )
    .unwrap();
}
