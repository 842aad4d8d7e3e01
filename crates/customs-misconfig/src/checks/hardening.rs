//! Hardening checks on an image's final filesystem (Dockle-like).

use std::collections::{BTreeMap, HashMap};

use customs_model::Severity;
use serde::{Deserialize, Serialize};

use super::ds_user::INITS;
use crate::registry::{CheckInfo, Scanner};

/// Kind of a filesystem entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    Other,
}

/// One entry of the final (merged) filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsEntry {
    /// Relative path without a leading `/` (`usr/bin/passwd`).
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits including setuid (0o4000), setgid (0o2000) and sticky
    /// (0o1000); file-type bits, if present, are ignored.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub link_target: Option<String>,
}

/// The final filesystem of an image, as the walker saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsSnapshot {
    pub entries: Vec<FsEntry>,
    /// Contents of the files [`hardening_wanted`] asked for, by path.
    pub contents: HashMap<String, Vec<u8>>,
    /// The config user, if known.
    pub user: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
}

/// Options of the hardening scanner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HardeningOptions {
    /// setuid/setgid files that are accepted (with or without leading `/`).
    pub setuid_allow: Vec<String>,
}

const WANTED: &[&str] = &["etc/passwd", "etc/shadow", "etc/group", "etc/gshadow"];

fn norm(path: &str) -> &str {
    path.trim_start_matches("./").trim_start_matches('/')
}

/// Whether the hardening scanner needs the contents of `path`.
pub fn hardening_wanted(path: &str) -> bool {
    WANTED.contains(&norm(path))
}

/// Shells CS-HARD-007 looks for in [`BIN_DIRS`].
const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"];
/// Package managers CS-HARD-008 looks for in [`BIN_DIRS`].
const PKG_MANAGERS: &[&str] = &[
    "apt", "apt-get", "dpkg", "apk", "yum", "dnf", "microdnf", "rpm", "zypper", "tdnf",
];

/// Changes whenever [`hardening_keeps`] may keep other entries (part of
/// the layer cache key).
pub const HARDENING_KEEPS_VERSION: &str = "hardening-keeps-1";

/// Whether any hardening check looks at this entry: setuid, setgid or
/// world-writable files, world-writable directories, the shells, package
/// managers and inits of the binary directories, package manager caches,
/// cache directories in home directories, version-control directories and
/// OS metadata files. The walker keeps the metadata of these entries only
/// (a superset of what the checks report), so that a layer of a million
/// ordinary files costs a hash per file rather than its metadata; every
/// finding stays the same.
pub fn hardening_keeps(path: &str, kind: EntryKind, mode: u32) -> bool {
    let p = norm(path).trim_end_matches('/');
    match kind {
        EntryKind::File if mode & 0o6002 != 0 => return true,
        EntryKind::Dir if mode & 0o002 != 0 => return true,
        _ => {}
    }
    let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
    if BIN_DIRS.contains(&dir)
        && (SHELLS.contains(&name) || PKG_MANAGERS.contains(&name) || INITS.contains(&name))
    {
        return true;
    }
    match kind {
        EntryKind::File => {
            CACHES.iter().any(|(prefix, _)| p.starts_with(prefix))
                || matches!(name, ".DS_Store" | "Thumbs.db")
        }
        EntryKind::Dir => {
            matches!(name, ".git" | ".svn" | ".hg")
                || matches!(
                    p.split('/').collect::<Vec<_>>().as_slice(),
                    ["home", _, ".cache", "pip"] | ["home", _, ".npm"]
                )
        }
        _ => false,
    }
}

/// A failure: a message (no line numbers on filesystems).
type HFn = fn(&Fs<'_>, &HardeningOptions) -> Vec<String>;

/// The snapshot with paths normalized and indexed.
pub(crate) struct Fs<'a> {
    entries: Vec<(&'a str, &'a FsEntry)>,
    snap: &'a FsSnapshot,
}

impl<'a> Fs<'a> {
    pub(crate) fn new(snap: &'a FsSnapshot) -> Self {
        let mut entries: Vec<(&str, &FsEntry)> = snap
            .entries
            .iter()
            .map(|e| (norm(&e.path).trim_end_matches('/'), e))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        Fs { entries, snap }
    }

    fn exists(&self, p: &str) -> bool {
        self.entries.binary_search_by(|(q, _)| (*q).cmp(p)).is_ok()
    }

