//! `db update`: download the upstream feeds with conditional GETs into the
//! cache, and rebuild the database beside the old one; or fetch a prebuilt
//! database file from a mirror. Any failure keeps the old database.

use customs_model::error_chain;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::build::{build, temp_beside, BuildOptions, BuildReport, Progress};
use crate::error::{BuildError, DbError};
use crate::query::VulnDb;

/// Where each feed is downloaded from. Every URL can be pointed at a
/// mirror; an empty URL (or empty list) disables that feed. Deserializable
/// from the CLI's config file (`[db.feeds]` in TOML, say); missing fields
/// take the official defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedUrls {
    /// Alpine secdb, one file per release and repository; `{release}` and
    /// `{repo}` are substituted.
    pub alpine_template: String,
    /// The secdb's index page (a directory listing of `vX.Y/` and `edge/`):
    /// `update` reads the releases it lists and fetches them too, so a new
    /// release is covered the day its secdb appears. `auto` (the default):
    /// the template's URL up to `{release}`, read on a best-effort basis (a
    /// mirror without an index page is warned about, not fatal); a URL: that
    /// page, which must list releases; empty: only `alpine_releases`.
    pub alpine_index: String,
    /// Releases always fetched, discovered or not.
    pub alpine_releases: Vec<String>,
    pub alpine_repos: Vec<String>,
    /// Debian security tracker JSON.
    pub debian_tracker: String,
    /// Debian DSA and DLA lists (raw files of the security-tracker repo).
    pub debian_dsa_list: String,
    pub debian_dla_list: String,
    /// Debian's list of releases (distro-info-data's `debian.csv`): names
    /// the release numbers of codenames this build does not know.
    pub debian_releases: String,
    /// OSV per-ecosystem archives: `{ecosystem}` is substituted.
    pub osv_template: String,
    pub osv_ecosystems: Vec<String>,
    /// NVD CVE JSON 2.0 yearly feeds: `{year}` is substituted.
    pub nvd_template: String,
    pub nvd_years: Vec<u16>,
    /// CISA's Known Exploited Vulnerabilities catalog (JSON).
    pub kev: String,
    /// FIRST's EPSS scores of the current day (gzipped CSV).
    pub epss: String,
}

impl Default for FeedUrls {
    fn default() -> Self {
        let this_year = 1970
            + (SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                / 31_556_952) as u16;
        FeedUrls {
            alpine_template: "https://secdb.alpinelinux.org/{release}/{repo}.json".into(),
            alpine_index: ALPINE_INDEX_AUTO.into(),
            alpine_releases: [
                "v3.10", "v3.11", "v3.12", "v3.13", "v3.14", "v3.15", "v3.16", "v3.17", "v3.18",
                "v3.19", "v3.20", "v3.21", "v3.22", "edge",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            alpine_repos: vec!["main".into(), "community".into()],
            debian_tracker: "https://security-tracker.debian.org/tracker/data/json".into(),
            debian_dsa_list:
                "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data/DSA/list"
                    .into(),
            debian_dla_list:
                "https://salsa.debian.org/security-tracker-team/security-tracker/-/raw/master/data/DLA/list"
                    .into(),
            debian_releases: "https://debian.pages.debian.net/distro-info-data/debian.csv".into(),
            osv_template: "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"
                .into(),
            osv_ecosystems: [
                "PyPI", "Go", "crates.io", "npm", "RubyGems", "Maven", "Packagist", "NuGet",
                "Hex", "Pub", "SwiftURL",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            nvd_template: "https://nvd.nist.gov/feeds/json/cve/2.0/nvdcve-2.0-{year}.json.gz"
                .into(),
            nvd_years: (2002..=this_year.max(2025)).collect(),
            kev: "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
                .into(),
            epss: "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz".into(),
        }
    }
}

/// One file to download and where it lands in the feed directory (the
/// `build --from` layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedFile {
    pub url: String,
    /// Relative path under the feed directory.
    pub path: PathBuf,
}

impl FeedUrls {
    /// Debian's release list is fetched only along a Debian feed.
    fn debian_releases_if_needed(&self) -> String {
        let debian = [
            &self.debian_tracker,
            &self.debian_dsa_list,
            &self.debian_dla_list,
        ];
        if debian.iter().all(|u| u.is_empty()) {
            String::new()
        } else {
            self.debian_releases.clone()
        }
    }

