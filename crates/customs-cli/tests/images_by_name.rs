//! `customs image NAME`, end to end, against real services on 127.0.0.1:
//! Debian's docker-registry (plain HTTP, and TLS from a test CA) filled with
//! skopeo, and Podman's Docker-compatible API. The report of an image read by
//! name must equal the report of the same image read from its file.

mod common;

use common::{customs, json_of, shared, vuln_db};
use customs_testkit::podman::Podman;
use customs_testkit::registry::Registry;

const ALPINE: &str = "images/alpine-3.20.3.tar.gz";

/// The parts of a report that do not depend on where the image came from:
/// not the name, the tags, the creation time, nor the layers' stored
/// digests (a registry has them, a docker-archive does not; Trivy's reports
/// differ the same way).
fn comparable(mut v: serde_json::Value) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value, name: &str) {
        match v {
            serde_json::Value::Object(o) => {
                for k in ["Layer", "Layers"] {
                    match o.get_mut(k) {
                        Some(serde_json::Value::Object(l)) => {
                            l.remove("Digest");
                        }
                        Some(serde_json::Value::Array(ls)) => {
                            for l in ls.iter_mut().filter_map(|l| l.as_object_mut()) {
                                l.remove("Digest");
                            }
                        }
                        _ => {}
                    }
                }
                if let Some(serde_json::Value::String(t)) = o.get_mut("Target") {
                    *t = t.replace(name, "[image]");
                }
                for (_, x) in o.iter_mut() {
                    strip(x, name);
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| strip(x, name)),
            _ => {}
        }
    }
    let name = v["ArtifactName"].as_str().unwrap_or("").to_string();
    strip(&mut v, &name);
    if let Some(o) = v.as_object_mut() {
        for k in ["CreatedAt", "ArtifactName"] {
            o.remove(k);
        }
        if let Some(m) = o.get_mut("Metadata").and_then(|m| m.as_object_mut()) {
            m.remove("RepoTags");
            m.remove("RepoDigests");
        }
    }
    v
}

/// Equal, or a panic showing the first lines that differ.
fn assert_same(a: &serde_json::Value, b: &serde_json::Value) {
    if a == b {
        return;
    }
    let (x, y) = (
        serde_json::to_string_pretty(a).unwrap_or_default(),
        serde_json::to_string_pretty(b).unwrap_or_default(),
    );
    let diff: Vec<String> = x
        .lines()
        .zip(y.lines())
        .filter(|(l, r)| l != r)
        .take(10)
        .map(|(l, r)| format!("- {l}\n+ {r}"))
        .collect();
    panic!("reports differ:\n{}", diff.join("\n"));
}

fn file_report() -> serde_json::Value {
    let cache = tempfile::tempdir().unwrap();
    common::image_json(cache.path(), &["--input", &shared(ALPINE)])
}

#[test]
fn a_registry_image_by_name_equals_its_file_and_a_rescan_transfers_no_layer() {
    let reg = Registry::plain();
    reg.push(
        &format!(
            "docker-archive:{}",
            common::repo().join(shared(ALPINE)).display()
        ),
        "library/alpine:3.20.3",
    );
    let name = format!("{}/library/alpine:3.20.3", reg.host());
    let cache = tempfile::tempdir().unwrap();
    let by_name = common::image_json(cache.path(), &[&name, "--insecure"]);
    assert_eq!(by_name["ArtifactName"], name.as_str());
    assert_eq!(by_name["Metadata"]["RepoTags"][0], name.as_str());
    let want = file_report();
    assert_same(&comparable(by_name.clone()), &comparable(want.clone()));
    // The 3.20.3 image has real findings; equal reports are not empty ones.
    assert!(
        common::findings(&want).len() > 10,
        "{:?}",
        common::findings(&want)
    );
    let blobs = reg.blob_gets("library/alpine");

    // Warm: the manifest and the config, never the layer.
    let out = customs(cache.path())
        .args([
            "-q",
            "--debug",
            "image",
            &name,
            "--insecure",
            "--format",
            "json",
            "--db",
        ])
        .arg(vuln_db())
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("0 layer blobs downloaded"), "{log}");
    assert_eq!(
        reg.blob_gets("library/alpine"),
        blobs + 1,
        "{}",
        reg.access_log().join("\n")
    );
    assert_same(&comparable(json_of(&out.stdout)), &comparable(by_name));
}

#[test]
fn a_tls_registry_is_trusted_through_ssl_cert_file_and_refused_otherwise() {
    let reg = Registry::tls();
    reg.push(
        &format!(
            "docker-archive:{}",
            common::repo().join(shared(ALPINE)).display()
        ),
        "alpine:1",
    );
    let name = format!("{}/alpine:1", reg.host());
    let cache = tempfile::tempdir().unwrap();
    let ca = reg.ca_pem().expect("the TLS registry has a CA");
    let out = customs(cache.path())
        .env("SSL_CERT_FILE", ca)
        .args([
            "-q",
            "image",
            &name,
            "--scanners",
            "none",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json_of(&out.stdout)["Metadata"]["ImageID"],
        file_report()["Metadata"]["ImageID"]
    );
    // Without the CA: one line, exit 3, a hint.
    let out = customs(cache.path())
        .env_remove("SSL_CERT_FILE")
        .args(["-q", "image", &name, "--scanners", "none"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&reg.host()) && err.contains("--insecure"),
        "{err}"
    );
    // --insecure accepts the certificate it cannot verify.
    customs(cache.path())
        .args(["-q", "image", &name, "--insecure", "--scanners", "none"])
        .assert()
        .success();
}

#[test]
fn a_tampered_blob_fails_the_scan_and_writes_nothing() {
    let reg = Registry::plain();
    reg.push(
        &format!(
            "docker-archive:{}",
            common::repo().join(shared(ALPINE)).display()
        ),
        "alpine:1",
    );
    let raw = reg.inspect_raw("alpine:1");
    let manifest: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    reg.corrupt_blob(&layer);
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("report.json");
    let out = customs(dir.path())
        .args([
            "-q",
            "image",
            &format!("{}/alpine:1", reg.host()),
            "--insecure",
            "--scanners",
            "none",
            "-o",
        ])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    // The corrupt bytes fail either the walk (a tar header) or the digest.
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("/alpine:1: ") && err.contains("layer"),
        "{err}"
    );
    assert!(!out_file.exists());
}

