//! Alpine secdb (`secdb.alpinelinux.org/vX.Y/{main,community}.json`, and the
//! YAML of older releases): per origin package, `secfixes` maps each fixed
//! version to the CVEs it fixed; the version `0` means "never affected".

use std::collections::BTreeMap;

use customs_model::{Affected, AffectedRange, RangeEvent, RangeKind, Status};
use serde::Deserialize;

use super::{from_yaml, one_line, Scalar, Source};
use crate::record::{AdvisoryRecord, FeedOutput, VulnRecord};

#[derive(Deserialize)]
struct SecDb {
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    distroversion: Option<String>,
    #[serde(default)]
    packages: Option<Vec<PkgEntry>>,
}

#[derive(Deserialize)]
struct PkgEntry {
    pkg: serde_json::Value,
}

/// The typed reading, tried first: scalars keep their text (a package
/// named `y` or `on` stays a name, not a boolean).
#[derive(Deserialize)]
struct StrictDb {
    #[serde(default, deserialize_with = "super::opt_scalar_string")]
    distroversion: Option<String>,
    #[serde(default)]
    packages: Option<Vec<StrictEntry>>,
}

#[derive(Deserialize)]
struct StrictEntry {
    pkg: StrictPkg,
}

#[derive(Deserialize)]
struct StrictPkg {
    name: Scalar,
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<Option<Scalar>>>>>,
}

/// One package: its name and (fixed version, ids) pairs, or why it is bad.
type PkgFixes = Result<(String, Vec<(String, Vec<String>)>), String>;

/// The lenient reading, used when the typed one fails: each package is
/// read on its own so that one bad package does not lose the file.
#[derive(Deserialize)]
struct Pkg {
    #[serde(deserialize_with = "super::scalar_string")]
    name: String,
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<serde_json::Value>>>>,
}

/// `v3.10` → `alpine:3.10` (major.minor only; `edge` stays `edge`).
pub fn ecosystem(distroversion: &str) -> String {
    let v = distroversion.trim();
    let v = v.strip_prefix('v').unwrap_or(v);
    let mut it = v.split('.');
    match (it.next(), it.next()) {
        (Some(a), Some(b)) => format!("alpine:{a}.{b}"),
        _ => format!("alpine:{v}"),
    }
}

/// Parse one secdb file (YAML or JSON: JSON is YAML, but the JSON parser is
/// used for `.json` files because it is faster).
pub fn parse(file: &str, bytes: &[u8]) -> FeedOutput {
    let mut out = FeedOutput::default();
    let json = file.ends_with(".json");
    let strict: Result<StrictDb, String> = if json {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    } else {
        from_yaml(bytes)
    };
    let (version, packages): (Option<String>, Vec<PkgFixes>) = match strict {
        Ok(db) => (
            db.distroversion,
            db.packages
                .unwrap_or_default()
                .into_iter()
                .map(|e| {
                    let fixes = e
                        .pkg
                        .secfixes
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(v, ids)| {
                            let ids = ids.unwrap_or_default().into_iter().flatten().map(|s| s.0);
                            (v, ids.collect())
                        })
                        .collect();
                    Ok((e.pkg.name.0, fixes))
                })
                .collect(),
        ),
        Err(_) => {
            let lenient: Result<SecDb, String> = if json {
                serde_json::from_slice(bytes).map_err(|e| e.to_string())
            } else {
                from_yaml(bytes)
            };
            match lenient {
                Ok(db) => (
                    db.distroversion,
                    db.packages
                        .unwrap_or_default()
                        .into_iter()
                        .map(lenient_pkg)
                        .collect(),
                ),
                Err(e) => {
                    out.records += 1;
                    out.skip(file, "", format!("not an Alpine secdb file: {e}"));
                    return out;
                }
            }
        }
    };
    let Some(version) = version.filter(|v| !v.trim().is_empty()) else {
        out.records += 1;
        out.skip(file, "", "no distroversion");
        return out;
    };
    let eco = ecosystem(&version);
    for (i, pkg) in packages.into_iter().enumerate() {
        out.records += 1;
        let (name, fixes) = match pkg {
            Ok(p) => p,
            Err(e) => {
                out.skip(file, &format!("packages[{i}]"), e);
                continue;
            }
        };
        let name = name.trim().to_string();
        if name.is_empty() {
            out.skip(file, &format!("packages[{i}]"), "empty package name");
            continue;
        }
        for (fixed, ids) in fixes {
            let fixed = fixed.trim().to_string();
            for entry in ids {
                // Entries are `CVE-2017-8904` or `CVE-2017-8904 XSA-214`:
                // the first id is the vulnerability, the others aliases.
                // Typos seen in the real feed are repaired: `CVE_2019-2426`,
                // `CVE 2018-16859`.
                let entry = repair_id(&entry);
                let mut toks = entry.split_whitespace().filter(|t| looks_like_id(t));
                let Some(id) = toks.next() else {
                    out.skip(file, &name, format!("no vulnerability id in {entry:?}"));
                    continue;
                };
                let aliases: Vec<String> = toks.map(str::to_string).collect();
                let (status, affected) = if fixed == "0" || fixed.is_empty() {
                    (Status::NotAffected, Affected::default())
                } else {
                    (
                        Status::Fixed,
                        Affected {
                            ranges: vec![AffectedRange {
                                kind: RangeKind::Ecosystem,
                                events: vec![
                                    RangeEvent::Introduced("0".into()),
                                    RangeEvent::Fixed(fixed.clone()),
                                ],
                            }],
                            ..Default::default()
                        },
                    )
                };
                out.vulns.push(VulnRecord {
                    id: id.to_string(),
                    aliases,
                    references: vec![format!("https://security.alpinelinux.org/vuln/{id}")],
                    ..Default::default()
                });
                out.advisories.push(AdvisoryRecord {
                    ecosystem: eco.clone(),
                    package: name.clone(),
                    vulnerability_id: id.to_string(),
                    source_id: format!("{}/{}", Source::AlpineSecdb.id(), name),
                    status,
                    severity: None,
                    affected,
                    informational: None,
                });
            }
        }
    }
    out
}

