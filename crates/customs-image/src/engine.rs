//! The local engines: Docker's Engine API and Podman's Docker-compatible API
//! on their unix sockets. An image is looked up with `GET /images/{name}/json`
//! and read from `GET /images/{name}/get` (its `docker save` stream), which
//! goes straight into `Image::open_export`: no temporary tar (Trivy's daemon
//! source writes one to /tmp).
//!
//! HTTP/1.1 is hyper's client connection over a tokio `UnixStream`, on a
//! thread of its own; the body reaches the blocking walker through a bounded
//! channel, so a slow analysis slows the engine down instead of buffering.

use crate::error::ImageError;
use bytes::Bytes;
use http_body_util::BodyExt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which engine a socket belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Docker,
    Podman,
}

impl EngineKind {
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Docker => "docker",
            EngineKind::Podman => "podman",
        }
    }
}

/// An engine socket.
#[derive(Debug, Clone)]
pub struct Engine {
    pub kind: EngineKind,
    pub socket: PathBuf,
}

/// What `GET /images/{name}/json` says about an image (not trusted: the
/// export stream is verified on its own; this only names what to expect).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Inspect {
    #[serde(rename = "Id", default)]
    pub id: String,
    #[serde(rename = "RepoTags", default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(rename = "RepoDigests", default)]
    pub repo_digests: Option<Vec<String>>,
}

fn unix_path(host: &str) -> Option<PathBuf> {
    host.strip_prefix("unix://").map(PathBuf::from)
}

impl Engine {
    /// The candidate sockets of an engine: an explicit `host` (`unix:///…` or a
    /// path) first, then `DOCKER_HOST`/`CONTAINER_HOST`, then the default
    /// paths (rootful and rootless).
    pub fn candidates(kind: EngineKind, host: Option<&str>) -> Vec<Engine> {
        let mut v: Vec<PathBuf> = Vec::new();
        let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
        match kind {
            EngineKind::Docker => {
                if let Some(h) = host.map(str::to_string).or_else(|| env("DOCKER_HOST")) {
                    match unix_path(&h) {
                        Some(p) => v.push(p),
                        None if h.starts_with('/') => v.push(PathBuf::from(h)),
                        None => tracing::debug!(
                            "docker host {h}: only unix sockets are supported; trying the defaults"
                        ),
                    }
                }
                v.push(PathBuf::from("/var/run/docker.sock"));
                if let Some(r) = env("XDG_RUNTIME_DIR") {
                    v.push(PathBuf::from(r).join("docker.sock"));
                }
            }
            EngineKind::Podman => {
                if let Some(h) = host.map(str::to_string).or_else(|| env("CONTAINER_HOST")) {
                    if let Some(p) = unix_path(&h) {
                        v.push(p);
                    } else if h.starts_with('/') {
                        v.push(PathBuf::from(h));
                    }
                }
                if let Some(r) = env("XDG_RUNTIME_DIR") {
                    v.push(PathBuf::from(r).join("podman/podman.sock"));
                }
                v.push(PathBuf::from("/run/podman/podman.sock"));
                // SAFETY: getuid has no preconditions.
                let uid = unsafe { libc::getuid() };
                v.push(PathBuf::from(format!("/run/user/{uid}/podman/podman.sock")));
            }
        }
        let mut seen = std::collections::HashSet::new();
        v.into_iter()
            .filter(|p| seen.insert(p.clone()))
            .map(|socket| Engine { kind, socket })
            .collect()
    }

    /// The first candidate whose socket exists (a missing one is a debug line).
    pub fn find(kind: EngineKind, host: Option<&str>) -> Option<Engine> {
        use std::os::unix::fs::FileTypeExt;
        for e in Engine::candidates(kind, host) {
            match std::fs::metadata(&e.socket) {
                Ok(m) if m.file_type().is_socket() => return Some(e),
                Ok(_) => tracing::debug!("{}: not a socket", e.socket.display()),
                Err(err) => tracing::debug!("{} socket {}: {err}", kind.name(), e.socket.display()),
            }
        }
        None
    }

    fn err(&self, name: &str, message: String) -> ImageError {
        ImageError::Engine {
            engine: self.kind.name().to_string(),
            socket: self.socket.clone(),
            reference: name.to_string(),
            message,
        }
    }

