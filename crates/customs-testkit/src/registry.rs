//! A real OCI distribution registry for tests: Debian's `docker-registry`
//! (CNCF distribution 2.8) started on a free loopback port with its storage,
//! config and log in a temporary directory, and killed by its PID on drop.
//!
//! Variants: plain HTTP, htpasswd Basic auth, TLS with a test CA, and the
//! bearer-token flow of Docker Hub with a token issuer that this module runs
//! itself on another loopback port. Images are pushed with `skopeo`, and the
//! registry's access log tells a test which manifests and blobs were fetched.
//!
//! ```no_run
//! use customs_testkit::registry::{Registry, TokenPolicy};
//! let reg = Registry::token(TokenPolicy::user("alice", "s3cret"));
//! reg.push("docker-archive:/work/shared/data/images/alpine-3.20.3.tar.gz", "library/alpine:3.20.3");
//! let before = reg.blob_gets("library/alpine");
//! // ... run the client under test against reg.host() ...
//! assert_eq!(reg.blob_gets("library/alpine"), before, "warm rescan fetched a blob");
//! assert!(reg.token_requests().iter().any(|r| r.user.as_deref() == Some("alice")));
//! ```

use crate::loopback::LoopbackServer;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a service may take to start answering.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one `skopeo` or `podman` command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

const REGISTRY_BIN: &str = "/usr/bin/docker-registry";
const SKOPEO_BIN: &str = "/usr/bin/skopeo";

/// How clients authenticate to the registry.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    /// Anyone may pull and push.
    #[default]
    None,
    /// htpasswd Basic auth with one bcrypt user.
    Basic { user: String, password: String },
    /// Bearer tokens from the testkit's token issuer (the Docker Hub flow).
    Token(TokenPolicy),
}

/// What an anonymous (credential-less) token request gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Anonymous {
    /// 401 from the issuer: no token at all.
    #[default]
    Deny,
    /// A token granting `pull` only (Docker Hub's behaviour for public repos).
    Pull,
}

/// How the issued JWT names its signing key to the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KeyId {
    /// `x5c`: the signing certificate (base64 DER) in the JWT header,
    /// verified by the registry against its `rootcertbundle`.
    #[default]
    X5c,
    /// `kid`: the libtrust key ID of the signing public key, which the
    /// registry computes for every certificate in its `rootcertbundle`.
    Kid,
}

/// The token issuer's rules.
#[derive(Clone, Debug)]
pub struct TokenPolicy {
    /// Users whose Basic credentials are accepted; each gets every action it
    /// asks for.
    pub users: Vec<(String, String)>,
    /// What requests without credentials get.
    pub anonymous: Anonymous,
    /// How the JWT identifies its key.
    pub key_id: KeyId,
    /// The registry's `service` (the token's audience).
    pub service: String,
    /// The token's issuer (`iss`).
    pub issuer: String,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        TokenPolicy {
            users: Vec::new(),
            anonymous: Anonymous::Deny,
            key_id: KeyId::X5c,
            service: "customs-testkit-registry".into(),
            issuer: "customs-testkit-issuer".into(),
        }
    }
}

impl TokenPolicy {
    /// One user with full access; anonymous requests denied; `x5c` keys.
    pub fn user(user: &str, password: &str) -> Self {
        TokenPolicy {
            users: vec![(user.into(), password.into())],
            ..Default::default()
        }
    }

    pub fn anonymous(mut self, anonymous: Anonymous) -> Self {
        self.anonymous = anonymous;
        self
    }

    pub fn key_id(mut self, key_id: KeyId) -> Self {
        self.key_id = key_id;
        self
    }
}

/// A registry to start.
#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    pub auth: Auth,
    /// Serve HTTPS with a certificate for 127.0.0.1/localhost from a test CA.
    pub tls: bool,
}

