//! Python: installed distributions (`METADATA`, `PKG-INFO`, single-file
//! `.egg-info`), `requirements.txt`, `poetry.lock`, `Pipfile.lock`, `uv.lock`.

use crate::util::{dedupe, json, mark_dev_by_reachability, new_pkg, pkg_id, toml, toml_part};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{normalize_name, Package, Relationship};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Email-header fields of core metadata (RFC 822 style, continuation lines
/// start with whitespace; the body after the first blank line is ignored).
fn headers(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = out.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

/// Installed distribution metadata. The name is kept as the distribution
/// spells it (Trivy does); matching normalizes it (PEP 503).
pub fn parse_metadata(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = String::from_utf8_lossy(data);
    let h = headers(&text);
    let get = |k: &str| {
        h.iter()
            .find(|(key, v)| key == k && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    let name =
        get("name").ok_or_else(|| LangError::new(path, "no Name field in package metadata"))?;
    let version = get("version")
        .ok_or_else(|| LangError::new(path, "no Version field in package metadata"))?;
    let mut license = get("license-expression")
        .or_else(|| {
            get("license").filter(|l| !l.contains('\n') && l.len() <= 100 && *l != "UNKNOWN")
        })
        .map(str::to_string);
    if license.is_none() {
        license = h
            .iter()
            .filter(|(k, _)| k == "classifier")
            .find_map(|(_, v)| v.strip_prefix("License :: "))
            .and_then(|v| v.rsplit(" :: ").next())
            .map(str::to_string);
    }
    let mut p = new_pkg(lt::PYTHON_PKG, name, version);
    p.licenses = license.into_iter().collect();
    p.file_path = path.to_string();
    Ok(vec![p])
}

/// `requirements.txt`: only exact pins (`==`, `===`) name a version; other
/// requirement lines, options (`-r`, `-e`, `--hash`...) and URLs are skipped.
pub fn parse_requirements(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = crate::util::text(path, data)?;
    let mut out = Vec::new();
    // Join backslash continuations first.
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    for (n, raw) in joined.lines().enumerate() {
        // A comment starts at `#`; on a URL line only at ` #` (the URL's
        // own fragment, `#egg=`, is part of it).
        let cut = if raw.contains("://") {
            raw.find(" #").or_else(|| raw.starts_with('#').then_some(0))
        } else {
            raw.find('#')
        };
        let line = match cut {
            Some(i) => raw.get(..i).unwrap_or(""),
            None => raw,
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('-') {
            if line.starts_with("-r") || line.starts_with("--requirement") || line.starts_with("-c")
            {
                tracing::debug!(
                    file = path,
                    line = n + 1,
                    "included requirements file not followed"
                );
            }
            continue;
        }
        // Drop options on the line (`--hash=...`) and environment markers.
        let spec = line.split(" --").next().unwrap_or(line);
        let spec = unquote(spec.split(';').next().unwrap_or(spec).trim());
        let Some(eq) = spec.find("==") else { continue };
        let (name, rest) = spec.split_at(eq);
        let version = unquote(rest.trim_start_matches('=').trim());
        let name = unquote(name.split('[').next().unwrap_or(name).trim());
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        // Templated versions (`{{ v }}`, `${V}`, `%(v)s`) are not versions.
        let valid_version = !version.is_empty()
            && !version.contains([
                ',', '*', ' ', '<', '>', '!', '~', '{', '}', '$', '%', '"', '\'',
            ])
            && version.chars().all(|c| !c.is_control());
        if !valid_name || !valid_version {
            tracing::warn!(file = path, line = n + 1, "skipped requirement {spec:?}");
            continue;
        }
        out.push(new_pkg(lt::PIP, name, version));
    }
    Ok(dedupe(out))
}

/// `"x"` or `'x'` → `x` (requirements written by templating tools).
fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            if !inner.contains(q) {
                return inner.trim();
            }
        }
    }
    s
}

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPkg>,
}

#[derive(Deserialize)]
struct PoetryPkg {
    name: String,
    version: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    source: Option<PoetrySource>,
}

#[derive(Deserialize)]
struct PoetrySource {
    #[serde(rename = "type", default)]
    kind: String,
}

/// `poetry.lock`: names normalized (PEP 503) as Trivy does; local
/// `directory`/`file` sources are skipped; `category = "dev"` (Poetry < 1.2)
/// marks dev dependencies.
pub fn parse_poetry_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: PoetryLock = toml(path, data)?;
    let mut ids: HashMap<String, Vec<String>> = HashMap::new();
    for p in &lock.package {
        let n = normalize_name("PyPI", &p.name);
        let id = pkg_id(lt::POETRY, &n, &p.version);
        ids.entry(n).or_default().push(id);
    }
    let mut out = Vec::new();
    for p in lock.package {
        if let Some(s) = &p.source {
            if s.kind == "directory" || s.kind == "file" {
                tracing::debug!(file = path, package = p.name, "local poetry source skipped");
                continue;
            }
        }
        let n = normalize_name("PyPI", &p.name);
        let mut pkg = new_pkg(lt::POETRY, &n, &p.version);
        pkg.dev = p.category.as_deref() == Some("dev");
        for d in p.dependencies.keys() {
            let dn = normalize_name("PyPI", d);
            // Several versions of one name can be locked (markers): link all.
            if let Some(v) = ids.get(&dn) {
                pkg.depends_on.extend(v.iter().cloned());
            }
        }
        out.push(pkg);
    }
    Ok(dedupe(out))
}

