//! Node.js: installed `node_modules/**/package.json`, `package-lock.json`
//! (v1–v3), `yarn.lock` (classic and berry), `pnpm-lock.yaml` (v5–v9) and
//! `bun.lock`.

use crate::util::{dedupe, json, mark_dev_by_reachability, new_pkg, pkg_id, utf8, yaml};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{Package, Relationship};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

fn license_of(v: &Value) -> Vec<String> {
    match v.get("license") {
        Some(Value::String(s)) if !s.is_empty() => return vec![s.clone()],
        Some(Value::Object(o)) => {
            if let Some(Value::String(s)) = o.get("type") {
                return vec![s.clone()];
            }
        }
        _ => {}
    }
    if let Some(Value::Array(a)) = v.get("licenses") {
        return a
            .iter()
            .filter_map(|l| match l {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_string),
                _ => None,
            })
            .collect();
    }
    Vec::new()
}

/// An installed package's `package.json` (under `node_modules`). A file
/// without `name` or `version` (templates, test fixtures) yields nothing.
pub fn parse_package_json(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let v: Value = json(path, data)?;
    let (Some(name), Some(version)) = (
        v.get("name").and_then(Value::as_str),
        v.get("version").and_then(Value::as_str),
    ) else {
        return Ok(Vec::new());
    };
    if name.is_empty() || version.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = new_pkg(lt::NODE_PKG, name, version);
    p.licenses = license_of(&v);
    p.file_path = path.to_string();
    Ok(vec![p])
}

/// `npm:real-name@1.2.3` alias specs → (real name, version).
fn npm_alias(version: &str) -> Option<(&str, &str)> {
    let rest = version.strip_prefix("npm:")?;
    let at = rest.get(1..)?.rfind('@')? + 1;
    Some((rest.get(..at)?, rest.get(at + 1..)?))
}

fn is_registry_version(v: &str) -> bool {
    v.chars().next().is_some_and(|c| c.is_ascii_digit())
}

#[derive(Deserialize, Default)]
struct LockV1Dep {
    #[serde(default)]
    version: String,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    requires: BTreeMap<String, String>,
    #[serde(default)]
    dependencies: BTreeMap<String, LockV1Dep>,
}

#[derive(Deserialize, Default)]
struct LockPkg {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    dev: bool,
    #[serde(default)]
    link: bool,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    license: Option<Value>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, String>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, String>,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct PackageLock {
    #[serde(default, rename = "lockfileVersion")]
    lockfile_version: u32,
    #[serde(default)]
    packages: BTreeMap<String, LockPkg>,
    #[serde(default)]
    dependencies: BTreeMap<String, LockV1Dep>,
}

/// `package-lock.json` v1 (nested `dependencies`) and v2/v3 (`packages`
/// keyed by install path). Workspace members (`link: true`) are reported as
/// `workspace`; aliases (`npm:real@1.0.0`) under their real name; git, file
/// and tarball dependencies are skipped.
pub fn parse_package_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: PackageLock = json(path, data)?;
    if lock.lockfile_version >= 2 || !lock.packages.is_empty() {
        Ok(dedupe(lock_v2(path, &lock.packages)))
    } else {
        let mut out = Vec::new();
        let mut scopes: Vec<&BTreeMap<String, LockV1Dep>> = vec![&lock.dependencies];
        lock_v1(path, &lock.dependencies, &mut scopes, &mut out);
        Ok(dedupe(out))
    }
}

fn v1_name_version<'a>(key: &'a str, d: &'a LockV1Dep) -> Option<(&'a str, &'a str)> {
    if let Some((n, v)) = npm_alias(&d.version) {
        return Some((n, v));
    }
    is_registry_version(&d.version).then_some((key, d.version.as_str()))
}

fn lock_v1<'a>(
    path: &str,
    deps: &'a BTreeMap<String, LockV1Dep>,
    scopes: &mut Vec<&'a BTreeMap<String, LockV1Dep>>,
    out: &mut Vec<Package>,
) {
    for (key, d) in deps {
        let Some((name, version)) = v1_name_version(key, d) else {
            tracing::debug!(
                file = path,
                package = key,
                version = d.version,
                "non-registry dependency skipped"
            );
            continue;
        };
        let mut p = new_pkg(lt::NPM, name, version);
        p.dev = d.dev;
        // Node resolution: the dependency's own nested scope, then outwards.
        for req in d.requires.keys() {
            let found = d
                .dependencies
                .get(req)
                .or_else(|| scopes.iter().rev().find_map(|s| s.get(req)));
            if let Some((n, v)) = found.and_then(|f| v1_name_version(req, f)) {
                p.depends_on.push(pkg_id(lt::NPM, n, v));
            }
        }
        out.push(p);
        if !d.dependencies.is_empty() {
            scopes.push(&d.dependencies);
            lock_v1(path, &d.dependencies, scopes, out);
            scopes.pop();
        }
    }
}