    fn content(&self, p: &str) -> Option<String> {
        self.snap
            .contents
            .iter()
            .find(|(k, _)| norm(k) == p)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }
}

pub static CSHARD001: CheckInfo = CheckInfo {
    id: "CS-HARD-001",
    scanner: Scanner::Hardening,
    severity: Severity::Medium,
    title: "setuid/setgid file",
    description: "A setuid or setgid executable runs with its owner's or group's privileges whoever starts it; each one in an image is a potential privilege escalation path and most containers need none.",
    resolution: "Remove the setuid/setgid bits in the Dockerfile ('RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +'), remove the binary, or add it to the allow list if it is needed",
    references: &["https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#cis-di-0008"],
};

fn setuid(fs: &Fs<'_>, o: &HardeningOptions) -> Vec<String> {
    fs.entries
        .iter()
        .filter(|(_, e)| e.kind == EntryKind::File && e.mode & 0o6000 != 0)
        .filter(|(p, _)| !o.setuid_allow.iter().any(|a| norm(a) == *p))
        .map(|(p, e)| {
            let bits = match (e.mode & 0o4000 != 0, e.mode & 0o2000 != 0) {
                (true, true) => "setuid+setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            format!(
                "/{p} is {bits} (owner {}:{}, mode {:04o})",
                e.uid,
                e.gid,
                e.mode & 0o7777
            )
        })
        .collect()
}

pub static CSHARD002: CheckInfo = CheckInfo {
    id: "CS-HARD-002",
    scanner: Scanner::Hardening,
    severity: Severity::Medium,
    title: "World-writable file",
    description: "Any user in the container can change a world-writable file, e.g. to plant code that a more privileged process later runs.",
    resolution: "Remove write permission for others ('chmod o-w FILE') in the Dockerfile",
    references: &["https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md"],
};

fn world_writable_files(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    fs.entries
        .iter()
        .filter(|(p, e)| {
            e.kind == EntryKind::File && e.mode & 0o002 != 0 && !p.starts_with("proc/")
        })
        .map(|(p, e)| format!("/{p} is world-writable (mode {:04o})", e.mode & 0o7777))
        .collect()
}

pub static CSHARD003: CheckInfo = CheckInfo {
    id: "CS-HARD-003",
    scanner: Scanner::Hardening,
    severity: Severity::High,
    title: "World-writable directory without sticky bit",
    description: "In a world-writable directory without the sticky bit any user can delete or replace other users' files (the reason /tmp is mode 1777).",
    resolution: "Set the sticky bit ('chmod +t DIR') or remove write permission for others ('chmod o-w DIR')",
    references: &["https://man7.org/linux/man-pages/man1/chmod.1.html"],
};

fn world_writable_dirs(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    fs.entries
        .iter()
        .filter(|(_, e)| e.kind == EntryKind::Dir && e.mode & 0o002 != 0 && e.mode & 0o1000 == 0)
        .map(|(p, e)| {
            format!(
                "/{p} is world-writable without the sticky bit (mode {:04o})",
                e.mode & 0o7777
            )
        })
        .collect()
}

pub static CSHARD004: CheckInfo = CheckInfo {
    id: "CS-HARD-004",
    scanner: Scanner::Hardening,
    severity: Severity::Critical,
    title: "Account with an empty password",
    description: "An account whose password field is empty can log in (su, login, ssh with PermitEmptyPasswords) without any password.",
    resolution: "Lock the account ('passwd -l USER', or '!' / '*' in /etc/shadow) or delete it",
    references: &["https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#dkl-li-0001"],
};

fn empty_passwords(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(shadow) = fs.content("etc/shadow") {
        for line in shadow
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let mut f = line.split(':');
            if let (Some(user), Some("")) = (f.next(), f.next()) {
                out.push(format!(
                    "User '{user}' has an empty password in /etc/shadow"
                ));
            }
        }
    }
    if let Some(passwd) = fs.content("etc/passwd") {
        for line in passwd
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let mut f = line.split(':');
            if let (Some(user), Some("")) = (f.next(), f.next()) {
                out.push(format!(
                    "User '{user}' has an empty password in /etc/passwd"
                ));
            }
        }
    }
    out
}

