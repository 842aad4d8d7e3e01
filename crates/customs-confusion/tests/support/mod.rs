//! Real services on 127.0.0.1 for the confusion tests: Verdaccio (npm) and
//! pypiserver (PyPI), installed by `scripts/confusion-services.sh`, each
//! with its own config and storage in a temp dir, stopped by PID on drop.
//! A counting TCP forwarder stands in front of a server where a test must
//! know how many connections the scanner opened.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the services script installed them, or `None` (with a note) when
/// it did not run; under CI=true a missing install fails the test.
pub fn services() -> Option<PathBuf> {
    let dir = std::env::var_os("CUSTOMS_CONFUSION_SERVICES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/confusion-services")
        });
    let ok = dir
        .join("npm/node_modules/verdaccio/bin/verdaccio")
        .exists()
        && dir.join("venv/bin/pypi-server").exists()
        && dir.join("venv/bin/uv").exists();
    if ok {
        return Some(dir);
    }
    let note = format!(
        "confusion services not installed in {}: run scripts/confusion-services.sh",
        dir.display()
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{note}");
    }
    // Straight to the process's stderr: the test harness captures
    // `eprintln!` of passing tests, and this note must be seen.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {note}");
    None
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A server process, killed (by its PID) and reaped on drop.
pub struct Server {
    child: Child,
    pub url: String,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking client (reqwest is built without a default TLS provider).
pub fn client() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn wait_ready(url: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = client();
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{url} exited early ({status}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if client
            .get(url)
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "{url} not ready in 60 s: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Verdaccio with its own storage and htpasswd in `dir`, no uplinks (it
/// never reaches out), anyone may publish.
pub fn verdaccio(services: &Path, dir: &Path) -> Server {
    std::fs::create_dir_all(dir).expect("dir");
    let port = free_port();
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        "storage: ./storage\nauth:\n  htpasswd:\n    file: ./htpasswd\n    max_users: 100\nuplinks: {}\npackages:\n  '**':\n    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\nlog: { type: stdout, format: pretty, level: http }\n",
    )
    .expect("config");
    let log = dir.join("verdaccio.log");
    let out = std::fs::File::create(&log).expect("log");
    let err = out.try_clone().expect("log");
    let mut child = Command::new("node")
        .arg(services.join("npm/node_modules/verdaccio/bin/verdaccio"))
        .arg("-c")
        .arg(&config)
        .arg("-l")
        .arg(format!("127.0.0.1:{port}"))
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start verdaccio");
    let url = format!("http://127.0.0.1:{port}/");
    wait_ready(&format!("{url}-/ping"), &mut child, &log);
    Server {
        child,
        url,
        port,
        log,
    }
}

/// Creates a user on a Verdaccio and returns its token.
/// A private Verdaccio and one standing in for the public registry, each
/// with a publishing user. Every use of the "public" one goes through a
/// counting forwarder, so that the tarball URLs Verdaccio writes name the
/// forwarder's port, the URL the name check is given (`public_url`).
pub struct NpmRegistries {
    pub private: Server,
    pub public: Server,
    pub counter: Counter,
    pub public_url: String,
    pub ptoken: String,
    pub otoken: String,
}

pub fn npm_registries(services: &Path, work: &Path) -> NpmRegistries {
    let private = verdaccio(services, &work.join("private"));
    let public = verdaccio(services, &work.join("public"));
    let counter = counting_proxy(public.port);
    let public_url = format!("{}/", counter.url);
    let ptoken = npm_token(&private, "acme-dev");
    let otoken = npm_token_at(&public_url, "someone");
    NpmRegistries {
        private,
        public,
        counter,
        public_url,
        ptoken,
        otoken,
    }
}

pub fn npm_token(server: &Server, user: &str) -> String {
    npm_token_at(&server.url, user)
}

/// The same through a registry URL (with a trailing `/`).
pub fn npm_token_at(url: &str, user: &str) -> String {
    let body = client()
        .put(format!("{url}-/user/org.couchdb.user:{user}"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"name": user, "password": "test-password-1"}).to_string())
        .send()
        .and_then(|r| r.text())
        .expect("adduser");
    let resp: serde_json::Value = serde_json::from_str(&body).expect("adduser answer");
    resp["token"].as_str().expect("token").to_string()
}

/// npm with nothing of this machine's config: empty user and global
/// config, its own cache, lockfiles with `resolved` URLs.
pub fn npm(dir: &Path, home: &Path, args: &[&str], env: &[(&str, &str)]) {
    std::fs::create_dir_all(home).expect("home");
    let empty = home.join("user-npmrc");
    std::fs::write(&empty, "").expect("npmrc");
    let global = home.join("global-npmrc");
    std::fs::write(&global, "").expect("npmrc");
    let mut cmd = Command::new("npm");
    cmd.args(args)
        .current_dir(dir)
        .env("npm_config_userconfig", &empty)
        .env("npm_config_globalconfig", &global)
        .env("npm_config_cache", home.join("cache"))
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_update_notifier", "false")
        .env("npm_config_omit_lockfile_registry_resolved", "false")
        .env("npm_config_prefer_online", "true")
        .env("HOME", home);
    // Nothing may fall back to the public registry: every run names one.
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("npm");
    assert!(
        out.status.success(),
        "npm {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn npm_publish(server: &Server, token: &str, work: &Path, name: &str, version: &str) {
    npm_publish_at(&server.url, token, work, name, version)
}

/// Publishes a one-file package to the registry at `url` (trailing `/`).
pub fn npm_publish_at(url: &str, token: &str, work: &Path, name: &str, version: &str) {
    let port = url.rsplit(':').next().unwrap_or("").trim_end_matches('/');
    let dir = work.join(format!("pub-{port}-{}-{version}", name.replace('/', "-")));
    std::fs::create_dir_all(&dir).expect("pkg dir");
    std::fs::write(
        dir.join("package.json"),
        serde_json::json!({"name": name, "version": version, "main": "index.js"}).to_string(),
    )
    .expect("package.json");
    std::fs::write(dir.join("index.js"), "module.exports = 1;\n").expect("index.js");
    let host = url.trim_start_matches("http:");
    std::fs::write(dir.join(".npmrc"), format!("{host}:_authToken={token}\n")).expect(".npmrc");
    npm(
        &dir,
        &work.join("npm-home"),
        &["publish", "--registry", url],
        &[],
    );
}

/// pypiserver over `dir/packages`, no auth, and no redirect of unknown
/// names to pypi.org (its default fallback): nothing leaves 127.0.0.1.
pub fn pypiserver(services: &Path, dir: &Path) -> Server {
    let pkgs = dir.join("packages");
    std::fs::create_dir_all(&pkgs).expect("dir");
    let port = free_port();
    let log = dir.join("pypiserver.log");
    let out = std::fs::File::create(&log).expect("log");
    let err = out.try_clone().expect("log");
    let mut child = Command::new(services.join("venv/bin/pypi-server"))
        .args([
            "run",
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-a",
            ".",
            "-P",
            ".",
            "--disable-fallback",
        ])
        .arg(&pkgs)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start pypiserver");
    let url = format!("http://127.0.0.1:{port}/");
    wait_ready(&format!("{url}simple/"), &mut child, &log);
    Server {
        child,
        url,
        port,
        log,
    }
}

/// Writes a minimal, valid wheel of `name` `version` into the server's
/// package dir (what `twine upload` would store).
pub fn wheel(services: &Path, dir: &Path, name: &str, version: &str) {
    let script = r#"
import sys, zipfile, hashlib, base64
name, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
dist = name.replace('-', '_')
fn = f"{out}/{dist}-{version}-py3-none-any.whl"
files = {
  f"{dist}/__init__.py": "",
  f"{dist}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
  f"{dist}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: customs-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
rec = []
with zipfile.ZipFile(fn, "w") as z:
    for p, c in files.items():
        z.writestr(p, c)
        h = base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b"=").decode()
        rec.append(f"{p},sha256={h},{len(c)}")
    rp = f"{dist}-{version}.dist-info/RECORD"
    z.writestr(rp, "\n".join(rec + [f"{rp},,"]) + "\n")
"#;
    let st = Command::new(services.join("venv/bin/python"))
        .args(["-c", script, name, version])
        .arg(dir.join("packages"))
        .status()
        .expect("python");
    assert!(st.success());
}

/// A command of the venv (pip, uv) with this machine's config left out.
pub fn venv_cmd(
    services: &Path,
    tool: &str,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> String {
    let mut cmd = Command::new(services.join("venv/bin").join(tool));
    cmd.args(args)
        .current_dir(dir)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .env("PIP_NO_CACHE_DIR", "1")
        // The project's pyproject.toml must be read (UV_NO_CONFIG would
        // skip its [tool.uv]); the user's uv.toml must not.
        .env("XDG_CONFIG_HOME", dir.join(".xdg"))
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_CACHE_DIR", dir.join(".uv-cache"))
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("UV_INDEX_URL")
        .env_remove("UV_EXTRA_INDEX_URL")
        .env_remove("UV_INDEX_STRATEGY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("venv command");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} {args:?} failed: {text}");
    text
}

/// A TCP forwarder on 127.0.0.1 to `target`, counting the connections
/// it accepts; the thread ends with the process.
pub struct Counter {
    pub url: String,
    pub count: Arc<AtomicUsize>,
}

impl Counter {
    pub fn connections(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

pub fn counting_proxy(target_port: u16) -> Counter {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { continue };
            c.fetch_add(1, Ordering::SeqCst);
            let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                continue;
            };
            let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            let (mut client, mut server) = (client, server);
            std::thread::spawn(move || pipe(&mut client, &mut s2));
            std::thread::spawn(move || pipe(&mut server, &mut c2));
        }
    });
    Counter {
        url: format!("http://127.0.0.1:{port}"),
        count,
    }
}

fn pipe(from: &mut TcpStream, to: &mut TcpStream) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// 1-based line of the first line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{text}"))
}

