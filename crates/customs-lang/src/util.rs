//! Shared helpers: package construction (id, PURL), ordering, de-duplication.

use customs_model::lang_type as lt;
use customs_model::{Package, PkgIdentifier, Relationship};
use packageurl::PackageUrl;
use std::collections::HashMap;

/// The Package URL type of a Trivy language type.
pub fn purl_type(lang_type: &str) -> Option<&'static str> {
    Some(match lang_type {
        lt::PIP | lt::PIPENV | lt::POETRY | lt::UV | lt::PYTHON_PKG => "pypi",
        lt::NPM | lt::NODE_PKG | lt::YARN | lt::PNPM | lt::BUN => "npm",
        lt::GOMOD | lt::GOBINARY => "golang",
        lt::CARGO | lt::RUST_BINARY => "cargo",
        lt::BUNDLER | lt::GEMSPEC => "gem",
        lt::JAR | lt::POM | lt::GRADLE => "maven",
        lt::COMPOSER | lt::COMPOSER_VENDOR => "composer",
        lt::NUGET | lt::DOTNET_CORE => "nuget",
        lt::HEX => "hex",
        lt::PUB => "pub",
        lt::COCOAPODS => "cocoapods",
        lt::SWIFT => "swift",
        lt::CONDA_PKG | customs_model::lang_type::CONDA_ENV => "conda",
        customs_model::lang_type::CONAN => "conan",
        customs_model::lang_type::JULIA => "julia",
        customs_model::lang_type::SBT => "maven",
        customs_model::lang_type::PACKAGES_PROPS => "nuget",
        customs_model::lang_type::PYLOCK => "pypi",
        _ => return None,
    })
}

/// The package id: `name@version` (Trivy's convention), `group:artifact:version`
/// for Maven, the bare name when the version is unknown.
pub fn pkg_id(lang_type: &str, name: &str, version: &str) -> String {
    if version.is_empty() {
        return name.to_string();
    }
    match lang_type {
        lt::JAR | lt::POM | lt::GRADLE | customs_model::lang_type::SBT => {
            format!("{name}:{version}")
        }
        _ => format!("{name}@{version}"),
    }
}

/// Split `ns/last` at the last `/` (Go, Swift) or the first (npm scopes,
/// composer vendors, CocoaPods subspecs).
fn split_ns(name: &str, at_last: bool) -> (Option<&str>, &str) {
    let i = if at_last {
        name.rfind('/')
    } else {
        name.find('/')
    };
    match i {
        Some(i) if i > 0 && i + 1 < name.len() => {
            (name.get(..i), name.get(i + 1..).unwrap_or(name))
        }
        _ => (None, name),
    }
}

/// The Package URL of a language package, or `None` when the name cannot be
/// expressed (empty names, Maven names without a group).
pub fn purl(lang_type: &str, name: &str, version: &str) -> Option<String> {
    let ty = purl_type(lang_type)?;
    if name.is_empty() {
        return None;
    }
    let (ns, n, sub) = match ty {
        "npm" if name.starts_with('@') => {
            let (ns, n) = split_ns(name, false);
            (ns, n, None)
        }
        "golang" | "swift" => {
            let (ns, n) = split_ns(name, true);
            (ns, n, None)
        }
        "composer" => {
            let (ns, n) = split_ns(name, false);
            (ns, n, None)
        }
        "cocoapods" => {
            let (base, sub) = split_ns(name, false);
            match base {
                Some(b) => (None, b, Some(sub)),
                None => (None, name, None),
            }
        }
        "maven" => {
            let (g, a) = name.split_once(':')?;
            (Some(g), a, None)
        }
        _ => (None, name, None),
    };
    let mut p = PackageUrl::new(ty, n).ok()?;
    if let Some(ns) = ns {
        p.with_namespace(ns).ok()?;
    }
    if !version.is_empty() {
        p.with_version(version).ok()?;
    }
    if let Some(s) = sub {
        p.with_subpath(s).ok()?;
    }
    Some(p.to_string())
}

/// A package with name, version, id and PURL set.
pub fn new_pkg(lang_type: &str, name: &str, version: &str) -> Package {
    Package {
        id: pkg_id(lang_type, name, version),
        name: name.to_string(),
        version: version.to_string(),
        identifier: PkgIdentifier {
            purl: purl(lang_type, name, version),
            uid: None,
        },
        ..Default::default()
    }
}

