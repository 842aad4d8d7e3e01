//! The dpkg database: `var/lib/dpkg/status`, distroless
//! `var/lib/dpkg/status.d/*`, `var/lib/dpkg/info/*.list` and
//! `usr/share/doc/*/copyright`.
//!
//! Hand-written: the status file is a small RFC 822-like format (deb-control(5));
//! the crates that read it either pull a large dependency tree or do not keep
//! line numbers for warnings. Versions are split as deb-version(7) says.

use crate::stream::{LineSink, StreamLimits};
use crate::{OsPkgError, Parsed};
use customs_model::Package;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::BufRead;
use tracing::warn;

/// A Debian version split into its parts: `[epoch:]upstream[-revision]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebVersion {
    pub epoch: u32,
    pub upstream: String,
    pub revision: String,
}

/// Split a Debian version (deb-version(7)): the epoch is the number before
/// the first `:`, the revision what follows the last `-`. Returns `None`
/// for a version dpkg would reject: empty, a non-numeric epoch, an upstream
/// part that is empty, does not start with a digit or holds characters
/// outside `[A-Za-z0-9.+~-:]`, or a revision outside `[A-Za-z0-9.+~]`.
///
/// ```
/// use customs_ospkg::{split_dpkg_version, join_dpkg_version};
/// let v = split_dpkg_version("1:3.0.11-1~deb12u2").unwrap();
/// assert_eq!((v.epoch, v.upstream.as_str(), v.revision.as_str()), (1, "3.0.11", "1~deb12u2"));
/// assert_eq!(join_dpkg_version(&v), "1:3.0.11-1~deb12u2");
/// assert!(split_dpkg_version("abc").is_none());
/// ```
pub fn split_dpkg_version(v: &str) -> Option<DebVersion> {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (e.parse::<u32>().ok()?, rest)
        }
        None => (0, v),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((u, r)) => (u, r),
        None => (rest, ""),
    };
    if !upstream.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    let up_ok = upstream
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".+~-:".contains(&b));
    let rev_ok = revision
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".+~".contains(&b));
    if !up_ok || !rev_ok || (rest.ends_with('-')) {
        return None;
    }
    Some(DebVersion {
        epoch,
        upstream: upstream.to_string(),
        revision: revision.to_string(),
    })
}

/// The inverse of [`split_dpkg_version`].
pub fn join_dpkg_version(v: &DebVersion) -> String {
    let mut s = String::new();
    // An upstream version may hold ':' only after an explicit epoch
    // (`0:1:2` is epoch 0, upstream `1:2`): keep `0:` then, or the
    // string would read back with another epoch (found by cargo fuzz).
    if v.epoch > 0 || v.upstream.contains(':') {
        s.push_str(&v.epoch.to_string());
        s.push(':');
    }
    s.push_str(&v.upstream);
    if !v.revision.is_empty() {
        s.push('-');
        s.push_str(&v.revision);
    }
    s
}

/// One stanza: its first line number and its fields in order.
struct Stanza {
    line: usize,
    fields: Vec<(String, String)>,
}

impl Stanza {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// The dpkg status parser, fed line by line: stanzas are built with their
/// continuation lines joined, and each is turned into a package as soon as
/// it ends, so only one stanza is held at a time.
struct DpkgParser<'a> {
    path: &'a str,
    cur: Option<Stanza>,
    raws: Vec<Raw>,
    warnings: Vec<String>,
    /// Warnings over the cap, per file.
    dropped: usize,
    /// Bytes of the current stanza.
    cur_bytes: usize,
    budget: Option<crate::stream::Budget>,
    error: Option<OsPkgError>,
}

impl<'a> DpkgParser<'a> {
    fn new(path: &'a str) -> Self {
        DpkgParser {
            path,
            cur: None,
            raws: Vec::new(),
            warnings: Vec::new(),
            dropped: 0,
            cur_bytes: 0,
            budget: None,
            error: None,
        }
    }

    fn end_stanza(&mut self) {
        if let Some(st) = self.cur.take() {
            if let Some(r) = stanza_to_package(self.path, &st, &mut self.warnings) {
                self.raws.push(r);
                if let Some(b) = self.budget.as_mut() {
                    if let Err(e) = b.spend(self.path, st.line, self.cur_bytes) {
                        self.error = Some(e);
                    }
                }
            }
            crate::stream::cap_warnings(&mut self.warnings, &mut self.dropped);
        }
    }

