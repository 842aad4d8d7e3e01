//! Hostile images, built at test time: every path an image names stays inside
//! it and is a regular file, every blob matches its digest, every layer its
//! diff ID. Each case must fail with one clear error, never read a host file,
//! never hang.

use customs_image::walk::walk_tar;
use customs_image::{Image, ImageError};
use customs_testkit::{layer, oci_dir, sha256 as sha, write, DockerImage};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// A `docker save` directory: config `HEX.json`, layers `l<i>/layer.tar`;
/// `diff_ids` default to the true digests. Returns the config's name.
fn docker_dir(dir: &Path, layers: &[Vec<u8>], claimed: Option<Vec<String>>) -> String {
    let img = DockerImage::new(layers);
    let img = match claimed {
        Some(c) => img.claim_diff_ids(c),
        None => img,
    };
    img.write_dir(dir).config_name
}

/// Replace the manifest with one naming this config and these layers.
fn manifest(dir: &Path, cfg: &str, layers: &[String]) {
    let m = serde_json::json!([{"Config": cfg, "RepoTags": ["t:1"], "Layers": layers}]);
    write(
        &dir.join("manifest.json"),
        &serde_json::to_vec(&m).unwrap_or_default(),
    );
}

/// Open and read every layer (walk + verification), on a thread with a
/// deadline, so a hang is a test failure and not a stuck suite.
fn scan(input: &Path) -> Result<Vec<String>, String> {
    let input = input.to_string_lossy().into_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = (|| -> Result<Vec<String>, ImageError> {
            let img = Image::open(&input)?;
            let all: Vec<usize> = (0..img.layers.len()).collect();
            let seen = std::sync::Mutex::new(Vec::new());
            img.for_each_layer(
                &all,
                &|i, s| {
                    let mut paths = Vec::new();
                    walk_tar(s, &img.path, &img.layers[i].diff_id, &mut |ev| {
                        if let customs_image::walk::Event::Entry(e, _) = ev {
                            paths.push(e.path.to_string());
                        }
                        Ok(())
                    })?;
                    Ok(paths)
                },
                &|_, paths| {
                    if let Ok(mut s) = seen.lock() {
                        s.extend(paths);
                    }
                    Ok(())
                },
            )?;
            let mut v = seen.into_inner().unwrap_or_default();
            v.sort();
            Ok(v)
        })();
        let _ = tx.send(r.map_err(|e| e.to_string()));
    });
    rx.recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| Err("timed out: customs hung on this input".into()))
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

fn expect_err(r: Result<Vec<String>, String>, needle: &str) -> String {
    match r {
        Ok(v) => panic!("expected an error containing '{needle}', got a scan of {v:?}"),
        Err(e) => {
            assert!(e.contains(needle), "'{needle}' not in: {e}");
            assert_eq!(e.lines().count(), 1, "one line: {e}");
            e
        }
    }
}

#[test]
fn genuine_images_open_and_verify() {
    let d = tmp();
    let l = layer(&[("etc/os-release", b"ID=alpine\n")]);
    docker_dir(&d.path().join("docker"), std::slice::from_ref(&l), None);
    oci_dir(&d.path().join("oci"), &[l]);
    for sub in ["docker", "oci"] {
        assert_eq!(
            scan(&d.path().join(sub)),
            Ok(vec!["etc/os-release".to_string()]),
            "{sub}"
        );
    }
}

#[test]
fn config_path_outside_the_directory_is_refused_and_never_read() {
    let d = tmp();
    let host_secret = d.path().join("host-config.json");
    write(
        &host_secret,
        br#"{"auths":{"r.example":{"auth":"c2VjcmV0LXRva2Vu"}},"rootfs":{"diff_ids":[]}}"#,
    );
    let img = d.path().join("img");
    let l = layer(&[("a", b"x")]);
    docker_dir(&img, &[l], None);
    for cfg in [
        "../host-config.json".to_string(),
        host_secret.to_string_lossy().into_owned(),
        "l0/../../host-config.json".to_string(),
    ] {
        manifest(&img, &cfg, &["l0/layer.tar".to_string()]);
        let e = expect_err(scan(&img), "points outside the image");
        assert!(!e.contains("c2VjcmV0"), "{e}");
    }
}

