//! Temporary files written beside their final name and renamed into place,
//! and the sweep that removes the ones a killed process left behind.
//!
//! A writer names its temporary file `.{stem}.{what}-{pid}-{n}` in the
//! target's directory (same filesystem, so the rename is atomic). A process
//! killed with `kill -9` cannot clean up, so every writer first sweeps the
//! directory: a temporary file whose PID is no longer running and which has
//! not been written for [`STALE_AFTER_DEAD`], or which is older than
//! [`STALE_AFTER`] whatever its PID, is removed. A live writer keeps touching
//! its file, so it is never swept; a PID reused by another process only delays
//! the sweep to [`STALE_AFTER`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// A temporary file of a dead process, untouched this long, is removed.
pub const STALE_AFTER_DEAD: Duration = Duration::from_secs(60);
/// Any temporary file untouched this long is removed (PID reuse, other PID
/// namespaces sharing one cache).
pub const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The prefix of every temporary file for `target` of kind `what`.
fn prefix(target: &Path, what: &str) -> String {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("customs");
    format!(".{name}.{what}-")
}

/// A fresh temporary path beside `target`, unique in this process.
pub fn temp_beside(target: &Path, what: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    target.with_file_name(format!(
        "{}{}-{n}",
        prefix(target, what),
        std::process::id()
    ))
}

/// A fresh temporary path in `dir` named `{prefix}{pid}-{n}`, for a cache
/// folder whose writers share one prefix (swept with [`sweep_dir`]).
pub fn temp_in(dir: &Path, prefix: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{prefix}{}-{n}", std::process::id()))
}

/// Remove the stale temporary files of kind `what` for `target`. Returns how
/// many were removed. Errors are ignored: the sweep is housekeeping.
pub fn sweep_beside(target: &Path, what: &str) -> usize {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    sweep_dir(dir, &prefix(target, what))
}

/// Remove the stale files in `dir` whose names start with `prefix` and go on
/// with `{pid}-…`.
pub fn sweep_dir(dir: &Path, prefix: &str) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for ent in rd.flatten() {
        let name = ent.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let Ok(meta) = ent.path().symlink_metadata() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        let dead = match pid {
            Some(p) => p != std::process::id() && !pid_alive(p),
            None => true,
        };
        let stale = age >= STALE_AFTER || (dead && age >= STALE_AFTER_DEAD);
        if stale && std::fs::remove_file(ent.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether a process with this PID runs (in this PID namespace).
fn pid_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true // unknown: leave it to the age rule
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_age(p: &Path, secs: u64) {
        let t = SystemTime::now() - Duration::from_secs(secs);
        let f = std::fs::File::options().write(true).open(p);
        if let Ok(f) = f {
            let _ = f.set_modified(t);
        }
    }

    #[test]
    fn sweeps_dead_and_ancient_temp_files_only() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let target = d.path().join("customs.db");
        // A PID that cannot run: above the kernel's maximum.
        let dead_old = d.path().join(".customs.db.building-4194999-0");
        let dead_fresh = d.path().join(".customs.db.building-4194998-0");
        let mine = temp_beside(&target, "building");
        let other_kind = d.path().join(".customs.db.download-4194999-0");
        let unrelated = d.path().join("customs.db");
        for p in [&dead_old, &dead_fresh, &mine, &other_kind, &unrelated] {
            std::fs::write(p, b"x").unwrap_or_else(|e| panic!("{e}"));
        }
        set_age(&dead_old, 120);
        set_age(&other_kind, 120);
        set_age(&mine, 3600);
        set_age(&unrelated, 30 * 24 * 3600);
        assert_eq!(sweep_beside(&target, "building"), 1);
        assert!(!dead_old.exists());
        assert!(dead_fresh.exists(), "a fresh file may still be in use");
        assert!(mine.exists(), "this process is alive");
        assert!(other_kind.exists() && unrelated.exists());
        set_age(&mine, STALE_AFTER.as_secs() + 1);
        assert_eq!(sweep_beside(&target, "building"), 1);
        assert!(!mine.exists());
    }

    #[test]
    fn temp_names_are_unique_and_beside_the_target() {
        let t = Path::new("/x/y/customs.db");
        let a = temp_beside(t, "building");
        let b = temp_beside(t, "building");
        assert_ne!(a, b);
        assert_eq!(a.parent(), t.parent());
    }
}
