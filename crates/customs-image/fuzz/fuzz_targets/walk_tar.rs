//! The layer walker on arbitrary bytes: sniff and decompress (gzip, zstd or
//! plain), then walk the tar entries the way the inventory does, reading
//! the contents of some files (package databases, small files) so the
//! buffering path runs too. Errors are expected; a panic is a bug.
#![no_main]

use customs_image::walk::{decompress, normalize_path, walk_tar, EntryKind, Event};
use libfuzzer_sys::fuzz_target;
use std::io::Read;
use std::path::Path;

/// The walker promises normalized entry paths: relative, no empty, `.` or
/// `..` components, and normalizing them again changes nothing.
fn assert_normalized(p: &str) {
    assert!(!p.is_empty() && !p.starts_with('/'), "not normalized: {p:?}");
    assert!(
        !p.split('/').any(|c| c.is_empty() || c == "." || c == ".."),
        "not normalized: {p:?}"
    );
    assert_eq!(normalize_path(p).as_deref(), Some(p));
}

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = decompress(data) else {
        return;
    };
    let mut visit = |ev: Event<'_, '_>| {
        match ev {
            Event::Entry(e, r) => {
                assert_normalized(e.path);
                if let (EntryKind::Hardlink, Some(t)) = (e.kind, e.link_target) {
                    assert_normalized(t);
                }
                // Like the inventory: package databases and other wanted
                // files are read (bounded), everything else is skipped.
                let wanted = e.path.ends_with("status")
                    || e.path.ends_with("installed")
                    || e.path.ends_with(".json")
                    || e.size < 4096;
                if wanted {
                    let mut buf = Vec::new();
                    let _ = r.take(1 << 20).read_to_end(&mut buf);
                }
            }
            // Whiteout targets and opaque dirs are derived from the entry's
            // path; they are only exercised here, not checked.
            Event::Whiteout(p) | Event::Opaque(p) => {
                let _ = normalize_path(p);
            }
        }
        Ok(())
    };
    let _ = walk_tar(reader, Path::new("fuzz.tar"), "sha256:fuzz", &mut visit);
});
