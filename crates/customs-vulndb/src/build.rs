//! `db build`: find the feeds under a directory, parse them in parallel,
//! merge, and write one SQLite file atomically.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use customs_model::Severity;
use rayon::prelude::*;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::error::BuildError;
use crate::feeds::{self, Source};
use crate::record::{
    newest_epss, AdvisoryRecord, Cvss, EpssScores, FeedOutput, KevCatalog, KevRecord, Skipped,
    VulnRecord,
};
use crate::schema::{CREATE, FORMAT_MARKER, INDEXES, SCHEMA_VERSION};

/// Progress of a long operation; the CLI renders it (indicatif). Every
/// method has an empty default, and [`NoProgress`] ignores everything.
pub trait Progress: Sync {
    /// A new stage begins (`parsing`, `writing`, `download URL`), with the
    /// number of steps (files, rows, bytes) when known.
    fn stage(&self, _name: &str, _total: Option<u64>) {}
    /// `n` more steps of the current stage are done.
    fn inc(&self, _n: u64) {}
    /// The current stage is done.
    fn finish(&self) {}
}

/// A [`Progress`] that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What `build` reads and writes.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The directory holding the feeds (layout in docs/database.md).
    pub from: PathBuf,
    /// The database file to write (replaced atomically).
    pub output: PathBuf,
    /// Fail on the first malformed record instead of skipping it.
    pub strict: bool,
    /// `next_update` = build time + this.
    pub update_interval: Duration,
    /// When the feeds were downloaded (set by `update`).
    pub downloaded_at: Option<SystemTime>,
}

impl BuildOptions {
    pub fn new(from: impl Into<PathBuf>, output: impl Into<PathBuf>) -> BuildOptions {
        BuildOptions {
            from: from.into(),
            output: output.into(),
            strict: false,
            update_interval: Duration::from_secs(24 * 3600),
            downloaded_at: None,
        }
    }
}

/// Counts for one data source, as stored in `data_sources`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceStats {
    pub id: String,
    pub name: String,
    pub url: String,
    /// Files read.
    pub files: u64,
    /// Records read (see docs/database.md for what a record is per source),
    /// including withdrawn and skipped ones.
    pub records: u64,
    pub withdrawn: u64,
    pub skipped: u64,
    /// Advisory rows written for this source.
    pub advisories: u64,
    /// Vulnerabilities this source described.
    pub vulnerabilities: u64,
    /// Newest modification time of the source's files (RFC 3339).
    pub updated_at: Option<String>,
}

/// What `build` did.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub output: PathBuf,
    pub sources: Vec<SourceStats>,
    /// Every malformed record that was skipped.
    pub skipped: Vec<Skipped>,
    pub advisories: u64,
    pub vulnerabilities: u64,
    pub file_size: u64,
    pub elapsed: Duration,
}

impl BuildReport {
    pub fn source(&self, id: &str) -> Option<&SourceStats> {
        self.sources.iter().find(|s| s.id == id)
    }
}

/// One input file and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    pub source: Source,
    pub kind: Kind,
    pub path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Alpine,
    DebianTracker,
    DebianList,
    Osv,
    OsvZip,
    Rustsec,
    Rubysec,
    Nvd,
    Kev,
    Epss,
}