/// One request the token issuer answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// `GET` or `POST` (the OAuth2 password grant).
    pub method: String,
    pub service: Option<String>,
    /// Each `scope` asked for, as given (`repository:NAME:pull,push`).
    pub scopes: Vec<String>,
    /// Whether the request carried credentials (Basic or form).
    pub credentials_given: bool,
    /// The user named by the credentials, right or wrong.
    pub user: Option<String>,
    /// The HTTP status answered (200, or 401 for bad or missing credentials).
    pub status: u16,
    /// What was granted, as `repository:NAME:actions` (empty actions kept).
    pub granted: Vec<String>,
}

struct Tls {
    ca_pem: PathBuf,
    cert_dir: PathBuf,
    client: Arc<rustls::ClientConfig>,
}

/// A running `docker-registry`; killed by its PID when dropped.
pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    log_path: PathBuf,
    tls: Option<Tls>,
    creds: Option<(String, String)>,
    issuer: Option<TokenIssuer>,
    archives: Mutex<HashMap<PathBuf, PathBuf>>,
    scratch: AtomicU64,
}

impl Registry {
    /// Plain HTTP, no auth.
    pub fn plain() -> Registry {
        Registry::start(RegistryOptions::default())
    }

    /// Plain HTTP with htpasswd Basic auth for one user.
    pub fn basic(user: &str, password: &str) -> Registry {
        Registry::start(RegistryOptions {
            auth: Auth::Basic {
                user: user.into(),
                password: password.into(),
            },
            tls: false,
        })
    }

    /// HTTPS with a test CA ([`Registry::ca_pem`]), no auth.
    pub fn tls() -> Registry {
        Registry::start(RegistryOptions {
            auth: Auth::None,
            tls: true,
        })
    }

    /// Plain HTTP with bearer-token auth from the testkit's token issuer.
    pub fn token(policy: TokenPolicy) -> Registry {
        Registry::start(RegistryOptions {
            auth: Auth::Token(policy),
            tls: false,
        })
    }

