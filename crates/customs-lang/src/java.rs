//! Java: archives (`.jar/.war/.ear/.par`), `pom.xml` and `gradle.lockfile`.

use crate::util::{dedupe, new_pkg, utf8};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{Package, Relationship};
use std::collections::HashMap;
use std::io::{Cursor, Read};

/// Nested archives deeper than this are not opened.
const MAX_DEPTH: usize = 4;
/// Total bytes of nested archives and metadata files decompressed per
/// top-level archive.
const BUDGET: u64 = 512 << 20;
/// Largest metadata file (pom.properties, MANIFEST.MF) read.
const MAX_META: u64 = 1 << 20;

fn props(text: &str) -> HashMap<String, String> {
    let mut m = HashMap::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with('!') {
            continue;
        }
        if let Some(i) = l.find(['=', ':']) {
            let k = l.get(..i).unwrap_or("").trim();
            let v = l.get(i + 1..).unwrap_or("").trim();
            m.insert(k.to_string(), v.to_string());
        }
    }
    m
}

/// MANIFEST.MF main section (72-byte lines continued by a leading space).
fn manifest(text: &str) -> HashMap<String, String> {
    let mut m: HashMap<String, String> = HashMap::new();
    let mut last: Option<String> = None;
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some(v) = last.as_ref().and_then(|k| m.get_mut(k)) {
                v.push_str(cont);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            m.insert(k.trim().to_string(), v.trim().to_string());
            last = Some(k.trim().to_string());
        }
    }
    m
}

/// `commons-io-2.6.jar` → (`commons-io`, `2.6`): the version starts at the
/// first `-` followed by a digit.
fn name_from_file(file: &str) -> Option<(String, String)> {
    let base = file.rsplit('/').next().unwrap_or(file);
    let stem = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(base);
    let bytes = stem.as_bytes();
    let i = (1..bytes.len()).find(|&i| {
        bytes.get(i - 1) == Some(&b'-') && bytes.get(i).is_some_and(u8::is_ascii_digit)
    })?;
    Some((stem.get(..i - 1)?.to_string(), stem.get(i..)?.to_string()))
}

fn valid(v: &str) -> bool {
    !v.is_empty() && !v.contains("${")
}

/// A jar, war, ear or par archive: one package per `META-INF/maven/**/pom.properties`
/// (shaded jars hold several); when there is none, the manifest
/// (`Implementation-Vendor-Id`/`Bundle-SymbolicName` with
/// `Implementation-Version`/`Bundle-Version`), else the file name
/// (`name-1.2.3.jar`, reported without a group). Nested archives
/// (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`, jars in ears) are opened
/// recursively within a depth and size budget; their packages' `file_path`
/// is `outer.war/WEB-INF/lib/inner.jar`.
pub fn parse_jar(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let mut budget = BUDGET;
    let mut out = Vec::new();
    jar_inner(path, data, 0, &mut budget, &mut out).map_err(|e| LangError::new(path, e))?;
    Ok(dedupe(out))
}