fn ext_in(p: &Path, exts: &[&str]) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| exts.iter().any(|e| n.ends_with(e)))
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .into_iter()
        .filter_map(|e| match e {
            Ok(e) => Some(e),
            Err(err) => {
                tracing::warn!("cannot list {}: {err}", dir.display());
                None
            }
        })
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// Every feed file under `dir`, by the layout of docs/database.md.
pub(crate) fn discover(dir: &Path) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut add = |source, kind, path| jobs.push(Job { source, kind, path });
    for p in walk(&dir.join("alpine-secdb")) {
        if ext_in(&p, &[".yaml", ".yml", ".json"]) {
            add(Source::AlpineSecdb, Kind::Alpine, p);
        }
    }
    for p in walk(&dir.join("debian-security-tracker")) {
        match p.file_name().and_then(|n| n.to_str()) {
            Some("DSA-list") => add(Source::DebianDsa, Kind::DebianList, p),
            Some("DLA-list") => add(Source::DebianDla, Kind::DebianList, p),
            Some(n) if n.ends_with(".json") => add(Source::DebianTracker, Kind::DebianTracker, p),
            _ => {}
        }
    }
    for p in walk(&dir.join("pypa").join("vulns")) {
        if ext_in(&p, &[".yaml", ".yml", ".json"]) {
            add(Source::Pypa, Kind::Osv, p);
        }
    }
    for p in walk(&dir.join("go-vulndb").join("data").join("osv")) {
        if ext_in(&p, &[".json"]) {
            add(Source::GoVulndb, Kind::Osv, p);
        }
    }
    for p in walk(&dir.join("rustsec").join("crates")) {
        let is_adv = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("RUSTSEC-") && n.ends_with(".md"));
        if is_adv {
            add(Source::Rustsec, Kind::Rustsec, p);
        }
    }
    for p in walk(&dir.join("rubysec").join("gems")) {
        if ext_in(&p, &[".yml", ".yaml"]) {
            add(Source::Rubysec, Kind::Rubysec, p);
        }
    }
    for p in walk(&dir.join("osv")) {
        if ext_in(&p, &[".zip"]) {
            add(Source::Osv, Kind::OsvZip, p);
        } else if ext_in(&p, &[".json", ".yaml", ".yml"]) {
            add(Source::Osv, Kind::Osv, p);
        }
    }
    for p in walk(&dir.join("nvd")) {
        if ext_in(&p, &[".json", ".json.gz"]) {
            add(Source::Nvd, Kind::Nvd, p);
        }
    }
    // CISA publishes the JSON schema beside the catalog: not a feed.
    for p in walk(&dir.join("kev")) {
        if ext_in(&p, &[".json"]) && !ext_in(&p, &["schema.json"]) {
            add(Source::Kev, Kind::Kev, p);
        }
    }
    for p in walk(&dir.join("epss")) {
        if ext_in(&p, &[".csv", ".csv.gz"]) {
            add(Source::Epss, Kind::Epss, p);
        }
    }
    jobs
}

/// Parse one file of a given kind (no I/O: the bytes are given).
pub fn parse_feed_bytes(kind_name: &str, file: &str, bytes: &[u8]) -> Option<FeedOutput> {
    let (source, kind) = match kind_name {
        "alpine" => (Source::AlpineSecdb, Kind::Alpine),
        "debian-tracker" => (Source::DebianTracker, Kind::DebianTracker),
        "debian-list" => (Source::DebianDsa, Kind::DebianList),
        "osv" => (Source::Osv, Kind::Osv),
        "osv-zip" => (Source::Osv, Kind::OsvZip),
        "rustsec" => (Source::Rustsec, Kind::Rustsec),
        "rubysec" => (Source::Rubysec, Kind::Rubysec),
        "nvd" => (Source::Nvd, Kind::Nvd),
        "kev" => (Source::Kev, Kind::Kev),
        "epss" => (Source::Epss, Kind::Epss),
        _ => return None,
    };
    Some(parse_kind(
        source,
        kind,
        file,
        bytes,
        &feeds::debian::Releases::default(),
    ))
}

/// The parser names [`parse_feed_bytes`] accepts.
pub const FEED_KINDS: [&str; 10] = [
    "alpine",
    "debian-tracker",
    "debian-list",
    "osv",
    "osv-zip",
    "rustsec",
    "rubysec",
    "nvd",
    "kev",
    "epss",
];

fn parse_kind(
    source: Source,
    kind: Kind,
    file: &str,
    bytes: &[u8],
    debian: &feeds::debian::Releases,
) -> FeedOutput {
    match kind {
        Kind::Alpine => feeds::alpine::parse(file, bytes),
        Kind::DebianTracker => feeds::debian::parse_tracker(file, bytes, debian),
        Kind::DebianList => feeds::debian::parse_list(file, bytes, debian),
        Kind::Osv => feeds::osv::parse(file, bytes, source),
        Kind::OsvZip => feeds::osv::parse_zip(file, bytes, source),
        Kind::Rustsec => feeds::rustsec::parse(file, bytes),
        Kind::Rubysec => feeds::rubysec::parse(file, bytes),
        Kind::Nvd => feeds::nvd::parse(file, bytes),
        Kind::Kev => feeds::kev::parse(file, bytes),
        Kind::Epss => feeds::epss::parse(file, bytes),
    }
}

