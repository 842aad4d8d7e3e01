//! Ruby: installed `specifications/*.gemspec` and `Gemfile.lock`.

use crate::util::{dedupe, new_pkg, pkg_id, utf8};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{Package, Relationship};
use std::collections::{HashMap, HashSet};

/// Quoted strings of a Ruby expression (`"x".freeze`, `["MIT".freeze, 'BSD']`).
fn quoted(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\'' {
            let mut s = String::new();
            let mut closed = false;
            while let Some(n) = chars.next() {
                if n == '\\' {
                    if let Some(e) = chars.next() {
                        s.push(e);
                    }
                } else if n == c {
                    closed = true;
                    break;
                } else {
                    s.push(n);
                }
            }
            if closed {
                out.push(s);
            }
        }
    }
    out
}

/// The right-hand side of `<ident>.<attr> = ...` on a gemspec line.
fn assignment<'a>(line: &'a str, attr: &str) -> Option<&'a str> {
    let l = line.trim_start();
    let dot = l.find('.')?;
    let ident = l.get(..dot)?;
    if ident.is_empty() || !ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let rest = l.get(dot + 1..)?.strip_prefix(attr)?;
    let rest = rest.trim_start().strip_prefix('=')?;
    if rest.starts_with('=') {
        return None;
    }
    Some(rest.trim())
}

/// A gemspec as rubygems writes it into `specifications/` (Ruby source:
/// `s.name = "rake".freeze`, `s.version = "13.0.6"`, `s.licenses = [...]`).
/// Read line by line; the Ruby is not evaluated.
pub fn parse_gemspec(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = String::from_utf8_lossy(data);
    let (mut name, mut version, mut licenses) = (None, None, Vec::new());
    for line in text.lines() {
        if let Some(r) = assignment(line, "name") {
            name = name.or_else(|| quoted(r).into_iter().next());
        } else if let Some(r) = assignment(line, "version") {
            version = version.or_else(|| quoted(r).into_iter().next());
        } else if let Some(r) = assignment(line, "licenses").or_else(|| assignment(line, "license"))
        {
            if licenses.is_empty() {
                licenses = quoted(r);
            }
        }
    }
    let name = name.ok_or_else(|| LangError::new(path, "no `.name = \"...\"` in gemspec"))?;
    let version =
        version.ok_or_else(|| LangError::new(path, "no `.version = \"...\"` in gemspec"))?;
    let mut p = new_pkg(lt::GEMSPEC, &name, &version);
    p.licenses = licenses;
    p.file_path = path.to_string();
    Ok(vec![p])
}

/// `Gemfile.lock`: specs of the `GEM` and `GIT` sections (`PATH` sections
/// are local code and skipped), platform suffixes stripped from versions
/// (`1.13.10-x86_64-linux` → `1.13.10`), `DEPENDENCIES` marks direct ones.
pub fn parse_gemfile_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = utf8(path, data)?;
    let mut section = "";
    struct Spec {
        name: String,
        version: String,
        deps: Vec<String>,
        keep: bool,
    }
    let mut specs: Vec<Spec> = Vec::new();
    let mut direct: HashSet<String> = HashSet::new();
    let mut in_specs = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if indent == 0 {
            section = t;
            in_specs = false;
            continue;
        }
        match section {
            "GEM" | "GIT" | "PATH" => {
                if indent == 2 {
                    in_specs = t == "specs:";
                } else if in_specs && indent == 4 {
                    let (name, ver) = t.split_once(' ').ok_or_else(|| {
                        LangError::new(path, format!("line {}: spec without `(version)`", n + 1))
                    })?;
                    let ver = ver.trim().trim_start_matches('(').trim_end_matches(')');
                    let ver = ver.split('-').next().unwrap_or(ver);
                    specs.push(Spec {
                        name: name.to_string(),
                        version: ver.to_string(),
                        deps: Vec::new(),
                        keep: section != "PATH",
                    });
                } else if in_specs && indent == 6 {
                    if let Some(s) = specs.last_mut() {
                        s.deps.push(t.split(' ').next().unwrap_or(t).to_string());
                    }
                }
            }
            "DEPENDENCIES" if indent == 2 => {
                let name = t.split(' ').next().unwrap_or(t).trim_end_matches('!');
                direct.insert(name.to_string());
            }
            _ => {}
        }
    }
    let ids: HashMap<&str, String> = specs
        .iter()
        .map(|s| (s.name.as_str(), pkg_id(lt::BUNDLER, &s.name, &s.version)))
        .collect();
    let mut out = Vec::new();
    for s in specs.iter().filter(|s| s.keep) {
        let mut p = new_pkg(lt::BUNDLER, &s.name, &s.version);
        p.relationship = Some(if direct.contains(&s.name) {
            Relationship::Direct
        } else {
            Relationship::Indirect
        });
        p.depends_on = s
            .deps
            .iter()
            .filter(|d| specs.iter().any(|x| x.keep && x.name == **d))
            .filter_map(|d| ids.get(d.as_str()).cloned())
            .collect();
        out.push(p);
    }
    Ok(dedupe(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemspec_lines() {
        let g = b"# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n  s.required_rubygems_version = Gem::Requirement.new(\">= 1.3.1\".freeze) if s.respond_to? :required_rubygems_version=\n  s.licenses = [\"MIT\".freeze]\nend\n";
        let p = parse_gemspec("specifications/rake-13.0.6.gemspec", g).unwrap_or_default();
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].name.as_str(), p[0].version.as_str()),
            ("rake", "13.0.6")
        );
        assert_eq!(p[0].licenses, vec!["MIT"]);
        assert_eq!(p[0].identifier.purl.as_deref(), Some("pkg:gem/rake@13.0.6"));
        assert!(parse_gemspec("x.gemspec", b"s.name = 'x'").is_err());
    }
}