#[test]
fn layer_path_outside_the_directory_is_refused() {
    let d = tmp();
    write(
        &d.path().join("outside.tar"),
        &layer(&[("etc/shadow", b"x")]),
    );
    let img = d.path().join("img");
    let cfg = docker_dir(&img, &[layer(&[("a", b"x")])], None);
    manifest(&img, &cfg, &["../outside.tar".to_string()]);
    expect_err(scan(&img), "points outside the image");
}

#[test]
fn symlinked_config_layer_and_blob_are_refused() {
    let d = tmp();
    let l = layer(&[("a", b"x")]);
    // docker dir: layer.tar a symlink to a file outside.
    let outside = d.path().join("outside.tar");
    write(&outside, &l);
    let img = d.path().join("docker");
    docker_dir(&img, std::slice::from_ref(&l), None);
    let lt = img.join("l0/layer.tar");
    std::fs::remove_file(&lt).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(&outside, &lt).unwrap_or_else(|e| panic!("{e}"));
    expect_err(scan(&img), "a symbolic link");

    // docker dir: the layer's directory a symlink.
    let img2 = d.path().join("docker2");
    docker_dir(&img2, std::slice::from_ref(&l), None);
    std::fs::remove_dir_all(img2.join("l0")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(d.path().join("elsewhere")).unwrap_or_else(|e| panic!("{e}"));
    write(&d.path().join("elsewhere/layer.tar"), &l);
    std::os::unix::fs::symlink(d.path().join("elsewhere"), img2.join("l0"))
        .unwrap_or_else(|e| panic!("{e}"));
    expect_err(scan(&img2), "a symbolic link");

    // docker dir: the config a symlink to a host file.
    let img3 = d.path().join("docker3");
    let cfg = docker_dir(&img3, std::slice::from_ref(&l), None);
    let host = d.path().join("host.json");
    std::fs::rename(img3.join(&cfg), &host).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(&host, img3.join(&cfg)).unwrap_or_else(|e| panic!("{e}"));
    expect_err(scan(&img3), "a symbolic link");

    // OCI: a layer blob symlinked (to a file with the right content, even).
    let oci = d.path().join("oci");
    let (_, layers) = oci_dir(&oci, &[l]);
    let blob = oci
        .join("blobs/sha256")
        .join(layers[0].trim_start_matches("sha256:"));
    let copy = d.path().join("blob-copy");
    std::fs::rename(&blob, &copy).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(&copy, &blob).unwrap_or_else(|e| panic!("{e}"));
    expect_err(scan(&oci), "a symbolic link");
}

#[test]
fn fifo_layer_blob_or_input_fails_at_once() {
    let d = tmp();
    let img = d.path().join("docker");
    docker_dir(&img, &[layer(&[("a", b"x")])], None);
    let lt = img.join("l0/layer.tar");
    std::fs::remove_file(&lt).unwrap_or_else(|e| panic!("{e}"));
    let mk = |p: &Path| {
        let ok = std::process::Command::new("mkfifo")
            .arg(p)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mkfifo {}", p.display());
    };
    mk(&lt);
    expect_err(scan(&img), "not a regular file");

    let oci = d.path().join("oci");
    let (cfg, _) = oci_dir(&oci, &[layer(&[("a", b"x")])]);
    let blob = oci
        .join("blobs/sha256")
        .join(cfg.trim_start_matches("sha256:"));
    std::fs::remove_file(&blob).unwrap_or_else(|e| panic!("{e}"));
    mk(&blob);
    expect_err(scan(&oci), "not a regular file");

    let fifo = d.path().join("image.tar");
    mk(&fifo);
    expect_err(scan(&fifo), "not a regular file or directory");
}

#[test]
fn layer_that_does_not_match_its_diff_id_is_an_error() {
    let d = tmp();
    let real = layer(&[("lib/apk/db/installed", b"P:musl\nV:1.1.22-r2\n\n")]);
    let forged = layer(&[("etc/motd", b"nothing to see\n")]);
    // Claims the diff ID of `real` while shipping `forged`.
    let img = d.path().join("docker");
    docker_dir(&img, &[forged], Some(vec![sha(&real)]));
    let e = expect_err(scan(&img), "does not match its digest");
    assert!(e.contains(&sha(&real)), "{e}");
}

#[test]
fn oci_blobs_must_match_their_digests() {
    let d = tmp();
    let l = layer(&[("a", b"x")]);
    // Config tampered with: a different user, same name.
    let oci = d.path().join("oci");
    let (cfg, layers) = oci_dir(&oci, std::slice::from_ref(&l));
    let p = oci
        .join("blobs/sha256")
        .join(cfg.trim_start_matches("sha256:"));
    let mut c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&p).unwrap_or_default()).unwrap_or_default();
    c["config"]["User"] = "root".into();
    write(&p, &serde_json::to_vec(&c).unwrap_or_default());
    expect_err(scan(&oci), "config 'blobs/sha256/");

    // A layer blob replaced by another gzip of the same tar: the diff ID
    // still matches, the blob digest does not.
    let oci2 = d.path().join("oci2");
    let (_, layers2) = oci_dir(&oci2, std::slice::from_ref(&l));
    let p = oci2
        .join("blobs/sha256")
        .join(layers2[0].trim_start_matches("sha256:"));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&l).unwrap_or_else(|e| panic!("{e}"));
    write(&p, &gz.finish().unwrap_or_default());
    expect_err(scan(&oci2), "blob 'blobs/sha256/");
    assert_eq!(layers.len(), 1);
}

