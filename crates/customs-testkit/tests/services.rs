//! Smoke tests of the real test services: every registry variant
//! (docker-registry 2.8) and Podman's Docker-compatible API, started here on
//! loopback, fed the real alpine images from ../shared/data, and checked
//! with skopeo and raw HTTP. Each wait is bounded: a service that does not
//! answer fails the test with its log tail.

use customs_testkit::podman::Podman;
use customs_testkit::registry::{Anonymous, KeyId, Registry, TokenPolicy};
use std::path::{Path, PathBuf};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn alpine() -> PathBuf {
    Path::new(DATA).join("images/alpine-3.20.3.tar.gz")
}

fn alpine_old() -> PathBuf {
    Path::new(DATA).join("images/alpine-3.10.tar.gz")
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// `skopeo inspect` (manifest and config) with the registry's flags.
fn inspect(reg: &Registry, reference: &str, creds: bool) -> std::process::Output {
    let mut a = args(&["inspect"]);
    a.extend(reg.skopeo_flags("", creds));
    a.push(format!("docker://{}/{reference}", reg.host()));
    reg.skopeo(&a)
}

fn inspect_ok(reg: &Registry, reference: &str) -> serde_json::Value {
    let out = inspect(reg, reference, true);
    assert!(
        out.status.success(),
        "skopeo inspect {reference}: {}\n--- registry log ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        reg.log()
    );
    serde_json::from_slice(&out.stdout).expect("skopeo inspect: JSON")
}

/// Push alpine, read it back, and see the access-log counters move.
fn push_and_read_back(reg: &Registry, repo: &str) -> String {
    let digest = reg.push(
        &format!("docker-archive:{}", alpine().display()),
        &format!("{repo}:3.20.3"),
    );
    assert!(digest.starts_with("sha256:"), "{digest}");
    let (m0, b0) = (reg.manifest_gets(repo), reg.blob_gets(repo));
    let info = inspect_ok(reg, &format!("{repo}:3.20.3"));
    assert_eq!(info["Digest"], digest.as_str(), "{info}");
    assert_eq!(info["Architecture"], "amd64");
    assert_eq!(info["Layers"].as_array().map(Vec::len), Some(1), "{info}");
    assert!(reg.manifest_gets(repo) > m0, "no manifest GET logged");
    // skopeo inspect fetches the config blob
    assert!(reg.blob_gets(repo) > b0, "no blob GET logged");

    // a full pull fetches the layer blob too
    let b1 = reg.blob_gets(repo);
    let out = tempfile::tempdir().unwrap();
    let mut a = args(&["copy"]);
    a.extend(reg.skopeo_flags("src-", true));
    a.push(format!("docker://{}/{repo}:3.20.3", reg.host()));
    a.push(format!("dir:{}", out.path().display()));
    reg.skopeo_ok(&a);
    assert!(reg.blob_gets(repo) >= b1 + 2, "config and layer GETs");
    digest
}

#[test]
fn plain_registry_push_pull_and_multiarch() {
    let reg = Registry::plain();
    assert!(reg.url().starts_with("http://127.0.0.1:"));
    let digest = push_and_read_back(&reg, "library/alpine");
    assert!(reg.log().contains("\"GET /v2/ HTTP/1.1\" 200"));

    let index = reg.push_multiarch(
        "library/multi:1",
        &[
            ("linux", "amd64", &alpine()),
            ("linux", "arm64/v8", &alpine_old()),
        ],
    );
    let raw = reg.inspect_raw("library/multi:1");
    assert_eq!(customs_testkit::sha256(raw.as_bytes()), index);
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["mediaType"], "application/vnd.oci.image.index.v1+json");
    let ms = v["manifests"].as_array().unwrap();
    assert_eq!(ms.len(), 2, "{raw}");
    assert_eq!(ms[0]["platform"]["architecture"], "amd64");
    assert_eq!(ms[0]["platform"]["os"], "linux");
    assert_eq!(ms[1]["platform"]["architecture"], "arm64");
    assert_eq!(ms[1]["platform"]["variant"], "v8");
    // the amd64 instance is the very image pushed before
    assert_eq!(
        ms[0]["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let _ = digest;
    // each instance resolves by digest
    for m in ms {
        let d = m["digest"].as_str().unwrap();
        let one = reg.inspect_raw(&format!("library/multi@{d}"));
        assert_eq!(customs_testkit::sha256(one.as_bytes()), d);
    }
}

#[test]
fn plain_registry_corrupt_blob() {
    let reg = Registry::plain();
    reg.push(
        &format!("docker-archive:{}", alpine().display()),
        "tamper/alpine:1",
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&reg.inspect_raw("tamper/alpine:1")).unwrap();
    let layer = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let before = std::fs::read(reg.blob_path(&layer)).unwrap();
    reg.corrupt_blob(&layer);
    let after = std::fs::read(reg.blob_path(&layer)).unwrap();
    assert_eq!(before.len(), after.len());
    assert_ne!(before, after);
    assert_ne!(customs_testkit::sha256(&after), layer);

    let out = tempfile::tempdir().unwrap();
    let mut a = args(&["copy"]);
    a.extend(reg.skopeo_flags("src-", false));
    a.push(format!("docker://{}/tamper/alpine:1", reg.host()));
    a.push(format!("dir:{}", out.path().display()));
    let r = reg.skopeo(&a);
    assert!(!r.status.success(), "a corrupted blob was accepted");
    let err = String::from_utf8_lossy(&r.stderr).to_lowercase();
    assert!(
        err.contains("digest") || err.contains("gzip") || err.contains("flate"),
        "{err}"
    );
}

#[test]
fn basic_auth_registry() {
    let reg = Registry::basic("alice", "pa55word");
    push_and_read_back(&reg, "private/alpine");
    // without credentials: 401
    let out = inspect(&reg, "private/alpine:3.20.3", false);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        err.contains("unauthorized") || err.contains("authentication"),
        "{err}"
    );
    // wrong password: 401
    let mut a = args(&["inspect", "--tls-verify=false", "--creds=alice:wrong"]);
    a.push(format!("docker://{}/private/alpine:3.20.3", reg.host()));
    assert!(!reg.skopeo(&a).status.success());
    assert!(reg.log().contains("\"GET /v2/ HTTP/1.1\" 401"));
}

#[test]
fn tls_registry() {
    let reg = Registry::tls();
    assert!(reg.url().starts_with("https://127.0.0.1:"));
    let ca = std::fs::read_to_string(reg.ca_pem().unwrap()).unwrap();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(reg.cert_dir().unwrap().join("ca.crt").exists());
    push_and_read_back(&reg, "library/alpine");
    // without the CA the certificate is not trusted
    let mut a = args(&["inspect"]);
    a.push(format!("docker://{}/library/alpine:3.20.3", reg.host()));
    let out = reg.skopeo(&a);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("x509") || err.contains("certificate"), "{err}");
}

