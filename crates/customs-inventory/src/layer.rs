//! Analysis of one layer (or one root directory): a single streaming pass that
//! offers each entry to the analyzers that want it. The result is plain data,
//! cached on disk by diff ID.

use customs_image::walk::{read_error, Entry, EntryKind, Event};
use customs_model::Package;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufReader, Read};

/// Files larger than this are never buffered for a parser. Package databases
/// over it are parsed as streams (apk, dpkg) or read straight into SQLite
/// (rpm); any other wanted file over its limit fails the scan, since
/// skipping it would change the findings.
const MAX_DOC: u64 = 64 << 20;
/// OS release files (`etc/os-release`...) are a few hundred bytes.
const MAX_RELEASE: u64 = 1 << 20;
/// An RPM SQLite database is read whole into SQLite's memory.
const MAX_RPMDB: u64 = 256 << 20;
/// Executables larger than this are not searched for build info.
const MAX_BINARY: u64 = 256 << 20;

/// Metadata of one filesystem entry, kept when hardening needs the final view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    pub path: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

/// Which entries the hardening checks look at: `keep(path, kind, mode)`
/// says whether an entry's metadata is kept; `version` changes whenever the
/// answer can change (it is part of the cache key).
#[derive(Clone, Copy)]
pub struct EntryFilter {
    pub keep: fn(&str, EntryKind, u32) -> bool,
    pub version: &'static str,
}

/// 128-bit hashes of the paths of entries whose metadata was not kept: a
/// kept entry of a lower layer that an upper layer replaces by an entry no
/// check looks at (`chmod u-s` in a later `RUN`) is hidden by it. 16 bytes
/// per entry, serialized as one hex string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathHashes(pub Vec<[u8; 16]>);

/// The hash [`PathHashes`] holds: the first 16 bytes of SHA-256 (a
/// collision cannot be forced to hide an entry).
pub fn path_hash(path: &str) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(path.as_bytes());
    let mut h = [0u8; 16];
    h.copy_from_slice(&d[..16]);
    h
}

impl Serialize for PathHashes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0.as_flattened()))
    }
}

impl<'de> Deserialize<'de> for PathHashes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = hex::decode(&s).map_err(serde::de::Error::custom)?;
        if bytes.len() % 16 != 0 {
            return Err(serde::de::Error::custom(
                "path hashes: not a multiple of 16 bytes",
            ));
        }
        let hashes = bytes
            .chunks_exact(16)
            .map(|c| {
                let mut h = [0u8; 16];
                h.copy_from_slice(c);
                h
            })
            .collect();
        Ok(PathHashes(hashes))
    }
}

/// Language packages read from one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppFile {
    pub lang_type: String,
    pub packages: Vec<Package>,
    /// The file's text, for formats the merge completes from other files:
    /// a `go.mod` that needs its `go.sum` (older than Go 1.17) and every
    /// `pom.xml` (parent POMs in the same tree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One secret finding and the file it is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSecret {
    pub path: String,
    pub finding: customs_secret::SecretFinding,
    /// Matches of this file beyond the scanner's limits, counted but not
    /// reported; set on the file's first finding only (0 on the others).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Everything the analyzers learned from one layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerResult {
    /// Paths this layer deletes from lower layers (`.wh.NAME`).
    pub whiteouts: Vec<String>,
    /// Directories whose lower contents this layer hides (`.wh..wh..opq`).
    pub opaque: Vec<String>,
    /// The metadata of the entries the hardening checks look at (every
    /// entry without an [`EntryFilter`]; only when the hardening scanner runs).
    pub files: Vec<FileMeta>,
    /// The paths of the other entries, as hashes.
    #[serde(default, skip_serializing_if = "PathHashes::is_empty")]
    pub shadows: PathHashes,
    /// Index of `files` by path (the latest entry), while the layer is read:
    /// a later entry of the same path in the same layer is kept whatever
    /// the filter says, so that it replaces the earlier one.
    #[serde(skip)]
    kept_index: std::collections::HashMap<String, usize>,
    /// OS release files: path → contents.
    pub release_files: BTreeMap<String, Vec<u8>>,
    /// Package databases: path → packages read from it.
    pub pkg_dbs: BTreeMap<String, Vec<Package>>,
    /// dpkg file lists: `var/lib/dpkg/info/X.list` → files.
    pub dpkg_lists: BTreeMap<String, Vec<String>>,
    /// dpkg copyright files: `usr/share/doc/X/copyright` → licenses.
    pub copyrights: BTreeMap<String, Vec<String>>,
    /// Language packages: file path → packages.
    pub apps: BTreeMap<String, AppFile>,
    /// Secrets found in this layer's files.
    pub secrets: Vec<FileSecret>,
    /// Contents of extra files the caller asked for (hardening: passwd...).
    pub extra_files: BTreeMap<String, Vec<u8>>,
    /// Records skipped with the reason (file and record named).
    pub warnings: Vec<String>,
}

