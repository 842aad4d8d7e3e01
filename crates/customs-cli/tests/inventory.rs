//! End-to-end: the inventory of real images (alpine 3.10 from `docker save`,
//! Debian images built from Debian's packages), directory scans, and bad input.

mod common;
use common::*;
use predicates::prelude::*;

#[test]
fn alpine_310_lists_its_14_packages_json() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args(["image", "--input", &shared("images/alpine-3.10.tar.gz")])
        .args(["--scanners", "none", "--list-all-pkgs", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["SchemaVersion"], 2);
    assert_eq!(report["ArtifactType"], "container_image");
    assert_eq!(report["Metadata"]["OS"]["Family"], "alpine");
    assert_eq!(report["Metadata"]["OS"]["Name"], "3.10.4");
    assert_eq!(report["Metadata"]["OS"]["EOSL"], true);
    let pkgs = os_packages(&report);
    assert_eq!(pkgs.len(), 14);
    let layer = report["Metadata"]["DiffIDs"][0]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(pkgs.iter().all(|p| p.2 == layer), "all from the one layer");
    // Trimmed snapshot: the package identities, sources and PURLs.
    let summary: Vec<String> = report["Results"][0]["Packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{} {} src={} {}",
                p["Name"].as_str().unwrap_or(""),
                p["Version"].as_str().unwrap_or(""),
                p["SrcName"].as_str().unwrap_or(""),
                p["Identifier"]["PURL"].as_str().unwrap_or("")
            )
        })
        .collect();
    insta::assert_snapshot!(summary.join("\n"));
}

#[test]
fn alpine_310_table() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args(["image", "--input", &shared("images/alpine-3.10.tar.gz")])
        .args(["--scanners", "none", "--list-all-pkgs"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!(String::from_utf8_lossy(&out));
}

#[test]
fn second_scan_reads_layers_from_the_cache() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = || {
        customs(cache.path())
            .args([
                "--debug",
                "image",
                "--input",
                &shared("images/alpine-3.10.tar.gz"),
            ])
            .args(["--scanners", "none", "--list-all-pkgs", "-f", "json"])
            .assert()
            .success()
            .get_output()
            .clone()
    };
    let first = run();
    let second = run();
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("1 from cache"), "{err}");
    assert_eq!(
        stable(json_of(&first.stdout)),
        stable(json_of(&second.stdout))
    );
    assert!(
        cache
            .path()
            .join("layers")
            .read_dir()
            .map(|d| d.count())
            .unwrap_or(0)
            >= 1
    );
}

