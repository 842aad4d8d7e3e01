//! Package URLs of OS packages, as Trivy writes them.

use customs_model::{OsInfo, Package};
use packageurl::PackageUrl;
use tracing::warn;

/// The purl type of the packages of an OS family.
fn purl_type(family: &str) -> &'static str {
    match family {
        "alpine" | "wolfi" | "chainguard" => "apk",
        "debian" | "ubuntu" => "deb",
        _ => "rpm",
    }
}

/// The purl namespace of an OS family (SUSE variants grouped as Trivy does).
fn namespace(family: &str) -> &str {
    match family {
        "sles" | "slem" => "suse",
        f if f.starts_with("opensuse") => "opensuse",
        f => f,
    }
}

/// The Package URL of an OS package (purl spec, types `apk`, `deb`, `rpm`).
///
/// - apk: `pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4`
/// - deb: `pkg:deb/debian/libc6@2.36-9+deb12u7?arch=amd64&distro=debian-12.7`
/// - rpm: `pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=redhat-9.3&epoch=1`
///
/// The version is `version[-release]` without the epoch, which goes into the
/// `epoch` qualifier when non-zero. Qualifiers are sorted by key.
///
/// ```
/// use customs_model::{OsInfo, Package};
/// let os = OsInfo { family: "debian".into(), name: "12.7".into(), eosl: false };
/// let p = Package { name: "libc6".into(), version: "2.36".into(), release: "9+deb12u7".into(),
///                   arch: "amd64".into(), ..Default::default() };
/// assert_eq!(customs_ospkg::purl(&os, &p),
///            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12.7");
/// ```
pub fn purl(os: &OsInfo, pkg: &Package) -> String {
    let ty = purl_type(&os.family);
    let version = if pkg.release.is_empty() {
        pkg.version.clone()
    } else {
        format!("{}-{}", pkg.version, pkg.release)
    };
    let distro = if ty == "apk" {
        os.name.clone()
    } else {
        format!("{}-{}", os.family, os.name)
    };
    let build = || -> Result<String, packageurl::Error> {
        let mut p = PackageUrl::new(ty, pkg.name.as_str())?;
        p.with_namespace(namespace(&os.family))?;
        if !version.is_empty() {
            p.with_version(version.as_str())?;
        }
        if !pkg.arch.is_empty() {
            p.add_qualifier("arch", pkg.arch.as_str())?;
        }
        if ty != "apk" && pkg.epoch > 0 {
            p.add_qualifier("epoch", pkg.epoch.to_string())?;
        }
        if !os.name.is_empty() {
            p.add_qualifier("distro", distro.as_str())?;
        }
        Ok(p.to_string())
    };
    match build() {
        Ok(s) => s,
        Err(e) => {
            warn!("{}: cannot build a package URL: {e}", pkg.name);
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(f: &str, n: &str) -> OsInfo {
        OsInfo {
            family: f.into(),
            name: n.into(),
            eosl: false,
        }
    }

    #[test]
    fn purls() {
        let apk = Package {
            name: "musl".into(),
            version: "1.1.22-r3".into(),
            arch: "x86_64".into(),
            ..Default::default()
        };
        assert_eq!(
            purl(&os("alpine", "3.10.4"), &apk),
            "pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4"
        );
        assert_eq!(
            purl(&os("wolfi", "20230201"), &apk),
            "pkg:apk/wolfi/musl@1.1.22-r3?arch=x86_64&distro=20230201"
        );
        let deb = Package {
            name: "openssl".into(),
            version: "3.0.11".into(),
            release: "1~deb12u2".into(),
            epoch: 1,
            arch: "amd64".into(),
            ..Default::default()
        };
        assert_eq!(
            purl(&os("debian", "12.7"), &deb),
            "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12.7&epoch=1"
        );
        assert_eq!(
            purl(&os("ubuntu", "22.04"), &deb),
            "pkg:deb/ubuntu/openssl@3.0.11-1~deb12u2?arch=amd64&distro=ubuntu-22.04&epoch=1"
        );
        let rpm = Package {
            name: "openssl-libs".into(),
            version: "3.0.7".into(),
            release: "27.el9".into(),
            epoch: 1,
            arch: "x86_64".into(),
            ..Default::default()
        };
        assert_eq!(
            purl(&os("redhat", "9.3"), &rpm),
            "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=redhat-9.3&epoch=1"
        );
        assert_eq!(
            purl(&os("opensuse-leap", "15.5"), &rpm),
            "pkg:rpm/opensuse/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=opensuse-leap-15.5&epoch=1"
        );
        // no OS version, no arch: no qualifiers at all
        let bare = Package {
            name: "x".into(),
            version: "1".into(),
            ..Default::default()
        };
        assert_eq!(purl(&os("debian", ""), &bare), "pkg:deb/debian/x@1");
    }
}
