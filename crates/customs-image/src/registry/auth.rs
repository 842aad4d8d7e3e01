//! Registry credentials and the `WWW-Authenticate` challenge.
//!
//! Credentials come, in order, from the options (`--username`/`--password`,
//! `--registry-token`, their `CUSTOMS_*` variables), Podman's `auth.json`
//! (`REGISTRY_AUTH_FILE`, then the default paths) and Docker's `config.json`
//! (`credHelpers`, `auths`, `credsStore`; helpers are the `docker-credential-*`
//! programs). Each credential carries a label naming where it came from, so
//! an error can say what was tried without ever showing the secret.
//!
//! Hand-written: the crates that read Docker's config are async-only or pull
//! a whole Docker client; this is a small JSON file and a subprocess.

use base64::Engine as _;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A secret, with where it came from. `Debug` never prints the secret.
#[derive(Clone)]
pub struct Credential {
    pub kind: CredKind,
    /// Where it came from: `--username/--password`, `docker config
    /// /root/.docker/config.json (auths)`, `credential helper docker-credential-pass`.
    pub source: String,
}

#[derive(Clone)]
pub enum CredKind {
    /// User name and password (or a personal access token as password).
    Basic { username: String, password: String },
    /// A bearer token for the registry itself (`--registry-token`).
    Bearer(String),
    /// An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the
    /// token endpoint.
    Identity { username: String, token: String },
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({})", self.source)
    }
}

impl Credential {
    pub fn basic(username: &str, password: &str, source: &str) -> Credential {
        Credential {
            kind: CredKind::Basic {
                username: username.to_string(),
                password: password.to_string(),
            },
            source: source.to_string(),
        }
    }

    /// The `Authorization: Basic …` value for user and password credentials.
    pub fn basic_header(&self) -> Option<String> {
        match &self.kind {
            CredKind::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            _ => None,
        }
    }
}

/// Where to look for stored credentials (the defaults follow Docker and Podman).
#[derive(Debug, Clone, Default)]
pub struct AuthFiles {
    pub podman: Vec<PathBuf>,
    pub docker: Option<PathBuf>,
}

impl AuthFiles {
    /// `REGISTRY_AUTH_FILE` or Podman's default paths; `DOCKER_CONFIG` or
    /// `~/.docker/config.json`.
    pub fn from_env() -> AuthFiles {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let home = env("HOME").map(PathBuf::from);
        let mut podman = Vec::new();
        if let Some(f) = env("REGISTRY_AUTH_FILE") {
            podman.push(PathBuf::from(f));
        } else {
            if let Some(r) = env("XDG_RUNTIME_DIR") {
                podman.push(PathBuf::from(r).join("containers/auth.json"));
            }
            if let Some(c) = env("XDG_CONFIG_HOME") {
                podman.push(PathBuf::from(c).join("containers/auth.json"));
            } else if let Some(h) = &home {
                podman.push(h.join(".config/containers/auth.json"));
            }
        }
        let docker = env("DOCKER_CONFIG")
            .map(|d| PathBuf::from(d).join("config.json"))
            .or_else(|| home.map(|h| h.join(".docker/config.json")));
        AuthFiles { podman, docker }
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The keys a config file may use for `registry` (Docker Hub has several).
fn keys_for(registry: &str) -> Vec<String> {
    let hosts: Vec<&str> = if registry == "docker.io" {
        vec![
            "https://index.docker.io/v1/",
            "index.docker.io",
            "docker.io",
            "registry-1.docker.io",
        ]
    } else {
        vec![registry]
    };
    let mut keys = Vec::new();
    for h in hosts {
        keys.push(h.to_string());
        for scheme in ["https://", "http://"] {
            if !h.starts_with("http") {
                keys.push(format!("{scheme}{h}"));
                keys.push(format!("{scheme}{h}/v1/"));
                keys.push(format!("{scheme}{h}/v2/"));
            }
        }
    }
    keys
}

/// The server name a credential helper is asked about.
fn helper_server(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".into()
    } else {
        registry.to_string()
    }
}

/// Look up stored credentials for `registry` (and, for Podman's per-repository
/// entries, `repository`). Unreadable or malformed files are skipped with a
/// warning naming the file: a broken config must not stop an anonymous pull.
pub fn stored(files: &AuthFiles, registry: &str, repository: &str) -> Option<Credential> {
    for p in &files.podman {
        let Some(cfg) = read_config(p) else { continue };
        // Podman also keys by `host/namespace/repo`: the longest prefix wins.
        let full = format!("{registry}/{repository}");
        let mut scoped: Vec<(&String, &AuthEntry)> = cfg
            .auths
            .iter()
            .filter(|(k, _)| {
                k.contains('/')
                    && !k.contains("://")
                    && (full == **k || full.starts_with(&format!("{k}/")))
            })
            .collect();
        scoped.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        if let Some((k, e)) = scoped.first() {
            if let Some(c) = entry_credential(e, &format!("podman auth {} ({k})", p.display())) {
                return Some(c);
            }
        }
        if let Some(c) = from_config(&cfg, p, registry, "podman auth") {
            return Some(c);
        }
    }
    if let Some(p) = &files.docker {
        if let Some(cfg) = read_config(p) {
            return from_config(&cfg, p, registry, "docker config");
        }
    }
    None
}

fn read_config(p: &Path) -> Option<ConfigFile> {
    let bytes = match std::fs::read(p) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!("{}: {e}; ignoring these stored credentials", p.display());
            return None;
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(
                "{}: not a valid credentials file ({e}); ignoring it",
                p.display()
            );
            None
        }
    }
}

