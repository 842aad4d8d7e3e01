//! A registry client (OCI distribution API v2) that opens an image by
//! reference and streams its layers into the walker.
//!
//! - Auth: anonymous, Basic, and the Bearer-token challenge flow of Docker
//!   Hub, GHCR, GitLab and Harbor (`auth`); a registry token is sent as is.
//! - Manifests: OCI and Docker schema 2 images and indexes; an index is
//!   resolved to one platform (the host's unless `--platform` says).
//! - Trust: every manifest is held to the digest it was asked by (or the one
//!   the registry announced), the config to its descriptor, and each layer
//!   blob to its descriptor's digest and size while it streams (with its
//!   uncompressed content to the config's diff ID, as for every source).
//!   Nothing is written to disk.
//! - Tags: `tags` lists a repository's tags page by page (`Link` headers,
//!   same host only, bounded) and resolves a tag to its manifest digest.
//! - Retries: connection failures, 429 and 5xx are retried with exponential
//!   backoff, honouring `Retry-After`, before any byte of a body is used.
//!
//! Hand-written on reqwest: the OCI client crates are async and fetch whole
//! blobs; customs needs blocking streams that its walker reads while hashing,
//! and a cache check before each blob is requested.

pub mod auth;
pub mod referrers;
pub mod tags;

use crate::digest::{Algorithm, Digest};
use crate::error::ImageError;
use crate::reference::ImageRef;
use auth::{AuthFiles, Challenge, CredKind, Credential};
use customs_model::error_chain;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Manifests, indexes and configs larger than this are refused.
pub const MAX_DOCUMENT: u64 = 16 << 20;
const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Told about each layer download (the CLI draws progress bars with it).
pub trait TransferObserver: Send + Sync {
    fn started(&self, digest: &str, size: u64);
    fn progressed(&self, digest: &str, bytes: u64);
    fn finished(&self, digest: &str);
}

/// How to reach registries.
#[derive(Clone)]
pub struct RemoteOptions {
    /// `os/arch[/variant]`; the host's platform when unset.
    pub platform: Option<String>,
    /// Allow plain HTTP and registries whose TLS certificate does not verify.
    pub insecure: bool,
    /// Credentials given on the command line or in the environment.
    pub credential: Option<Credential>,
    /// Where stored credentials are looked up when none was given.
    pub auth_files: AuthFiles,
    /// Mirrors tried before Docker Hub for `docker.io` images (URLs or hosts).
    pub mirrors: Vec<String>,
    /// Bound on each request, body included.
    pub timeout: Duration,
    /// Retries of a failed request (connection errors, 429, 5xx).
    pub retries: u32,
    /// First backoff; doubled on each retry (`Retry-After` wins when given).
    pub backoff: Duration,
    /// Layers downloaded (and analyzed) at once; 0 picks the number of
    /// cores, at least 2 and at most 4 (on loopback, more than the cores
    /// only costs memory; across a network, two or more hide the latency).
    pub parallel: usize,
    pub observer: Option<Arc<dyn TransferObserver>>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            platform: None,
            insecure: false,
            credential: None,
            auth_files: AuthFiles::from_env(),
            mirrors: Vec::new(),
            timeout: Duration::from_secs(600),
            retries: 4,
            backoff: Duration::from_millis(500),
            parallel: 0,
            observer: None,
        }
    }
}

impl std::fmt::Debug for RemoteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteOptions")
            .field("platform", &self.platform)
            .field("insecure", &self.insecure)
            .field("credential", &self.credential)
            .field("mirrors", &self.mirrors)
            .finish()
    }
}

