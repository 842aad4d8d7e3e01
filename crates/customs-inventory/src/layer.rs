//! Analysis of one layer (or one root directory): a single streaming pass that
//! offers each entry to the analyzers that want it. The result is plain data,
//! cached on disk by diff ID.

use customs_image::walk::{read_error, Entry, EntryKind, Event};
use customs_model::Package;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;

/// Files larger than this are never buffered for a parser (package databases,
/// lockfiles and metadata are far smaller); they are reported and skipped.
const MAX_DOC: u64 = 64 << 20;
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

/// Language packages read from one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AppFile {
    pub lang_type: String,
    pub packages: Vec<Package>,
}

/// One secret finding and the file it is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSecret {
    pub path: String,
    pub finding: customs_secret::SecretFinding,
}

/// Everything the analyzers learned from one layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerResult {
    /// Paths this layer deletes from lower layers (`.wh.NAME`).
    pub whiteouts: Vec<String>,
    /// Directories whose lower contents this layer hides (`.wh..wh..opq`).
    pub opaque: Vec<String>,
    /// Every entry's metadata (only when the hardening scanner runs).
    pub files: Vec<FileMeta>,
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
    /// Other files whose contents the caller wants (hardening).
    pub extra_wanted: Option<fn(&str) -> bool>,
}

impl Analyzers<'_> {
    /// A fingerprint of what runs, part of the cache key.
    pub fn fingerprint(&self, secret_fingerprint: &str) -> String {
        format!(
            "os={} installed={} lockfiles={} secrets={} files={} extra={}",
            self.os,
            self.installed,
            self.lockfiles,
            if self.secrets.is_some() {
                secret_fingerprint
            } else {
                "off"
            },
            self.keep_files,
            self.extra_wanted.is_some()
        )
    }

    fn lang_wanted(&self, path: &str) -> Option<customs_lang::Analyzer> {
        if !(self.installed || self.lockfiles) {
            return None;
        }
        let a = customs_lang::analyzer_for(path)?;
        let keep = match a.kind {
            customs_lang::Kind::Lockfile => self.lockfiles,
            customs_lang::Kind::Installed => self.installed || self.lockfiles,
            customs_lang::Kind::Binary => self.installed,
        };
        keep.then_some(a)
    }
}

fn read_all(r: &mut dyn Read, path: &str, size: u64) -> Result<Vec<u8>, String> {
    let mut v = Vec::with_capacity(size.min(MAX_DOC) as usize);
    r.take(MAX_DOC)
        .read_to_end(&mut v)
        .map_err(|e| read_error(path, &e))?;
    Ok(v)
}

impl LayerResult {
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
        let extra = an.extra_wanted.is_some_and(|f| f(path));
        let want_doc = os_kind.is_some() || lang.is_some() || extra;
        if want_doc && e.size > MAX_DOC {
            self.warnings.push(format!(
                "{path}: {} bytes, too large to analyze; skipped",
                e.size
            ));
            return Ok(());
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
                            },
                        );
                    }
                    Ok(_) => {}
                    Err(err) => self.warnings.push(err.to_string()),
                }
                return Ok(()); // a binary holds no secrets the scanner reads
            }
            // Not a binary: scan what is left for secrets, head included.
            if let Some(sc) = an.secrets {
                if !sc.skip_path(path) {
                    let chained = (&head[..n]).chain(r);
                    let found = sc
                        .scan_reader(path, chained)
                        .map_err(|err| read_error(path, &err))?;
                    self.push_secrets(path, found);
                }
            }
            return Ok(());
        }

        if let Some(d) = &data {
            if let Some(k) = os_kind {
                self.os_file(path, k, d);
            }
            if let Some(a) = lang {
                match customs_lang::parse(&a, path, d) {
                    Ok(pkgs) if !pkgs.is_empty() => {
                        self.apps.insert(
                            path.to_string(),
                            AppFile {
                                lang_type: a.lang_type.to_string(),
                                packages: pkgs,
                            },
                        );
                    }
                    Ok(_) => {}
                    Err(err) => self.warnings.push(err.to_string()),
                }
            }
        }
        if let Some(sc) = an.secrets {
            if e.size > 0 && !sc.skip_path(path) {
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

    fn push_secrets(&mut self, path: &str, found: Vec<customs_secret::SecretFinding>) {
        self.secrets
            .extend(found.into_iter().map(|finding| FileSecret {
                path: path.to_string(),
                finding,
            }));
    }

    fn os_file(&mut self, path: &str, kind: customs_ospkg::FileKind, d: &[u8]) {
        use customs_ospkg::FileKind as K;
        match kind {
            k if k.is_release_file() => {
                self.release_files.insert(path.to_string(), d.to_vec());
            }
            K::ApkInstalled => {
                let p = customs_ospkg::parse_apk_installed(path, d);
                self.warnings.extend(p.warnings);
                self.pkg_dbs.insert(path.to_string(), p.packages);
            }
            K::DpkgStatus => {
                let p = customs_ospkg::parse_dpkg_status(path, d);
                self.warnings.extend(p.warnings);
                self.pkg_dbs.insert(path.to_string(), p.packages);
            }
            K::DpkgStatusD => {
                let p = customs_ospkg::parse_dpkg_status_d(&[(path, d)]);
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
    }
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