    /// Every file to download, in the layout `build` reads.
    pub fn files(&self) -> Vec<FeedFile> {
        let mut out = Vec::new();
        if !self.alpine_template.is_empty() {
            for rel in &self.alpine_releases {
                for repo in &self.alpine_repos {
                    let url = self
                        .alpine_template
                        .replace("{release}", rel)
                        .replace("{repo}", repo);
                    let ext = if url.ends_with(".yaml") {
                        "yaml"
                    } else {
                        "json"
                    };
                    out.push(FeedFile {
                        url,
                        path: PathBuf::from("alpine-secdb")
                            .join(rel)
                            .join(format!("{repo}.{ext}")),
                    });
                }
            }
        }
        for (url, name) in [
            (&self.debian_tracker, "tracker.json"),
            (&self.debian_dsa_list, "DSA-list"),
            (&self.debian_dla_list, "DLA-list"),
            (
                &self.debian_releases_if_needed(),
                crate::build::DEBIAN_RELEASES,
            ),
        ] {
            if !url.is_empty() {
                out.push(FeedFile {
                    url: url.clone(),
                    path: PathBuf::from("debian-security-tracker").join(name),
                });
            }
        }
        if !self.osv_template.is_empty() {
            for eco in &self.osv_ecosystems {
                out.push(FeedFile {
                    url: self.osv_template.replace("{ecosystem}", eco),
                    path: PathBuf::from("osv").join(safe_name(eco)).join("all.zip"),
                });
            }
        }
        if !self.nvd_template.is_empty() {
            for year in &self.nvd_years {
                out.push(FeedFile {
                    url: self.nvd_template.replace("{year}", &year.to_string()),
                    path: PathBuf::from("nvd").join(format!("nvdcve-2.0-{year}.json.gz")),
                });
            }
        }
        for (url, path) in [
            (&self.kev, "kev/known_exploited_vulnerabilities.json"),
            (&self.epss, "epss/epss_scores-current.csv.gz"),
        ] {
            if !url.is_empty() {
                out.push(FeedFile {
                    url: url.clone(),
                    path: PathBuf::from(path),
                });
            }
        }
        out
    }
}

/// The Alpine releases a secdb index page lists: the links `vX.Y/` and
/// `edge/` of its directory listing, oldest first, `edge` last. Anything
/// else on the page (parent links, files, other markup) is ignored.
/// Hand-written: the page is a plain server listing, and an HTML parser
/// would add a dependency for eight lines.
pub fn alpine_releases_from_index(html: &str) -> Vec<String> {
    let mut found: Vec<(u32, u32)> = Vec::new();
    let mut edge = false;
    for part in html.split("href=\"").skip(1) {
        let Some(link) = part.split('"').next() else {
            continue;
        };
        let name = link.trim_start_matches("./").trim_end_matches('/');
        if name == "edge" {
            edge = true;
            continue;
        }
        let Some((major, minor)) = name.strip_prefix('v').and_then(|v| v.split_once('.')) else {
            continue;
        };
        let num = |x: &str| {
            (!x.is_empty() && x.len() <= 4 && x.bytes().all(|b| b.is_ascii_digit()))
                .then(|| x.parse::<u32>().ok())
                .flatten()
        };
        if let (Some(a), Some(b)) = (num(major), num(minor)) {
            found.push((a, b));
        }
    }
    found.sort_unstable();
    found.dedup();
    let mut out: Vec<String> = found
        .into_iter()
        .map(|(a, b)| format!("v{a}.{b}"))
        .collect();
    if edge {
        out.push("edge".into());
    }
    out
}

/// `FeedUrls::alpine_index` derived from the template.
pub const ALPINE_INDEX_AUTO: &str = "auto";

/// Longest index page read: a listing of a few dozen releases is a few KB.
const INDEX_LIMIT: u64 = 1 << 20;

/// Read the secdb index and add the releases it lists to the configured
/// ones; returns the releases it added. With `auto`, the index is the
/// template's URL up to `{release}` and a failure is only warned about (a
/// mirror need not serve an index). An index named explicitly that cannot
/// be read fails the update (the old database is kept), as any feed does;
/// one that lists no release is refused.
fn discover_alpine(
    client: &reqwest::blocking::Client,
    http: &HttpOptions,
    feeds: &mut FeedUrls,
    staging: &Path,
    progress: &dyn Progress,
) -> Result<Vec<String>, UpdateError> {
    if feeds.alpine_template.is_empty() {
        return Ok(Vec::new());
    }
    let (url, best_effort) = match feeds.alpine_index.as_str() {
        "" => return Ok(Vec::new()),
        ALPINE_INDEX_AUTO => match feeds.alpine_template.split_once("{release}") {
            Some((base, _)) => (base.to_string(), true),
            None => return Ok(Vec::new()),
        },
        u => (u.to_string(), false),
    };
    let listed = match list_alpine_releases(client, http, &url, staging, progress) {
        Ok(l) => l,
        Err(e) if best_effort => {
            tracing::warn!(
                "cannot list the Alpine releases of {url} ({e}); fetching the configured ones only"
            );
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    tracing::debug!("{url} lists {} releases", listed.len());
    let mut added = Vec::new();
    for r in listed {
        if !feeds.alpine_releases.contains(&r) {
            feeds.alpine_releases.push(r.clone());
            added.push(r);
        }
    }
    Ok(added)
}

/// The releases the index page at `url` lists (at least one).
fn list_alpine_releases(
    client: &reqwest::blocking::Client,
    http: &HttpOptions,
    url: &str,
    staging: &Path,
    progress: &dyn Progress,
) -> Result<Vec<String>, UpdateError> {
    let dest = staging.join("alpine-index.html");
    let fetched = fetch(client, http, url, None, &dest, progress);
    let read = match fetched? {
        Fetched::Saved { bytes, .. } if bytes <= INDEX_LIMIT => {
            std::fs::read(&dest).map_err(io_err("read", &dest))
        }
        Fetched::Saved { bytes, .. } => Err(UpdateError::Download {
            url: url.to_string(),
            attempts: 1,
            reason: format!("index of {bytes} bytes is larger than {INDEX_LIMIT}"),
        }),
        Fetched::NotModified => Ok(Vec::new()),
    };
    let _ = std::fs::remove_file(&dest);
    let listed = alpine_releases_from_index(&String::from_utf8_lossy(&read?));
    if listed.is_empty() {
        return Err(UpdateError::Download {
            url: url.to_string(),
            attempts: 1,
            reason: "the index lists no release (expected links such as v3.20/ and edge/)".into(),
        });
    }
    Ok(listed)
}

/// A path component from an ecosystem name (`Ubuntu:22.04` → `Ubuntu_22.04`).
fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// HTTP behaviour: timeouts and retries.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest time one download attempt may take, body included.
    pub timeout: Duration,
    /// Attempts after the first one, for connection errors, timeouts,
    /// interrupted bodies, 429 and 5xx.
    pub retries: u32,
    /// First wait before a retry; doubled each time.
    pub backoff: Duration,
    pub user_agent: String,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(15 * 60),
            retries: 3,
            backoff: Duration::from_secs(1),
            user_agent: format!("customs/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// What `update` fetches and where it writes.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    pub feeds: FeedUrls,
    /// The cache directory: feeds are kept in `CACHE/feeds` (with the
    /// ETag state in `CACHE/feeds/.state.json`), downloads are staged in
    /// `CACHE/feeds.staging`.
    pub cache_dir: PathBuf,
    /// The database file to replace.
    pub db_path: PathBuf,
    pub http: HttpOptions,
    pub strict: bool,
    /// Rebuild even when no feed changed.
    pub force: bool,
}

impl UpdateOptions {
    pub fn new(cache_dir: impl Into<PathBuf>, db_path: impl Into<PathBuf>) -> UpdateOptions {
        UpdateOptions {
            feeds: FeedUrls::default(),
            cache_dir: cache_dir.into(),
            db_path: db_path.into(),
            http: HttpOptions::default(),
            strict: false,
            force: false,
        }
    }
}

/// What `update` did.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateReport {
    /// Feeds downloaded anew (200).
    pub downloaded: Vec<String>,
    /// Feeds the server said were unchanged (304).
    pub not_modified: Vec<String>,
    /// Body bytes received.
    pub bytes: u64,
    /// The rebuild, or `None` when nothing changed and the database was kept.
    pub build: Option<BuildReport>,
}

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("download of {url} failed after {attempts} attempt(s): {reason}; any existing database was kept")]
    Download {
        url: String,
        attempts: u32,
        reason: String,
    },
    #[error("{url} answered HTTP {status}; any existing database was kept")]
    Status { url: String, status: u16 },
    #[error("cannot {action} {path}: {source}; any existing database was kept")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    #[error("rebuilding the database failed: {0}; any existing database was kept")]
    Build(#[from] BuildError),
    #[error(
        "the downloaded database from {url} is not valid: {source}; any existing database was kept"
    )]
    InvalidPrebuilt {
        url: String,
        #[source]
        source: DbError,
    },
    #[error("no feed is configured to download")]
    NothingToFetch,
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> UpdateError {
    let path = path.to_path_buf();
    move |source| UpdateError::Io {
        action,
        path,
        source,
    }
}

