//! Dockerfiles and the image environment: pip and uv index settings
//! (`PIP_EXTRA_INDEX_URL`, `pip install --extra-index-url`,
//! `UV_INDEX_STRATEGY`), and the Go variables `golang` reads.
//!
//! A small instruction splitter of its own (line continuations, the
//! `escape` directive's default `\`): `customs-misconfig` parses Dockerfiles
//! fully, but this scanner needs only ENV/ARG/RUN with their lines, and
//! must not depend on a crate the scanner sits beside.

use crate::checks::{PIP_EXTRA_INDEX_CONF, UV_UNSAFE_STRATEGY};
use crate::python::option_value;
use crate::text::Text;
use crate::{Context, File, PrivatePkg};
use customs_model::finding::Misconfiguration;

/// One instruction: keyword (upper case), arguments joined, first and last
/// line.
pub(crate) struct Instruction {
    pub keyword: String,
    pub args: String,
    pub start: usize,
    pub end: usize,
}

pub(crate) fn instructions(text: &Text) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut n = 1;
    let total = text.lines();
    while n <= total {
        let line = text.line(n);
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            n += 1;
            continue;
        }
        let start = n;
        let mut joined = String::new();
        let mut cur = t.to_string();
        loop {
            if let Some(stripped) = cur.strip_suffix('\\') {
                joined.push_str(stripped);
                joined.push(' ');
                n += 1;
                if n > total {
                    break;
                }
                // Comment lines inside a continuation are dropped.
                while n <= total && text.line(n).trim_start().starts_with('#') {
                    n += 1;
                }
                cur = text.line(n).trim().to_string();
                if n > total {
                    break;
                }
            } else {
                joined.push_str(&cur);
                break;
            }
        }
        let end = n.min(total);
        let (kw, args) = joined
            .split_once(char::is_whitespace)
            .unwrap_or((&joined, ""));
        out.push(Instruction {
            keyword: kw.to_ascii_uppercase(),
            args: args.trim().to_string(),
            start,
            end,
        });
        n += 1;
    }
    out
}

/// `KEY=VALUE …` or the legacy `KEY VALUE` of ENV; `KEY[=default]` of ARG.
pub(crate) fn assignments(ins: &Instruction) -> Vec<(String, String)> {
    let args = ins.args.trim();
    if ins.keyword == "ENV" && !args.split_whitespace().next().unwrap_or("").contains('=') {
        return match args.split_once(char::is_whitespace) {
            Some((k, v)) => vec![(k.to_string(), unquote(v.trim()).to_string())],
            None => Vec::new(),
        };
    }
    split_words(args)
        .into_iter()
        .filter_map(|w| {
            let (k, v) = w.split_once('=')?;
            Some((k.to_string(), unquote(v).to_string()))
        })
        .collect()
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(v)
}

/// Words split on white space outside quotes (quotes kept).
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                cur.push(c);
            }
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                cur.push(c);
            }
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
    out
}

/// Whether an environment variable makes pip or uv merge indexes.
fn env_finding(
    key: &str,
    value: &str,
    is_public: impl Fn(&str) -> bool,
) -> Option<(&'static crate::Check, String)> {
    match key {
        "PIP_EXTRA_INDEX_URL" if !value.trim().is_empty() => {
            let private: Vec<&str> = value.split_whitespace().filter(|u| !is_public(u)).collect();
            (!private.is_empty()).then(|| {
                (
                    &PIP_EXTRA_INDEX_CONF,
                    format!("PIP_EXTRA_INDEX_URL={value}: pip merges these indexes with the main one and installs the highest version found on any"),
                )
            })
        }
        "UV_INDEX_STRATEGY" if value.trim().starts_with("unsafe") => Some((
            &UV_UNSAFE_STRATEGY,
            format!("UV_INDEX_STRATEGY={value}: uv considers every index for every package"),
        )),
        _ => None,
    }
}

pub(crate) fn scan(ctx: &Context, file: &File) -> (Vec<Misconfiguration>, Vec<PrivatePkg>) {
    let text = Text::new(&file.text);
    let mut out = Vec::new();
    for ins in instructions(&text) {
        match ins.keyword.as_str() {
            "ENV" | "ARG" => {
                for (k, v) in assignments(&ins) {
                    if let Some((check, msg)) = env_finding(&k, &v, |u| ctx.is_public(u)) {
                        out.push(check.at(&text, ins.start, ins.end, msg));
                    }
                }
            }
            "RUN" => {
                let a = &ins.args;
                let pip = a.contains("pip ") || a.contains("pip3 ") || a.contains("pip install");
                if pip {
                    if let Some(url) =
                        option_value(a, "--extra-index-url").filter(|u| !ctx.is_public(u))
                    {
                        out.push(PIP_EXTRA_INDEX_CONF.at(
                            &text,
                            ins.start,
                            ins.end,
                            format!("pip is run with --extra-index-url {url}: it merges that index with the main one and installs the highest version found on either"),
                        ));
                    }
                    if a.contains("extra-index-url") && a.contains("pip config set") {
                        out.push(PIP_EXTRA_INDEX_CONF.at(
                            &text,
                            ins.start,
                            ins.end,
                            "'pip config set …extra-index-url' writes an extra index into pip.conf: pip merges it with the main one".into(),
                        ));
                    }
                }
                if let Some(s) =
                    option_value(a, "--index-strategy").filter(|s| s.starts_with("unsafe"))
                {
                    out.push(UV_UNSAFE_STRATEGY.at(
                        &text,
                        ins.start,
                        ins.end,
                        format!("uv is run with --index-strategy {s}: it considers every index for every package"),
                    ));
                }
            }
            _ => {}
        }
    }
    (out, Vec::new())
}

/// Findings of the image environment (`Env` of the config).
pub(crate) fn scan_env(ctx: &Context) -> Vec<Misconfiguration> {
    ctx.env
        .iter()
        .filter_map(|(k, v)| env_finding(k, v, |u| ctx.is_public(u)))
        .map(|(check, msg)| check.whole(format!("image Env {msg}")))
        .collect()
}

/// ENV and ARG settings of every Dockerfile of the input: (name, value,
/// where), for the Go checks.
pub(crate) fn dockerfile_vars(ctx: &Context) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for f in ctx.files.iter().filter(|f| f.kind == "dockerfile") {
        let text = Text::new(&f.text);
        for ins in instructions(&text) {
            if ins.keyword == "ENV" || ins.keyword == "ARG" {
                for (k, v) in assignments(&ins) {
                    out.push((k, v, format!("{}:{}", f.path, ins.start)));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_instructions_and_assignments() {
        let t = Text::new("FROM python:3.12\n# c\nENV A=1 \\\n    PIP_EXTRA_INDEX_URL=\"https://x/simple\"\nENV GOPRIVATE corp.example.com/*\nRUN pip install \\\n  --extra-index-url https://pypi.corp/simple acme\n");
        let ins = instructions(&t);
        assert_eq!(ins.len(), 4);
        assert_eq!((ins[1].start, ins[1].end), (3, 4));
        assert_eq!(
            assignments(&ins[1]),
            vec![
                ("A".into(), "1".into()),
                ("PIP_EXTRA_INDEX_URL".into(), "https://x/simple".into())
            ]
        );
        assert_eq!(
            assignments(&ins[2]),
            vec![("GOPRIVATE".into(), "corp.example.com/*".into())]
        );
        assert_eq!((ins[3].start, ins[3].end), (6, 7));
    }
}