/// An `os/arch[/variant]` platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn parse(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.trim().split('/').collect();
        match parts[..] {
            [os, arch] | [os, arch, ""] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_ascii_lowercase(),
                architecture: arch.to_ascii_lowercase(),
                variant: None,
            }),
            [os, arch, v] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.to_ascii_lowercase(),
                architecture: arch.to_ascii_lowercase(),
                variant: Some(v.to_ascii_lowercase()),
            }),
            _ => Err(format!(
                "--platform '{s}': expected OS/ARCH[/VARIANT], e.g. linux/arm64"
            )),
        }
    }

    /// The platform customs runs on, in OCI's names.
    pub fn host() -> Platform {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", None),
            "x86" => ("386", None),
            "arm" => ("arm", Some("v7".to_string())),
            "powerpc64" => ("ppc64le", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            other => (other, None),
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant,
        }
    }

    pub fn matches(&self, os: &str, arch: &str, variant: Option<&str>) -> bool {
        if self.os != os || self.architecture != arch {
            return false;
        }
        // arm64 is v8 when unstated.
        let norm = |v: Option<&str>| match (arch, v) {
            ("arm64", None) => Some("v8".to_string()),
            (_, v) => v.map(str::to_string),
        };
        match &self.variant {
            None => true,
            Some(v) => norm(variant).as_deref() == Some(v.as_str()),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A connection to one repository of one registry.
pub struct Client {
    http: reqwest::blocking::Client,
    /// `https://host[:port]` (or `http://` for an insecure registry).
    base: String,
    /// The registry as the reference names it (for messages).
    host: String,
    repo: String,
    /// The reference as typed (every error starts with it).
    reference: String,
    credential: Option<Credential>,
    authorization: Mutex<Option<String>>,
    retries: u32,
    backoff: Duration,
    parallel: usize,
    transferred: AtomicU64,
    blobs_fetched: AtomicU64,
    observer: Option<Arc<dyn TransferObserver>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("repo", &self.repo)
            .finish()
    }
}

fn http_client(
    opts: &RemoteOptions,
    accept_invalid: bool,
) -> Result<reqwest::blocking::Client, String> {
    // reqwest is built with `rustls-no-provider`: install ring as the
    // process default (a no-op when a provider is already installed).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(15).min(opts.timeout))
        .timeout(opts.timeout)
        .user_agent(concat!("customs/", env!("CARGO_PKG_VERSION")))
        .danger_accept_invalid_certs(accept_invalid)
        .build()
        .map_err(|e| e.to_string())
}

/// The base URLs to try for a registry, in order.
fn endpoints(r: &ImageRef, opts: &RemoteOptions) -> Vec<(String, bool)> {
    let mut v = Vec::new();
    if r.is_docker_hub() {
        for m in &opts.mirrors {
            let m = m.trim_end_matches('/');
            if m.starts_with("http://") || m.starts_with("https://") {
                v.push((m.to_string(), opts.insecure));
            } else {
                v.push((format!("https://{m}"), opts.insecure));
                if opts.insecure {
                    v.push((format!("http://{m}"), false));
                }
            }
        }
        v.push(("https://registry-1.docker.io".to_string(), false));
        return v;
    }
    v.push((format!("https://{}", r.registry), opts.insecure));
    if opts.insecure {
        v.push((format!("http://{}", r.registry), false));
    }
    v
}

/// One line of a registry's JSON error body (`{"errors":[{"code","message"}]}`).
fn error_body(resp: reqwest::blocking::Response) -> String {
    let mut body = Vec::new();
    let _ = resp.take(64 << 10).read_to_end(&mut body);
    #[derive(serde::Deserialize)]
    struct Errs {
        #[serde(default)]
        errors: Vec<Err1>,
    }
    #[derive(serde::Deserialize)]
    struct Err1 {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(e) = serde_json::from_slice::<Errs>(&body) {
        if let Some(first) = e.errors.first() {
            return format!(": {} {}", first.code, first.message)
                .trim_end()
                .to_string();
        }
    }
    String::new()
}

/// `Retry-After` as seconds or an HTTP date, capped at a minute.
fn retry_after(resp: &reqwest::blocking::Response) -> Option<Duration> {
    let v = resp.headers().get("retry-after")?.to_str().ok()?.trim();
    let d = match v.parse::<u64>() {
        Ok(s) => Duration::from_secs(s),
        Err(_) => httpdate::parse_http_date(v)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    };
    Some(d.min(Duration::from_secs(60)))
}

impl Client {
    /// Connect to the registry of `r` (pinging `/v2/`, trying mirrors and, with
    /// `insecure`, plain HTTP), ready to fetch from its repository.
    pub fn connect(r: &ImageRef, opts: &RemoteOptions) -> Result<Client, ImageError> {
        let credential = opts
            .credential
            .clone()
            .or_else(|| auth::stored(&opts.auth_files, &r.registry, &r.repository));
        let mut last = String::new();
        for (base, accept_invalid) in endpoints(r, opts) {
            let http = http_client(opts, accept_invalid).map_err(|e| ImageError::Registry {
                reference: r.typed.clone(),
                message: format!("cannot set up the HTTP client: {e}"),
            })?;
            let c = Client {
                http,
                host: r.registry.clone(),
                base: base.clone(),
                repo: r.repository.clone(),
                reference: r.typed.clone(),
                credential: credential.clone(),
                authorization: Mutex::new(None),
                retries: opts.retries,
                backoff: opts.backoff,
                parallel: match opts.parallel {
                    0 => std::thread::available_parallelism()
                        .map(|n| n.get())
                        .unwrap_or(2)
                        .clamp(2, 4),
                    n => n,
                },
                transferred: AtomicU64::new(0),
                blobs_fetched: AtomicU64::new(0),
                observer: opts.observer.clone(),
            };
            match c.ping() {
                Ok(()) => {
                    tracing::debug!(
                        "registry {base}: reachable (credentials: {})",
                        c.cred_label()
                    );
                    return Ok(c);
                }
                Err(e) => {
                    tracing::debug!("registry {base}: {e}");
                    last = e;
                }
            }
        }
        let hint = if !opts.insecure && !r.is_docker_hub() {
            " (for a plain-HTTP or self-signed registry, pass --insecure)"
        } else {
            ""
        };
        Err(ImageError::Registry {
            reference: r.typed.clone(),
            message: format!("registry {} is not reachable: {last}{hint}", r.registry),
        })
    }

    fn cred_label(&self) -> String {
        match &self.credential {
            Some(c) => c.source.clone(),
            None => "anonymous".into(),
        }
    }

    fn err(&self, message: String) -> ImageError {
        ImageError::Registry {
            reference: self.reference.clone(),
            message,
        }
    }

    /// `GET /v2/`: reachable, and what auth it asks for.
    fn ping(&self) -> Result<(), String> {
        let url = format!("{}/v2/", self.base);
        // A transport error is final here (it decides between HTTPS, plain
        // HTTP and the next mirror); a busy registry is waited for.
        let mut attempt = 0u32;
        let resp = loop {
            let resp = self.http.get(&url).send().map_err(|e| error_chain(&e))?;
            let status = resp.status().as_u16();
            if (status == 429 || status >= 500) && attempt < self.retries {
                let wait =
                    retry_after(&resp).unwrap_or(self.backoff.saturating_mul(1 << attempt.min(6)));
                tracing::debug!("GET {url}: {}; retrying in {wait:?}", resp.status());
                std::thread::sleep(wait);
                attempt += 1;
                continue;
            }
            break resp;
        };
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            401 => {
                // Learn the scheme now; the token is fetched for the repository scope.
                if let Some(c) = resp
                    .headers()
                    .get("www-authenticate")
                    .and_then(|h| h.to_str().ok())
                    .and_then(auth::parse_challenge)
                {
                    self.authenticate(&c).map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            s => Err(format!("GET /v2/ answered {s}")),
        }
    }

    /// Answer a challenge: set the `Authorization` value later requests carry.
    fn authenticate(&self, c: &Challenge) -> Result<(), ImageError> {
        let value = match c.scheme.as_str() {
            "basic" => match self.credential.as_ref().and_then(|c| c.basic_header()) {
                Some(h) => h,
                None => {
                    return Err(self.err(format!(
                        "registry {} asks for a user name and password ({}); pass --username/--password or `docker login`",
                        self.host,
                        self.cred_label()
                    )))
                }
            },
            "bearer" => format!("Bearer {}", self.token(c)?),
            other => {
                return Err(self.err(format!(
                    "registry {} asks for the unsupported auth scheme '{other}'",
                    self.host
                )))
            }
        };
        if let Ok(mut a) = self.authorization.lock() {
            *a = Some(value);
        }
        Ok(())
    }

    /// Fetch a bearer token from the challenge's realm.
    fn token(&self, c: &Challenge) -> Result<String, ImageError> {
        if let Some(Credential {
            kind: CredKind::Bearer(t),
            ..
        }) = &self.credential
        {
            return Ok(t.clone());
        }
        let realm = c.params.get("realm").cloned().unwrap_or_default();
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(self.err(format!(
                "registry {} gave a token realm '{realm}' that is not an HTTP URL",
                self.host
            )));
        }
        // Credentials never travel in clear text to a realm of a TLS registry.
        let clear = realm.starts_with("http://") && self.base.starts_with("https://");
        let service = c.params.get("service").cloned().unwrap_or_default();
        let scope = format!("repository:{}:pull", self.repo);
        let mut query: Vec<(&str, String)> = vec![("scope", scope.clone())];
        if !service.is_empty() {
            query.push(("service", service.clone()));
        }
        let resp = match &self.credential {
            Some(Credential {
                kind: CredKind::Identity { token, .. },
                ..
            }) if !clear => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_string()),
                    ("refresh_token", token.clone()),
                    ("client_id", "customs".to_string()),
                    ("scope", scope),
                ];
                if !service.is_empty() {
                    form.push(("service", service));
                }
                self.http.post(&realm).form(&form).send()
            }
            cred => {
                let mut req = self.http.get(&realm).query(&query);
                if let Some(h) = cred.as_ref().and_then(|c| c.basic_header()) {
                    if clear {
                        tracing::warn!(
                            "token realm {realm} is plain HTTP: not sending credentials to it"
                        );
                    } else {
                        req = req.header(reqwest::header::AUTHORIZATION, h);
                    }
                }
                req.send()
            }
        }
        .map_err(|e| {
            self.err(format!(
                "token service {realm} of registry {}: {}",
                self.host,
                error_chain(&e)
            ))
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(self.err(format!(
                "token service {realm} of registry {} answered {status} (credentials: {}){}",
                self.host,
                self.cred_label(),
                error_body(resp)
            )));
        }
        #[derive(serde::Deserialize)]
        struct Tok {
            #[serde(default)]
            token: String,
            #[serde(default)]
            access_token: String,
        }
        let mut body = Vec::new();
        resp.take(1 << 20)
            .read_to_end(&mut body)
            .map_err(|e| self.err(format!("token service {realm}: {e}")))?;
        let t: Tok = serde_json::from_slice(&body)
            .map_err(|e| self.err(format!("token service {realm}: not a token answer ({e})")))?;
        let tok = if t.token.is_empty() {
            t.access_token
        } else {
            t.token
        };
        if tok.is_empty() {
            return Err(self.err(format!("token service {realm}: the answer holds no token")));
        }
        Ok(tok)
    }

    /// A GET with auth, retries and backoff; returns a response of status < 400.
    fn get(
        &self,
        path: &str,
        accept: &[&str],
        what: &str,
    ) -> Result<reqwest::blocking::Response, ImageError> {
        self.get_or_missing(path, accept, what, false)?
            .ok_or_else(|| self.err(format!("registry {} has no {what}", self.host)))
    }

    /// [`Client::get`], with `None` for a 404 when `missing_ok`.
    fn get_or_missing(
        &self,
        path: &str,
        accept: &[&str],
        what: &str,
        missing_ok: bool,
    ) -> Result<Option<reqwest::blocking::Response>, ImageError> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0u32;
        let mut reauthed = false;
        loop {
            let mut req = self.http.get(&url);
            if !accept.is_empty() {
                req = req.header(reqwest::header::ACCEPT, accept.join(", "));
            }
            if let Some(a) = self.authorization.lock().ok().and_then(|a| a.clone()) {
                req = req.header(reqwest::header::AUTHORIZATION, a);
            }
            let wait = match req.send() {
                Err(e) => {
                    if attempt >= self.retries {
                        return Err(self.err(format!(
                            "GET {path} from registry {}: {} (after {} attempts)",
                            self.host,
                            error_chain(&e),
                            attempt + 1
                        )));
                    }
                    tracing::debug!("GET {url}: {}; retrying", error_chain(&e));
                    None
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    match status {
                        401 if !reauthed => {
                            reauthed = true;
                            let c = resp
                                .headers()
                                .get("www-authenticate")
                                .and_then(|h| h.to_str().ok())
                                .and_then(auth::parse_challenge);
                            match c {
                                Some(c) => {
                                    self.authenticate(&c)?;
                                    continue;
                                }
                                None => {
                                    return Err(self.err(format!(
                                    "registry {} answered 401 to GET {path} without a challenge",
                                    self.host
                                )))
                                }
                            }
                        }
                        401 | 403 => {
                            return Err(self.err(format!(
                                "registry {} answered {} to GET {path} (credentials: {}){}",
                                self.host,
                                resp.status(),
                                self.cred_label(),
                                error_body(resp)
                            )))
                        }
                        404 if missing_ok => return Ok(None),
                        404 => {
                            return Err(self.err(format!(
                                "registry {} has no {what}{}",
                                self.host,
                                error_body(resp)
                            )))
                        }
                        429 | 500..=599 if attempt < self.retries => {
                            let w = retry_after(&resp);
                            tracing::debug!("GET {url}: {}; retrying", resp.status());
                            w
                        }
                        200..=399 => return Ok(Some(resp)),
                        _ => {
                            return Err(self.err(format!(
                                "registry {} answered {} to GET {path}{}",
                                self.host,
                                resp.status(),
                                error_body(resp)
                            )))
                        }
                    }
                }
            };
            let backoff = self.backoff.saturating_mul(1 << attempt.min(6));
            std::thread::sleep(wait.unwrap_or(backoff));
            attempt += 1;
        }
    }

    /// Read a small body, bounded by `MAX_DOCUMENT`.
    fn read_document(
        &self,
        resp: reqwest::blocking::Response,
        what: &str,
    ) -> Result<Vec<u8>, ImageError> {
        if resp.content_length().is_some_and(|n| n > MAX_DOCUMENT) {
            return Err(self.err(format!(
                "{what} is larger than {} MiB; refused",
                MAX_DOCUMENT >> 20
            )));
        }
        let mut v = Vec::new();
        resp.take(MAX_DOCUMENT + 1)
            .read_to_end(&mut v)
            .map_err(|e| self.err(format!("{what}: {e}")))?;
        if v.len() as u64 > MAX_DOCUMENT {
            return Err(self.err(format!(
                "{what} is larger than {} MiB; refused",
                MAX_DOCUMENT >> 20
            )));
        }
        self.transferred
            .fetch_add(v.len() as u64, Ordering::Relaxed);
        Ok(v)
    }

    /// Fetch a manifest or index by tag or digest; returns its bytes and
    /// digest, verified against the digest asked for or announced.
    pub fn manifest(&self, reference: &str) -> Result<(Vec<u8>, Digest), ImageError> {
        self.manifest_or_missing(reference, false)?.ok_or_else(|| {
            self.err(format!(
                "registry {} has no manifest {}:{reference}",
                self.host, self.repo
            ))
        })
    }

    /// [`Client::manifest`], with `None` when the registry has no such
    /// manifest (404) and `missing_ok`.
    pub fn manifest_or_missing(
        &self,
        reference: &str,
        missing_ok: bool,
    ) -> Result<Option<(Vec<u8>, Digest)>, ImageError> {
        let what = format!("manifest {}:{reference}", self.repo);
        let what = if reference.contains(':') {
            format!("manifest {}@{reference}", self.repo)
        } else {
            what
        };
        let Some(resp) = self.get_or_missing(
            &format!("/v2/{}/manifests/{reference}", self.repo),
            &MANIFEST_TYPES,
            &what,
            missing_ok,
        )?
        else {
            return Ok(None);
        };
        let announced = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|h| h.to_str().ok())
            .and_then(Digest::parse);
        let body = self.read_document(resp, &what)?;
        let asked = Digest::parse(reference);
        let want = asked.clone().or(announced);
        let algorithm = want
            .as_ref()
            .map(|d| d.algorithm)
            .unwrap_or(Algorithm::Sha256);
        let got = Digest::of(algorithm, &body);
        if let Some(want) = want {
            if want != got {
                return Err(ImageError::DigestMismatch {
                    path: self.reference.clone().into(),
                    what: format!("{what} from registry {}", self.host),
                    expected: want.to_string(),
                    actual: got.to_string(),
                });
            }
        }
        Ok(Some((body, got)))
    }

    /// Fetch a small blob (a config) and hold it to its digest.
    pub fn small_blob(&self, digest: &Digest, what: &str) -> Result<Vec<u8>, ImageError> {
        let resp = self.get(
            &format!("/v2/{}/blobs/{digest}", self.repo),
            &[],
            &format!("{what} blob {digest}"),
        )?;
        let body = self.read_document(resp, what)?;
        let got = Digest::of(digest.algorithm, &body);
        if &got != digest {
            return Err(ImageError::DigestMismatch {
                path: self.reference.clone().into(),
                what: format!("{what} blob from registry {}", self.host),
                expected: digest.to_string(),
                actual: got.to_string(),
            });
        }
        Ok(body)
    }

    /// Open a layer blob as a stream (the caller hashes it while reading).
    pub fn blob_stream(&self, digest: &Digest, size: u64) -> Result<BlobStream<'_>, ImageError> {
        let resp = self.get(
            &format!("/v2/{}/blobs/{digest}", self.repo),
            &[],
            &format!("layer blob {digest}"),
        )?;
        self.blobs_fetched.fetch_add(1, Ordering::Relaxed);
        let name = digest.to_string();
        if let Some(o) = &self.observer {
            o.started(&name, size);
        }
        Ok(BlobStream {
            inner: resp,
            client: self,
            digest: name,
            ended: false,
        })
    }

    /// Bytes of bodies received so far (manifests, configs, layers).
    pub fn transferred(&self) -> u64 {
        self.transferred.load(Ordering::Relaxed)
    }

    /// Layer blobs requested so far.
    pub fn blobs_fetched(&self) -> u64 {
        self.blobs_fetched.load(Ordering::Relaxed)
    }

    pub fn parallel(&self) -> usize {
        self.parallel
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn reference(&self) -> &str {
        &self.reference
    }
}