#[derive(Deserialize)]
struct PipfileLock {
    #[serde(default)]
    default: BTreeMap<String, PipfileDep>,
    #[serde(default)]
    develop: BTreeMap<String, PipfileDep>,
}

#[derive(Deserialize)]
struct PipfileDep {
    #[serde(default)]
    version: Option<String>,
}

/// `Pipfile.lock`: `default` and `develop` (dev) sections; entries without a
/// `==` version (git, path, editable) are skipped.
pub fn parse_pipfile_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: PipfileLock = json(path, data)?;
    let mut out = Vec::new();
    for (section, dev) in [(&lock.default, false), (&lock.develop, true)] {
        for (name, dep) in section {
            let Some(v) = dep.version.as_deref().and_then(|v| v.strip_prefix("==")) else {
                tracing::debug!(
                    file = path,
                    package = name,
                    "Pipfile.lock entry without a pinned version"
                );
                continue;
            };
            let mut p = new_pkg(lt::PIPENV, name, v.trim_start_matches('='));
            p.dev = dev;
            out.push(p);
        }
    }
    Ok(dedupe(out))
}

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPkg>,
}

#[derive(Deserialize)]
struct UvPkg {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: BTreeMap<String, toml::Value>,
    #[serde(default)]
    dependencies: Vec<UvDep>,
    #[serde(default, rename = "optional-dependencies")]
    optional: BTreeMap<String, Vec<UvDep>>,
    #[serde(default, rename = "dev-dependencies")]
    dev: BTreeMap<String, Vec<UvDep>>,
}

#[derive(Deserialize)]
struct UvDep {
    name: String,
    #[serde(default)]
    version: Option<String>,
}

impl UvPkg {
    fn is_root(&self) -> bool {
        ["editable", "virtual"]
            .iter()
            .any(|k| self.source.get(*k).and_then(|v| v.as_str()) == Some("."))
    }
}

/// A `uv.lock` with the entries of its multi-line `wheels = [` lists
/// blanked (lines kept, so errors point at the same line): they are most of
/// the file (a URL, hash, size and date per wheel), none of them is read, and
/// the TOML parser would hold each as a table (13× the file in memory: 7 MB
/// for werkzeug's 575 KB lock). A list that does not close is left as it is,
/// for the parser to report.
fn without_wheel_lists(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut out: Vec<u8> = Vec::new();
    let mut copied = 0;
    let mut pos = 0;
    let mut open: Option<usize> = None; // where the blanked lines start
    while pos < data.len() {
        let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i + 1);
        let line = data[pos..end].trim_ascii();
        match open {
            None if line == b"wheels = [" => open = Some(end),
            Some(from) if line == b"]" => {
                out.extend_from_slice(&data[copied..from]);
                let newlines = memchr::memchr_iter(b'\n', &data[from..pos]).count();
                out.resize(out.len() + newlines, b'\n');
                copied = pos;
                open = None;
            }
            _ => {}
        }
        pos = end;
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(data);
    }
    out.extend_from_slice(&data[copied..]);
    std::borrow::Cow::Owned(out)
}