    /// The end of one file: its last stanza ends; the next file (if any)
    /// is `path`.
    fn next_file(&mut self, path: &'a str) {
        self.end_file();
        self.path = path;
    }

    fn end_file(&mut self) {
        self.end_stanza();
        self.cur_bytes = 0;
        crate::stream::dropped_warnings(self.path, &mut self.warnings, self.dropped);
        self.dropped = 0;
    }

    fn finish(mut self) -> Parsed {
        self.end_file();
        self.raws.shrink_to_fit();
        Parsed {
            packages: resolve(self.raws),
            warnings: self.warnings,
        }
    }
}

impl LineSink for DpkgParser<'_> {
    fn set_budget(&mut self, budget: crate::stream::Budget) {
        self.budget = Some(budget);
    }

    fn failed(&mut self) -> Option<OsPkgError> {
        self.error.take()
    }

    fn line(&mut self, lineno: usize, line: &str) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            self.end_stanza();
            self.cur_bytes = 0;
            return;
        }
        self.cur_bytes = self.cur_bytes.saturating_add(line.len() + 1);
        let st = self.cur.get_or_insert_with(|| Stanza {
            line: lineno,
            fields: Vec::new(),
        });
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, v)) = st.fields.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            return;
        }
        if let Some((k, v)) = line.split_once(':') {
            st.fields.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
}

/// `Status: want ok state`: installed when want is install/hold and the
/// state is `installed`. A stanza without Status (distroless) counts.
fn installed(status: Option<&str>) -> bool {
    let Some(s) = status else { return true };
    let words: Vec<&str> = s.split_whitespace().collect();
    match words.as_slice() {
        [want, _, state] => (*want == "install" || *want == "hold") && *state == "installed",
        _ => false,
    }
}

