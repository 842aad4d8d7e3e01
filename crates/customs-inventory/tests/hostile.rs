//! Hostile layers, built at test time as streams (nothing large is held in
//! memory): package databases over the old 64 MiB buffer cap are parsed as
//! streams, a padded line or an oversized manifest fails the layer with a
//! clear error, and the hardening state keeps only what the checks need.
//! The `large_` tests are ignored by default; CI runs them
//! (`cargo test --workspace -- --ignored large_`).

use customs_image::walk::{walk_tar, EntryKind};
use customs_inventory::layer::{Analyzers, EntryFilter, FileWant};
use customs_inventory::{merge, FileMeta, LayerResult, Options};
use customs_model::LayerRef;
use customs_testkit::peak_rss_kib;
use std::io::{Cursor, Read};
use std::path::Path;

fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn shared(p: &str) -> String {
    format!("{}/../../../shared/data/{p}", env!("CARGO_MANIFEST_DIR"))
}

/// The real `lib/apk/db/installed` of the alpine 3.10 image.
fn alpine_installed() -> Vec<u8> {
    let f = must(std::fs::File::open(shared("images/alpine-3.10.tar.gz")));
    let mut outer = tar::Archive::new(must(customs_image::walk::decompress(f)));
    for l in must(outer.entries()) {
        let l = must(l);
        if !l.path_bytes().ends_with(b"layer.tar") {
            continue;
        }
        let mut inner = tar::Archive::new(l);
        for e in must(inner.entries()) {
            let mut e = must(e);
            if e.path_bytes().as_ref() == b"lib/apk/db/installed" {
                let mut v = Vec::new();
                must(e.read_to_end(&mut v));
                assert!(v.len() > 1000, "the real database was found");
                return v;
            }
        }
    }
    panic!("no lib/apk/db/installed in the alpine image")
}

/// A reader of `head` followed by `unit` repeated up to `total` bytes.
struct Repeat {
    head: Cursor<Vec<u8>>,
    unit: Vec<u8>,
    pos: usize,
    left: u64,
}

fn repeat(head: Vec<u8>, unit: &[u8], total: u64) -> Repeat {
    Repeat {
        left: total,
        head: Cursor::new(head),
        unit: unit.to_vec(),
        pos: 0,
    }
}

impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let mut n = self.head.read(&mut buf[..max])?;
        while n < max && !self.unit.is_empty() {
            let k = (max - n).min(self.unit.len() - self.pos);
            buf[n..n + k].copy_from_slice(&self.unit[self.pos..self.pos + k]);
            n += k;
            self.pos = (self.pos + k) % self.unit.len();
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// One tar entry of `size` bytes from `body`, streamed.
fn tar_entry<'a>(path: &str, size: u64, mode: u32, body: impl Read + 'a) -> Box<dyn Read + 'a> {
    let mut h = tar::Header::new_gnu();
    must(h.set_path(path));
    h.set_size(size);
    h.set_mode(mode);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let pad = (512 - size % 512) % 512;
    Box::new(
        Cursor::new(h.as_bytes().to_vec())
            .chain(body.take(size))
            .chain(std::io::repeat(0).take(pad)),
    )
}

/// A layer tar of these entries, streamed.
fn layer<'a>(entries: Vec<Box<dyn Read + 'a>>) -> impl Read + 'a {
    let mut r: Box<dyn Read + 'a> = Box::new(std::io::empty());
    for e in entries {
        r = Box::new(r.chain(e));
    }
    r.chain(std::io::repeat(0).take(1024))
}

fn analyzers() -> Analyzers<'static> {
    Analyzers {
        os: true,
        installed: true,
        lockfiles: false,
        secrets: None,
        keep_files: false,
        extra_wanted: &[],
        keep_entry: None,
    }
}

fn walk(an: &Analyzers<'_>, tar: impl Read) -> Result<LayerResult, String> {
    let mut r = LayerResult::default();
    walk_tar(tar, Path::new("hostile.tar"), "sha256:l0", &mut |ev| {
        r.visit(an, ev)
    })
    .map_err(|e| e.to_string())?;
    Ok(r)
}

