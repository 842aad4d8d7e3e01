//! Dart `pubspec.lock`, CocoaPods `Podfile.lock`, Swift `Package.resolved`
//! and conda `conda-meta/*.json`.

use crate::util::{dedupe, json, new_pkg, pkg_id, yaml};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{normalize_name, Package, Relationship};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize)]
struct Pubspec {
    #[serde(default)]
    packages: BTreeMap<String, PubPkg>,
}

#[derive(Deserialize)]
struct PubPkg {
    #[serde(default)]
    dependency: String,
    #[serde(default)]
    source: String,
    version: String,
}

/// `pubspec.lock`: `hosted` and `git` packages (SDK and path packages are
/// skipped); `direct main|dev|overridden` vs `transitive`; `direct dev` is dev.
pub fn parse_pubspec_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: Pubspec = yaml(path, data)?;
    let mut out = Vec::new();
    for (name, p) in &lock.packages {
        if p.source == "sdk" || p.source == "path" {
            continue;
        }
        let mut pkg = new_pkg(lt::PUB, &normalize_name("Pub", name), &p.version);
        pkg.relationship = Some(if p.dependency.starts_with("direct") {
            Relationship::Direct
        } else {
            Relationship::Indirect
        });
        pkg.dev = p.dependency == "direct dev";
        out.push(pkg);
    }
    Ok(dedupe(out))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PodEntry {
    Plain(String),
    WithDeps(BTreeMap<String, Vec<String>>),
}

#[derive(Deserialize)]
struct Podfile {
    #[serde(default, rename = "PODS")]
    pods: Vec<PodEntry>,
    #[serde(default, rename = "DEPENDENCIES")]
    dependencies: Vec<String>,
}

/// `Name (1.2.3)` or `Name (~> 1.2)` → (name, inside of the parentheses).
fn pod_spec(s: &str) -> (&str, &str) {
    match s.split_once(" (") {
        Some((n, v)) => (n.trim(), v.trim_end_matches(')').trim()),
        None => (s.trim(), ""),
    }
}

/// `Podfile.lock`: every pod of `PODS` (subspecs such as
/// `AFNetworking/NSURLSession` included, as Trivy does), dependency edges
/// from the nested lists, direct ones from `DEPENDENCIES`.
pub fn parse_podfile_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: Podfile = yaml(path, data)?;
    let mut versions: HashMap<String, String> = HashMap::new();
    let mut items: Vec<(String, String, Vec<String>)> = Vec::new();
    for e in &lock.pods {
        let (spec, deps) = match e {
            PodEntry::Plain(s) => (s.as_str(), Vec::new()),
            PodEntry::WithDeps(m) => match m.iter().next() {
                Some((s, d)) => (s.as_str(), d.clone()),
                None => continue,
            },
        };
        let (name, version) = pod_spec(spec);
        if version.is_empty() {
            return Err(LangError::new(path, format!("pod {name:?} has no version")));
        }
        versions.insert(name.to_string(), version.to_string());
        items.push((name.to_string(), version.to_string(), deps));
    }
    let direct: Vec<&str> = lock.dependencies.iter().map(|d| pod_spec(d).0).collect();
    let mut out = Vec::new();
    for (name, version, deps) in items {
        let mut p = new_pkg(lt::COCOAPODS, &name, &version);
        p.relationship = Some(if direct.contains(&name.as_str()) {
            Relationship::Direct
        } else {
            Relationship::Indirect
        });
        p.depends_on = deps
            .iter()
            .filter_map(|d| {
                let n = pod_spec(d).0;
                versions.get(n).map(|v| pkg_id(lt::COCOAPODS, n, v))
            })
            .collect();
        out.push(p);
    }
    Ok(dedupe(out))
}

#[derive(Deserialize)]
struct Resolved {
    #[serde(default)]
    object: Option<ResolvedV1>,
    #[serde(default)]
    pins: Vec<Pin>,
}

#[derive(Deserialize)]
struct ResolvedV1 {
    #[serde(default)]
    pins: Vec<Pin>,
}

#[derive(Deserialize)]
struct Pin {
    #[serde(default, rename = "repositoryURL")]
    repository_url: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    state: PinState,
}

#[derive(Deserialize, Default)]
struct PinState {
    #[serde(default)]
    version: Option<String>,
}

/// Trivy's Swift package name: the repository URL without scheme and `.git`
/// (`https://github.com/Alamofire/Alamofire.git` → `github.com/Alamofire/Alamofire`).
fn swift_name(url: &str) -> String {
    let u = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let u = u.split_once('@').map(|(_, r)| r).unwrap_or(u);
    u.trim_end_matches('/')
        .trim_end_matches(".git")
        .replacen(':', "/", 1)
}

