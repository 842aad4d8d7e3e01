//! Go build info and Rust `cargo auditable` data in executables.
//!
//! Go build info has no Rust crate: this is a hand-written reader of the
//! format Go's `debug/buildinfo` reads (both the Go ≥ 1.18 inline-string
//! layout and the older pointer layout), working on the borrowed bytes of the
//! file through the `object` crate's section table, without copying.

use crate::util::{new_pkg, pkg_id};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{Package, Relationship};
use object::{Object, ObjectSection, SectionKind};
use std::io::Read;

const GO_MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const GO_HEADER: usize = 32;
/// Upper bound of the decompressed `cargo auditable` JSON.
const AUDIT_MAX: u64 = 16 << 20;

pub fn is_candidate(head: &[u8]) -> bool {
    match head {
        [0x7f, b'E', b'L', b'F', ..] => true,
        [b'M', b'Z', ..] => true,
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..] | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..] => true,
        // Mach-O universal binary; Java class files share the magic but
        // their next word (the class file version) is ≥ 45.
        [0xca, 0xfe, 0xba, 0xbe, a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]) < 45,
        _ => false,
    }
}

pub fn parse(path: &str, data: &[u8]) -> Result<Option<(&'static str, Vec<Package>)>, LangError> {
    let obj = object::File::parse(data).ok();
    if let Some(info) = find_go_buildinfo(obj.as_ref(), data) {
        return Ok(Some((lt::GOBINARY, go_packages(&info))));
    }
    if let Some(obj) = obj.as_ref() {
        if let Some(sec) = obj.section_by_name(".dep-v0") {
            let raw = sec
                .data()
                .map_err(|e| LangError::new(path, format!("cannot read .dep-v0 section: {e}")))?;
            return Ok(Some((lt::RUST_BINARY, rust_audit(path, raw)?)));
        }
    }
    Ok(None)
}

/// The raw build info: the Go version string and the module info text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct GoBuildInfo {
    pub go_version: String,
    pub modinfo: String,
}

fn find_go_buildinfo(obj: Option<&object::File<'_>>, data: &[u8]) -> Option<GoBuildInfo> {
    if let Some(obj) = obj {
        // The dedicated section (ELF .go.buildinfo, Mach-O __go_buildinfo)...
        for name in [".go.buildinfo", "__go_buildinfo"] {
            if let Some(sec) = obj.section_by_name(name) {
                if let Ok(d) = sec.data() {
                    if let Some(info) = search_aligned(obj, d) {
                        return Some(info);
                    }
                }
            }
        }
        // ...else the writable data sections, where older linkers put it.
        for sec in obj.sections() {
            if sec.kind() == SectionKind::Data {
                if let Ok(d) = sec.data() {
                    if let Some(info) = search_aligned(obj, d) {
                        return Some(info);
                    }
                }
            }
        }
        return None;
    }
    // Not an object `object` understands (fat Mach-O, truncated files): scan
    // the bytes for the header. Only the inline (Go ≥ 1.18) layout can be
    // read without a section table.
    let mut from = 0;
    while let Some(i) = data
        .get(from..)
        .and_then(|d| memchr::memmem::find(d, GO_MAGIC))
    {
        let at = from + i;
        if let Some(info) = data.get(at..).and_then(|h| decode_header(None, h)) {
            return Some(info);
        }
        from = at + 1;
    }
    None
}

fn search_aligned(obj: &object::File<'_>, sec: &[u8]) -> Option<GoBuildInfo> {
    let mut from = 0;
    while let Some(i) = sec
        .get(from..)
        .and_then(|d| memchr::memmem::find(d, GO_MAGIC))
    {
        let at = from + i;
        if at % 16 == 0 {
            if let Some(info) = sec.get(at..).and_then(|h| decode_header(Some(obj), h)) {
                return Some(info);
            }
        }
        from = at + 1;
    }
    None
}