/// Duplicate values of field `idx` (and of the name, field 0) in a
/// colon-separated database.
fn duplicates(text: &str, idx: usize, what: &str, file: &str) -> Vec<String> {
    let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for line in text.lines().filter(|l| {
        !l.trim().is_empty() && !l.starts_with('#') && !l.starts_with('+') && !l.starts_with('-')
    }) {
        let f: Vec<&str> = line.split(':').collect();
        let (Some(name), Some(id)) = (f.first(), f.get(idx)) else {
            continue;
        };
        by_id.entry(id).or_default().push(name);
        *by_name.entry(name).or_default() += 1;
    }
    let mut out: Vec<String> = by_id
        .into_iter()
        .filter(|(_, names)| names.len() > 1)
        .map(|(id, names)| format!("{what} {id} is shared by {} in /{file}", names.join(", ")))
        .collect();
    out.extend(
        by_name
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(name, n)| format!("Name '{name}' is defined {n} times in /{file}")),
    );
    out
}

pub static CSHARD005: CheckInfo = CheckInfo {
    id: "CS-HARD-005",
    scanner: Scanner::Hardening,
    severity: Severity::Medium,
    title: "Duplicate UIDs in /etc/passwd",
    description: "Users sharing a UID are the same user to the kernel: file ownership and audit trails become ambiguous, and a 'non-root' name may in fact be UID 0.",
    resolution: "Give every user its own UID (and remove duplicate entries)",
    references: &["https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#dkl-li-0002"],
};

fn duplicate_uids(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    fs.content("etc/passwd")
        .map(|t| duplicates(&t, 2, "UID", "etc/passwd"))
        .unwrap_or_default()
}

pub static CSHARD006: CheckInfo = CheckInfo {
    id: "CS-HARD-006",
    scanner: Scanner::Hardening,
    severity: Severity::Medium,
    title: "Duplicate GIDs in /etc/group",
    description: "Groups sharing a GID are the same group to the kernel, which makes group permissions ambiguous.",
    resolution: "Give every group its own GID (and remove duplicate entries)",
    references: &["https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#dkl-li-0002"],
};

fn duplicate_gids(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    fs.content("etc/group")
        .map(|t| duplicates(&t, 2, "GID", "etc/group"))
        .unwrap_or_default()
}

const BIN_DIRS: &[&str] = &[
    "bin",
    "sbin",
    "usr/bin",
    "usr/sbin",
    "usr/local/bin",
    "usr/local/sbin",
];

/// Which of `names` exist in the usual binary directories.
fn present(fs: &Fs<'_>, names: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for n in names {
        for d in BIN_DIRS {
            let p = format!("{d}/{n}");
            if fs.exists(&p) {
                found.push(format!("/{p}"));
            }
        }
    }
    found
}

pub static CSHARD007: CheckInfo = CheckInfo {
    id: "CS-HARD-007",
    scanner: Scanner::Hardening,
    severity: Severity::Low,
    title: "Shell present in the image",
    description: "A shell lets an attacker who gets code execution run arbitrary commands comfortably. Images that only run one binary do not need one: distroless or scratch-based images have none.",
    resolution: "Consider a distroless or scratch runtime image (copy the application from a build stage)",
    references: &["https://github.com/GoogleContainerTools/distroless"],
};

fn shells(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    let found = present(fs, SHELLS);
    if found.is_empty() {
        return vec![];
    }
    vec![format!("Shells present: {}", found.join(", "))]
}

pub static CSHARD008: CheckInfo = CheckInfo {
    id: "CS-HARD-008",
    scanner: Scanner::Hardening,
    severity: Severity::Low,
    title: "Package manager present in the image",
    description: "A package manager in the running image lets an attacker install tools, and it is not needed to run the application. Distroless images ship without one.",
    resolution: "Use a distroless or minimal runtime stage, or remove the package manager in the final stage",
    references: &["https://github.com/GoogleContainerTools/distroless"],
};

fn package_managers(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    let found = present(fs, PKG_MANAGERS);
    if found.is_empty() {
        return vec![];
    }
    vec![format!("Package managers present: {}", found.join(", "))]
}

/// Package manager caches: (prefix, description, files to ignore).
const CACHES: &[(&str, &str)] = &[
    ("var/lib/apt/lists/", "apt package lists"),
    ("var/cache/apt/", "apt cache"),
    ("var/cache/apk/", "apk cache"),
    ("etc/apk/cache/", "apk cache"),
    ("var/cache/yum/", "yum cache"),
    ("var/cache/dnf/", "dnf cache"),
    ("var/cache/zypp/", "zypper cache"),
    ("root/.cache/pip/", "pip cache"),
    ("root/.npm/", "npm cache"),
    ("usr/local/share/.cache/yarn/", "yarn cache"),
    ("root/.cache/yarn/", "yarn cache"),
    ("root/.cache/go-build/", "Go build cache"),
    ("root/.cargo/registry/", "Cargo registry cache"),
    ("root/.m2/repository/", "Maven cache"),
    ("root/.gradle/caches/", "Gradle cache"),
];

