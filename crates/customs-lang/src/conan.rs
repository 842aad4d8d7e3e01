//! C/C++: Conan `conan.lock`, v1 (`graph_lock.nodes`, Conan 1.x) and v2
//! (`requires` reference lists, Conan 2.x).

use crate::util::{dedupe, json, new_pkg};
use crate::LangError;
use customs_model::lang_type::CONAN;
use customs_model::{Package, Relationship};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct ConanLock {
    #[serde(default)]
    graph_lock: Option<GraphLock>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    build_requires: Vec<String>,
}

#[derive(Deserialize)]
struct GraphLock {
    #[serde(default)]
    nodes: BTreeMap<String, Node>,
}

#[derive(Deserialize)]
struct Node {
    #[serde(default)]
    r#ref: Option<String>,
    #[serde(default)]
    requires: Vec<String>,
}

/// `name/version[@user/channel][#rrev[%timestamp]][:package_id[#prev]]` →
/// (name, version), as Trivy splits it; `None` for anything else.
fn reference(r: &str) -> Option<(&str, &str)> {
    let r = r.split('@').next()?;
    let r = r.split('#').next()?;
    let r = r.split(':').next()?;
    let (name, version) = r.split_once('/')?;
    if name.is_empty() || version.is_empty() || version.contains('/') {
        return None;
    }
    Some((name, version))
}

/// `conan.lock`. v1: every node with a `ref` (node `0`, the consumer, has
/// none); the requirements of node `0` are direct, the rest indirect; edges
/// from `requires`. v2: the `requires` list (no graph, no relationship);
/// `build_requires` (tools used to build, Trivy skips them) are reported as
/// dev, so they are dropped unless dev dependencies are asked for.
pub fn parse_conan_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: ConanLock = json(path, data)?;
    let mut out = Vec::new();
    if let Some(g) = lock.graph_lock.filter(|g| !g.nodes.is_empty()) {
        let direct: &[String] = g.nodes.get("0").map(|n| &n.requires[..]).unwrap_or(&[]);
        let id_of = |k: &str| -> Option<String> {
            let (n, v) = reference(g.nodes.get(k)?.r#ref.as_deref()?)?;
            Some(new_pkg(CONAN, n, v).id)
        };
        for (k, node) in &g.nodes {
            let Some(r) = node.r#ref.as_deref() else {
                continue;
            };
            let Some((n, v)) = reference(r) else {
                tracing::debug!(file = path, reference = r, "unrecognized conan reference");
                continue;
            };
            let mut p = new_pkg(CONAN, n, v);
            p.relationship = Some(if direct.contains(k) {
                Relationship::Direct
            } else {
                Relationship::Indirect
            });
            p.depends_on = node.requires.iter().filter_map(|r| id_of(r)).collect();
            out.push(p);
        }
        return Ok(dedupe(out));
    }
    for (list, dev) in [(&lock.requires, false), (&lock.build_requires, true)] {
        for r in list {
            let Some((n, v)) = reference(r) else {
                tracing::debug!(file = path, reference = r, "unrecognized conan reference");
                continue;
            };
            let mut p = new_pkg(CONAN, n, v);
            p.dev = dev;
            out.push(p);
        }
    }
    Ok(dedupe(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(reference("zlib/1.2.13"), Some(("zlib", "1.2.13")));
        assert_eq!(
            reference("openssl/3.1.0@user/stable#a1b2%1700000000.1"),
            Some(("openssl", "3.1.0"))
        );
        assert_eq!(
            reference("fmt/10.0.0#rrev:pkgid#prev"),
            Some(("fmt", "10.0.0"))
        );
        assert_eq!(reference("conanfile"), None);
        assert_eq!(reference("a/b/c"), None);
    }
}
