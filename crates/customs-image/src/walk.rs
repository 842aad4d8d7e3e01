//! The layer walker: one streaming pass over a layer tar (or a root directory),
//! offering every entry to a visitor with its normalized path and a reader for
//! its contents. Nothing is written to disk; contents the visitor does not read
//! are skipped by the tar reader.

use crate::error::ImageError;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// What kind of filesystem object an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Other,
}

/// One entry of a layer, its path normalized: relative to the root, no leading
/// `/`, no `.` or empty components, `..` resolved (never above the root).
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub path: &'a str,
    pub kind: EntryKind,
    /// Permission bits including setuid (0o4000), setgid (0o2000), sticky (0o1000).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub link_target: Option<&'a str>,
}

impl Entry<'_> {
    pub fn is_executable(&self) -> bool {
        self.kind == EntryKind::File && self.mode & 0o111 != 0
    }
}

/// What the walker hands to the visitor.
pub enum Event<'a, 'r> {
    /// A file, directory, link... with a reader for its contents (empty for
    /// anything but regular files).
    Entry(Entry<'a>, &'r mut dyn Read),
    /// `.wh.NAME`: this path (and everything below it) from lower layers is deleted.
    Whiteout(&'a str),
    /// `.wh..wh..opq`: the lower layers' contents of this directory are hidden.
    Opaque(&'a str),
}

/// The visitor's answer: keep going, or stop with an error (which the walker
/// reports with the layer's name).
pub type VisitResult = Result<(), String>;

/// Counts of what the walk saw.
#[derive(Debug, Default, Clone, Copy)]
pub struct WalkStats {
    pub entries: u64,
    pub whiteouts: u64,
    pub skipped: u64,
}

/// Normalize a path from a tar header: `./usr//bin/../lib/` → `usr/lib`.
/// Returns `None` for the root itself. `..` never climbs above the root
/// (a hostile `../../etc/passwd` becomes `etc/passwd`, as a container
/// runtime would place it).
pub fn normalize_path(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for comp in raw.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

/// The compression of a stream, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Sniff the compression of a buffered stream without consuming it.
pub fn sniff<R: BufRead>(r: &mut R) -> std::io::Result<Result<Compression, &'static str>> {
    let head = r.fill_buf()?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok(Compression::Zstd)
    } else if head.starts_with(b"BZh") {
        Err("bzip2-compressed layers are not supported")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Err("xz-compressed layers are not supported")
    } else {
        Ok(Compression::None)
    })
}

/// Wrap a raw blob reader in the decompressor its first bytes call for.
pub fn decompress<'a, R: Read + 'a>(r: R) -> std::io::Result<Box<dyn Read + 'a>> {
    let mut br = BufReader::with_capacity(256 * 1024, r);
    match sniff(&mut br)? {
        Ok(Compression::Gzip) => Ok(Box::new(flate2::read::MultiGzDecoder::new(br))),
        Ok(Compression::Zstd) => Ok(Box::new(zstd::stream::read::Decoder::with_buffer(br)?)),
        Ok(Compression::None) => Ok(Box::new(br)),
        Err(msg) => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, msg)),
    }
}

