//! Which files of a root filesystem this crate reads.

/// What a wanted file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `etc/os-release` or `usr/lib/os-release`.
    OsRelease,
    /// `etc/alpine-release`.
    AlpineRelease,
    /// `etc/debian_version`.
    DebianVersion,
    /// `etc/lsb-release` (Ubuntu).
    LsbRelease,
    /// `etc/redhat-release` and friends (`centos-release`, `rocky-release`,
    /// `almalinux-release`, `fedora-release`, `oracle-release`,
    /// `system-release`).
    RedhatRelease,
    /// `lib/apk/db/installed`.
    ApkInstalled,
    /// `var/lib/dpkg/status`.
    DpkgStatus,
    /// One file of `var/lib/dpkg/status.d/` (distroless), except `*.md5sums`.
    DpkgStatusD,
    /// `var/lib/dpkg/info/NAME[:ARCH].list`: the files of one package.
    DpkgList,
    /// `usr/share/doc/NAME/copyright`: license of a dpkg package.
    DpkgCopyright,
    /// `rpmdb.sqlite` under `var/lib/rpm`, `usr/lib/sysimage/rpm` or `usr/share/rpm`.
    RpmSqlite,
}

impl FileKind {
    /// True for the files [`crate::detect_os`] reads.
    pub fn is_release_file(self) -> bool {
        matches!(
            self,
            FileKind::OsRelease
                | FileKind::AlpineRelease
                | FileKind::DebianVersion
                | FileKind::LsbRelease
                | FileKind::RedhatRelease
        )
    }
}

/// Release files read by [`crate::detect_os`], in the order it looks at them.
pub(crate) const REDHAT_RELEASE_FILES: &[&str] = &[
    "etc/redhat-release",
    "etc/centos-release",
    "etc/rocky-release",
    "etc/almalinux-release",
    "etc/fedora-release",
    "etc/oracle-release",
    "etc/system-release",
];

/// Strip a leading `./` or `/` without allocating, so tar names like
/// `./etc/os-release` are accepted too.
fn trim_root(path: &str) -> &str {
    let p = path.strip_prefix("./").unwrap_or(path);
    p.trim_start_matches('/')
}

/// Is this file needed by this crate? Called for every tar entry: it does
/// not allocate. Paths are relative to the root (`etc/os-release`); a leading
/// `./` or `/` is tolerated.
///
/// ```
/// use customs_ospkg::wanted;
/// assert!(wanted("lib/apk/db/installed"));
/// assert!(wanted("var/lib/dpkg/status.d/libc6"));
/// assert!(!wanted("var/lib/dpkg/status.d/libc6.md5sums"));
/// assert!(wanted("var/lib/dpkg/info/libc6:amd64.list"));
/// assert!(!wanted("usr/bin/ls"));
/// ```
pub fn wanted(path: &str) -> bool {
    kind(path).is_some()
}

/// Classify a wanted file; `None` for every other path.
///
/// ```
/// use customs_ospkg::{kind, FileKind};
/// assert_eq!(kind("etc/os-release"), Some(FileKind::OsRelease));
/// assert_eq!(kind("var/lib/rpm/rpmdb.sqlite"), Some(FileKind::RpmSqlite));
/// assert_eq!(kind("usr/share/doc/bash/copyright"), Some(FileKind::DpkgCopyright));
/// ```
pub fn kind(path: &str) -> Option<FileKind> {
    let p = trim_root(path);
    match p {
        "etc/os-release" | "usr/lib/os-release" => return Some(FileKind::OsRelease),
        "etc/alpine-release" => return Some(FileKind::AlpineRelease),
        "etc/debian_version" => return Some(FileKind::DebianVersion),
        "etc/lsb-release" => return Some(FileKind::LsbRelease),
        "lib/apk/db/installed" => return Some(FileKind::ApkInstalled),
        "var/lib/dpkg/status" => return Some(FileKind::DpkgStatus),
        "var/lib/rpm/rpmdb.sqlite"
        | "usr/lib/sysimage/rpm/rpmdb.sqlite"
        | "usr/share/rpm/rpmdb.sqlite" => return Some(FileKind::RpmSqlite),
        _ => {}
    }
    if REDHAT_RELEASE_FILES.contains(&p) {
        return Some(FileKind::RedhatRelease);
    }
    if let Some(name) = p.strip_prefix("var/lib/dpkg/status.d/") {
        if !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums") {
            return Some(FileKind::DpkgStatusD);
        }
        return None;
    }
    if let Some(name) = p.strip_prefix("var/lib/dpkg/info/") {
        if name.len() > ".list".len() && name.ends_with(".list") && !name.contains('/') {
            return Some(FileKind::DpkgList);
        }
        return None;
    }
    if let Some(rest) = p.strip_prefix("usr/share/doc/") {
        if let Some(pkg) = rest.strip_suffix("/copyright") {
            if !pkg.is_empty() && !pkg.contains('/') {
                return Some(FileKind::DpkgCopyright);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        let cases = [
            ("etc/os-release", Some(FileKind::OsRelease)),
            ("./usr/lib/os-release", Some(FileKind::OsRelease)),
            ("/etc/alpine-release", Some(FileKind::AlpineRelease)),
            ("etc/debian_version", Some(FileKind::DebianVersion)),
            ("etc/lsb-release", Some(FileKind::LsbRelease)),
            ("etc/rocky-release", Some(FileKind::RedhatRelease)),
            ("etc/system-release", Some(FileKind::RedhatRelease)),
            ("lib/apk/db/installed", Some(FileKind::ApkInstalled)),
            ("var/lib/dpkg/status", Some(FileKind::DpkgStatus)),
            ("var/lib/dpkg/status-old", None),
            ("var/lib/dpkg/status.d/base", Some(FileKind::DpkgStatusD)),
            ("var/lib/dpkg/status.d/base.md5sums", None),
            ("var/lib/dpkg/status.d/", None),
            ("var/lib/dpkg/status.d/a/b", None),
            ("var/lib/dpkg/info/bash.list", Some(FileKind::DpkgList)),
            ("var/lib/dpkg/info/bash.md5sums", None),
            ("var/lib/dpkg/info/.list", None),
            (
                "usr/lib/sysimage/rpm/rpmdb.sqlite",
                Some(FileKind::RpmSqlite),
            ),
            ("usr/share/rpm/rpmdb.sqlite", Some(FileKind::RpmSqlite)),
            ("var/lib/rpm/Packages", None),
            (
                "usr/share/doc/curl/copyright",
                Some(FileKind::DpkgCopyright),
            ),
            ("usr/share/doc/curl/x/copyright", None),
            ("usr/share/doc//copyright", None),
            ("etc/passwd", None),
            ("", None),
        ];
        for (p, k) in cases {
            assert_eq!(kind(p), k, "{p}");
            assert_eq!(wanted(p), k.is_some(), "{p}");
        }
        assert!(FileKind::OsRelease.is_release_file());
        assert!(!FileKind::DpkgList.is_release_file());
    }
}