    /// Inspect `name`; `Ok(None)` when the engine does not have it.
    pub fn inspect(&self, name: &str) -> Result<Option<Inspect>, ImageError> {
        let path = format!("/images/{}/json", encode(name));
        let (status, mut body) =
            get(&self.socket, &path, Duration::from_secs(30)).map_err(|e| self.err(name, e))?;
        let mut v = Vec::new();
        body.by_ref()
            .take(16 << 20)
            .read_to_end(&mut v)
            .map_err(|e| self.err(name, e.to_string()))?;
        match status {
            200 => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| self.err(name, format!("unreadable inspect answer ({e})"))),
            404 => Ok(None),
            s => Err(self.err(name, format!("GET {path} answered {s}{}", message_of(&v)))),
        }
    }

    /// The `docker save` stream of `name`.
    pub fn export(&self, name: &str) -> Result<impl Read + Send + 'static, ImageError> {
        let path = format!("/images/{}/get", encode(name));
        let (status, mut body) =
            get(&self.socket, &path, Duration::from_secs(60)).map_err(|e| self.err(name, e))?;
        if status != 200 {
            let mut v = Vec::new();
            let _ = body.by_ref().take(64 << 10).read_to_end(&mut v);
            return Err(self.err(
                name,
                format!("GET {path} answered {status}{}", message_of(&v)),
            ));
        }
        Ok(body)
    }
}

/// The `message` of an engine's JSON error answer.
fn message_of(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct M {
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<M>(body) {
        Ok(m) if !m.message.is_empty() => format!(": {}", m.message),
        _ => String::new(),
    }
}

/// Percent-encode a name for a path segment; `/` stays (the APIs route
/// `/images/{name:.*}/get`).
fn encode(name: &str) -> String {
    let mut s = String::new();
    for b in name.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b':'
            | b'@' => s.push(b as char),
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

/// A body arriving from the connection thread.
pub struct Body {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, String>>,
    chunk: Bytes,
    done: bool,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.chunk = b,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        let _ = self.chunk.split_to(n);
        Ok(n)
    }
}

/// `GET path` on the socket: the status once the head arrived (within
/// `head_timeout`), and the body as a blocking reader.
fn get(socket: &Path, path: &str, head_timeout: Duration) -> Result<(u16, Body), String> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, String>>(16);
    let (head_tx, head_rx) = std::sync::mpsc::channel::<Result<u16, String>>();
    let socket = socket.to_path_buf();
    let path = path.to_string();
    std::thread::Builder::new()
        .name("customs-engine".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = head_tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                let stream = match tokio::net::UnixStream::connect(&socket).await {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = head_tx.send(Err(format!("cannot connect: {e}")));
                        return;
                    }
                };
                let io = hyper_util::rt::TokioIo::new(stream);
                let (mut sender, conn) = match hyper::client::conn::http1::handshake(io).await {
                    Ok(x) => x,
                    Err(e) => {
                        let _ = head_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                let req = match hyper::Request::get(path.as_str())
                    .header(hyper::header::HOST, "localhost")
                    .body(http_body_util::Empty::<Bytes>::new())
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = head_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let resp = match sender.send_request(req).await {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = head_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = head_tx.send(Ok(resp.status().as_u16()));
                let mut body = resp.into_body();
                while let Some(frame) = body.frame().await {
                    match frame {
                        Ok(f) => {
                            if let Ok(data) = f.into_data() {
                                if tx.send(Ok(data)).await.is_err() {
                                    return; // the reader went away
                                }
                            }
                        }
                        Err(e) => {
                            let _ = tx.send(Err(format!("the stream broke: {e}"))).await;
                            return;
                        }
                    }
                }
            });
        })
        .map_err(|e| e.to_string())?;
    let status = match head_rx.recv_timeout(head_timeout) {
        Ok(r) => r?,
        Err(_) => return Err(format!("no answer within {head_timeout:?}")),
    };
    Ok((
        status,
        Body {
            rx,
            chunk: Bytes::new(),
            done: false,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded_for_the_path() {
        assert_eq!(
            encode("docker.io/library/app:latest"),
            "docker.io/library/app:latest"
        );
        assert_eq!(encode("a b?#"), "a%20b%3F%23");
    }

    #[test]
    fn a_missing_socket_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine {
            kind: EngineKind::Podman,
            socket: dir.path().join("none.sock"),
        };
        let err = e.inspect("app:latest").unwrap_err().to_string();
        assert!(
            err.contains("none.sock") && err.contains("cannot connect"),
            "{err}"
        );
        assert!(
            Engine::find(
                EngineKind::Docker,
                Some(&format!("unix://{}", dir.path().join("x").display()))
            )
            .is_none()
                || std::path::Path::new("/var/run/docker.sock").exists()
        );
    }

    #[test]
    fn candidates_follow_the_host_setting() {
        let c = Engine::candidates(EngineKind::Docker, Some("unix:///tmp/d.sock"));
        assert_eq!(c[0].socket, PathBuf::from("/tmp/d.sock"));
        assert!(c
            .iter()
            .any(|e| e.socket == Path::new("/var/run/docker.sock")));
        let p = Engine::candidates(EngineKind::Podman, Some("/tmp/p.sock"));
        assert_eq!(p[0].socket, PathBuf::from("/tmp/p.sock"));
    }
}
