//! PHP: `composer.lock` and `vendor/composer/installed.json` (v1 and v2).

use crate::util::{dedupe, json, new_pkg, pkg_id};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::Package;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Deserialize)]
struct ComposerPkg {
    name: String,
    version: String,
    #[serde(default)]
    license: Value,
    #[serde(default)]
    require: BTreeMap<String, String>,
}

fn licenses(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn build(
    lang_type: &str,
    groups: &[(&[ComposerPkg], bool)],
    dev_names: &[String],
    file_path: &str,
) -> Vec<Package> {
    let ids: HashMap<&str, String> = groups
        .iter()
        .flat_map(|(g, _)| g.iter())
        .map(|p| (p.name.as_str(), pkg_id(lang_type, &p.name, &p.version)))
        .collect();
    let mut out = Vec::new();
    for (group, dev) in groups {
        for p in group.iter() {
            let mut pkg = new_pkg(lang_type, &p.name, &p.version);
            pkg.dev = *dev || dev_names.contains(&p.name);
            pkg.licenses = licenses(&p.license);
            pkg.file_path = file_path.to_string();
            // Platform requirements (php, ext-*) are not packages of the lock.
            pkg.depends_on = p
                .require
                .keys()
                .filter_map(|r| ids.get(r.as_str()).cloned())
                .collect();
            out.push(pkg);
        }
    }
    dedupe(out)
}

#[derive(Deserialize)]
struct ComposerLock {
    #[serde(default)]
    packages: Vec<ComposerPkg>,
    #[serde(default, rename = "packages-dev")]
    packages_dev: Vec<ComposerPkg>,
}

/// `composer.lock`: `packages` and `packages-dev` (dev). Direct dependencies
/// are declared in composer.json, not here.
pub fn parse_composer_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let lock: ComposerLock = json(path, data)?;
    Ok(build(
        lt::COMPOSER,
        &[(&lock.packages, false), (&lock.packages_dev, true)],
        &[],
        "",
    ))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Installed {
    V2 {
        packages: Vec<ComposerPkg>,
        #[serde(default, rename = "dev-package-names")]
        dev_names: Vec<String>,
    },
    V1(Vec<ComposerPkg>),
}

/// `vendor/composer/installed.json`: Composer 1 writes a list of packages,
/// Composer 2 `{"packages": [...], "dev-package-names": [...]}`.
pub fn parse_installed_json(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let v: Value = json(path, data)?;
    let inst: Installed = serde_json::from_value(v)
        .map_err(|e| LangError::new(path, format!("not a composer installed.json: {e}")))?;
    Ok(match inst {
        Installed::V2 {
            packages,
            dev_names,
        } => build(lt::COMPOSER_VENDOR, &[(&packages, false)], &dev_names, path),
        Installed::V1(packages) => build(lt::COMPOSER_VENDOR, &[(&packages, false)], &[], path),
    })
}
