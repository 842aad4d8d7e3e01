//! The vulnerability database as the server sees it: whether one is there
//! and valid (readiness), when it was built (`customs_db_age_seconds`,
//! Harbor's metadata), and when `customs db update` replaced it.
//!
//! Scans open the file themselves, each once at its start: the update
//! writes a new file and renames it over the old one, so a scan reads
//! either the old file whole (its open handle keeps it) or the new one.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::AppState;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DbInfo {
    /// `Metadata.built_at` of the file (RFC 3339).
    pub built_at: String,
    /// Unix seconds of `built_at`.
    pub built_unix: Option<i64>,
    /// How often a new file was picked up since the server started.
    pub generation: u64,
}

pub struct DbWatch {
    path: PathBuf,
    /// (device, inode, size, mtime) of the file last checked.
    seen: Mutex<Option<(u64, u64, u64, i64)>>,
    info: Mutex<Option<DbInfo>>,
    problem: Mutex<Option<String>>,
}

fn identity(path: &std::path::Path) -> Option<(u64, u64, u64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime_nsec() + m.mtime() * 1_000_000_000,
    ))
}

impl DbWatch {
    pub fn new(path: PathBuf) -> DbWatch {
        DbWatch {
            path,
            seen: Mutex::new(None),
            info: Mutex::new(None),
            problem: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The database as last checked; `None` while there is no valid one.
    pub fn info(&self) -> Option<DbInfo> {
        self.info.lock().ok().and_then(|i| i.clone())
    }

    /// Why there is no valid database, if there is not.
    pub fn problem(&self) -> Option<String> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }

    /// Seconds since the database was built.
    pub fn age_seconds(&self) -> Option<i64> {
        let built = self.info()?.built_unix?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()?
            .as_secs();
        Some(i64::try_from(now).ok()? - built)
    }

    /// Look at the file; reopen and validate it when it changed. A new file
    /// that does not open keeps the last valid one's information (scans
    /// opening it fail, each with the one-line reason).
    pub fn check(&self) {
        let id = identity(&self.path);
        let changed = self.seen.lock().map(|s| *s != id).unwrap_or(true);
        if !changed {
            return;
        }
        let opened = customs_scan::open_db_file(&self.path).and_then(|db| {
            db.metadata()
                .map_err(|e| anyhow::anyhow!("{}: {e}", self.path.display()))
        });
        match opened {
            Ok(meta) => {
                let built_unix = humantime::parse_rfc3339_weak(meta.built_at.trim_end_matches('Z'))
                    .ok()
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .and_then(|d| i64::try_from(d.as_secs()).ok());
                if let Ok(mut i) = self.info.lock() {
                    let generation = i.as_ref().map(|x| x.generation + 1).unwrap_or(0);
                    if generation > 0 {
                        tracing::info!(
                            "{}: a new database (built {}) is used from now on",
                            self.path.display(),
                            meta.built_at
                        );
                    }
                    *i = Some(DbInfo {
                        built_at: meta.built_at,
                        built_unix,
                        generation,
                    });
                }
                if let Ok(mut p) = self.problem.lock() {
                    *p = None;
                }
            }
            Err(e) => {
                let msg = format!("{e:#}");
                tracing::warn!("{msg}");
                if let Ok(mut p) = self.problem.lock() {
                    *p = Some(msg);
                }
            }
        }
        if let Ok(mut s) = self.seen.lock() {
            *s = id;
        }
    }
}

/// Check the database every `--db-check-interval`.
pub fn spawn(state: Arc<AppState>) {
    let every = state
        .config
        .db_check_interval
        .max(Duration::from_millis(100));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let st = state.clone();
            let _ = tokio::task::spawn_blocking(move || st.db.check()).await;
        }
    });
}
