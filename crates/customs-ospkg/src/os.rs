//! OS detection from the release files of the final filesystem view.

use crate::paths::REDHAT_RELEASE_FILES;
use customs_model::OsInfo;

/// `KEY=value` pairs of an os-release / lsb-release file; quotes removed.
pub(crate) fn key_values(data: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
            .unwrap_or(v);
        out.push((k.trim().to_string(), v.to_string()));
    }
    out
}

fn get<'a>(kv: &'a [(String, String)], key: &str) -> Option<&'a str> {
    kv.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// First non-empty line, trimmed.
fn first_line(data: &[u8]) -> Option<String> {
    String::from_utf8_lossy(data)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// Map an os-release `ID` to the family name Trivy uses.
fn family_of_id(id: &str) -> Option<&'static str> {
    Some(match id.to_ascii_lowercase().as_str() {
        "alpine" => "alpine",
        "debian" => "debian",
        "ubuntu" => "ubuntu",
        "wolfi" => "wolfi",
        "chainguard" => "chainguard",
        "rhel" => "redhat",
        "centos" => "centos",
        "rocky" => "rocky",
        "almalinux" => "alma",
        "fedora" => "fedora",
        "amzn" => "amazon",
        "ol" => "oracle",
        "opensuse-leap" => "opensuse-leap",
        "opensuse-tumbleweed" => "opensuse-tumbleweed",
        "sles" => "sles",
        "sle-micro" | "sl-micro" => "slem",
        "photon" => "photon",
        "mariner" => "cbl-mariner",
        "azurelinux" => "azurelinux",
        _ => return None,
    })
}

/// The version Trivy reports for a `*-release` line of the Red Hat family:
/// the number after `release` (`Rocky Linux release 9.3 (Blue Onyx)` → `9.3`);
/// for Amazon Linux everything after `release` (`2 (Karoo)`), as Trivy does.
fn redhat_release(line: &str) -> Option<(&'static str, String)> {
    let lower = line.to_ascii_lowercase();
    let family = if lower.starts_with("red hat") {
        "redhat"
    } else if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "alma"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("oracle") {
        "oracle"
    } else if lower.starts_with("amazon linux") || lower.starts_with("amazon linux ami") {
        "amazon"
    } else {
        return None;
    };
    let idx = lower.find(" release ")?;
    let rest = line.get(idx + " release ".len()..)?.trim();
    if family == "amazon" {
        return (!rest.is_empty()).then(|| (family, rest.to_string()));
    }
    let ver: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let ver = ver.trim_end_matches('.').to_string();
    (!ver.is_empty()).then_some((family, ver))
}

