//! Podman's Docker-compatible API for tests: `podman system service` on a
//! unix socket, with its own storage (vfs), run root and state in a
//! temporary directory, killed by its PID on drop and the directory removed.
//! It needs no systemd, no cgroup delegation and no journald: the service
//! runs with `--cgroup-manager cgroupfs --events-backend file`.
//!
//! ```no_run
//! use customs_testkit::podman::Podman;
//! let engine = Podman::start();
//! engine.load(std::path::Path::new("/work/shared/data/images/alpine-3.20.3.tar.gz"));
//! engine.tag("localhost/alpine:3.20.3", "example.test/alpine:latest");
//! // DOCKER_HOST for the client under test:
//! let docker_host = engine.docker_host(); // unix:///tmp/customs-podman-…/podman.sock
//! let r = engine.get("/images/json");
//! assert_eq!(r.status, 200);
//! # let _ = docker_host;
//! ```

use crate::registry::{
    gunzip_if_needed, require, run_bounded, tail, COMMAND_TIMEOUT, START_TIMEOUT,
};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PODMAN_BIN: &str = "/usr/bin/podman";

/// A running `podman system service`; killed by its PID when dropped.
pub struct Podman {
    child: Child,
    dir: tempfile::TempDir,
    socket: PathBuf,
    log_path: PathBuf,
    scratch: AtomicU64,
}

/// An HTTP response read from the API socket (chunked bodies decoded).
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics if it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "podman API answered {} with non-JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body[..self.body.len().min(500)])
            )
        })
    }
}

