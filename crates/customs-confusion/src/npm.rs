//! npm, yarn, pnpm and bun: registry configs (`.npmrc`, `.yarnrc.yml`,
//! `.yarnrc`) against the registries the lockfiles resolved from.
//!
//! The lockfile parsers here read only what `customs-lang` does not keep:
//! `resolved`/`integrity` (package-lock, yarn v1), `resolution.tarball`
//! (pnpm), the registry field of `bun.lock`, and each entry's line.

use crate::checks::{
    NPM_FALLBACK, NPM_NO_INTEGRITY, NPM_SCOPE_REGISTRY, NPM_SCOPE_SPLIT, NPM_UNSCOPED_PRIVATE,
};
use crate::public::Eco;
use crate::text::Text;
use crate::url::{is_http, normalize, same_base};
use crate::{malformed, Context, File, PrivatePkg};
use customs_model::finding::Misconfiguration;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A registry setting: normalized URL and where it was set.
#[derive(Debug, Clone)]
struct Reg {
    url: String,
    at: String,
}

#[derive(Debug, Default, Clone)]
struct NpmConf {
    default: Option<Reg>,
    /// Scope (with `@`) to registry.
    scopes: BTreeMap<String, Reg>,
}

impl NpmConf {
    /// Overlays `other` (higher precedence) on `self`.
    fn overlay(&mut self, other: NpmConf) {
        if other.default.is_some() {
            self.default = other.default;
        }
        self.scopes.extend(other.scopes);
    }
}

/// One registry config file.
fn parse_conf(file: &File) -> NpmConf {
    let name = file.path.rsplit('/').next().unwrap_or(file.path);
    match name {
        ".yarnrc.yml" => parse_yarnrc_yml(file),
        ".yarnrc" => parse_yarnrc_v1(file),
        _ => parse_npmrc(file),
    }
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(v)
}

/// `.npmrc` (`key=value`, `;` and `#` comments).
fn parse_npmrc(file: &File) -> NpmConf {
    parse_rc(file, &[';', '#'], |l| l.split_once('='))
}

/// Yarn 1's `.yarnrc` (`key value`, `#` comments).
fn parse_yarnrc_v1(file: &File) -> NpmConf {
    parse_rc(file, &['#'], |l| l.split_once(char::is_whitespace))
}

/// The `registry` and `@scope:registry` settings of an rc file, each with
/// its line; the two formats differ only in comments and the separator.
fn parse_rc(
    file: &File,
    comments: &[char],
    split: impl Fn(&str) -> Option<(&str, &str)>,
) -> NpmConf {
    let mut conf = NpmConf::default();
    for (i, line) in file.text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with(comments) {
            continue;
        }
        let Some((key, value)) = split(line) else {
            continue;
        };
        let (key, value) = (unquote(key), unquote(value));
        let reg = || Reg {
            url: normalize(value),
            at: format!("{}:{}", file.path, i + 1),
        };
        if key == "registry" {
            conf.default = Some(reg());
        } else if let Some(scope) = key.strip_suffix(":registry") {
            if scope.starts_with('@') {
                conf.scopes.insert(scope.to_string(), reg());
            }
        }
    }
    conf
}

