//! The layer cache trusts only what customs verified: a crafted image that
//! claims the diff ID of a real layer can neither poison the cache for the
//! real image nor borrow the real layer's clean result. Real data: the
//! official alpine 3.10 image from ../shared.

use customs_image::Image;
use customs_inventory::{analyze_image, Options};
use customs_testkit::{layer, sha256 as sha, DockerImage};
use std::path::{Path, PathBuf};

fn shared(p: &str) -> String {
    format!("{}/../../../shared/data/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn opts(cache: &Path) -> Options {
    Options {
        os: true,
        lang: true,
        cache_dir: Some(cache.to_path_buf()),
        ..Default::default()
    }
}

fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// The real alpine layer, uncompressed, and its diff ID.
fn alpine_layer() -> (Vec<u8>, String) {
    let img = must(Image::open(&shared("images/alpine-3.10.tar.gz")));
    let out = std::sync::Mutex::new(Vec::new());
    must(img.for_each_layer(
        &[0],
        &|_, s| {
            let mut v = Vec::new();
            s.read_to_end(&mut v)
                .map_err(|e| customs_image::ImageError::Visitor(e.to_string()))?;
            Ok(v)
        },
        &|_, v| {
            if let Ok(mut o) = out.lock() {
                *o = v;
            }
            Ok(())
        },
    ));
    let v = out.into_inner().unwrap_or_default();
    let d = img.layers[0].diff_id.clone();
    assert_eq!(sha(&v), d, "the real layer hashes to its diff ID");
    (v, d)
}

/// A `docker save` archive (plain tar) with one layer that claims `diff_id`.
fn docker_tar(path: &Path, layer_bytes: &[u8], diff_id: &str) {
    DockerImage::new(&[layer_bytes.to_vec()])
        .claim_diff_ids(vec![diff_id.to_string()])
        .write_tar(path);
}

fn forged_layer() -> Vec<u8> {
    layer(&[("etc/motd", b"Welcome\n")])
}

fn genuine(dir: &Path) -> PathBuf {
    let p = dir.join("alpine.tar");
    let (real, diff) = alpine_layer();
    docker_tar(&p, &real, &diff);
    p
}

fn open(p: &Path) -> Image {
    must(Image::open(&p.to_string_lossy()))
}

#[test]
fn a_forged_layer_cannot_poison_the_cache_for_the_real_image() {
    let cache = must(tempfile::tempdir());
    let work = must(tempfile::tempdir());
    let (_, diff) = alpine_layer();
    let forged = work.path().join("forged.tar");
    docker_tar(&forged, &forged_layer(), &diff);
    let o = opts(cache.path());
    let err = analyze_image(&open(&forged), &o)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("does not match its digest"), "{err}");
    // The genuine image, same cache: every package is there.
    let inv = must(analyze_image(
        &must(Image::open(&shared("images/alpine-3.10.tar.gz"))),
        &o,
    ));
    assert_eq!(inv.os_packages.len(), 14);
    assert_eq!(
        inv.stats.from_cache, 0,
        "nothing was cached for the forgery"
    );
}

#[test]
fn a_forged_layer_cannot_borrow_a_cached_clean_result() {
    let cache = must(tempfile::tempdir());
    let work = must(tempfile::tempdir());
    let o = opts(cache.path());
    // The real alpine layer is cached (its result: alpine 3.10, 14 packages).
    let real = genuine(work.path());
    let first = must(analyze_image(&open(&real), &o));
    assert_eq!((first.stats.analyzed, first.os_packages.len()), (1, 14));
    // An image shipping other bytes while claiming the cached layer's diff
    // ID is read and refused, never given the cached result.
    let (_, diff) = alpine_layer();
    let forged = work.path().join("forged.tar");
    let bytes = layer(&[
        ("etc/alpine-release", b"3.10.4\n"),
        (
            "lib/apk/db/installed",
            b"P:busybox\nV:1.22.0-r0\no:busybox\n\n",
        ),
    ]);
    docker_tar(&forged, &bytes, &diff);
    let r = analyze_image(&open(&forged), &o);
    assert!(r.is_err(), "a forged layer got a result");
}

#[test]
fn the_cache_is_used_for_the_same_file_and_only_for_it() {
    let cache = must(tempfile::tempdir());
    let work = must(tempfile::tempdir());
    let o = opts(cache.path());
    let real = genuine(work.path());
    let a = must(analyze_image(&open(&real), &o));
    assert_eq!((a.stats.analyzed, a.stats.from_cache), (1, 0));
    let b = must(analyze_image(&open(&real), &o));
    assert_eq!((b.stats.analyzed, b.stats.from_cache), (0, 1), "warm cache");
    assert_eq!(a.os_packages, b.os_packages);

    // A copy elsewhere is other bytes as far as customs knows: read and
    // verified once, then cached.
    let copy = work.path().join("copy.tar");
    must(std::fs::copy(&real, &copy));
    let c = must(analyze_image(&open(&copy), &o));
    assert_eq!((c.stats.analyzed, c.stats.from_cache), (1, 0));
    let c2 = must(analyze_image(&open(&copy), &o));
    assert_eq!(c2.stats.from_cache, 1);

    // Rewritten in place, same size, mtime put back: the change time moves,
    // so the bytes are read again, and the tampering is found.
    let mtime = must(must(std::fs::metadata(&copy)).modified());
    let mut data = must(std::fs::read(&copy));
    let at = data
        .windows(12)
        .position(|w| w == b"P:libcrypto1")
        .unwrap_or_else(|| panic!("no libcrypto stanza"));
    data[at + 2] = b'X';
    must(std::fs::write(&copy, &data));
    let f = must(std::fs::File::options().write(true).open(&copy));
    must(f.set_modified(mtime));
    drop(f);
    let err = analyze_image(&open(&copy), &o)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("does not match its digest"), "{err}");
}

#[test]
fn temporary_files_of_killed_scans_are_swept() {
    let cache = must(tempfile::tempdir());
    let work = must(tempfile::tempdir());
    let layers = cache.path().join("layers");
    must(std::fs::create_dir_all(&layers));
    // Names as a killed scan leaves them (old and new style), PIDs that
    // cannot run, written two minutes ago.
    let stale = [
        layers.join(".tmp-4194999-ThreadId(3)"),
        layers.join(".tmp-4194998-7"),
    ];
    for p in &stale {
        must(std::fs::write(p, vec![0u8; 4096]));
        let f = must(std::fs::File::options().write(true).open(p));
        must(f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(120)));
    }
    let real = genuine(work.path());
    must(analyze_image(&open(&real), &opts(cache.path())));
    for p in &stale {
        assert!(!p.exists(), "{} left behind", p.display());
    }
    let left: Vec<String> = must(std::fs::read_dir(&layers))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