/// Files whose contents one scanner wants, with the version of its choice
/// (both part of the cache key: a changed predicate must not reuse layer
/// results made with the old one).
#[derive(Debug, Clone, Copy)]
pub struct FileWant {
    /// `hardening`, `confusion`; with a version (`confusion/1`).
    pub name: &'static str,
    pub wanted: fn(&str) -> bool,
}

/// The cache-key form of a list of wants: `none`, or the names joined by `+`.
fn want_names(w: &[FileWant]) -> String {
    if w.is_empty() {
        return "none".into();
    }
    let mut names: Vec<&str> = w.iter().map(|w| w.name).collect();
    names.sort_unstable();
    names.dedup();
    names.join("+")
}

/// Which analyzers run.
pub struct Analyzers<'a> {
    pub os: bool,
    /// Installed language packages and binaries (image, rootfs).
    pub installed: bool,
    /// Lockfiles of project trees (fs).
    pub lockfiles: bool,
    pub secrets: Option<&'a customs_secret::SecretScanner>,
    /// Keep every entry's metadata (hardening).
    pub keep_files: bool,
    /// Other files whose contents the callers want (hardening's passwd,
    /// the confusion scanner's package manager configs...).
    pub extra_wanted: &'a [FileWant],
    /// With `keep_files`: which entries' metadata to keep (all when `None`).
    pub keep_entry: Option<EntryFilter>,
}

impl PathHashes {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Analyzers<'_> {
    /// A fingerprint of what runs, part of the cache key.
    pub fn fingerprint(&self, secret_fingerprint: &str) -> String {
        format!(
            "os={} installed={} lockfiles={} secrets={} files={} extra={} entries={}",
            self.os,
            self.installed,
            self.lockfiles,
            if self.secrets.is_some() {
                secret_fingerprint
            } else {
                "off"
            },
            self.keep_files,
            want_names(self.extra_wanted),
            self.keep_entry.map_or("all", |f| f.version)
        )
    }

    fn lang_wanted(&self, path: &str) -> Option<customs_lang::Analyzer> {
        if !(self.installed || self.lockfiles) {
            return None;
        }
        let a = customs_lang::analyzer_for(path)?;
        let keep = match a.kind {
            customs_lang::Kind::Lockfile | customs_lang::Kind::Manifest => self.lockfiles,
            customs_lang::Kind::Installed => self.installed || self.lockfiles,
            customs_lang::Kind::Binary => self.installed,
        };
        keep.then_some(a)
    }
}

/// The largest size a wanted file may have, and what it is (for the error).
fn doc_limit(os_kind: Option<customs_ospkg::FileKind>, lang: bool) -> (u64, &'static str) {
    match os_kind {
        Some(k) if k.is_release_file() && !lang => (MAX_RELEASE, "an OS release file"),
        Some(_) => (MAX_DOC, "a buffered package database"),
        None if lang => (MAX_DOC, "a lockfile or package manifest"),
        None => (MAX_DOC, "a file the config checks read"),
    }
}

