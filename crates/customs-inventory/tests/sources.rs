//! Images by name, from real services on 127.0.0.1: Debian's docker-registry
//! (plain, Basic, token auth; filled with skopeo) and Podman's
//! Docker-compatible API. The real alpine images from ../shared are pushed or
//! loaded, then opened by reference; each result must equal the result of
//! the same image read from its file.

use customs_image::registry::auth::{AuthFiles, CredKind, Credential};
use customs_image::{parse_target, Image, ImageError, ImageRef, ImageSrc, RemoteOptions, Target};
use customs_inventory::{analyze_image, open_and_analyze, EngineOptions, InventoryError, Options};
use customs_testkit::podman::Podman;
use customs_testkit::registry::{Anonymous, Registry, TokenPolicy};
use std::path::{Path, PathBuf};

fn shared(p: &str) -> String {
    format!("{}/../../../shared/data/{p}", env!("CARGO_MANIFEST_DIR"))
}

const ALPINE: &str = "images/alpine-3.20.3.tar.gz";
const ALPINE_OLD: &str = "images/alpine-3.10.tar.gz";

fn opts(cache: Option<&Path>) -> Options {
    Options {
        os: true,
        lang: true,
        cache_dir: cache.map(Path::to_path_buf),
        ..Default::default()
    }
}

/// Options that read no credentials from this machine's files.
fn remote() -> RemoteOptions {
    RemoteOptions {
        insecure: true,
        auth_files: AuthFiles::default(),
        retries: 1,
        backoff: std::time::Duration::from_millis(50),
        ..RemoteOptions::default()
    }
}

fn named(r: &str, src: ImageSrc) -> Target {
    match parse_target(r, &[src]) {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

fn must<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// What a scan found, in a comparable form.
fn summary(inv: &customs_inventory::Inventory) -> Vec<String> {
    let mut v: Vec<String> = inv
        .os_packages
        .iter()
        .map(|p| format!("{} {} {}", p.name, p.version, p.layer.diff_id))
        .collect();
    v.push(format!("{:?}", inv.os));
    v
}

fn from_file(p: &str) -> (Image, Vec<String>) {
    let img = must(Image::open(&shared(p)));
    let inv = must(analyze_image(&img, &opts(None)));
    (img, summary(&inv))
}

#[test]
fn a_plain_registry_image_equals_its_file_and_a_warm_rescan_downloads_no_blob() {
    let reg = Registry::plain();
    reg.push(
        &format!("docker-archive:{}", shared(ALPINE)),
        "library/alpine:3.20.3",
    );
    let (file_img, file_sum) = from_file(ALPINE);
    let cache = tempfile::tempdir().unwrap();
    let r = format!("{}/library/alpine:3.20.3", reg.host());
    let cold = must(open_and_analyze(
        &named(&r, ImageSrc::Remote),
        &remote(),
        &EngineOptions::default(),
        &opts(Some(cache.path())),
    ));
    assert_eq!(cold.source, "remote");
    assert_eq!(cold.image.id, file_img.id);
    let diffs = |i: &Image| {
        i.layers
            .iter()
            .map(|l| l.diff_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(diffs(&cold.image), diffs(&file_img));
    assert_eq!(summary(&cold.inventory), file_sum);
    assert!(!file_sum.is_empty());
    assert_eq!(
        cold.image.repo_tags,
        vec![format!("{}/library/alpine:3.20.3", reg.host())]
    );
    assert!(
        cold.image.repo_digests[0].starts_with(&format!("{}/library/alpine@sha256:", reg.host()))
    );
    let blobs = reg.blob_gets("library/alpine");
    // The config and the one layer.
    assert_eq!(blobs, 2, "{}", reg.access_log().join("\n"));

    let warm = must(open_and_analyze(
        &named(&r, ImageSrc::Remote),
        &remote(),
        &EngineOptions::default(),
        &opts(Some(cache.path())),
    ));
    assert_eq!(warm.inventory.stats.from_cache, 1);
    assert_eq!(summary(&warm.inventory), file_sum);
    // Only the config blob again, never the layer.
    assert_eq!(reg.blob_gets("library/alpine"), blobs + 1);
    let (bytes, layer_blobs) = warm.image.transfer_stats().unwrap();
    assert_eq!(layer_blobs, 0);
    assert!(bytes < 50_000, "a warm rescan received {bytes} bytes");
}

#[test]
fn a_tampered_blob_is_an_error_never_a_report() {
    let reg = Registry::plain();
    reg.push(&format!("docker-archive:{}", shared(ALPINE)), "alpine:1");
    let r = ImageRef::parse(&format!("{}/alpine:1", reg.host())).unwrap();
    let img = must(Image::open_remote(&r, &remote()));
    reg.corrupt_blob(&img.layers[0].digest);
    let err = analyze_image(&img, &opts(None)).expect_err("a corrupt blob must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("does not match its digest") || msg.contains("layer"),
        "{msg}"
    );
    assert!(msg.starts_with(&r.typed), "{msg}");
}

#[test]
fn basic_auth_uses_the_credential_and_names_it_when_refused() {
    let reg = Registry::basic("alice", "wonder");
    reg.push(
        &format!("docker-archive:{}", shared(ALPINE)),
        "team/alpine:1",
    );
    let r = ImageRef::parse(&format!("{}/team/alpine:1", reg.host())).unwrap();
    let anon = Image::open_remote(&r, &remote()).expect_err("anonymous must be refused");
    let msg = anon.to_string();
    assert!(
        msg.contains("user name and password") && msg.contains("anonymous"),
        "{msg}"
    );
    let mut o = remote();
    o.credential = Some(Credential::basic(
        "alice",
        "wonder",
        "--username/--password",
    ));
    let img = must(Image::open_remote(&r, &o));
    assert_eq!(img.layers.len(), 1);
    o.credential = Some(Credential::basic("alice", "wrong", "CUSTOMS_PASSWORD"));
    let msg = Image::open_remote(&r, &o)
        .expect_err("a wrong password")
        .to_string();
    assert!(
        msg.contains("401") && msg.contains("CUSTOMS_PASSWORD"),
        "{msg}"
    );
    assert!(!msg.contains("wrong"), "the secret leaked: {msg}");
}

#[test]
fn credentials_come_from_a_podman_auth_file() {
    let reg = Registry::basic("carol", "pw1");
    reg.push(&format!("docker-archive:{}", shared(ALPINE)), "alpine:1");
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.json");
    // base64("carol:pw1")
    std::fs::write(
        &auth,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"Y2Fyb2w6cHcx"}}}}}}"#,
            reg.host()
        ),
    )
    .unwrap();
    let mut o = remote();
    o.auth_files = AuthFiles {
        podman: vec![auth],
        docker: None,
    };
    let r = ImageRef::parse(&format!("{}/alpine:1", reg.host())).unwrap();
    must(Image::open_remote(&r, &o));
}