pub static CSHARD009: CheckInfo = CheckInfo {
    id: "CS-HARD-009",
    scanner: Scanner::Hardening,
    severity: Severity::Low,
    title: "Package manager caches or lists left in the image",
    description: "Package lists and download caches are not needed at run time: they make the image larger and stale lists invite installs of outdated packages.",
    resolution: "Remove them in the same RUN that created them ('rm -rf /var/lib/apt/lists/*', 'apk add --no-cache', 'pip install --no-cache-dir', 'npm cache clean --force'), or use cache mounts",
    references: &["https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#dkl-di-0005"],
};

fn caches(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    let mut out = Vec::new();
    for (prefix, what) in CACHES {
        let files: Vec<&FsEntry> = fs
            .entries
            .iter()
            .filter(|(p, e)| {
                e.kind == EntryKind::File && p.starts_with(prefix) && {
                    let name = p.rsplit('/').next().unwrap_or(p);
                    name != "lock" && !name.starts_with('.')
                }
            })
            .map(|(_, e)| *e)
            .collect();
        if !files.is_empty() {
            let bytes: u64 = files.iter().map(|e| e.size).sum();
            out.push(format!(
                "/{prefix} ({what}): {} files, {bytes} bytes",
                files.len()
            ));
        }
    }
    for (p, e) in &fs.entries {
        let parts: Vec<&str> = p.split('/').collect();
        let home_cache = matches!(
            parts.as_slice(),
            ["home", _, ".cache", "pip"] | ["home", _, ".npm"]
        );
        if e.kind == EntryKind::Dir && home_cache {
            out.push(format!("/{p}: cache directory in a home directory"));
        }
    }
    out
}

pub static CSHARD010: CheckInfo = CheckInfo {
    id: "CS-HARD-010",
    scanner: Scanner::Hardening,
    severity: Severity::Medium,
    title: "Version-control data or OS leftovers in the image",
    description: "A .git (or .svn, .hg) directory carries the full source history, including files deleted later and sometimes credentials in its config; .DS_Store and similar files reveal directory listings. They usually come from 'COPY . .' without a .dockerignore.",
    resolution: "Add .git, .svn, .hg and .DS_Store to .dockerignore, or copy only what the image needs",
    references: &["https://github.com/goodwithtech/dockle/blob/master/CHECKPOINT.md#cis-di-0010"],
};

fn leftovers(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    let mut out = Vec::new();
    for (p, e) in &fs.entries {
        let name = p.rsplit('/').next().unwrap_or(p);
        // Skip what package managers ship inside their own trees.
        if p.starts_with("usr/") && !p.starts_with("usr/local/") && !p.starts_with("usr/src/") {
            continue;
        }
        let hit = match (e.kind, name) {
            (EntryKind::Dir, ".git" | ".svn" | ".hg") => Some("version-control directory"),
            (EntryKind::File, ".DS_Store" | "Thumbs.db") => Some("OS metadata file"),
            _ => None,
        };
        // Inside vendored dependencies (.git of a module) still counts, but
        // report a directory only once, not its children.
        if let Some(what) = hit {
            if !out
                .iter()
                .any(|o: &String| o.starts_with(&format!("/{p}/")))
            {
                out.push(format!("/{p} ({what})"));
            }
        }
    }
    out
}

pub static CSHARD011: CheckInfo = CheckInfo {
    id: "CS-HARD-011",
    scanner: Scanner::Hardening,
    severity: Severity::Low,
    title: "No init process",
    description: "The process that runs as PID 1 must reap zombie processes and forward signals. Without an init (tini, dumb-init, s6) as entrypoint, most applications do neither. This check passes when the entrypoint starts an init.",
    resolution: "Install tini and use it as ENTRYPOINT ([\"/sbin/tini\", \"--\", ...]), or run the container with '--init'",
    references: &["https://github.com/krallin/tini"],
};

