//! A small headless-Chromium driver over the DevTools protocol (a
//! websocket to `--remote-debugging-port=0`): load a page, record every
//! console message, exception, log entry (CSP violations are errors there)
//! and network request, evaluate JavaScript, click, take a screenshot.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// Where Chromium is: `$CHROMIUM`, else the Debian package's path.
pub fn chromium_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Chromium, or `None` after a loud message when it is missing and this is
/// not CI; on CI (`CI` set) a missing Chromium fails the test.
pub fn require_chromium(test: &str) -> Option<PathBuf> {
    match chromium_path() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("{test}: Chromium is missing (/usr/bin/chromium); CI must install it: apt-get install -y chromium")
        }
        None => {
            eprintln!(
                "\n**********\n{test}: SKIPPED: Chromium is missing (apt-get install -y chromium)\n**********\n"
            );
            None
        }
    }
}

pub struct Browser {
    child: Child,
    ws: WebSocket<TcpStream>,
    next_id: u64,
    session: String,
    /// Every event received so far (method, params).
    pub events: Vec<(String, Value)>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Start headless Chromium with a fresh profile and open one page.
    pub fn start(chromium: &Path, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let log = std::fs::File::create(profile.path().join("chromium.log"))
            .unwrap_or_else(|e| panic!("{e}"));
        let child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
                &format!("--window-size={width},{height}"),
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", chromium.display()));
        let port_file = profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(60);
        let (port, path) = loop {
            if let Ok(s) = std::fs::read_to_string(&port_file) {
                let mut l = s.lines();
                if let (Some(p), Some(path)) = (l.next(), l.next()) {
                    break (p.trim().to_string(), path.trim().to_string());
                }
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(profile.path().join("chromium.log"))
                    .unwrap_or_default();
                panic!("Chromium did not start its DevTools endpoint in 60 s:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let stream = TcpStream::connect(format!("127.0.0.1:{port}"))
            .unwrap_or_else(|e| panic!("DevTools port {port}: {e}"));
        let url = format!("ws://127.0.0.1:{port}{path}");
        let (ws, _) = tungstenite::client(url.as_str(), stream)
            .unwrap_or_else(|e| panic!("DevTools websocket {url}: {e}"));
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut b = Browser {
            child,
            ws,
            next_id: 0,
            session: String::new(),
            events: Vec::new(),
            _profile: profile,
        };
        let t = b.call_browser("Target.createTarget", json!({ "url": "about:blank" }));
        let target = t["targetId"].as_str().unwrap_or_default().to_string();
        let s = b.call_browser(
            "Target.attachToTarget",
            json!({ "targetId": target, "flatten": true }),
        );
        b.session = s["sessionId"].as_str().unwrap_or_default().to_string();
        assert!(!b.session.is_empty(), "no DevTools session: {s}");
        for m in [
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
            "Page.enable",
        ] {
            b.call(m, json!({}));
        }
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
        b
    }

    fn read(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            if Instant::now() > deadline {
                return None;
            }
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                    if let Some(m) = v["method"].as_str() {
                        self.events.push((m.to_string(), v["params"].clone()));
                    }
                    return Some(v);
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("DevTools connection: {e}"),
            }
        }
    }

    fn send(&mut self, method: &str, params: Value, session: bool) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if session {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(Message::text(msg.to_string()))
            .unwrap_or_else(|e| panic!("{method}: {e}"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let Some(v) = self.read(deadline) else {
                panic!("{method}: no answer in 60 s");
            };
            if v["id"].as_u64() == Some(id) {
                if let Some(err) = v.get("error") {
                    panic!("{method}: {err}");
                }
                return v["result"].clone();
            }
        }
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, false)
    }

    /// A command on the page's session; its result.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params, true)
    }

    /// Navigate and wait for the load event.
    pub fn load(&mut self, url: &str) {
        let seen = self.events.len();
        self.call("Page.navigate", json!({ "url": url }));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.events[seen..]
            .iter()
            .any(|(m, _)| m == "Page.loadEventFired")
        {
            if self.read(deadline).is_none() {
                panic!("{url}: no load event in 60 s");
            }
        }
        // Let late console messages and requests arrive.
        self.settle(Duration::from_millis(300));
    }

    /// Read events for `d`.
    pub fn settle(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while self.read(end).is_some() {}
    }

    /// Evaluate `expr` in the page; its value (JSON).
    pub fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(ex) = r.get("exceptionDetails") {
            panic!("{expr}: {ex}");
        }
        r["result"]["value"].clone()
    }

    /// A real mouse click in the middle of the element `selector`.
    pub fn click(&mut self, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap_or_default();
        let rect = self.eval(&format!(
            "(() => {{ const e = document.querySelector({sel}); e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let x = rect[0].as_f64().unwrap_or(0.0);
        let y = rect[1].as_f64().unwrap_or(0.0);
        for t in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": t, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }

    /// Type `text` into the focused element, key by key.
    pub fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({ "text": text }));
    }

    /// A PNG of the viewport (`full`: of the whole page).
    pub fn screenshot(&mut self, full: bool) -> Vec<u8> {
        use base64::Engine;
        let r = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": full }),
        );
        base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("screenshot: {e}"))
    }

    /// Console errors and warnings, exceptions and error log entries (CSP
    /// violations among them), as text.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (m, p) in &self.events {
            match m.as_str() {
                "Runtime.consoleAPICalled" => {
                    let t = p["type"].as_str().unwrap_or("");
                    if t == "error" || t == "warning" || t == "assert" {
                        out.push(format!("console.{t}: {}", p["args"]));
                    }
                }
                "Runtime.exceptionThrown" => {
                    out.push(format!("exception: {}", p["exceptionDetails"]));
                }
                "Log.entryAdded" => {
                    let l = p["entry"]["level"].as_str().unwrap_or("");
                    if l == "error" || l == "warning" {
                        out.push(format!("log {l}: {}", p["entry"]));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// Every request the page made, or tried to (blocked ones included).
    pub fn requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|(m, _)| m == "Network.requestWillBeSent")
            .map(|(_, p)| p["request"]["url"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

/// Drain a reader (for a child's output).
pub fn read_all(mut r: impl Read) -> String {
    let mut s = String::new();
    let _ = r.read_to_string(&mut s);
    s
}
