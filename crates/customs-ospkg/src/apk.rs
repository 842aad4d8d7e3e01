//! The apk installed database (`lib/apk/db/installed`).
//!
//! Hand-written: the format is a plain list of `X:value` lines in stanzas
//! separated by blank lines, and no maintained crate parses it.
//! See <https://wiki.alpinelinux.org/wiki/Apk_spec>.

use crate::stream::{LineSink, StreamLimits};
use crate::{OsPkgError, Parsed};
use customs_model::Package;
use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;
use tracing::warn;

/// A stanza being read, with its raw dependency and provide tokens.
#[derive(Default)]
struct Stanza {
    line: usize,
    pkg: Package,
    depends: Vec<String>,
    provides: Vec<String>,
    dir: String,
    seen_any: bool,
}

/// Split an apk `L:` field into licenses: whitespace-separated tokens,
/// parentheses trimmed, the `AND` / `OR` operators of SPDX expressions
/// dropped (`MIT AND BSD-3-Clause` → `["MIT", "BSD-3-Clause"]`,
/// `MPL-2.0 GPL-2.0-or-later` → two licenses). `WITH` exceptions stay
/// attached to their license (`GPL-2.0 WITH Linux-syscall-note`).
pub(crate) fn split_licenses(field: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut attach_next = false;
    for tok in field.split_whitespace() {
        let tok = tok.trim_matches(|c| c == '(' || c == ')');
        if tok.is_empty() {
            continue;
        }
        match tok {
            "AND" | "OR" | "and" | "or" => continue,
            "WITH" | "with" => {
                if let Some(last) = out.last_mut() {
                    last.push_str(" WITH");
                    attach_next = true;
                }
                continue;
            }
            _ => {}
        }
        if attach_next {
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(tok);
            }
            attach_next = false;
            continue;
        }
        if !out.iter().any(|l| l == tok) {
            out.push(tok.to_string());
        }
    }
    out
}

/// The name part of a dependency / provide token:
/// `so:libc.musl-x86_64.so.1=1` → `so:libc.musl-x86_64.so.1`,
/// `openssl>=1.1` → `openssl`.
fn dep_name(tok: &str) -> &str {
    let end = tok.find(['<', '>', '=', '~']).unwrap_or(tok.len());
    tok.get(..end).unwrap_or(tok)
}

impl Stanza {
    fn finish(
        self,
        path: &str,
        out: &mut Vec<(Package, Vec<String>, Vec<String>)>,
        warnings: &mut Vec<String>,
    ) {
        if !self.seen_any {
            return;
        }
        let Stanza {
            line,
            mut pkg,
            depends,
            provides,
            ..
        } = self;
        if pkg.name.is_empty() || pkg.version.is_empty() {
            let what = if pkg.name.is_empty() {
                "P: (name)"
            } else {
                "V: (version)"
            };
            let msg = format!("{path}:{line}: apk stanza without {what}; skipped");
            warn!("{msg}");
            warnings.push(msg);
            return;
        }
        pkg.id = format!("{}@{}", pkg.name, pkg.version);
        if !pkg.src_name.is_empty() {
            pkg.src_version = pkg.version.clone();
        }
        out.push((pkg, depends, provides));
    }
}

/// Parse `lib/apk/db/installed`.
///
/// Reads `P:` name, `V:` version, `A:` arch, `o:` origin (→ `src_name`, with
/// `src_version` = version), `L:` license (see below), `m:` maintainer,
/// `F:`+`R:` installed files (`dir/file`, no leading `/`) and `D:`
/// dependencies, resolved to package IDs (`name@version`) through package
/// names and `p:` provides (`so:`, `cmd:`, `/bin/sh`); conflicts (`!x`) and
/// unresolvable names are dropped. `c:` commit and `t:` build time have no
/// field in the model and are ignored.
///
/// Licenses: the `L:` field is split on whitespace, `AND`/`OR` dropped,
/// parentheses removed; names are kept as the package wrote them.
///
/// A stanza without `P:` or `V:` becomes a warning with the file and the
/// line number where the stanza starts.
///
/// ```
/// let db = b"P:busybox\nV:1.30.1-r3\nA:x86_64\no:busybox\nD:so:libc.musl-x86_64.so.1\nF:bin\nR:busybox\n\n\
///            P:musl\nV:1.1.22-r3\np:so:libc.musl-x86_64.so.1=1\n";
/// let parsed = customs_ospkg::parse_apk_installed("lib/apk/db/installed", db);
/// let bb = &parsed.packages[0];
/// assert_eq!(bb.installed_files, vec!["bin/busybox"]);
/// assert_eq!(bb.depends_on, vec!["musl@1.1.22-r3"]);
/// ```
pub fn parse_apk_installed(path: &str, data: &[u8]) -> Parsed {
    let mut p = ApkParser::new(path);
    crate::stream::feed_slice(data, &mut p);
    p.finish()
}

