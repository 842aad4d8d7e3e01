//! Go: the modules a `go.mod` requires against `GOPRIVATE`, `GONOPROXY`,
//! `GONOSUMDB`, `GOPROXY` and `GOSUMDB`, taken (lowest precedence first)
//! from `go.env` files (`$GOROOT/go.env`), `go env -w` files
//! (`…/.config/go/env`), Dockerfile `ENV`/`ARG`, and the image `Env`.

use crate::checks::{GO_PUBLIC_PROXY, GO_PUBLIC_SUMDB};
use crate::docker::dockerfile_vars;
use crate::text::Text;
use crate::{Context, File, PrivatePkg};
use customs_model::finding::Misconfiguration;
use std::collections::BTreeMap;

const KEYS: [&str; 6] = [
    "GOPRIVATE",
    "GONOPROXY",
    "GONOSUMDB",
    "GOPROXY",
    "GOSUMDB",
    "GOFLAGS",
];

/// Public Go module proxies.
const PUBLIC_PROXIES: [&str; 5] = [
    "proxy.golang.org",
    "goproxy.io",
    "goproxy.cn",
    "mirrors.aliyun.com",
    "gocenter.io",
];

/// Setting → (value, where it was set).
type GoEnv = BTreeMap<&'static str, (String, String)>;

fn go_env(ctx: &Context) -> GoEnv {
    let mut env = GoEnv::new();
    let mut set = |k: &str, v: &str, at: String| {
        if let Some(key) = KEYS.iter().find(|x| **x == k) {
            env.insert(key, (v.trim().to_string(), at));
        }
    };
    for f in ctx.files.iter().filter(|f| f.kind == "go-env") {
        for (i, line) in f.text.lines().enumerate() {
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim().trim_matches('"').trim_matches('\'');
                set(k.trim(), v, format!("{}:{}", f.path, i + 1));
            }
        }
    }
    for (k, v, at) in dockerfile_vars(ctx) {
        set(&k, &v, at);
    }
    for (k, v) in ctx.env {
        set(k, v, format!("image Env {k}"));
    }
    env
}

/// Go's `module.MatchPrefixPatterns`: comma-separated globs, each matched
/// against as many leading path elements as it has.
pub(crate) fn matches(patterns: &str, path: &str) -> bool {
    patterns
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .any(|pat| {
            let pat = pat.trim_end_matches('/');
            let n = pat.split('/').count();
            let elems: Vec<&str> = path.split('/').collect();
            if elems.len() < n {
                return false;
            }
            pat.split('/')
                .zip(&elems)
                .all(|(p, e)| glob(p.as_bytes(), e.as_bytes()))
        })
}

/// `path.Match` within one element: `*`, `?`, no classes (rare in Go
/// patterns; a `[` is matched literally).
fn glob(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// `require` lines of a go.mod: (module path, line).
fn requires(text: &Text) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for n in 1..=text.lines() {
        let l = text.line(n);
        let l = l.split("//").next().unwrap_or(l).trim();
        if in_block {
            if l.starts_with(')') {
                in_block = false;
            } else if let Some(m) = l.split_whitespace().next() {
                out.push((m.trim_matches('"').to_string(), n));
            }
            continue;
        }
        if let Some(rest) = l.strip_prefix("require") {
            let rest = rest.trim();
            if rest.starts_with('(') {
                in_block = true;
            } else if let Some(m) = rest.split_whitespace().next() {
                out.push((m.trim_matches('"').to_string(), n));
            }
        }
    }
    out
}

pub(crate) fn scan(ctx: &Context, file: &File) -> (Vec<Misconfiguration>, Vec<PrivatePkg>) {
    if file.kind != "gomod" {
        return (Vec::new(), Vec::new());
    }
    let env = go_env(ctx);
    let get = |k: &str| env.get(k).map(|(v, at)| (v.as_str(), at.as_str()));
    let private = get("GOPRIVATE");
    let noproxy = get("GONOPROXY");
    let nosumdb = get("GONOSUMDB");
    if private.is_none() && noproxy.is_none() {
        return (Vec::new(), Vec::new());
    }
    let proxy = get("GOPROXY")
        .map(|(v, _)| v)
        .unwrap_or("https://proxy.golang.org,direct");
    let sumdb_off = get("GOSUMDB").is_some_and(|(v, _)| v == "off")
        || get("GOFLAGS").is_some_and(|(v, _)| v.contains("-insecure"));
    // The first proxy the go command asks (`,` and `|` separate fallbacks).
    let first_proxy = proxy
        .split([',', '|'])
        .map(str::trim)
        .find(|p| !p.is_empty())
        .unwrap_or("off");
    let first_public = PUBLIC_PROXIES.iter().any(|h| first_proxy.contains(h));
    let text = Text::new(&file.text);
    let mut out = Vec::new();
    for (module, line) in requires(&text) {
        let is_private = private.is_some_and(|(p, _)| matches(p, &module))
            || noproxy.is_some_and(|(p, _)| matches(p, &module));
        if !is_private {
            continue;
        }
        let direct = match noproxy {
            Some((p, _)) => matches(p, &module),
            None => private.is_some_and(|(p, _)| matches(p, &module)),
        };
        if !direct && first_public {
            let why = match noproxy {
                Some((p, at)) => format!("GONOPROXY={p} ({at}) does not cover it"),
                None => "GONOPROXY does not cover it".into(),
            };
            out.push(GO_PUBLIC_PROXY.at(
                &text,
                line,
                line,
                format!("{module} is private (GOPRIVATE) but {why}: it is fetched through {first_proxy}"),
            ));
        }
        let no_sum = match nosumdb {
            Some((p, _)) => matches(p, &module),
            None => private.is_some_and(|(p, _)| matches(p, &module)),
        };
        if !no_sum && !sumdb_off {
            let why = match nosumdb {
                Some((p, at)) => format!("GONOSUMDB={p} ({at}) does not cover it"),
                None => "neither GOPRIVATE nor GONOSUMDB covers it".into(),
            };
            out.push(GO_PUBLIC_SUMDB.at(
                &text,
                line,
                line,
                format!("{module} is fetched privately but {why}: its path is sent to the public checksum database"),
            ));
        }
    }
    (out, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_patterns() {
        assert!(matches("corp.example.com", "corp.example.com/x/y"));
        assert!(matches(
            "*.corp.example.com,github.com/acme",
            "github.com/acme/lib"
        ));
        assert!(matches("*.corp.example.com", "git.corp.example.com/lib"));
        assert!(!matches("*.corp.example.com", "corp.example.com/lib"));
        assert!(!matches("github.com/acme", "github.com/acmex/lib"));
        assert!(matches("github.com/acme/*", "github.com/acme/lib/v2"));
        assert!(!matches("", "github.com/acme"));
    }
}