    /// Any combination of auth and TLS.
    pub fn start(opts: RegistryOptions) -> Registry {
        require(REGISTRY_BIN, "docker-registry");
        require(SKOPEO_BIN, "skopeo");
        let dir = tempfile::Builder::new()
            .prefix("customs-registry-")
            .tempdir()
            .unwrap_or_else(|e| panic!("registry: tempdir: {e}"));
        let root = dir.path().to_path_buf();
        must_mkdir(&root.join("storage"));
        must_mkdir(&root.join("tmp"));

        let tls = opts.tls.then(|| make_tls(&root));

        let mut creds = None;
        let mut issuer = None;
        let mut auth_yaml = String::new();
        match &opts.auth {
            Auth::None => {}
            Auth::Basic { user, password } => {
                let hash =
                    bcrypt::hash(password, 5).unwrap_or_else(|e| panic!("registry: bcrypt: {e}"));
                let path = root.join("htpasswd");
                crate::write(&path, format!("{user}:{hash}\n").as_bytes());
                auth_yaml = format!(
                    "auth:\n  htpasswd:\n    realm: customs-testkit\n    path: {}\n",
                    path.display()
                );
                creds = Some((user.clone(), password.clone()));
            }
            Auth::Token(policy) => {
                let iss = TokenIssuer::start(policy.clone(), &root);
                auth_yaml = format!(
                    "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                    iss.realm(),
                    policy.service,
                    policy.issuer,
                    iss.bundle.display()
                );
                creds = policy.users.first().cloned();
                issuer = Some(iss);
            }
        }

        let log_path = root.join("registry.log");
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let config = format!(
                "version: 0.1\n\
                 log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n\
                 storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n  \
                 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: customs-testkit-secret\n{tls}\
                 {auth}",
                storage = root.join("storage").display(),
                tls = if opts.tls {
                    format!(
                        "  tls:\n    certificate: {}\n    key: {}\n",
                        root.join("server.crt").display(),
                        root.join("server.key").display()
                    )
                } else {
                    String::new()
                },
                auth = auth_yaml,
            );
            let config_path = root.join("config.yml");
            crate::write(&config_path, config.as_bytes());
            let log = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
                .unwrap_or_else(|e| panic!("registry: log file: {e}"));
            let log2 = log.try_clone().expect("registry: log file clone");
            let mut child = Command::new(REGISTRY_BIN)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log2)
                .spawn()
                .unwrap_or_else(|e| panic!("registry: cannot start {REGISTRY_BIN}: {e}"));
            let started = Instant::now();
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last_log = fs::read_to_string(&log_path).unwrap_or_default();
                    if last_log.contains("address already in use") {
                        break; // a port collision: try another port
                    }
                    panic!(
                        "registry exited ({status}) before answering on 127.0.0.1:{port}\n{}",
                        tail(&last_log)
                    );
                }
                if let Some(code) = v2_status(port, tls.as_ref().map(|t| &t.client)) {
                    if code == 200 || code == 401 {
                        let expect_401 = !matches!(opts.auth, Auth::None);
                        assert_eq!(
                            code == 401,
                            expect_401,
                            "registry on 127.0.0.1:{port} answered GET /v2/ with {code}"
                        );
                        return Registry {
                            child,
                            port,
                            dir,
                            log_path,
                            tls,
                            creds,
                            issuer,
                            archives: Mutex::new(HashMap::new()),
                            scratch: AtomicU64::new(0),
                        };
                    }
                }
                if started.elapsed() > START_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "registry on 127.0.0.1:{port} did not answer GET /v2/ within {:?}\n{}",
                        START_TIMEOUT,
                        tail(&fs::read_to_string(&log_path).unwrap_or_default())
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("registry: no free port after 5 tries\n{}", tail(&last_log));
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` or `https://…`
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    /// The registry process's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The test CA's PEM (TLS variant): hand it to a client as `SSL_CERT_FILE`.
    pub fn ca_pem(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca_pem.as_path())
    }

    /// A directory holding the CA as `ca.crt`, for skopeo/podman `--cert-dir`.
    pub fn cert_dir(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.cert_dir.as_path())
    }

    /// The credentials that push with (Basic user, or the token policy's first user).
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.creds.as_ref().map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The token issuer's realm (`http://127.0.0.1:PORT/token`), token variant only.
    pub fn token_realm(&self) -> Option<String> {
        self.issuer.as_ref().map(|i| i.realm())
    }

    /// Every request the token issuer answered, in order.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.issuer
            .as_ref()
            .map(|i| i.state.requests.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// The registry's temporary directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The filesystem storage root (holds `docker/registry/v2/...`).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Everything the registry wrote to stdout/stderr (access log included).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The access-log lines (`127.0.0.1 - - [..] "GET /v2/... HTTP/1.1" 200 ...`).
    pub fn access_log(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| !l.starts_with("time=") && l.contains("\" ") && l.contains(" /v2/"))
            .map(String::from)
            .collect()
    }

    /// Access-log lines of `METHOD PATH_PREFIX…` requests.
    pub fn count_requests(&self, method: &str, path_prefix: &str) -> usize {
        let needle = format!("\"{method} {path_prefix}");
        self.log().lines().filter(|l| l.contains(&needle)).count()
    }

    /// GET requests to `/v2/REPO/blobs/` so far (any status).
    pub fn blob_gets(&self, repo: &str) -> usize {
        self.count_requests("GET", &format!("/v2/{repo}/blobs/"))
    }

    /// GET requests to `/v2/REPO/manifests/` so far (any status).
    pub fn manifest_gets(&self, repo: &str) -> usize {
        self.count_requests("GET", &format!("/v2/{repo}/manifests/"))
    }

    /// Where the registry stores the blob `sha256:HEX`.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        assert!(
            hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "not a sha256 digest: {digest}"
        );
        self.storage_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Overwrite bytes in the middle of a stored blob (its size unchanged),
    /// so the registry serves content that no longer matches its digest.
    pub fn corrupt_blob(&self, digest: &str) {
        let path = self.blob_path(digest);
        let mut data = fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "registry: no stored blob {digest} at {}: {e}",
                path.display()
            )
        });
        assert!(!data.is_empty(), "registry: blob {digest} is empty");
        let start = data.len() / 2;
        let end = (start + 32).min(data.len());
        for b in &mut data[start..end] {
            *b ^= 0xff;
        }
        crate::write(&path, &data);
    }

    /// Flags for skopeo talking to this registry: `prefix` is `""` (inspect,
    /// delete), `"src-"` or `"dest-"`; credentials added when `creds`.
    pub fn skopeo_flags(&self, prefix: &str, creds: bool) -> Vec<String> {
        let mut f = Vec::new();
        match &self.tls {
            Some(t) => f.push(format!("--{prefix}cert-dir={}", t.cert_dir.display())),
            None => f.push(format!("--{prefix}tls-verify=false")),
        }
        if creds {
            if let Some((u, p)) = &self.creds {
                f.push(format!("--{prefix}creds={u}:{p}"));
            }
        }
        f
    }

    /// Run skopeo (bounded in time), isolated from any auth file of the host.
    pub fn skopeo(&self, args: &[String]) -> Output {
        let mut cmd = Command::new(SKOPEO_BIN);
        cmd.arg("--insecure-policy")
            .args(args)
            .env("TMPDIR", self.dir.path().join("tmp"))
            .env("REGISTRY_AUTH_FILE", self.dir.path().join("no-auth.json"));
        run_bounded(&mut cmd, COMMAND_TIMEOUT, "skopeo", &|| tail(&self.log()))
    }

    /// Run skopeo and panic (with its stderr and the registry's log tail)
    /// unless it succeeds; its stdout.
    pub fn skopeo_ok(&self, args: &[String]) -> String {
        let out = self.skopeo(args);
        if !out.status.success() {
            panic!(
                "skopeo {} failed ({}):\n{}\n--- registry log tail ---\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr),
                tail(&self.log())
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `skopeo copy SRC docker://HOST/DEST` with this registry's TLS and
    /// credential flags. `src` is a skopeo transport string
    /// (`docker-archive:/x.tar`, `oci:/dir:tag`, …); a gzip-compressed
    /// docker-archive is decompressed first (skopeo 1.9 cannot read one).
    /// Returns the pushed manifest's digest.
    pub fn push(&self, src: &str, dest_repo_tag: &str) -> String {
        let src = match src.strip_prefix("docker-archive:") {
            Some(rest) => {
                // docker-archive:PATH[:ref]
                let (path, suffix) = split_archive_ref(rest);
                let plain = self.plain_archive(Path::new(path));
                format!("docker-archive:{}{suffix}", plain.display())
            }
            None => src.to_string(),
        };
        let digest_file = self.scratch_path("digest");
        let mut args = vec!["copy".to_string(), "--retry-times=2".into()];
        args.extend(self.skopeo_flags("dest-", true));
        args.push(format!("--digestfile={}", digest_file.display()));
        args.push(src);
        args.push(format!("docker://{}/{dest_repo_tag}", self.host()));
        self.skopeo_ok(&args);
        read_digest(&digest_file)
    }

    /// Push a real multi-platform OCI image index to `dest` (`repo:tag`):
    /// each `(os, arch, docker_archive)` is copied into one OCI layout, an
    /// index naming each manifest's platform is written (`arch` may carry a
    /// variant: `arm/v7`), and `skopeo copy --all` pushes it. The platform is
    /// the index's claim only: each image's config keeps its own
    /// architecture. Returns the pushed index's digest.
    pub fn push_multiarch(&self, dest: &str, platforms: &[(&str, &str, &Path)]) -> String {
        assert!(!platforms.is_empty(), "push_multiarch: no platforms");
        let layout = self.scratch_path("oci-multi");
        let mut entries = Vec::new();
        for (i, (os, arch, archive)) in platforms.iter().enumerate() {
            let plain = self.plain_archive(archive);
            let tag = format!("p{i}");
            self.skopeo_ok(&[
                "copy".into(),
                format!("docker-archive:{}", plain.display()),
                format!("oci:{}:{tag}", layout.display()),
            ]);
            let index: serde_json::Value =
                serde_json::from_slice(&read(&layout.join("index.json")))
                    .expect("push_multiarch: index.json");
            let mut desc = index["manifests"]
                .as_array()
                .and_then(|ms| {
                    ms.iter().find(|m| {
                        m["annotations"]["org.opencontainers.image.ref.name"] == tag.as_str()
                    })
                })
                .cloned()
                .unwrap_or_else(|| panic!("push_multiarch: {tag} not in {}", layout.display()));
            let obj = desc.as_object_mut().unwrap();
            obj.remove("annotations");
            let mut platform = serde_json::Map::new();
            platform.insert("os".into(), (*os).into());
            match arch.split_once('/') {
                Some((a, v)) => {
                    platform.insert("architecture".into(), a.into());
                    platform.insert("variant".into(), v.into());
                }
                None => {
                    platform.insert("architecture".into(), (*arch).into());
                }
            }
            obj.insert("platform".into(), platform.into());
            entries.push(desc);
        }
        let inner = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": entries,
        }))
        .unwrap();
        let inner_digest = crate::sha256(&inner);
        crate::write(
            &layout
                .join("blobs/sha256")
                .join(&inner_digest["sha256:".len()..]),
            &inner,
        );
        let top = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": inner_digest,
                "size": inner.len(),
                "annotations": {"org.opencontainers.image.ref.name": "multi"},
            }],
        });
        crate::write(
            &layout.join("index.json"),
            &serde_json::to_vec(&top).unwrap(),
        );
        let digest_file = self.scratch_path("digest");
        let mut args = vec!["copy".to_string(), "--all".into(), "--retry-times=2".into()];
        args.extend(self.skopeo_flags("dest-", true));
        args.push(format!("--digestfile={}", digest_file.display()));
        args.push(format!("oci:{}:multi", layout.display()));
        args.push(format!("docker://{}/{dest}", self.host()));
        self.skopeo_ok(&args);
        read_digest(&digest_file)
    }

    /// `skopeo inspect --raw docker://HOST/REFERENCE` with this registry's
    /// flags and credentials: the manifest (or index) as stored.
    pub fn inspect_raw(&self, reference: &str) -> String {
        let mut args = vec!["inspect".to_string(), "--raw".into()];
        args.extend(self.skopeo_flags("", true));
        args.push(format!("docker://{}/{reference}", self.host()));
        self.skopeo_ok(&args)
    }

    /// A docker-archive skopeo can read: `path` itself, or its gunzipped
    /// copy in the registry's directory (made once per path).
    fn plain_archive(&self, path: &Path) -> PathBuf {
        let mut cache = self.archives.lock().unwrap();
        if let Some(p) = cache.get(path) {
            return p.clone();
        }
        let out = gunzip_if_needed(path, &self.scratch_path("archive.tar"));
        cache.insert(path.to_path_buf(), out.clone());
        out
    }

    fn scratch_path(&self, name: &str) -> PathBuf {
        let n = self.scratch.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join("tmp").join(format!("{n}-{name}"))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // the issuer stops in its own Drop
    }
}