/// Detect the OS from the release files of the final (merged) filesystem.
///
/// `files` returns the content of a root-relative path (`etc/os-release`),
/// or `None` when the file is absent. The order of precedence follows
/// Trivy: Wolfi/Chainguard and Ubuntu from os-release / lsb-release, then
/// `etc/alpine-release`, `etc/debian_version`, the Red Hat family
/// `*-release` files, and finally os-release `ID`/`VERSION_ID` alone
/// (distroless Debian without `debian_version`, openSUSE, Photon, ...).
///
/// ```
/// use customs_ospkg::detect_os;
/// use std::collections::HashMap;
///
/// let mut files: HashMap<&str, Vec<u8>> = HashMap::new();
/// files.insert("etc/os-release", b"ID=ubuntu\nVERSION_ID=\"22.04\"\n".to_vec());
/// files.insert("etc/debian_version", b"bookworm/sid\n".to_vec());
/// let os = detect_os(&|p: &str| files.get(p).map(|v| v.as_slice())).unwrap();
/// assert_eq!(os.family, "ubuntu");
/// assert_eq!(os.name, "22.04");
/// ```
pub fn detect_os<'a>(files: &dyn Fn(&str) -> Option<&'a [u8]>) -> Option<OsInfo> {
    let os_release = files("etc/os-release")
        .or_else(|| files("usr/lib/os-release"))
        .map(key_values)
        .unwrap_or_default();
    let id = get(&os_release, "ID")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let version_id = get(&os_release, "VERSION_ID").map(str::to_string);
    let make = |family: &str, name: String| OsInfo {
        family: family.to_string(),
        name,
        eosl: false,
    };

    // Rolling apk distributions carry no alpine-release (or one to ignore).
    if id == "wolfi" || id == "chainguard" {
        return Some(make(&id, version_id.unwrap_or_default()));
    }

    // Ubuntu also ships etc/debian_version ("bookworm/sid"): decide first.
    let lsb = files("etc/lsb-release").map(key_values).unwrap_or_default();
    if id == "ubuntu" || get(&lsb, "DISTRIB_ID").is_some_and(|d| d.eq_ignore_ascii_case("ubuntu")) {
        let name = get(&lsb, "DISTRIB_RELEASE")
            .map(str::to_string)
            .or(version_id)
            .unwrap_or_default();
        return Some(make("ubuntu", name));
    }

    if let Some(data) = files("etc/alpine-release") {
        if let Some(v) = first_line(data) {
            return Some(make("alpine", v));
        }
    }
    if id == "alpine" {
        if let Some(v) = version_id {
            return Some(make("alpine", v));
        }
    }

    if id.is_empty() || id == "debian" {
        if let Some(v) = files("etc/debian_version").and_then(first_line) {
            return Some(make("debian", v));
        }
    }

    for path in REDHAT_RELEASE_FILES {
        if let Some(line) = files(path).and_then(first_line) {
            if let Some((family, ver)) = redhat_release(&line) {
                return Some(make(family, ver));
            }
        }
    }

    let family = family_of_id(&id)?;
    Some(make(family, version_id.unwrap_or_default()))
}