/// A `uv.lock` cut before each `[[package]]` line, each part with its first
/// line (1-based). Each part is a TOML document of its own (a package and
/// its `[package.*]` sub-tables; the first part, the lock's header), parsed
/// one at a time: the parser's tables of the whole lock took 2.5 MB for
/// werkzeug's 575 KB lock, the peak of a secret scan of the library corpus.
fn uv_tables(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let (mut start, mut start_line, mut pos, mut line) = (0, 1, 0, 1);
    let mut done = false;
    std::iter::from_fn(move || {
        while pos < data.len() {
            let end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i + 1);
            let at = (pos, line);
            pos = end;
            line += 1;
            if data[at.0..end].trim_ascii() == b"[[package]]" && at.0 > start {
                let part = (start_line, &data[start..at.0]);
                (start, start_line) = at;
                return Some(part);
            }
        }
        if done {
            return None;
        }
        done = true;
        Some((start_line, &data[start..]))
    })
}

/// `uv.lock`: the project (source `editable`/`virtual` = ".") is the root;
/// its dependencies and optional dependencies are direct, its dev groups
/// mark packages reachable only from them as dev.
pub fn parse_uv_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let mut lock = UvLock {
        package: Vec::new(),
    };
    for (line, part) in uv_tables(data) {
        let part: UvLock = toml_part(path, &without_wheel_lists(part), line)?;
        lock.package.extend(part.package);
    }
    let mut ids: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for p in &lock.package {
        let n = normalize_name("PyPI", &p.name);
        let v = p.version.clone().unwrap_or_default();
        ids.entry(n.clone())
            .or_default()
            .push((v.clone(), pkg_id(lt::UV, &n, &v)));
    }
    let resolve = |d: &UvDep| -> Vec<String> {
        let n = normalize_name("PyPI", &d.name);
        let cands = ids.get(&n).map(Vec::as_slice).unwrap_or_default();
        match &d.version {
            Some(v) => cands
                .iter()
                .filter(|(cv, _)| cv == v)
                .map(|(_, id)| id.clone())
                .collect(),
            None => cands.iter().map(|(_, id)| id.clone()).collect(),
        }
    };
    let root = lock.package.iter().find(|p| p.is_root());
    let mut direct: Vec<String> = Vec::new();
    let mut prod_roots: Vec<String> = Vec::new();
    if let Some(r) = root {
        let rid = pkg_id(
            lt::UV,
            &normalize_name("PyPI", &r.name),
            r.version.as_deref().unwrap_or(""),
        );
        prod_roots.push(rid);
        for d in r.dependencies.iter().chain(r.optional.values().flatten()) {
            direct.extend(resolve(d));
        }
        for d in r.dev.values().flatten() {
            direct.extend(resolve(d));
        }
    }
    let mut out = Vec::new();
    for p in &lock.package {
        let n = normalize_name("PyPI", &p.name);
        let mut pkg = new_pkg(lt::UV, &n, p.version.as_deref().unwrap_or(""));
        pkg.relationship = Some(if p.is_root() {
            Relationship::Root
        } else if direct.contains(&pkg.id) {
            Relationship::Direct
        } else {
            Relationship::Indirect
        });
        for d in p.dependencies.iter().chain(p.optional.values().flatten()) {
            pkg.depends_on.extend(resolve(d));
        }
        out.push(pkg);
    }
    if root.is_some() {
        mark_dev_by_reachability(&mut out, &prod_roots);
    }
    Ok(dedupe(out))
}

#[derive(Deserialize)]
struct Pylock {
    #[serde(rename = "lock-version")]
    lock_version: String,
    #[serde(default, rename = "default-groups")]
    default_groups: Vec<String>,
    #[serde(default)]
    packages: Vec<PylockPkg>,
}

#[derive(Deserialize)]
struct PylockPkg {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    marker: Option<String>,
    #[serde(default)]
    dependencies: Vec<UvDep>,
}