fn decode_header(obj: Option<&object::File<'_>>, h: &[u8]) -> Option<GoBuildInfo> {
    if h.len() < GO_HEADER || !h.starts_with(GO_MAGIC) {
        return None;
    }
    let ptr_size = usize::from(*h.get(14)?);
    let flags = *h.get(15)?;
    let (version, modinfo) = if flags & 2 != 0 {
        let (v, rest) = uvarint_string(h.get(GO_HEADER..)?)?;
        let (m, _) = uvarint_string(rest)?;
        (v, m)
    } else {
        let obj = obj?;
        if ptr_size != 4 && ptr_size != 8 {
            return None;
        }
        let big = flags & 1 != 0;
        let vaddr = read_ptr(h.get(16..)?, ptr_size, big)?;
        let maddr = read_ptr(h.get(16 + ptr_size..)?, ptr_size, big)?;
        let v = read_go_string(obj, vaddr, ptr_size, big)?;
        let m = read_go_string(obj, maddr, ptr_size, big).unwrap_or_default();
        (v, m)
    };
    if version.is_empty() {
        return None;
    }
    // The module info is framed by 16-byte sentinels.
    let modinfo = if modinfo.len() >= 33 && modinfo.get(modinfo.len() - 17) == Some(&b'\n') {
        modinfo.get(16..modinfo.len() - 16).unwrap_or_default()
    } else {
        &[][..]
    };
    Some(GoBuildInfo {
        go_version: String::from_utf8_lossy(version).into_owned(),
        modinfo: String::from_utf8_lossy(modinfo).into_owned(),
    })
}

fn uvarint_string(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut n: u64 = 0;
    let mut shift = 0u32;
    let mut i = 0usize;
    loop {
        let byte = *b.get(i)?;
        i += 1;
        if shift > 63 {
            return None;
        }
        n |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let len = usize::try_from(n).ok()?;
    let end = i.checked_add(len)?;
    Some((b.get(i..end)?, b.get(end..)?))
}

fn read_ptr(b: &[u8], size: usize, big: bool) -> Option<u64> {
    Some(match (size, big) {
        (4, false) => u64::from(u32::from_le_bytes(b.get(..4)?.try_into().ok()?)),
        (4, true) => u64::from(u32::from_be_bytes(b.get(..4)?.try_into().ok()?)),
        (8, false) => u64::from_le_bytes(b.get(..8)?.try_into().ok()?),
        (8, true) => u64::from_be_bytes(b.get(..8)?.try_into().ok()?),
        _ => return None,
    })
}

/// The bytes at virtual address `addr`, from the section that maps it.
fn read_at<'a>(obj: &object::File<'a>, addr: u64, len: u64) -> Option<&'a [u8]> {
    for sec in obj.sections() {
        let start = sec.address();
        let size = sec.size();
        if addr >= start && addr.checked_add(len)? <= start.checked_add(size)? {
            let d = sec.data().ok()?;
            let off = usize::try_from(addr - start).ok()?;
            let end = off.checked_add(usize::try_from(len).ok()?)?;
            return d.get(off..end);
        }
    }
    None
}

/// A Go string header (pointer, length) at `addr`, then its bytes.
fn read_go_string<'a>(
    obj: &object::File<'a>,
    addr: u64,
    ptr: usize,
    big: bool,
) -> Option<&'a [u8]> {
    let hdr = read_at(obj, addr, 2 * ptr as u64)?;
    let data = read_ptr(hdr, ptr, big)?;
    let len = read_ptr(hdr.get(ptr..)?, ptr, big)?;
    if len > u64::from(u32::MAX) {
        return None;
    }
    read_at(obj, data, len)
}

