//! Dockerfiles and the image environment: pip and uv index settings
//! (`PIP_EXTRA_INDEX_URL`, `pip install --extra-index-url`,
//! `UV_INDEX_STRATEGY`), and the Go variables `golang` reads.
//!
//! Dockerfiles are read by `customs-misconfig`'s parser (BuildKit's rules:
//! continuations, the `escape` directive, heredocs, ENV's two forms); a
//! file it refuses gives no finding and a warning naming it.

use crate::checks::{PIP_EXTRA_INDEX_CONF, UV_UNSAFE_STRATEGY};
use crate::python::option_value;
use crate::text::Text;
use crate::{Context, File, PrivatePkg};
use customs_misconfig::dockerfile::{split_arg, Dockerfile, Instr};
use customs_model::finding::Misconfiguration;

/// The instructions of a Dockerfile.
fn instructions(path: &str, text: &str) -> Vec<Instr> {
    match Dockerfile::parse(path, text) {
        Ok(d) => d.instrs,
        Err(e) => crate::malformed(path, e),
    }
}

/// The `KEY=VALUE` settings of an ENV (both forms) or ARG (with a default).
fn assignments(ins: &Instr) -> Vec<(String, String)> {
    match ins.cmd.as_str() {
        "env" => ins
            .value
            .chunks(2)
            .filter_map(|kv| Some((kv.first()?.clone(), kv.get(1)?.clone())))
            .collect(),
        "arg" => ins
            .value
            .iter()
            .filter_map(|a| {
                let (k, v) = split_arg(a);
                Some((k.to_string(), v?.to_string()))
            })
            .collect(),
        _ => Vec::new(),
    }
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
    for ins in instructions(file.path, &file.text) {
        let (start, end) = (ins.start_line, ins.end_line);
        match ins.cmd.as_str() {
            "env" | "arg" => {
                for (k, v) in assignments(&ins) {
                    if let Some((check, msg)) = env_finding(&k, &v, |u| ctx.is_public(u)) {
                        out.push(check.at(&text, start, end, msg));
                    }
                }
            }
            "run" => {
                let a = &ins.command_text();
                let pip = a.contains("pip ") || a.contains("pip3 ") || a.contains("pip install");
                if pip {
                    if let Some(url) =
                        option_value(a, "--extra-index-url").filter(|u| !ctx.is_public(u))
                    {
                        out.push(PIP_EXTRA_INDEX_CONF.at(
                            &text,
                            start,
                            end,
                            format!("pip is run with --extra-index-url {url}: it merges that index with the main one and installs the highest version found on either"),
                        ));
                    }
                    if a.contains("extra-index-url") && a.contains("pip config set") {
                        out.push(PIP_EXTRA_INDEX_CONF.at(
                            &text,
                            start,
                            end,
                            "'pip config set …extra-index-url' writes an extra index into pip.conf: pip merges it with the main one".into(),
                        ));
                    }
                }
                if let Some(s) =
                    option_value(a, "--index-strategy").filter(|s| s.starts_with("unsafe"))
                {
                    out.push(UV_UNSAFE_STRATEGY.at(
                        &text,
                        start,
                        end,
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
        for ins in instructions(f.path, &f.text) {
            for (k, v) in assignments(&ins) {
                out.push((k, v, format!("{}:{}", f.path, ins.start_line)));
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
        let text = "FROM python:3.12\n# c\nENV A=1 \\\n    PIP_EXTRA_INDEX_URL=\"https://x/simple\"\nENV GOPRIVATE corp.example.com/*\nRUN pip install \\\n  --extra-index-url https://pypi.corp/simple acme\n";
        let ins = instructions("Dockerfile", text);
        assert_eq!(ins.len(), 4);
        assert_eq!((ins[1].start_line, ins[1].end_line), (3, 4));
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
        assert_eq!((ins[3].start_line, ins[3].end_line), (6, 7));
        assert!(ins[3]
            .command_text()
            .contains("--extra-index-url https://pypi.corp/simple"));
    }
}