/// The large tests run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run test `name` alone in a fresh process (this test binary) and return
/// its peak RSS in KiB, which the child prints last; `None` in the child,
/// which then does the work. A fresh process, because memory freed by an
/// earlier test stays resident and would hide the peak.
fn peak_in_child(name: &str) -> Option<u64> {
    if std::env::var_os("CUSTOMS_HOSTILE_CHILD").is_some() {
        return None;
    }
    let exe = must(std::env::current_exe());
    let out = must(
        std::process::Command::new(exe)
            .args([
                "--exact",
                name,
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("CUSTOMS_HOSTILE_CHILD", "1")
            .output(),
    );
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} failed in its own process:\n{text}"
    );
    let peak = text.split("PEAK_RSS_KIB=").nth(1).and_then(|v| {
        v.split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|d| d.parse().ok())
    });
    eprintln!("{text}");
    Some(peak.unwrap_or_else(|| panic!("no peak printed:\n{text}")))
}

/// The alpine database followed by stanzas without a name (each one a
/// skipped record), to `total` bytes.
fn padded_apk(total: u64) -> LayerResult {
    let real = alpine_installed();
    let pad = b"C:Q1padpadpadpadpadpadpadpadpadpad=\nT:padding, no package here\n\n";
    let mut head = real.clone();
    head.extend_from_slice(b"\n");
    let t = std::time::Instant::now();
    let r = must(walk(
        &analyzers(),
        layer(vec![tar_entry(
            "lib/apk/db/installed",
            total,
            0o644,
            repeat(head, pad, total),
        )]),
    ));
    eprintln!("apk db of {} MiB: {:?}", total >> 20, t.elapsed());
    r
}

fn check_real_apk(r: &LayerResult) {
    let pkgs = r
        .pkg_dbs
        .get("lib/apk/db/installed")
        .unwrap_or_else(|| panic!("no database: {:?}", r.warnings));
    assert_eq!(pkgs.len(), 14, "the 14 packages of alpine 3.10");
    assert!(pkgs.iter().any(|p| p.name == "musl"));
    // One warning per padding stanza would be millions: 100 and a count.
    assert_eq!(r.warnings.len(), 101, "{:?}", r.warnings.last());
    assert!(r.warnings[100].contains("more skipped stanzas"));
}

#[test]
#[ignore = "large hostile input; run by .ci/run"]
fn large_apk_db_over_64_mib_keeps_the_real_packages() {
    let _g = serial();
    check_real_apk(&padded_apk(80 << 20));
}

#[test]
#[ignore = "large hostile input; run by .ci/run"]
fn large_apk_db_of_500_mb_is_streamed() {
    let _g = serial();
    if let Some(peak) = peak_in_child("large_apk_db_of_500_mb_is_streamed") {
        assert!(peak < 200 << 10, "peak RSS {} MiB", peak >> 10);
        return;
    }
    check_real_apk(&padded_apk(500 << 20));
    println!("PEAK_RSS_KIB={}", peak_rss_kib());
}

/// `n` installed dpkg stanzas.
fn dpkg_status(n: usize) -> (u64, impl Read) {
    let stanza = |i: usize| {
        format!(
            "Package: pkg-{i:07}\nStatus: install ok installed\nPriority: optional\nSection: misc\n\
             Installed-Size: 100\nMaintainer: Nobody <nobody@example.org>\nArchitecture: amd64\n\
             Version: 1.{i}-1\nDepends: libc6 (>= 2.36)\nDescription: padding package {i}\n \
             generated to make a very long status file.\n\n"
        )
    };
    let size: u64 = (0..n).map(|i| stanza(i).len() as u64).sum();
    let mut i = 0usize;
    let mut cur = Cursor::new(Vec::new());
    let r = GenRead(Box::new(move |buf| loop {
        let k = cur.read(buf)?;
        if k > 0 || i >= n {
            return Ok(k);
        }
        cur = Cursor::new(stanza(i).into_bytes());
        i += 1;
    }));
    (size, r)
}

type ReadFn = dyn FnMut(&mut [u8]) -> std::io::Result<usize>;
struct GenRead(Box<ReadFn>);
impl Read for GenRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        (self.0)(buf)
    }
}