/// Packages of a Go binary, following Trivy: `stdlib` at the toolchain
/// version (`go1.22.3 X:boringcrypto` → `v1.22.3`), every dependency at its
/// version (or its replacement's), and the main module as root whose
/// `(devel)` version is replaced by an `-ldflags -X …version=` value when one
/// is stamped, else left empty.
pub fn go_packages(info: &GoBuildInfo) -> Vec<Package> {
    let mut pkgs = Vec::new();
    let v = info.go_version.trim();
    let v = v.strip_prefix("go").unwrap_or(v);
    let v = v.split(' ').next().unwrap_or(v);
    let stdlib_version = format!("v{v}");
    let mut std = new_pkg(lt::GOBINARY, "stdlib", &stdlib_version);
    std.relationship = Some(Relationship::Direct);
    pkgs.push(std);

    let mut main: Option<(String, String)> = None;
    let mut ldflags = String::new();
    for line in info.modinfo.lines() {
        let mut f = line.split('\t');
        match f.next() {
            Some("mod") => {
                let p = f.next().unwrap_or("").to_string();
                let v = f.next().unwrap_or("").to_string();
                main = Some((p, v));
            }
            Some("dep") => {
                let p = f.next().unwrap_or("");
                if p.is_empty() {
                    continue;
                }
                let v = check_version(f.next().unwrap_or(""));
                let mut dep = new_pkg(lt::GOBINARY, p, v);
                dep.relationship = Some(Relationship::Unknown);
                pkgs.push(dep);
            }
            Some("=>") => {
                // Replaces the module on the previous line.
                let p = f.next().unwrap_or("");
                let v = check_version(f.next().unwrap_or(""));
                if let Some(last) = pkgs.last_mut().filter(|l| l.name != "stdlib") {
                    if !p.is_empty() {
                        let mut r = new_pkg(lt::GOBINARY, p, v);
                        r.relationship = last.relationship;
                        *last = r;
                    }
                }
            }
            Some("build") => {
                if let Some(v) = f.next().and_then(|s| s.strip_prefix("-ldflags=")) {
                    // Values with spaces are Go-quoted: "-X 'main.version=1.0' -s".
                    ldflags = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                        Some(q) => q.replace("\\\"", "\"").replace("\\\\", "\\"),
                        None => v.to_string(),
                    };
                }
            }
            _ => {}
        }
    }
    if let Some((path, version)) = main.filter(|(p, _)| !p.is_empty()) {
        let mut version = check_version(&version).to_string();
        let stamped = ldflags_version(&path, &ldflags);
        if version.is_empty() || (version.starts_with("v0.0.0") && !stamped.is_empty()) {
            version = stamped;
        }
        let mut root = new_pkg(lt::GOBINARY, &path, &version);
        root.relationship = Some(Relationship::Root);
        root.depends_on = pkgs.iter().map(|p| p.id.clone()).collect();
        pkgs.push(root);
    }
    crate::util::dedupe(pkgs)
}

fn check_version(v: &str) -> &str {
    if v == "(devel)" {
        ""
    } else {
        v
    }
}

/// Split a `-ldflags` value into words, honoring single and double quotes.
fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                any = true;
            }
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            None => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The version stamped with `-X some/pkg.version=1.2.3`, chosen as Trivy
/// does: `<module>/cmd/...` keys first, then `main|common|version|cmd`
/// packages, then any; ambiguity in the winning category gives "".
fn ldflags_version(module: &str, ldflags: &str) -> String {
    let words = shell_words(ldflags);
    let mut xs: Vec<&str> = Vec::new();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let w = w.as_str();
        if w == "-X" || w == "--X" {
            if let Some(n) = it.next() {
                xs.push(n.as_str());
            }
        } else if let Some(v) = w.strip_prefix("-X=").or_else(|| w.strip_prefix("--X=")) {
            xs.push(v);
        }
    }
    let mut cats: [Vec<&str>; 3] = Default::default();
    let cmd_prefix = format!("{module}/cmd/");
    for kv in xs {
        let Some((key, val)) = kv.split_once('=') else {
            continue;
        };
        let key = key.trim_start_matches('\'');
        let val = val.trim_end_matches('\'');
        let lower = key.to_ascii_lowercase();
        if !(lower.ends_with(".version") || lower.ends_with(".ver")) || !is_semver(val) {
            continue;
        }
        let last = key.rsplit('/').next().unwrap_or(key);
        let prefix = last.split('.').next().unwrap_or("").to_ascii_lowercase();
        let slot = if key.starts_with(&cmd_prefix) {
            0
        } else if matches!(prefix.as_str(), "main" | "common" | "version" | "cmd") {
            1
        } else {
            2
        };
        if let Some(c) = cats.get_mut(slot) {
            if !c.contains(&val) {
                c.push(val);
            }
        }
    }
    for c in cats {
        match c.as_slice() {
            [] => continue,
            [one] => return (*one).to_string(),
            _ => return String::new(),
        }
    }
    String::new()
}