/// `.yarnrc.yml`: `npmRegistryServer` at the top and under
/// `npmScopes.<scope>`. Read line by line (the keys are simple mappings) so
/// that each setting keeps its line.
fn parse_yarnrc_yml(file: &File) -> NpmConf {
    let mut conf = NpmConf::default();
    let mut in_scopes: Option<usize> = None;
    let mut scope: Option<(String, usize)> = None;
    for (i, raw) in file.text.lines().enumerate() {
        let content = raw.split(" #").next().unwrap_or(raw);
        let trimmed = content.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = content.len() - content.trim_start().len();
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let (key, value) = (unquote(key), unquote(value));
        let at = format!("{}:{}", file.path, i + 1);
        if let Some(scope_indent) = in_scopes {
            if indent <= scope_indent {
                in_scopes = None;
                scope = None;
            }
        }
        if let (Some((_, sc_indent)), true) = (&scope, in_scopes.is_some()) {
            if indent <= *sc_indent {
                scope = None;
            }
        }
        if in_scopes.is_none() {
            if key == "npmRegistryServer" && indent == 0 {
                conf.default = Some(Reg {
                    url: normalize(value),
                    at,
                });
            } else if key == "npmScopes" && indent == 0 {
                in_scopes = Some(indent);
            }
            continue;
        }
        match &scope {
            None => {
                if value.is_empty() {
                    let name = key.trim_start_matches('@');
                    scope = Some((format!("@{name}"), indent));
                }
            }
            Some((name, _)) => {
                if key == "npmRegistryServer" {
                    conf.scopes.insert(
                        name.clone(),
                        Reg {
                            url: normalize(value),
                            at,
                        },
                    );
                }
            }
        }
    }
    conf
}

const CONF_NAMES: [&str; 3] = [".npmrc", ".yarnrc.yml", ".yarnrc"];

/// The registry config that applies to a lockfile in `dir`: global, then
/// user, then project files (farthest first), then the image environment;
/// later ones win, as with npm (env > project > user > global).
fn effective_conf(ctx: &Context, dir: &str) -> NpmConf {
    let mut conf = NpmConf::default();
    for f in &ctx.files {
        let p = f.path;
        let global = matches!(p, "etc/npmrc" | "usr/local/etc/npmrc" | "usr/etc/npmrc");
        if global {
            conf.overlay(parse_conf(f));
        }
    }
    for f in &ctx.files {
        let p = f.path;
        let user = CONF_NAMES.iter().any(|n| {
            p.strip_suffix(n).is_some_and(|home| {
                home == "root/"
                    || home
                        .strip_prefix("home/")
                        .is_some_and(|u| u.matches('/').count() == 1)
            })
        });
        // A home directory that is also the project's own dir is read as a
        // project file below, not twice.
        if user && !dir.starts_with(f.dir()) {
            conf.overlay(parse_conf(f));
        }
    }
    let mut project = ctx.up_the_tree(dir, &CONF_NAMES);
    project.reverse();
    for f in project {
        conf.overlay(parse_conf(f));
    }
    let mut env = NpmConf::default();
    for (k, v) in ctx.env {
        let lk = k.to_ascii_lowercase();
        if lk == "npm_config_registry" || lk == "yarn_npm_registry_server" {
            env.default = Some(Reg {
                url: normalize(v),
                at: format!("image Env {k}"),
            });
        } else if let Some(scope) = lk
            .strip_prefix("npm_config_")
            .and_then(|s| s.strip_suffix(":registry"))
        {
            if scope.starts_with('@') {
                env.scopes.insert(
                    scope.to_string(),
                    Reg {
                        url: normalize(v),
                        at: format!("image Env {k}"),
                    },
                );
            }
        }
    }
    conf.overlay(env);
    conf
}

/// One resolved package of a lockfile.
#[derive(Debug, Default, Clone)]
struct Entry {
    name: String,
    version: String,
    /// The tarball URL, when the lockfile records one.
    resolved: Option<String>,
    integrity: bool,
    /// Lines of the entry (key line, last line quoted).
    line: usize,
    end: usize,
}

pub(crate) fn scan(ctx: &Context, file: &File) -> (Vec<Misconfiguration>, Vec<PrivatePkg>) {
    let name = file.path.rsplit('/').next().unwrap_or(file.path);
    let text = Text::new(&file.text);
    let entries = match name {
        "package-lock.json" | "npm-shrinkwrap.json" => package_lock(&text),
        "yarn.lock" => Ok(yarn_lock(&text)),
        "pnpm-lock.yaml" => Ok(pnpm_lock(&text)),
        "bun.lock" => bun_lock(&text),
        // Config files have no findings of their own: they are read for the
        // lockfiles beside and below them.
        _ => return (Vec::new(), Vec::new()),
    };
    let entries = match entries {
        Ok(e) => e,
        Err(problem) => return malformed(file.path, problem),
    };
    let conf = effective_conf(ctx, file.dir());
    check_entries(ctx, file, &text, &conf, &entries)
}