#[test]
#[ignore = "large hostile input; run by .ci/run"]
fn large_dpkg_status_of_a_million_stanzas() {
    let _g = serial();
    if let Some(peak) = peak_in_child("large_dpkg_status_of_a_million_stanzas") {
        assert!(peak < 1 << 20, "peak RSS {} MiB", peak >> 10);
        return;
    }
    let n = 1_000_000;
    let (size, body) = dpkg_status(n);
    assert!(size > 64 << 20, "over the old cap: {size}");
    let t = std::time::Instant::now();
    let e = walk(
        &analyzers(),
        layer(vec![tar_entry("var/lib/dpkg/status", size, 0o644, body)]),
    )
    .err()
    .unwrap_or_else(|| panic!("a million packages must fail the scan"));
    // Package 200 001 starts at line 2 400 001 (12 lines per stanza).
    assert!(
        e.contains("var/lib/dpkg/status:2400001: more than 200000 packages; the database cannot be analyzed within the memory bound"),
        "{e}"
    );
    eprintln!(
        "dpkg status of {n} stanzas ({} MiB): failed after {:?}: {e}",
        size >> 20,
        t.elapsed()
    );
    println!("PEAK_RSS_KIB={}", peak_rss_kib());
}

#[test]
#[ignore = "large hostile input; run by .ci/run"]
fn large_dpkg_status_at_the_package_cap() {
    let _g = serial();
    if let Some(peak) = peak_in_child("large_dpkg_status_at_the_package_cap") {
        assert!(peak < 1 << 20, "peak RSS {} MiB", peak >> 10);
        return;
    }
    let n = customs_ospkg::MAX_PACKAGES;
    let (size, body) = dpkg_status(n);
    let t = std::time::Instant::now();
    let r = must(walk(
        &analyzers(),
        layer(vec![tar_entry("var/lib/dpkg/status", size, 0o644, body)]),
    ));
    let pkgs = &r.pkg_dbs["var/lib/dpkg/status"];
    assert_eq!(pkgs.len(), n);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings.first());
    assert_eq!(pkgs[n - 1].name, format!("pkg-{:07}", n - 1));
    eprintln!(
        "dpkg status of {n} stanzas ({} MiB): {:?}",
        size >> 20,
        t.elapsed()
    );
    println!("PEAK_RSS_KIB={}", peak_rss_kib());
}

#[test]
fn a_padded_line_fails_the_layer_naming_file_and_line() {
    // A real database whose second stanza has a 17 MiB description.
    let db = b"P:musl\nV:1.1.22-r3\n\nP:busybox\nV:1.30.1-r3\nT:".to_vec();
    let size = 17u64 << 20;
    let e = walk(
        &analyzers(),
        layer(vec![tar_entry(
            "lib/apk/db/installed",
            size,
            0o644,
            repeat(db, b"x", size),
        )]),
    )
    .err()
    .unwrap_or_else(|| panic!("the padded database must fail the layer"));
    assert!(
        e.contains("lib/apk/db/installed:6: line longer than 16777216 bytes"),
        "{e}"
    );
    assert!(e.contains("sha256:l0"), "the layer is named: {e}");
    assert_eq!(e.lines().count(), 1);

    // The same for a dpkg stanza padded with continuation lines.
    let head = b"Package: libc6\nVersion: 2.36-9\nDescription: x\n".to_vec();
    let size = 65u64 << 20;
    let e = walk(
        &analyzers(),
        layer(vec![tar_entry(
            "var/lib/dpkg/status",
            size,
            0o644,
            repeat(head, b" padding\n", size),
        )]),
    )
    .err()
    .unwrap_or_else(|| panic!("the padded stanza must fail the layer"));
    assert!(
        e.contains("var/lib/dpkg/status:1: stanza longer than 67108864 bytes"),
        "{e}"
    );
}

#[test]
fn documents_over_their_cap_fail_instead_of_being_skipped() {
    for (path, size, what) in [
        (
            "app/node_modules/left-pad/package.json",
            65u64 << 20,
            "over the 64 MiB limit for a lockfile or package manifest",
        ),
        (
            "etc/os-release",
            2 << 20,
            "over the 1 MiB limit for an OS release file",
        ),
    ] {
        let e = walk(
            &analyzers(),
            layer(vec![tar_entry(path, size, 0o644, std::io::repeat(b' '))]),
        )
        .err()
        .unwrap_or_else(|| panic!("{path}: must fail the layer"));
        assert!(e.contains(&format!("{path}: {size} bytes, {what}")), "{e}");
    }
}