fn from_config(cfg: &ConfigFile, p: &Path, registry: &str, what: &str) -> Option<Credential> {
    let keys = keys_for(registry);
    for k in &keys {
        if let Some(helper) = cfg.cred_helpers.get(k) {
            return run_helper(helper, &helper_server(registry));
        }
    }
    for k in &keys {
        if let Some(e) = cfg.auths.get(k) {
            let label = format!("{what} {} (auths.{k})", p.display());
            if let Some(c) = entry_credential(e, &label) {
                return Some(c);
            }
        }
    }
    cfg.creds_store
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| run_helper(s, &helper_server(registry)))
}

fn entry_credential(e: &AuthEntry, label: &str) -> Option<Credential> {
    let (mut user, mut pass) = (e.username.clone(), e.password.clone());
    if let Some(a) = e.auth.as_deref().filter(|a| !a.is_empty()) {
        match base64::engine::general_purpose::STANDARD
            .decode(a.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            }) {
            Some((u, p)) => {
                user = Some(u);
                pass = Some(p);
            }
            None => {
                tracing::warn!("{label}: 'auth' is not base64 of user:password; ignored");
            }
        }
    }
    if let Some(t) = e.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Some(Credential {
            kind: CredKind::Identity {
                username: user.unwrap_or_default(),
                token: t.to_string(),
            },
            source: label.to_string(),
        });
    }
    match (user, pass) {
        (Some(u), Some(p)) if !u.is_empty() => Some(Credential::basic(&u, &p, label)),
        _ => None,
    }
}