fn scope_of(name: &str) -> Option<&str> {
    name.starts_with('@')
        .then(|| name.split('/').next())
        .flatten()
}

/// The registry base of a tarball URL, as a prefix of it: what comes
/// before `/<name>/-/` (npm's tarball layout, also with the scope's `/`
/// encoded), else scheme and host. No allocation: it runs for every entry.
fn registry_base<'u>(resolved: &'u str, name: &str) -> &'u str {
    let url = resolved.split(['?', '#']).next().unwrap_or(resolved);
    if let Some(dash) = url.rfind("/-/") {
        let before = &url[..dash];
        let encoded = name.split_once('/');
        let stem = if before.ends_with(name) {
            Some(before.len() - name.len())
        } else {
            encoded.and_then(|(scope, rest)| {
                let enc_len = scope.len() + 3 + rest.len();
                let tail = before.get(before.len().checked_sub(enc_len)?..)?;
                let ok = tail.get(..scope.len()) == Some(scope)
                    && tail
                        .get(scope.len()..scope.len() + 3)
                        .is_some_and(|m| m.eq_ignore_ascii_case("%2f"))
                    && tail.get(scope.len() + 3..) == Some(rest);
                ok.then(|| before.len() - enc_len)
            })
        };
        if let Some(stem) = stem.filter(|&i| i > 0 && before.as_bytes()[i - 1] == b'/') {
            return &url[..stem];
        }
    }
    let host_end = url
        .find("://")
        .map(|s| s + 3)
        .and_then(|s| url[s..].find('/').map(|e| s + e + 1))
        .unwrap_or(url.len());
    &url[..host_end]
}

/// Normalized registry bases and whether they are public, computed once
/// per distinct base of a lockfile.
struct Bases<'u> {
    index: std::collections::HashMap<&'u str, usize>,
    list: Vec<(String, bool)>,
}

impl<'u> Bases<'u> {
    fn id(&mut self, ctx: &Context, raw: &'u str) -> usize {
        if let Some(&i) = self.index.get(raw) {
            return i;
        }
        self.list.push((normalize(raw), ctx.is_public(raw)));
        self.index.insert(raw, self.list.len() - 1);
        self.list.len() - 1
    }
}

