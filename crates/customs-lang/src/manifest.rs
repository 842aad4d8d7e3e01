//! Project manifests that complete a lockfile: a yarn.lock does not say
//! which packages are dev dependencies (package.json does), a poetry.lock of
//! Poetry ≥ 1.2 does not say which are in dev groups (pyproject.toml does),
//! and a Cargo.lock lists `[dev-dependencies]` like any other (Cargo.toml
//! tells them apart).
//!
//! A manifest is parsed into packages of its own shape: the project as
//! `root` (when it names itself) and each declared dependency by name,
//! `direct`, without a version, `dev` for development-only declarations.
//! [`apply_manifests`] then marks the lockfile's packages. Marking is
//! conservative: a package is dev only when it is reachable from a
//! dev-only declaration and from no runtime one (or workspace member);
//! what neither reaches keeps `dev = false`.

use crate::manifest_type as mt;
use crate::util::{json, toml};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{normalize_name, Package, Relationship};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Is this one of the [`crate::manifest_type`]s (read, never reported)?
pub fn is_manifest(lang_type: &str) -> bool {
    matches!(lang_type, mt::PACKAGE_JSON | mt::PYPROJECT | mt::CARGO_TOML)
}

/// Which manifest completes a lockfile of this type, and whether the
/// manifests of the whole directory tree below the lockfile count (Cargo
/// workspaces: one Cargo.lock, a Cargo.toml per member) or only the one
/// beside it.
pub fn manifest_for(lock_type: &str) -> Option<(&'static str, bool)> {
    match lock_type {
        lt::YARN => Some((mt::PACKAGE_JSON, false)),
        lt::POETRY => Some((mt::PYPROJECT, false)),
        lt::CARGO => Some((mt::CARGO_TOML, true)),
        _ => None,
    }
}

fn decl(name: &str, dev: bool) -> Package {
    Package {
        id: name.to_string(),
        name: name.to_string(),
        relationship: Some(Relationship::Direct),
        dev,
        ..Default::default()
    }
}

fn root(name: &str) -> Package {
    Package {
        id: name.to_string(),
        name: name.to_string(),
        relationship: Some(Relationship::Root),
        ..Default::default()
    }
}

pub(crate) fn parse(kind: &str, path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    match kind {
        mt::PACKAGE_JSON => package_json(path, data),
        mt::PYPROJECT => pyproject(path, data),
        mt::CARGO_TOML => cargo_toml(path, data),
        other => Err(LangError::new(
            path,
            format!("no manifest reader {other:?}"),
        )),
    }
}

fn package_json(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let v: Value = json(path, data)?;
    let mut out = Vec::new();
    if let Some(n) = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        out.push(root(n));
    }
    for (field, dev) in [
        ("dependencies", false),
        ("optionalDependencies", false),
        ("peerDependencies", false),
        ("devDependencies", true),
    ] {
        if let Some(Value::Object(m)) = v.get(field) {
            out.extend(m.keys().map(|k| decl(k, dev)));
        }
    }
    Ok(out)
}

/// The distribution name at the start of a PEP 508 requirement.
fn pep508_name(req: &str) -> Option<String> {
    let n: String = req
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!n.is_empty()).then(|| normalize_name("PyPI", &n))
}