/// Conditional-GET validators remembered per URL.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    #[serde(default)]
    feeds: BTreeMap<String, Validators>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Validators {
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    path: PathBuf,
}

const STATE_FILE: &str = ".state.json";

fn load_state(dir: &Path) -> State {
    std::fs::read(dir.join(STATE_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The blocking HTTP client (rustls with the ring provider).
fn client(http: &HttpOptions) -> Result<reqwest::blocking::Client, UpdateError> {
    // reqwest is built with `rustls-no-provider`: install ring as the
    // process default (a no-op when a provider is already installed).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .connect_timeout(http.connect_timeout)
        .timeout(http.timeout)
        .user_agent(http.user_agent.clone())
        .build()
        .map_err(|e| UpdateError::Client(e.to_string()))
}

enum Fetched {
    NotModified,
    Saved {
        bytes: u64,
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// One attempt's failure: retry or give up.
enum Failure {
    Retry(String),
    Fatal(UpdateError),
}

fn attempt(
    client: &reqwest::blocking::Client,
    url: &str,
    validators: Option<&Validators>,
    dest: &Path,
    progress: &dyn Progress,
) -> Result<Fetched, Failure> {
    let mut req = client.get(url);
    if let Some(v) = validators {
        if let Some(e) = &v.etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, e);
        }
        if let Some(lm) = &v.last_modified {
            req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
        }
    }
    let mut resp = req.send().map_err(|e| Failure::Retry(error_chain(&e)))?;
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(Failure::Retry(format!("HTTP {status}")));
    }
    if !status.is_success() {
        return Err(Failure::Fatal(UpdateError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        }));
    }
    let header = |name: reqwest::header::HeaderName| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let etag = header(reqwest::header::ETAG);
    let last_modified = header(reqwest::header::LAST_MODIFIED);
    let expected = resp.content_length();
    progress.stage(&format!("download {url}"), expected);
    let mut file =
        std::fs::File::create(dest).map_err(|e| Failure::Fatal(io_err("create", dest)(e)))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match resp.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                progress.finish();
                return Err(Failure::Retry(format!(
                    "connection lost after {total} bytes: {e}"
                )));
            }
        };
        let chunk = buf.get(..n).unwrap_or_default();
        file.write_all(chunk)
            .map_err(|e| Failure::Fatal(io_err("write", dest)(e)))?;
        total += n as u64;
        progress.inc(n as u64);
    }
    progress.finish();
    if let Some(len) = expected {
        // reqwest may hand over a short body when the server closes early.
        if total != len {
            return Err(Failure::Retry(format!(
                "body ended after {total} of {len} bytes"
            )));
        }
    }
    file.sync_all()
        .map_err(|e| Failure::Fatal(io_err("write", dest)(e)))?;
    Ok(Fetched::Saved {
        bytes: total,
        etag,
        last_modified,
    })
}