fn run_job(
    job: &Job,
    root: &Path,
    debian: &feeds::debian::Releases,
) -> (FeedOutput, Option<SystemTime>) {
    let shown = job
        .path
        .strip_prefix(root)
        .unwrap_or(&job.path)
        .display()
        .to_string();
    match std::fs::read(&job.path) {
        Ok(bytes) => {
            let mtime = std::fs::metadata(&job.path).and_then(|m| m.modified()).ok();
            (
                parse_kind(job.source, job.kind, &shown, &bytes, debian),
                mtime,
            )
        }
        Err(e) => {
            let mut out = FeedOutput {
                records: 1,
                ..Default::default()
            };
            out.skip(&shown, "", format!("cannot read: {e}"));
            (out, None)
        }
    }
}

/// Debian's list of releases (`debian-security-tracker/debian.csv`, from
/// distro-info-data), when the feed directory has it. A list that does not
/// read is an error with `strict`, else a warning: the built-in table of
/// releases still applies.
fn debian_releases(from: &Path, strict: bool) -> Result<feeds::debian::Releases, BuildError> {
    let path = from.join("debian-security-tracker").join(DEBIAN_RELEASES);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(source) => {
            return Err(BuildError::Io {
                action: "read",
                path,
                source,
            })
        }
    };
    match feeds::debian::Releases::from_distro_info(&bytes) {
        Ok(r) => Ok(r),
        Err(reason) => {
            let first = Skipped {
                file: path.display().to_string(),
                record: String::new(),
                reason: format!("not a distro-info debian.csv: {reason}"),
            };
            if strict {
                return Err(BuildError::Strict { count: 1, first });
            }
            tracing::warn!("{first}; only the releases this build knows are read");
            Ok(Default::default())
        }
    }
}

/// The file name of Debian's release list in the feed directory.
pub const DEBIAN_RELEASES: &str = "debian.csv";

/// Build a database from the feeds under `opts.from` into `opts.output`.
/// The file is written beside the target and renamed over it only when
/// complete; on error the old file is untouched.
pub fn build(opts: &BuildOptions, progress: &dyn Progress) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    if !opts.from.is_dir() {
        return Err(BuildError::NoSourceDir(opts.from.clone()));
    }
    let jobs = discover(&opts.from);
    if jobs.is_empty() {
        return Err(BuildError::NoFeeds(opts.from.clone()));
    }
    let debian = debian_releases(&opts.from, opts.strict)?;
    progress.stage("parsing feeds", Some(jobs.len() as u64));
    let outputs: Vec<(Source, FeedOutput, Option<SystemTime>)> = jobs
        .par_iter()
        .map(|job| {
            let (out, mtime) = run_job(job, &opts.from, &debian);
            progress.inc(1);
            (job.source, out, mtime)
        })
        .collect();
    progress.finish();

    let mut stats: BTreeMap<Source, SourceStats> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut advisories: Vec<(Source, AdvisoryRecord)> = Vec::new();
    let mut vulns: Vec<(Source, VulnRecord)> = Vec::new();
    let mut mtimes: HashMap<Source, SystemTime> = HashMap::new();
    let mut exploits = Exploits::default();
    for (source, out, mtime) in outputs {
        let st = stats.entry(source).or_insert_with(|| SourceStats {
            id: source.id().into(),
            name: source.name().into(),
            url: source.url().into(),
            ..Default::default()
        });
        st.files += 1;
        st.records += out.records as u64;
        st.withdrawn += out.withdrawn as u64;
        st.skipped += out.skipped.len() as u64;
        if let Some(m) = mtime {
            let e = mtimes.entry(source).or_insert(m);
            if m > *e {
                *e = m;
            }
        }
        skipped.extend(out.skipped);
        advisories.extend(out.advisories.into_iter().map(|a| (source, a)));
        vulns.extend(out.vulns.into_iter().map(|v| (source, v)));
        exploits.kev.extend(out.kev);
        if out.kev_catalog > exploits.kev_catalog {
            exploits.kev_catalog = out.kev_catalog;
        }
        exploits.epss = newest_epss(exploits.epss.take(), out.epss);
    }
    if opts.strict {
        if let Some(first) = skipped.first() {
            return Err(BuildError::Strict {
                count: skipped.len(),
                first: first.clone(),
            });
        }
    }
    for (s, m) in mtimes {
        if let Some(st) = stats.get_mut(&s) {
            st.updated_at = Some(humantime::format_rfc3339_seconds(m).to_string());
        }
    }

    // Advisories: sorted for locality of the package index, exact
    // duplicates (same package, vulnerability and source record) dropped.
    advisories.par_sort_unstable_by(|(sa, a), (sb, b)| {
        (
            &a.ecosystem,
            &a.package,
            &a.vulnerability_id,
            sa.id(),
            &a.source_id,
        )
            .cmp(&(
                &b.ecosystem,
                &b.package,
                &b.vulnerability_id,
                sb.id(),
                &b.source_id,
            ))
    });
    advisories.dedup_by(|(sb, b), (sa, a)| {
        sa == sb
            && a.ecosystem == b.ecosystem
            && a.package == b.package
            && a.vulnerability_id == b.vulnerability_id
            && a.source_id == b.source_id
    });
    let referenced: HashSet<&str> = advisories
        .iter()
        .map(|(_, a)| a.vulnerability_id.as_str())
        .collect();
    let merged = merge_vulns(vulns, &referenced, &mut stats);
    exploits.settle(&referenced, &merged, &mut stats);
    for (s, _) in &advisories {
        if let Some(st) = stats.get_mut(s) {
            st.advisories += 1;
        }
    }
    let mut sources: Vec<SourceStats> = stats.into_values().collect();
    sources.sort_by(|a, b| a.id.cmp(&b.id));
    let file_size = write_db(opts, &sources, &advisories, &merged, &exploits, progress)?;
    Ok(BuildReport {
        output: opts.output.clone(),
        sources,
        skipped,
        advisories: advisories.len() as u64,
        vulnerabilities: merged.len() as u64,
        file_size,
        elapsed: started.elapsed(),
    })
}