fn too_large(path: &str, size: u64, limit: u64, what: &str) -> String {
    format!(
        "{path}: {size} bytes, over the {} MiB limit for {what}; the file cannot be analyzed",
        limit >> 20
    )
}

fn read_all(r: &mut dyn Read, path: &str, size: u64) -> Result<Vec<u8>, String> {
    let mut v = Vec::with_capacity(size.min(MAX_DOC) as usize);
    r.take(MAX_DOC)
        .read_to_end(&mut v)
        .map_err(|e| read_error(path, &e))?;
    Ok(v)
}

impl LayerResult {
    /// Append what a visit of the entries that follow this one's learned
    /// (the parts of a parallel walk, in walk order): the result is the
    /// one a single visit of both runs in turn gives.
    pub fn append(&mut self, later: LayerResult) {
        let LayerResult {
            whiteouts,
            opaque,
            files,
            shadows,
            kept_index,
            release_files,
            pkg_dbs,
            dpkg_lists,
            copyrights,
            apps,
            secrets,
            extra_files,
            warnings,
        } = later;
        self.whiteouts.extend(whiteouts);
        self.opaque.extend(opaque);
        let offset = self.files.len();
        self.kept_index
            .extend(kept_index.into_iter().map(|(k, i)| (k, i + offset)));
        self.files.extend(files);
        self.shadows.0.extend(shadows.0);
        self.release_files.extend(release_files);
        self.pkg_dbs.extend(pkg_dbs);
        self.dpkg_lists.extend(dpkg_lists);
        self.copyrights.extend(copyrights);
        self.apps.extend(apps);
        self.secrets.extend(secrets);
        self.extra_files.extend(extra_files);
        self.warnings.extend(warnings);
    }

    /// The visitor for one walk: feed it every event of the layer.
    pub fn visit(&mut self, an: &Analyzers<'_>, ev: Event<'_, '_>) -> Result<(), String> {
        match ev {
            Event::Whiteout(p) => self.whiteouts.push(p.to_string()),
            Event::Opaque(p) => self.opaque.push(p.to_string()),
            Event::Entry(e, r) => self.entry(an, &e, r)?,
        }
        Ok(())
    }