/// Walk one (already decompressed) layer tar stream. `source` and `layer` name
/// the file and layer in error messages.
pub fn walk_tar<R: Read>(
    reader: R,
    source: &Path,
    layer: &str,
    visit: &mut dyn FnMut(Event<'_, '_>) -> VisitResult,
) -> Result<WalkStats, ImageError> {
    let layer_err = |reason: String| ImageError::Layer {
        path: source.to_path_buf(),
        layer: layer.to_string(),
        reason,
    };
    let mut archive = tar::Archive::new(reader);
    let mut stats = WalkStats::default();
    let entries = archive
        .entries()
        .map_err(|e| layer_err(format!("not a tar stream: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| layer_err(tar_reason(&e)))?;
        stats.entries += 1;
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = normalize_path(&raw_path) else {
            continue; // the root directory itself
        };
        if raw_path.split('/').any(|c| c == "..") {
            tracing::warn!(
                "{}: layer {layer}: entry '{raw_path}' climbs out of its directory; read as '{path}'",
                source.display()
            );
        }
        let (dir, base) = match path.rsplit_once('/') {
            Some((d, b)) => (d, b),
            None => ("", path.as_str()),
        };
        if let Some(hidden) = base.strip_prefix(".wh.") {
            stats.whiteouts += 1;
            if hidden == ".wh..opq" {
                visit(Event::Opaque(dir)).map_err(layer_err)?;
            } else if hidden.starts_with(".wh.") {
                // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not content.
                stats.skipped += 1;
            } else if matches!(hidden, "" | "." | "..") {
                // `.wh.`, `.wh..`, `.wh...` name no entry (a whiteout of the
                // directory itself or its parent is not in the OCI spec).
                tracing::warn!(
                    "{}: layer {layer}: whiteout '{raw_path}' names no file; ignored",
                    source.display()
                );
                stats.skipped += 1;
            } else {
                let target = if dir.is_empty() {
                    hidden.to_string()
                } else {
                    format!("{dir}/{hidden}")
                };
                visit(Event::Whiteout(&target)).map_err(layer_err)?;
            }
            continue;
        }
        let header = entry.header();
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Directory => EntryKind::Dir,
            tar::EntryType::Symlink => EntryKind::Symlink,
            tar::EntryType::Link => EntryKind::Hardlink,
            _ => EntryKind::Other,
        };
        let mode = header.mode().unwrap_or(0o644);
        let uid = header.uid().unwrap_or(0);
        let gid = header.gid().unwrap_or(0);
        let size = entry.size();
        let link = match kind {
            EntryKind::Symlink | EntryKind::Hardlink => entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            _ => None,
        };
        // Hard links name their target the way paths are named: normalize it.
        let link = match (kind, link) {
            (EntryKind::Hardlink, Some(l)) => normalize_path(&l),
            (_, l) => l,
        };
        let e = Entry {
            path: &path,
            kind,
            mode,
            uid,
            gid,
            size,
            link_target: link.as_deref(),
        };
        visit(Event::Entry(e, &mut entry)).map_err(layer_err)?;
    }
    Ok(stats)
}

fn tar_reason(e: &std::io::Error) -> String {
    let msg = e.to_string();
    if e.kind() == std::io::ErrorKind::UnexpectedEof || msg.contains("failed to read entire block")
    {
        format!("truncated tar stream ({msg})")
    } else if msg.contains("invalid gzip header") || msg.contains("corrupt deflate stream") {
        format!("corrupt gzip stream ({msg})")
    } else {
        msg
    }
}

/// Describe an I/O error met while reading an entry's contents (a corrupt
/// compressed stream or a truncated archive surfaces here).
pub fn read_error(path: &str, e: &std::io::Error) -> String {
    format!("{path}: {}", tar_reason(e))
}

/// Walk a root directory on disk as if it were one layer. Symbolic links are
/// reported, never followed, so link loops cannot trap the walk.
pub fn walk_dir(
    root: &Path,
    visit: &mut dyn FnMut(Event<'_, '_>) -> VisitResult,
) -> Result<WalkStats, ImageError> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(root).map_err(|e| ImageError::io(root, e))?;
    if !meta.is_dir() {
        return Err(ImageError::NotAnImage {
            path: root.to_path_buf(),
            reason: "not a directory".into(),
        });
    }
    let mut stats = WalkStats::default();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1);
    for item in walker {
        let item = match item {
            Ok(i) => i,
            Err(e) => {
                // Unreadable directories are skipped with a warning, like `find`.
                let p = e.path().map(Path::to_path_buf).unwrap_or_default();
                tracing::warn!("{}: {e}", p.display());
                stats.skipped += 1;
                continue;
            }
        };
        stats.entries += 1;
        let rel = match item.path().strip_prefix(root) {
            Ok(r) => r,
            Err(_) => continue,
        };
        let rel = rel.to_string_lossy();
        let Some(path) = normalize_path(&rel) else {
            continue;
        };
        let md = match item.path().symlink_metadata() {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("{}: {e}", item.path().display());
                stats.skipped += 1;
                continue;
            }
        };
        let ft = md.file_type();
        let kind = if ft.is_file() {
            EntryKind::File
        } else if ft.is_dir() {
            EntryKind::Dir
        } else if ft.is_symlink() {
            EntryKind::Symlink
        } else {
            EntryKind::Other
        };
        let link = if kind == EntryKind::Symlink {
            std::fs::read_link(item.path())
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        } else {
            None
        };
        let e = Entry {
            path: &path,
            kind,
            mode: md.mode() & 0o7777,
            uid: u64::from(md.uid()),
            gid: u64::from(md.gid()),
            size: md.len(),
            link_target: link.as_deref(),
        };
        let dir_err = |reason: String| ImageError::Layer {
            path: root.to_path_buf(),
            layer: "rootfs".into(),
            reason,
        };
        if kind == EntryKind::File {
            match std::fs::File::open(item.path()) {
                Ok(f) => {
                    let mut r = BufReader::new(f);
                    visit(Event::Entry(e, &mut r)).map_err(dir_err)?;
                }
                Err(err) => {
                    tracing::warn!("{}: {err}", item.path().display());
                    stats.skipped += 1;
                }
            }
        } else {
            visit(Event::Entry(e, &mut std::io::empty())).map_err(dir_err)?;
        }
    }
    Ok(stats)
}