/// Exploit data: the KEV catalog and one day's EPSS scores.
#[derive(Default)]
pub(crate) struct Exploits {
    pub kev: Vec<KevRecord>,
    pub kev_catalog: Option<KevCatalog>,
    pub epss: Option<EpssScores>,
}

impl Exploits {
    /// One KEV row per CVE; EPSS scores only of the CVEs the database
    /// names (an advisory's id, a vulnerability's id or alias): a finding
    /// can only ever ask for those, and the full file is ten times larger.
    fn settle(
        &mut self,
        referenced: &HashSet<&str>,
        merged: &[Merged],
        stats: &mut BTreeMap<Source, SourceStats>,
    ) {
        self.kev.sort_by(|a, b| a.cve_id.cmp(&b.cve_id));
        self.kev.dedup_by(|b, a| a.cve_id == b.cve_id);
        if let Some(st) = stats.get_mut(&Source::Kev) {
            st.vulnerabilities = self.kev.len() as u64;
        }
        if let Some(e) = self.epss.as_mut() {
            let mut known: HashSet<&str> = referenced.clone();
            for m in merged {
                known.insert(m.id.as_str());
                known.extend(m.aliases.iter().map(String::as_str));
            }
            e.scores.retain(|s| known.contains(s.cve_id.as_str()));
            e.scores.sort_by(|a, b| a.cve_id.cmp(&b.cve_id));
            e.scores.dedup_by(|b, a| a.cve_id == b.cve_id);
            if let Some(st) = stats.get_mut(&Source::Epss) {
                st.vulnerabilities = e.scores.len() as u64;
            }
        }
    }
}

/// One vulnerability merged from every source that described it.
#[derive(Default)]
pub(crate) struct Merged {
    pub id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub severity: Option<(Severity, Source)>,
    pub severities: BTreeMap<String, Severity>,
    pub cvss: Vec<Cvss>,
    pub cwe_ids: Vec<String>,
    pub references: Vec<String>,
    pub aliases: Vec<String>,
}

fn push_unique(v: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for i in items {
        if !i.is_empty() && !v.contains(&i) {
            v.push(i);
        }
    }
}