/// What a config check wants: an `.npmrc` anywhere.
const NPMRC: [FileWant; 1] = [FileWant {
    name: "test/1",
    wanted: |p| p.ends_with(".npmrc"),
}];

#[test]
fn a_config_file_over_the_cap_is_skipped_with_a_warning_not_a_failure() {
    // Only a config check wants it: the layer goes on without it (its
    // secrets are still scanned as a stream), and the warning names it.
    let an = Analyzers {
        extra_wanted: &NPMRC,
        ..analyzers()
    };
    let size = 65u64 << 20;
    const RC: &[u8] = b"registry=https://x/\n";
    let r = walk(
        &an,
        layer(vec![
            tar_entry("app/.npmrc", size, 0o644, std::io::repeat(b' ')),
            tar_entry("etc/.npmrc", RC.len() as u64, 0o644, Cursor::new(RC)),
        ]),
    )
    .unwrap_or_else(|e| panic!("must not fail the layer: {e}"));
    assert_eq!(
        r.extra_files.keys().collect::<Vec<_>>(),
        vec!["etc/.npmrc"],
        "the small one is kept"
    );
    assert!(
        r.warnings.iter().any(|w| w.contains(&format!(
            "app/.npmrc: {size} bytes, over the 64 MiB limit for a file the config checks read"
        ))),
        "{:?}",
        r.warnings
    );
}

#[test]
fn the_files_wanted_are_part_of_the_cache_key() {
    let none = analyzers().fingerprint("");
    let npmrc = Analyzers {
        extra_wanted: &NPMRC,
        ..analyzers()
    }
    .fingerprint("");
    assert_ne!(none, npmrc);
    assert!(npmrc.contains("extra=test/1"), "{npmrc}");
}

#[test]
fn a_small_database_gives_what_the_slice_parser_gives() {
    let real = alpine_installed();
    let r = must(walk(
        &analyzers(),
        layer(vec![tar_entry(
            "lib/apk/db/installed",
            real.len() as u64,
            0o644,
            Cursor::new(real.clone()),
        )]),
    ));
    let slice = customs_ospkg::parse_apk_installed("lib/apk/db/installed", &real);
    let streamed = must(customs_ospkg::read_apk_installed(
        "lib/apk/db/installed",
        real.as_slice(),
        &customs_ospkg::StreamLimits::default(),
    ));
    assert_eq!(r.pkg_dbs["lib/apk/db/installed"], slice.packages);
    assert_eq!(streamed, slice);
}

// Hardening state.

/// What the hardening checks look at, as the CLI passes it (misconfig's
/// predicate is not a dependency of this crate: a stand-in with the same
/// shape keeps setuid and world-writable entries).
fn keep(path: &str, kind: EntryKind, mode: u32) -> bool {
    (kind == EntryKind::File && mode & 0o6002 != 0) || path == "bin/sh"
}

const FILTER: EntryFilter = EntryFilter {
    keep,
    version: "test-1",
};

fn hardening_analyzers() -> Analyzers<'static> {
    Analyzers {
        keep_files: true,
        keep_entry: Some(FILTER),
        ..analyzers()
    }
}

fn hardening_opts() -> Options {
    Options {
        keep_files: true,
        hardening_entries: Some(FILTER),
        ..Default::default()
    }
}

fn lr(d: &str) -> LayerRef {
    LayerRef {
        digest: d.into(),
        diff_id: d.into(),
    }
}

fn paths(files: &[(FileMeta, u32)]) -> Vec<(String, u32, u32)> {
    files
        .iter()
        .map(|(f, l)| (f.path.clone(), f.mode, *l))
        .collect()
}