/// A path joined below a root, for messages.
pub fn display_path(root: &Path, rel: &str) -> PathBuf {
    root.join(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize_path("./usr//bin/"), Some("usr/bin".into()));
        assert_eq!(normalize_path("/etc/passwd"), Some("etc/passwd".into()));
        assert_eq!(
            normalize_path("../../etc/shadow"),
            Some("etc/shadow".into())
        );
        assert_eq!(normalize_path("a/b/../c"), Some("a/c".into()));
        assert_eq!(normalize_path("./"), None);
        assert_eq!(normalize_path(""), None);
    }

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (p, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            b.append_data(&mut h, p, *data).unwrap_or_default();
        }
        b.into_inner().unwrap_or_default()
    }

    #[test]
    fn reports_whiteouts_and_opaque_dirs() {
        let data = tar_of(&[
            ("etc/.wh.motd", b""),
            ("var/lib/apt/lists/.wh..wh..opq", b""),
            (".wh.root-file", b""),
            ("usr/.wh..wh.plnk", b""),
            ("usr/.wh..", b""),
            ("usr/.wh...", b""),
            ("usr/.wh.", b""),
            ("etc/hostname", b"box\n"),
        ]);
        let mut seen = Vec::new();
        walk_tar(&data[..], Path::new("t.tar"), "L", &mut |ev| {
            match ev {
                Event::Whiteout(p) => seen.push(format!("wh {p}")),
                Event::Opaque(p) => seen.push(format!("opq {p}")),
                Event::Entry(e, r) => {
                    let mut s = String::new();
                    r.read_to_string(&mut s).map_err(|e| e.to_string())?;
                    seen.push(format!("file {} {}", e.path, s.trim()));
                }
            }
            Ok(())
        })
        .unwrap_or_default();
        assert_eq!(
            seen,
            vec![
                "wh etc/motd",
                "opq var/lib/apt/lists",
                "wh root-file",
                "file etc/hostname box"
            ]
        );
    }

    #[test]
    fn truncated_tar_is_an_error_naming_the_layer() {
        let data = tar_of(&[("etc/hostname", &[b'x'; 4000])]);
        let cut = &data[..1024];
        let err = walk_tar(cut, Path::new("img.tar"), "sha256:abc", &mut |ev| {
            if let Event::Entry(_, r) = ev {
                let mut v = Vec::new();
                r.read_to_end(&mut v)
                    .map_err(|e| read_error("etc/hostname", &e))?;
            }
            Ok(())
        })
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.starts_with("img.tar: layer sha256:abc:"), "{err}");
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        gz.extend_from_slice(&[0xff; 64]);
        let r = decompress(&gz[..]).map(|r| walk_tar(r, Path::new("x"), "L", &mut |_| Ok(())));
        let failed = matches!(r, Err(_) | Ok(Err(_)));
        assert!(failed);
    }

    proptest::proptest! {
        #[test]
        fn walker_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            let _ = walk_tar(&data[..], Path::new("f"), "l", &mut |ev| {
                if let Event::Entry(_, r) = ev {
                    let mut v = Vec::new();
                    let _ = r.read_to_end(&mut v);
                }
                Ok(())
            });
        }

        #[test]
        fn normalized_paths_never_escape(p in "[./a-z]{0,40}") {
            if let Some(n) = normalize_path(&p) {
                proptest::prop_assert!(!n.starts_with('/'));
                proptest::prop_assert!(!n.split('/').any(|c| c == ".." || c == "." || c.is_empty()));
            }
        }
    }
}
