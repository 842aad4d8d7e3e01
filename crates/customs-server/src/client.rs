//! The client of a customs server (`customs image … --server URL`): submit,
//! poll, fetch the report as JSON. Blocking (the CLI is synchronous).
//!
//! Several server URLs may be given: a connection that fails, a 503 (a
//! replica shutting down) or a 429 (a full queue, after its `Retry-After`)
//! moves to the next. A job that failed as retryable (its replica stopped)
//! is submitted again, at most [`RESUBMITS`] times.

use crate::jobs::{JobRecord, Status};
use anyhow::{anyhow, bail, Result};
use std::time::{Duration, Instant};

/// How often a retryable failure is submitted again.
pub const RESUBMITS: usize = 3;
/// Attempts at submitting (across the servers) before giving up.
const SUBMIT_ATTEMPTS: usize = 8;

pub struct Client {
    servers: Vec<String>,
    token: Option<String>,
    http: reqwest::blocking::Client,
    /// Bound on the whole scan, from submission to report.
    pub timeout: Duration,
    /// What happened, for the load test and `--debug`.
    pub resubmitted: usize,
    pub failovers: usize,
}

/// A finished scan as the server reports it.
pub struct Done {
    pub job: JobRecord,
    pub report: customs_report::Report,
    /// The server that answered.
    pub server: String,
}