fn no_init(fs: &Fs<'_>, _: &HardeningOptions) -> Vec<String> {
    let argv: Vec<String> = if fs.snap.entrypoint.is_empty() {
        fs.snap.cmd.clone()
    } else {
        fs.snap.entrypoint.clone()
    };
    if super::ds_user::starts_with_init(&argv) {
        return vec![];
    }
    let inits: Vec<&str> = INITS.iter().copied().filter(|i| *i != "init").collect();
    let installed = present(fs, &inits);
    let run = if argv.is_empty() {
        "nothing".to_string()
    } else {
        format!("'{}'", argv.join(" "))
    };
    if installed.is_empty() {
        vec![format!(
            "No init in the image and the entrypoint runs {run}"
        )]
    } else {
        vec![format!(
            "{} is installed but the entrypoint runs {run}",
            installed.join(", ")
        )]
    }
}

pub(crate) static HARDENING_CHECKS: &[(&CheckInfo, HFn)] = &[
    (&CSHARD001, setuid),
    (&CSHARD002, world_writable_files),
    (&CSHARD003, world_writable_dirs),
    (&CSHARD004, empty_passwords),
    (&CSHARD005, duplicate_uids),
    (&CSHARD006, duplicate_gids),
    (&CSHARD007, shells),
    (&CSHARD008, package_managers),
    (&CSHARD009, caches),
    (&CSHARD010, leftovers),
    (&CSHARD011, no_init),
];