fn jar_inner(
    file_path: &str,
    data: &[u8],
    depth: usize,
    budget: &mut u64,
    out: &mut Vec<Package>,
) -> Result<(), String> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(data)).map_err(|e| format!("invalid archive: {e}"))?;
    let mut poms: Vec<HashMap<String, String>> = Vec::new();
    let mut man: Option<HashMap<String, String>> = None;
    let mut nested: Vec<(String, Vec<u8>)> = Vec::new();
    for i in 0..zip.len() {
        let Ok(mut entry) = zip.by_index(i) else {
            tracing::warn!(
                file = file_path,
                index = i,
                "unreadable archive entry skipped"
            );
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let Ok(name) = entry.name().map(|n| n.into_owned()) else {
            tracing::warn!(
                file = file_path,
                index = i,
                "archive entry with an undecodable name skipped"
            );
            continue;
        };
        let is_pom = name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties");
        let is_man = name.eq_ignore_ascii_case("META-INF/MANIFEST.MF");
        let lower = name.to_ascii_lowercase();
        let is_nested = [".jar", ".war", ".ear", ".par"]
            .iter()
            .any(|e| lower.ends_with(e));
        if !(is_pom || is_man || is_nested) {
            continue;
        }
        if is_nested && depth + 1 > MAX_DEPTH {
            tracing::warn!(
                file = file_path,
                entry = name,
                "nested archive too deep, skipped"
            );
            continue;
        }
        let limit = if is_nested {
            *budget
        } else {
            MAX_META.min(*budget)
        };
        if entry.size() > limit {
            tracing::warn!(
                file = file_path,
                entry = name,
                "archive entry over the size budget, skipped"
            );
            continue;
        }
        let mut buf = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0).min(1 << 24));
        if let Err(e) = (&mut entry).take(limit).read_to_end(&mut buf) {
            tracing::warn!(
                file = file_path,
                entry = name,
                "cannot read archive entry: {e}"
            );
            continue;
        }
        *budget = budget.saturating_sub(buf.len() as u64);
        if is_pom {
            poms.push(props(&String::from_utf8_lossy(&buf)));
        } else if is_man {
            man = Some(manifest(&String::from_utf8_lossy(&buf)));
        } else {
            nested.push((name, buf));
        }
    }
    let mut found = false;
    for p in &poms {
        let (Some(g), Some(a), Some(v)) = (p.get("groupId"), p.get("artifactId"), p.get("version"))
        else {
            continue;
        };
        if !valid(g) || !valid(a) || !valid(v) {
            continue;
        }
        let mut pkg = new_pkg(lt::JAR, &format!("{g}:{a}"), v);
        pkg.file_path = file_path.to_string();
        out.push(pkg);
        found = true;
    }
    if !found {
        let from_file = name_from_file(file_path);
        let from_man = man.as_ref().and_then(|m| {
            let version = m
                .get("Implementation-Version")
                .or_else(|| m.get("Bundle-Version"))?;
            let group = m
                .get("Implementation-Vendor-Id")
                .filter(|g| !g.contains(' '));
            let artifact = from_file.as_ref().map(|(a, _)| a.clone()).or_else(|| {
                m.get("Implementation-Title")
                    .filter(|t| !t.contains(' '))
                    .cloned()
            });
            match (group, artifact) {
                (Some(g), Some(a)) => Some((format!("{g}:{a}"), version.clone())),
                _ => {
                    // `org.apache.commons.io;singleton:=true` → group and artifact
                    // cannot be told apart: use the symbolic name's last dot.
                    let sym = m.get("Bundle-SymbolicName")?;
                    let sym = sym.split(';').next()?.trim();
                    let (g, a) = sym.rsplit_once('.')?;
                    Some((format!("{g}:{a}"), version.clone()))
                }
            }
        });
        if let Some((name, version)) = from_man.filter(|(_, v)| valid(v)) {
            let mut pkg = new_pkg(lt::JAR, &name, &version);
            pkg.file_path = file_path.to_string();
            out.push(pkg);
        } else if let Some((a, v)) = from_file {
            let mut pkg = new_pkg(lt::JAR, &a, &v);
            pkg.file_path = file_path.to_string();
            out.push(pkg);
        }
    }
    for (name, buf) in nested {
        let inner = format!("{file_path}/{name}");
        if let Err(e) = jar_inner(&inner, &buf, depth + 1, budget, out) {
            tracing::warn!(file = inner, "nested archive skipped: {e}");
        }
    }
    Ok(())
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn text_of(n: Option<roxmltree::Node<'_, '_>>) -> Option<String> {
    n.and_then(|n| n.text()).map(|t| t.trim().to_string())
}

#[derive(Clone)]
struct RawDep {
    group: String,
    artifact: String,
    version: Option<String>,
    scope: Option<String>,
}

/// What one pom.xml says, before inheritance and interpolation.
struct RawPom {
    group: Option<String>,
    artifact: String,
    version: Option<String>,
    /// groupId, artifactId, version, relativePath of `<parent>`.
    parent: Option<(String, String, Option<String>, String)>,
    props: Vec<(String, String)>,
    managed: Vec<RawDep>,
    deps: Vec<RawDep>,
}