#[test]
fn token_auth_follows_the_challenge() {
    let reg = Registry::token(TokenPolicy::user("bob", "builder"));
    reg.push(&format!("docker-archive:{}", shared(ALPINE)), "org/app:2");
    let r = ImageRef::parse(&format!("{}/org/app:2", reg.host())).unwrap();
    let mut o = remote();
    o.credential = Some(Credential::basic("bob", "builder", "--username/--password"));
    let cache = tempfile::tempdir().unwrap();
    let opened = must(open_and_analyze(
        &Target::Named(r.clone(), vec![ImageSrc::Remote]),
        &o,
        &EngineOptions::default(),
        &opts(Some(cache.path())),
    ));
    assert_eq!(summary(&opened.inventory), from_file(ALPINE).1);
    let reqs = reg.token_requests();
    assert!(
        reqs.iter().any(|q| q.user.as_deref() == Some("bob")
            && q.scopes.iter().any(|s| s == "repository:org/app:pull")
            && q.status == 200),
        "{reqs:?}"
    );
    // Anonymous, on a registry that gives anonymous nothing: the token
    // service's refusal, naming that no credentials were sent.
    o.credential = None;
    let msg = Image::open_remote(&r, &o)
        .expect_err("anonymous")
        .to_string();
    assert!(msg.contains("anonymous"), "{msg}");
    // A registry token is sent as it is.
    o.credential = Some(Credential {
        kind: CredKind::Bearer("not-a-token".into()),
        source: "--registry-token".into(),
    });
    let msg = Image::open_remote(&r, &o)
        .expect_err("a bad token")
        .to_string();
    assert!(
        msg.contains("401") && msg.contains("--registry-token"),
        "{msg}"
    );
}