fn token_flow(key_id: KeyId) {
    let reg = Registry::token(
        TokenPolicy::user("bob", "t0ken-pw")
            .anonymous(Anonymous::Pull)
            .key_id(key_id),
    );
    assert!(reg.token_realm().unwrap().ends_with("/token"));
    push_and_read_back(&reg, "team/alpine");
    let reqs = reg.token_requests();
    assert!(
        reqs.iter().any(|r| r.status == 200
            && r.user.as_deref() == Some("bob")
            && r.scopes
                .iter()
                .any(|s| s == "repository:team/alpine:pull,push")),
        "{reqs:#?}"
    );
    assert!(reqs
        .iter()
        .all(|r| r.service.as_deref() == Some("customs-testkit-registry")));

    // anonymous: pull-only token, pull works, push does not
    let n = reg.token_requests().len();
    let info = inspect(&reg, "team/alpine:3.20.3", false);
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let anon: Vec<_> = reg.token_requests()[n..].to_vec();
    assert!(!anon.is_empty());
    assert!(
        anon.iter()
            .all(|r| !r.credentials_given && r.user.is_none()),
        "{anon:#?}"
    );
    assert!(
        anon.iter()
            .any(|r| r.granted == ["repository:team/alpine:pull"]),
        "{anon:#?}"
    );
    let mut a = args(&["copy", "--dest-tls-verify=false"]);
    a.push(format!("docker://{}/team/alpine:3.20.3", reg.host()));
    a.push(format!("docker://{}/team/other:1", reg.host()));
    a.insert(1, "--src-tls-verify=false".into());
    let out = reg.skopeo(&a);
    assert!(!out.status.success(), "anonymous push was accepted");

    // wrong password: the issuer refuses
    let mut a = args(&["inspect", "--tls-verify=false", "--creds=bob:nope"]);
    a.push(format!("docker://{}/team/alpine:3.20.3", reg.host()));
    assert!(!reg.skopeo(&a).status.success());
    assert!(reg
        .token_requests()
        .iter()
        .any(|r| r.status == 401 && r.user.as_deref() == Some("bob")));
}

#[test]
fn token_registry_x5c() {
    token_flow(KeyId::X5c);
}

#[test]
fn token_registry_kid() {
    token_flow(KeyId::Kid);
}

#[test]
fn token_registry_denies_anonymous() {
    let reg = Registry::token(TokenPolicy::user("carol", "pw"));
    reg.push(
        &format!("docker-archive:{}", alpine_old().display()),
        "secret/alpine:3.10",
    );
    let out = inspect(&reg, "secret/alpine:3.10", false);
    assert!(!out.status.success(), "anonymous pull was accepted");
    assert!(reg
        .token_requests()
        .iter()
        .any(|r| r.status == 401 && !r.credentials_given));
    assert_eq!(
        inspect_ok(&reg, "secret/alpine:3.10")["Architecture"],
        "amd64"
    );
}

#[test]
fn podman_engine_api() {
    let engine = Podman::start();
    assert!(engine.socket().exists());
    assert_eq!(engine.get("/_ping").body, b"OK");
    let names = engine.load(&alpine());
    assert_eq!(names, ["localhost/alpine:3.20.3"], "{names:?}");
    engine.tag("localhost/alpine:3.20.3", "example.test/scan/alpine:latest");

    let r = engine.get("/v1.41/images/json");
    assert_eq!(r.status, 200);
    let images = r.json();
    let tags: Vec<&str> = images
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["RepoTags"].as_array().unwrap().iter())
        .filter_map(|t| t.as_str())
        .collect();
    assert!(tags.contains(&"localhost/alpine:3.20.3"), "{tags:?}");
    assert!(
        tags.contains(&"example.test/scan/alpine:latest"),
        "{tags:?}"
    );

    let r = engine.get("/v1.41/images/example.test/scan/alpine:latest/get");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let mut ar = tar::Archive::new(&r.body[..]);
    let entries: Vec<String> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(entries.iter().any(|e| e == "manifest.json"), "{entries:?}");
    assert!(entries.iter().any(|e| e.ends_with(".tar")), "{entries:?}");

    // the short name resolves as Docker's would
    let r = engine.get("/v1.41/images/alpine:3.20.3/json");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let missing = engine.get("/v1.41/images/nope:1/json");
    assert_eq!(missing.status, 404);

    let dir = engine.dir().to_path_buf();
    drop(engine);
    assert!(!dir.exists(), "podman tempdir left behind");
}
