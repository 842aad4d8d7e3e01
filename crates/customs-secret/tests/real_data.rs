//! Real data: every file of the official alpine:3.10 image (docker save
//! tarball in ../shared/data). An OS image's own files hold no secret, so
//! the scanner must report nothing, and it must not fail on any of them.

use customs_secret::SecretScanner;
use std::io::Read;
use std::path::Path;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

#[test]
fn alpine_image_files_have_no_secrets() {
    let image = Path::new(DATA).join("images/alpine-3.10.tar.gz");
    let Ok(f) = std::fs::File::open(&image) else {
        eprintln!("skipping: {} not found", image.display());
        return;
    };
    let s = SecretScanner::builtin();
    let mut outer = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut scanned = 0usize;
    let mut bytes = 0usize;
    let mut findings = Vec::new();
    let Ok(entries) = outer.entries() else { return };
    for e in entries.flatten() {
        let name = e
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !name.ends_with("layer.tar") {
            continue;
        }
        let mut layer = tar::Archive::new(e);
        let Ok(files) = layer.entries() else { continue };
        for mut fe in files.flatten() {
            if !fe.header().entry_type().is_file() {
                continue;
            }
            let path = fe
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            if s.skip_path(&path) {
                continue;
            }
            let mut data = Vec::new();
            if fe.read_to_end(&mut data).is_err() {
                continue;
            }
            scanned += 1;
            bytes += data.len();
            for f in s.scan(&path, &data) {
                findings.push(format!("{path}:{} {}", f.start_line, f.rule_id));
            }
        }
    }
    println!(
        "alpine:3.10: scanned {scanned} files ({bytes} bytes), {} findings",
        findings.len()
    );
    assert!(scanned > 50, "only {scanned} files scanned");
    assert!(findings.is_empty(), "{findings:#?}");
}
