//! Cargo (`Cargo.lock`), Bundler (`Gemfile`, `Gemfile.lock`) and Hex
//! (`mix.lock`).
//!
//! The lockfile readers keep what `customs-lang` drops: the `source` of a
//! Cargo.lock package, the `remote:` of a Gemfile.lock section, the repo of
//! a mix.lock entry, and the line of each.

use crate::checks::{BUNDLER_GLOBAL_SOURCES, CARGO_BOTH_REGISTRIES, HEX_MIXED_REPOS};
use crate::public::Eco;
use crate::text::Text;
use crate::{malformed, Context, File, PrivatePkg};
use customs_model::finding::Misconfiguration;
use std::collections::{BTreeMap, BTreeSet};

type Out = (Vec<Misconfiguration>, Vec<PrivatePkg>);

pub(crate) fn scan(ctx: &Context, file: &File) -> Out {
    let name = file.path.rsplit('/').next().unwrap_or(file.path);
    match name {
        "Cargo.lock" => cargo_lock(ctx, file),
        "Gemfile" | "gems.rb" => (gemfile(file), Vec::new()),
        "Gemfile.lock" | "gems.locked" => gemfile_lock(ctx, file),
        "mix.lock" => mix_lock(file),
        // `.cargo/config.toml` only maps registry names; the lock carries
        // the sources themselves.
        _ => (Vec::new(), Vec::new()),
    }
}

fn is_crates_io(source: &str) -> bool {
    source == "registry+https://github.com/rust-lang/crates.io-index"
        || source == "sparse+https://index.crates.io/"
}

#[derive(serde::Deserialize)]
struct CargoPkg {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    source: Option<String>,
}

#[derive(serde::Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<CargoPkg>,
}

fn cargo_lock(ctx: &Context, file: &File) -> Out {
    // Typed: only the fields read, faster than a whole `toml::Table`.
    let lock: CargoLock = match toml::from_str(&file.text) {
        Ok(d) => d,
        Err(e) => return malformed(file.path, e.message()),
    };
    let text = Text::new(&file.text);
    let lines: Vec<usize> = (1..=text.lines())
        .filter(|&n| text.line(n).trim() == "[[package]]")
        .collect();
    let mut public_names = BTreeSet::new();
    let mut alt = Vec::new();
    for (i, p) in lock.package.iter().enumerate() {
        let Some(source) = p.source.as_deref() else {
            continue;
        };
        if is_crates_io(source) {
            public_names.insert(p.name.as_str());
        } else if source.starts_with("registry+") || source.starts_with("sparse+") {
            let url = source.split_once('+').map(|(_, u)| u).unwrap_or(source);
            if !ctx.is_public(url) {
                alt.push((
                    p.name.as_str(),
                    p.version.as_str(),
                    url,
                    lines.get(i).copied().unwrap_or(0),
                ));
            }
        }
    }
    let mut out = Vec::new();
    let mut private = Vec::new();
    for (name, version, url, line) in alt {
        if public_names.contains(name) {
            out.push(CARGO_BOTH_REGISTRIES.at(
                &text,
                line,
                text.block_end(line),
                format!("'{name} {version}' comes from the registry {url}, and the same lockfile takes a crate '{name}' from crates.io"),
            ));
        }
        private.push(PrivatePkg {
            eco: Eco::Crates,
            name: name.to_string(),
            version: version.to_string(),
            path: file.path.to_string(),
            line,
        });
    }
    (out, private)
}

/// Global `source "…"` lines of a Gemfile (a `source … do` block scopes its
/// gems and is not global).
fn gemfile(file: &File) -> Vec<Misconfiguration> {
    let text = Text::new(&file.text);
    let mut globals = Vec::new();
    for n in 1..=text.lines() {
        let l = text.line(n);
        let code = l.split('#').next().unwrap_or(l).trim();
        let Some(rest) = code.strip_prefix("source") else {
            continue;
        };
        if !(rest.starts_with(' ') || rest.starts_with('(')) {
            continue;
        }
        let rest = rest.trim();
        let scoped = rest.ends_with(" do")
            || rest.contains(" do |")
            || rest.ends_with('{')
            || rest.contains(") do");
        if !scoped {
            let url = rest
                .trim_start_matches('(')
                .trim()
                .trim_matches(|c| c == '"' || c == '\'' || c == ')');
            globals.push((n, url.split(['"', '\'']).next().unwrap_or(url).to_string()));
        }
    }
    if globals.len() < 2 {
        return Vec::new();
    }
    let all: Vec<&str> = globals.iter().map(|(_, u)| u.as_str()).collect();
    globals
        .iter()
        .skip(1)
        .map(|(n, u)| {
            BUNDLER_GLOBAL_SOURCES.at(
                &text,
                *n,
                *n,
                format!(
                    "'{u}' is one of {} global sources ({}): any gem may come from any of them",
                    all.len(),
                    all.join(", ")
                ),
            )
        })
        .collect()
}

