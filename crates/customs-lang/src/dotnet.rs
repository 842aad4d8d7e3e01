//! .NET: `*.deps.json` (installed applications) and NuGet `packages.lock.json`.

use crate::util::{dedupe, json, new_pkg, pkg_id};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{Package, Relationship};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize)]
struct DepsJson {
    #[serde(default)]
    libraries: BTreeMap<String, Library>,
    #[serde(default, rename = "runtimeTarget")]
    runtime_target: Option<RuntimeTarget>,
    #[serde(default)]
    targets: BTreeMap<String, BTreeMap<String, TargetLib>>,
}

#[derive(Deserialize)]
struct RuntimeTarget {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Library {
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize, Default)]
struct TargetLib {
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
    #[serde(default)]
    runtime: Option<Value>,
    #[serde(default, rename = "runtimeTargets")]
    runtime_targets: Option<Value>,
    #[serde(default)]
    native: Option<Value>,
}

fn non_empty(v: &Option<Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// The SDK names the runtime bundled in a self-contained app
/// `runtimepack.Microsoft.NETCore.App.Runtime.linux-x64`; it is reported
/// (as Trivy does) under the name a framework-dependent app sees.
const RUNTIME_PACK: &str = "runtimepack.";

fn is_type(kind: &str, t: &str) -> bool {
    kind.eq_ignore_ascii_case(t)
}

/// `*.deps.json`, as Trivy reads it: `libraries` of type `package` and
/// `runtimepack` (the runtime of a self-contained app, without its
/// `runtimepack.` prefix); projects and reference assemblies are skipped.
/// With the `runtimeTarget`'s target present, a library whose target entry
/// has no `runtime`, `runtimeTargets` or `native` assets (compile-time
/// only: analyzers, reference packs, build tooling) is skipped; one the
/// target does not list is kept. Edges from that target (from every target
/// when there is none).
pub fn parse_deps_json(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let d: DepsJson = json(path, data)?;
    let strip = |n: &str| n.strip_prefix(RUNTIME_PACK).unwrap_or(n).to_string();
    let key_of = |k: &str| -> String {
        match k.split_once('/') {
            Some((n, v)) => format!("{}/{v}", strip(n)),
            None => k.to_string(),
        }
    };
    let selected: Option<BTreeMap<String, &TargetLib>> = d
        .runtime_target
        .as_ref()
        .and_then(|rt| d.targets.get(&rt.name))
        .map(|t| t.iter().map(|(k, l)| (key_of(k), l)).collect());
    let all_targets: Vec<BTreeMap<String, &TargetLib>> = match &selected {
        Some(s) => vec![s.clone()],
        None => d
            .targets
            .values()
            .map(|t| t.iter().map(|(k, l)| (key_of(k), l)).collect())
            .collect(),
    };
    let reported: BTreeMap<String, (String, String)> = d
        .libraries
        .iter()
        .filter(|(_, l)| is_type(&l.kind, "package") || is_type(&l.kind, "runtimepack"))
        .filter_map(|(k, _)| {
            let (n, v) = k.split_once('/')?;
            Some((key_of(k), (strip(n), v.to_string())))
        })
        .filter(|(k, _)| {
            selected.as_ref().is_none_or(|t| {
                t.get(k).is_none_or(|l| {
                    non_empty(&l.runtime) || non_empty(&l.runtime_targets) || non_empty(&l.native)
                })
            })
        })
        .collect();
    let mut out = Vec::new();
    for (key, lib) in &d.libraries {
        let ours = is_type(&lib.kind, "package") || is_type(&lib.kind, "runtimepack");
        if ours && !key.contains('/') {
            return Err(LangError::new(
                path,
                format!("library key {key:?} is not `Name/Version`"),
            ));
        }
        let Some((name, version)) = reported.get(&key_of(key)) else {
            continue;
        };
        let mut p = new_pkg(lt::DOTNET_CORE, name, version);
        p.file_path = path.to_string();
        for t in &all_targets {
            if let Some(tl) = t.get(&key_of(key)) {
                for (dn, dv) in &tl.dependencies {
                    if reported.contains_key(&key_of(&format!("{dn}/{dv}"))) {
                        p.depends_on.push(pkg_id(lt::DOTNET_CORE, &strip(dn), dv));
                    }
                }
            }
        }
        out.push(p);
    }
    Ok(dedupe(out))
}

#[derive(Deserialize)]
struct PackagesLock {
    #[serde(default)]
    dependencies: BTreeMap<String, BTreeMap<String, NugetDep>>,
}

#[derive(Deserialize)]
struct NugetDep {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    dependencies: BTreeMap<String, String>,
}

/// NuGet `packages.lock.json`: every target framework's packages (types
/// `Direct`, `Transitive`, `CentralTransitive`; `Project` references are
/// skipped), merged across frameworks.
pub fn parse_packages_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: PackagesLock = json(path, data)?;
    let mut out = Vec::new();
    for deps in lock.dependencies.values() {
        let resolved: HashMap<String, &str> = deps
            .iter()
            .filter(|(_, d)| d.kind != "Project")
            .filter_map(|(n, d)| Some((n.to_ascii_lowercase(), d.resolved.as_deref()?)))
            .collect();
        for (name, d) in deps {
            if d.kind == "Project" {
                continue;
            }
            let Some(v) = d.resolved.as_deref() else {
                return Err(LangError::new(
                    path,
                    format!("package {name:?} has no resolved version"),
                ));
            };
            let mut p = new_pkg(lt::NUGET, name, v);
            p.relationship = Some(if d.kind == "Direct" {
                Relationship::Direct
            } else {
                Relationship::Indirect
            });
            for dn in d.dependencies.keys() {
                if let Some((real, rv)) = deps
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case(dn))
                    .and_then(|k| Some((k, *resolved.get(&k.to_ascii_lowercase())?)))
                {
                    p.depends_on.push(pkg_id(lt::NUGET, real, rv));
                }
            }
            out.push(p);
        }
    }
    Ok(dedupe(out))
}

