//! Julia: `Manifest.toml` (the manifest format 1.0 of Julia < 1.7, where
//! packages are top-level arrays, and 2.0, under `[[deps.Name]]`).

use crate::util::{dedupe, new_pkg, toml};
use crate::LangError;
use customs_model::lang_type::JULIA;
use customs_model::Package;
use packageurl::PackageUrl;
use std::collections::{BTreeMap, HashMap};

struct Entry<'a> {
    name: &'a str,
    uuid: &'a str,
    version: Option<&'a str>,
    deps: Option<&'a toml::Value>,
}

/// `Manifest.toml`: one package per entry, named as the manifest spells it,
/// the PURL carrying its UUID (`pkg:julia/JSON@0.21.4?uuid=…`). Standard
/// library packages have no version of their own; they get `julia_version`
/// (format 2.0; format 1.0 does not record it and leaves them without a
/// version). Edges from `deps`, a list of names or a name → UUID table.
pub fn parse_manifest(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let doc: toml::Table = toml(path, data)?;
    let v2 = doc.contains_key("manifest_format");
    let julia_version = doc.get("julia_version").and_then(|v| v.as_str());
    let table: &toml::Table = if v2 {
        match doc.get("deps") {
            Some(toml::Value::Table(t)) => t,
            Some(_) => return Err(LangError::new(path, "`deps` is not a table")),
            None => return Ok(Vec::new()),
        }
    } else {
        &doc
    };
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for (name, v) in table {
        let Some(list) = v.as_array() else {
            if v2 {
                return Err(LangError::new(
                    path,
                    format!("deps.{name} is not an array of tables"),
                ));
            }
            continue; // format 1.0: other top-level keys are not packages
        };
        for item in list {
            let Some(t) = item.as_table() else {
                return Err(LangError::new(
                    path,
                    format!("{name}: entry is not a table"),
                ));
            };
            let Some(uuid) = t.get("uuid").and_then(|u| u.as_str()) else {
                return Err(LangError::new(path, format!("{name}: entry has no uuid")));
            };
            entries.push(Entry {
                name,
                uuid,
                version: t.get("version").and_then(|v| v.as_str()),
                deps: t.get("deps"),
            });
        }
    }
    let version_of = |e: &Entry<'_>| -> String {
        e.version
            .or(if v2 { julia_version } else { None })
            .unwrap_or("")
            .to_string()
    };
    let mut by_uuid: HashMap<&str, String> = HashMap::new();
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &entries {
        by_uuid.insert(e.uuid, new_pkg(JULIA, e.name, &version_of(e)).id);
        by_name.entry(e.name).or_default().push(e.uuid);
    }
    let mut out = Vec::new();
    for e in &entries {
        let version = version_of(e);
        let mut p = new_pkg(JULIA, e.name, &version);
        p.identifier.purl = purl(e.name, &version, e.uuid);
        let uuids: Vec<&str> = match e.deps {
            Some(toml::Value::Array(names)) => names
                .iter()
                .filter_map(|n| n.as_str())
                // A name locked twice must be given by UUID (the table form).
                .filter_map(|n| match by_name.get(n).map(Vec::as_slice) {
                    Some([one]) => Some(*one),
                    _ => None,
                })
                .collect(),
            Some(toml::Value::Table(t)) => t.values().filter_map(|u| u.as_str()).collect(),
            _ => Vec::new(),
        };
        p.depends_on = uuids
            .iter()
            .filter_map(|u| by_uuid.get(u).cloned())
            .collect();
        out.push(p);
    }
    Ok(dedupe(out))
}

fn purl(name: &str, version: &str, uuid: &str) -> Option<String> {
    let mut p = PackageUrl::new("julia", name).ok()?;
    if !version.is_empty() {
        p.with_version(version).ok()?;
    }
    p.add_qualifier("uuid", uuid).ok()?;
    Some(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_errors() {
        let v2 = b"julia_version = \"1.9.0\"\nmanifest_format = \"2.0\"\n[[deps.A]]\nuuid = \"u1\"\ndeps = [\"B\"]\nversion = \"1.0.0\"\n[[deps.B]]\nuuid = \"u2\"\n";
        let p = parse_manifest("Manifest.toml", v2).unwrap_or_default();
        let ids: Vec<_> = p
            .iter()
            .map(|p| (p.id.as_str(), p.depends_on.clone()))
            .collect();
        assert_eq!(
            ids,
            [
                ("A@1.0.0", vec!["B@1.9.0".to_string()]),
                ("B@1.9.0", vec![])
            ]
        );
        assert!(
            parse_manifest("Manifest.toml", b"manifest_format = \"2.0\"\n[[deps.A]]\n").is_err()
        );
        assert!(parse_manifest("Manifest.toml", b"x = 1\n")
            .map(|p| p.is_empty())
            .unwrap_or(false));
    }
}