/// Stable order: name, version, file path.
pub fn sort_packages(pkgs: &mut [Package]) {
    pkgs.sort_by(|a, b| {
        (a.name.as_str(), a.version.as_str(), a.file_path.as_str()).cmp(&(
            b.name.as_str(),
            b.version.as_str(),
            b.file_path.as_str(),
        ))
    });
    for p in pkgs.iter_mut() {
        p.depends_on.sort();
        p.depends_on.dedup();
    }
}

fn rel_rank(r: Option<Relationship>) -> u8 {
    match r {
        Some(Relationship::Root) => 5,
        Some(Relationship::Workspace) => 4,
        Some(Relationship::Direct) => 3,
        Some(Relationship::Indirect) => 2,
        Some(Relationship::Unknown) => 1,
        None => 0,
    }
}

/// Merge packages with the same id (and file path): the strongest
/// relationship wins, a package is dev only if every occurrence is, and
/// dependencies are united. Keeps first-seen order.
pub fn dedupe(pkgs: Vec<Package>) -> Vec<Package> {
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut out: Vec<Package> = Vec::with_capacity(pkgs.len());
    for p in pkgs {
        let key = (p.id.clone(), p.file_path.clone());
        match index.get(&key).and_then(|&i| out.get_mut(i)) {
            Some(q) => {
                if rel_rank(p.relationship) > rel_rank(q.relationship) {
                    q.relationship = p.relationship;
                }
                q.dev = q.dev && p.dev;
                for d in p.depends_on {
                    if !q.depends_on.contains(&d) {
                        q.depends_on.push(d);
                    }
                }
                if q.licenses.is_empty() {
                    q.licenses = p.licenses;
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(p);
            }
        }
    }
    out
}

/// Marks as dev every package not reachable from `prod_roots` through
/// `depends_on` (ids). Used where a lockfile lists dev roots but not a
/// per-package flag.
pub fn mark_dev_by_reachability(pkgs: &mut [Package], prod_roots: &[String]) {
    let by_id: HashMap<&str, usize> = pkgs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut seen = vec![false; pkgs.len()];
    let mut stack: Vec<usize> = prod_roots
        .iter()
        .filter_map(|r| by_id.get(r.as_str()).copied())
        .collect();
    while let Some(i) = stack.pop() {
        match seen.get_mut(i) {
            Some(s) if !*s => *s = true,
            _ => continue,
        }
        if let Some(p) = pkgs.get(i) {
            for d in &p.depends_on {
                if let Some(&j) = by_id.get(d.as_str()) {
                    stack.push(j);
                }
            }
        }
    }
    for (p, s) in pkgs.iter_mut().zip(seen) {
        p.dev = !s;
    }
}

/// Text of a file that may be UTF-16 with a byte-order mark (Windows tools
/// write `requirements.txt` and `packages.config` that way), else UTF-8
/// (its BOM dropped). std's `char::decode_utf16` does the decoding; a
/// crate would add nothing for BOM-marked input.
pub fn text<'a>(path: &str, data: &'a [u8]) -> Result<std::borrow::Cow<'a, str>, crate::LangError> {
    let units = |rest: &[u8], le: bool| -> Vec<u16> {
        rest.chunks(2)
            .map(|c| {
                let (a, b) = (
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                );
                if le {
                    u16::from_le_bytes([a, b])
                } else {
                    u16::from_be_bytes([a, b])
                }
            })
            .collect()
    };
    let (rest, le) = if let Some(r) = data.strip_prefix(b"\xff\xfe") {
        (r, true)
    } else if let Some(r) = data.strip_prefix(b"\xfe\xff") {
        (r, false)
    } else {
        return utf8(path, data).map(std::borrow::Cow::Borrowed);
    };
    if rest.len() % 2 != 0 {
        return Err(crate::LangError::new(
            path,
            "UTF-16 text with an odd number of bytes",
        ));
    }
    char::decode_utf16(units(rest, le))
        .collect::<Result<String, _>>()
        .map(std::borrow::Cow::Owned)
        .map_err(|e| crate::LangError::new(path, format!("not UTF-16 text: {e}")))
}