/// `Package.resolved` v1 (`object.pins`, `repositoryURL`) and v2/v3
/// (`pins`, `location`); pins on a branch or revision without a version are
/// skipped.
pub fn parse_package_resolved(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let r: Resolved = json(path, data)?;
    let pins = r
        .object
        .map(|o| o.pins)
        .unwrap_or_default()
        .into_iter()
        .chain(r.pins);
    let mut out = Vec::new();
    for pin in pins {
        let Some(url) = pin.location.or(pin.repository_url) else {
            return Err(LangError::new(
                path,
                "pin without location or repositoryURL",
            ));
        };
        let Some(v) = pin.state.version.filter(|v| !v.is_empty()) else {
            tracing::debug!(file = path, url, "pin without a version skipped");
            continue;
        };
        out.push(new_pkg(lt::SWIFT, &swift_name(&url), &v));
    }
    Ok(dedupe(out))
}

/// `conda-meta/<name>-<version>-<build>.json`: `name`, `version`, `license`.
pub fn parse_conda_meta(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let v: Value = json(path, data)?;
    let (Some(name), Some(version)) = (
        v.get("name").and_then(Value::as_str),
        v.get("version").and_then(Value::as_str),
    ) else {
        return Err(LangError::new(
            path,
            "conda metadata without name or version",
        ));
    };
    let mut p = new_pkg(lt::CONDA_PKG, name, version);
    if let Some(l) = v
        .get("license")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty())
    {
        p.licenses = vec![l.to_string()];
    }
    p.file_path = path.to_string();
    Ok(vec![p])
}

#[derive(Deserialize)]
struct CondaEnv {
    #[serde(default)]
    dependencies: Vec<CondaDep>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CondaDep {
    Spec(String),
    /// `- pip: [...]`: another installer's requirements.
    Installer(BTreeMap<String, Vec<String>>),
}

/// A conda match spec → (name, pinned version): `numpy=1.21.2=py39h…`,
/// `numpy==1.8.1`, `numpy 1.8.1 py27_0`, `conda-forge::numpy=1.21` (the
/// channel dropped). Ranges and wildcards (`>=1.0`, `1.21.*`) pin nothing:
/// the version is empty, as Trivy leaves it.
fn conda_spec(spec: &str) -> Option<(String, String)> {
    let spec = spec.split('#').next().unwrap_or(spec);
    let spec = spec.rsplit("::").next().unwrap_or(spec);
    let spaced = spec
        .replace('>', " >")
        .replace('<', " <")
        .replace('!', " !")
        .replace('~', " ~")
        .replace('=', " ");
    let mut f = spaced.split_whitespace();
    let name = f.next()?.trim_matches(|c| c == '"' || c == '\'');
    if name.is_empty() {
        return None;
    }
    let version = f
        .next()
        .filter(|v| {
            v.chars().next().is_some_and(|c| c.is_ascii_digit()) && !v.contains(['*', ',', '|'])
        })
        .unwrap_or("");
    Some((name.to_string(), version.to_string()))
}

/// conda `environment.yaml` / `environment.yml`: the conda packages of
/// `dependencies` (name and pinned version; unpinned ones without a
/// version, as Trivy reports them). The `pip:` sub-list names PyPI
/// packages, not conda ones; it is not reported (Trivy reports them as
/// conda packages).
pub fn parse_conda_environment(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let env: Option<CondaEnv> = yaml(path, data)?;
    let mut out = Vec::new();
    for d in env.map(|e| e.dependencies).unwrap_or_default() {
        match d {
            CondaDep::Spec(s) => {
                if let Some((n, v)) = conda_spec(&s) {
                    out.push(new_pkg(customs_model::lang_type::CONDA_ENV, &n, &v));
                }
            }
            CondaDep::Installer(m) => {
                tracing::debug!(
                    file = path,
                    installers = ?m.keys().collect::<Vec<_>>(),
                    "non-conda requirements in environment file not reported"
                );
            }
        }
    }
    Ok(dedupe(out))
}

#[cfg(test)]
mod conda_env_tests {
    use super::*;

    #[test]
    fn specs() {
        let s = |x: &str| conda_spec(x).map(|(n, v)| format!("{n} {v}"));
        assert_eq!(
            s("numpy=1.21.2=py39h20f2e39_0").as_deref(),
            Some("numpy 1.21.2")
        );
        assert_eq!(s("numpy==1.8.1").as_deref(), Some("numpy 1.8.1"));
        assert_eq!(s("numpy 1.8.1 py27_0").as_deref(), Some("numpy 1.8.1"));
        assert_eq!(
            s("conda-forge::zlib=1.2.13").as_deref(),
            Some("zlib 1.2.13")
        );
        assert_eq!(s("python>=3.9").as_deref(), Some("python "));
        assert_eq!(s("scipy=1.10.*").as_deref(), Some("scipy "));
        assert_eq!(s("pip").as_deref(), Some("pip "));
        assert_eq!(s(""), None);
    }
}