/// A layer body being downloaded; counts what it delivers.
pub struct BlobStream<'a> {
    inner: reqwest::blocking::Response,
    client: &'a Client,
    digest: String,
    ended: bool,
}

impl Read for BlobStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.client
            .transferred
            .fetch_add(n as u64, Ordering::Relaxed);
        if let Some(o) = &self.client.observer {
            if n > 0 {
                o.progressed(&self.digest, n as u64);
            } else if !self.ended {
                o.finished(&self.digest);
            }
        }
        self.ended |= n == 0;
        Ok(n)
    }
}

impl Drop for BlobStream<'_> {
    fn drop(&mut self) {
        // A download cut short (an error) takes its bar away too.
        if let (false, Some(o)) = (self.ended, &self.client.observer) {
            o.finished(&self.digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        let p = Platform::parse("linux/arm64").unwrap();
        assert!(p.matches("linux", "arm64", Some("v8")));
        assert!(p.matches("linux", "arm64", None));
        let v7 = Platform::parse("linux/arm/v7").unwrap();
        assert!(v7.matches("linux", "arm", Some("v7")));
        assert!(!v7.matches("linux", "arm", Some("v6")));
        let v8 = Platform::parse("linux/arm64/v8").unwrap();
        assert!(v8.matches("linux", "arm64", None));
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("/amd64").is_err());
        assert_eq!(Platform::host().os, "linux");
        assert_eq!(v7.to_string(), "linux/arm/v7");
    }

    #[test]
    fn docker_hub_goes_through_its_mirrors_first() {
        let r = ImageRef::parse("redis:8").unwrap();
        let opts = RemoteOptions {
            mirrors: vec!["mirror.example".into(), "http://127.0.0.1:5000/".into()],
            ..RemoteOptions::default()
        };
        let e: Vec<String> = endpoints(&r, &opts).into_iter().map(|(b, _)| b).collect();
        assert_eq!(
            e,
            [
                "https://mirror.example",
                "http://127.0.0.1:5000",
                "https://registry-1.docker.io"
            ]
        );
        let local = ImageRef::parse("localhost:5000/app:1").unwrap();
        let insecure = RemoteOptions {
            insecure: true,
            ..RemoteOptions::default()
        };
        let e: Vec<String> = endpoints(&local, &insecure)
            .into_iter()
            .map(|(b, _)| b)
            .collect();
        assert_eq!(e, ["https://localhost:5000", "http://localhost:5000"]);
        let e: Vec<String> = endpoints(&local, &RemoteOptions::default())
            .into_iter()
            .map(|(b, _)| b)
            .collect();
        assert_eq!(e, ["https://localhost:5000"]);
    }
}