pub fn utf8<'a>(path: &str, data: &'a [u8]) -> Result<&'a str, crate::LangError> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    std::str::from_utf8(data)
        .map_err(|e| crate::LangError::new(path, format!("not UTF-8 text: {e}")))
}

pub fn json<T: serde::de::DeserializeOwned>(
    path: &str,
    data: &[u8],
) -> Result<T, crate::LangError> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    serde_json::from_slice(data)
        .map_err(|e| crate::LangError::new(path, format!("invalid JSON: {e}")))
}

pub fn yaml<T: serde::de::DeserializeOwned>(
    path: &str,
    data: &[u8],
) -> Result<T, crate::LangError> {
    let text = utf8(path, data)?;
    serde_saphyr::from_str(text).map_err(|e| {
        let msg = e.to_string();
        let line = msg.lines().next().unwrap_or("").to_string();
        crate::LangError::new(path, format!("invalid YAML: {line}"))
    })
}

/// Every document of a YAML stream (`---` separated).
pub fn yaml_multi<T: serde::de::DeserializeOwned>(
    path: &str,
    data: &[u8],
) -> Result<Vec<T>, crate::LangError> {
    let text = utf8(path, data)?;
    serde_saphyr::from_multiple(text).map_err(|e| {
        let msg = e.to_string();
        let line = msg.lines().next().unwrap_or("").to_string();
        crate::LangError::new(path, format!("invalid YAML: {line}"))
    })
}

pub fn toml<T: serde::de::DeserializeOwned>(
    path: &str,
    data: &[u8],
) -> Result<T, crate::LangError> {
    toml_part(path, data, 1)
}

/// [`toml`] on a part of a file that starts at line `first_line` (1-based):
/// an error names the file's line and column, and the parser's message
/// without its source snippet.
pub fn toml_part<T: serde::de::DeserializeOwned>(
    path: &str,
    data: &[u8],
    first_line: usize,
) -> Result<T, crate::LangError> {
    let text = utf8(path, data)?;
    toml::from_str(text).map_err(|e| {
        let msg = e.message().trim().replace('\n', ": ");
        let at = e.span().and_then(|s| text.get(..s.start)).map(|before| {
            let line = first_line + before.matches('\n').count();
            let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
            format!(" at line {line}, column {col}")
        });
        crate::LangError::new(
            path,
            format!("invalid TOML{}: {msg}", at.unwrap_or_default()),
        )
    })
}

#[cfg(test)]
mod tests {

    #[test]
    fn utf16_text() {
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("a==1\n".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain("a==1\n".encode_utf16().flat_map(|u| u.to_be_bytes()))
            .collect();
        assert_eq!(
            text("r", &le).map(|t| t.into_owned()).ok().as_deref(),
            Some("a==1\n")
        );
        assert_eq!(
            text("r", &be).map(|t| t.into_owned()).ok().as_deref(),
            Some("a==1\n")
        );
        assert_eq!(
            text("r", b"\xef\xbb\xbfx")
                .map(|t| t.into_owned())
                .ok()
                .as_deref(),
            Some("x")
        );
        assert!(text("r", b"\xff\xfe\x00").is_err());
    }
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(
            purl(lt::NPM, "@babel/core", "7.0.0").as_deref(),
            Some("pkg:npm/%40babel/core@7.0.0")
        );
        assert_eq!(
            purl(lt::GOBINARY, "github.com/foo/bar", "v1.2.3").as_deref(),
            Some("pkg:golang/github.com/foo/bar@v1.2.3")
        );
        assert_eq!(
            purl(lt::PYTHON_PKG, "PyYAML", "6.0").as_deref(),
            Some("pkg:pypi/pyyaml@6.0")
        );
        assert_eq!(
            purl(lt::JAR, "org.apache:commons-io", "2.6").as_deref(),
            Some("pkg:maven/org.apache/commons-io@2.6")
        );
        assert_eq!(purl(lt::JAR, "commons-io", "2.6"), None);
        assert_eq!(
            purl(lt::COCOAPODS, "AFNetworking/NSURLSession", "4.0.1").as_deref(),
            Some("pkg:cocoapods/AFNetworking@4.0.1#NSURLSession")
        );
        assert_eq!(pkg_id(lt::POM, "g:a", "1"), "g:a:1");
        assert_eq!(pkg_id(lt::GOMOD, "m", ""), "m");
    }
}