#[test]
fn bookworm_packages_layers_and_whiteouts() {
    let img = debian_image("bookworm");
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args([
            "image",
            "--input",
            &img,
            "--scanners",
            "none",
            "--list-all-pkgs",
            "-f",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["Metadata"]["OS"]["Family"], "debian");
    assert!(report["Metadata"]["OS"]["Name"]
        .as_str()
        .is_some_and(|n| n.starts_with("12.")));
    let diff: Vec<String> = report["Metadata"]["DiffIDs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(str::to_string))
        .collect();
    assert_eq!(diff.len(), 3);
    let pkgs = os_packages(&report);
    let layer_of = |name: &str| {
        pkgs.iter()
            .find(|p| p.0 == name)
            .map(|p| p.2.clone())
            .unwrap_or_else(|| panic!("{name} not found"))
    };
    // minbase packages come from the first layer, the added ones from the second.
    assert_eq!(layer_of("libc6"), diff[0]);
    assert_eq!(layer_of("dpkg"), diff[0]);
    for added in [
        "python3",
        "openssl",
        "curl",
        "libcurl4",
        "python3.11-minimal",
    ] {
        assert_eq!(layer_of(added), diff[1], "{added}");
    }
    assert!(
        pkgs.iter().all(|p| p.2 != diff[2]),
        "the whiteout layer adds no package"
    );
    // Source names and versions of dpkg packages.
    let results = &report["Results"][0]["Packages"];
    let libssl = results
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["Name"] == "libssl3")
        .cloned()
        .unwrap_or_default();
    assert_eq!(libssl["SrcName"], "openssl");
    assert!(libssl["Identifier"]["PURL"]
        .as_str()
        .is_some_and(|p| p.starts_with("pkg:deb/debian/libssl3@")));
    // /usr/share/doc is deleted by the third layer: no copyright file, so no
    // license survives from it.
    assert!(results
        .as_array()
        .into_iter()
        .flatten()
        .all(|p| p["Licenses"].is_null()));
}

#[test]
fn bookworm_oci_layout_gives_the_same_packages() {
    let img = debian_image("bookworm");
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let scan = |input: &str| {
        let out = customs(cache.path())
            .args([
                "image",
                "--input",
                input,
                "--scanners",
                "none",
                "--list-all-pkgs",
                "-f",
                "json",
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        json_of(&out)
    };
    let archive = scan(&img);
    let oci = scan(&format!("{img}.oci"));
    let tagged = scan(&format!("{img}.oci:latest"));
    assert_eq!(os_packages(&archive), os_packages(&oci));
    assert_eq!(os_packages(&oci), os_packages(&tagged));
    assert!(!os_packages(&oci).is_empty());
    // OCI layers are gzip blobs: their digest differs from the diff ID.
    let l = &oci["Metadata"]["Layers"][0];
    assert_ne!(l["Digest"], l["DiffID"]);
}

#[test]
fn bullseye_image() {
    let img = debian_image("bullseye");
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args([
            "image",
            "--input",
            &img,
            "--scanners",
            "none",
            "--list-all-pkgs",
            "-f",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert!(report["Metadata"]["OS"]["Name"]
        .as_str()
        .is_some_and(|n| n.starts_with("11.")));
    let pkgs = os_packages(&report);
    assert!(pkgs.iter().any(|p| p.0 == "libssl1.1"));
    assert!(pkgs.len() > 80);
}

fn write(root: &std::path::Path, rel: &str, body: &str) {
    let p = root.join(rel);
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(p, body).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn distroless_rootfs_with_status_d() {
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let r = root.path();
    write(
        r,
        "etc/os-release",
        "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\nVERSION=\"Debian GNU/Linux 12 (bookworm)\"\nHOME_URL=\"https://github.com/GoogleContainerTools/distroless\"\n",
    );
    write(r, "etc/debian_version", "12.7\n");
    write(
        r,
        "var/lib/dpkg/status.d/base-files",
        "Package: base-files\nVersion: 12.4+deb12u7\nArchitecture: amd64\nMaintainer: Santiago Vila <sanvila@debian.org>\nInstalled-Size: 341\nPriority: required\nSection: admin\nDescription: Debian base system miscellaneous files\n",
    );
    write(
        r,
        "var/lib/dpkg/status.d/libssl3",
        "Package: libssl3\nVersion: 3.0.14-1~deb12u2\nArchitecture: amd64\nSource: openssl\nMaintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>\nDescription: Secure Sockets Layer toolkit - shared libraries\n",
    );
    write(
        r,
        "var/lib/dpkg/status.d/libssl3.md5sums",
        "d41d8cd98f00b204e9800998ecf8427e  usr/lib/x86_64-linux-gnu/libssl.so.3\n",
    );
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args(["rootfs"])
        .arg(r)
        .args(["--scanners", "none", "--list-all-pkgs", "-f", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["ArtifactType"], "filesystem");
    assert_eq!(report["Metadata"]["OS"]["Family"], "debian");
    let pkgs = os_packages(&report);
    let names: Vec<&str> = pkgs.iter().map(|p| p.0.as_str()).collect();
    assert_eq!(names, vec!["base-files", "libssl3"]);
    assert_eq!(report["Results"][0]["Packages"][1]["SrcName"], "openssl");
}

#[test]
fn rootfs_scan_of_an_apk_root_with_a_broken_stanza_warns_and_goes_on() {
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let r = root.path();
    write(r, "etc/alpine-release", "3.18.4\n");
    write(
        r,
        "lib/apk/db/installed",
        "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nC:Q1def=\nA:x86_64\no:broken\n\nP:zlib\nV:1.2.13-r1\nA:x86_64\no:zlib\n",
    );
    // A symlink loop must not trap the walk.
    let _ = std::os::unix::fs::symlink("loop-b", r.join("loop-a"));
    let _ = std::os::unix::fs::symlink("loop-a", r.join("loop-b"));
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let assert = customs(cache.path())
        .args(["rootfs"])
        .arg(r)
        .args(["--scanners", "none", "--list-all-pkgs", "-f", "json"])
        .assert()
        .success()
        .stderr(predicate::str::contains("lib/apk/db/installed"));
    let report = json_of(&assert.get_output().stdout);
    let names: Vec<String> = os_packages(&report).into_iter().map(|p| p.0).collect();
    assert_eq!(names, vec!["musl", "zlib"]);
}

/// Bad input: one line naming the file and the problem, exit code 3, no panic.
fn fails_cleanly(args: &[&str], expect: &str) {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args(args)
        .assert()
        .code(3)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("customs: error:"))
        .unwrap_or_else(|| panic!("no error line in: {err}"));
    assert!(line.contains(expect), "'{line}' should mention '{expect}'");
    assert!(out.stdout.is_empty(), "no report on failure");
}

fn make_archive(dir: &std::path::Path, name: &str, entries: &[(&str, Vec<u8>)]) -> String {
    let entries: Vec<(&str, &[u8])> = entries.iter().map(|(p, d)| (*p, &d[..])).collect();
    let path = dir.join(name);
    customs_testkit::write(&path, &customs_testkit::tar_of(&entries));
    path.display().to_string()
}

/// A layer tar; names are written raw into the header, so hostile names
/// (`../x`, `/etc/x`) are possible, as a malicious image would carry them.
fn layer_tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    customs_testkit::layer(entries)
}

fn docker_archive(dir: &std::path::Path, name: &str, layer: Vec<u8>, list_layer: bool) -> String {
    // The layer's true diff ID: customs verifies it.
    let diff_id = customs_testkit::sha256(&layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{diff_id}"]}}}}"#
    )
    .into_bytes();
    let manifest = if list_layer {
        r#"[{"Config":"config.json","RepoTags":["t:1"],"Layers":["l1/layer.tar"]}]"#
    } else {
        r#"[{"Config":"config.json","RepoTags":["t:1"],"Layers":["missing/layer.tar"]}]"#
    };
    make_archive(
        dir,
        name,
        &[
            ("config.json", config),
            ("manifest.json", manifest.as_bytes().to_vec()),
            ("l1/layer.tar", layer),
        ],
    )
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = d.path();
    // A path that does not exist.
    fails_cleanly(
        &["image", "--input", "/no/such/image.tar"],
        "/no/such/image.tar: no such file",
    );
    // A 0-byte file.
    let empty = dir.join("empty.tar");
    std::fs::write(&empty, b"").unwrap_or_else(|e| panic!("{e}"));
    fails_cleanly(
        &["image", "--input", &empty.display().to_string()],
        "empty.tar: not a container image: the file is empty",
    );
    // A manifest naming a layer that is not in the archive.
    let missing = docker_archive(
        dir,
        "missing.tar",
        layer_tar(&[("etc/hostname", b"x")]),
        false,
    );
    fails_cleanly(&["image", "--input", &missing], "missing/layer.tar");
    // A truncated archive.
    let good = docker_archive(
        dir,
        "good.tar",
        layer_tar(&[("etc/hostname", &[b'x'; 5000])]),
        true,
    );
    let bytes = std::fs::read(&good).unwrap_or_default();
    let cut = dir.join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap_or_else(|e| panic!("{e}"));
    fails_cleanly(&["image", "--input", &cut.display().to_string()], "cut.tar");
    // A corrupt gzip stream.
    let mut gz = std::fs::read(shared_abs("images/alpine-3.10.tar.gz")).unwrap_or_default();
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 4096] {
        *b ^= 0x5a;
    }
    let corrupt = dir.join("corrupt.tar.gz");
    std::fs::write(&corrupt, gz).unwrap_or_else(|e| panic!("{e}"));
    fails_cleanly(
        &["image", "--input", &corrupt.display().to_string()],
        "corrupt.tar.gz",
    );
    // A directory that is not an image.
    fails_cleanly(
        &["image", "--input", &dir.display().to_string()],
        "customs rootfs",
    );
    // rootfs of a missing directory.
    fails_cleanly(&["rootfs", "/no/such/dir"], "/no/such/dir");
}

fn shared_abs(p: &str) -> std::path::PathBuf {
    repo().join(shared(p))
}

#[test]
fn hostile_layer_paths_stay_inside_the_root() {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let status =
        b"Package: evil\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n";
    // `../../var/lib/dpkg/status` and `/etc/os-release` are read as if rooted.
    let layer = layer_tar(&[
        ("../../var/lib/dpkg/status", status),
        ("/etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
        ("etc/debian_version", b"12.5\n"),
    ]);
    let img = docker_archive(d.path(), "hostile.tar", layer, true);
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args([
            "image",
            "--input",
            &img,
            "--scanners",
            "none",
            "--list-all-pkgs",
            "-f",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let report = json_of(&out.stdout);
    let names: Vec<String> = os_packages(&report).into_iter().map(|p| p.0).collect();
    assert_eq!(names, vec!["evil"]);
    // Nothing was written next to the image or outside the cache.
    let entries: Vec<_> = std::fs::read_dir(d.path())
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert_eq!(entries.len(), 1, "{entries:?}");
}

#[test]
fn unknown_flag_and_scanner_are_usage_errors() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    customs(cache.path())
        .args(["image", "--input", "x", "--no-such-flag"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
    fails_cleanly(
        &[
            "image",
            "--input",
            &shared("images/alpine-3.10.tar.gz"),
            "--scanners",
            "vulns",
        ],
        "unknown scanner 'vulns'",
    );
}

/// `-o` naming something that is not a regular file writes into it and
/// leaves it what it was (a FIFO here; `/dev/null` and `/dev/stdout` alike):
/// replacing it by rename would turn a device into a file. A symbolic link
/// is written through and stays a link.
#[test]
fn output_to_a_fifo_or_a_link_keeps_it_what_it_was() {
    use std::os::unix::fs::FileTypeExt;
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let fifo = d.path().join("report.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap_or_default())
    };
    let scan = |out: &std::path::Path| {
        customs(cache.path())
            .args([
                "image",
                "--input",
                &shared("images/alpine-3.10.tar.gz"),
                "--scanners",
                "none",
                "-f",
                "json",
                "-o",
            ])
            .arg(out)
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .success();
    };
    scan(&fifo);
    let got = reader.join().unwrap_or_default();
    assert_eq!(json_of(&got)["ArtifactType"], "container_image");
    let kind = std::fs::symlink_metadata(&fifo).map(|m| m.file_type().is_fifo());
    assert!(matches!(kind, Ok(true)), "the FIFO was replaced: {kind:?}");

    let real = d.path().join("real.json");
    let link = d.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap_or_else(|e| panic!("{e}"));
    scan(&link);
    let is_link = std::fs::symlink_metadata(&link).map(|m| m.file_type().is_symlink());
    assert!(matches!(is_link, Ok(true)), "the link was replaced");
    let v = json_of(&std::fs::read(&real).unwrap_or_default());
    assert_eq!(v["ArtifactType"], "container_image");
    let names: Vec<_> = std::fs::read_dir(d.path())
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert_eq!(names.len(), 3, "no temporary file left: {names:?}");
}

#[test]
fn output_file_is_written_whole() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = out_dir.path().join("report.json");
    customs(cache.path())
        .args([
            "image",
            "--input",
            &shared("images/alpine-3.10.tar.gz"),
            "--scanners",
            "none",
            "-f",
            "json",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let v = json_of(&std::fs::read(&out).unwrap_or_default());
    assert_eq!(v["ArtifactType"], "container_image");
    let names: Vec<_> = std::fs::read_dir(out_dir.path())
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
}