#[test]
fn anonymous_pull_tokens_work() {
    let reg = Registry::token(TokenPolicy::user("bob", "builder").anonymous(Anonymous::Pull));
    reg.push(
        &format!("docker-archive:{}", shared(ALPINE)),
        "pub/alpine:1",
    );
    let r = ImageRef::parse(&format!("{}/pub/alpine:1", reg.host())).unwrap();
    let img = must(Image::open_remote(&r, &remote()));
    assert_eq!(img.id, from_file(ALPINE).0.id);
}

#[test]
fn an_index_resolves_to_the_asked_platform() {
    let reg = Registry::plain();
    let new = PathBuf::from(shared(ALPINE));
    let old = PathBuf::from(shared(ALPINE_OLD));
    reg.push_multiarch(
        "multi:1",
        &[("linux", "amd64", &new), ("linux", "arm64/v8", &old)],
    );
    let r = ImageRef::parse(&format!("{}/multi:1", reg.host())).unwrap();
    let mut o = remote();
    o.platform = Some("linux/arm64".into());
    // The same layers (skopeo may rewrite a config when it converts to OCI).
    let diffs = |i: &Image| {
        i.layers
            .iter()
            .map(|l| l.diff_id.clone())
            .collect::<Vec<_>>()
    };
    let arm = must(Image::open_remote(&r, &o));
    assert_eq!(diffs(&arm), diffs(&from_file(ALPINE_OLD).0));
    o.platform = Some("linux/amd64".into());
    let amd = must(Image::open_remote(&r, &o));
    assert_eq!(diffs(&amd), diffs(&from_file(ALPINE).0));
    // RepoDigests name the index the tag points to.
    assert_eq!(amd.repo_digests, arm.repo_digests);
    o.platform = Some("linux/s390x".into());
    let msg = Image::open_remote(&r, &o)
        .expect_err("no such platform")
        .to_string();
    assert!(
        msg.contains("linux/s390x")
            && msg.contains("linux/amd64")
            && msg.contains("linux/arm64/v8"),
        "{msg}"
    );
    // By digest: the same image, no tag in RepoTags.
    let digest = amd.repo_digests[0].rsplit_once('@').unwrap().1.to_string();
    let by_digest = ImageRef::parse(&format!("{}/multi@{digest}", reg.host())).unwrap();
    o.platform = None;
    let d = must(Image::open_remote(&by_digest, &o));
    assert_eq!(d.id, amd.id);
    assert!(d.repo_tags.is_empty());
}

#[test]
fn unknown_images_and_unreachable_registries_say_so() {
    let reg = Registry::plain();
    reg.push(&format!("docker-archive:{}", shared(ALPINE)), "alpine:1");
    let missing = ImageRef::parse(&format!("{}/alpine:nope", reg.host())).unwrap();
    let msg = Image::open_remote(&missing, &remote())
        .expect_err("missing tag")
        .to_string();
    assert!(
        msg.contains("has no manifest") && msg.contains("MANIFEST_UNKNOWN"),
        "{msg}"
    );
    let unknown = ImageRef::parse(&format!("{}/nothing/here:1", reg.host())).unwrap();
    assert!(Image::open_remote(&unknown, &remote()).is_err());
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = ImageRef::parse(&format!("127.0.0.1:{port}/alpine:1")).unwrap();
    let t = std::time::Instant::now();
    let msg = Image::open_remote(&down, &remote())
        .expect_err("down")
        .to_string();
    assert!(msg.contains("not reachable"), "{msg}");
    assert!(t.elapsed().as_secs() < 20);
    // Without --insecure, plain HTTP is never tried.
    let strict = RemoteOptions {
        insecure: false,
        ..remote()
    };
    let r = ImageRef::parse(&format!("{}/alpine:1", reg.host())).unwrap();
    let msg = Image::open_remote(&r, &strict)
        .expect_err("https only")
        .to_string();
    assert!(msg.contains("--insecure"), "{msg}");
}

