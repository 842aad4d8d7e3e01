//! Python: pip (requirements files, pip.conf), uv (pyproject.toml, uv.toml,
//! uv.lock), Poetry (pyproject.toml, poetry.lock), pipenv (Pipfile,
//! Pipfile.lock).
//!
//! The lockfile readers keep what `customs-lang` drops: the index/source of
//! each package and the line of its entry.

use crate::checks::{
    PIPENV_NOT_PINNED, PIPENV_SEARCH_ALL, PIP_EXTRA_INDEX_CONF, PIP_EXTRA_INDEX_REQ,
    POETRY_NOT_EXPLICIT, POETRY_SUPPLEMENTAL, UV_NOT_EXPLICIT, UV_UNSAFE_STRATEGY,
};
use crate::public::Eco;
use crate::text::Text;
use crate::{malformed, Context, File, PrivatePkg};
use customs_model::finding::Misconfiguration;
use toml::Value;

type Out = (Vec<Misconfiguration>, Vec<PrivatePkg>);

pub(crate) fn scan(ctx: &Context, file: &File) -> Out {
    let name = file.path.rsplit('/').next().unwrap_or(file.path);
    let text = Text::new(&file.text);
    match name {
        "pip.conf" | "pip.ini" => (pip_conf(&text), Vec::new()),
        "pyproject.toml" | "uv.toml" => match file.text.parse::<toml::Table>() {
            Ok(doc) => (pyproject(ctx, &text, &doc, name == "uv.toml"), Vec::new()),
            Err(e) => malformed(file.path, e.message()),
        },
        "uv.lock" => py_lock(ctx, file, &text, false),
        "poetry.lock" => py_lock(ctx, file, &text, true),
        "Pipfile" => pipfile(ctx, file, &text),
        "Pipfile.lock" => pipfile_lock(ctx, file, &text),
        _ => (requirements(&text), Vec::new()),
    }
}

/// `--extra-index-url URL`, `--extra-index-url=URL` in a requirements file.
fn requirements(text: &Text) -> Vec<Misconfiguration> {
    let mut out = Vec::new();
    for n in 1..=text.lines() {
        let line = text.line(n);
        let code = line.split(" #").next().unwrap_or(line).trim();
        if code.starts_with('#') {
            continue;
        }
        if let Some(url) = option_value(code, "--extra-index-url") {
            out.push(PIP_EXTRA_INDEX_REQ.at(
                text,
                n,
                n,
                format!("pip merges {url} with the main index and installs the highest version found on either"),
            ));
        }
    }
    out
}

/// The value of `--opt VALUE` or `--opt=VALUE` in a command line.
pub(crate) fn option_value<'a>(line: &'a str, opt: &str) -> Option<&'a str> {
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if w == opt {
            return Some(words.next().unwrap_or(""));
        }
        if let Some(v) = w.strip_prefix(opt).and_then(|v| v.strip_prefix('=')) {
            return Some(v);
        }
    }
    None
}

/// pip.conf / pip.ini: `extra-index-url` (or `extra_index_url`) in any
/// section, with its continuation lines.
fn pip_conf(text: &Text) -> Vec<Misconfiguration> {
    let mut out = Vec::new();
    let mut n = 1;
    while n <= text.lines() {
        let line = text.line(n);
        let t = line.trim();
        let key = t.split(['=', ':']).next().unwrap_or("").trim();
        if !line.starts_with([' ', '\t']) && (key == "extra-index-url" || key == "extra_index_url")
        {
            let mut end = n;
            while end < text.lines()
                && text.line(end + 1).starts_with([' ', '\t'])
                && !text.line(end + 1).trim().is_empty()
            {
                end += 1;
            }
            let value = t
                .split_once(['=', ':'])
                .map(|(_, v)| v.trim())
                .unwrap_or("");
            out.push(PIP_EXTRA_INDEX_CONF.at(
                text,
                n,
                end,
                format!("pip.conf adds the extra index {value}: pip merges it with index-url and installs the highest version found on either"),
            ));
            n = end + 1;
            continue;
        }
        n += 1;
    }
    out
}

/// Lines of the headers `[[name]]` in order.
fn array_headers(text: &Text, header: &str) -> Vec<usize> {
    (1..=text.lines())
        .filter(|&n| {
            let l = text.line(n).trim();
            l.strip_prefix(header)
                .is_some_and(|rest| rest.trim().is_empty() || rest.trim().starts_with('#'))
        })
        .collect()
}