/// [`parse_apk_installed`] over a stream: one line in memory at a time, the
/// same parser, the same packages and warnings. A line or a stanza over
/// `limits` is an error ([`OsPkgError::TooLong`]) naming the file and line.
///
/// ```
/// let db: &[u8] = b"P:musl\nV:1.1.22-r3\n\nP:busybox\nV:1.30.1-r3\n";
/// let limits = customs_ospkg::StreamLimits::default();
/// let parsed = customs_ospkg::read_apk_installed("lib/apk/db/installed", db, &limits).unwrap();
/// assert_eq!(parsed, customs_ospkg::parse_apk_installed("lib/apk/db/installed", db));
/// ```
pub fn read_apk_installed<R: BufRead>(
    path: &str,
    r: R,
    limits: &StreamLimits,
) -> Result<Parsed, OsPkgError> {
    let mut p = ApkParser::new(path);
    crate::stream::feed_reader(path, r, limits, &mut p)?;
    Ok(p.finish())
}

/// The apk parser, fed line by line.
struct ApkParser<'a> {
    path: &'a str,
    raw: Vec<(Package, Vec<String>, Vec<String>)>,
    warnings: Vec<String>,
    dropped: usize,
    cur: Stanza,
    /// Bytes of the current stanza.
    cur_bytes: usize,
    budget: Option<crate::stream::Budget>,
    error: Option<OsPkgError>,
}

impl<'a> ApkParser<'a> {
    fn new(path: &'a str) -> Self {
        ApkParser {
            path,
            raw: Vec::new(),
            warnings: Vec::new(),
            dropped: 0,
            cur: Stanza {
                line: 1,
                ..Default::default()
            },
            cur_bytes: 0,
            budget: None,
            error: None,
        }
    }
}

impl LineSink for ApkParser<'_> {
    fn set_budget(&mut self, budget: crate::stream::Budget) {
        self.budget = Some(budget);
    }

    fn failed(&mut self) -> Option<OsPkgError> {
        self.error.take()
    }

    fn line(&mut self, lineno: usize, line: &str) {
        let cur = &mut self.cur;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            let done = std::mem::take(cur);
            let (start, before) = (done.line, self.raw.len());
            done.finish(self.path, &mut self.raw, &mut self.warnings);
            crate::stream::cap_warnings(&mut self.warnings, &mut self.dropped);
            if let Some(b) = self.budget.as_mut().filter(|_| self.raw.len() > before) {
                if let Err(e) = b.spend(self.path, start, self.cur_bytes) {
                    self.error = Some(e);
                }
            }
            self.cur_bytes = 0;
            self.cur.line = lineno + 1;
            return;
        }
        self.cur_bytes = self.cur_bytes.saturating_add(line.len() + 1);
        if !cur.seen_any {
            cur.line = lineno;
            cur.seen_any = true;
        }
        let Some((key, value)) = line.split_once(':') else {
            return;
        };
        let value = value.trim();
        match key {
            "P" => cur.pkg.name = value.to_string(),
            "V" => cur.pkg.version = value.to_string(),
            "A" => cur.pkg.arch = value.to_string(),
            "o" => cur.pkg.src_name = value.to_string(),
            "L" => cur.pkg.licenses = split_licenses(value),
            "m" => cur.pkg.maintainer = value.to_string(),
            "D" => cur
                .depends
                .extend(value.split_whitespace().map(str::to_string)),
            "p" => cur
                .provides
                .extend(value.split_whitespace().map(str::to_string)),
            "F" => cur.dir = value.trim_matches('/').to_string(),
            "R" => {
                let file = value.trim_start_matches('/');
                if !file.is_empty() {
                    let full = if cur.dir.is_empty() {
                        file.to_string()
                    } else {
                        format!("{}/{}", cur.dir, file)
                    };
                    cur.pkg.installed_files.push(full);
                }
            }
            _ => {}
        }
    }
}