impl Podman {
    /// Start the service and wait until `GET /_ping` answers `OK`.
    pub fn start() -> Podman {
        require(PODMAN_BIN, "podman");
        let dir = tempfile::Builder::new()
            .prefix("customs-podman-")
            .tempdir()
            .unwrap_or_else(|e| panic!("podman: tempdir: {e}"));
        fs::create_dir_all(dir.path().join("tmp")).expect("podman: tmp dir");
        let socket = dir.path().join("podman.sock");
        let log_path = dir.path().join("podman.log");
        let log = fs::File::create(&log_path).expect("podman: log file");
        let log2 = log.try_clone().expect("podman: log file clone");
        let mut p = Podman {
            child: Command::new(PODMAN_BIN)
                .args(flags(dir.path()))
                .args(["system", "service", "--time=0"])
                .arg(format!("unix://{}", socket.display()))
                .env("TMPDIR", dir.path().join("tmp"))
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log2)
                .spawn()
                .unwrap_or_else(|e| panic!("podman: cannot start {PODMAN_BIN}: {e}")),
            dir,
            socket,
            log_path,
            scratch: AtomicU64::new(0),
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = p.child.try_wait() {
                panic!(
                    "podman system service exited ({status}) before answering on {}\n{}",
                    p.socket.display(),
                    tail(&p.log())
                );
            }
            if p.socket.exists() {
                if let Ok(r) = p.try_request("GET", "/_ping", &[], Duration::from_secs(5)) {
                    if r.status == 200 && r.body == b"OK" {
                        return p;
                    }
                }
            }
            if started.elapsed() > START_TIMEOUT {
                panic!(
                    "podman system service on {} did not answer GET /_ping within {START_TIMEOUT:?}\n{}",
                    p.socket.display(),
                    tail(&p.log())
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The API socket.
    pub fn socket(&self) -> PathBuf {
        self.socket.clone()
    }

    /// `unix:///…/podman.sock`, for `DOCKER_HOST`.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The service's PID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The temporary directory (storage root, run root, socket, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The global flags that point a `podman` command at this instance.
    pub fn flags(&self) -> Vec<String> {
        flags(self.dir.path())
    }

    /// What the service wrote to stdout/stderr.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Run `podman FLAGS ARGS` against this instance's storage (bounded in time).
    pub fn podman(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(PODMAN_BIN);
        cmd.args(self.flags())
            .args(args)
            .env("TMPDIR", self.dir.path().join("tmp"));
        run_bounded(&mut cmd, COMMAND_TIMEOUT, "podman", &|| tail(&self.log()))
    }

    /// Run podman and panic (with its stderr and the service log tail)
    /// unless it succeeds; its stdout.
    pub fn podman_ok(&self, args: &[&str]) -> String {
        let out = self.podman(args);
        if !out.status.success() {
            panic!(
                "podman {} failed ({}):\n{}\n--- podman service log tail ---\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr),
                tail(&self.log())
            );
        }
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `podman load -i ARCHIVE` (a docker-archive or oci-archive; gzip
    /// ones are decompressed first, as podman 4.3 cannot read them).
    /// Returns the names podman reports, e.g. `localhost/alpine:3.20.3`:
    /// podman qualifies a short name from the archive with `localhost/`.
    pub fn load(&self, archive: &Path) -> Vec<String> {
        let n = self.scratch.fetch_add(1, Ordering::Relaxed);
        let plain = gunzip_if_needed(archive, &self.dir.path().join(format!("tmp/load-{n}.tar")));
        let out = self.podman_ok(&["load", "-i", &plain.to_string_lossy()]);
        if plain != archive {
            let _ = fs::remove_file(&plain);
        }
        out.lines()
            .filter_map(|l| l.split_once(": ").map(|(_, v)| v))
            .flat_map(|v| v.split(',').map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// `podman tag SRC DST`.
    pub fn tag(&self, src: &str, dst: &str) {
        self.podman_ok(&["tag", src, dst]);
    }

    /// `GET path` on the API socket (e.g. `/images/json`, `/v1.41/version`).
    pub fn get(&self, path: &str) -> HttpResponse {
        self.request("GET", path, &[])
    }

    /// Any request on the API socket; panics (with the log tail) on I/O
    /// failure or after 120 s.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> HttpResponse {
        self.try_request(method, path, body, Duration::from_secs(120))
            .unwrap_or_else(|e| {
                panic!(
                    "podman API {method} {path} on {}: {e}\n{}",
                    self.socket.display(),
                    tail(&self.log())
                )
            })
    }

    fn try_request(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        timeout: Duration,
    ) -> std::io::Result<HttpResponse> {
        unix_http(&self.socket, method, path, body, timeout)
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // the TempDir (vfs layers are plain directories) goes with self.dir
    }
}

fn flags(dir: &Path) -> Vec<String> {
    let p = |s: &str| dir.join(s).display().to_string();
    vec![
        format!("--root={}", p("root")),
        format!("--runroot={}", p("runroot")),
        format!("--tmpdir={}", p("libpod-tmp")),
        "--storage-driver=vfs".into(),
        "--cgroup-manager=cgroupfs".into(),
        "--events-backend=file".into(),
    ]
}

/// One HTTP/1.1 request over a unix socket, `Connection: close`, the body
/// read to EOF (chunked transfer decoded). The whole exchange is bounded by
/// `timeout`.
pub fn unix_http(
    socket: &Path,
    method: &str,
    path: &str,
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<HttpResponse> {
    let deadline = Instant::now() + timeout;
    let mut s = UnixStream::connect(socket)?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: d\r\nUser-Agent: customs-testkit\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )?;
    s.write_all(body)?;
    s.flush()?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no complete answer within {timeout:?}"),
            ));
        }
        s.set_read_timeout(Some(left))?;
        match s.read(&mut buf)? {
            0 => break,
            n => raw.extend_from_slice(&buf[..n]),
        }
    }
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body).ok_or_else(|| bad("bad chunked body"))?;
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let line = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(line.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        if b.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dechunk() {
        assert_eq!(
            super::dechunk(b"3\r\nabc\r\n1;x=y\r\nd\r\n0\r\n\r\n").as_deref(),
            Some(&b"abcd"[..])
        );
        assert_eq!(super::dechunk(b"5\r\nab"), None);
    }
}
