//! A real Redis server for tests: Debian's `redis-server` (installed on
//! first use), started on a free 127.0.0.1 port with no persistence
//! (`--save ""`, `--appendonly no`), its working directory and log in a
//! temporary directory, and stopped by its PID on drop (SIGTERM, then
//! SIGKILL if it lingers).
//!
//! Commands go over raw RESP on a fresh TCP connection each ([`Redis::command`]),
//! so a test needs no Redis client of its own to look at what the code under
//! test wrote.
//!
//! ```no_run
//! use customs_testkit::redis::Redis;
//! let r = Redis::start_with_password("s3cret");
//! let url = r.url(); // redis://:s3cret@127.0.0.1:PORT/0
//! assert_eq!(r.command(&["SET", "k", "v"]), "OK");
//! assert_eq!(r.keys("*"), ["k"]);
//! # let _ = url;
//! ```

use crate::registry::{require, tail, START_TIMEOUT};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REDIS_BIN: &str = "/usr/bin/redis-server";

/// How long one command's connection may wait on the server.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest bulk string or array a reply may announce (Redis' own
/// `proto-max-bulk-len` default).
const MAX_LEN: usize = 512 * 1024 * 1024;

/// A running Redis server; stopped by its PID when dropped.
pub struct Redis {
    child: Child,
    port: u16,
    password: Option<String>,
    dir: tempfile::TempDir,
    log_path: PathBuf,
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    /// `None`: the null bulk string (`$-1`).
    Bulk(Option<Vec<u8>>),
    /// `None`: the null array (`*-1`).
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as text: strings as they are, errors as their line
    /// (`ERR …`, `NOAUTH …`), integers in decimal, a null as `(nil)`, an
    /// array's elements joined by `\n`.
    fn render(&self) -> String {
        match self {
            Reply::Simple(s) | Reply::Error(s) => s.clone(),
            Reply::Integer(i) => i.to_string(),
            Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Reply::Bulk(None) | Reply::Array(None) => "(nil)".into(),
            Reply::Array(Some(items)) => items
                .iter()
                .map(Reply::render)
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// One RESP request: an array of bulk strings.
fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn bad(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

/// A line up to CRLF, without it.
fn read_line(r: &mut impl BufRead) -> std::io::Result<String> {
    let mut line = Vec::new();
    r.by_ref().take(64 * 1024).read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\r\n") {
        return Err(bad(format!(
            "RESP: a line without CRLF: {:?}",
            String::from_utf8_lossy(&line)
        )));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|e| bad(format!("RESP: a line that is not UTF-8: {e}")))
}

/// A length (`$N`, `*N`): `None` for -1, an error for anything else that is
/// not a length within [`MAX_LEN`].
fn length(s: &str) -> std::io::Result<Option<usize>> {
    if s == "-1" {
        return Ok(None);
    }
    match s.parse::<usize>() {
        Ok(n) if n <= MAX_LEN => Ok(Some(n)),
        _ => Err(bad(format!("RESP: a bad length {s:?}"))),
    }
}

/// Read one reply.
fn read_reply(r: &mut impl BufRead) -> std::io::Result<Reply> {
    let line = read_line(r)?;
    let mut chars = line.chars();
    let kind = chars.next();
    let rest = chars.as_str();
    match kind {
        Some('+') => Ok(Reply::Simple(rest.to_string())),
        Some('-') => Ok(Reply::Error(rest.to_string())),
        Some(':') => rest
            .parse()
            .map(Reply::Integer)
            .map_err(|_| bad(format!("RESP: a bad integer {rest:?}"))),
        Some('$') => {
            let Some(n) = length(rest)? else {
                return Ok(Reply::Bulk(None));
            };
            let mut data = Vec::new();
            r.by_ref().take(n as u64 + 2).read_to_end(&mut data)?;
            if data.len() != n + 2 || !data.ends_with(b"\r\n") {
                return Err(bad(format!(
                    "RESP: a bulk string of {n} bytes cut short or without CRLF"
                )));
            }
            data.truncate(n);
            Ok(Reply::Bulk(Some(data)))
        }
        Some('*') => {
            let Some(n) = length(rest)? else {
                return Ok(Reply::Array(None));
            };
            // Elements are read one by one, so a hostile count allocates
            // nothing up front.
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(read_reply(r)?);
            }
            Ok(Reply::Array(Some(items)))
        }
        _ => Err(bad(format!("RESP: an unknown reply {line:?}"))),
    }
}

/// Send commands on one fresh connection (AUTH first with a password) and
/// read the last one's reply.
fn exchange(port: u16, password: Option<&str>, args: &[&str]) -> std::io::Result<Reply> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let tcp = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut w = tcp.try_clone()?;
    let mut r = BufReader::new(tcp);
    if let Some(pw) = password {
        w.write_all(&encode(&["AUTH", pw]))?;
        match read_reply(&mut r)? {
            Reply::Simple(s) if s == "OK" => {}
            other => return Err(bad(format!("AUTH answered {:?}", other.render()))),
        }
    }
    w.write_all(&encode(args))?;
    read_reply(&mut r)
}

/// A loopback port free at the time of asking.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("redis: no free loopback port: {e}"))
}