#[test]
fn an_upper_layer_entry_no_check_needs_still_hides_the_lower_one() {
    let e = |p: &str, mode| tar_entry(p, 0, mode, std::io::empty());
    let an = hardening_analyzers();
    let l0 = must(walk(
        &an,
        layer(vec![
            e("usr/bin/passwd", 0o4755),
            e("usr/bin/su", 0o4755),
            e("usr/bin/mount", 0o4755),
            e("app/conf", 0o666),
            e("bin/sh", 0o755),
            e("usr/bin/ls", 0o755),
        ]),
    ));
    assert_eq!(l0.files.len(), 5, "ls is not kept");
    assert_eq!(l0.shadows.0.len(), 1);
    // chmod u-s passwd; rm su; the same layer first sets then clears
    // mount's bits (the later entry wins, as in the tar).
    let mut l1 = must(walk(
        &an,
        layer(vec![
            e("usr/bin/passwd", 0o755),
            e("usr/bin/mount", 0o4755),
            e("usr/bin/mount", 0o755),
            e("usr/bin/chsh", 0o4711),
        ]),
    ));
    l1.whiteouts.push("usr/bin/su".into());
    let layers = [(lr("sha256:0"), l0), (lr("sha256:1"), l1)];
    let inv = merge(&layers, &hardening_opts());
    assert_eq!(
        paths(&inv.files),
        [
            ("app/conf".to_string(), 0o666, 0),
            ("bin/sh".to_string(), 0o755, 0),
            ("usr/bin/chsh".to_string(), 0o4711, 1),
            ("usr/bin/mount".to_string(), 0o755, 1),
        ]
    );
    // The cache round trip keeps the hashes.
    let json = must(serde_json::to_string(&layers[0].1));
    let back: LayerResult = must(serde_json::from_str(&json));
    assert_eq!(back.shadows, layers[0].1.shadows);
    assert_eq!(back.files, layers[0].1.files);
}

/// A layer of `n` empty files in directories of 1000, and one setuid file.
#[allow(clippy::manual_is_multiple_of)] // is_multiple_of is newer than the MSRV
fn many_files(n: usize) -> impl Read {
    let mut i = 0usize;
    let mut cur = Cursor::new(Vec::new());
    let entry = |path: &str, kind: tar::EntryType, mode: u32| {
        let mut h = tar::Header::new_gnu();
        must(h.set_path(path));
        h.set_size(0);
        h.set_mode(mode);
        h.set_entry_type(kind);
        h.set_cksum();
        h.as_bytes().to_vec()
    };
    GenRead(Box::new(move |buf| loop {
        let k = cur.read(buf)?;
        if k > 0 || i > n {
            return Ok(k);
        }
        let mut v = Vec::new();
        if i == n {
            v.extend(entry("usr/bin/passwd", tar::EntryType::Regular, 0o4755));
            v.extend([0u8; 1024]);
        } else {
            if i % 1000 == 0 {
                let d = format!("data/d{:04}", i / 1000);
                v.extend(entry(&d, tar::EntryType::Directory, 0o755));
            }
            let f = format!("data/d{:04}/file-{:04}.txt", i / 1000, i % 1000);
            v.extend(entry(&f, tar::EntryType::Regular, 0o644));
        }
        cur = Cursor::new(v);
        i += 1;
    }))
}

#[test]
#[ignore = "large hostile input; run by .ci/run"]
fn large_hardening_state_for_a_million_files() {
    let _g = serial();
    if let Some(peak) = peak_in_child("large_hardening_state_for_a_million_files") {
        // 16 bytes of hash per entry (with the Vec's doubling, and the
        // merge's sorted copy): tens of MiB, not hundreds.
        assert!(peak < 150 << 10, "peak RSS {} MiB", peak >> 10);
        return;
    }
    let n = 1_000_000;
    let t = std::time::Instant::now();
    let r = must(walk(&hardening_analyzers(), many_files(n)));
    assert_eq!(r.files.len(), 1);
    assert_eq!(r.shadows.0.len(), n + n / 1000);
    let inv = merge(&[(lr("sha256:0"), r)], &hardening_opts());
    assert_eq!(
        paths(&inv.files),
        [("usr/bin/passwd".to_string(), 0o4755, 0)]
    );
    eprintln!("{n} files: walk + merge {:?}", t.elapsed());
    println!("PEAK_RSS_KIB={}", peak_rss_kib());
}