/// The result `Type` Trivy gives the OS packages of this OS (its family).
pub fn os_type(os: &OsInfo) -> &str {
    &os.family
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn detect(files: &[(&str, &str)]) -> Option<(String, String)> {
        let map: HashMap<&str, &[u8]> = files.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        detect_os(&|p: &str| map.get(p).copied()).map(|o| (o.family, o.name))
    }

    fn pair(a: &str, b: &str) -> Option<(String, String)> {
        Some((a.to_string(), b.to_string()))
    }

    #[test]
    fn alpine() {
        let osr = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.10.4\nPRETTY_NAME=\"Alpine Linux v3.10\"\n";
        assert_eq!(
            detect(&[("etc/alpine-release", "3.10.4\n"), ("etc/os-release", osr)]),
            pair("alpine", "3.10.4")
        );
        assert_eq!(detect(&[("etc/os-release", osr)]), pair("alpine", "3.10.4"));
        assert_eq!(
            detect(&[("etc/alpine-release", "3.19.1")]),
            pair("alpine", "3.19.1")
        );
    }

    #[test]
    fn debian_and_distroless() {
        let osr = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n";
        assert_eq!(
            detect(&[("etc/os-release", osr), ("etc/debian_version", "12.7\n")]),
            pair("debian", "12.7")
        );
        assert_eq!(
            detect(&[("etc/debian_version", "bookworm/sid\n")]),
            pair("debian", "bookworm/sid")
        );
        // distroless: os-release only, PRETTY_NAME "Distroless"
        let distroless = "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\nVERSION=\"Debian GNU/Linux 12 (bookworm)\"\nHOME_URL=\"https://github.com/GoogleContainerTools/distroless\"\n";
        assert_eq!(
            detect(&[("etc/os-release", distroless)]),
            pair("debian", "12")
        );
        assert_eq!(
            detect(&[
                ("usr/lib/os-release", distroless),
                ("etc/debian_version", "12.5")
            ]),
            pair("debian", "12.5")
        );
    }

    #[test]
    fn ubuntu() {
        let osr = "NAME=\"Ubuntu\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n";
        let lsb = "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n";
        assert_eq!(
            detect(&[
                ("etc/os-release", osr),
                ("etc/lsb-release", lsb),
                ("etc/debian_version", "bookworm/sid")
            ]),
            pair("ubuntu", "22.04")
        );
        assert_eq!(
            detect(&[
                ("etc/lsb-release", lsb),
                ("etc/debian_version", "bookworm/sid")
            ]),
            pair("ubuntu", "22.04")
        );
        assert_eq!(detect(&[("etc/os-release", osr)]), pair("ubuntu", "22.04"));
    }

    #[test]
    fn wolfi_chainguard() {
        let wolfi = "ID=wolfi\nNAME=\"Wolfi\"\nPRETTY_NAME=\"Wolfi\"\nVERSION_ID=\"20230201\"\nHOME_URL=\"https://wolfi.dev\"\n";
        assert_eq!(
            detect(&[("etc/os-release", wolfi)]),
            pair("wolfi", "20230201")
        );
        // A stray alpine-release does not win over os-release ID=wolfi.
        assert_eq!(
            detect(&[("etc/os-release", wolfi), ("etc/alpine-release", "3.18.0")]),
            pair("wolfi", "20230201")
        );
        let cg = "ID=chainguard\nNAME=\"Chainguard\"\nPRETTY_NAME=\"Chainguard\"\nVERSION_ID=\"20230214\"\n";
        assert_eq!(
            detect(&[("etc/os-release", cg)]),
            pair("chainguard", "20230214")
        );
    }

    #[test]
    fn redhat_family() {
        assert_eq!(
            detect(&[
                (
                    "etc/redhat-release",
                    "Red Hat Enterprise Linux release 8.9 (Ootpa)\n"
                ),
                ("etc/os-release", "ID=\"rhel\"\nVERSION_ID=\"8.9\"\n")
            ]),
            pair("redhat", "8.9")
        );
        assert_eq!(
            detect(&[("etc/redhat-release", "Rocky Linux release 9.3 (Blue Onyx)")]),
            pair("rocky", "9.3")
        );
        assert_eq!(
            detect(&[(
                "etc/redhat-release",
                "AlmaLinux release 9.3 (Shamrock Pearl Leopard)"
            )]),
            pair("alma", "9.3")
        );
        assert_eq!(
            detect(&[("etc/centos-release", "CentOS Linux release 7.9.2009 (Core)")]),
            pair("centos", "7.9.2009")
        );
        assert_eq!(
            detect(&[("etc/fedora-release", "Fedora release 39 (Thirty Nine)")]),
            pair("fedora", "39")
        );
        assert_eq!(
            detect(&[("etc/system-release", "Amazon Linux release 2 (Karoo)")]),
            pair("amazon", "2 (Karoo)")
        );
        assert_eq!(
            detect(&[("etc/os-release", "ID=\"amzn\"\nVERSION_ID=\"2023\"\n")]),
            pair("amazon", "2023")
        );
    }

    #[test]
    fn os_release_only() {
        assert_eq!(
            detect(&[(
                "etc/os-release",
                "NAME=\"openSUSE Leap\"\nVERSION_ID=\"15.5\"\nID=\"opensuse-leap\"\n"
            )]),
            pair("opensuse-leap", "15.5")
        );
        assert_eq!(
            detect(&[("etc/os-release", "ID=photon\nVERSION_ID=5.0\n")]),
            pair("photon", "5.0")
        );
        assert_eq!(
            detect(&[(
                "etc/os-release",
                "ID=mariner\nVERSION_ID=\"2.0.20240123\"\n"
            )]),
            pair("cbl-mariner", "2.0.20240123")
        );
        assert_eq!(
            detect(&[("etc/os-release", "ID=plan9\nVERSION_ID=4\n")]),
            None
        );
        assert_eq!(detect(&[]), None);
        assert_eq!(detect(&[("etc/os-release", "")]), None);
    }

    #[test]
    fn key_value_parsing() {
        let kv = key_values(b"# c\nA=\"x y\"\nB='z'\n bad line\nC=\nD=plain\n");
        assert_eq!(get(&kv, "A"), Some("x y"));
        assert_eq!(get(&kv, "B"), Some("z"));
        assert_eq!(get(&kv, "C"), None);
        assert_eq!(get(&kv, "D"), Some("plain"));
    }
}