#[test]
fn podman_images_are_read_from_the_export_stream() {
    let podman = Podman::start();
    let names = podman.load(Path::new(&shared(ALPINE)));
    assert!(!names.is_empty());
    let (file_img, file_sum) = from_file(ALPINE);
    let engines = EngineOptions {
        docker_host: None,
        podman_host: Some(format!("unix://{}", podman.socket().display())),
    };
    let cache = tempfile::tempdir().unwrap();
    let t = named("alpine:3.20.3", ImageSrc::Podman);
    let cold = must(open_and_analyze(
        &t,
        &remote(),
        &engines,
        &opts(Some(cache.path())),
    ));
    assert_eq!(cold.source, "podman");
    assert_eq!(cold.image.id, file_img.id);
    assert_eq!(summary(&cold.inventory), file_sum);
    assert!(
        cold.image
            .repo_tags
            .iter()
            .any(|t| t.ends_with("alpine:3.20.3")),
        "{:?}",
        cold.image.repo_tags
    );
    assert_eq!(cold.inventory.stats.analyzed, 1);
    let warm = must(open_and_analyze(
        &t,
        &remote(),
        &engines,
        &opts(Some(cache.path())),
    ));
    assert_eq!(warm.inventory.stats.from_cache, 1);
    assert_eq!(summary(&warm.inventory), file_sum);

    // The default order: docker (no socket here, or not this image), then podman.
    let all = named("alpine:3.20.3", ImageSrc::Docker);
    let Target::Named(r, _) = all else {
        unreachable!()
    };
    let both = Target::Named(r.clone(), vec![ImageSrc::Docker, ImageSrc::Podman]);
    let engines_missing_docker = EngineOptions {
        docker_host: Some(format!(
            "unix://{}",
            podman.dir().join("no-docker.sock").display()
        )),
        ..engines.clone()
    };
    let o = must(open_and_analyze(
        &both,
        &remote(),
        &engines_missing_docker,
        &opts(None),
    ));
    assert_eq!(o.source, "podman");

    // An image the engine does not have, and no other source: one error
    // naming each source tried.
    let none = named("nothing-here:1", ImageSrc::Podman);
    match open_and_analyze(&none, &remote(), &engines, &opts(None)) {
        Err(InventoryError::Image(ImageError::Registry { message, .. })) => {
            assert!(message.contains("podman: no such image"), "{message}")
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("found an image that is not there"),
    }
}

/// A front for the real registry that answers the first `busy` connections
/// with `status` (and `Retry-After: 1`), then passes bytes through.
fn flaky_front(registry_port: u16, busy: usize, status: &'static str) -> u16 {
    use std::io::{Read as _, Write as _};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, conn) in l.incoming().enumerate() {
            let Ok(mut c) = conn else { return };
            if n < busy {
                let mut buf = [0u8; 4096];
                let _ = c.read(&mut buf);
                let _ = write!(
                    c,
                    "HTTP/1.1 {status}\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                continue;
            }
            let Ok(up) = std::net::TcpStream::connect(("127.0.0.1", registry_port)) else {
                return;
            };
            let (mut c2, mut up2) = (c.try_clone().unwrap(), up.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut up2);
                let _ = up2.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let (mut c, mut up) = (c, up);
                let _ = std::io::copy(&mut up, &mut c);
                let _ = c.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

#[test]
fn a_busy_registry_is_retried_after_the_time_it_asks() {
    let reg = Registry::plain();
    reg.push(&format!("docker-archive:{}", shared(ALPINE)), "alpine:1");
    for status in ["503 Service Unavailable", "429 Too Many Requests"] {
        // One connection goes to the HTTPS probe, two answer busy.
        let port = flaky_front(reg.port(), 3, status);
        let r = ImageRef::parse(&format!("127.0.0.1:{port}/alpine:1")).unwrap();
        let mut o = remote();
        o.retries = 3;
        let t = std::time::Instant::now();
        let img = must(Image::open_remote(&r, &o));
        assert_eq!(img.layers.len(), 1);
        assert!(
            t.elapsed() >= std::time::Duration::from_secs(2),
            "{status}: Retry-After ignored"
        );
        // Too busy for the retries: the error says what the registry answered.
        let port = flaky_front(reg.port(), 100, status);
        let r = ImageRef::parse(&format!("127.0.0.1:{port}/alpine:1")).unwrap();
        o.retries = 1;
        let msg = Image::open_remote(&r, &o)
            .expect_err("always busy")
            .to_string();
        assert!(msg.contains(&status[..3]), "{msg}");
    }
}

/// The alpine archive, uncompressed (skopeo 1.9 reads no gzip archive).
fn plain_alpine(dir: &Path) -> PathBuf {
    let p = dir.join("alpine.tar");
    let mut d = flate2::read::GzDecoder::new(std::fs::File::open(shared(ALPINE)).unwrap());
    let mut out = std::fs::File::create(&p).unwrap();
    std::io::copy(&mut d, &mut out).unwrap();
    p
}

#[test]
fn zstd_and_uncompressed_layers_read_as_gzip_ones() {
    let reg = Registry::plain();
    let dir = tempfile::tempdir().unwrap();
    let src = format!("docker-archive:{}", plain_alpine(dir.path()).display());
    let want = from_file(ALPINE).1;
    for (tag, flags) in [
        (
            "zstd",
            vec!["--dest-compress", "--dest-compress-format", "zstd"],
        ),
        ("plain", vec!["--dest-decompress"]),
    ] {
        let mut args: Vec<String> = vec!["copy".into(), "-q".into()];
        args.extend(reg.skopeo_flags("dest-", false));
        args.extend(flags.iter().map(|s| s.to_string()));
        args.push(src.clone());
        args.push(format!("docker://{}/alpine:{tag}", reg.host()));
        reg.skopeo_ok(&args);
        let r = ImageRef::parse(&format!("{}/alpine:{tag}", reg.host())).unwrap();
        let opened = must(open_and_analyze(
            &Target::Named(r, vec![ImageSrc::Remote]),
            &remote(),
            &EngineOptions::default(),
            &opts(None),
        ));
        assert_eq!(summary(&opened.inventory), want, "{tag}");
    }
}

#[test]
fn a_truncated_blob_and_an_oversized_config_are_refused() {
    let reg = Registry::plain();
    reg.push(&format!("docker-archive:{}", shared(ALPINE)), "alpine:1");
    let r = ImageRef::parse(&format!("{}/alpine:1", reg.host())).unwrap();
    let img = must(Image::open_remote(&r, &remote()));
    let blob = reg.blob_path(&img.layers[0].digest);
    let data = std::fs::read(&blob).unwrap();
    std::fs::write(&blob, &data[..data.len() / 3]).unwrap();
    let msg = analyze_image(&img, &opts(None))
        .expect_err("truncated")
        .to_string();
    assert!(msg.starts_with(&r.typed), "{msg}");

    // A config over 16 MiB (a label of 17 MiB). skopeo refuses to push one
    // (its own limit is 4 MiB), so it goes up through the distribution API.
    let layer = customs_testkit::layer(&[("etc/x", b"x")]);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {"x": "y".repeat(17 << 20)}},
        "rootfs": {"type": "layers", "diff_ids": [customs_testkit::sha256(&layer)]},
    }))
    .unwrap();
    let (ld, cd) = (
        customs_testkit::sha256(&layer),
        customs_testkit::sha256(&config),
    );
    put_blob(&reg.host(), "big", &ld, &layer);
    put_blob(&reg.host(), "big", &cd, &config);
    let oci = "application/vnd.oci.image.manifest.v1+json";
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": oci,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": layer.len()}],
    }))
    .unwrap();
    upload(&reg.host(), "/v2/big/manifests/1", "PUT", oci, &manifest);
    let r = ImageRef::parse(&format!("{}/big:1", reg.host())).unwrap();
    let msg = Image::open_remote(&r, &remote())
        .expect_err("oversized")
        .to_string();
    assert!(msg.contains("16 MiB") || msg.contains("refused"), "{msg}");
}