/// Line of `key =` inside the table `[section]` (or at the top with an
/// empty section); 0 when not found.
fn key_line(text: &Text, section: &str, key: &str) -> usize {
    let mut current = String::new();
    for n in 1..=text.lines() {
        let l = text.line(n).trim();
        if l.starts_with('[') {
            current = l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            continue;
        }
        if current == section {
            let k = l.split('=').next().unwrap_or("").trim().trim_matches('"');
            if k == key && l.contains('=') {
                return n;
            }
        }
    }
    0
}

fn get<'a>(v: &'a toml::Table, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut cur = v.get(*first)?;
    for p in rest {
        cur = cur.as_table()?.get(*p)?;
    }
    Some(cur)
}

/// pyproject.toml (`[tool.uv]`, `[tool.poetry]`) or uv.toml (the same keys
/// as `[tool.uv]`, at the top).
fn pyproject(
    ctx: &Context,
    text: &Text,
    doc: &toml::Table,
    uv_toml: bool,
) -> Vec<Misconfiguration> {
    let mut out = Vec::new();
    let uv = if uv_toml {
        Some(doc)
    } else {
        get(doc, &["tool", "uv"]).and_then(Value::as_table)
    };
    let uv_section = if uv_toml { "" } else { "tool.uv" };
    if let Some(uv) = uv {
        let header = if uv_toml {
            "[[index]]"
        } else {
            "[[tool.uv.index]]"
        };
        let lines = array_headers(text, header);
        let pinned = sources_pinned(doc, uv_toml);
        if let Some(indexes) = uv.get("index").and_then(Value::as_array) {
            for (i, idx) in indexes.iter().enumerate() {
                let Some(t) = idx.as_table() else { continue };
                let url = t.get("url").and_then(Value::as_str).unwrap_or("");
                let name = t.get("name").and_then(Value::as_str).unwrap_or("");
                let explicit = t.get("explicit").and_then(Value::as_bool).unwrap_or(false);
                let default = t.get("default").and_then(Value::as_bool).unwrap_or(false);
                if url.is_empty() || explicit || default || ctx.is_public(url) {
                    continue;
                }
                let line = lines
                    .get(i)
                    .copied()
                    .unwrap_or_else(|| key_line(text, uv_section, "index"));
                let end = if line == 0 { 0 } else { text.block_end(line) };
                let mut pkgs: Vec<&str> = pinned
                    .iter()
                    .filter(|(_, idx)| idx == name)
                    .map(|(p, _)| p.as_str())
                    .collect();
                pkgs.sort_unstable();
                let pinned_note = if pkgs.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} pinned to it, but other indexes are searched for every other name)",
                        pkgs.join(", ")
                    )
                };
                out.push(UV_NOT_EXPLICIT.at(
                    text,
                    line,
                    end,
                    format!("index '{name}' ({url}) is not explicit: uv searches it for every package and nothing ties private packages to it{pinned_note}"),
                ));
            }
        }
        // The deprecated `extra-index-url` of [tool.uv]: an index like any
        // other, not explicit.
        if let Some(v) = uv.get("extra-index-url") {
            let urls: Vec<&str> = match v {
                Value::String(s) => vec![s.as_str()],
                Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            for url in urls.into_iter().filter(|u| !ctx.is_public(u)) {
                let line = key_line(text, uv_section, "extra-index-url");
                out.push(UV_NOT_EXPLICIT.at(
                    text,
                    line,
                    line,
                    format!("extra-index-url {url} is an index uv searches for every package; nothing ties private packages to it"),
                ));
            }
        }
        if let Some(s) = uv.get("index-strategy").and_then(Value::as_str) {
            if s.starts_with("unsafe") {
                let line = key_line(text, uv_section, "index-strategy");
                out.push(UV_UNSAFE_STRATEGY.at(
                    text,
                    line,
                    line,
                    format!("index-strategy = \"{s}\": uv considers every index for every package and can take a public name over the private package"),
                ));
            }
        }
    }
    if let Some(sources) = get(doc, &["tool", "poetry", "source"]).and_then(Value::as_array) {
        let lines = array_headers(text, "[[tool.poetry.source]]");
        for (i, src) in sources.iter().enumerate() {
            let Some(t) = src.as_table() else { continue };
            let name = t.get("name").and_then(Value::as_str).unwrap_or("");
            let url = t.get("url").and_then(Value::as_str).unwrap_or("");
            if url.is_empty() || ctx.is_public(url) {
                continue;
            }
            let priority = t
                .get("priority")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    // Poetry < 1.5: `default = true`, `secondary = true`.
                    if t.get("default").and_then(Value::as_bool) == Some(true) {
                        Some("default".into())
                    } else if t.get("secondary").and_then(Value::as_bool) == Some(true) {
                        Some("secondary".into())
                    } else {
                        None
                    }
                });
            let line = lines.get(i).copied().unwrap_or(0);
            let end = if line == 0 { 0 } else { text.block_end(line) };
            match priority.as_deref() {
                Some("explicit") => {}
                // `default` replaces PyPI altogether: every package comes
                // from that source, there is no public name to win.
                Some("default") => {}
                Some(p @ ("supplemental" | "secondary")) => out.push(POETRY_SUPPLEMENTAL.at(
                    text,
                    line,
                    end,
                    format!("source '{name}' ({url}) has priority \"{p}\": Poetry asks it only for names the primary sources (PyPI) do not have"),
                )),
                p => out.push(POETRY_NOT_EXPLICIT.at(
                    text,
                    line,
                    end,
                    format!(
                        "source '{name}' ({url}) has priority \"{}\": it is searched for every package and private packages are not tied to it",
                        p.unwrap_or("primary")
                    ),
                )),
            }
        }
    }
    out
}