#[test]
fn malformed_digests_are_refused_before_they_become_paths() {
    let d = tmp();
    let oci = d.path().join("oci");
    oci_dir(&oci, &[layer(&[("a", b"x")])]);
    let idx = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:../../../../etc/passwd", "size": 10}]});
    write(
        &oci.join("index.json"),
        &serde_json::to_vec(&idx).unwrap_or_default(),
    );
    let r = scan(&oci);
    assert!(r.is_err(), "{r:?}");

    let img = d.path().join("docker");
    docker_dir(
        &img,
        &[layer(&[("a", b"x")])],
        Some(vec!["sha256:nothex".into()]),
    );
    expect_err(scan(&img), "is not a sha256 or sha512 digest");
}

#[test]
fn data_hidden_after_the_end_of_the_tar_is_hashed_and_bounded() {
    let d = tmp();
    // Bytes after the end-of-archive blocks are part of the layer: the diff
    // ID must cover them (a forged tail fails), and a huge tail is refused.
    let mut l = layer(&[("a", b"x")]);
    let genuine = sha(&l);
    l.extend_from_slice(b"hidden");
    let img = d.path().join("docker");
    docker_dir(&img, std::slice::from_ref(&l), Some(vec![genuine]));
    expect_err(scan(&img), "does not match its digest");

    let mut big = layer(&[("a", b"x")]);
    big.resize(big.len() + (17 << 20), 0);
    let img2 = d.path().join("docker2");
    docker_dir(&img2, &[big], None);
    expect_err(scan(&img2), "after the end of the tar archive");
}

#[test]
fn archives_are_verified_too() {
    let d = tmp();
    let real = layer(&[("a", b"real")]);
    let forged = layer(&[("a", b"forged")]);
    let img = d.path().join("docker");
    docker_dir(&img, &[forged], Some(vec![sha(&real)]));
    // The same image as a plain tar and as a tar.gz.
    let plain = d.path().join("img.tar");
    let ok = std::process::Command::new("tar")
        .arg("-C")
        .arg(&img)
        .arg("-cf")
        .arg(&plain)
        .arg(".")
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok);
    let gz = d.path().join("img.tar.gz");
    let ok = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "gzip -c '{}' > '{}'",
            plain.display(),
            gz.display()
        ))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok);
    for p in [&plain, &gz] {
        expect_err(scan(p), "does not match its digest");
    }
}

#[test]
fn one_blob_claimed_by_two_layers_with_two_diff_ids_is_refused() {
    let d = tmp();
    let l = layer(&[("a", b"x")]);
    let other = layer(&[("b", b"y")]);
    let img = d.path().join("docker");
    let cfg = docker_dir(
        &img,
        &[l.clone(), l.clone()],
        Some(vec![sha(&l), sha(&other)]),
    );
    manifest(
        &img,
        &cfg,
        &["l0/layer.tar".to_string(), "l0/layer.tar".to_string()],
    );
    let gz = d.path().join("img.tar.gz");
    let ok = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tar -C '{}' -c . | gzip > '{}'",
            img.display(),
            gz.display()
        ))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok);
    for p in [img.as_path(), gz.as_path()] {
        let r = scan(p);
        assert!(r.is_err(), "{}: {r:?}", p.display());
    }
}