fn pyproject(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let doc: toml::Table = toml(path, data)?;
    let mut out = Vec::new();
    let project = doc.get("project").and_then(|p| p.as_table());
    let poetry = doc
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.as_table());
    if let Some(n) = project
        .and_then(|p| p.get("name"))
        .or_else(|| poetry.and_then(|p| p.get("name")))
        .and_then(|n| n.as_str())
    {
        out.push(root(&normalize_name("PyPI", n)));
    }
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str())
                    .filter_map(pep508_name)
                    .collect()
            })
            .unwrap_or_default()
    };
    let keys = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|t| t.as_table())
            .map(|t| {
                t.keys()
                    .filter(|k| k.as_str() != "python")
                    .map(|k| normalize_name("PyPI", k))
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(p) = project {
        out.extend(
            strings(p.get("dependencies"))
                .iter()
                .map(|n| decl(n, false)),
        );
        if let Some(opt) = p.get("optional-dependencies").and_then(|o| o.as_table()) {
            for v in opt.values() {
                out.extend(strings(Some(v)).iter().map(|n| decl(n, false)));
            }
        }
    }
    // PEP 735 dependency groups: development-only by design.
    if let Some(groups) = doc.get("dependency-groups").and_then(|g| g.as_table()) {
        for v in groups.values() {
            out.extend(strings(Some(v)).iter().map(|n| decl(n, true)));
        }
    }
    if let Some(p) = poetry {
        out.extend(keys(p.get("dependencies")).iter().map(|n| decl(n, false)));
        out.extend(
            keys(p.get("dev-dependencies"))
                .iter()
                .map(|n| decl(n, true)),
        );
        if let Some(groups) = p.get("group").and_then(|g| g.as_table()) {
            for (g, t) in groups {
                let dev = g != "main";
                out.extend(keys(t.get("dependencies")).iter().map(|n| decl(n, dev)));
            }
        }
    }
    Ok(out)
}

fn cargo_toml(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let doc: toml::Table = toml(path, data)?;
    let mut out = Vec::new();
    if let Some(n) = doc
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
    {
        out.push(root(n));
    }
    let mut tables: Vec<&toml::Table> = vec![&doc];
    if let Some(targets) = doc.get("target").and_then(|t| t.as_table()) {
        tables.extend(targets.values().filter_map(|t| t.as_table()));
    }
    for t in tables {
        for (field, dev) in [
            ("dependencies", false),
            ("build-dependencies", false),
            ("build_dependencies", false),
            ("dev-dependencies", true),
            ("dev_dependencies", true),
        ] {
            if let Some(deps) = t.get(field).and_then(|d| d.as_table()) {
                for (k, v) in deps {
                    // `alias = { package = "real-name", ... }`
                    let real = v.get("package").and_then(|p| p.as_str()).unwrap_or(k);
                    out.push(decl(real, dev));
                }
            }
        }
    }
    Ok(out)
}

/// Mark the packages of a lockfile of type `lock_type` with what its
/// manifests declare (see [`manifest_for`]): relationship `direct` /
/// `indirect` for yarn and poetry (workspace members and roots keep
/// theirs), and `dev` for what only development declarations reach. For
/// Cargo, a workspace member's dependencies are matched to the member's
/// own Cargo.toml (by package name); a member without one is taken as
/// depending on everything at runtime. With no manifest, the packages are
/// returned as they are.
pub fn apply_manifests(
    lock_type: &str,
    mut pkgs: Vec<Package>,
    manifests: &[&[Package]],
) -> Vec<Package> {
    if manifests.is_empty() {
        return pkgs;
    }
    let norm = |n: &str| -> String {
        match lock_type {
            lt::POETRY => normalize_name("PyPI", n),
            _ => n.to_string(),
        }
    };
    let index: HashMap<String, usize> = pkgs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    let is_member = |p: &Package| {
        matches!(
            p.relationship,
            Some(Relationship::Workspace | Relationship::Root)
        )
    };
    let mut prod_roots: Vec<usize> = Vec::new();
    let mut dev_roots: Vec<usize> = Vec::new();
    // Edges a prod walk must not take (a member's dev-only edges).
    let mut dev_edges: HashSet<(usize, String)> = HashSet::new();
    if lock_type == lt::CARGO {
        // member name → (runtime names, dev-only names)
        let mut decls: HashMap<&str, (HashSet<&str>, HashSet<&str>)> = HashMap::new();
        for m in manifests {
            let Some(r) = m
                .iter()
                .find(|p| p.relationship == Some(Relationship::Root))
            else {
                continue;
            };
            let e = decls.entry(r.name.as_str()).or_default();
            for d in m
                .iter()
                .filter(|p| p.relationship == Some(Relationship::Direct))
            {
                if d.dev {
                    e.1.insert(d.name.as_str());
                } else {
                    e.0.insert(d.name.as_str());
                }
            }
        }
        for (i, p) in pkgs.iter().enumerate().filter(|(_, p)| is_member(p)) {
            prod_roots.push(i);
            let Some((prod, dev)) = decls.get(p.name.as_str()) else {
                continue;
            };
            for d in &p.depends_on {
                let Some(&j) = index.get(d) else { continue };
                let n = pkgs[j].name.as_str();
                if dev.contains(n) && !prod.contains(n) {
                    dev_edges.insert((i, d.clone()));
                    dev_roots.push(j);
                }
            }
        }
    } else {
        let mut prod: HashSet<String> = HashSet::new();
        let mut dev: HashSet<String> = HashSet::new();
        for m in manifests {
            for d in m
                .iter()
                .filter(|p| p.relationship == Some(Relationship::Direct))
            {
                if d.dev {
                    dev.insert(norm(&d.name));
                } else {
                    prod.insert(norm(&d.name));
                }
            }
        }
        for (i, p) in pkgs.iter_mut().enumerate() {
            let n = norm(&p.name);
            if is_member(p) {
                prod_roots.push(i);
                continue;
            }
            let declared = prod.contains(&n) || dev.contains(&n);
            p.relationship = Some(if declared {
                Relationship::Direct
            } else {
                Relationship::Indirect
            });
            if prod.contains(&n) {
                prod_roots.push(i);
            } else if dev.contains(&n) {
                dev_roots.push(i);
            }
        }
    }
    let walk = |roots: &[usize], skip: &HashSet<(usize, String)>| -> Vec<bool> {
        let mut seen = vec![false; pkgs.len()];
        let mut stack: Vec<usize> = roots.to_vec();
        while let Some(i) = stack.pop() {
            match seen.get_mut(i) {
                Some(s) if !*s => *s = true,
                _ => continue,
            }
            for d in &pkgs[i].depends_on {
                if skip.contains(&(i, d.clone())) {
                    continue;
                }
                if let Some(&j) = index.get(d) {
                    stack.push(j);
                }
            }
        }
        seen
    };
    let prod_reach = walk(&prod_roots, &dev_edges);
    let dev_reach = walk(&dev_roots, &HashSet::new());
    for (i, p) in pkgs.iter_mut().enumerate() {
        if dev_reach[i] && !prod_reach[i] && !is_member(p) {
            p.dev = true;
        }
    }
    pkgs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, deps: &[&str], rel: Option<Relationship>) -> Package {
        Package {
            id: format!("{name}@1"),
            name: name.into(),
            version: "1".into(),
            relationship: rel,
            depends_on: deps.iter().map(|d| format!("{d}@1")).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn yarn_dev_by_reachability_is_conservative() {
        let lock = vec![
            pkg("app-dep", &["shared"], None),
            pkg("jest", &["shared", "jest-only"], None),
            pkg("shared", &[], None),
            pkg("jest-only", &[], None),
            pkg("orphan", &[], None),
        ];
        let m = package_json(
            "package.json",
            br#"{"name":"x","dependencies":{"app-dep":"^1"},"devDependencies":{"jest":"^29"}}"#,
        )
        .unwrap_or_default();
        let out = apply_manifests(lt::YARN, lock, &[&m]);
        let dev: Vec<(&str, bool, Option<Relationship>)> = out
            .iter()
            .map(|p| (p.name.as_str(), p.dev, p.relationship))
            .collect();
        assert_eq!(
            dev,
            [
                ("app-dep", false, Some(Relationship::Direct)),
                ("jest", true, Some(Relationship::Direct)),
                ("shared", false, Some(Relationship::Indirect)),
                ("jest-only", true, Some(Relationship::Indirect)),
                ("orphan", false, Some(Relationship::Indirect)),
            ]
        );
    }

    #[test]
    fn cargo_member_dev_edges() {
        let lock = vec![
            pkg("app", &["serde", "proptest"], Some(Relationship::Workspace)),
            pkg("serde", &[], Some(Relationship::Direct)),
            pkg("proptest", &["rand"], Some(Relationship::Direct)),
            pkg("rand", &[], Some(Relationship::Indirect)),
            pkg("other", &["rand"], Some(Relationship::Workspace)),
        ];
        let m = cargo_toml(
            "Cargo.toml",
            b"[package]\nname = \"app\"\n[dependencies]\nserde = \"1\"\n[dev-dependencies]\nproptest = \"1\"\n",
        )
        .unwrap_or_default();
        let out = apply_manifests(lt::CARGO, lock, &[&m]);
        let dev: Vec<(&str, bool)> = out.iter().map(|p| (p.name.as_str(), p.dev)).collect();
        // rand is also a runtime dependency of `other` (no manifest: all runtime).
        assert_eq!(
            dev,
            [
                ("app", false),
                ("serde", false),
                ("proptest", true),
                ("rand", false),
                ("other", false)
            ]
        );
    }

    #[test]
    fn pyproject_groups() {
        let m = pyproject(
            "pyproject.toml",
            b"[tool.poetry]\nname = \"App\"\n[tool.poetry.dependencies]\npython = \"^3.11\"\nRequests = \"^2\"\n[tool.poetry.group.test.dependencies]\npytest = \"^8\"\n[tool.poetry.group.main.dependencies]\nidna = \"*\"\n",
        )
        .unwrap_or_default();
        let got: Vec<(&str, bool, Option<Relationship>)> = m
            .iter()
            .map(|p| (p.name.as_str(), p.dev, p.relationship))
            .collect();
        assert_eq!(
            got,
            [
                ("app", false, Some(Relationship::Root)),
                ("requests", false, Some(Relationship::Direct)),
                ("idna", false, Some(Relationship::Direct)),
                ("pytest", true, Some(Relationship::Direct)),
            ]
        );
        assert!(pyproject("pyproject.toml", b"[project\n").is_err());
    }
}