    fn entry(&mut self, an: &Analyzers<'_>, e: &Entry<'_>, r: &mut dyn Read) -> Result<(), String> {
        if an.keep_files {
            self.keep_meta(an, e);
        }
        if e.kind != EntryKind::File {
            return Ok(());
        }
        let path = e.path;
        let os_kind = if an.os {
            customs_ospkg::kind(path)
        } else {
            None
        };
        let lang = an.lang_wanted(path);
        let mut extra = an.extra_wanted.iter().any(|w| (w.wanted)(path));
        if extra && os_kind.is_none() && lang.is_none() && e.size > MAX_DOC {
            // Only a config check wants it: too big to be a real config
            // (a hostile image's decoy); the check goes without it, the
            // scan goes on.
            let (limit, what) = doc_limit(None, false);
            self.warnings.push(too_large(path, e.size, limit, what));
            extra = false;
        }
        let want_doc = os_kind.is_some() || lang.is_some() || extra;
        if want_doc && e.size > MAX_DOC {
            if let Some(k) = os_kind.filter(|_| lang.is_none() && !extra) {
                if self.stream_db(an, path, k, e.size, r)? {
                    return Ok(());
                }
            }
        }
        if want_doc {
            let (limit, what) = doc_limit(os_kind, lang.is_some());
            if e.size > limit {
                return Err(too_large(path, e.size, limit, what));
            }
        }
        let mut data: Option<Vec<u8>> = None;
        if want_doc {
            data = Some(read_all(r, path, e.size)?);
        } else if an.installed && e.is_executable() && e.size >= 1024 && e.size <= MAX_BINARY {
            // Peek at the magic; read the rest only for ELF/PE/Mach-O files.
            let mut head = [0u8; 4];
            let n = read_up_to(r, &mut head).map_err(|err| read_error(path, &err))?;
            if customs_lang::is_binary_candidate(&head[..n]) {
                let mut v = Vec::with_capacity(e.size as usize);
                v.extend_from_slice(&head[..n]);
                r.read_to_end(&mut v)
                    .map_err(|err| read_error(path, &err))?;
                match customs_lang::parse_binary(path, &v) {
                    Ok(Some((t, pkgs))) if !pkgs.is_empty() => {
                        self.apps.insert(
                            path.to_string(),
                            AppFile {
                                lang_type: t.to_string(),
                                packages: pkgs,
                                source: None,
                            },
                        );
                    }
                    Ok(_) => {}
                    Err(err) => self.warnings.push(err.to_string()),
                }
                return Ok(()); // a binary holds no secrets the scanner reads
            }
            // Not a binary: scan what is left for secrets, head included.
            // (The scanner skips a skipped path itself, before reading.)
            if let Some(sc) = an.secrets {
                let chained = (&head[..n]).chain(r);
                let found = sc
                    .scan_reader(path, chained)
                    .map_err(|err| read_error(path, &err))?;
                self.push_secrets(path, found);
            }
            return Ok(());
        }

        if let Some(d) = &data {
            if let Some(k) = os_kind {
                self.os_file(path, k, d)?;
            }
            if let Some(a) = lang {
                match customs_lang::parse(&a, path, d) {
                    Ok(pkgs) if !pkgs.is_empty() => {
                        self.apps.insert(
                            path.to_string(),
                            AppFile {
                                lang_type: a.lang_type.to_string(),
                                packages: pkgs,
                                source: merge_source(a.lang_type, path, d),
                            },
                        );
                    }
                    Ok(_) => {}
                    // A project manifest only refines a lockfile; one that
                    // does not parse (a template, a test fixture) is not a
                    // finding.
                    Err(err) if a.kind == customs_lang::Kind::Manifest => {
                        tracing::debug!("{err}");
                    }
                    Err(err) => self.warnings.push(err.to_string()),
                }
            }
        }
        if let Some(sc) = an.secrets {
            if e.size > 0 {
                let found = match &data {
                    Some(d) => sc.scan(path, d),
                    None => sc
                        .scan_reader(path, r)
                        .map_err(|err| read_error(path, &err))?,
                };
                self.push_secrets(path, found);
            }
        }
        if extra {
            if let Some(d) = data {
                self.extra_files.insert(path.to_string(), d);
            }
        }
        Ok(())
    }

    fn push_secrets(&mut self, path: &str, found: customs_secret::ScanOutcome) {
        let mut dropped = found.dropped;
        self.secrets
            .extend(found.findings.into_iter().map(|finding| FileSecret {
                path: path.to_string(),
                finding,
                dropped: std::mem::take(&mut dropped),
            }));
    }

    /// Keep an entry's metadata for hardening, or only its path's hash when
    /// no check looks at it.
    fn keep_meta(&mut self, an: &Analyzers<'_>, e: &Entry<'_>) {
        let keep = an
            .keep_entry
            .is_none_or(|f| (f.keep)(e.path, e.kind, e.mode))
            || self.kept_index.contains_key(e.path);
        if !keep {
            self.shadows.0.push(path_hash(e.path));
            return;
        }
        if an.keep_entry.is_some() {
            self.kept_index.insert(e.path.to_string(), self.files.len());
        }
        self.files.push(FileMeta {
            path: e.path.to_string(),
            kind: e.kind,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            size: e.size,
            link_target: e.link_target.map(str::to_string),
        });
    }