/// One request to the registry's API (HTTP/1.1 over a plain socket, test
/// code): the status line and the headers, after checking the status.
fn request(
    host: &str,
    path: &str,
    method: &str,
    content_type: &str,
    body: &[u8],
    want: &str,
) -> String {
    use std::io::{Read as _, Write as _};
    let mut c = std::net::TcpStream::connect(host).unwrap();
    write!(
        c,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    c.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = c.read_to_string(&mut answer);
    let status = answer.lines().next().unwrap_or("");
    assert!(
        status.starts_with(&format!("HTTP/1.1 {want}")),
        "{method} {path}: {status}"
    );
    answer
}

fn upload(host: &str, path: &str, method: &str, content_type: &str, body: &[u8]) {
    request(host, path, method, content_type, body, "201");
}

/// A blob upload as the distribution API has it: POST a session, PUT the bytes.
fn put_blob(host: &str, repo: &str, digest: &str, body: &[u8]) {
    let head = request(
        host,
        &format!("/v2/{repo}/blobs/uploads/"),
        "POST",
        "application/octet-stream",
        b"",
        "202",
    );
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .unwrap_or_else(|| panic!("no Location in {head}"))
        .trim()
        .to_string();
    let path = location
        .split_once(host)
        .map(|(_, p)| p.to_string())
        .unwrap_or(location);
    let sep = if path.contains('?') { '&' } else { '?' };
    upload(
        host,
        &format!("{path}{sep}digest={digest}"),
        "PUT",
        "application/octet-stream",
        body,
    );
}