fn lock_v2(path: &str, packages: &BTreeMap<String, LockPkg>) -> Vec<Package> {
    // Name and version of the package installed at each path.
    let name_of = |key: &str, p: &LockPkg| -> Option<(String, String)> {
        let version = p.version.clone()?;
        let from_key = key.rsplit("node_modules/").next().unwrap_or(key);
        let name = p.name.clone().unwrap_or_else(|| from_key.to_string());
        if let Some((n, v)) = npm_alias(&version) {
            return Some((n.to_string(), v.to_string()));
        }
        Some((name, version))
    };
    // Links (workspaces): node_modules/ws → packages/ws.
    let mut link_target: HashMap<&str, &str> = HashMap::new();
    for (k, p) in packages {
        if p.link {
            if let Some(r) = p.resolved.as_deref() {
                link_target.insert(k.as_str(), r);
            }
        }
    }
    let target = |key: &str| -> Option<String> {
        let p = packages.get(key)?;
        if p.link {
            let t = link_target.get(key)?;
            let tp = packages.get(*t)?;
            let (n, v) = name_of(key, tp).or_else(|| {
                Some((
                    key.rsplit("node_modules/").next()?.to_string(),
                    tp.version.clone()?,
                ))
            })?;
            return Some(pkg_id(lt::NPM, &n, &v));
        }
        let (n, v) = name_of(key, p)?;
        Some(pkg_id(lt::NPM, &n, &v))
    };
    // node resolution from a package at `key` for dependency `dep`.
    let resolve = |key: &str, dep: &str| -> Option<String> {
        let mut base = key.to_string();
        loop {
            let cand = if base.is_empty() {
                format!("node_modules/{dep}")
            } else {
                format!("{base}/node_modules/{dep}")
            };
            if packages.contains_key(&cand) {
                return target(&cand);
            }
            if base.is_empty() {
                return None;
            }
            base = match base.rfind("/node_modules/") {
                Some(i) => base.get(..i).unwrap_or("").to_string(),
                None => String::new(),
            };
        }
    };
    // Direct dependencies: those of the root and of each workspace member.
    let mut direct: HashSet<String> = HashSet::new();
    let mut workspace_dirs: Vec<&str> = vec![""];
    workspace_dirs.extend(link_target.values().copied());
    for dir in &workspace_dirs {
        if let Some(p) = packages.get(*dir) {
            for dep in p
                .dependencies
                .keys()
                .chain(p.dev_dependencies.keys())
                .chain(p.optional_dependencies.keys())
                .chain(p.peer_dependencies.keys())
            {
                if let Some(id) = resolve(dir, dep) {
                    direct.insert(id);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (key, p) in packages {
        if key.is_empty() || p.link {
            continue;
        }
        let in_nm = key.starts_with("node_modules/") || key.contains("/node_modules/");
        let Some((name, version)) = name_of(key, p) else {
            continue;
        };
        let local = p
            .resolved
            .as_deref()
            .is_some_and(|r| r.starts_with("file:") || r.starts_with("git"));
        if in_nm && (!is_registry_version(&version) || local) {
            tracing::debug!(
                file = path,
                package = key,
                "non-registry dependency skipped"
            );
            continue;
        }
        let name = if in_nm {
            name
        } else {
            // A workspace member's source dir: its name is in the link
            // entry. A directory no link points to (a broken or stale
            // link, a leftover path) is not a package: its key is a path,
            // not a name.
            let Some(n) = link_target
                .iter()
                .find(|(_, t)| **t == key.as_str())
                .and_then(|(l, _)| l.rsplit("node_modules/").next())
            else {
                tracing::debug!(
                    file = path,
                    package = key,
                    "directory entry without a link to it skipped"
                );
                continue;
            };
            p.name.clone().unwrap_or_else(|| n.to_string())
        };
        let mut pkg = new_pkg(lt::NPM, &name, &version);
        pkg.dev = p.dev;
        pkg.relationship = Some(if !in_nm {
            Relationship::Workspace
        } else if direct.contains(&pkg.id) {
            Relationship::Direct
        } else {
            Relationship::Indirect
        });
        if let Some(l) = &p.license {
            pkg.licenses = license_of(&serde_json::json!({ "license": l }));
        }
        for dep in p
            .dependencies
            .keys()
            .chain(p.optional_dependencies.keys())
            .chain(p.peer_dependencies.keys())
        {
            if let Some(id) = resolve(key, dep) {
                pkg.depends_on.push(id);
            }
        }
        out.push(pkg);
    }
    out
}

// ---------------------------------------------------------------- yarn ----

/// `name@range` → name (handles `@scope/name@range`).
fn split_pattern(pat: &str) -> Option<(&str, &str)> {
    let at = pat.get(1..)?.find('@')? + 1;
    Some((pat.get(..at)?, pat.get(at + 1..)?))
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
}

/// `yarn.lock`: classic (v1) or berry (YAML with `__metadata`). Direct
/// dependencies cannot be told from the lockfile alone (they are in
/// package.json), so packages have no relationship except workspaces.
pub fn parse_yarn_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = utf8(path, data)?;
    if text.lines().any(|l| l.starts_with("__metadata:")) {
        return yarn_berry(path, data);
    }
    yarn_classic(path, text)
}

/// A yarn classic field line, `key value`, either side optionally quoted
/// (`version "1.0.0"`, `"version" "3.6.0"`, `"@babel/core" "^7.0.0"`).
/// Returns the unquoted key (a trailing `:` kept) and value.
fn yarn_field(f: &str) -> (&str, &str) {
    let (k, rest) = match f.strip_prefix('"') {
        Some(r) => match r.split_once('"') {
            Some((k, rest)) => (k, rest),
            None => (r, ""),
        },
        None => f.split_once(' ').unwrap_or((f, "")),
    };
    let rest = rest.trim();
    // `"dependencies":` keeps its colon outside the quotes.
    if rest == ":" {
        return (k.trim_end_matches(':'), "");
    }
    (k, unquote(rest))
}

struct YarnEntry {
    patterns: Vec<String>,
    version: String,
    deps: Vec<(String, String)>,
    line: usize,
}

fn yarn_classic(path: &str, text: &str) -> Result<Vec<Package>, LangError> {
    let mut entries: Vec<YarnEntry> = Vec::new();
    let mut in_deps = false;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_end();
        if t.trim_start().starts_with('#') || t.trim().is_empty() {
            continue;
        }
        let indent = t.len() - t.trim_start().len();
        match indent {
            0 => {
                let Some(h) = t.strip_suffix(':') else {
                    return Err(LangError::new(
                        path,
                        format!("line {}: expected `pattern:` header", n + 1),
                    ));
                };
                let patterns = h.split(", ").map(|p| unquote(p).to_string()).collect();
                entries.push(YarnEntry {
                    patterns,
                    version: String::new(),
                    deps: Vec::new(),
                    line: n + 1,
                });
                in_deps = false;
            }
            2 => {
                let Some(e) = entries.last_mut() else {
                    return Err(LangError::new(
                        path,
                        format!("line {}: field before any entry", n + 1),
                    ));
                };
                let (k, v) = yarn_field(t.trim());
                let k = k.trim_end_matches(':');
                in_deps = v.is_empty() && (k == "dependencies" || k == "optionalDependencies");
                if k == "version" {
                    e.version = v.to_string();
                }
            }
            _ if in_deps => {
                if let Some(e) = entries.last_mut() {
                    let (k, v) = yarn_field(t.trim());
                    if !k.is_empty() {
                        e.deps.push((k.to_string(), v.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    let mut by_pattern: HashMap<&str, String> = HashMap::new();
    let mut named: Vec<(String, &YarnEntry)> = Vec::new();
    for e in &entries {
        let Some((name, range)) = e.patterns.first().and_then(|p| split_pattern(p)) else {
            return Err(LangError::new(
                path,
                format!("line {}: bad package pattern", e.line),
            ));
        };
        // Alias: `alias@npm:real@^1` installs `real`.
        let real = range
            .strip_prefix("npm:")
            .and_then(|r| split_pattern(r).map(|(n, _)| n).or(Some(r)))
            .filter(|r| {
                !r.is_empty()
                    && !r
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_digit() || c == '^' || c == '~')
            })
            .unwrap_or(name);
        if e.version.is_empty() {
            return Err(LangError::new(
                path,
                format!("line {}: entry {name} has no version", e.line),
            ));
        }
        let id = pkg_id(lt::YARN, real, &e.version);
        for p in &e.patterns {
            by_pattern.insert(p.as_str(), id.clone());
        }
        named.push((real.to_string(), e));
    }
    let mut out = Vec::new();
    for (name, e) in named {
        let remote = e.patterns.iter().any(|p| {
            split_pattern(p).is_some_and(|(_, r)| {
                r.contains("://")
                    || ["git", "file:", "link:", "github:", "portal:"]
                        .iter()
                        .any(|x| r.starts_with(x))
            })
        });
        if !is_registry_version(&e.version) || remote {
            tracing::debug!(
                file = path,
                package = name,
                "non-registry dependency skipped"
            );
            continue;
        }
        let mut p = new_pkg(lt::YARN, &name, &e.version);
        for (d, r) in &e.deps {
            if let Some(id) = by_pattern.get(format!("{d}@{r}").as_str()) {
                p.depends_on.push(id.clone());
            }
        }
        out.push(p);
    }
    Ok(dedupe(out))
}

#[derive(Deserialize, Default)]
struct BerryEntry {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    resolution: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: BTreeMap<String, String>,
}

fn yarn_berry(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let map: BTreeMap<String, BerryEntry> = yaml(path, data)?;
    let mut by_pattern: HashMap<String, String> = HashMap::new();
    let mut items: Vec<(String, String, &'static str, &BerryEntry)> = Vec::new();
    for (key, e) in &map {
        if key == "__metadata" {
            continue;
        }
        let Some(res) = e.resolution.as_deref() else {
            continue;
        };
        let Some((name, reference)) = split_pattern(res) else {
            continue;
        };
        let (proto, _) = reference.split_once(':').unwrap_or(("", reference));
        let version = e.version.clone().unwrap_or_default();
        let kind = match proto {
            "npm" => "npm",
            "workspace" => "workspace",
            // patch: entries duplicate the npm entry they patch; link:,
            // portal:, file:, git and tarball sources are not registry packages.
            _ => continue,
        };
        let id = pkg_id(lt::YARN, name, &version);
        for p in key.split(", ") {
            by_pattern.insert(p.trim().to_string(), id.clone());
        }
        items.push((name.to_string(), version, kind, e));
    }
    let mut out = Vec::new();
    for (name, version, kind, e) in items {
        if kind == "workspace"
            && e.resolution
                .as_deref()
                .is_some_and(|r| r.ends_with("@workspace:."))
        {
            // The project root itself.
            continue;
        }
        let mut p = new_pkg(lt::YARN, &name, &version);
        if kind == "workspace" {
            p.relationship = Some(Relationship::Workspace);
        }
        for (d, r) in e.dependencies.iter().chain(e.peer_dependencies.iter()) {
            let pat = if r.contains(':') {
                format!("{d}@{r}")
            } else {
                format!("{d}@npm:{r}")
            };
            if let Some(id) = by_pattern.get(&pat) {
                p.depends_on.push(id.clone());
            }
        }
        out.push(p);
    }
    Ok(dedupe(out))
}

// ---------------------------------------------------------------- pnpm ----

#[derive(Deserialize)]
#[serde(untagged)]
enum DepRef {
    Plain(String),
    Spec { version: String },
}

impl DepRef {
    fn version(&self) -> &str {
        match self {
            DepRef::Plain(s) => s,
            DepRef::Spec { version } => version,
        }
    }
}

#[derive(Deserialize, Default)]
struct Importer {
    #[serde(default)]
    dependencies: BTreeMap<String, DepRef>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, DepRef>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, DepRef>,
    #[serde(default, rename = "packageManagerDependencies")]
    package_manager: BTreeMap<String, Value>,
    #[serde(default, rename = "configDependencies")]
    config: BTreeMap<String, Value>,
}

#[derive(Deserialize, Default)]
struct PnpmPkg {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    dev: Option<bool>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct PnpmLock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Value,
    #[serde(default)]
    importers: BTreeMap<String, Importer>,
    #[serde(default)]
    dependencies: BTreeMap<String, DepRef>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, DepRef>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, DepRef>,
    #[serde(default)]
    packages: BTreeMap<String, PnpmPkg>,
    #[serde(default)]
    snapshots: BTreeMap<String, PnpmPkg>,
}

/// Strip peer suffixes: `1.0.0(react@18.0.0)` (v6+) and `1.0.0_react@18` (v5).
fn strip_peer(v: &str, v5: bool) -> &str {
    let v = v.split('(').next().unwrap_or(v);
    if v5 {
        v.split('_').next().unwrap_or(v)
    } else {
        v
    }
}

/// A package key → (name, version): `/name/1.0.0` (v5), `/name@1.0.0`
/// (v6), `name@1.0.0` (v9), with scopes and peer suffixes.
fn pnpm_key(key: &str, v5: bool) -> Option<(String, String)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    if v5 {
        let k = strip_peer(k, true);
        let i = k.rfind('/')?;
        return Some((k.get(..i)?.to_string(), k.get(i + 1..)?.to_string()));
    }
    let k = strip_peer(k, false);
    let (n, v) = split_pattern(k)?;
    Some((n.to_string(), v.to_string()))
}

/// `pnpm-lock.yaml` v5, v6 and v9 (`packages` + `snapshots`). Direct
/// dependencies come from `importers` (or the top-level maps of a
/// single-project lockfile); `link:` dependencies (workspaces) are skipped.
/// Entries keyed by a tarball URL or a `file:` path are reported under the
/// `name` and `version` they carry. A multi-document lockfile (pnpm ≥ 10
/// writes the package manager's own "env" lockfile as a first document) is
/// read document by document; the env document (only
/// `packageManagerDependencies` / `configDependencies`) describes pnpm
/// itself, not the project, and is skipped.
pub fn parse_pnpm_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let docs: Vec<Option<PnpmLock>> = crate::util::yaml_multi(path, data)?;
    let docs: Vec<PnpmLock> = docs.into_iter().flatten().collect();
    if docs.is_empty() {
        return Err(LangError::new(path, "no lockfile document"));
    }
    let n = docs.len();
    let mut out = Vec::new();
    for lock in docs {
        if n > 1 && lock.is_env_document() {
            continue;
        }
        out.extend(pnpm_document(path, lock)?);
    }
    Ok(dedupe(out))
}

impl PnpmLock {
    fn is_env_document(&self) -> bool {
        !self.importers.is_empty()
            && self.importers.values().all(|i| {
                i.dependencies.is_empty()
                    && i.dev_dependencies.is_empty()
                    && i.optional_dependencies.is_empty()
                    && !(i.package_manager.is_empty() && i.config.is_empty())
            })
    }
}

fn pnpm_document(path: &str, lock: PnpmLock) -> Result<Vec<Package>, LangError> {
    let lv = match &lock.lockfile_version {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(LangError::new(path, "lockfileVersion is not a version")),
    };
    let major: u32 = lv
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let v5 = major < 6;
    // v9 keeps dependency edges in `snapshots`, metadata in `packages`.
    let entries: &BTreeMap<String, PnpmPkg> = if major >= 9 && !lock.snapshots.is_empty() {
        &lock.snapshots
    } else {
        &lock.packages
    };
    // name and version of each entry: its own `name`/`version` fields (v9:
    // those of its `packages` twin), else from the key.
    let meta = |key: &str, p: &PnpmPkg| -> Option<(String, String)> {
        let twin = if major >= 9 {
            lock.packages.get(strip_peer(key, false))
        } else {
            None
        };
        let from_key = pnpm_key(key, v5);
        let name = p
            .name
            .clone()
            .or_else(|| twin.and_then(|t| t.name.clone()))
            .or_else(|| from_key.as_ref().map(|(n, _)| n.clone()))?;
        let version = p
            .version
            .clone()
            .or_else(|| twin.and_then(|t| t.version.clone()))
            .or_else(|| from_key.map(|(_, v)| v))?;
        Some((name, version))
    };
    // Every spelling a dependency can use for an entry → its id.
    let mut by_key: HashMap<String, String> = HashMap::new();
    for (key, p) in entries {
        if let Some((n, v)) = meta(key, p) {
            let id = pkg_id(lt::PNPM, &n, &v);
            let bare = strip_peer(key, v5);
            for k in [key.as_str(), bare, bare.trim_start_matches('/')] {
                by_key.insert(k.to_string(), id.clone());
            }
        }
    }

    let mut importers: Vec<&Importer> = lock.importers.values().collect();
    let top = Importer {
        dependencies: lock.dependencies,
        dev_dependencies: lock.dev_dependencies,
        optional_dependencies: lock.optional_dependencies,
        ..Default::default()
    };
    importers.push(&top);

    let dep_id = |name: &str, version: &str| -> Option<String> {
        if version.starts_with("link:") {
            return None;
        }
        let bare = strip_peer(version, v5);
        for cand in [
            version.to_string(),
            bare.to_string(),
            format!("{name}@{bare}"),
            format!("/{name}@{bare}"),
            format!("/{name}/{bare}"),
        ] {
            if let Some(id) = by_key.get(&cand) {
                return Some(id.clone());
            }
        }
        if version.starts_with("file:") {
            return None;
        }
        // A version can itself be a key (`/other/1.0.0` aliases).
        if bare.starts_with('/') || (!v5 && bare.contains('@')) {
            let (n, v) = pnpm_key(version, v5)?;
            return Some(pkg_id(lt::PNPM, &n, &v));
        }
        Some(pkg_id(lt::PNPM, name, bare))
    };
    let mut direct: HashSet<String> = HashSet::new();
    let mut prod_roots: Vec<String> = Vec::new();
    for imp in &importers {
        for (n, d) in imp
            .dependencies
            .iter()
            .chain(imp.optional_dependencies.iter())
        {
            if let Some(id) = dep_id(n, d.version()) {
                direct.insert(id.clone());
                prod_roots.push(id);
            }
        }
        for (n, d) in &imp.dev_dependencies {
            if let Some(id) = dep_id(n, d.version()) {
                direct.insert(id);
            }
        }
    }
    let mut out = Vec::new();
    let mut any_dev_flag = false;
    for (key, p) in entries {
        let Some((name, version)) = meta(key, p) else {
            tracing::debug!(file = path, key, "unrecognized pnpm package key skipped");
            continue;
        };
        if !is_registry_version(&version) {
            tracing::debug!(file = path, key, "pnpm entry without a version skipped");
            continue;
        }
        let mut pkg = new_pkg(lt::PNPM, &name, &version);
        pkg.relationship = Some(if direct.contains(&pkg.id) {
            Relationship::Direct
        } else {
            Relationship::Indirect
        });
        if let Some(d) = p.dev {
            any_dev_flag = true;
            pkg.dev = d;
        }
        for (n, v) in p.dependencies.iter().chain(p.optional_dependencies.iter()) {
            if let Some(id) = dep_id(n, v) {
                pkg.depends_on.push(id);
            }
        }
        out.push(pkg);
    }
    if !any_dev_flag {
        mark_dev_by_reachability(&mut out, &prod_roots);
    }
    Ok(out)
}

// ----------------------------------------------------------------- bun ----

#[derive(Deserialize, Default)]
struct BunWorkspace {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
    #[serde(default, rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, String>,
    #[serde(default, rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, String>,
    #[serde(default, rename = "peerDependencies")]
    peer_dependencies: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct BunLock {
    #[serde(default)]
    workspaces: BTreeMap<String, BunWorkspace>,
    #[serde(default)]
    packages: BTreeMap<String, Vec<Value>>,
}

/// `bun.lock` (the JSONC text lockfile of Bun ≥ 1.2): `packages` maps an
/// install path (`a`, `a/b` for nested) to `["name@version", registry,
/// {dependencies...}, integrity]`; workspaces list the direct dependencies.
pub fn parse_bun_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = utf8(path, data)?;
    let clean = crate::jsonc::to_json(text);
    let lock: BunLock = serde_json::from_str(&clean)
        .map_err(|e| LangError::new(path, format!("invalid bun.lock: {e}")))?;
    // install path → (name, version, is_workspace)
    let mut at: HashMap<&str, (String, String, bool)> = HashMap::new();
    for (key, arr) in &lock.packages {
        let Some(spec) = arr.first().and_then(Value::as_str) else {
            return Err(LangError::new(
                path,
                format!("package {key:?} has no `name@version`"),
            ));
        };
        let Some((name, reference)) = split_pattern(spec) else {
            continue;
        };
        if let Some(ws) = reference.strip_prefix("workspace:") {
            let v = lock
                .workspaces
                .get(ws)
                .and_then(|w| w.version.clone())
                .unwrap_or_default();
            at.insert(key.as_str(), (name.to_string(), v, true));
        } else if is_registry_version(reference) {
            at.insert(
                key.as_str(),
                (name.to_string(), reference.to_string(), false),
            );
        } else if let Some((n, v)) = reference.strip_prefix("npm:").and_then(split_pattern) {
            at.insert(key.as_str(), (n.to_string(), v.to_string(), false));
        }
    }
    let id_at = |k: &str| at.get(k).map(|(n, v, _)| pkg_id(lt::BUN, n, v));
    let resolve = |from: &str, dep: &str| -> Option<String> {
        let mut base = from;
        loop {
            let cand = if base.is_empty() {
                dep.to_string()
            } else {
                format!("{base}/{dep}")
            };
            if let Some(id) = id_at(&cand) {
                return Some(id);
            }
            if base.is_empty() {
                return None;
            }
            base = base.rfind('/').and_then(|i| base.get(..i)).unwrap_or("");
        }
    };
    let mut direct: HashSet<String> = HashSet::new();
    let mut prod_roots: Vec<String> = Vec::new();
    for ws in lock.workspaces.values() {
        for d in ws
            .dependencies
            .keys()
            .chain(ws.optional_dependencies.keys())
            .chain(ws.peer_dependencies.keys())
        {
            if let Some(id) = resolve("", d) {
                direct.insert(id.clone());
                prod_roots.push(id);
            }
        }
        for d in ws.dev_dependencies.keys() {
            if let Some(id) = resolve("", d) {
                direct.insert(id);
            }
        }
    }
    let mut out = Vec::new();
    for (key, arr) in &lock.packages {
        let Some((name, version, ws)) = at.get(key.as_str()) else {
            continue;
        };
        let mut p = new_pkg(lt::BUN, name, version);
        p.relationship = Some(if *ws {
            Relationship::Workspace
        } else if direct.contains(&p.id) {
            Relationship::Direct
        } else {
            Relationship::Indirect
        });
        if *ws {
            prod_roots.push(p.id.clone());
        }
        let meta = arr.iter().find(|v| v.is_object());
        if let Some(m) = meta {
            for field in ["dependencies", "optionalDependencies", "peerDependencies"] {
                if let Some(Value::Object(deps)) = m.get(field) {
                    for d in deps.keys() {
                        if let Some(id) = resolve(key, d) {
                            p.depends_on.push(id);
                        }
                    }
                }
            }
        }
        out.push(p);
    }
    // The root workspace's name is not a package of its own.
    let _ = lock.workspaces.get("").and_then(|w| w.name.as_ref());
    mark_dev_by_reachability(&mut out, &prod_roots);
    Ok(dedupe(out))
}

#[cfg(test)]
mod tests {

    #[test]
    fn yarn_fields() {
        assert_eq!(yarn_field("version \"1.0.0\""), ("version", "1.0.0"));
        assert_eq!(yarn_field("\"version\" \"3.6.0\""), ("version", "3.6.0"));
        assert_eq!(yarn_field("\"dependencies\":"), ("dependencies", ""));
        assert_eq!(yarn_field("dependencies:"), ("dependencies:", ""));
        assert_eq!(yarn_field("\"@babel/core\" \"^7\""), ("@babel/core", "^7"));
    }
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(npm_alias("npm:@a/b@1.0.0"), Some(("@a/b", "1.0.0")));
        assert_eq!(npm_alias("npm:x@2"), Some(("x", "2")));
        assert_eq!(split_pattern("@babel/core@^7"), Some(("@babel/core", "^7")));
        assert_eq!(
            pnpm_key("/@babel/core/7.0.0_react@18.0.0", true),
            Some(("@babel/core".into(), "7.0.0".into()))
        );
        assert_eq!(
            pnpm_key("/@babel/core@7.0.0(react@18.0.0)", false),
            Some(("@babel/core".into(), "7.0.0".into()))
        );
        assert_eq!(
            pnpm_key("lodash@4.17.21", false),
            Some(("lodash".into(), "4.17.21".into()))
        );
    }

    #[test]
    fn package_json() {
        let p = parse_package_json(
            "node_modules/x/package.json",
            br#"{"name":"x","version":"1.0.0","license":{"type":"MIT"}}"#,
        )
        .unwrap_or_default();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].licenses, vec!["MIT"]);
        assert_eq!(p[0].file_path, "node_modules/x/package.json");
        assert!(parse_package_json("p", br#"{"name":"x"}"#)
            .map(|v| v.is_empty())
            .unwrap_or(false));
        assert!(parse_package_json("p", b"{").is_err());
    }
}