fn read_pom(path: &str, text: &str) -> Result<RawPom, LangError> {
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| LangError::new(path, format!("invalid XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "project" {
        return Err(LangError::new(path, "root element is not <project>"));
    }
    let parent = child(root, "parent").and_then(|p| {
        Some((
            text_of(child(p, "groupId"))?,
            text_of(child(p, "artifactId"))?,
            text_of(child(p, "version")),
            text_of(child(p, "relativePath")).unwrap_or_else(|| "../pom.xml".into()),
        ))
    });
    let mut props = Vec::new();
    if let Some(ps) = child(root, "properties") {
        for p in ps.children().filter(|c| c.is_element()) {
            props.push((
                p.tag_name().name().to_string(),
                p.text().unwrap_or("").trim().to_string(),
            ));
        }
    }
    let deps_of = |container: Option<roxmltree::Node<'_, '_>>| -> Vec<RawDep> {
        let Some(c) = container.and_then(|c| child(c, "dependencies")) else {
            return Vec::new();
        };
        c.children()
            .filter(|d| d.is_element() && d.tag_name().name() == "dependency")
            .filter_map(|d| {
                Some(RawDep {
                    group: text_of(child(d, "groupId"))?,
                    artifact: text_of(child(d, "artifactId"))?,
                    version: text_of(child(d, "version")).filter(|v| !v.is_empty()),
                    scope: text_of(child(d, "scope")).filter(|v| !v.is_empty()),
                })
            })
            .collect()
    };
    Ok(RawPom {
        group: text_of(child(root, "groupId")),
        artifact: text_of(child(root, "artifactId")).unwrap_or_default(),
        version: text_of(child(root, "version")),
        parent,
        props,
        managed: deps_of(child(root, "dependencyManagement")),
        deps: deps_of(Some(root)),
    })
}

/// `a/b/pom.xml` + `../pom.xml` → `a/pom.xml`; a directory gets
/// `/pom.xml`. `None` when the path leaves the tree.
fn join_relative(pom_path: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = pom_path.split('/').collect();
    parts.pop();
    for c in rel.trim().split(['/', '\\']) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    let mut out = parts.join("/");
    if !out.ends_with(".xml") {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str("pom.xml");
    }
    Some(out)
}

/// Maven version ranges (`[1.0,2.0)`, `(,1.5]`) are constraints, not the
/// installed version: `[1.2.3]` (a hard requirement) gives `1.2.3`, any
/// other range gives no version.
fn installed_version(v: &str) -> Option<String> {
    let v = v.trim();
    if v.starts_with('[') || v.starts_with('(') {
        let inner = v.strip_prefix('[').and_then(|r| r.strip_suffix(']'))?;
        return (!inner.contains(',') && !inner.trim().is_empty())
            .then(|| inner.trim().to_string());
    }
    Some(v.to_string())
}

/// `pom.xml`: the project itself (root) and its declared dependencies, as
/// [`parse_pom_with_parents`] with no parent available.
pub fn parse_pom(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    parse_pom_with_parents(path, data, &|_| None)
}

/// Does this pom.xml name a `<parent>`? (Only those are read again at the
/// merge, with their parents.)
pub fn pom_has_parent(data: &[u8]) -> bool {
    memchr::memmem::find(data, b"<parent>").is_some()
}

/// `pom.xml`: the project (root) and its declared dependencies (direct),
/// versions from the dependency, else the `<dependencyManagement>` of this
/// pom or its parents; `${property}` from `<properties>` of this pom and its
/// parents (the child's win), `project.*` and `project.parent.*`.
/// Parents are read through `parent_pom` (the tree's `pom.xml` at the
/// `relativePath`, default `../pom.xml`, whose coordinates must match the
/// `<parent>` element), up to 16 levels; their `<dependencies>` are
/// inherited as Maven does. No remote repositories: a version known only
/// to a parent outside the tree or a BOM is not known and the dependency is
/// skipped. Scopes `test`, `provided` and `system` are not runtime
/// dependencies (Trivy skips them): they are dev. Version ranges are not
/// installed versions ([`installed_version`]).
pub fn parse_pom_with_parents(
    path: &str,
    data: &[u8],
    parent_pom: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Package>, LangError> {
    let text = utf8(path, data)?;
    let pom = read_pom(path, text)?;
    // The parent chain, nearest first.
    let mut chain: Vec<RawPom> = Vec::new();
    let mut at = path.to_string();
    let mut next = pom.parent.clone();
    while let Some((pg, pa, pv, rel)) = next.take() {
        if chain.len() >= 16 {
            break;
        }
        let Some(ppath) = join_relative(&at, &rel) else {
            break;
        };
        let Some(ptext) = parent_pom(&ppath) else {
            break;
        };
        let Ok(parent) = read_pom(&ppath, &ptext) else {
            break;
        };
        let pgroup = parent
            .group
            .clone()
            .or(parent.parent.as_ref().map(|p| p.0.clone()));
        let pversion = parent
            .version
            .clone()
            .or(parent.parent.as_ref().and_then(|p| p.2.clone()));
        if pgroup.as_deref() != Some(pg.as_str())
            || parent.artifact != pa
            || (pv.is_some() && pversion.is_some() && pv != pversion)
        {
            tracing::debug!(
                file = path,
                parent = ppath,
                "parent pom coordinates differ, not used"
            );
            break;
        }
        next = parent.parent.clone();
        at = ppath;
        chain.push(parent);
    }
    let parent_group = pom.parent.as_ref().map(|p| p.0.clone());
    let parent_version = pom.parent.as_ref().and_then(|p| p.2.clone());
    let group = pom
        .group
        .clone()
        .or(parent_group.clone())
        .unwrap_or_default();
    let artifact = pom.artifact.clone();
    let version = pom
        .version
        .clone()
        .or(parent_version.clone())
        .unwrap_or_default();

    let mut props: HashMap<String, String> = HashMap::new();
    for p in chain.iter().rev().chain(std::iter::once(&pom)) {
        for (k, v) in &p.props {
            props.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in [
        ("project.version", &version),
        ("pom.version", &version),
        ("version", &version),
        ("project.groupId", &group),
        ("project.artifactId", &artifact),
    ] {
        props.entry(k.to_string()).or_insert_with(|| v.clone());
    }
    if let Some(v) = &parent_version {
        props
            .entry("project.parent.version".into())
            .or_insert_with(|| v.clone());
    }
    if let Some(g) = &parent_group {
        props
            .entry("project.parent.groupId".into())
            .or_insert_with(|| g.clone());
    }
    let resolve = |s: &str| -> Option<String> {
        let mut out = s.to_string();
        for _ in 0..8 {
            let Some(start) = out.find("${") else {
                return Some(out);
            };
            let end = out.get(start..)?.find('}')? + start;
            let key = out.get(start + 2..end)?;
            let val = props.get(key)?.clone();
            out.replace_range(start..=end, &val);
        }
        (!out.contains("${")).then_some(out)
    };
    // Managed versions and scopes: the nearest pom wins.
    let mut managed: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for p in chain.iter().rev().chain(std::iter::once(&pom)) {
        for d in &p.managed {
            if let (Some(g), Some(a)) = (resolve(&d.group), resolve(&d.artifact)) {
                let v = d.version.as_deref().and_then(resolve);
                managed.insert(format!("{g}:{a}"), (v, d.scope.clone()));
            }
        }
    }
    // Dependencies: the parents' are inherited; the child's override.
    let mut declared: Vec<(String, RawDep)> = Vec::new();
    for p in chain.iter().rev().chain(std::iter::once(&pom)) {
        for d in &p.deps {
            let (Some(g), Some(a)) = (resolve(&d.group), resolve(&d.artifact)) else {
                continue;
            };
            let name = format!("{g}:{a}");
            declared.retain(|(n, _)| *n != name);
            declared.push((name, d.clone()));
        }
    }
    let mut out = Vec::new();
    let (rg, rv) = (
        resolve(&group).unwrap_or(group.clone()),
        resolve(&version).unwrap_or(version.clone()),
    );
    let root_id = if !rg.is_empty() && !artifact.is_empty() {
        let mut p = new_pkg(
            lt::POM,
            &format!("{rg}:{artifact}"),
            if valid(&rv) { &rv } else { "" },
        );
        p.relationship = Some(Relationship::Root);
        let id = p.id.clone();
        out.push(p);
        Some(id)
    } else {
        None
    };
    let mut deps = Vec::new();
    for (name, d) in declared {
        let m = managed.get(&name);
        let v = match &d.version {
            Some(v) => resolve(v),
            None => m.and_then(|(v, _)| v.clone()),
        };
        let Some(v) = v.filter(|v| valid(v)) else {
            tracing::debug!(
                file = path,
                dependency = name,
                "version not declared in this pom or its parents, skipped"
            );
            continue;
        };
        let v = installed_version(&v).unwrap_or_default();
        let scope = d.scope.clone().or_else(|| m.and_then(|(_, s)| s.clone()));
        let mut p = new_pkg(lt::POM, &name, &v);
        p.relationship = Some(Relationship::Direct);
        p.dev = matches!(scope.as_deref(), Some("test" | "provided" | "system"));
        if scope.as_deref() == Some("import") {
            continue;
        }
        deps.push(p.id.clone());
        out.push(p);
    }
    if let Some(first) = out.first_mut().filter(|p| Some(&p.id) == root_id.as_ref()) {
        first.depends_on = deps;
    }
    let mut out = dedupe(out);
    crate::util::sort_packages(&mut out);
    Ok(out)
}

#[derive(serde::Deserialize)]
struct SbtLock {
    #[serde(rename = "lockVersion")]
    lock_version: u32,
    #[serde(default)]
    dependencies: Vec<SbtDep>,
}

#[derive(serde::Deserialize)]
struct SbtDep {
    org: String,
    name: String,
    version: String,
    #[serde(default)]
    configurations: Vec<String>,
}

/// sbt `build.sbt.lock` (sbt-dependency-lock, format version 1): every
/// dependency as `org:name`; one in neither the `compile` nor the `runtime`
/// configuration (test-only, provided) is dev (Trivy skips it).
pub fn parse_sbt_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: SbtLock = crate::util::json(path, data)?;
    if lock.lock_version != 1 {
        return Err(LangError::new(
            path,
            format!("unsupported lockVersion {}", lock.lock_version),
        ));
    }
    let mut out = Vec::new();
    for d in &lock.dependencies {
        if d.org.is_empty() || d.name.is_empty() || d.version.is_empty() {
            return Err(LangError::new(
                path,
                format!(
                    "dependency {}:{} without org, name or version",
                    d.org, d.name
                ),
            ));
        }
        let mut p = new_pkg(
            customs_model::lang_type::SBT,
            &format!("{}:{}", d.org, d.name),
            &d.version,
        );
        p.dev = !d
            .configurations
            .iter()
            .any(|c| c == "compile" || c == "runtime");
        out.push(p);
    }
    Ok(dedupe(out))
}

/// `gradle.lockfile`: `group:artifact:version=configuration,...` lines; a
/// dependency locked only in test configurations is dev.
pub fn parse_gradle_lockfile(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = utf8(path, data)?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with("empty=") {
            continue;
        }
        let (coord, confs) = l.split_once('=').unwrap_or((l, ""));
        let parts: Vec<&str> = coord.split(':').collect();
        let [g, a, v] = parts.as_slice() else {
            return Err(LangError::new(
                path,
                format!("line {}: expected group:artifact:version", n + 1),
            ));
        };
        if g.is_empty() || a.is_empty() || v.is_empty() {
            return Err(LangError::new(
                path,
                format!("line {}: empty coordinate part", n + 1),
            ));
        }
        let mut p = new_pkg(lt::GRADLE, &format!("{g}:{a}"), v);
        let confs: Vec<&str> = confs
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        p.dev = !confs.is_empty()
            && confs
                .iter()
                .all(|c| c.to_ascii_lowercase().starts_with("test"));
        out.push(p);
    }
    Ok(dedupe(out))
}

#[cfg(test)]
mod tests {

    #[test]
    fn relative_paths_and_ranges() {
        assert_eq!(
            join_relative("a/b/pom.xml", "../pom.xml").as_deref(),
            Some("a/pom.xml")
        );
        assert_eq!(
            join_relative("a/b/pom.xml", "../parent").as_deref(),
            Some("a/parent/pom.xml")
        );
        assert_eq!(join_relative("pom.xml", "../pom.xml"), None);
        assert_eq!(join_relative("b/pom.xml", "..").as_deref(), Some("pom.xml"));
        assert_eq!(installed_version("[1.2.3]").as_deref(), Some("1.2.3"));
        assert_eq!(installed_version("[1.0,2.0)"), None);
        assert_eq!(installed_version("(,1.5]"), None);
        assert_eq!(installed_version("2.0").as_deref(), Some("2.0"));
    }

    #[test]
    fn parent_coordinates_must_match() {
        let child = b"<project><parent><groupId>g</groupId><artifactId>p</artifactId><version>1</version></parent><artifactId>c</artifactId><dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId></dependency></dependencies></project>";
        let parent = |a: &str| {
            format!("<project><groupId>g</groupId><artifactId>{a}</artifactId><version>1</version><dependencyManagement><dependencies><dependency><groupId>x</groupId><artifactId>y</artifactId><version>9</version></dependency></dependencies></dependencyManagement></project>")
        };
        let ok = parse_pom_with_parents("m/pom.xml", child, &|p| {
            (p == "pom.xml").then(|| parent("p"))
        })
        .unwrap_or_default();
        assert!(ok.iter().any(|p| p.id == "x:y:9"), "{ok:?}");
        let other =
            parse_pom_with_parents("m/pom.xml", child, &|_| Some(parent("q"))).unwrap_or_default();
        assert!(!other.iter().any(|p| p.name == "x:y"), "{other:?}");
    }
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            name_from_file("lib/commons-io-2.6.jar"),
            Some(("commons-io".into(), "2.6".into()))
        );
        assert_eq!(
            name_from_file("spring-boot-3.1.0-SNAPSHOT.jar"),
            Some(("spring-boot".into(), "3.1.0-SNAPSHOT".into()))
        );
        assert_eq!(name_from_file("app.jar"), None);
    }

    #[test]
    fn manifest_continuations() {
        let m = manifest("Manifest-Version: 1.0\nBundle-SymbolicName: org.apache.comm\n ons.io\n\nName: x\nFoo: y\n");
        assert_eq!(
            m.get("Bundle-SymbolicName").map(String::as_str),
            Some("org.apache.commons.io")
        );
        assert!(!m.contains_key("Foo"));
    }
}