fn check_entries(
    ctx: &Context,
    file: &File,
    text: &Text,
    conf: &NpmConf,
    entries: &[Entry],
) -> (Vec<Misconfiguration>, Vec<PrivatePkg>) {
    let mut out = Vec::new();
    let mut private = Vec::new();
    let default_public = conf.default.as_ref().is_none_or(|d| ctx.is_public(&d.url));
    // A lockfile whose every package comes from one private registry was
    // made through a proxy of the public registry (Artifactory, Nexus,
    // Verdaccio uplinks): its unscoped names are mostly public ones, and
    // which are private can only be told by the name check, so CS-DEP-002
    // is left to mixed lockfiles, where the private ones stand out.
    let mut memo = Bases {
        index: std::collections::HashMap::new(),
        list: Vec::new(),
    };
    let ids: Vec<Option<usize>> = entries
        .iter()
        .map(|e| {
            e.resolved
                .as_deref()
                .filter(|r| is_http(r))
                .map(|r| memo.id(ctx, registry_base(r, &e.name)))
        })
        .collect();
    let memo = memo.list;
    let distinct: std::collections::BTreeSet<&str> = memo.iter().map(|(n, _)| n.as_str()).collect();
    let proxied = distinct.len() == 1 && memo.iter().all(|(_, public)| !public);
    // scope -> registry base -> entries
    let mut by_scope: BTreeMap<&str, BTreeMap<&str, Vec<&Entry>>> = BTreeMap::new();
    for (e, id) in entries.iter().zip(&ids) {
        let scope = scope_of(&e.name);
        let mapped = scope.and_then(|s| conf.scopes.get(s));
        let Some(id) = *id else {
            // No URL (yarn berry, pnpm on the default registry): the
            // registry is the configured one.
            // Only a scope mapped to a private registry marks its packages
            // private; an unscoped name through a private default registry
            // is most likely a proxied public one (see `proxied`).
            if mapped.is_some_and(|r| !ctx.is_public(&r.url)) {
                private.push(pkg(file, e));
            }
            continue;
        };
        let (base, public) = (&memo[id].0, memo[id].1);
        if !public {
            private.push(pkg(file, e));
        }
        if !e.integrity {
            out.push(NPM_NO_INTEGRITY.at(
                text,
                e.line,
                e.end,
                format!(
                    "'{}@{}' is resolved from {} without an integrity hash",
                    e.name, e.version, base
                ),
            ));
        }
        if let Some(scope) = scope {
            by_scope
                .entry(scope)
                .or_default()
                .entry(base.as_str())
                .or_default()
                .push(e);
            match mapped {
                Some(reg) => {
                    if !same_base(base, &reg.url) {
                        out.push(NPM_SCOPE_REGISTRY.at(
                            text,
                            e.line,
                            e.end,
                            format!(
                                "'{}' is resolved from {} but {scope} is mapped to {} ({})",
                                e.name, base, reg.url, reg.at
                            ),
                        ));
                    }
                }
                None => {
                    if !public && default_public {
                        out.push(NPM_FALLBACK.at(
                            text,
                            e.line,
                            e.end,
                            format!(
                                "'{}' is resolved from the private registry {} but no install config maps {scope}: without it the public registry answers for the scope",
                                e.name, base
                            ),
                        ));
                    } else if let Some(d) = conf.default.as_ref() {
                        if !(same_base(base, &d.url) || public && ctx.is_public(&d.url)) {
                            out.push(NPM_SCOPE_REGISTRY.at(
                                text,
                                e.line,
                                e.end,
                                format!(
                                    "'{}' is resolved from {} but {scope} is not mapped and the default registry is {} ({})",
                                    e.name, base, d.url, d.at
                                ),
                            ));
                        }
                    }
                }
            }
        } else if !public && !proxied {
            out.push(NPM_UNSCOPED_PRIVATE.at(
                text,
                e.line,
                e.end,
                format!(
                    "'{}' is unscoped and resolved from the private registry {}: a public package of that name wins wherever that registry is not configured",
                    e.name, base
                ),
            ));
        }
    }
    for (scope, regs) in by_scope {
        if regs.len() < 2 {
            continue;
        }
        // The registry most of the scope comes from is taken as the scope's;
        // the entries from the others are flagged.
        let main = regs
            .iter()
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(a.0)))
            .map(|(k, _)| *k)
            .unwrap_or_default();
        let all: Vec<&str> = regs.keys().copied().collect();
        for (base, es) in &regs {
            if *base == main {
                continue;
            }
            for e in es {
                out.push(NPM_SCOPE_SPLIT.at(
                    text,
                    e.line,
                    e.end,
                    format!(
                        "{scope} is resolved from {} registries ({}); '{}' comes from {base}",
                        all.len(),
                        all.join(", "),
                        e.name
                    ),
                ));
            }
        }
    }
    (out, private)
}

fn pkg(file: &File, e: &Entry) -> PrivatePkg {
    PrivatePkg {
        eco: Eco::Npm,
        name: e.name.clone(),
        version: e.version.clone(),
        path: file.path.to_string(),
        line: e.line,
    }
}