/// Gemfile.lock: a `GEM` section with several `remote:` lines is the
/// locked form of several global sources; specs of a private remote are
/// private packages.
fn gemfile_lock(ctx: &Context, file: &File) -> Out {
    let text = Text::new(&file.text);
    let mut out = Vec::new();
    let mut private = Vec::new();
    let mut n = 1;
    while n <= text.lines() {
        if text.line(n).trim_end() != "GEM" {
            n += 1;
            continue;
        }
        let section = n;
        let mut remotes = Vec::new();
        n += 1;
        let mut in_specs = false;
        while n <= text.lines() && text.line(n).starts_with(' ') {
            let l = text.line(n);
            if let Some(r) = l.trim().strip_prefix("remote:") {
                remotes.push(r.trim().to_string());
            } else if l.trim() == "specs:" {
                in_specs = true;
            } else if in_specs && l.starts_with("    ") && !l.starts_with("     ") {
                // `    name (1.2.3)` or `    name (1.2.3-x86_64-linux)`
                let t = l.trim();
                if let Some((name, v)) = t.split_once(" (") {
                    let all_private =
                        !remotes.is_empty() && remotes.iter().all(|r| !ctx.is_public(r));
                    if all_private {
                        private.push(PrivatePkg {
                            eco: Eco::RubyGems,
                            name: name.to_string(),
                            version: v
                                .trim_end_matches(')')
                                .split('-')
                                .next()
                                .unwrap_or("")
                                .to_string(),
                            path: file.path.to_string(),
                            line: n,
                        });
                    }
                }
            }
            n += 1;
        }
        if remotes.len() > 1 {
            out.push(BUNDLER_GLOBAL_SOURCES.at(
                &text,
                section,
                section + remotes.len(),
                format!(
                    "the GEM section merges {} remotes ({}): any gem may come from any of them",
                    remotes.len(),
                    remotes.join(", ")
                ),
            ));
        }
    }
    (out, private)
}

/// mix.lock: `"key": {:hex, :name, "1.0.0", "hash", [:mix], [deps], "repo", "hash"}`;
/// deps are `{:dep, "~> 1.0", [hex: :dep, repo: "hexpm", optional: false]}`.
fn mix_lock(file: &File) -> Out {
    let text = Text::new(&file.text);
    // name → repo → first line seen
    let mut seen: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut entries = Vec::new();
    for n in 1..=text.lines() {
        let l = text.line(n);
        let Some(i) = l.find("{:hex, :") else {
            continue;
        };
        let rest = &l[i + 8..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        let version = rest.split('"').nth(1).unwrap_or("").to_string();
        // The repo is the string after the deps list: `], "repo", "hash"}`.
        let repo = l
            .rfind("], \"")
            .map(|j| &l[j + 4..])
            .and_then(|r| r.split('"').next())
            .unwrap_or("hexpm")
            .to_string();
        seen.entry(name.clone())
            .or_default()
            .entry(repo.clone())
            .or_insert(n);
        entries.push((name, version, repo, n));
        // References of dependencies: `[hex: :dep, repo: "r"`.
        let mut from = 0;
        while let Some(j) = l[from..].find("[hex: :") {
            let at = from + j + 7;
            let dep: String = l[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let drepo = l[at..]
                .find("repo: \"")
                .map(|k| &l[at + k + 7..])
                .and_then(|r| r.split('"').next())
                .unwrap_or("hexpm");
            if !dep.is_empty() {
                seen.entry(dep)
                    .or_default()
                    .entry(drepo.to_string())
                    .or_insert(n);
            }
            from = at;
        }
    }
    let mut out = Vec::new();
    let mut private = Vec::new();
    for (name, version, repo, n) in entries {
        if repo == "hexpm" {
            continue;
        }
        private.push(PrivatePkg {
            eco: Eco::Hex,
            name: name.clone(),
            version: version.clone(),
            path: file.path.to_string(),
            line: n,
        });
        if let Some(repos) = seen.get(&name).filter(|r| r.contains_key("hexpm")) {
            let public_line = repos.get("hexpm").copied().unwrap_or(0);
            out.push(HEX_MIXED_REPOS.at(
                &text,
                n,
                n,
                format!("'{name}' comes from the repo '{repo}' here, but line {public_line} asks for '{name}' from hexpm"),
            ));
        }
    }
    (out, private)
}