fn merge_vulns(
    mut vulns: Vec<(Source, VulnRecord)>,
    referenced: &HashSet<&str>,
    stats: &mut BTreeMap<Source, SourceStats>,
) -> Vec<Merged> {
    // NVD is enrichment only: keep its CVEs that an advisory names.
    vulns.retain(|(s, v)| *s != Source::Nvd || referenced.contains(v.id.as_str()));
    vulns.par_sort_by(|(sa, a), (sb, b)| {
        (&a.id, sa.priority(), sa).cmp(&(&b.id, sb.priority(), sb))
    });
    let mut out: Vec<Merged> = Vec::new();
    let mut counted: HashSet<(Source, String)> = HashSet::new();
    for (source, v) in vulns {
        if counted.insert((source, v.id.clone())) {
            if let Some(st) = stats.get_mut(&source) {
                st.vulnerabilities += 1;
            }
        }
        let m = match out.last_mut() {
            Some(m) if m.id == v.id => m,
            _ => {
                out.push(Merged {
                    id: v.id.clone(),
                    ..Default::default()
                });
                match out.last_mut() {
                    Some(m) => m,
                    None => continue,
                }
            }
        };
        // Sorted by priority: the first source to give a field wins.
        if m.title.is_none() {
            m.title = v.title.filter(|s| !s.trim().is_empty());
        }
        if m.description.is_none() {
            m.description = v.description.filter(|s| !s.trim().is_empty());
        }
        if m.published.is_none() {
            m.published = v.published;
        }
        if m.modified.is_none() {
            m.modified = v.modified;
        }
        if let Some(sev) = v.severity {
            let e = m.severities.entry(source.id().to_string()).or_insert(sev);
            if sev > *e {
                *e = sev;
            }
            let better = match m.severity {
                None => true,
                Some((cur, cur_src)) => {
                    cur == Severity::Unknown && sev != Severity::Unknown
                        || cur_src == source && sev > cur
                }
            };
            if better {
                m.severity = Some((sev, source));
            }
        }
        for c in v.cvss {
            if !m.cvss.contains(&c) {
                m.cvss.push(c);
            }
        }
        push_unique(&mut m.cwe_ids, v.cwe_ids);
        push_unique(&mut m.references, v.references);
        let id = m.id.clone();
        push_unique(&mut m.aliases, v.aliases.into_iter().filter(|a| *a != id));
    }
    out
}

/// A path beside `target` for the file being written.
/// A temporary path beside `target` (the one definition is in customs-model),
/// after sweeping the ones killed builds left there.
pub(crate) fn temp_beside(target: &Path, what: &str) -> PathBuf {
    let swept = customs_model::tmpfile::sweep_beside(target, what);
    if swept > 0 {
        tracing::debug!(
            "removed {swept} stale temporary files beside {}",
            target.display()
        );
    }
    customs_model::tmpfile::temp_beside(target, what)
}