/// How the client reaches an HTTPS server: an extra CA to trust, and a
/// client certificate for a server that requires one (mutual TLS).
#[derive(Clone, Debug, Default)]
pub struct ClientTls {
    pub ca: Option<std::path::PathBuf>,
    /// (certificate, key), PEM.
    pub identity: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl Client {
    pub fn new(servers: &[String], token: Option<String>, timeout: Duration) -> Result<Client> {
        Self::with_tls(servers, token, timeout, &ClientTls::default())
    }

    pub fn with_tls(
        servers: &[String],
        token: Option<String>,
        timeout: Duration,
        tls: &ClientTls,
    ) -> Result<Client> {
        if servers.is_empty() {
            bail!("--server: no server URL given");
        }
        for s in servers {
            if !(s.starts_with("http://") || s.starts_with("https://")) {
                bail!("--server {s}: not an http(s) URL");
            }
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("customs/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &tls.ca {
            let pem =
                std::fs::read(ca).map_err(|e| anyhow!("--server-ca {}: {e}", ca.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| anyhow!("--server-ca {}: {e}", ca.display()))?;
            b = b.add_root_certificate(cert);
        }
        if let Some((cert, key)) = &tls.identity {
            let mut pem = std::fs::read(cert)
                .map_err(|e| anyhow!("--server-cert {}: {e}", cert.display()))?;
            pem.push(b'\n');
            pem.extend(
                std::fs::read(key).map_err(|e| anyhow!("--server-key {}: {e}", key.display()))?,
            );
            let id = reqwest::Identity::from_pem(&pem)
                .map_err(|e| anyhow!("--server-cert/--server-key: {e}"))?;
            b = b.identity(id);
        }
        let http = b.build().map_err(|e| anyhow!("--server: {e}"))?;
        Ok(Client {
            servers: servers
                .iter()
                .map(|s| s.trim_end_matches('/').to_string())
                .collect(),
            token,
            http,
            timeout,
            resubmitted: 0,
            failovers: 0,
        })
    }

    fn auth(&self, rb: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// Submit a `/v1/scans` body; returns the server that took it and the job.
    fn submit(&mut self, body: &serde_json::Value, start: usize) -> Result<(usize, JobRecord)> {
        let mut last = String::new();
        let n = self.servers.len();
        for attempt in 0..SUBMIT_ATTEMPTS {
            let i = (start + attempt) % n;
            let url = format!("{}/v1/scans", self.servers[i]);
            let resp = self.auth(self.http.post(&url).json(body)).send();
            match resp {
                Ok(r) if r.status().as_u16() == 202 => match r.json::<JobRecord>() {
                    Ok(job) => return Ok((i, job)),
                    // The answer was cut short (the replica died): submit again.
                    Err(e) => {
                        last = format!("{url}: {}", customs_model::error_chain(&e));
                        self.failovers += 1;
                    }
                },
                Ok(r) if matches!(r.status().as_u16(), 429 | 503) => {
                    let wait = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(1)
                        .min(30);
                    last = format!("{url}: {} ({})", r.status(), message(r));
                    self.failovers += 1;
                    std::thread::sleep(Duration::from_secs(wait));
                }
                Ok(r) => {
                    let status = r.status();
                    bail!("{url}: {status}: {}", message(r));
                }
                Err(e) => {
                    last = format!("{url}: {}", customs_model::error_chain(&e));
                    self.failovers += 1;
                    std::thread::sleep(Duration::from_millis(200 * (attempt as u64 + 1)));
                }
            }
        }
        bail!("no server took the scan: {last}")
    }

    /// Submit, wait, fetch the report; a retryable failure is submitted again.
    pub fn scan(&mut self, body: &serde_json::Value) -> Result<Done> {
        let started = Instant::now();
        let mut start = 0;
        for _ in 0..=RESUBMITS {
            let (i, job) = self.submit(body, start)?;
            match self.wait(i, &job.id, started)? {
                Waited::Done(d) => return Ok(*d),
                Waited::Retry(why) => {
                    tracing::debug!("scan {} is to be submitted again: {why}", job.id);
                    self.resubmitted += 1;
                    // Another replica is likelier to be alive.
                    start = i + 1;
                }
            }
        }
        bail!("the scan failed {} times as retryable", RESUBMITS + 1)
    }

    fn wait(&mut self, mut i: usize, id: &str, started: Instant) -> Result<Waited> {
        let mut delay = Duration::from_millis(50);
        let mut unreachable = 0;
        loop {
            if started.elapsed() > self.timeout {
                bail!(
                    "scan {id}: no report after {}",
                    humantime::format_duration(self.timeout)
                );
            }
            let url = format!("{}/v1/scans/{id}/report?format=json", self.servers[i]);
            // A connection that fails, a body cut short or a 503 is the
            // replica's trouble, not the scan's: ask the others (they share
            // job records through Redis).
            let gone = match self.auth(self.http.get(&url)).send() {
                Ok(r) if r.status().as_u16() == 200 => match r.text() {
                    Ok(text) => {
                        let report: customs_report::Report = serde_json::from_str(&text)
                            .map_err(|e| anyhow!("{url}: the report is not valid JSON: {e}"))?;
                        let job = self.job(i, id)?;
                        return Ok(Waited::Done(Box::new(Done {
                            job,
                            report,
                            server: self.servers[i].clone(),
                        })));
                    }
                    Err(e) => customs_model::error_chain(&e),
                },
                Ok(r) if r.status().as_u16() == 202 => {
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(1));
                    continue;
                }
                Ok(r) if r.status().as_u16() == 409 => match r.json::<JobRecord>() {
                    Ok(job) => {
                        let why = job.error.clone().unwrap_or_default();
                        if job.status == Status::Failed && job.retryable {
                            return Ok(Waited::Retry(why));
                        }
                        bail!("{}: {why}", job.artifact);
                    }
                    Err(e) => customs_model::error_chain(&e),
                },
                Ok(r) if r.status().as_u16() == 404 && unreachable > 0 => {
                    // Another replica without a shared job store: resubmit.
                    return Ok(Waited::Retry(format!("{url}: unknown to this server")));
                }
                Ok(r) if r.status().as_u16() == 503 => format!("{url}: {}", message(r)),
                Ok(r) => {
                    let status = r.status();
                    bail!("{url}: {status}: {}", message(r));
                }
                Err(e) => customs_model::error_chain(&e),
            };
            unreachable += 1;
            self.failovers += 1;
            tracing::debug!("{url}: {gone}");
            if unreachable > 3 * self.servers.len() {
                return Ok(Waited::Retry(format!("{url}: {gone}")));
            }
            i = (i + 1) % self.servers.len();
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The job's record, from the server that gave its report or, if that
    /// one is gone meanwhile, from another.
    fn job(&self, i: usize, id: &str) -> Result<JobRecord> {
        let mut last = String::new();
        for k in 0..self.servers.len() {
            let url = format!(
                "{}/v1/scans/{id}",
                self.servers[(i + k) % self.servers.len()]
            );
            match self.auth(self.http.get(&url)).send() {
                Ok(r) if r.status().is_success() => match r.json() {
                    Ok(j) => return Ok(j),
                    Err(e) => last = format!("{url}: {}", customs_model::error_chain(&e)),
                },
                Ok(r) => {
                    let status = r.status();
                    last = format!("{url}: {status}: {}", message(r));
                }
                Err(e) => last = format!("{url}: {}", customs_model::error_chain(&e)),
            }
        }
        bail!("{last}")
    }
}

enum Waited {
    Done(Box<Done>),
    Retry(String),
}

/// The error message of an API answer (`{"error": {"message": …}}`).
fn message(r: reqwest::blocking::Response) -> String {
    let text = r.text().unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| text.chars().take(200).collect())
}