#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Ask `docker-credential-NAME get` for `server` (bounded to 30 s).
fn run_helper(name: &str, server: &str) -> Option<Credential> {
    let program = format!("docker-credential-{name}");
    let label = format!("credential helper {program}");
    if name.contains('/') || name.contains(char::is_whitespace) {
        tracing::warn!("{label}: not a helper name; ignored");
        return None;
    }
    let mut child = match Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("{label}: cannot run it ({e}); trying without credentials");
            return None;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let mut out = Vec::new();
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut s) = stdout {
            let _ = s.by_ref().take(1 << 20).read_to_end(&mut v);
        }
        v
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    if let Ok(v) = reader.join() {
        out = v;
    }
    match status {
        Some(s) if s.success() => {}
        Some(_) => {
            tracing::debug!("{label}: no credentials for {server}");
            return None;
        }
        None => {
            tracing::warn!("{label}: no answer in 30 s; trying without credentials");
            return None;
        }
    }
    let a: HelperAnswer = match serde_json::from_slice(&out) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("{label}: unreadable answer ({e}); ignored");
            return None;
        }
    };
    if a.username == "<token>" {
        return Some(Credential {
            kind: CredKind::Identity {
                username: String::new(),
                token: a.secret,
            },
            source: label,
        });
    }
    Some(Credential::basic(&a.username, &a.secret, &label))
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `bearer` or `basic`, lowercased.
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parse `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"`.
/// Hand-written: RFC 7235 auth-params (quoted strings with escapes, or tokens).
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.split_once(char::is_whitespace) {
        Some((s, r)) => (s, r),
        None => (header, ""),
    };
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            params.insert(key.to_ascii_lowercase(), String::new());
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        params.insert(key.to_ascii_lowercase(), value);
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/redis:pull""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:library/redis:pull");
        let b = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(b.scheme, "basic");
        assert_eq!(b.params["realm"], "Registry Realm");
        let e = parse_challenge(r#"Bearer realm="a\"b", error=invalid_token"#).unwrap();
        assert_eq!(e.params["realm"], "a\"b");
        assert_eq!(e.params["error"], "invalid_token");
        assert!(parse_challenge("").is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_header_parses_without_panicking(h in "\\PC{0,200}") {
            let _ = parse_challenge(&h);
        }

        #[test]
        fn quoted_params_round_trip(
            params in proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{0,30}", 0..5)
        ) {
            let header = params
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect::<Vec<_>>()
                .join(",");
            let c = parse_challenge(&format!("Bearer {header}")).unwrap();
            proptest::prop_assert_eq!(c.scheme, "bearer");
            proptest::prop_assert_eq!(c.params, params);
        }
    }

    #[test]
    fn config_files_give_credentials_without_showing_them() {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join("config.json");
        // "alice:s3cret"
        std::fs::write(
            &docker,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWxpY2U6czNjcmV0"},
                         "reg.example:5000":{"username":"bob","password":"pw"},
                         "tok.example":{"identitytoken":"refresh"}}}"#,
        )
        .unwrap();
        let podman = dir.path().join("auth.json");
        std::fs::write(
            &podman,
            r#"{"auths":{"quay.example/team":{"auth":"dGVhbTp0"},"quay.example":{"auth":"YW55OmE="}}}"#,
        )
        .unwrap();
        let files = AuthFiles {
            podman: vec![podman],
            docker: Some(docker),
        };
        let hub = stored(&files, "docker.io", "library/redis").unwrap();
        assert!(
            matches!(&hub.kind, CredKind::Basic { username, password } if username == "alice" && password == "s3cret")
        );
        assert!(hub.source.contains("auths.https://index.docker.io/v1/"));
        assert!(!format!("{hub:?}").contains("s3cret"));
        let r = stored(&files, "reg.example:5000", "x").unwrap();
        assert!(matches!(&r.kind, CredKind::Basic { username, .. } if username == "bob"));
        assert!(matches!(
            stored(&files, "tok.example", "x").unwrap().kind,
            CredKind::Identity { .. }
        ));
        let team = stored(&files, "quay.example", "team/app").unwrap();
        assert!(matches!(&team.kind, CredKind::Basic { username, .. } if username == "team"));
        let other = stored(&files, "quay.example", "other/app").unwrap();
        assert!(matches!(&other.kind, CredKind::Basic { username, .. } if username == "any"));
        assert!(stored(&files, "nothing.example", "x").is_none());
    }

    #[test]
    fn broken_files_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("config.json");
        std::fs::write(&bad, "{not json").unwrap();
        let files = AuthFiles {
            podman: vec![dir.path().join("missing.json")],
            docker: Some(bad),
        };
        assert!(stored(&files, "docker.io", "library/x").is_none());
    }

    #[test]
    fn a_missing_helper_means_anonymous() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.json");
        std::fs::write(&cfg, r#"{"credsStore":"customs-test-no-such-helper"}"#).unwrap();
        let files = AuthFiles {
            podman: vec![],
            docker: Some(cfg),
        };
        assert!(stored(&files, "ghcr.io", "org/app").is_none());
    }
}