/// The findings of a scan as (file, ID, first line), sorted.
pub fn found(res: &[customs_confusion::FileResult]) -> Vec<(String, String, usize)> {
    let mut v: Vec<_> = res
        .iter()
        .flat_map(|r| {
            r.findings
                .iter()
                .map(move |f| (r.path.clone(), f.id.clone(), f.cause_metadata.start_line))
        })
        .collect();
    v.sort();
    v
}

pub fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("dir");
    }
    std::fs::write(path, text).expect("write");
}

/// Options whose "public" npm and PyPI registries are the loopback servers
/// given (empty: an unroutable address, so nothing could leave).
pub fn public_opts(
    npm: &str,
    pypi: &str,
    cache: &Path,
    offline: bool,
) -> customs_confusion::Options {
    let or_none = |u: &str| {
        if u.is_empty() {
            "http://127.0.0.1:9".to_string()
        } else {
            u.trim_end_matches('/').to_string()
        }
    };
    customs_confusion::Options {
        public: Some(customs_confusion::PublicCheck {
            npm: or_none(npm),
            pypi: or_none(pypi),
            crates: "http://127.0.0.1:9".into(),
            rubygems: "http://127.0.0.1:9".into(),
            hex: "http://127.0.0.1:9".into(),
            cache_dir: cache.to_path_buf(),
            offline,
            timeout: Duration::from_secs(10),
        }),
        also_public: Vec::new(),
    }
}