fn split_archive_ref(rest: &str) -> (&str, &str) {
    // A docker-archive reference may end in `:name:tag` or `:@N`; a path
    // that exists as given wins.
    if Path::new(rest).exists() {
        return (rest, "");
    }
    let mut idx = rest.len();
    while let Some(i) = rest[..idx].rfind(':') {
        if Path::new(&rest[..i]).exists() {
            return (&rest[..i], &rest[i..]);
        }
        idx = i;
    }
    (rest, "")
}

/// Make sure a tool from Debian's packages is there: a fresh machine gets
/// it installed on first use (as root, one install at a time across test
/// processes), as `scripts/test-images.sh` does for its builder; elsewhere
/// the panic names the package to install.
pub(crate) fn require(bin: &str, package: &str) {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if Path::new(bin).exists() {
        return;
    }
    let _guard = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let lock = fs::File::create(std::env::temp_dir().join("customs-testkit-apt.lock"));
    if let Ok(l) = &lock {
        let _ = l.lock();
    }
    if !Path::new(bin).exists() {
        // SAFETY: getuid has no preconditions.
        let root = unsafe { libc::getuid() } == 0;
        let apt = |args: &[&str]| {
            std::process::Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let install = ["install", "-y", "-qq", package];
        // A fresh machine may have no package lists yet.
        let ok = root && (apt(&install) || (apt(&["update", "-qq"]) && apt(&install)));
        if !ok || !Path::new(bin).exists() {
            panic!(
                "{bin} is not installed and could not be installed here: apt-get install {package}"
            );
        }
    }
}

fn read_digest(path: &Path) -> String {
    let d = String::from_utf8_lossy(&read(path)).trim().to_string();
    assert!(d.starts_with("sha256:"), "skopeo wrote no digest: {d:?}");
    d
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn must_mkdir(p: &Path) {
    fs::create_dir_all(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
}

/// `path` when it is not gzip; else a gunzipped copy written to `out`.
pub(crate) fn gunzip_if_needed(path: &Path, out: &Path) -> PathBuf {
    let mut f = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).unwrap_or(0);
    if n < 2 || magic != [0x1f, 0x8b] {
        return path.to_path_buf();
    }
    let f = fs::File::open(path).unwrap();
    let mut dec = flate2::read::MultiGzDecoder::new(BufReader::new(f));
    if let Some(parent) = out.parent() {
        must_mkdir(parent);
    }
    let mut w = fs::File::create(out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    std::io::copy(&mut dec, &mut w).unwrap_or_else(|e| panic!("gunzip {}: {e}", path.display()));
    out.to_path_buf()
}

/// The last 40 lines of a log.
pub(crate) fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let from = lines.len().saturating_sub(40);
    lines[from..].join("\n")
}

/// Run a command with stdin closed; kill it and panic (naming `what`, with
/// `context()` appended) if it runs past `timeout`.
pub(crate) fn run_bounded(
    cmd: &mut Command,
    timeout: Duration,
    what: &str,
    context: &dyn Fn() -> String,
) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => panic!("{what}: wait: {e}"),
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            let err = t_err.join().unwrap_or_default();
            panic!(
                "{what}: {cmd:?} still running after {timeout:?}, killed\nstderr:\n{}\n--- service log tail ---\n{}",
                String::from_utf8_lossy(&err),
                context()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// A loopback port free at the time of asking.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// The status of `GET /v2/` on 127.0.0.1:port, if it answers.
fn v2_status(port: u16, tls: Option<&Arc<rustls::ClientConfig>>) -> Option<u16> {
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    tcp.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    let req = format!("GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let mut head = Vec::new();
    match tls {
        None => {
            let mut s = tcp;
            s.write_all(req.as_bytes()).ok()?;
            let _ = s.take(64).read_to_end(&mut head);
        }
        Some(cfg) => {
            let name = rustls::pki_types::ServerName::IpAddress(Ipv4Addr::LOCALHOST.into());
            let conn = rustls::ClientConnection::new(cfg.clone(), name).ok()?;
            let mut s = rustls::StreamOwned::new(conn, tcp);
            s.write_all(req.as_bytes()).ok()?;
            let _ = s.take(64).read_to_end(&mut head);
        }
    }
    let line = String::from_utf8_lossy(&head);
    line.strip_prefix("HTTP/1.1 ")
        .or_else(|| line.strip_prefix("HTTP/1.0 "))?
        .get(..3)?
        .parse()
        .ok()
}

/// A test CA and a server certificate for 127.0.0.1/localhost, written
/// into `root`; the registry's `http.tls` is configured by the caller.
fn make_tls(root: &Path) -> Tls {
    let pki = crate::tls::pki(root);
    let ca_pem = pki.ca_pem.clone();
    let ca_der = rustls::pki_types::CertificateDer::from(pki.ca_der.clone());
    let cert_dir = root.join("certs.d");
    let ca_text = std::fs::read(&pki.ca_pem).expect("the test CA");
    crate::write(&cert_dir.join("ca.crt"), &ca_text);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der).expect("rustls: CA");
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("rustls: versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    Tls {
        ca_pem,
        cert_dir,
        client: Arc::new(client),
    }
}

// ---------------------------------------------------------------------------
// The token issuer

struct IssuerState {
    policy: TokenPolicy,
    signer: ring::signature::EcdsaKeyPair,
    cert_der_b64: String,
    kid: String,
    requests: Mutex<Vec<TokenRequest>>,
    jti: AtomicU64,
}

/// A tiny bearer-token server on its own loopback port: GET (and the OAuth2
/// password-grant POST) on `/token`, ES256 JWTs signed by a key whose
/// self-signed certificate is the registry's `rootcertbundle`.
struct TokenIssuer {
    bundle: PathBuf,
    state: Arc<IssuerState>,
    /// Stopped (and joined) when the issuer is dropped.
    server: LoopbackServer,
}

impl TokenIssuer {
    fn start(policy: TokenPolicy, root: &Path) -> TokenIssuer {
        use rcgen::{CertificateParams, DnType, KeyPair, PublicKeyData};
        let key = KeyPair::generate().expect("rcgen: token key"); // ECDSA P-256
        let mut p = CertificateParams::default();
        p.distinguished_name
            .push(DnType::CommonName, "customs-testkit token signer");
        let cert = p.self_signed(&key).expect("rcgen: token cert");
        let bundle = root.join("token-bundle.pem");
        crate::write(&bundle, cert.pem().as_bytes());

        let rng = ring::rand::SystemRandom::new();
        let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
            &rng,
        )
        .expect("ring: token key");
        let (server, state) = LoopbackServer::start(
            "token issuer",
            |_| IssuerState {
                policy,
                signer,
                cert_der_b64: base64::engine::general_purpose::STANDARD.encode(cert.der()),
                kid: libtrust_key_id(&key.subject_public_key_info()),
                requests: Mutex::new(Vec::new()),
                jti: AtomicU64::new(0),
            },
            handle_token_conn,
        );
        TokenIssuer {
            bundle,
            state,
            server,
        }
    }

    fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.server.port)
    }
}