/// The dependency groups a PEP 751 marker selects when it is only
/// `'g' in dependency_groups` clauses joined by `or`; `None` otherwise.
fn marker_groups(marker: &str) -> Option<Vec<String>> {
    let mut groups = Vec::new();
    for clause in marker.split(" or ") {
        let c = clause
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim();
        let g = c.strip_suffix("in dependency_groups")?.trim();
        groups.push(unquote(g).to_string());
    }
    Some(groups)
}

/// `pylock.toml` (PEP 751): every `[[packages]]` entry, names normalized as
/// Trivy does; `dependencies` edges (by name, and version when given). A
/// package whose marker selects only dependency groups that are not
/// `default-groups` (`'dev' in dependency_groups`) is dev.
pub fn parse_pylock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: Pylock = toml(path, data)?;
    if !lock.lock_version.starts_with("1.") && lock.lock_version != "1" {
        return Err(LangError::new(
            path,
            format!("unsupported lock-version {:?}", lock.lock_version),
        ));
    }
    let mut ids: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for p in &lock.packages {
        let n = normalize_name("PyPI", &p.name);
        let v = p.version.clone().unwrap_or_default();
        ids.entry(n.clone())
            .or_default()
            .push((v.clone(), pkg_id(customs_model::lang_type::PYLOCK, &n, &v)));
    }
    let mut out = Vec::new();
    for p in &lock.packages {
        let n = normalize_name("PyPI", &p.name);
        let mut pkg = new_pkg(
            customs_model::lang_type::PYLOCK,
            &n,
            p.version.as_deref().unwrap_or(""),
        );
        pkg.dev = p
            .marker
            .as_deref()
            .and_then(marker_groups)
            .is_some_and(|g| !g.is_empty() && g.iter().all(|g| !lock.default_groups.contains(g)));
        for d in &p.dependencies {
            let cands = ids
                .get(&normalize_name("PyPI", &d.name))
                .map(Vec::as_slice)
                .unwrap_or_default();
            pkg.depends_on.extend(
                cands
                    .iter()
                    .filter(|(v, _)| d.version.as_ref().is_none_or(|dv| dv == v))
                    .map(|(_, id)| id.clone()),
            );
        }
        out.push(pkg);
    }
    Ok(dedupe(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// uv's own layout (uv 0.8): an `sdist` table and a `wheels` list.
    const UV_WITH_WHEELS: &str = r#"version = 1
requires-python = ">=3.9"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "idna" },
]