#[test]
fn a_podman_image_by_name_equals_its_file_and_leaves_nothing_in_tmp() {
    let podman = Podman::start();
    podman.load(&common::repo().join(shared(ALPINE)));
    let cache = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let host = format!("unix://{}", podman.socket().display());
    let db = vuln_db();
    // The default order: no Docker here (a socket path that is not there),
    // so Podman, which has it.
    let out = customs(cache.path())
        .env("TMPDIR", tmp.path())
        .env(
            "DOCKER_HOST",
            format!("unix://{}", tmp.path().join("no-docker.sock").display()),
        )
        .args([
            "-q",
            "--debug",
            "image",
            "alpine:3.20.3",
            "--podman-host",
            &host,
            "--format",
            "json",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("from podman"), "{log}");
    let report = json_of(&out.stdout);
    assert_eq!(report["ArtifactName"], "alpine:3.20.3");
    assert!(report["Metadata"]["RepoTags"][0]
        .as_str()
        .unwrap_or("")
        .ends_with("alpine:3.20.3"));
    assert_same(&comparable(report), &comparable(file_report()));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "customs left files in TMPDIR: {left:?}");

    // Only the registry: Podman is not asked, and the name is not there.
    let out = customs(cache.path())
        .args(["-q", "image", "podman://nothing:1", "--podman-host", &host])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nothing:1") && err.contains("podman: no such image"),
        "{err}"
    );
}

#[test]
fn trivy_habits_are_accepted() {
    let cache = tempfile::tempdir().unwrap();
    let out = customs(cache.path()).arg("-v").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Version: "));
    let out = customs(cache.path())
        .args(["--version", "--db"])
        .output()
        .unwrap();
    // `--db` belongs to `version`, not to `-v`: a usage error.
    assert_eq!(out.status.code(), Some(2));
    let db = vuln_db();
    let out = customs(cache.path())
        .args(["version", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Version: "));
    customs(cache.path())
        .args([
            "image",
            "--no-progress",
            "--timeout",
            "90s",
            "--vuln-type",
            "os",
            "--input",
            &shared(ALPINE),
            "--db",
        ])
        .arg(&db)
        .assert()
        .success();
    let out = customs(cache.path())
        .args(["image", "--timeout", "soon", "--input", &shared(ALPINE)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = customs(cache.path())
        .args(["image", "--image-src", "containerd", "app:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // A path that is not there is never looked up in a registry.
    let out = customs(cache.path())
        .args(["-q", "image", "./missing.tar"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
}

#[test]
fn docker_hub_names_go_through_a_registry_mirror() {
    // The mirror holds library/alpine, as a pull-through cache of Docker Hub does.
    let reg = Registry::plain();
    reg.push(
        &format!(
            "docker-archive:{}",
            common::repo().join(shared(ALPINE)).display()
        ),
        "library/alpine:3.20.3",
    );
    let cache = tempfile::tempdir().unwrap();
    let out = customs(cache.path())
        .args([
            "-q",
            "image",
            "alpine:3.20.3",
            "--image-src",
            "remote",
            "--insecure",
            "--scanners",
            "none",
            "--format",
            "json",
            "--registry-mirror",
        ])
        .arg(format!("http://{}", reg.host()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json_of(&out.stdout);
    assert_eq!(report["ArtifactName"], "alpine:3.20.3");
    assert_eq!(report["Metadata"]["RepoTags"][0], "alpine:3.20.3");
    assert_eq!(
        report["Metadata"]["ImageID"],
        file_report()["Metadata"]["ImageID"]
    );
    assert!(reg.manifest_gets("library/alpine") >= 1);
}

#[test]
fn credentials_come_from_a_docker_credential_helper() {
    use std::os::unix::fs::PermissionsExt;
    let reg = Registry::basic("helen", "from-the-helper");
    reg.push(
        &format!(
            "docker-archive:{}",
            common::repo().join(shared(ALPINE)).display()
        ),
        "team/alpine:1",
    );
    let home = tempfile::tempdir().unwrap();
    // A real helper program, speaking the docker-credential protocol: the
    // server on stdin, a JSON answer on stdout.
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-customstest");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n[ \"$server\" = \"{}\" ] || exit 1\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"helen\",\"Secret\":\"from-the-helper\"}}'\n",
            reg.host()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let docker = home.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        r#"{"credsStore":"customstest"}"#,
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let name = format!("{}/team/alpine:1", reg.host());
    let out = customs(home.path())
        .env("PATH", &path)
        .env("DOCKER_CONFIG", &docker)
        .env("HOME", home.path())
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .args([
            "-q",
            "image",
            &name,
            "--image-src",
            "remote",
            "--insecure",
            "--scanners",
            "none",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without the helper: refused, naming what was tried (never the secret).
    let out = customs(home.path())
        .env("DOCKER_CONFIG", home.path().join("none"))
        .env("HOME", home.path())
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .args([
            "-q",
            "image",
            &name,
            "--image-src",
            "remote",
            "--insecure",
            "--scanners",
            "none",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("anonymous") && !err.contains("from-the-helper"),
        "{err}"
    );
}
