//! Go: `go.mod` (hand-written reader of its line syntax: `module`, `go`,
//! `toolchain`, `require`, `replace`, `exclude`, `retract`, single lines and
//! blocks, `// indirect` comments) and `go.sum`.

use crate::util::{new_pkg, utf8};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{Package, Relationship};
use std::collections::BTreeMap;

/// Split a go.mod line into tokens (quoted strings unquoted) and say whether
/// its comment is `// indirect`.
fn tokens(line: &str) -> (Vec<String>, bool) {
    let (code, comment) = match line.find("//") {
        Some(i) => (line.get(..i).unwrap_or(""), line.get(i + 2..).unwrap_or("")),
        None => (line, ""),
    };
    let indirect = comment.trim().split(';').any(|c| c.trim() == "indirect");
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut q: Option<char> = None;
    for c in code.chars() {
        match q {
            Some(e) if c == e => {
                q = None;
                out.push(std::mem::take(&mut cur));
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '`' => q = Some(c),
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    (out, indirect)
}

struct Require {
    path: String,
    version: String,
    indirect: bool,
}

struct Replace {
    old: String,
    old_version: Option<String>,
    new: String,
    new_version: Option<String>,
}

/// `go.mod`, following Trivy: the main module as root; `require`d modules
/// direct or indirect (`// indirect`; indirect ones are dropped for
/// `go` < 1.17 or no `go` line, whose go.mod does not list them all — see
/// [`merge_go_sum`]); `replace` with a version swaps the module, a
/// local-path replacement removes it; `exclude` only constrains resolution
/// and adds nothing.
///
/// `stdlib` is emitted from the `toolchain` directive, or (as Trivy does)
/// from a `go` line of 1.21 or later when there is none (`go 1.22` →
/// `v1.22.0`). Trivy reports it only with `--detection-priority
/// comprehensive`; customs-inventory drops it in the default (precise)
/// mode, after the layer cache, so this output does not depend on options.
pub fn parse_go_mod(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = utf8(path, data)?;
    let mut module: Option<String> = None;
    let mut go_version: Option<String> = None;
    let mut toolchain: Option<String> = None;
    let mut requires: Vec<Require> = Vec::new();
    let mut replaces: Vec<Replace> = Vec::new();
    let mut block: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let (t, indirect) = tokens(line);
        let Some(first) = t.first() else { continue };
        let bad = || LangError::new(path, format!("line {}: malformed `{}`", n + 1, line.trim()));
        let (verb, args): (String, &[String]) = match &block {
            Some(b) => {
                if first == ")" {
                    block = None;
                    continue;
                }
                (b.clone(), &t[..])
            }
            None => {
                if t.get(1).map(String::as_str) == Some("(") {
                    block = Some(first.clone());
                    continue;
                }
                (first.clone(), t.get(1..).unwrap_or_default())
            }
        };
        match verb.as_str() {
            "module" => module = Some(args.first().ok_or_else(bad)?.clone()),
            "go" => go_version = Some(args.first().ok_or_else(bad)?.clone()),
            "toolchain" => toolchain = Some(args.first().ok_or_else(bad)?.clone()),
            "require" => {
                let [p, v, ..] = args else { return Err(bad()) };
                requires.push(Require {
                    path: p.clone(),
                    version: v.clone(),
                    indirect,
                });
            }
            "replace" => {
                let arrow = args.iter().position(|a| a == "=>").ok_or_else(bad)?;
                let (l, r) = args.split_at(arrow);
                let r = r.get(1..).unwrap_or_default();
                let (Some(old), Some(new)) = (l.first(), r.first()) else {
                    return Err(bad());
                };
                replaces.push(Replace {
                    old: old.clone(),
                    old_version: l.get(1).cloned(),
                    new: new.clone(),
                    new_version: r.get(1).cloned(),
                });
            }
            "exclude" | "retract" | "godebug" | "tool" | "ignore" => {}
            other => {
                return Err(LangError::new(
                    path,
                    format!("line {}: unknown directive {other:?}", n + 1),
                ))
            }
        }
    }
    if block.is_some() {
        return Err(LangError::new(path, "unterminated ( block"));
    }
    let skip_indirect = go_version.as_deref().is_none_or(less_than_1_17);
    let mut pkgs: BTreeMap<String, Package> = BTreeMap::new();
    let stdlib = match (&toolchain, &go_version) {
        (Some(tc), _) => {
            let v = tc.split('-').next().unwrap_or(tc);
            Some(v.strip_prefix("go").unwrap_or(v).to_string())
        }
        (None, Some(g)) => toolchain_from_go_line(g),
        (None, None) => None,
    };
    if let Some(v) = stdlib.filter(|v| !v.is_empty()) {
        let mut p = new_pkg(lt::GOMOD, STDLIB, &format!("v{v}"));
        p.relationship = Some(Relationship::Direct);
        pkgs.insert(STDLIB.into(), p);
    }
    if let Some(m) = &module {
        let mut p = new_pkg(lt::GOMOD, m, "");
        p.relationship = Some(Relationship::Root);
        pkgs.insert(m.clone(), p);
    }
    for r in requires {
        if skip_indirect && r.indirect {
            continue;
        }
        let mut p = new_pkg(lt::GOMOD, &r.path, &r.version);
        p.relationship = Some(if r.indirect {
            Relationship::Indirect
        } else {
            Relationship::Direct
        });
        pkgs.insert(r.path, p);
    }
    for rep in replaces {
        let Some(old) = pkgs.get(&rep.old) else {
            continue;
        };
        if rep.old_version.as_ref().is_some_and(|v| *v != old.version) {
            continue;
        }
        let rel = old.relationship;
        pkgs.remove(&rep.old);
        if let Some(v) = rep.new_version {
            let mut p = new_pkg(lt::GOMOD, &rep.new, &v);
            p.relationship = rel;
            pkgs.insert(rep.new, p);
        }
    }
    Ok(pkgs.into_values().collect())
}

/// The name of the standard library's pseudo-module.
pub const STDLIB: &str = "stdlib";

/// The toolchain a `go` line implies when there is no `toolchain` line
/// (Trivy's rule): `1.N.P` as is, `1.N` as `1.N.0`, `1.NrcR` as is; none
/// before Go 1.21, which had no toolchain selection.
fn toolchain_from_go_line(v: &str) -> Option<String> {
    let parts: Vec<&str> = v.split('.').collect();
    let (major_minor, full) = if parts.len() > 2 {
        (parts[..2].join("."), v.to_string())
    } else if let Some((mm, _)) = v.split_once("rc") {
        (mm.to_string(), v.to_string())
    } else {
        (v.to_string(), format!("{v}.0"))
    };
    let mut it = major_minor.split('.');
    let major: u32 = it.next()?.parse().ok()?;
    let minor: u32 = it.next()?.parse().ok()?;
    (major > 1 || (major == 1 && minor >= 21)).then_some(full)
}

/// Does this go.mod need its go.sum to be complete? True for a `go`
/// directive older than 1.17, or none (such go.mod files do not list every
/// indirect module), as Trivy decides.
pub fn go_mod_needs_go_sum(go_mod: &[u8]) -> bool {
    let text = String::from_utf8_lossy(go_mod);
    let go = text.lines().find_map(|l| {
        let (t, _) = tokens(l);
        (t.first().map(String::as_str) == Some("go"))
            .then(|| t.get(1).cloned())
            .flatten()
    });
    go.as_deref().is_none_or(less_than_1_17)
}

/// Add to a go.mod's packages the go.sum modules it does not name, as
/// indirect (Trivy's `mergeGoSum`). Call it only when
/// [`go_mod_needs_go_sum`] says so.
pub fn merge_go_sum_packages(mut go_mod: Vec<Package>, go_sum: &[Package]) -> Vec<Package> {
    let names: std::collections::HashSet<String> = go_mod.iter().map(|p| p.name.clone()).collect();
    for p in go_sum {
        if !names.contains(&p.name) {
            let mut p = p.clone();
            p.relationship = Some(Relationship::Indirect);
            p.dev = false;
            go_mod.push(p);
        }
    }
    crate::util::sort_packages(&mut go_mod);
    go_mod
}

fn less_than_1_17(v: &str) -> bool {
    let mut it = v.split('.');
    let major: u32 = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    let minor: u32 = it
        .next()
        .map(|m| m.trim_end_matches(|c: char| !c.is_ascii_digit()))
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    major < 1 || (major == 1 && minor < 17)
}

/// `go.sum`: one package per module path (the last version listed wins, as
/// Trivy does); `/go.mod`-only hashes count too, as they name the version
/// the build selected. Beside a go.mod it only completes it (see
/// [`merge_go_sum`]); a lone go.sum is reported on its own (Trivy does not
/// read one).
pub fn parse_go_sum(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = utf8(path, data)?;
    let mut mods: BTreeMap<&str, &str> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let [m, v, _hash] = f.as_slice() else {
            return Err(LangError::new(
                path,
                format!("line {}: expected `module version hash`", n + 1),
            ));
        };
        mods.insert(m, v.strip_suffix("/go.mod").unwrap_or(v));
    }
    Ok(mods
        .into_iter()
        .map(|(m, v)| {
            let mut p = new_pkg(lt::GOMOD, m, v);
            p.relationship = Some(Relationship::Indirect);
            p
        })
        .collect())
}

/// Complete the packages of a `go.mod` whose `go` directive is older than
/// 1.17 with the modules of its `go.sum` (as indirect), as Trivy does. For
/// newer modules go.mod is complete and is returned unchanged.
pub fn merge_go_sum(
    go_mod_path: &str,
    go_mod: &[u8],
    go_sum_path: &str,
    go_sum: &[u8],
) -> Result<Vec<Package>, LangError> {
    let pkgs = parse_go_mod(go_mod_path, go_mod)?;
    if !go_mod_needs_go_sum(go_mod) {
        return Ok(pkgs);
    }
    let sum = parse_go_sum(go_sum_path, go_sum)?;
    Ok(merge_go_sum_packages(pkgs, &sum))
}

#[cfg(test)]
mod tests {

    #[test]
    fn toolchain_from_go_lines() {
        assert_eq!(toolchain_from_go_line("1.22").as_deref(), Some("1.22.0"));
        assert_eq!(toolchain_from_go_line("1.22.4").as_deref(), Some("1.22.4"));
        assert_eq!(
            toolchain_from_go_line("1.23rc1").as_deref(),
            Some("1.23rc1")
        );
        assert_eq!(toolchain_from_go_line("1.20"), None);
        assert_eq!(toolchain_from_go_line("x"), None);
    }

    #[test]
    fn go_sum_completes_without_overriding() {
        let m = parse_go_mod("go.mod", b"module x\ngo 1.16\nrequire a.com/b v1.0.0\n")
            .unwrap_or_default();
        let s = parse_go_sum(
            "go.sum",
            b"a.com/b v0.9.0 h1:x=\nc.com/d v1.1.0/go.mod h1:z=\n",
        )
        .unwrap_or_default();
        let p = merge_go_sum_packages(m, &s);
        let ids: Vec<_> = p.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["a.com/b@v1.0.0", "c.com/d@v1.1.0", "x"]);
    }
    use super::*;

    #[test]
    fn versions() {
        assert!(less_than_1_17("1.16"));
        assert!(!less_than_1_17("1.17"));
        assert!(!less_than_1_17("1.21.0"));
        assert!(less_than_1_17("1.12rc1"));
    }

    #[test]
    fn merge_old_module() {
        let m = b"module x\ngo 1.16\nrequire a.com/b v1.0.0\nrequire c.com/d v1.1.0 // indirect\n";
        let s = b"a.com/b v1.0.0 h1:x=\na.com/b v1.0.0/go.mod h1:y=\nc.com/d v1.1.0/go.mod h1:z=\n";
        let p = merge_go_sum("go.mod", m, "go.sum", s).unwrap_or_default();
        let ids: Vec<_> = p.iter().map(|p| (p.id.as_str(), p.relationship)).collect();
        assert_eq!(
            ids,
            [
                ("a.com/b@v1.0.0", Some(Relationship::Direct)),
                ("c.com/d@v1.1.0", Some(Relationship::Indirect)),
                ("x", Some(Relationship::Root))
            ]
        );
    }
}