/// libtrust's key ID: base32 of the first 240 bits of sha256(SPKI DER), in
/// 12 colon-separated groups of 4.
pub fn libtrust_key_id(spki_der: &[u8]) -> String {
    let sum = Sha256::digest(spki_der);
    let b32 = base32(&sum[..30]);
    b32.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":")
}

/// RFC 4648 base32 (no padding; 30 bytes need none).
fn base32(data: &[u8]) -> String {
    const A: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in data {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(A[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(A[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn handle_token_conn(conn: TcpStream, st: &IssuerState) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut params = parse_form(query);
    if method == "POST" {
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len.min(1 << 20)];
        reader.read_exact(&mut body)?;
        params.extend(parse_form(&String::from_utf8_lossy(&body)));
    }
    let mut conn = conn;
    if path != "/token" || (method != "GET" && method != "POST") {
        return respond(&mut conn, 404, r#"{"details":"not found"}"#);
    }
    let (status, body, rec) = issue(st, &method, &params, header("authorization"));
    st.requests.lock().unwrap().push(rec);
    respond(&mut conn, status, &body)
}

fn issue(
    st: &IssuerState,
    method: &str,
    params: &[(String, String)],
    authorization: Option<String>,
) -> (u16, String, TokenRequest) {
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let scopes: Vec<String> = params
        .iter()
        .filter(|(n, _)| n == "scope")
        .flat_map(|(_, v)| v.split(' ').map(String::from).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    let mut creds: Option<(String, String)> = authorization.and_then(|a| {
        let b64 = a
            .strip_prefix("Basic ")
            .or_else(|| a.strip_prefix("basic "))?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()?;
        let s = String::from_utf8(raw).ok()?;
        let (u, p) = s.split_once(':')?;
        Some((u.to_string(), p.to_string()))
    });
    if creds.is_none() && method == "POST" && param("grant_type").as_deref() == Some("password") {
        creds = Some((
            param("username").unwrap_or_default(),
            param("password").unwrap_or_default(),
        ));
    }
    let mut rec = TokenRequest {
        method: method.to_string(),
        service: param("service"),
        scopes: scopes.clone(),
        credentials_given: creds.is_some(),
        user: creds.as_ref().map(|(u, _)| u.clone()),
        status: 401,
        granted: Vec::new(),
    };
    let unauthorized =
        |rec: TokenRequest, why: &str| (401, format!(r#"{{"details":"{why}"}}"#), rec);
    if rec
        .service
        .as_deref()
        .is_some_and(|s| s != st.policy.service)
    {
        return unauthorized(rec, "unknown service");
    }
    let full = match &creds {
        Some((u, p)) => {
            if !st.policy.users.iter().any(|(uu, pp)| uu == u && pp == p) {
                return unauthorized(rec, "incorrect username or password");
            }
            true
        }
        None => {
            if st.policy.anonymous == Anonymous::Deny {
                return unauthorized(rec, "authentication required");
            }
            false
        }
    };
    let mut access = Vec::new();
    for scope in &scopes {
        let Some((kind, rest)) = scope.split_once(':') else {
            continue;
        };
        let Some((name, actions)) = rest.rsplit_once(':') else {
            continue;
        };
        let granted: Vec<&str> = actions
            .split(',')
            .filter(|a| !a.is_empty() && (full || *a == "pull"))
            .collect();
        rec.granted
            .push(format!("{kind}:{name}:{}", granted.join(",")));
        access.push(serde_json::json!({"type": kind, "name": name, "actions": granted}));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut header = serde_json::json!({"typ": "JWT", "alg": "ES256"});
    match st.policy.key_id {
        KeyId::X5c => header["x5c"] = serde_json::json!([st.cert_der_b64]),
        KeyId::Kid => header["kid"] = st.kid.clone().into(),
    }
    let claims = serde_json::json!({
        "iss": st.policy.issuer,
        "sub": creds.as_ref().map(|(u, _)| u.as_str()).unwrap_or(""),
        "aud": st.policy.service,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("customs-testkit-{}", st.jti.fetch_add(1, Ordering::Relaxed)),
        "access": access,
    });
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let sig = st
        .signer
        .sign(&ring::rand::SystemRandom::new(), signing_input.as_bytes())
        .expect("ring: sign token");
    let jwt = format!("{signing_input}.{}", b64.encode(sig.as_ref()));
    rec.status = 200;
    let body = serde_json::json!({
        "token": jwt,
        "access_token": jwt,
        "expires_in": 300,
        "issued_at": rfc3339(now),
    });
    (200, body.to_string(), rec)
}

fn respond(conn: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    let auth = if status == 401 {
        "WWW-Authenticate: Basic realm=\"customs-testkit-issuer\"\r\n"
    } else {
        ""
    };
    write!(
        conn,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{auth}Connection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for Unix seconds.
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Howard Hinnant's civil_from_days
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_and_dates() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_251_199), "2024-02-29T23:59:59Z");
        let kid = libtrust_key_id(b"x");
        assert_eq!(kid.len(), 48 + 11);
        assert_eq!(kid.split(':').count(), 12);
    }

    #[test]
    fn services_are_shareable() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Registry>();
        send_sync::<crate::podman::Podman>();
    }

    #[test]
    fn forms() {
        let f =
            parse_form("service=reg&scope=repository%3Alib%2Falpine%3Apull%2Cpush&x=a+b&bad=%zz%4");
        assert_eq!(f[1].1, "repository:lib/alpine:pull,push");
        assert_eq!(f[2].1, "a b");
        assert_eq!(f[3].1, "%zz%4");
    }
}