pub static INFOS: &[&CheckInfo] = &[
    &CSHARD001, &CSHARD002, &CSHARD003, &CSHARD004, &CSHARD005, &CSHARD006, &CSHARD007, &CSHARD008,
    &CSHARD009, &CSHARD010, &CSHARD011,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &str, kind: EntryKind, mode: u32) -> FsEntry {
        FsEntry {
            path: path.into(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            size: 10,
            link_target: None,
        }
    }

    fn run(f: HFn, snap: &FsSnapshot) -> Vec<String> {
        f(&Fs::new(snap), &HardeningOptions::default())
    }

    /// Every check gives the same findings on the entries
    /// [`hardening_keeps`] keeps as on the whole filesystem.
    #[test]
    fn kept_entries_give_the_same_findings() {
        use EntryKind::*;
        let mut entries = Vec::new();
        for (p, k, m) in [
            ("usr/bin/passwd", File, 0o4755),
            ("usr/bin/wall", File, 0o2755),
            ("usr/bin/ls", File, 0o755),
            ("usr/bin/apt-get", File, 0o755),
            ("usr/bin/apt-get", Symlink, 0o777),
            ("bin/sh", Symlink, 0o777),
            ("bin/bash", File, 0o755),
            ("sbin/tini", File, 0o755),
            ("usr/local/bin/dumb-init", File, 0o755),
            ("tmp", Dir, 0o1777),
            ("data", Dir, 0o777),
            ("data/x", File, 0o666),
            ("proc/y", File, 0o666),
            ("var/lib/apt/lists/lock", File, 0o640),
            ("var/lib/apt/lists/deb_InRelease", File, 0o644),
            ("var/cache/apk/APKINDEX.tar.gz", File, 0o644),
            ("root/.npm/_cacache/x", File, 0o644),
            ("home/bob/.cache/pip", Dir, 0o755),
            ("home/bob/.npm", Dir, 0o755),
            ("app/.git", Dir, 0o755),
            ("app/.git/config", File, 0o644),
            ("app/vendor/.git", Dir, 0o755),
            ("srv/.DS_Store", File, 0o644),
            ("usr/share/doc/.DS_Store", File, 0o644),
            ("usr/share/zoneinfo/UTC", File, 0o644),
            ("etc/passwd", File, 0o644),
        ] {
            entries.push(e(p, k, m));
        }
        for i in 0..50 {
            entries.push(e(&format!("srv/data/f{i}"), File, 0o644));
        }
        let full = FsSnapshot {
            entries,
            entrypoint: vec!["/app/run".into()],
            ..Default::default()
        };
        let kept = FsSnapshot {
            entries: full
                .entries
                .iter()
                .filter(|e| hardening_keeps(&e.path, e.kind, e.mode))
                .cloned()
                .collect(),
            ..full.clone()
        };
        assert!(kept.entries.len() < full.entries.len() / 2);
        for (info, f) in HARDENING_CHECKS {
            assert_eq!(run(*f, &kept), run(*f, &full), "{}", info.id);
        }
    }

    #[test]
    fn wanted() {
        assert!(hardening_wanted("etc/passwd"));
        assert!(hardening_wanted("/etc/shadow"));
        assert!(hardening_wanted("./etc/group"));
        assert!(!hardening_wanted("etc/hosts"));
    }

    #[test]
    fn setuid_and_allow() {
        let s = FsSnapshot {
            entries: vec![
                e("usr/bin/passwd", EntryKind::File, 0o4755),
                e("usr/bin/wall", EntryKind::File, 0o2755),
                e("usr/bin/ls", EntryKind::File, 0o755),
                e("tmp", EntryKind::Dir, 0o1777),
            ],
            ..Default::default()
        };
        let v = run(setuid, &s);
        assert_eq!(
            v,
            vec![
                "/usr/bin/passwd is setuid (owner 0:0, mode 4755)",
                "/usr/bin/wall is setgid (owner 0:0, mode 2755)"
            ]
        );
        let o = HardeningOptions {
            setuid_allow: vec!["/usr/bin/passwd".into()],
        };
        assert_eq!(setuid(&Fs::new(&s), &o).len(), 1);
    }

    #[test]
    fn world_writable() {
        let s = FsSnapshot {
            entries: vec![
                e("tmp", EntryKind::Dir, 0o1777),
                e("data", EntryKind::Dir, 0o777),
                e("app/conf", EntryKind::File, 0o666),
                e("bin/sh", EntryKind::Symlink, 0o777),
            ],
            ..Default::default()
        };
        assert_eq!(run(world_writable_dirs, &s).len(), 1);
        assert_eq!(
            run(world_writable_files, &s),
            vec!["/app/conf is world-writable (mode 0666)"]
        );
    }

    #[test]
    fn accounts() {
        let mut s = FsSnapshot::default();
        s.contents.insert(
            "etc/shadow".into(),
            b"root:!::0:::::\nbob::19000:0:99999:7:::\nlocked:*:1::::::\n".to_vec(),
        );
        s.contents.insert("etc/passwd".into(), b"root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\nbob:x:1001:1001::/:/bin/sh\n".to_vec());
        s.contents.insert(
            "etc/group".into(),
            b"root:x:0:\nwheel:x:10:\nadm:x:10:\n".to_vec(),
        );
        assert_eq!(
            run(empty_passwords, &s),
            vec!["User 'bob' has an empty password in /etc/shadow"]
        );
        assert_eq!(
            run(duplicate_uids, &s),
            vec![
                "UID 0 is shared by root, toor in /etc/passwd",
                "Name 'bob' is defined 2 times in /etc/passwd"
            ]
        );
        assert_eq!(
            run(duplicate_gids, &s),
            vec!["GID 10 is shared by wheel, adm in /etc/group"]
        );
    }

    #[test]
    fn tools_caches_leftovers_init() {
        let mut s = FsSnapshot {
            entries: vec![
                e("bin/sh", EntryKind::Symlink, 0o777),
                e("usr/bin/apt-get", EntryKind::File, 0o755),
                e("var/lib/apt/lists/lock", EntryKind::File, 0o640),
                e(
                    "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
                    EntryKind::File,
                    0o644,
                ),
                e("app/.git", EntryKind::Dir, 0o755),
                e("app/.git/config", EntryKind::File, 0o644),
                e("usr/share/doc/x/.DS_Store", EntryKind::File, 0o644),
                e("sbin/tini", EntryKind::File, 0o755),
            ],
            entrypoint: vec!["/app/server".into()],
            ..Default::default()
        };
        assert_eq!(run(shells, &s), vec!["Shells present: /bin/sh"]);
        assert_eq!(
            run(package_managers, &s),
            vec!["Package managers present: /usr/bin/apt-get"]
        );
        assert_eq!(
            run(caches, &s),
            vec!["/var/lib/apt/lists/ (apt package lists): 1 files, 10 bytes"]
        );
        assert_eq!(
            run(leftovers, &s),
            vec!["/app/.git (version-control directory)"]
        );
        assert_eq!(
            run(no_init, &s),
            vec!["/sbin/tini is installed but the entrypoint runs '/app/server'"]
        );
        s.entrypoint = vec!["/sbin/tini".into(), "--".into()];
        assert!(run(no_init, &s).is_empty());
        let empty = FsSnapshot::default();
        assert!(run(shells, &empty).is_empty());
        assert_eq!(
            run(no_init, &empty),
            vec!["No init in the image and the entrypoint runs nothing"]
        );
    }
}