/// NuGet `packages.config` (the pre-PackageReference format):
/// `<package id="…" version="…" developmentDependency="true"?/>`; a
/// development dependency is dev (Trivy skips it; here it is dropped unless
/// dev dependencies are asked for). UTF-16 files (Visual Studio writes
/// them) are decoded.
pub fn parse_packages_config(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = crate::util::text(path, data)?;
    let doc = roxmltree::Document::parse(&text)
        .map_err(|e| LangError::new(path, format!("invalid XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "packages" {
        return Err(LangError::new(path, "root element is not <packages>"));
    }
    let mut out = Vec::new();
    for n in root
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "package")
    {
        let (Some(id), Some(v)) = (n.attribute("id"), n.attribute("version")) else {
            continue;
        };
        let (id, v) = (id.trim(), v.trim());
        if id.is_empty() || v.is_empty() {
            continue;
        }
        let mut p = new_pkg(lt::NUGET, id, v);
        p.dev = n
            .attribute("developmentDependency")
            .is_some_and(|d| d.trim().eq_ignore_ascii_case("true"));
        out.push(p);
    }
    Ok(dedupe(out))
}

/// `Directory.Packages.props` (central package management) and
/// `Packages.props`: `PackageVersion` and `PackageReference` items
/// (`Include`, else the legacy `Update`) of every `ItemGroup`, as Trivy
/// reads them; MSBuild properties (`$(Version)`) are not evaluated, so such
/// items are skipped. No relationship: the file pins versions, projects
/// choose which they use.
pub fn parse_packages_props(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = crate::util::text(path, data)?;
    let doc = roxmltree::Document::parse(&text)
        .map_err(|e| LangError::new(path, format!("invalid XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "Project" {
        return Err(LangError::new(path, "root element is not <Project>"));
    }
    let is_var = |s: &str| s.starts_with("$(") && s.ends_with(')');
    let mut out = Vec::new();
    for g in root
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "ItemGroup")
    {
        for item in g.children().filter(|c| {
            c.is_element() && matches!(c.tag_name().name(), "PackageVersion" | "PackageReference")
        }) {
            let name = item
                .attribute("Include")
                .filter(|s| !s.trim().is_empty())
                .or_else(|| item.attribute("Update"))
                .unwrap_or("")
                .trim();
            let version = item
                .attribute("Version")
                .map(str::to_string)
                .or_else(|| {
                    item.children()
                        .find(|c| c.is_element() && c.tag_name().name() == "Version")
                        .and_then(|c| c.text())
                        .map(str::to_string)
                })
                .unwrap_or_default();
            let version = version.trim();
            if name.is_empty() || version.is_empty() || is_var(name) || is_var(version) {
                continue;
            }
            out.push(new_pkg(
                customs_model::lang_type::PACKAGES_PROPS,
                name,
                version,
            ));
        }
    }
    Ok(dedupe(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn props_skip_variables() {
        let p = parse_packages_props(
            "Directory.Packages.props",
            br#"<Project><ItemGroup><PackageVersion Include="A" Version="1.0"/><PackageVersion Include="B" Version="$(V)"/><PackageVersion Include="$(N)" Version="1"/></ItemGroup></Project>"#,
        )
        .unwrap_or_default();
        assert_eq!(
            p.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["A@1.0"]
        );
    }
}
