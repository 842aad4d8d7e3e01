//! A `customs server` process for the tests: started on a free 127.0.0.1
//! port, ready when `/readyz` says so, stopped by its PID on drop.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Option<Child>,
    /// For an HTTPS server: the CA, client certificate and key to reach it.
    tls: Option<(PathBuf, PathBuf, PathBuf)>,
    pub port: u16,
    pub log: PathBuf,
    args: Vec<String>,
    cache: PathBuf,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

pub fn http() -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

impl Server {
    /// `customs server` with these extra arguments and its own cache dir.
    pub fn start(cache: &Path, extra: &[String]) -> Server {
        Self::start_on(free_port(), cache, extra)
    }

    pub fn start_on(port: u16, cache: &Path, extra: &[String]) -> Server {
        let mut s = Server {
            child: None,
            tls: None,
            port,
            log: cache.join(format!("server-{port}.log")),
            args: extra.to_vec(),
            cache: cache.to_path_buf(),
        };
        s.spawn();
        s
    }

    /// An HTTPS server requiring client certificates: `pki`'s server
    /// certificate, its CA for the clients.
    pub fn start_mtls(cache: &Path, pki: &customs_testkit::tls::Pki, extra: &[String]) -> Server {
        let mut args = vec![
            "--tls-cert".to_string(),
            pki.server_crt.display().to_string(),
            "--tls-key".into(),
            pki.server_key.display().to_string(),
            "--tls-client-ca".into(),
            pki.ca_pem.display().to_string(),
        ];
        args.extend(extra.iter().cloned());
        let port = free_port();
        let mut s = Server {
            child: None,
            tls: Some((
                pki.ca_pem.clone(),
                pki.client_crt.clone(),
                pki.client_key.clone(),
            )),
            port,
            log: cache.join(format!("server-{port}.log")),
            args,
            cache: cache.to_path_buf(),
        };
        s.spawn();
        s
    }

    /// A client that trusts the server (and has its client certificate).
    pub fn client(&self) -> reqwest::blocking::Client {
        let Some((ca, crt, key)) = &self.tls else {
            return http();
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let mut pem = read(crt);
        pem.push(b'\n');
        pem.extend(read(key));
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .add_root_certificate(
                reqwest::Certificate::from_pem(&read(ca)).unwrap_or_else(|e| panic!("{e}")),
            )
            .identity(reqwest::Identity::from_pem(&pem).unwrap_or_else(|e| panic!("{e}")))
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn spawn(&mut self) {
        let _ = std::fs::create_dir_all(&self.cache);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap_or_else(|e| panic!("{}: {e}", self.log.display()));
        let err = log.try_clone().unwrap_or_else(|e| panic!("{e}"));
        let bin = env!("CARGO_BIN_EXE_customs");
        let child = Command::new(bin)
            .current_dir(super::repo())
            .env("CUSTOMS_CACHE_DIR", &self.cache)
            .env_remove("CUSTOMS_LOG")
            .args(["server", "--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--db-check-interval", "200ms"])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("customs server: {e}"));
        self.child = Some(child);
        self.wait_ready();
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let c = self.client();
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Some(Ok(Some(st))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("customs server exited ({st}):\n{}", self.log_text());
            }
            if let Ok(r) = c.get(format!("{}/readyz", self.url())).send() {
                if r.status().is_success() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("customs server not ready in 30 s:\n{}", self.log_text());
    }

    /// Peak resident memory (VmHWM) in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// SIGKILL, as a node failure would.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for the exit; returns the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        // SAFETY: kill(2) on our own child's PID.
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if let Ok(Some(st)) = c.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        c.wait().ok()
    }

    /// Start it again on the same port with the same arguments.
    pub fn restart(&mut self) {
        self.spawn();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: kill(2) on our own child's PID.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A token file for `--token-file`.
pub fn token_file(dir: &Path, token: &str) -> PathBuf {
    let p = dir.join("token");
    std::fs::write(&p, format!("{token}\n")).unwrap_or_else(|e| panic!("{e}"));
    p
}

/// Poll a job's JSON report until it is done; panics on failure or after 120 s.
pub fn wait_report(
    c: &reqwest::blocking::Client,
    base: &str,
    id: &str,
    token: &str,
) -> serde_json::Value {
    let until = Instant::now() + Duration::from_secs(120);
    while Instant::now() < until {
        let r = c
            .get(format!("{base}/v1/scans/{id}/report?format=json"))
            .bearer_auth(token)
            .send()
            .unwrap_or_else(|e| panic!("{e}"));
        match r.status().as_u16() {
            200 => return r.json().unwrap_or_else(|e| panic!("{e}")),
            202 => std::thread::sleep(Duration::from_millis(50)),
            s => panic!("report of {id}: {s}: {}", r.text().unwrap_or_default()),
        }
    }
    panic!("no report of {id} in 120 s")
}

/// A job's record.
pub fn job(c: &reqwest::blocking::Client, base: &str, id: &str, token: &str) -> serde_json::Value {
    c.get(format!("{base}/v1/scans/{id}"))
        .bearer_auth(token)
        .send()
        .and_then(|r| r.json())
        .unwrap_or_default()
}

/// Poll a job until its status is one of `wanted`; panics after 30 s.
pub fn wait_status(
    c: &reqwest::blocking::Client,
    base: &str,
    id: &str,
    token: &str,
    wanted: &[&str],
) -> serde_json::Value {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let rec = job(c, base, id, token);
        if wanted.iter().any(|w| rec["status"] == *w) {
            return rec;
        }
        assert!(
            Instant::now() < until,
            "{id} is not {wanted:?} after 30 s: {rec}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