/// Names in a `Depends:` field: alternatives kept, versions and arch
/// qualifiers removed (`libc6:any (>= 2.14) | foo` → `libc6`, `foo`).
fn depend_names(field: &str) -> Vec<String> {
    let mut out = Vec::new();
    for group in field.split(',') {
        for alt in group.split('|') {
            let name = alt
                .split(|c: char| c == '(' || c == '[' || c == '<' || c.is_whitespace())
                .find(|s| !s.is_empty())
                .unwrap_or("");
            let name = name.split(':').next().unwrap_or("");
            if !name.is_empty() {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// A package read from a stanza with the names it depends on and provides.
struct Raw {
    pkg: Package,
    depends: Vec<String>,
    provides: Vec<String>,
}

fn stanza_to_package(path: &str, st: &Stanza, warnings: &mut Vec<String>) -> Option<Raw> {
    let mut problem = |what: String| {
        let msg = format!("{path}:{}: dpkg stanza {what}; skipped", st.line);
        warn!("{msg}");
        warnings.push(msg);
    };
    let Some(name) = st.get("Package").filter(|n| !n.is_empty()) else {
        problem("without Package".to_string());
        return None;
    };
    if !installed(st.get("Status")) {
        return None; // config-files, half-installed, deinstall...: not a warning
    }
    let Some(version) = st.get("Version").filter(|v| !v.is_empty()) else {
        problem(format!("{name}: without Version"));
        return None;
    };
    let Some(v) = split_dpkg_version(version) else {
        problem(format!("{name}: invalid Version {version:?}"));
        return None;
    };
    let mut pkg = Package {
        id: format!("{name}@{version}"),
        name: name.to_string(),
        version: v.upstream.clone(),
        release: v.revision.clone(),
        epoch: v.epoch,
        arch: st.get("Architecture").unwrap_or_default().to_string(),
        maintainer: st.get("Maintainer").unwrap_or_default().to_string(),
        ..Default::default()
    };
    // Source: "src" or "src (version)"; absent → same as the binary.
    let (src_name, src_ver) = match st.get("Source").filter(|s| !s.is_empty()) {
        Some(s) => match s.split_once('(') {
            Some((n, rest)) => (
                n.trim().to_string(),
                split_dpkg_version(rest.trim_end_matches(')').trim()),
            ),
            None => (s.trim().to_string(), None),
        },
        None => (name.to_string(), None),
    };
    let src_ver = src_ver.unwrap_or(v);
    pkg.src_name = src_name;
    pkg.src_version = src_ver.upstream;
    pkg.src_release = src_ver.revision;
    pkg.src_epoch = src_ver.epoch;

    let mut depends = Vec::new();
    for key in ["Pre-Depends", "Depends"] {
        if let Some(d) = st.get(key) {
            depends.extend(depend_names(d));
        }
    }
    let provides = st.get("Provides").map(depend_names).unwrap_or_default();
    Some(Raw {
        pkg,
        depends,
        provides,
    })
}

/// Resolve dependency names to the IDs of installed packages (by name, then
/// through `Provides`), sorted and de-duplicated.
fn resolve(raws: Vec<Raw>) -> Vec<Package> {
    let mut by_name: HashMap<String, String> = HashMap::new();
    for r in &raws {
        by_name.insert(r.pkg.name.clone(), r.pkg.id.clone());
    }
    for r in &raws {
        for p in &r.provides {
            by_name.entry(p.clone()).or_insert_with(|| r.pkg.id.clone());
        }
    }
    raws.into_iter()
        .map(|r| {
            let mut pkg = r.pkg;
            let set: BTreeSet<String> = r
                .depends
                .iter()
                .filter_map(|d| by_name.get(d))
                .filter(|id| **id != pkg.id)
                .cloned()
                .collect();
            pkg.depends_on = set.into_iter().collect();
            pkg
        })
        .collect()
}

/// Parse `var/lib/dpkg/status` (or one `status.d` file).
///
/// Only installed packages are returned (`Status: install ok installed` or
/// `hold ok installed`; a stanza without Status counts as installed, as in
/// distroless images). `Version` is split into `epoch`, `version` and
/// `release`; `Source: src (ver)` gives `src_name` and the source version
/// (absent → the binary's). `Depends` and `Pre-Depends` become `depends_on`,
/// resolved to the IDs (`name@version`) of the packages in the same file. A
/// stanza without Package or Version, or with an invalid version, is a
/// warning naming the file and the line where the stanza starts.
///
/// ```
/// let status = b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n\
///     Source: glibc\nVersion: 2.36-9+deb12u7\n\n";
/// let parsed = customs_ospkg::parse_dpkg_status("var/lib/dpkg/status", status);
/// let p = &parsed.packages[0];
/// assert_eq!((p.version.as_str(), p.release.as_str()), ("2.36", "9+deb12u7"));
/// assert_eq!((p.src_name.as_str(), p.src_version.as_str()), ("glibc", "2.36"));
/// ```
pub fn parse_dpkg_status(path: &str, data: &[u8]) -> Parsed {
    parse_dpkg_status_d(&[(path, data)])
}

/// Parse several status files together (the files of distroless
/// `var/lib/dpkg/status.d/`), so that dependencies resolve across them.
///
/// ```
/// let parsed = customs_ospkg::parse_dpkg_status_d(&[
///     ("var/lib/dpkg/status.d/base", b"Package: base-files\nVersion: 12.4+deb12u5\nDepends: libc6\n"),
///     ("var/lib/dpkg/status.d/libc6", b"Package: libc6\nVersion: 2.36-9+deb12u7\nSource: glibc\n"),
/// ]);
/// assert_eq!(parsed.packages[0].depends_on, vec!["libc6@2.36-9+deb12u7"]);
/// ```
pub fn parse_dpkg_status_d(files: &[(&str, &[u8])]) -> Parsed {
    let mut p = DpkgParser::new(files.first().map(|(path, _)| *path).unwrap_or(""));
    for (path, data) in files {
        p.next_file(path);
        crate::stream::feed_slice(data, &mut p);
    }
    p.finish()
}

/// [`parse_dpkg_status`] over a stream: one line and one stanza in memory
/// at a time, the same parser, the same packages and warnings. A line or a
/// stanza over `limits` is an error ([`OsPkgError::TooLong`]) naming the
/// file and line.
///
/// ```
/// let status: &[u8] = b"Package: libc6\nVersion: 2.36-9+deb12u7\n\nPackage: tzdata\nVersion: 2024a-0+deb12u1\n";
/// let limits = customs_ospkg::StreamLimits::default();
/// let parsed = customs_ospkg::read_dpkg_status("var/lib/dpkg/status", status, &limits).unwrap();
/// assert_eq!(parsed, customs_ospkg::parse_dpkg_status("var/lib/dpkg/status", status));
/// ```
pub fn read_dpkg_status<R: BufRead>(
    path: &str,
    r: R,
    limits: &StreamLimits,
) -> Result<Parsed, OsPkgError> {
    let mut p = DpkgParser::new(path);
    crate::stream::feed_reader(path, r, limits, &mut p)?;
    Ok(p.finish())
}

/// The package a `var/lib/dpkg/info/NAME[:ARCH].list` file belongs to:
/// `(name, arch)`, arch `None` when the file name has none.
///
/// ```
/// use customs_ospkg::dpkg_list_owner;
/// assert_eq!(dpkg_list_owner("var/lib/dpkg/info/libc6:amd64.list"), Some(("libc6", Some("amd64"))));
/// assert_eq!(dpkg_list_owner("var/lib/dpkg/info/bash.list"), Some(("bash", None)));
/// assert_eq!(dpkg_list_owner("etc/passwd"), None);
/// ```
pub fn dpkg_list_owner(path: &str) -> Option<(&str, Option<&str>)> {
    let file = path.rsplit('/').next()?;
    let stem = file.strip_suffix(".list")?;
    if stem.is_empty() {
        return None;
    }
    Some(match stem.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (stem, None),
    })
}

/// The files of one `*.list` file, without directories and without the
/// leading `/` (a line is a directory when another line lies below it).
///
/// ```
/// let files = customs_ospkg::parse_dpkg_list("var/lib/dpkg/info/bash.list",
///     b"/.\n/bin\n/bin/bash\n/usr/share/doc/bash\n/usr/share/doc/bash/copyright\n");
/// assert_eq!(files, vec!["bin/bash", "usr/share/doc/bash/copyright"]);
/// ```
pub fn parse_dpkg_list(_path: &str, data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).trim_start_matches('/'))
        .filter(|l| !l.is_empty() && *l != ".")
        .collect();
    let mut dirs: HashSet<&str> = HashSet::new();
    for l in &lines {
        let mut p = *l;
        while let Some((parent, _)) = p.rsplit_once('/') {
            if !dirs.insert(parent) {
                break;
            }
            p = parent;
        }
    }
    let mut seen = HashSet::new();
    lines
        .into_iter()
        .filter(|l| !dirs.contains(l) && seen.insert(*l))
        .map(str::to_string)
        .collect()
}

/// Attach the files of one `.list` file (from [`parse_dpkg_list`]) to its
/// package among `packages`: matched on name, and on architecture when the
/// list file names one (`libc6:amd64.list`). Returns false when no package
/// matched.
pub fn attach_dpkg_files(packages: &mut [Package], list_path: &str, files: Vec<String>) -> bool {
    let Some((name, arch)) = dpkg_list_owner(list_path) else {
        return false;
    };
    let found = packages
        .iter_mut()
        .find(|p| p.name == name && arch.is_none_or(|a| p.arch == a || p.arch.is_empty()));
    match found {
        Some(p) => {
            p.installed_files = files;
            true
        }
        None => false,
    }
}

/// Licenses named in a `usr/share/doc/PKG/copyright` file: the `License:`
/// fields of a machine-readable (DEP-5) file, else well-known license names
/// mentioned in a free-form file (`/usr/share/common-licenses/GPL-2` and
/// similar). De-duplicated, in order of appearance.
///
/// ```
/// let c = b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n\
///     Files: *\nLicense: GPL-2+\n\nFiles: lib/*\nLicense: LGPL-2.1 or BSD-3-clause\n";
/// assert_eq!(customs_ospkg::parse_dpkg_copyright(c), vec!["GPL-2+", "LGPL-2.1", "BSD-3-clause"]);
/// ```
pub fn parse_dpkg_copyright(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let mut out: Vec<String> = Vec::new();
    let mut push = |l: &str| {
        let l = l.trim().trim_end_matches(['.', ',']);
        if !l.is_empty() && !out.iter().any(|o| o == l) {
            out.push(l.to_string());
        }
    };
    let mut any_field = false;
    for line in text.lines() {
        let Some(value) = line.strip_prefix("License:") else {
            continue;
        };
        any_field = true;
        // Operators split licenses; anything else (e.g. "with OpenSSL
        // exception") stays with the license it follows.
        let mut group: Vec<&str> = Vec::new();
        for tok in value.split_whitespace() {
            let tok = tok.trim_matches(|c| c == '(' || c == ')');
            let lower = tok.to_ascii_lowercase();
            if matches!(lower.as_str(), "or" | "and" | "|" | "&" | "") {
                push(&group.join(" "));
                group.clear();
            } else if let Some(t) = tok.strip_suffix(',') {
                group.push(t);
                push(&group.join(" "));
                group.clear();
            } else {
                group.push(tok);
            }
        }
        push(&group.join(" "));
    }
    if any_field {
        return out;
    }
    // Free-form copyright: look for references to common-licenses.
    for (idx, _) in text.match_indices("/usr/share/common-licenses/") {
        let rest = text
            .get(idx + "/usr/share/common-licenses/".len()..)
            .unwrap_or("");
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.' || *c == '+')
            .collect();
        push(&name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_epoch_is_kept_when_upstream_has_a_colon() {
        for input in ["0:00:", "0:1:2-3", "1:2:3"] {
            let v = split_dpkg_version(input).unwrap_or_else(|| panic!("{input}"));
            let joined = join_dpkg_version(&v);
            assert_eq!(split_dpkg_version(&joined), Some(v), "{input} -> {joined}");
        }
        let v = split_dpkg_version("0:1.2-3").unwrap_or_else(|| panic!("parse"));
        assert_eq!(join_dpkg_version(&v), "1.2-3");
    }

    const STATUS: &str = "Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12985
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u7
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
 .
 This package includes shared versions.

Package: libgcc-s1
Status: install ok installed
Architecture: amd64
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14
Depends: gcc-12-base (= 12.2.0-14), libc6 (>= 2.35)

Package: openssl
Status: hold ok installed
Architecture: amd64
Source: openssl (1:3.0.11-1~deb12u2)
Version: 3.0.11-1~deb12u2
Pre-Depends: awk | mawk
Depends: libc6 (>= 2.34), libssl3 (>= 3.0.9)

Package: mawk
Status: install ok installed
Architecture: amd64
Version: 1.3.4.20200120-3.1
Provides: awk

Package: half
Status: install reinstreq half-installed
Version: 1.0-1

Package: gone
Status: deinstall ok config-files
Version: 1.0-1

Package: removed
Status: purge ok not-installed
Version: 1.0-1

Package: noversion
Status: install ok installed

Package: badversion
Status: install ok installed
Version: abc-1

Status: install ok installed
Version: 1.0

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
";

    #[test]
    fn status_file() {
        let p = parse_dpkg_status("var/lib/dpkg/status", STATUS.as_bytes());
        let ids: Vec<&str> = p.packages.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "libc6@2.36-9+deb12u7",
                "libgcc-s1@12.2.0-14",
                "openssl@3.0.11-1~deb12u2",
                "mawk@1.3.4.20200120-3.1",
                "tzdata@2024a-0+deb12u1"
            ]
        );
        let libc = &p.packages[0];
        assert_eq!(libc.name, "libc6");
        assert_eq!(libc.version, "2.36");
        assert_eq!(libc.release, "9+deb12u7");
        assert_eq!(libc.epoch, 0);
        assert_eq!(libc.arch, "amd64");
        assert_eq!(libc.src_name, "glibc");
        assert_eq!(libc.src_version, "2.36");
        assert_eq!(libc.src_release, "9+deb12u7");
        assert_eq!(
            libc.maintainer,
            "GNU Libc Maintainers <debian-glibc@lists.debian.org>"
        );
        assert_eq!(libc.depends_on, ["libgcc-s1@12.2.0-14"]);

        let gcc = &p.packages[1];
        assert_eq!(gcc.src_name, "gcc-12");
        assert_eq!(gcc.full_src_version(), "12.2.0-14");
        assert_eq!(gcc.depends_on, ["libc6@2.36-9+deb12u7"]);

        let ssl = &p.packages[2];
        assert_eq!(ssl.src_epoch, 1);
        assert_eq!(ssl.full_src_version(), "1:3.0.11-1~deb12u2");
        assert_eq!(ssl.full_version(), "3.0.11-1~deb12u2");
        // awk is provided by mawk; libssl3 is not installed.
        assert_eq!(
            ssl.depends_on,
            ["libc6@2.36-9+deb12u7", "mawk@1.3.4.20200120-3.1"]
        );

        let mawk = &p.packages[3];
        assert_eq!(mawk.src_name, "mawk");
        assert_eq!(mawk.full_src_version(), "1.3.4.20200120-3.1");

        assert_eq!(p.warnings.len(), 3, "{:#?}", p.warnings);
        assert!(p.warnings[0].starts_with("var/lib/dpkg/status:51:"));
        assert!(p.warnings[0].contains("noversion: without Version"));
        assert!(p.warnings[1].starts_with("var/lib/dpkg/status:54:"));
        assert!(p.warnings[1].contains("invalid Version \"abc-1\""));
        assert!(p.warnings[2].starts_with("var/lib/dpkg/status:58:"));
        assert!(p.warnings[2].contains("without Package"));
    }

    #[test]
    fn distroless_status_d() {
        let base: &[u8] = b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\nMaintainer: Santiago Vila <sanvila@debian.org>\nDepends: libc6\n";
        let libc: &[u8] = b"Package: libc6\nVersion: 2.36-9+deb12u7\nArchitecture: amd64\nSource: glibc\n\nPackage: libgcc-s1\nVersion: 12.2.0-14\nArchitecture: amd64\nSource: gcc-12\n";
        let p = parse_dpkg_status_d(&[
            ("var/lib/dpkg/status.d/base", base),
            ("var/lib/dpkg/status.d/libc6", libc),
        ]);
        assert!(p.warnings.is_empty());
        let ids: Vec<&str> = p.packages.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "base-files@12.4+deb12u5",
                "libc6@2.36-9+deb12u7",
                "libgcc-s1@12.2.0-14"
            ]
        );
        assert_eq!(p.packages[0].version, "12.4+deb12u5");
        assert_eq!(p.packages[0].release, "");
        assert_eq!(p.packages[0].depends_on, ["libc6@2.36-9+deb12u7"]);
        assert_eq!(p.packages[2].src_name, "gcc-12");
        assert_eq!(p.packages[2].src_version, "12.2.0");
    }

    #[test]
    fn empty_input() {
        assert_eq!(parse_dpkg_status("x", b""), Parsed::default());
        assert!(parse_dpkg_list("x", b"").is_empty());
        assert!(parse_dpkg_copyright(b"").is_empty());
    }

    #[test]
    fn versions() {
        let v = |s: &str| split_dpkg_version(s).map(|v| (v.epoch, v.upstream, v.revision));
        assert_eq!(v("1.0"), Some((0, "1.0".into(), String::new())));
        assert_eq!(v("2:1.0-1-2"), Some((2, "1.0-1".into(), "2".into())));
        assert_eq!(v("1:2:3-4"), Some((1, "2:3".into(), "4".into())));
        assert_eq!(v(""), None);
        assert_eq!(v("x:1.0"), None);
        assert_eq!(v(":1.0"), None);
        assert_eq!(v("1.0-"), None);
        assert_eq!(v("1.0-a_b"), None);
        assert_eq!(v("1 0"), None);
        assert_eq!(v("99999999999:1"), None);
    }

    #[test]
    fn list_files() {
        let data = b"/.\n/usr\n/usr/bin\n/usr/bin/curl\n/usr/share\n/usr/share/doc\n/usr/share/doc/curl\n/usr/share/doc/curl/copyright\n/usr/share/man/man1/curl.1.gz\n";
        assert_eq!(
            parse_dpkg_list("var/lib/dpkg/info/curl.list", data),
            [
                "usr/bin/curl",
                "usr/share/doc/curl/copyright",
                "usr/share/man/man1/curl.1.gz"
            ]
        );
    }

    #[test]
    fn attaches_by_name_and_arch() {
        let mut pkgs = parse_dpkg_status("s", STATUS.as_bytes()).packages;
        assert!(attach_dpkg_files(
            &mut pkgs,
            "var/lib/dpkg/info/libc6:amd64.list",
            vec!["lib/x.so".into()]
        ));
        assert_eq!(pkgs[0].installed_files, ["lib/x.so"]);
        assert!(!attach_dpkg_files(
            &mut pkgs,
            "var/lib/dpkg/info/libc6:arm64.list",
            vec!["lib/y.so".into()]
        ));
        assert!(attach_dpkg_files(
            &mut pkgs,
            "var/lib/dpkg/info/tzdata.list",
            vec!["usr/share/zoneinfo/UTC".into()]
        ));
        assert!(!attach_dpkg_files(
            &mut pkgs,
            "var/lib/dpkg/info/nope.list",
            vec![]
        ));
    }

    #[test]
    fn copyright() {
        let free = b"This package is licensed under the GPL, see /usr/share/common-licenses/GPL-2.\nAlso /usr/share/common-licenses/Apache-2.0 and /usr/share/common-licenses/GPL-2\n";
        assert_eq!(parse_dpkg_copyright(free), ["GPL-2", "Apache-2.0"]);
        let dep5 = b"License: GPL-2+ with OpenSSL exception\n";
        assert_eq!(
            parse_dpkg_copyright(dep5),
            ["GPL-2+ with OpenSSL exception"]
        );
    }
}