fn fetch(
    client: &reqwest::blocking::Client,
    http: &HttpOptions,
    url: &str,
    validators: Option<&Validators>,
    dest: &Path,
    progress: &dyn Progress,
) -> Result<Fetched, UpdateError> {
    let mut wait = http.backoff;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt(client, url, validators, dest, progress) {
            Ok(f) => return Ok(f),
            Err(Failure::Fatal(e)) => {
                let _ = std::fs::remove_file(dest);
                return Err(e);
            }
            Err(Failure::Retry(reason)) => {
                let _ = std::fs::remove_file(dest);
                if attempts > http.retries {
                    return Err(UpdateError::Download {
                        url: url.to_string(),
                        attempts,
                        reason,
                    });
                }
                tracing::warn!("download of {url} failed ({reason}); retrying in {wait:?}");
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
            }
        }
    }
}

/// Download every configured feed (conditional GETs), then rebuild the
/// database beside the old one and rename it over. A failed download or
/// build leaves both the cached feeds and the database as they were.
pub fn update(opts: &UpdateOptions, progress: &dyn Progress) -> Result<UpdateReport, UpdateError> {
    if opts.feeds.files().is_empty() {
        return Err(UpdateError::NothingToFetch);
    }
    let feeds_dir = opts.cache_dir.join("feeds");
    let staging = opts.cache_dir.join("feeds.staging");
    std::fs::create_dir_all(&feeds_dir).map_err(io_err("create directory", &feeds_dir))?;
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io_err("create directory", &staging))?;
    let mut state = load_state(&feeds_dir);
    let client = client(&opts.http)?;
    let mut feeds = opts.feeds.clone();
    let discovered = match discover_alpine(&client, &opts.http, &mut feeds, &staging, progress) {
        Ok(d) => d,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let files = feeds.files();
    // A release found only in the index need not have every repository
    // (old releases have no community.json): its 404s are skipped.
    let optional: std::collections::HashSet<&str> = files
        .iter()
        .filter(|f| {
            discovered
                .iter()
                .any(|r| f.path.starts_with(Path::new("alpine-secdb").join(r)))
        })
        .map(|f| f.url.as_str())
        .collect();
    let mut report = UpdateReport {
        downloaded: Vec::new(),
        not_modified: Vec::new(),
        bytes: 0,
        build: None,
    };
    let mut fresh: Vec<(FeedFile, Validators)> = Vec::new();
    let result = (|| -> Result<(), UpdateError> {
        for f in &files {
            // Only ask for a 304 when the cached copy is still there.
            let validators = state
                .feeds
                .get(&f.url)
                .filter(|v| v.path == f.path && feeds_dir.join(&f.path).is_file());
            let dest = staging.join(&f.path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
            }
            let fetched = match fetch(&client, &opts.http, &f.url, validators, &dest, progress) {
                Err(UpdateError::Status { status: 404, .. })
                    if optional.contains(f.url.as_str()) =>
                {
                    tracing::debug!("{} is not published; skipped", f.url);
                    continue;
                }
                // The release list only names codenames after the built-in
                // table: without it (or with the cached copy), the known
                // releases are still read.
                Err(e) if f.url == feeds.debian_releases => {
                    tracing::debug!("{e}");
                    tracing::warn!(
                        "Debian's release list {} was not fetched; codenames after the built-in table are not named",
                        f.url
                    );
                    continue;
                }
                r => r?,
            };
            match fetched {
                Fetched::NotModified => report.not_modified.push(f.url.clone()),
                Fetched::Saved {
                    bytes,
                    etag,
                    last_modified,
                } => {
                    report.bytes += bytes;
                    report.downloaded.push(f.url.clone());
                    fresh.push((
                        f.clone(),
                        Validators {
                            etag,
                            last_modified,
                            path: f.path.clone(),
                        },
                    ));
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    // Every download succeeded: move the new files into the feed directory.
    for (f, v) in fresh {
        let from = staging.join(&f.path);
        let to = feeds_dir.join(&f.path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
        }
        std::fs::rename(&from, &to).map_err(io_err("move into place", &to))?;
        state.feeds.insert(f.url.clone(), v);
    }
    let _ = std::fs::remove_dir_all(&staging);
    // Feeds no longer configured are removed so that they are not built.
    let wanted: std::collections::HashSet<PathBuf> =
        files.iter().map(|f| feeds_dir.join(&f.path)).collect();
    state
        .feeds
        .retain(|url, _| files.iter().any(|f| &f.url == url));
    for entry in walkdir::WalkDir::new(&feeds_dir).into_iter().flatten() {
        let p = entry.path();
        if entry.file_type().is_file()
            && p.file_name().is_some_and(|n| n != STATE_FILE)
            && !wanted.contains(p)
        {
            let _ = std::fs::remove_file(p);
        }
    }
    let state_path = feeds_dir.join(STATE_FILE);
    let tmp_state = temp_beside(&state_path, "writing");
    let json = serde_json::to_vec_pretty(&state).unwrap_or_default();
    std::fs::write(&tmp_state, json).map_err(io_err("write", &tmp_state))?;
    std::fs::rename(&tmp_state, &state_path).map_err(io_err("write", &state_path))?;

    let db_ok = VulnDb::open(&opts.db_path).is_ok();
    if report.downloaded.is_empty() && db_ok && !opts.force {
        return Ok(report);
    }
    let mut bo = BuildOptions::new(&feeds_dir, &opts.db_path);
    bo.strict = opts.strict;
    bo.downloaded_at = Some(SystemTime::now());
    report.build = Some(build(&bo, progress)?);
    Ok(report)
}

/// Download a prebuilt database from `url` (plain or gzip-compressed),
/// check that it opens as a customs database of this schema version and
/// passes SQLite's quick_check, then rename it over `db_path`.
pub fn fetch_prebuilt(
    url: &str,
    db_path: &Path,
    http: &HttpOptions,
    progress: &dyn Progress,
) -> Result<u64, UpdateError> {
    if let Some(parent) = db_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
    }
    let client = client(http)?;
    let download = temp_beside(db_path, "download");
    let ready = temp_beside(db_path, "verified");
    let cleanup = || {
        let _ = std::fs::remove_file(&download);
        let _ = std::fs::remove_file(&ready);
    };
    let bytes = match fetch(&client, http, url, None, &download, progress) {
        Ok(Fetched::Saved { bytes, .. }) => bytes,
        Ok(Fetched::NotModified) => {
            cleanup();
            return Err(UpdateError::Status {
                url: url.into(),
                status: 304,
            });
        }
        Err(e) => {
            cleanup();
            return Err(e);
        }
    };
    // Decompress when gzip'd.
    let gz = std::fs::File::open(&download)
        .and_then(|mut f| {
            let mut magic = [0u8; 2];
            let n = f.read(&mut magic)?;
            Ok(n == 2 && magic == [0x1f, 0x8b])
        })
        .map_err(io_err("read", &download))?;
    if gz {
        let r = std::fs::File::open(&download).map_err(io_err("read", &download))?;
        let mut w = std::fs::File::create(&ready).map_err(io_err("create", &ready))?;
        if let Err(e) = std::io::copy(&mut flate2::read::GzDecoder::new(r), &mut w) {
            cleanup();
            return Err(UpdateError::InvalidPrebuilt {
                url: url.into(),
                source: DbError::NotCustomsDb {
                    path: download.clone(),
                    reason: format!("bad gzip data: {e}"),
                },
            });
        }
        let _ = std::fs::remove_file(&download);
    } else {
        std::fs::rename(&download, &ready).map_err(io_err("move", &ready))?;
    }
    let check = VulnDb::open(&ready).and_then(|db| db.verify());
    if let Err(source) = check {
        cleanup();
        return Err(UpdateError::InvalidPrebuilt {
            url: url.into(),
            source,
        });
    }
    if let Err(e) = std::fs::rename(&ready, db_path) {
        cleanup();
        return Err(io_err("replace", db_path)(e));
    }
    Ok(bytes)
}