[[package]]
name = "idna"
version = "3.10"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.pythonhosted.org/packages/f1/idna-3.10.tar.gz", hash = "sha256:12f65c9b470abda6dc35cf8e63cc574b1c52b11df2c86030af0ac09b01b13ea9", size = 190490, upload-time = "2024-09-15T18:07:39.745Z" }
wheels = [
    { url = "https://files.pythonhosted.org/packages/76/idna-3.10-py3-none-any.whl", hash = "sha256:946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d3", size = 70442, upload-time = "2024-09-15T18:07:37.964Z" },
    { url = "https://files.pythonhosted.org/packages/77/idna-3.10-py2-none-any.whl", hash = "sha256:946d195a0d259cbba61165e88e65941f16e9b36ea6ddb97f00452bae8b1287d4", size = 70443, upload-time = "2024-09-15T18:07:37.964Z" },
]
"#;

    #[test]
    fn uv_wheel_lists_are_blanked_not_read() {
        let blanked = without_wheel_lists(UV_WITH_WHEELS.as_bytes());
        let text = std::str::from_utf8(&blanked).expect("utf-8");
        assert_eq!(text.lines().count(), UV_WITH_WHEELS.lines().count());
        assert!(!text.contains(".whl"), "{text}");
        assert!(text.contains("wheels = [\n\n\n]\n"), "{text}");
        assert!(text.contains("idna-3.10.tar.gz"), "the rest is kept");
        let pkgs = parse_uv_lock("uv.lock", UV_WITH_WHEELS.as_bytes()).expect("parse");
        let names: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert!(names.contains(&("idna", "3.10")), "{names:?}");
        // A list that never closes is left for the parser to report.
        let open = "[[package]]\nname = \"x\"\nwheels = [\n    { url = \"u\" },\n";
        assert_eq!(&*without_wheel_lists(open.as_bytes()), open.as_bytes());
        assert!(parse_uv_lock("uv.lock", open.as_bytes()).is_err());
    }

    #[test]
    fn uv_lock_parsed_one_package_at_a_time_equals_the_whole() {
        let lock = format!(
            "{UV_WITH_WHEELS}\n[[package]]\nname = \"web\"\nversion = \"1.0\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\ndependencies = [{{ name = \"idna\" }}]\n\n[package.optional-dependencies]\nfast = [{{ name = \"idna\", version = \"3.10\" }}]\n"
        );
        let parts: Vec<(usize, &[u8])> = uv_tables(lock.as_bytes()).collect();
        let tables: Vec<usize> = (1..=lock.lines().count())
            .filter(|&n| lock.lines().nth(n - 1) == Some("[[package]]"))
            .collect();
        assert_eq!(tables.len(), 3);
        let starts: Vec<usize> = parts.iter().map(|p| p.0).collect();
        assert_eq!(starts, [vec![1], tables].concat());
        assert_eq!(parts.iter().map(|p| p.1.len()).sum::<usize>(), lock.len());
        let whole: UvLock = toml("uv.lock", lock.as_bytes()).expect("whole");
        let pkgs = parse_uv_lock("uv.lock", lock.as_bytes()).expect("parts");
        assert_eq!(pkgs.len(), whole.package.len());
        let app = pkgs.iter().find(|p| p.name == "app").expect("root");
        assert_eq!(app.relationship, Some(Relationship::Root));
        let web = pkgs.iter().find(|p| p.name == "web").expect("web");
        assert_eq!(web.depends_on, vec![pkg_id(lt::UV, "idna", "3.10"); 2]);
        // An error in a later package names the file's line, not the part's.
        let bad = format!("{lock}\n[[package]]\nname = \"b\"\nversion = 1.0.0\n");
        let err = parse_uv_lock("uv.lock", bad.as_bytes()).expect_err("bad value");
        let line = bad
            .lines()
            .position(|l| l.starts_with("version = 1.0.0"))
            .unwrap_or(0)
            + 1;
        assert!(
            err.to_string()
                .contains(&format!("at line {line}, column ")),
            "{err}"
        );
        let whole = toml::<UvLock>("uv.lock", bad.as_bytes())
            .err()
            .map(|e| e.to_string());
        assert_eq!(Some(err.to_string()), whole);
        // An empty lock has no package; a lock with no package table too.
        assert!(parse_uv_lock("uv.lock", b"").expect("empty").is_empty());
        assert!(parse_uv_lock("uv.lock", b"version = 1\n")
            .expect("header")
            .is_empty());
    }

    #[test]
    fn pylock_markers_and_unquote() {
        assert_eq!(
            marker_groups("'dev' in dependency_groups"),
            Some(vec!["dev".to_string()])
        );
        assert_eq!(
            marker_groups("'dev' in dependency_groups or \"lint\" in dependency_groups"),
            Some(vec!["dev".to_string(), "lint".to_string()])
        );
        assert_eq!(marker_groups("sys_platform == 'linux'"), None);
        assert_eq!(unquote("'a'"), "a");
        assert_eq!(unquote("\"a==1\""), "a==1");
        assert_eq!(unquote("'a'=='1'"), "'a'=='1'");
    }

    #[test]
    fn metadata_license_order() {
        let m = b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\nLicense: Long text\n  more text\nClassifier: License :: OSI Approved :: MIT License\n\nbody: x\n";
        let p = parse_metadata("x/METADATA", m).unwrap_or_default();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name, "Foo_Bar");
        assert_eq!(p[0].licenses, vec!["MIT License"]);
        assert_eq!(
            p[0].identifier.purl.as_deref(),
            Some("pkg:pypi/foo-bar@1.0")
        );
        let m = b"Name: a\nVersion: 2\nLicense-Expression: Apache-2.0\nLicense: MIT\n";
        let p = parse_metadata("x/METADATA", m).unwrap_or_default();
        assert_eq!(p[0].licenses, vec!["Apache-2.0"]);
        assert!(parse_metadata("x/METADATA", b"Version: 1\n").is_err());
    }
}