/// A JSON object read as its entries in file order (serde_json's map is
/// sorted), so that each entry's line is found by one forward search.
struct Ordered<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Ordered<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Ordered<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, e)) = m.next_entry::<String, T>()? {
                    v.push((k, e));
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<T> Default for Ordered<T> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

/// A `dependencies` entry of lockfileVersion 1.
#[derive(Deserialize, Default)]
struct LockEntry {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    integrity: Option<String>,
    /// v1 only: nested dependencies.
    #[serde(default)]
    dependencies: Option<serde_json::Value>,
}

/// A `packages` entry of lockfileVersion 2/3: only the fields read; the
/// rest (dependency maps, engines, …) is skipped without allocating.
#[derive(Deserialize, Default)]
struct LockEntryV3 {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    resolved: Option<String>,
    #[serde(default)]
    integrity: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    link: Option<bool>,
}

#[derive(Deserialize)]
struct PackageLock {
    #[serde(default)]
    packages: Option<Ordered<LockEntryV3>>,
    #[serde(default)]
    dependencies: Option<serde_json::Value>,
}

/// Finds `"key":` at or after `*pos`, moves `*pos` past it; the line of the
/// key and of `"resolved"` after it (when the entry has one).
fn locate(text: &Text, key: &str, pos: &mut usize, has_resolved: bool) -> (usize, usize) {
    // Keys without characters JSON escapes are found as they are (the
    // common case, no allocation beyond the needle).
    let plain = !key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
    let quoted = if plain {
        let mut q = String::with_capacity(key.len() + 2);
        q.push('"');
        q.push_str(key);
        q.push('"');
        q
    } else {
        serde_json::to_string(key).unwrap_or_default()
    };
    // The key, not the same string as a value: the next `"key"` followed
    // by a colon.
    let mut from = *pos;
    let at = loop {
        let Some(a) = text.find_from(&quoted, from) else {
            break None;
        };
        if text.s[a + quoted.len()..].trim_start().starts_with(':') {
            break Some(a);
        }
        from = a + 1;
    };
    let Some(at) = at else {
        return (0, 0);
    };
    *pos = at + quoted.len();
    let line = text.line_of(at);
    let end = if has_resolved {
        text.find_from("\"resolved\"", *pos)
            .map(|r| text.line_of(r))
            .filter(|&l| l - line < 8)
            .unwrap_or(line)
    } else {
        line
    };
    (line, end)
}

/// package-lock.json v2/v3 as npm writes it (two-space indentation, one
/// field a line): read line by line, which is several times faster than
/// the JSON parser on the multi-megabyte lockfiles of real projects.
/// `None` when the file is not in that layout (minified, hand-edited,
/// truncated: it must end with the closing braces npm writes), and the JSON
/// parser decides.
fn package_lock_fast(text: &Text) -> Option<Vec<Entry>> {
    let n = text.lines();
    let first = (1..=n).find(|&i| text.line(i) == "  \"packages\": {")?;
    let mut out = Vec::new();
    let mut cur: Option<(Entry, bool)> = None;
    let mut closed = false;
    for i in first + 1..=n {
        let line = text.line(i);
        if let Some(rest) = line.strip_prefix("    \"") {
            // `    "node_modules/x": {` opens an entry.
            let (key, tail) = rest.split_once("\": ")?;
            if key.contains('\\') || cur.is_some() {
                return None;
            }
            if tail == "{}," || tail == "{}" {
                continue;
            }
            if tail != "{" {
                return None;
            }
            let name = key
                .rsplit_once("node_modules/")
                .map(|(_, n)| n)
                .unwrap_or(key);
            let entry = Entry {
                name: name.to_string(),
                line: i,
                end: i,
                ..Default::default()
            };
            cur = Some((entry, key.is_empty()));
            continue;
        }
        if line == "    }," || line == "    }" {
            let (e, skip) = cur.take()?;
            if !skip {
                out.push(e);
            }
            continue;
        }
        if line == "  }" || line == "  }," {
            closed = true;
            break;
        }
        let (e, skip) = cur.as_mut()?;
        // Only the entry's own fields (six spaces), not nested maps.
        let Some(field) = line.strip_prefix("      \"") else {
            continue;
        };
        if field.starts_with(' ') {
            continue;
        }
        let Some((k, v)) = field.split_once("\": ") else {
            continue;
        };
        let v = v.trim_end_matches(',');
        let string = || {
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .filter(|v| !v.contains('\\'))
        };
        match k {
            "version" => e.version = string()?.to_string(),
            "name" => e.name = string()?.to_string(),
            "resolved" => {
                e.resolved = Some(string()?.to_string());
                e.end = i;
            }
            "integrity" => e.integrity = true,
            "link" => *skip |= v == "true",
            _ => {}
        }
    }
    let tail = text.s.trim_end();
    (closed && cur.is_none() && tail.ends_with('}')).then_some(out)
}

fn package_lock(text: &Text) -> Result<Vec<Entry>, String> {
    if let Some(entries) = package_lock_fast(text) {
        return Ok(entries);
    }
    let lock: PackageLock = serde_json::from_str(text.s).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut pos = 0;
    if let Some(packages) = lock.packages {
        for (key, e) in packages.0 {
            if key.is_empty() || e.link == Some(true) {
                continue;
            }
            let name = e.name.clone().unwrap_or_else(|| {
                key.rsplit_once("node_modules/")
                    .map(|(_, n)| n.to_string())
                    .unwrap_or_else(|| key.clone())
            });
            let (line, end) = locate(text, &key, &mut pos, e.resolved.is_some());
            out.push(Entry {
                name,
                version: e.version.unwrap_or_default(),
                integrity: e.integrity.is_some(),
                resolved: e.resolved,
                line,
                end,
            });
        }
        return Ok(out);
    }
    // lockfileVersion 1: nested `dependencies`.
    fn walk(
        v: &serde_json::Value,
        text: &Text,
        pos: &mut usize,
        out: &mut Vec<Entry>,
        depth: usize,
    ) {
        let Some(map) = v.as_object() else { return };
        if depth > 64 {
            return;
        }
        for (name, e) in map {
            let Ok(entry) = LockEntry::deserialize(e) else {
                continue;
            };
            let mut p = *pos;
            let (line, end) = locate(text, name, &mut p, entry.resolved.is_some());
            out.push(Entry {
                name: name.clone(),
                version: entry.version.unwrap_or_default(),
                integrity: entry.integrity.is_some(),
                resolved: entry.resolved,
                line,
                end,
            });
            if let Some(deps) = &entry.dependencies {
                walk(deps, text, &mut p, out, depth + 1);
            }
        }
    }
    if let Some(deps) = lock.dependencies {
        walk(&deps, text, &mut pos, &mut out, 0);
    }
    Ok(out)
}

/// yarn.lock: v1 (`resolved "url#sha1"`, `integrity`) or berry (YAML with
/// `resolution:`; no URLs, the registry is the configured one).
fn yarn_lock(text: &Text) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut cur: Option<Entry> = None;
    for n in 1..=text.lines() {
        let line = text.line(n);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            if let Some(e) = cur.take() {
                out.push(e);
            }
            if line.starts_with("__metadata") {
                continue;
            }
            // `"@a/b@^1.0.0", "@a/b@^1.1.0":` or `lodash@^4.17.21:`
            let first = line
                .trim_end_matches(':')
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            let name = match first.strip_prefix('@') {
                Some(rest) => rest.find('@').map(|i| &first[..=i]),
                None => first.find('@').map(|i| &first[..i]),
            };
            if let Some(name) = name.filter(|n| !n.is_empty()) {
                let is_npm = first[name.len()..]
                    .strip_prefix('@')
                    .is_some_and(|r| !r.contains(':') || r.starts_with("npm:"));
                if is_npm {
                    cur = Some(Entry {
                        name: name.to_string(),
                        line: n,
                        end: n,
                        ..Default::default()
                    });
                }
            }
            continue;
        }
        let Some(e) = cur.as_mut() else { continue };
        let t = line.trim();
        let (key, value) = match t.split_once(':') {
            Some((k, v)) if !k.contains(' ') => (k, v.trim()),
            _ => t.split_once(' ').unwrap_or((t, "")),
        };
        let value = unquote(value);
        match key {
            "version" => e.version = value.to_string(),
            "resolved" => {
                e.integrity |= value.rsplit_once('#').is_some_and(|(_, h)| {
                    h.len() >= 40 && h.bytes().all(|b| b.is_ascii_hexdigit())
                });
                e.resolved = Some(value.to_string());
                e.end = n;
            }
            "integrity" | "checksum" => e.integrity = true,
            _ => {}
        }
    }
    if let Some(e) = cur {
        out.push(e);
    }
    out
}