/// `s` percent-encoded for a URL's userinfo (unreserved characters kept).
fn userinfo_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Redis {
    /// Start a server without a password; waits until it answers PING.
    pub fn start() -> Redis {
        Self::launch(None)
    }

    /// Start a server that requires this password (`--requirepass`).
    pub fn start_with_password(pw: &str) -> Redis {
        Self::launch(Some(pw))
    }

    fn launch(password: Option<&str>) -> Redis {
        require(REDIS_BIN, "redis-server");
        let dir = tempfile::Builder::new()
            .prefix("customs-redis-")
            .tempdir()
            .unwrap_or_else(|e| panic!("redis: tempdir: {e}"));
        let log_path = dir.path().join("redis.log");
        let out_path = dir.path().join("redis.out");
        let logs = |log_path: &Path| {
            format!(
                "{}{}",
                fs::read_to_string(log_path).unwrap_or_default(),
                fs::read_to_string(&out_path).unwrap_or_default()
            )
        };
        let mut last = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let _ = fs::remove_file(&log_path);
            let out = fs::File::create(&out_path).unwrap_or_else(|e| panic!("redis: log: {e}"));
            let out2 = out
                .try_clone()
                .unwrap_or_else(|e| panic!("redis: log: {e}"));
            let mut cmd = Command::new(REDIS_BIN);
            cmd.args(["--port", &port.to_string()])
                .args(["--bind", "127.0.0.1"])
                .args(["--protected-mode", "yes"])
                .args(["--save", ""])
                .args(["--appendonly", "no"])
                .args(["--daemonize", "no"])
                .arg("--dir")
                .arg(dir.path())
                .arg("--logfile")
                .arg(&log_path);
            if let Some(pw) = password {
                cmd.args(["--requirepass", pw]);
            }
            let mut child = cmd
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(out2)
                .spawn()
                .unwrap_or_else(|e| panic!("redis: cannot start {REDIS_BIN}: {e}"));
            let started = Instant::now();
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last = logs(&log_path);
                    if last.contains("already in use")
                        || last.contains("Could not create server TCP listening socket")
                    {
                        break; // a port collision: try another
                    }
                    panic!(
                        "redis-server exited ({status}) before answering PING\n{}",
                        tail(&last)
                    );
                }
                let pong = exchange(port, password, &["PING"]);
                if matches!(&pong, Ok(Reply::Simple(s)) if s == "PONG") {
                    return Redis {
                        child,
                        port,
                        password: password.map(str::to_string),
                        dir,
                        log_path,
                    };
                }
                if started.elapsed() > START_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "redis on 127.0.0.1:{port} did not answer PING within {START_TIMEOUT:?} (last: {pong:?})\n{}",
                        tail(&logs(&log_path))
                    );
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        panic!("redis: no free port after 5 tries\n{}", tail(&last));
    }

    /// `redis://127.0.0.1:PORT/0`, or `redis://:PW@127.0.0.1:PORT/0` with a
    /// password (percent-encoded).
    pub fn url(&self) -> String {
        match &self.password {
            Some(pw) => format!("redis://:{}@127.0.0.1:{}/0", userinfo_escape(pw), self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn reply(&self, args: &[&str]) -> Reply {
        exchange(self.port, self.password.as_deref(), args).unwrap_or_else(|e| {
            panic!(
                "redis {args:?} on 127.0.0.1:{}: {e}\n{}",
                self.port,
                tail(&self.log())
            )
        })
    }

    /// One command on a fresh connection; the reply as text: a simple or
    /// bulk string as it is, an error as its line (`ERR …`, `WRONGTYPE …`),
    /// an integer in decimal, a null as `(nil)`, an array's elements joined
    /// by `\n`. Panics on an I/O or protocol error.
    pub fn command(&self, args: &[&str]) -> String {
        self.reply(args).render()
    }

    /// The keys matching a glob pattern (by SCAN), sorted.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let mut cursor = "0".to_string();
        let mut keys = Vec::new();
        loop {
            let reply = self.reply(&["SCAN", &cursor, "MATCH", pattern, "COUNT", "1000"]);
            let Reply::Array(Some(parts)) = &reply else {
                panic!("redis SCAN answered {:?}", reply.render());
            };
            let (Some(Reply::Bulk(Some(next))), Some(Reply::Array(Some(found)))) =
                (parts.first(), parts.get(1))
            else {
                panic!("redis SCAN answered {:?}", reply.render());
            };
            keys.extend(found.iter().map(Reply::render));
            cursor = String::from_utf8_lossy(next).into_owned();
            if cursor == "0" {
                break;
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Remove every key of every database.
    pub fn flushall(&self) {
        let r = self.command(&["FLUSHALL"]);
        assert_eq!(r, "OK", "redis FLUSHALL answered {r:?}");
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let Ok(pid) = i32::try_from(self.child.id()) else {
            return;
        };
        // SAFETY: signalling our own child by its PID (not yet reaped, so
        // the PID is still ours).
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: u32) -> bool {
        let Ok(pid) = i32::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    #[test]
    fn a_server_answers_ping_and_keeps_what_is_set() {
        let r = Redis::start();
        assert_eq!(r.command(&["PING"]), "PONG");
        assert_eq!(r.url(), format!("redis://127.0.0.1:{}/0", r.port()));
        assert_eq!(r.command(&["SET", "scan:1", "a value\r\nwith CRLF"]), "OK");
        assert_eq!(r.command(&["GET", "scan:1"]), "a value\r\nwith CRLF");
        assert_eq!(r.command(&["GET", "missing"]), "(nil)");
        assert_eq!(r.command(&["INCR", "n"]), "1");
        assert_eq!(r.command(&["RPUSH", "l", "x", "y"]), "2");
        assert_eq!(r.command(&["LRANGE", "l", "0", "-1"]), "x\ny");
        assert!(
            r.command(&["NOSUCHCOMMAND"]).starts_with("ERR "),
            "an error reads as its line"
        );
        assert_eq!(r.command(&["CONFIG", "GET", "save"]), "save\n");
        assert_eq!(
            r.command(&["CONFIG", "GET", "appendonly"]),
            "appendonly\nno"
        );
        assert_eq!(r.command(&["CONFIG", "GET", "bind"]), "bind\n127.0.0.1");
    }

    #[test]
    fn keys_lists_what_matches_and_flushall_empties() {
        let r = Redis::start();
        for i in 0..2500 {
            assert_eq!(r.command(&["SET", &format!("scan:{i}"), "1"]), "OK");
        }
        assert_eq!(r.command(&["SET", "other", "1"]), "OK");
        let keys = r.keys("scan:*");
        assert_eq!(keys.len(), 2500, "every page of SCAN");
        assert!(keys.iter().all(|k| k.starts_with("scan:")));
        assert_eq!(r.keys("oth*"), ["other"]);
        assert!(r.keys("nothing*").is_empty());
        r.flushall();
        assert!(r.keys("*").is_empty());
    }

    #[test]
    fn a_password_server_refuses_unauthenticated_commands() {
        let r = Redis::start_with_password("s3cret p@ss");
        assert_eq!(
            r.url(),
            format!("redis://:s3cret%20p%40ss@127.0.0.1:{}/0", r.port())
        );
        let denied = match exchange(r.port(), None, &["GET", "k"]) {
            Ok(reply) => reply.render(),
            Err(e) => panic!("{e}"),
        };
        assert!(denied.starts_with("NOAUTH"), "{denied}");
        assert!(
            exchange(r.port(), Some("wrong"), &["PING"]).is_err(),
            "a wrong password is refused"
        );
        assert_eq!(r.command(&["SET", "k", "v"]), "OK");
        assert_eq!(r.command(&["GET", "k"]), "v");
        assert_eq!(r.keys("*"), ["k"]);
    }

    #[test]
    fn dropping_stops_the_server() {
        let r = Redis::start();
        let (pid, port, dir) = (r.pid(), r.port(), r.dir().to_path_buf());
        assert!(alive(pid));
        drop(r);
        assert!(!alive(pid), "redis-server {pid} still runs after drop");
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still answers"
        );
        assert!(!dir.exists(), "the tempdir is removed");
    }

    #[test]
    fn replies_are_read_whole_and_damaged_ones_are_errors() {
        let mut ok: &[u8] = b"*3\r\n$3\r\nabc\r\n:-7\r\n*2\r\n+x\r\n$-1\r\n";
        let reply = match read_reply(&mut ok) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(reply.render(), "abc\n-7\nx\n(nil)");
        for bad in [
            &b"$5\r\nab\r\n"[..],
            b"$3\r\nabcd\r\n",
            b":x\r\n",
            b"$99999999999\r\n",
            b"*-2\r\n",
            b"!3\r\n",
            b"+no crlf",
        ] {
            let mut input = bad;
            assert!(
                read_reply(&mut input).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(encode(&["GET", "k"]), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert_eq!(encode(&["PING"]), b"*1\r\n$4\r\nPING\r\n");
    }
}
