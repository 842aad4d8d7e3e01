//! A real PostgreSQL server for tests: Debian's `postgresql` package (its
//! binaries under /usr/lib/postgresql/VERSION/bin, installed on first use),
//! a cluster made with `initdb` in a temporary directory, `postgres` started
//! on a free 127.0.0.1 port with its socket in that directory, and stopped
//! by its PID on drop (SIGQUIT: an immediate shutdown, then SIGKILL if it
//! lingers).
//!
//! PostgreSQL refuses to run as root, and tests here run as root: then the
//! cluster belongs to `nobody` and `initdb` and `postgres` run under its uid
//! (`setuid` in the child, no `su` or `runuser` in between, so the PID
//! stopped is the server's). Authentication is `trust` on loopback only.
//!
//! ```no_run
//! use customs_testkit::postgres::Postgres;
//! let pg = Postgres::start();
//! let url = pg.create_db("history_a"); // postgres://customs@127.0.0.1:PORT/history_a
//! pg.psql("history_a", "SELECT 1");
//! # let _ = url;
//! ```

use crate::registry::{require, tail, START_TIMEOUT};
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The superuser of test clusters.
pub const USER: &str = "customs";

/// The uid/gid of `nobody` on Debian.
const NOBODY: u32 = 65534;

/// A running PostgreSQL server; stopped by its PID when dropped.
pub struct Postgres {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    bin: PathBuf,
    log_path: PathBuf,
}

fn is_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

/// The newest installed server's bin directory.
fn bin_dir() -> PathBuf {
    require("/usr/lib/postgresql", "postgresql");
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "no PostgreSQL server under /usr/lib/postgresql/*/bin: apt-get install postgresql"
        ),
    }
}

/// A command that runs as the cluster's owner.
fn as_owner(bin: &Path) -> Command {
    let mut c = Command::new(bin);
    if is_root() {
        c.uid(NOBODY).gid(NOBODY);
    }
    c.env_remove("PGDATA")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("postgres: no free port: {e}"))
}

impl Postgres {
    /// initdb a fresh cluster and start the server; waits until it accepts
    /// connections.
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("customs-postgres-")
            .tempdir()
            .unwrap_or_else(|e| panic!("postgres: tempdir: {e}"));
        let data = dir.path().join("data");
        if is_root() {
            let c = std::ffi::CString::new(dir.path().as_os_str().as_encoded_bytes())
                .unwrap_or_else(|e| panic!("postgres: {e}"));
            // SAFETY: a valid NUL-terminated path.
            let rc = unsafe { libc::chown(c.as_ptr(), NOBODY, NOBODY) };
            assert_eq!(
                rc,
                0,
                "postgres: chown {} to nobody failed",
                dir.path().display()
            );
        }
        let init = as_owner(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
                "--no-sync",
            ])
            .output()
            .unwrap_or_else(|e| panic!("postgres: cannot run initdb: {e}"));
        assert!(
            init.status.success(),
            "initdb failed ({}):\n{}{}",
            init.status,
            String::from_utf8_lossy(&init.stdout),
            String::from_utf8_lossy(&init.stderr)
        );
        let log_path = dir.path().join("postgres.log");
        let mut last = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let log = fs::File::create(&log_path).unwrap_or_else(|e| panic!("postgres: log: {e}"));
            let log2 = log
                .try_clone()
                .unwrap_or_else(|e| panic!("postgres: log: {e}"));
            let mut child = as_owner(&bin.join("postgres"))
                .arg("-D")
                .arg(&data)
                .args(["-p", &port.to_string()])
                .args(["-c", "listen_addresses=127.0.0.1"])
                .arg("-c")
                .arg(format!("unix_socket_directories={}", dir.path().display()))
                .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
                .args(["-c", "shared_buffers=16MB", "-c", "max_connections=40"])
                .args(["-c", "dynamic_shared_memory_type=mmap"])
                .stdout(log)
                .stderr(log2)
                .spawn()
                .unwrap_or_else(|e| panic!("postgres: cannot start: {e}"));
            let started = Instant::now();
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last = fs::read_to_string(&log_path).unwrap_or_default();
                    if last.contains("could not bind") || last.contains("already in use") {
                        break; // a port collision: try another
                    }
                    panic!(
                        "postgres exited ({status}) before accepting connections\n{}",
                        tail(&last)
                    );
                }
                let log = fs::read_to_string(&log_path).unwrap_or_default();
                if log.contains("database system is ready to accept connections")
                    && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                {
                    return Postgres {
                        child,
                        port,
                        dir,
                        bin,
                        log_path,
                    };
                }
                if started.elapsed() > START_TIMEOUT {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "postgres on 127.0.0.1:{port} was not ready within {START_TIMEOUT:?}\n{}",
                        tail(&log)
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("postgres: no free port after 5 tries\n{}", tail(&last));
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `postgres://customs@127.0.0.1:PORT/DB`
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Create a database (a test's own); returns its URL.
    pub fn create_db(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
        self.url(name)
    }

    /// Run SQL with `psql` against a database; panics if it fails. Returns
    /// the unaligned, tuples-only output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = self.psql_output(db, sql);
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn psql_output(&self, db: &str, sql: &str) -> Output {
        Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                USER,
                "-d",
                db,
            ])
            .args(["-c", sql])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("psql: {e}"))
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let Ok(pid) = i32::try_from(self.child.id()) else {
            return;
        };
        // SAFETY: signalling our own child by its PID.
        unsafe {
            // Immediate shutdown: the cluster is thrown away, so no
            // shutdown checkpoint is worth waiting for.
            libc::kill(pid, libc::SIGQUIT);
        }
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