/// Go's `semver.IsValid` on `v` or `"v"+v`: vMAJOR[.MINOR[.PATCH]][-pre][+build].
fn is_semver(v: &str) -> bool {
    let v = v.strip_prefix('v').unwrap_or(v);
    let core_end = v.find(['-', '+']).unwrap_or(v.len());
    let core = v.get(..core_end).unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return false;
    }
    parts.iter().all(|p| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_digit())
            && (p.len() == 1 || !p.starts_with('0'))
    })
}

#[derive(serde::Deserialize)]
struct AuditInfo {
    #[serde(default)]
    packages: Vec<AuditPkg>,
}

#[derive(serde::Deserialize)]
struct AuditPkg {
    name: String,
    version: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    dependencies: Vec<usize>,
    #[serde(default)]
    root: bool,
}

/// `cargo auditable`'s `.dep-v0` section: zlib-compressed JSON listing the
/// crates of the build and the dependency edges (indices into the list).
fn rust_audit(path: &str, raw: &[u8]) -> Result<Vec<Package>, LangError> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(raw)
        .take(AUDIT_MAX)
        .read_to_end(&mut json)
        .map_err(|e| LangError::new(path, format!("cannot decompress .dep-v0 section: {e}")))?;
    let info: AuditInfo = serde_json::from_slice(&json)
        .map_err(|e| LangError::new(path, format!("invalid cargo-auditable JSON: {e}")))?;
    let runtime = |p: &AuditPkg| p.kind.as_deref().is_none_or(|k| k == "runtime");
    let ids: Vec<String> = info
        .packages
        .iter()
        .map(|p| pkg_id(lt::RUST_BINARY, &p.name, &p.version))
        .collect();
    let direct: Vec<usize> = info
        .packages
        .iter()
        .filter(|p| p.root)
        .flat_map(|p| p.dependencies.iter().copied())
        .collect();
    let mut out = Vec::new();
    for (i, p) in info.packages.iter().enumerate() {
        if !runtime(p) {
            continue;
        }
        let mut pkg = new_pkg(lt::RUST_BINARY, &p.name, &p.version);
        pkg.relationship = Some(if p.root {
            Relationship::Root
        } else if direct.contains(&i) {
            Relationship::Direct
        } else {
            Relationship::Indirect
        });
        pkg.depends_on = p
            .dependencies
            .iter()
            .filter(|&&d| info.packages.get(d).is_some_and(runtime))
            .filter_map(|&d| ids.get(d).cloned())
            .collect();
        out.push(pkg);
    }
    Ok(crate::util::dedupe(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline_blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = GO_MAGIC.to_vec();
        b.push(8);
        b.push(2);
        b.resize(GO_HEADER, 0);
        for s in [version.as_bytes(), modinfo.as_bytes()] {
            let mut n = s.len();
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    b.push(byte);
                    break;
                }
                b.push(byte | 0x80);
            }
            b.extend_from_slice(s);
        }
        b
    }

    fn framed(mi: &str) -> String {
        format!("0123456789abcdef{mi}\n0123456789abcdef")
    }

    #[test]
    fn inline_layout_by_scan() {
        let mi = framed(
            "path\texample.com/app/cmd/app\nmod\texample.com/app\t(devel)\t\n\
             dep\tgolang.org/x/text\tv0.3.7\th1:x=\n\
             dep\tgithub.com/old/mod\tv1.0.0\th1:y=\n=>\tgithub.com/new/mod\tv1.1.0\th1:z=\n\
             dep\tlocal/mod\tv1.0.0\n=>\t../local\t(devel)\t\n\
             build\t-ldflags=\"-X 'main.version=1.4.2' -s -w\"\nbuild\tCGO_ENABLED=0",
        );
        let mut data = b"garbage".to_vec();
        data.extend(inline_blob("go1.22.3 X:boringcrypto", &mi));
        let Some((t, pkgs)) = parse("bin/app", &data).unwrap_or(None) else {
            panic!("no build info found")
        };
        assert_eq!(t, "gobinary");
        let ids: Vec<&str> = pkgs.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "stdlib@v1.22.3",
                "golang.org/x/text@v0.3.7",
                "github.com/new/mod@v1.1.0",
                "../local",
                "example.com/app@1.4.2"
            ]
        );
        let root = pkgs.last().map(|p| (p.relationship, p.depends_on.len()));
        assert_eq!(root, Some((Some(Relationship::Root), 4)));
    }

    #[test]
    fn not_go() {
        assert_eq!(parse("x", b"\x7fELF not really").ok(), Some(None));
        let mut trunc = inline_blob("go1.20", "");
        trunc.truncate(40);
        trunc.insert(0, 0);
        assert_eq!(parse("x", &trunc[1..36]).ok(), Some(None));
    }

    #[test]
    fn ldflags_choice() {
        assert_eq!(ldflags_version("m", "-X main.version=v1.2.3"), "v1.2.3");
        assert_eq!(
            ldflags_version("m", "-X=m/cmd/x.Version=2.0.0 -X main.version=1.0.0"),
            "2.0.0"
        );
        assert_eq!(
            ldflags_version("m", "-X a.version=1.0.0 -X b.version=2.0.0"),
            ""
        );
        assert_eq!(ldflags_version("m", "-X main.version=notsemver -s"), "");
        assert!(is_semver("1.2.3-rc.1+meta"));
        assert!(!is_semver("01.2"));
    }

    #[test]
    fn candidates() {
        assert!(is_candidate(b"\x7fELF\x02"));
        assert!(is_candidate(b"MZ\x90\x00"));
        assert!(is_candidate(b"\xcf\xfa\xed\xfe"));
        assert!(is_candidate(b"\xca\xfe\xba\xbe\x00\x00\x00\x02"));
        assert!(!is_candidate(b"\xca\xfe\xba\xbe\x00\x00\x00\x34"));
        assert!(!is_candidate(b"#!/bin/sh"));
    }

    #[test]
    fn audit_json() {
        use std::io::Write;
        let json = br#"{"packages":[
          {"name":"app","version":"0.1.0","source":"local","dependencies":[1,2],"root":true},
          {"name":"serde","version":"1.0.100","source":"crates.io","dependencies":[3]},
          {"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"},
          {"name":"itoa","version":"1.0.0","source":"crates.io"}]}"#;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = z.write_all(json);
        let raw = z.finish().unwrap_or_default();
        let pkgs = rust_audit("bin", &raw).unwrap_or_default();
        let got: Vec<(String, Option<Relationship>, Vec<String>)> = pkgs
            .into_iter()
            .map(|p| (p.id, p.relationship, p.depends_on))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "app@0.1.0".into(),
                    Some(Relationship::Root),
                    vec!["serde@1.0.100".to_string()]
                ),
                (
                    "serde@1.0.100".into(),
                    Some(Relationship::Direct),
                    vec!["itoa@1.0.0".to_string()]
                ),
                ("itoa@1.0.0".into(), Some(Relationship::Indirect), vec![]),
            ]
        );
        assert!(rust_audit("bin", b"not zlib").is_err());
    }
}