fn lenient_pkg(entry: PkgEntry) -> PkgFixes {
    let pkg: Pkg = serde_json::from_value(entry.pkg).map_err(|e| one_line(&e.to_string()))?;
    let fixes = pkg
        .secfixes
        .unwrap_or_default()
        .into_iter()
        .map(|(v, ids)| {
            let ids = ids
                .unwrap_or_default()
                .into_iter()
                .filter_map(|id| match id {
                    serde_json::Value::String(s) => Some(s),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect();
            (v, ids)
        })
        .collect();
    Ok((pkg.name, fixes))
}

/// `CVE_2019-2426` → `CVE-2019-2426`, `CVE 2018-16859` → `CVE-2018-16859`.
fn repair_id(entry: &str) -> String {
    let t = entry.trim();
    if let Some(rest) = t.strip_prefix("CVE_").or_else(|| t.strip_prefix("CVE ")) {
        if rest.starts_with(|c: char| c.is_ascii_digit()) {
            return format!("CVE-{rest}");
        }
    }
    t.to_string()
}

/// `CVE-2019-1`, `XSA-214`, `wnpa-sec-2017-18`: a letter, letters or
/// digits, a dash, more.
pub(crate) fn looks_like_id(t: &str) -> bool {
    match t.split_once('-') {
        Some((pre, rest)) => {
            !pre.is_empty()
                && pre.chars().all(|c| c.is_ascii_alphanumeric())
                && pre.starts_with(|c: char| c.is_ascii_alphabetic())
                && !rest.is_empty()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = r#"---
distroversion: v3.10
reponame: main
packages:
  - pkg:
      name: xen
      secfixes:
        4.9.0-r0:
          - CVE-2017-8904 XSA-214
          - XSA-207
          - CVE_2019-2426
          - CVE 2018-16859
          - wnpa-sec-2017-18
          - "(no id here)"
        "0":
          - CVE-2016-0682
  - pkg:
      name: empty
"#;

    #[test]
    fn yaml() {
        let out = parse("v3.10/main.yaml", YAML.as_bytes());
        assert_eq!(out.records, 2);
        assert_eq!(out.skipped.len(), 1, "{:?}", out.skipped);
        assert_eq!(out.advisories.len(), 6);
        for id in ["CVE-2019-2426", "CVE-2018-16859", "wnpa-sec-2017-18"] {
            assert!(
                out.advisories.iter().any(|a| a.vulnerability_id == id),
                "{id}"
            );
        }
        let na = out
            .advisories
            .iter()
            .find(|a| a.vulnerability_id == "CVE-2016-0682")
            .unwrap();
        assert_eq!(na.status, Status::NotAffected);
        assert_eq!(na.ecosystem, "alpine:3.10");
        let f = out
            .advisories
            .iter()
            .find(|a| a.vulnerability_id == "CVE-2017-8904")
            .unwrap();
        assert_eq!(f.affected.fixed_versions(), vec!["4.9.0-r0"]);
        let xen = out.vulns.iter().find(|v| v.id == "CVE-2017-8904").unwrap();
        assert_eq!(xen.aliases, vec!["XSA-214"]);
        assert_eq!(out.vulns.len(), 6);
    }

    #[test]
    fn json_as_served() {
        let json = r#"{"apkurl":"{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk","archs":["x86_64"],"reponame":"main","urlprefix":"https://dl-cdn.alpinelinux.org/alpine","distroversion":"v3.20","packages":[{"pkg":{"name":"openssl","secfixes":{"3.3.2-r0":["CVE-2024-6119"],"0":["CVE-2022-1234"]}}}]}"#;
        let out = parse("v3.20/main.json", json.as_bytes());
        assert_eq!(out.records, 1);
        assert_eq!(out.advisories.len(), 2);
        assert!(out.advisories.iter().all(|a| a.ecosystem == "alpine:3.20"));
    }

    #[test]
    fn malformed_package_is_skipped() {
        let y = "distroversion: v3.9\npackages:\n  - pkg:\n      secfixes: {}\n  - pkg:\n      name: ok\n";
        let out = parse("x.yaml", y.as_bytes());
        assert_eq!(out.records, 2);
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.skipped[0].record, "packages[0]");
    }
}