fn write_db(
    opts: &BuildOptions,
    sources: &[SourceStats],
    advisories: &[(Source, AdvisoryRecord)],
    vulns: &[Merged],
    exploits: &Exploits,
    progress: &dyn Progress,
) -> Result<u64, BuildError> {
    if let Some(parent) = opts.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| BuildError::Io {
            action: "create directory",
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let tmp = temp_beside(&opts.output, "building");
    let _ = std::fs::remove_file(&tmp);
    let result = write_db_at(&tmp, opts, sources, advisories, vulns, exploits, progress);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let size = std::fs::metadata(&tmp).map(|m| m.len()).unwrap_or(0);
    if let Err(source) = std::fs::rename(&tmp, &opts.output) {
        let _ = std::fs::remove_file(&tmp);
        return Err(BuildError::Io {
            action: "replace",
            path: opts.output.clone(),
            source,
        });
    }
    Ok(size)
}

fn write_db_at(
    path: &Path,
    opts: &BuildOptions,
    sources: &[SourceStats],
    advisories: &[(Source, AdvisoryRecord)],
    vulns: &[Merged],
    exploits: &Exploits,
    progress: &dyn Progress,
) -> Result<(), BuildError> {
    let werr = |source| BuildError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = Connection::open(path).map_err(werr)?;
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;",
    )
    .map_err(werr)?;
    conn.execute_batch(CREATE).map_err(werr)?;
    let tx = conn.transaction().map_err(werr)?;
    progress.stage(
        "writing database",
        Some((advisories.len() + vulns.len()) as u64),
    );
    {
        let mut ins = tx
            .prepare(
                "INSERT OR IGNORE INTO advisories (ecosystem, package, vulnerability_id, source, source_id, status, severity, affected, fixed_versions, informational) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(werr)?;
        for (i, (source, a)) in advisories.iter().enumerate() {
            let affected = serde_json::to_string(&a.affected)?;
            let fixed = a.affected.fixed_versions().join(", ");
            ins.execute(params![
                a.ecosystem,
                a.package,
                a.vulnerability_id,
                source.id(),
                a.source_id,
                a.status.as_str(),
                a.severity.map(|s| s.as_str()),
                affected,
                fixed,
                a.informational,
            ])
            .map_err(werr)?;
            if i % 4096 == 4095 {
                progress.inc(4096);
            }
        }
        let mut ins = tx
            .prepare(
                "INSERT INTO vulnerabilities (id, title, description, severity, severity_source, severities, cvss, cwe_ids, reference_urls, aliases, published, modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .map_err(werr)?;
        let mut ins_alias = tx
            .prepare("INSERT OR IGNORE INTO aliases (alias, vulnerability_id) VALUES (?1, ?2)")
            .map_err(werr)?;
        for v in vulns {
            ins.execute(params![
                v.id,
                v.title,
                v.description,
                v.severity.map(|(s, _)| s.as_str()),
                v.severity.map(|(_, src)| src.id()),
                serde_json::to_string(&v.severities)?,
                serde_json::to_string(&v.cvss)?,
                serde_json::to_string(&v.cwe_ids)?,
                serde_json::to_string(&v.references)?,
                serde_json::to_string(&v.aliases)?,
                v.published,
                v.modified,
            ])
            .map_err(werr)?;
            for a in &v.aliases {
                ins_alias.execute(params![a, v.id]).map_err(werr)?;
            }
        }
        let mut ins = tx
            .prepare(
                "INSERT INTO known_exploited (cve_id, date_added, due_date, ransomware, vendor_project, product, name, required_action) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(werr)?;
        for k in &exploits.kev {
            ins.execute(params![
                k.cve_id,
                k.date_added,
                Some(k.due_date.as_str()).filter(|d| !d.is_empty()),
                k.ransomware,
                k.vendor_project,
                k.product,
                k.name,
                k.required_action,
            ])
            .map_err(werr)?;
        }
        let mut ins = tx
            .prepare("INSERT INTO epss (cve_id, score, percentile) VALUES (?1, ?2, ?3)")
            .map_err(werr)?;
        for e in exploits.epss.iter().flat_map(|e| &e.scores) {
            ins.execute(params![e.cve_id, e.score, e.percentile])
                .map_err(werr)?;
        }
        let mut ins = tx
            .prepare(
                "INSERT INTO data_sources (id, name, url, files, records, withdrawn, skipped, advisories, vulnerabilities, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(werr)?;
        for s in sources {
            ins.execute(params![
                s.id,
                s.name,
                s.url,
                s.files as i64,
                s.records as i64,
                s.withdrawn as i64,
                s.skipped as i64,
                s.advisories as i64,
                s.vulnerabilities as i64,
                s.updated_at,
            ])
            .map_err(werr)?;
        }
        let now = SystemTime::now();
        let mut meta = vec![
            ("format", FORMAT_MARKER.to_string()),
            ("schema_version", SCHEMA_VERSION.to_string()),
            (
                "built_at",
                humantime::format_rfc3339_seconds(now).to_string(),
            ),
            (
                "next_update",
                humantime::format_rfc3339_seconds(now + opts.update_interval).to_string(),
            ),
            ("customs_version", env!("CARGO_PKG_VERSION").to_string()),
        ];
        if let Some(c) = &exploits.kev_catalog {
            meta.push(("kev_catalog_version", c.version.clone()));
            meta.push(("kev_date_released", c.released.clone()));
        }
        if let Some(e) = &exploits.epss {
            meta.push(("epss_model_version", e.model_version.clone()));
            meta.push(("epss_score_date", e.score_date.clone()));
        }
        if let Some(d) = opts.downloaded_at {
            meta.push((
                "downloaded_at",
                humantime::format_rfc3339_seconds(d).to_string(),
            ));
        }
        let mut ins = tx
            .prepare("INSERT INTO metadata (key, value) VALUES (?1, ?2)")
            .map_err(werr)?;
        for (k, v) in meta {
            ins.execute(params![k, v]).map_err(werr)?;
        }
    }
    tx.execute_batch(INDEXES).map_err(werr)?;
    tx.commit().map_err(werr)?;
    conn.execute_batch("ANALYZE;").map_err(werr)?;
    conn.close().map_err(|(_, e)| werr(e))?;
    progress.finish();
    // Durable before the rename makes it visible.
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.sync_all();
    }
    Ok(())
}