/// pnpm-lock.yaml `packages:` (v5 `/name/1.0.0:`, v6 `/name@1.0.0:`, v9
/// `name@1.0.0:`), with `resolution: {integrity: …, tarball: …}`.
fn pnpm_lock(text: &Text) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut in_packages = false;
    let mut cur: Option<Entry> = None;
    for n in 1..=text.lines() {
        let line = text.line(n);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            if let Some(e) = cur.take() {
                out.push(e);
            }
            in_packages = line.trim_end() == "packages:";
            continue;
        }
        if !in_packages {
            continue;
        }
        if indent == 2 {
            if let Some(e) = cur.take() {
                out.push(e);
            }
            let key = unquote(line.trim().trim_end_matches(':'));
            let key = key.strip_prefix('/').unwrap_or(key);
            // Peer suffixes: `name@1.0.0(react@18.0.0)`.
            let key = key.split('(').next().unwrap_or(key);
            let split = if let Some(rest) = key.strip_prefix('@') {
                rest.find(['@', '/'].as_ref()).and_then(|i| {
                    // Scoped: `@a/b@1.0.0` or v5 `@a/b/1.0.0`.
                    let after_scope = rest[i + 1..].find(['@', '/'].as_ref())?;
                    Some(i + 1 + after_scope + 1)
                })
            } else {
                key.find(['@', '/'].as_ref())
            };
            if let Some(i) = split.filter(|&i| i > 0 && i < key.len()) {
                cur = Some(Entry {
                    name: key[..i].to_string(),
                    version: key[i + 1..].to_string(),
                    line: n,
                    end: n,
                    ..Default::default()
                });
            }
            continue;
        }
        let Some(e) = cur.as_mut() else { continue };
        let t = line.trim();
        if let Some(res) = t.strip_prefix("resolution:") {
            let res = res.trim().trim_start_matches('{').trim_end_matches('}');
            for part in res.split(',') {
                if let Some((k, v)) = part.split_once(':') {
                    match k.trim() {
                        "integrity" => e.integrity = true,
                        "tarball" => {
                            e.resolved = Some(unquote(v).to_string());
                            e.end = n;
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    if let Some(e) = cur {
        out.push(e);
    }
    // Entries without a tarball URL came from the configured registry and
    // carry their integrity: only the tarball ones can lack it.
    for e in &mut out {
        if e.resolved.is_none() {
            e.integrity = true;
        }
    }
    out
}

#[derive(Deserialize)]
struct BunLock {
    #[serde(default)]
    packages: Ordered<serde_json::Value>,
}

/// bun.lock (JSONC): `"packages": { "key": ["name@version", "registry", {…}, "sha512-…"] }`;
/// an empty registry is the configured default.
fn bun_lock(text: &Text) -> Result<Vec<Entry>, String> {
    let json = strip_jsonc(text.s);
    let lock: BunLock = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut pos = text.find_from("\"packages\"", 0).unwrap_or(0);
    for (key, v) in lock.packages.0 {
        let Some(arr) = v.as_array() else { continue };
        let Some(spec) = arr.first().and_then(|s| s.as_str()) else {
            continue;
        };
        let at = spec.get(1..).and_then(|s| s.find('@')).map(|i| i + 1);
        let Some(at) = at else { continue };
        let (name, version) = (&spec[..at], &spec[at + 1..]);
        if version.contains(':') {
            // workspace:, git:, file: … are not registry packages.
            continue;
        }
        let registry = arr.get(1).and_then(|r| r.as_str()).unwrap_or("");
        let integrity = arr
            .get(3)
            .and_then(|r| r.as_str())
            .is_some_and(|s| !s.is_empty());
        let (line, _) = locate(text, &key, &mut pos, false);
        out.push(Entry {
            name: name.to_string(),
            version: version.to_string(),
            resolved: (!registry.is_empty()).then(|| registry.to_string()),
            // No URL: integrity is the registry's, as for pnpm.
            integrity: integrity || registry.is_empty(),
            line,
            end: line,
        });
    }
    Ok(out)
}

/// JSONC to JSON: drops comments and trailing commas, outside strings.
pub(crate) fn strip_jsonc(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            out.push(c);
            if c == b'\\' {
                if let Some(&n) = b.get(i + 1) {
                    out.push(n);
                    i += 1;
                }
            } else if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_str = true;
                out.push(c);
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    // Keep line breaks so that lines still match.
                    if b[i] == b'\n' {
                        out.push(b'\n');
                    }
                    i += 1;
                }
                i += 2;
                continue;
            }
            b',' => {
                let next = b[i + 1..].iter().find(|c| !c.is_ascii_whitespace());
                if !matches!(next, Some(b'}') | Some(b']')) {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(text: &Text) -> Vec<(String, String, Option<String>, bool, usize, usize)> {
        let lock: PackageLock = serde_json::from_str(text.s).expect("json");
        let mut pos = 0;
        lock.packages
            .map(|p| p.0)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, e)| !k.is_empty() && e.link != Some(true))
            .map(|(k, e)| {
                let (line, end) = locate(text, &k, &mut pos, e.resolved.is_some());
                let name = e.name.unwrap_or_else(|| {
                    k.rsplit_once("node_modules/")
                        .map(|(_, n)| n.to_string())
                        .unwrap_or(k)
                });
                (
                    name,
                    e.version.unwrap_or_default(),
                    e.resolved,
                    e.integrity.is_some(),
                    line,
                    end,
                )
            })
            .collect()
    }

    #[test]
    fn fast_package_lock_reader_agrees_with_the_json_parser() {
        let lock = "{\n  \"name\": \"app\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"app\",\n      \"dependencies\": {\n        \"@acme/lib\": \"^1.0.0\"\n      }\n    },\n    \"node_modules/@acme/lib\": {\n      \"version\": \"1.0.0\",\n      \"resolved\": \"https://npm.acme.internal/@acme/lib/-/lib-1.0.0.tgz\",\n      \"integrity\": \"sha512-A\",\n      \"dependencies\": {\n        \"x\": \"1\"\n      }\n    },\n    \"node_modules/linked\": {\n      \"resolved\": \"packages/linked\",\n      \"link\": true\n    },\n    \"node_modules/x\": {\n      \"version\": \"1.0.0\",\n      \"resolved\": \"https://registry.npmjs.org/x/-/x-1.0.0.tgz\"\n    }\n  }\n}\n";
        let text = Text::new(lock);
        let fast: Vec<_> = package_lock_fast(&text)
            .expect("npm layout")
            .into_iter()
            .map(|e| (e.name, e.version, e.resolved, e.integrity, e.line, e.end))
            .collect();
        assert_eq!(fast, slow(&text));
        assert_eq!(fast.len(), 2);
        // Truncated or minified: not the fast path.
        assert!(package_lock_fast(&Text::new(&lock[..lock.len() - 8])).is_none());
        let minified: serde_json::Value = serde_json::from_str(lock).expect("json");
        let min = minified.to_string();
        assert!(package_lock_fast(&Text::new(&min)).is_none());
        assert_eq!(package_lock(&Text::new(&min)).expect("parsed").len(), 2);
    }

    #[test]
    fn registry_base_of_tarball_urls() {
        assert_eq!(
            registry_base("https://r.internal/api/npm/@a/b/-/b-1.tgz", "@a/b"),
            "https://r.internal/api/npm/"
        );
        assert_eq!(
            registry_base("https://r.internal/@a%2fb/-/b-1.tgz", "@a/b"),
            "https://r.internal/"
        );
        assert_eq!(
            registry_base("https://r.internal/x/y.tgz#abc", "z"),
            "https://r.internal/"
        );
        assert_eq!(
            registry_base("https://r.internal", "z"),
            "https://r.internal"
        );
    }
}