impl ApkParser<'_> {
    fn finish(self) -> Parsed {
        let ApkParser {
            path,
            mut raw,
            mut warnings,
            mut dropped,
            cur,
            ..
        } = self;
        cur.finish(path, &mut raw, &mut warnings);
        crate::stream::cap_warnings(&mut warnings, &mut dropped);
        crate::stream::dropped_warnings(path, &mut warnings, dropped);
        raw.shrink_to_fit();

        // Resolve dependencies: package names and provides → package IDs.
        let mut providers: HashMap<&str, &str> = HashMap::new();
        for (pkg, _, provides) in &raw {
            providers.insert(pkg.name.as_str(), pkg.id.as_str());
            for p in provides {
                providers.entry(dep_name(p)).or_insert(pkg.id.as_str());
            }
        }
        let resolved: Vec<Vec<String>> = raw
            .iter()
            .map(|(pkg, depends, _)| {
                let set: BTreeSet<String> = depends
                    .iter()
                    .filter(|d| !d.starts_with('!'))
                    .filter_map(|d| providers.get(dep_name(d)))
                    .filter(|id| **id != pkg.id)
                    .map(|id| id.to_string())
                    .collect();
                set.into_iter().collect()
            })
            .collect();
        drop(providers);
        let packages = raw
            .into_iter()
            .zip(resolved)
            .map(|((mut pkg, _, _), deps)| {
                pkg.depends_on = deps;
                pkg
            })
            .collect();
        Parsed { packages, warnings }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DB: &str = "C:Q11Ing8/u1VIdY9czSxaDO9wJg72I=
P:musl
V:1.1.22-r3
A:x86_64
S:368204
I:598016
T:the musl c library (libc) implementation
U:http://www.musl-libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1565162130
c:0c777cf840e82cdc528651e3f3f8f9dda6b1b028
p:so:libc.musl-x86_64.so.1=1
F:lib
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=
R:ld-musl-x86_64.so.1
F:usr
F:usr/lib

C:Q1x6WFRxtCFOJEJVxd3X43cgTKiZQ=
P:busybox
V:1.30.1-r3
A:x86_64
L:GPL-2.0
o:busybox
D:so:libc.musl-x86_64.so.1 !busybox-extras
p:/bin/sh cmd:busybox cmd:sh
F:bin
R:busybox
R:sh

P:broken-no-version
A:x86_64

P:ca-certificates-cacert
V:20190108-r0
L:MPL-2.0 AND (GPL-2.0-or-later OR MIT)
o:ca-certificates
D:/bin/sh musl>=1.1 unknown-thing

V:1.0-r0
";

    #[test]
    fn parses_stanzas() {
        let parsed = parse_apk_installed("lib/apk/db/installed", DB.as_bytes());
        let names: Vec<&str> = parsed.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["musl", "busybox", "ca-certificates-cacert"]);
        let musl = &parsed.packages[0];
        assert_eq!(musl.id, "musl@1.1.22-r3");
        assert_eq!(musl.version, "1.1.22-r3");
        assert_eq!(musl.arch, "x86_64");
        assert_eq!(musl.src_name, "musl");
        assert_eq!(musl.src_version, "1.1.22-r3");
        assert_eq!(musl.licenses, ["MIT"]);
        assert_eq!(musl.maintainer, "Timo Teräs <timo.teras@iki.fi>");
        assert_eq!(
            musl.installed_files,
            ["lib/libc.musl-x86_64.so.1", "lib/ld-musl-x86_64.so.1"]
        );
        assert!(musl.depends_on.is_empty());
        let bb = &parsed.packages[1];
        assert_eq!(bb.depends_on, ["musl@1.1.22-r3"]);
        assert_eq!(bb.installed_files, ["bin/busybox", "bin/sh"]);
        let ca = &parsed.packages[2];
        assert_eq!(ca.licenses, ["MPL-2.0", "GPL-2.0-or-later", "MIT"]);
        assert_eq!(ca.depends_on, ["busybox@1.30.1-r3", "musl@1.1.22-r3"]);

        assert_eq!(parsed.warnings.len(), 2, "{:?}", parsed.warnings);
        assert!(parsed.warnings[0].starts_with("lib/apk/db/installed:35:"));
        assert!(parsed.warnings[0].contains("V: (version)"));
        assert!(parsed.warnings[1].starts_with("lib/apk/db/installed:44:"));
        assert!(parsed.warnings[1].contains("P: (name)"));
    }

    #[test]
    fn empty_and_garbage() {
        assert_eq!(parse_apk_installed("x", b""), Parsed::default());
        assert_eq!(parse_apk_installed("x", b"\n\n\n"), Parsed::default());
        let p = parse_apk_installed("x", b"\xff\xfe\x00garbage\nP:\nV:\n");
        assert!(p.packages.is_empty());
        assert_eq!(p.warnings.len(), 1);
    }

    #[test]
    fn crlf_and_no_trailing_blank() {
        let p = parse_apk_installed("x", b"P:a\r\nV:1-r0\r\n\r\nP:b\r\nV:2-r0");
        let ids: Vec<&str> = p.packages.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["a@1-r0", "b@2-r0"]);
    }

    #[test]
    fn licenses() {
        assert_eq!(split_licenses("MIT BSD GPL2+"), ["MIT", "BSD", "GPL2+"]);
        assert_eq!(
            split_licenses("GPL-2.0-only WITH Linux-syscall-note OR MIT"),
            ["GPL-2.0-only WITH Linux-syscall-note", "MIT"]
        );
        assert!(split_licenses("").is_empty());
        assert_eq!(split_licenses("WITH x"), ["x"]);
    }
}