/// `[tool.uv.sources]`: package → index name.
fn sources_pinned(doc: &toml::Table, uv_toml: bool) -> Vec<(String, String)> {
    let sources = if uv_toml {
        doc.get("sources")
    } else {
        get(doc, &["tool", "uv", "sources"])
    };
    let Some(t) = sources.and_then(Value::as_table) else {
        return Vec::new();
    };
    t.iter()
        .filter_map(|(k, v)| {
            let idx = v.as_table()?.get("index")?.as_str()?;
            Some((k.clone(), idx.to_string()))
        })
        .collect()
}

/// A `[[package]]` of uv.lock or poetry.lock: only the fields read (the
/// typed form skips the rest, faster than a whole `toml::Table`).
#[derive(serde::Deserialize)]
struct LockPkg {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    source: Option<LockSource>,
}

#[derive(serde::Deserialize)]
struct LockSource {
    /// uv.lock `source = { registry = "…" }`.
    #[serde(default)]
    registry: Option<String>,
    /// poetry.lock `[package.source] type = "legacy", url = "…"`.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(serde::Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<LockPkg>,
}

/// uv.lock (`source = { registry = … }`) and poetry.lock (`[package.source]
/// type = "legacy"`): packages of a private index, for the name check.
fn py_lock(ctx: &Context, file: &File, text: &Text, poetry: bool) -> Out {
    let lock: Lock = match toml::from_str(&file.text) {
        Ok(d) => d,
        Err(e) => return malformed(file.path, e.message()),
    };
    let lines = array_headers(text, "[[package]]");
    let mut private = Vec::new();
    for (i, p) in lock.package.into_iter().enumerate() {
        let Some(src) = p.source else { continue };
        let url = if poetry {
            src.url.filter(|_| src.kind.as_deref() == Some("legacy"))
        } else {
            src.registry
        };
        if url.is_some_and(|u| !u.is_empty() && !ctx.is_public(&u)) {
            private.push(PrivatePkg {
                eco: Eco::PyPI,
                name: p.name,
                version: p.version,
                path: file.path.to_string(),
                line: lines.get(i).copied().unwrap_or(0),
            });
        }
    }
    (Vec::new(), private)
}

/// Pipfile `[[source]]` names that are private.
fn pipfile_private_sources(ctx: &Context, doc: &toml::Table) -> (usize, Vec<String>) {
    let sources = doc.get("source").and_then(Value::as_array);
    let all = sources.map(Vec::len).unwrap_or(0);
    let private = sources
        .into_iter()
        .flatten()
        .filter_map(Value::as_table)
        .filter(|t| {
            t.get("url")
                .and_then(Value::as_str)
                .is_some_and(|u| !ctx.is_public(u))
        })
        .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();
    (all, private)
}

