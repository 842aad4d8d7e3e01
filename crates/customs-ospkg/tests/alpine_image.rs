//! The real alpine:3.10 image (`docker save`, gzip) from ../shared/data:
//! OS and the 14 apk packages of its single layer.

use customs_ospkg::{detect_os, eol, kind, parse_apk_installed, purl, wanted, Date, FileKind};
use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::io::Read;

const IMAGE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/images/alpine-3.10.tar.gz"
);

/// Every wanted file of the layer tars of the image, by root-relative path.
fn wanted_files() -> HashMap<String, Vec<u8>> {
    let file = std::fs::File::open(IMAGE).unwrap_or_else(|e| panic!("{IMAGE}: {e}"));
    let mut outer = tar::Archive::new(GzDecoder::new(file));
    let mut found = HashMap::new();
    let mut layers = 0;
    for entry in outer.entries().unwrap_or_else(|e| panic!("{e}")) {
        let mut entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let path = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !path.ends_with("/layer.tar") {
            continue;
        }
        layers += 1;
        let mut layer = Vec::new();
        entry
            .read_to_end(&mut layer)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut inner = tar::Archive::new(layer.as_slice());
        for e in inner.entries().unwrap_or_else(|e| panic!("{e}")) {
            let mut e = e.unwrap_or_else(|e| panic!("{e}"));
            let p = e
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            if wanted(&p) && e.header().entry_type().is_file() {
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap_or_else(|e| panic!("{e}"));
                found.insert(p, data);
            }
        }
    }
    assert_eq!(layers, 1, "alpine:3.10 has one layer");
    found
}

#[test]
fn alpine_3_10_os_and_packages() {
    let files = wanted_files();
    let mut keys: Vec<&str> = files.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "etc/alpine-release",
            "etc/os-release",
            "lib/apk/db/installed"
        ]
    );

    let os = detect_os(&|p: &str| files.get(p).map(|v| v.as_slice()))
        .unwrap_or_else(|| panic!("no OS detected"));
    assert_eq!(os.family, "alpine");
    assert_eq!(os.name, "3.10.4");
    assert!(eol(&os, Date::new(2026, 1, 1).unwrap_or_else(|| panic!())).is_ended());
    assert!(!eol(&os, Date::new(2021, 4, 30).unwrap_or_else(|| panic!())).is_ended());

    let path = "lib/apk/db/installed";
    assert_eq!(kind(path), Some(FileKind::ApkInstalled));
    let parsed = parse_apk_installed(path, &files[path]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);

    // Read once from the file itself (P:, V:, o:).
    let expected = [
        ("musl", "1.1.22-r3", "musl"),
        ("busybox", "1.30.1-r3", "busybox"),
        ("alpine-baselayout", "3.1.2-r0", "alpine-baselayout"),
        ("alpine-keys", "2.1-r2", "alpine-keys"),
        ("libcrypto1.1", "1.1.1d-r2", "openssl"),
        ("libssl1.1", "1.1.1d-r2", "openssl"),
        ("ca-certificates-cacert", "20190108-r0", "ca-certificates"),
        ("libtls-standalone", "2.9.1-r0", "libtls-standalone"),
        ("ssl_client", "1.30.1-r3", "busybox"),
        ("zlib", "1.2.11-r1", "zlib"),
        ("apk-tools", "2.10.4-r2", "apk-tools"),
        ("scanelf", "1.2.3-r0", "pax-utils"),
        ("musl-utils", "1.1.22-r3", "musl"),
        ("libc-utils", "0.7.1-r0", "libc-dev"),
    ];
    let got: Vec<(&str, &str, &str)> = parsed
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.src_name.as_str()))
        .collect();
    assert_eq!(got, expected);

    for p in &parsed.packages {
        assert_eq!(p.arch, "x86_64");
        assert_eq!(p.src_version, p.version);
        assert_eq!(p.id, format!("{}@{}", p.name, p.version));
        assert!(!p.licenses.is_empty(), "{}", p.name);
    }
    let by_name: HashMap<&str, &customs_model::Package> = parsed
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    let ca = by_name["ca-certificates-cacert"];
    assert_eq!(ca.licenses, ["MPL-2.0", "GPL-2.0-or-later"]);
    let bb = by_name["busybox"];
    assert_eq!(bb.maintainer, "Natanael Copa <ncopa@alpinelinux.org>");
    assert_eq!(bb.licenses, ["GPL-2.0"]);
    assert!(bb.installed_files.iter().any(|f| f == "bin/busybox"));
    assert_eq!(bb.depends_on, ["musl@1.1.22-r3"]);
    let ssl = by_name["libssl1.1"];
    assert_eq!(ssl.depends_on, ["libcrypto1.1@1.1.1d-r2", "musl@1.1.22-r3"]);
    // musl-utils depends on scanelf by name and on /bin/sh... via so: only.
    assert!(by_name["musl-utils"]
        .depends_on
        .contains(&"scanelf@1.2.3-r0".to_string()));
    assert_eq!(
        purl(&os, by_name["libcrypto1.1"]),
        "pkg:apk/alpine/libcrypto1.1@1.1.1d-r2?arch=x86_64&distro=3.10.4"
    );
}