    /// A package database over [`MAX_DOC`], parsed without buffering it:
    /// apk and dpkg as streams of lines (bounded per line and stanza), the
    /// RPM SQLite database read straight into SQLite up to [`MAX_RPMDB`].
    /// Returns false for a kind that is not a package database.
    fn stream_db(
        &mut self,
        an: &Analyzers<'_>,
        path: &str,
        kind: customs_ospkg::FileKind,
        size: u64,
        r: &mut dyn Read,
    ) -> Result<bool, String> {
        use customs_ospkg::FileKind as K;
        let limits = customs_ospkg::StreamLimits::default();
        const BUF: usize = 256 << 10;
        let parsed = match kind {
            K::ApkInstalled => {
                customs_ospkg::read_apk_installed(path, BufReader::with_capacity(BUF, r), &limits)
            }
            K::DpkgStatus | K::DpkgStatusD => {
                customs_ospkg::read_dpkg_status(path, BufReader::with_capacity(BUF, r), &limits)
            }
            K::RpmSqlite => {
                if size > MAX_RPMDB {
                    return Err(too_large(path, size, MAX_RPMDB, "an RPM database"));
                }
                match customs_ospkg::read_rpmdb_sqlite(path, &mut *r, size) {
                    Ok(p) => Ok(p),
                    // Not a database: a warning, as for a buffered one.
                    Err(e) => {
                        self.warnings.push(e.to_string());
                        return Ok(true);
                    }
                }
            }
            _ => return Ok(false),
        };
        let p = parsed.map_err(|e| e.to_string())?;
        if an.secrets.is_some_and(|sc| !sc.skip_path(path)) {
            self.warnings.push(format!(
                "{path}: {size} bytes, parsed as a stream; not scanned for secrets"
            ));
        }
        self.warnings.extend(p.warnings);
        self.pkg_dbs.insert(path.to_string(), p.packages);
        Ok(true)
    }

    /// A buffered OS file. The stanza databases go through the streaming
    /// parser (over the buffer) so that the same line and stanza limits
    /// apply whatever the file's size.
    fn os_file(
        &mut self,
        path: &str,
        kind: customs_ospkg::FileKind,
        d: &[u8],
    ) -> Result<(), String> {
        use customs_ospkg::FileKind as K;
        let limits = customs_ospkg::StreamLimits::default();
        match kind {
            k if k.is_release_file() => {
                self.release_files.insert(path.to_string(), d.to_vec());
            }
            K::ApkInstalled => {
                let p = customs_ospkg::read_apk_installed(path, d, &limits)
                    .map_err(|e| e.to_string())?;
                self.warnings.extend(p.warnings);
                self.pkg_dbs.insert(path.to_string(), p.packages);
            }
            K::DpkgStatus | K::DpkgStatusD => {
                let p =
                    customs_ospkg::read_dpkg_status(path, d, &limits).map_err(|e| e.to_string())?;
                self.warnings.extend(p.warnings);
                self.pkg_dbs.insert(path.to_string(), p.packages);
            }
            K::DpkgList => {
                self.dpkg_lists
                    .insert(path.to_string(), customs_ospkg::parse_dpkg_list(path, d));
            }
            K::DpkgCopyright => {
                let l = customs_ospkg::parse_dpkg_copyright(d);
                if !l.is_empty() {
                    self.copyrights.insert(path.to_string(), l);
                }
            }
            K::RpmSqlite => match customs_ospkg::parse_rpmdb_sqlite(path, d) {
                Ok(p) => {
                    self.warnings.extend(p.warnings);
                    self.pkg_dbs.insert(path.to_string(), p.packages);
                }
                Err(e) => self.warnings.push(e.to_string()),
            },
            _ => {}
        }
        Ok(())
    }
}

/// The text the merge needs of this file (see [`AppFile::source`]).
fn merge_source(lang_type: &str, path: &str, data: &[u8]) -> Option<String> {
    let file = path.rsplit('/').next().unwrap_or(path);
    let keep = match (lang_type, file) {
        (customs_model::lang_type::GOMOD, "go.mod") => customs_lang::go_mod_needs_go_sum(data),
        (customs_model::lang_type::POM, _) => true,
        _ => false,
    };
    keep.then(|| String::from_utf8_lossy(data).into_owned())
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