fn pipfile(ctx: &Context, file: &File, text: &Text) -> Out {
    let doc: toml::Table = match file.text.parse() {
        Ok(d) => d,
        Err(e) => return malformed(file.path, e.message()),
    };
    let mut out = Vec::new();
    let (all, private_sources) = pipfile_private_sources(ctx, &doc);
    if all < 2 || private_sources.is_empty() {
        return (out, Vec::new());
    }
    if get(&doc, &["pipenv", "install_search_all_sources"]).and_then(Value::as_bool) == Some(true) {
        let line = key_line(text, "pipenv", "install_search_all_sources");
        out.push(PIPENV_SEARCH_ALL.at(
            text,
            line,
            line,
            format!("pipenv looks for every package on all {all} sources, private ones ({}) included, and takes the best match", private_sources.join(", ")),
        ));
    }
    // Which packages the lock takes from a private index.
    let lock_path = format!("{}Pipfile.lock", file.dir());
    let Some(lock) = ctx.file(&lock_path) else {
        return (out, Vec::new());
    };
    let Ok(lock) = serde_json::from_str::<serde_json::Value>(&lock.text) else {
        return (out, Vec::new());
    };
    for (section, lock_section) in [("packages", "default"), ("dev-packages", "develop")] {
        let Some(entries) = lock.get(lock_section).and_then(|v| v.as_object()) else {
            continue;
        };
        let declared = doc.get(section).and_then(Value::as_table);
        for (name, e) in entries {
            let Some(index) = e.get("index").and_then(|i| i.as_str()) else {
                continue;
            };
            if !private_sources.iter().any(|s| s == index) {
                continue;
            }
            let decl = declared.and_then(|d| {
                d.iter()
                    .find(|(k, _)| normalize_py(k) == normalize_py(name))
            });
            let Some((decl_name, decl)) = decl else {
                // A transitive dependency: pipenv pins only declared
                // packages, so it cannot be fixed here; the lock shows it.
                continue;
            };
            let pinned = decl
                .as_table()
                .and_then(|t| t.get("index"))
                .and_then(Value::as_str)
                .is_some_and(|i| i == index);
            if !pinned {
                let line = key_line(text, section, decl_name);
                out.push(PIPENV_NOT_PINNED.at(
                    text,
                    line,
                    line,
                    format!("'{decl_name}' comes from the private index '{index}' (Pipfile.lock) but the Pipfile does not pin it there"),
                ));
            }
        }
    }
    (out, Vec::new())
}

/// Pipfile.lock: packages with `"index"` naming a private source, for the
/// name check.
fn pipfile_lock(ctx: &Context, file: &File, text: &Text) -> Out {
    let lock: serde_json::Value = match serde_json::from_str(&file.text) {
        Ok(v) => v,
        Err(e) => return malformed(file.path, e),
    };
    let sources = lock
        .pointer("/_meta/sources")
        .and_then(|s| s.as_array())
        .cloned()
        .unwrap_or_default();
    let private: Vec<&str> = sources
        .iter()
        .filter(|s| {
            s.get("url")
                .and_then(|u| u.as_str())
                .is_some_and(|u| !ctx.is_public(u))
        })
        .filter_map(|s| s.get("name").and_then(|n| n.as_str()))
        .collect();
    let mut out = Vec::new();
    for section in ["default", "develop"] {
        let Some(entries) = lock.get(section).and_then(|v| v.as_object()) else {
            continue;
        };
        let from = text.find_from(&format!("\"{section}\""), 0).unwrap_or(0);
        for (name, e) in entries {
            let index = e.get("index").and_then(|i| i.as_str()).unwrap_or("");
            if !private.contains(&index) {
                continue;
            }
            let quoted = serde_json::to_string(name).unwrap_or_default();
            let line = text
                .find_from(&format!("{quoted}:"), from)
                .map(|o| text.line_of(o))
                .unwrap_or(0);
            let version = e
                .get("version")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .trim_start_matches("==")
                .to_string();
            out.push(PrivatePkg {
                eco: Eco::PyPI,
                name: name.clone(),
                version,
                path: file.path.to_string(),
                line,
            });
        }
    }
    (Vec::new(), out)
}

/// PEP 503 name normalization (customs-model's, which the advisory
/// lookups use too).
pub(crate) fn normalize_py(name: &str) -> String {
    customs_model::normalize_name("PyPI", name)
}
