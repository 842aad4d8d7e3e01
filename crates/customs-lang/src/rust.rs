//! Rust: `Cargo.lock` (format versions 1 to 4).

use crate::util::{dedupe, new_pkg, pkg_id, toml};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{Package, Relationship};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<CargoPkg>,
}

#[derive(Deserialize)]
struct CargoPkg {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// `Cargo.lock`. Packages without a `source` are workspace members or path
/// dependencies (relationship `workspace`); dependencies of those are
/// direct, the rest indirect. Git sources are kept (their version is the
/// crate's). Dependency entries are `name`, `name version` or
/// `name version (source)` (v1) and resolve to the locked package.
pub fn parse_cargo_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: CargoLock = toml(path, data)?;
    let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in &lock.package {
        by_name
            .entry(p.name.as_str())
            .or_default()
            .push(p.version.as_str());
    }
    let resolve = |dep: &str| -> Option<String> {
        let mut it = dep.split_whitespace();
        let name = it.next()?;
        let versions = by_name.get(name)?;
        let version = match it.next() {
            Some(v) => versions.iter().find(|x| **x == v)?,
            None => versions.first()?,
        };
        Some(pkg_id(lt::CARGO, name, version))
    };
    let mut direct: Vec<String> = Vec::new();
    for p in lock.package.iter().filter(|p| p.source.is_none()) {
        direct.extend(p.dependencies.iter().filter_map(|d| resolve(d)));
    }
    let mut out = Vec::new();
    for p in &lock.package {
        let mut pkg = new_pkg(lt::CARGO, &p.name, &p.version);
        pkg.relationship = Some(if p.source.is_none() {
            Relationship::Workspace
        } else if direct.contains(&pkg.id) {
            Relationship::Direct
        } else {
            Relationship::Indirect
        });
        for d in &p.dependencies {
            match resolve(d) {
                Some(id) => pkg.depends_on.push(id),
                None => tracing::warn!(
                    file = path,
                    package = p.name,
                    dependency = d,
                    "dependency not in lockfile"
                ),
            }
        }
        out.push(pkg);
    }
    Ok(dedupe(out))
}
