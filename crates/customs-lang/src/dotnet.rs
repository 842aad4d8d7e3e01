//! .NET: `*.deps.json` (installed applications) and NuGet `packages.lock.json`.

use crate::util::{dedupe, json, new_pkg, pkg_id};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{Package, Relationship};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize)]
struct DepsJson {
    #[serde(default)]
    libraries: BTreeMap<String, Library>,
    #[serde(default)]
    targets: BTreeMap<String, BTreeMap<String, TargetLib>>,
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
}

/// `*.deps.json`: `libraries` of type `package` (projects and reference
/// assemblies are skipped); dependency edges from `targets`.
pub fn parse_deps_json(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let d: DepsJson = json(path, data)?;
    let mut out = Vec::new();
    for (key, lib) in &d.libraries {
        if lib.kind != "package" {
            continue;
        }
        let Some((name, version)) = key.split_once('/') else {
            return Err(LangError::new(
                path,
                format!("library key {key:?} is not `Name/Version`"),
            ));
        };
        let mut p = new_pkg(lt::DOTNET_CORE, name, version);
        p.file_path = path.to_string();
        for t in d.targets.values() {
            if let Some(tl) = t.get(key) {
                for (dn, dv) in &tl.dependencies {
                    let dk = format!("{dn}/{dv}");
                    if d.libraries.get(&dk).is_some_and(|l| l.kind == "package") {
                        p.depends_on.push(pkg_id(lt::DOTNET_CORE, dn, dv));
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
