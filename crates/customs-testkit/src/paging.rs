//! A paginating front for the test registry. Debian's docker-registry (2.8)
//! ignores `n` on `GET /v2/<name>/tags/list` and always answers the whole
//! list; registries like Docker Hub, GHCR and distribution 3 answer pages
//! of `n` with a `Link: <…>; rel="next"` header. [`PagingProxy`] listens on
//! 127.0.0.1, forwards every request to the registry as is, and answers a
//! tag listing the way the OCI distribution spec's "Listing Tags" says:
//! the registry's full list, sorted, cut after `last` and to `n` tags, with
//! a `Link` to the next page. Each request it serves is logged
//! ([`PagingProxy::tag_requests`]).

use crate::loopback::LoopbackServer;
use crate::registry::Registry;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where the `Link` of a page points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkStyle {
    /// `</v2/…/tags/list?n=N&last=L>` (what distribution 3 sends).
    Relative,
    /// `<http://127.0.0.1:PORT/v2/…>`, the proxy's own absolute URL.
    Absolute,
    /// An absolute URL on this other `host:port` (to be refused).
    OtherHost(String),
    /// No tag listing at all: `tags/list` answers 404 (as some registries
    /// and pull-through caches do); everything else is forwarded.
    NoTagList,
}

struct State {
    upstream: String,
    style: LinkStyle,
    port: u16,
    log: Mutex<Vec<String>>,
}

/// A paginating proxy in front of a [`Registry`]; stopped when dropped.
pub struct PagingProxy {
    state: Arc<State>,
    /// Stopped (and joined) when the proxy is dropped.
    server: LoopbackServer,
}

impl PagingProxy {
    /// Front `reg` (plain HTTP) on a port of its own.
    pub fn start(reg: &Registry, style: LinkStyle) -> PagingProxy {
        let (server, state) = LoopbackServer::start(
            "paging proxy",
            |port| State {
                upstream: reg.url(),
                style,
                port,
                log: Mutex::new(Vec::new()),
            },
            handle,
        );
        PagingProxy { state, server }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.server.port)
    }

    /// The request targets of the tag listings served (`/v2/…/tags/list?…`).
    pub fn tag_requests(&self) -> Vec<String> {
        self.state.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn handle(conn: TcpStream, st: &State) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = match (parts.next(), parts.next()) {
        (Some(m), Some(t)) => (m.to_string(), t.to_string()),
        _ => return Ok(()),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;

    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(std::io::Error::other)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut out = conn;
    if method == "GET" && path.starts_with("/v2/") && path.ends_with("/tags/list") {
        if let Ok(mut l) = st.log.lock() {
            l.push(target.clone());
        }
        if st.style == LinkStyle::NoTagList {
            let body =
                br#"{"errors":[{"code":"UNSUPPORTED","message":"tag listing is not supported"}]}"#;
            return respond(&mut out, 404, "application/json", &[], body);
        }
        // The whole list from the registry, as the client's credentials allow.
        let mut req = http.get(format!("{}{path}", st.upstream));
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("authorization") {
                req = req.header("authorization", v);
            }
        }
        let resp = req.send().map_err(std::io::Error::other)?;
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("application/json")
            .to_string();
        let www = resp
            .headers()
            .get("www-authenticate")
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        let full = resp.bytes().map_err(std::io::Error::other)?.to_vec();
        if status != 200 {
            let mut extra = Vec::new();
            if let Some(w) = www {
                extra.push(("WWW-Authenticate".to_string(), w));
            }
            return respond(&mut out, status, &ctype, &extra, &full);
        }
        let v: serde_json::Value = serde_json::from_slice(&full).unwrap_or_default();
        let name = v["name"].as_str().unwrap_or_default().to_string();
        let mut tags: Vec<String> = v["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        tags.sort();
        if let Some(last) = query_param(query, "last") {
            tags.retain(|t| t.as_str() > last);
        }
        let n = query_param(query, "n").and_then(|n| n.parse::<usize>().ok());
        let mut extra = Vec::new();
        if let Some(n) = n {
            if tags.len() > n {
                tags.truncate(n);
                let last = tags.last().cloned().unwrap_or_default();
                let rel = format!("{path}?n={n}&last={last}");
                let url = match &st.style {
                    LinkStyle::Relative => rel,
                    LinkStyle::Absolute => format!("http://127.0.0.1:{}{rel}", st.port),
                    LinkStyle::OtherHost(h) => format!("http://{h}{rel}"),
                    LinkStyle::NoTagList => rel,
                };
                extra.push(("Link".to_string(), format!("<{url}>; rel=\"next\"")));
            }
        }
        let page = serde_json::json!({ "name": name, "tags": tags }).to_string();
        return respond(&mut out, 200, "application/json", &extra, page.as_bytes());
    }

    // Anything else: forwarded as is.
    let m = reqwest::Method::from_bytes(method.as_bytes()).map_err(std::io::Error::other)?;
    let mut req = http.request(m, format!("{}{target}", st.upstream));
    for (k, v) in &headers {
        let skip = ["host", "connection", "content-length", "accept-encoding"];
        if !skip.iter().any(|s| k.eq_ignore_ascii_case(s)) {
            req = req.header(k.as_str(), v.as_str());
        }
    }
    let resp = req.body(body).send().map_err(std::io::Error::other)?;
    let status = resp.status().as_u16();
    let mut extra = Vec::new();
    let mut ctype = String::new();
    for (k, v) in resp.headers() {
        let k = k.as_str();
        let Ok(v) = v.to_str() else { continue };
        match k {
            "content-type" => ctype = v.to_string(),
            "content-length" | "connection" | "transfer-encoding" => {}
            _ => extra.push((k.to_string(), v.to_string())),
        }
    }
    let head = method == "HEAD";
    let data = resp.bytes().map_err(std::io::Error::other)?.to_vec();
    if head {
        write!(out, "HTTP/1.1 {status} X\r\n")?;
        for (k, v) in &extra {
            write!(out, "{k}: {v}\r\n")?;
        }
        return write!(out, "Connection: close\r\n\r\n");
    }
    respond(&mut out, status, &ctype, &extra, &data)
}

fn respond(
    out: &mut TcpStream,
    status: u16,
    ctype: &str,
    extra: &[(String, String)],
    body: &[u8],
) -> std::io::Result<()> {
    write!(out, "HTTP/1.1 {status} X\r\n")?;
    if !ctype.is_empty() {
        write!(out, "Content-Type: {ctype}\r\n")?;
    }
    for (k, v) in extra {
        write!(out, "{k}: {v}\r\n")?;
    }
    write!(
        out,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    out.write_all(body)?;
    out.flush()
}
