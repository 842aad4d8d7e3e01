//! The Dockerfile model the checks run on.
//!
//! Parsing is done by the `parse-dockerfile` crate (line continuations,
//! `# escape=`, heredocs, JSON and shell forms, multi-stage builds). We use its
//! streaming `parse_iter`, which unlike `parse` does not reject duplicate stage
//! names, because DS-0012 must report those. On top of it this module builds a
//! flatter, Trivy-like view: each instruction has a lower-case command, its
//! flags, its values (`Value` in Trivy's Dockerfile schema), its line range and
//! its stage; `FROM` images get `ARG` substitution.

use std::collections::HashMap;

use parse_dockerfile::{Command, HealthcheckArguments, Instruction, JsonOrStringArray, Source};

use crate::error::ParseError;
use crate::vars;

/// One instruction of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instr {
    /// Lower-case instruction keyword: `from`, `run`, `copy`, ...
    pub cmd: String,
    /// Flags as written, `--name=value` or `--name`.
    pub flags: Vec<String>,
    /// The arguments, as Trivy's `Value`: for shell-form `RUN`/`CMD`/
    /// `ENTRYPOINT` one string (continuations joined, heredoc bodies appended
    /// on their own lines); for exec form one element per array item; for
    /// `FROM` `[image, "AS", alias]`; for `ENV`/`LABEL` `[k1, v1, k2, v2...]`;
    /// for `ARG` one `NAME[=default]` per argument; for `COPY`/`ADD` the
    /// sources then the destination; for `HEALTHCHECK` `["CMD", ...]` or
    /// `["NONE"]`.
    pub value: Vec<String>,
    /// Exec (JSON array) form of `RUN`/`CMD`/`ENTRYPOINT`/`SHELL`.
    pub json: bool,
    /// 1-based first and last line.
    pub start_line: usize,
    pub end_line: usize,
    /// Index of the stage, or `None` for a global `ARG` before the first `FROM`.
    pub stage: Option<usize>,
    /// For `ONBUILD`: the wrapped instruction's keyword is in `value[0]`.
    pub onbuild: bool,
}

impl Instr {
    /// The value of flag `--name`, if present (`Some("")` for a bare flag).
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags.iter().find_map(|f| {
            let rest = f.strip_prefix("--")?;
            match rest.split_once('=') {
                Some((n, v)) if n.eq_ignore_ascii_case(name) => Some(v),
                None if rest.eq_ignore_ascii_case(name) => Some(""),
                _ => None,
            }
        })
    }

    /// The command text of a `RUN` (shell form as one string, exec form
    /// joined with spaces).
    pub fn command_text(&self) -> String {
        self.value.join(" ")
    }

    /// `--mount` flags of a `RUN`, as their raw values.
    pub fn mounts(&self) -> impl Iterator<Item = &str> {
        self.flags.iter().filter_map(|f| f.strip_prefix("--mount="))
    }
}

/// One build stage: a `FROM` and the instructions up to the next `FROM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The image as written in `FROM` (variables unexpanded).
    pub image_raw: String,
    /// The image with build arguments substituted; `None` when a variable in
    /// it has no value.
    pub image: Option<String>,
    /// `AS name`, as written.
    pub alias: Option<String>,
    /// Index of the `FROM` instruction in [`Dockerfile::instrs`].
    pub from: usize,
    /// Indexes of the stage's other instructions in [`Dockerfile::instrs`].
    pub body: Vec<usize>,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The file's lines (for code excerpts).
    pub lines: Vec<String>,
    /// Every instruction in file order.
    pub instrs: Vec<Instr>,
    pub stages: Vec<Stage>,
    /// Global `ARG` defaults (before the first `FROM`).
    pub global_args: HashMap<String, Option<String>>,
}

impl Dockerfile {
    /// Parse Dockerfile text. `path` is only used in error messages.
    pub fn parse(path: &str, text: &str) -> Result<Dockerfile, ParseError> {
        let syntax = |e: parse_dockerfile::Error| ParseError::Syntax {
            path: path.to_string(),
            line: e.line(),
            column: e.column(),
            message: format!("{e:#}"),
        };
        let line_starts = line_starts(text);
        let mut instrs = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        let mut global_args: HashMap<String, Option<String>> = HashMap::new();
        for item in parse_dockerfile::parse_iter(text).map_err(syntax)? {
            let inst = item.map_err(syntax)?;
            let (start, end) = span_of(&inst);
            let mut i = convert(&inst, text);
            i.start_line = line_of(&line_starts, start);
            i.end_line = line_of(&line_starts, end.saturating_sub(1).max(start));
            if has_heredoc(&inst) {
                // The span ends with the body; the terminator is the next line.
                i.end_line += 1;
            }
            if i.cmd == "from" {
                let image_raw = i.value.first().cloned().unwrap_or_default();
                let image = vars::expand(&image_raw, &|n| global_args.get(n).cloned().flatten());
                let alias = i.value.get(2).cloned();
                i.stage = Some(stages.len());
                stages.push(Stage {
                    image_raw,
                    image,
                    alias,
                    from: instrs.len(),
                    body: Vec::new(),
                });
            } else if stages.is_empty() {
                // Only ARG can come before the first FROM (the parser
                // enforces it).
                for a in &i.value {
                    let (n, v) = split_arg(a);
                    // Defaults may refer to earlier args.
                    let v =
                        v.and_then(|v| vars::expand(v, &|x| global_args.get(x).cloned().flatten()));
                    global_args.insert(n.to_string(), v);
                }
            } else {
                let si = stages.len() - 1;
                i.stage = Some(si);
                if let Some(st) = stages.last_mut() {
                    st.body.push(instrs.len());
                }
            }
            instrs.push(i);
        }
        Ok(Dockerfile {
            lines: text.lines().map(str::to_string).collect(),
            instrs,
            stages,
            global_args,
        })
    }

    /// Instructions of stage `si` after its `FROM`.
    pub fn stage_instrs(&self, si: usize) -> impl Iterator<Item = &Instr> {
        self.stages
            .get(si)
            .map(|s| s.body.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.instrs.get(i))
    }

    /// The `FROM` instruction of stage `si`.
    pub fn stage_from(&self, si: usize) -> Option<&Instr> {
        self.stages.get(si).and_then(|s| self.instrs.get(s.from))
    }

    /// Index of the final stage.
    pub fn final_stage(&self) -> Option<usize> {
        self.stages.len().checked_sub(1)
    }

    /// Every instruction with keyword `cmd` (not those inside `ONBUILD`).
    pub fn all<'a>(&'a self, cmd: &'a str) -> impl Iterator<Item = &'a Instr> + 'a {
        self.instrs
            .iter()
            .filter(move |i| i.cmd == cmd && !i.onbuild)
    }

    /// Whether `name` (case-insensitive) is the alias of a stage before
    /// stage `before`.
    pub fn is_earlier_alias(&self, name: &str, before: usize) -> bool {
        self.stages.iter().take(before).any(|s| {
            s.alias
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// The stage's `ARG` and `ENV` values visible after its instructions (a
    /// simple model: later definitions win; global args with defaults are
    /// visible when re-declared, as Docker does).
    pub fn stage_vars(&self, si: usize) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = HashMap::new();
        for i in self.stage_instrs(si) {
            match i.cmd.as_str() {
                "arg" => {
                    for a in &i.value {
                        let (n, v) = split_arg(a);
                        let v = match v {
                            Some(v) => vars::expand(v, &|x| env.get(x).cloned()),
                            None => self.global_args.get(n).cloned().flatten(),
                        };
                        if let Some(v) = v {
                            env.insert(n.to_string(), v);
                        }
                    }
                }
                "env" => {
                    for kv in i.value.chunks(2) {
                        if let [k, v] = kv {
                            let v = vars::expand(v, &|n| env.get(n).cloned()).unwrap_or_default();
                            env.insert(k.clone(), v);
                        }
                    }
                }
                _ => {}
            }
        }
        env
    }
}

/// `NAME=value` → (`NAME`, `Some(value)`), `NAME` → (`NAME`, `None`);
/// surrounding quotes of the value are removed.
pub fn split_arg(a: &str) -> (&str, Option<&str>) {
    match a.split_once('=') {
        Some((n, v)) => (n.trim(), Some(unquote(v.trim()))),
        None => (a.trim(), None),
    }
}

/// Remove one pair of matching surrounding quotes.
pub fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(
        text.bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i + 1),
    );
    v
}

/// 1-based line of byte offset `pos`.
fn line_of(starts: &[usize], pos: usize) -> usize {
    match starts.binary_search(&pos) {
        Ok(i) => i + 1,
        Err(i) => i.max(1),
    }
}

fn s(c: &str) -> String {
    c.to_string()
}

/// Join a shell-form command the way the Docker builder does: escaped
/// newlines are removed, and comment lines inside a continuation dropped.
fn join_shell(raw: &str, escape: char) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut first = true;
    for line in raw.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !first && line.trim_start().starts_with('#') {
            continue;
        }
        first = false;
        let trimmed = line.trim_end();
        match trimmed.strip_suffix(escape) {
            Some(body) => out.push_str(body),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

fn command_value(c: &Command<'_>, escape: char) -> (Vec<String>, bool) {
    match c {
        Command::Exec(a) => (a.value.iter().map(|u| s(&u.value)).collect(), true),
        Command::Shell(sh) => (vec![join_shell(sh.value, escape)], false),
        _ => (vec![], false),
    }
}

fn flags(f: &[parse_dockerfile::Flag<'_>]) -> Vec<String> {
    f.iter()
        .map(|f| match &f.value {
            Some(v) => format!("--{}={}", f.name.value, v.value),
            None => format!("--{}", f.name.value),
        })
        .collect()
}

fn sources(src: &[Source<'_>]) -> Vec<String> {
    src.iter()
        .map(|s| match s {
            Source::Path(p) => p.value.to_string(),
            Source::HereDoc(h) => h.value.to_string(),
            _ => String::new(),
        })
        .collect()
}

/// Split `k=v k2="v 2"` (ENV / LABEL / ARG) into pairs; the legacy
/// `ENV key value` form gives one pair.
pub fn split_kv(raw: &str) -> Vec<(String, String)> {
    let words = crate::shell::words(raw);
    if words.first().is_some_and(|w| !w.contains('=')) {
        // Legacy form: ENV NAME the rest of the line
        let t = raw.trim();
        let (k, v) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        return vec![(k.to_string(), unquote(v.trim()).to_string())];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (w, String::new()),
        })
        .collect()
}

fn convert(inst: &Instruction<'_>, text: &str) -> Instr {
    let escape = escape_char(text);
    let mut out = Instr {
        cmd: String::new(),
        flags: Vec::new(),
        value: Vec::new(),
        json: false,
        start_line: 0,
        end_line: 0,
        stage: None,
        onbuild: false,
    };
    let (cmd, flags_, value, json): (&str, Vec<String>, Vec<String>, bool) = match inst {
        Instruction::Add(a) => {
            let mut v = sources(&a.src);
            v.push(s(&a.dest.value));
            ("add", flags(&a.options), v, false)
        }
        Instruction::Copy(a) => {
            let mut v = sources(&a.src);
            v.push(s(&a.dest.value));
            ("copy", flags(&a.options), v, false)
        }
        Instruction::Arg(a) => (
            "arg",
            vec![],
            crate::shell::words(&a.arguments.value),
            false,
        ),
        Instruction::Cmd(c) => {
            let (v, j) = command_value(&c.arguments, escape);
            ("cmd", vec![], v, j)
        }
        Instruction::Entrypoint(c) => {
            let (v, j) = command_value(&c.arguments, escape);
            ("entrypoint", vec![], v, j)
        }
        Instruction::Run(r) => {
            let (mut v, j) = command_value(&r.arguments, escape);
            if !r.here_docs.is_empty() {
                let mut body = v.join(" ");
                for h in &r.here_docs {
                    body.push('\n');
                    body.push_str(&h.value);
                }
                v = vec![body];
            }
            ("run", flags(&r.options), v, j)
        }
        Instruction::Env(e) => (
            "env",
            vec![],
            split_kv(&e.arguments.value)
                .into_iter()
                .flat_map(|(k, v)| [k, v])
                .collect(),
            false,
        ),
        Instruction::Label(e) => (
            "label",
            vec![],
            split_kv(&e.arguments.value)
                .into_iter()
                .flat_map(|(k, v)| [k, v])
                .collect(),
            false,
        ),
        Instruction::Expose(e) => (
            "expose",
            vec![],
            e.arguments.iter().map(|u| s(&u.value)).collect(),
            false,
        ),
        Instruction::From(f) => {
            let mut v = vec![s(&f.image.value)];
            if let Some((_, name)) = &f.as_ {
                v.push("AS".to_string());
                v.push(s(&name.value));
            }
            ("from", flags(&f.options), v, false)
        }
        Instruction::Healthcheck(h) => {
            let v = match &h.arguments {
                HealthcheckArguments::Cmd { arguments, .. } => {
                    let (mut v, _) = command_value(arguments, escape);
                    v.insert(0, "CMD".to_string());
                    v
                }
                _ => vec!["NONE".to_string()],
            };
            ("healthcheck", flags(&h.options), v, false)
        }
        Instruction::Maintainer(m) => ("maintainer", vec![], vec![s(&m.name.value)], false),
        Instruction::Onbuild(o) => {
            let inner = convert(&o.instruction, text);
            let mut v = vec![inner.cmd.to_uppercase()];
            v.extend(inner.value);
            out.onbuild = true;
            ("onbuild", inner.flags, v, false)
        }
        Instruction::Shell(sh) => (
            "shell",
            vec![],
            sh.arguments.iter().map(|u| s(&u.value)).collect(),
            true,
        ),
        Instruction::Stopsignal(x) => ("stopsignal", vec![], vec![s(&x.arguments.value)], false),
        Instruction::User(x) => ("user", vec![], vec![s(&x.arguments.value)], false),
        Instruction::Volume(x) => {
            let v = match &x.arguments {
                JsonOrStringArray::Json(a) => a.value.iter().map(|u| s(&u.value)).collect(),
                JsonOrStringArray::String(a) => a.iter().map(|u| s(&u.value)).collect(),
            };
            ("volume", vec![], v, false)
        }
        Instruction::Workdir(x) => ("workdir", vec![], vec![s(&x.arguments.value)], false),
        _ => ("unknown", vec![], vec![], false),
    };
    out.cmd = cmd.to_string();
    out.flags = flags_;
    out.value = value;
    out.json = json;
    out
}

/// The `# escape=` directive's character (default `\`).
fn escape_char(text: &str) -> char {
    for line in text.lines() {
        let t = line.trim();
        let Some(d) = t.strip_prefix('#') else { break };
        let d = d.trim();
        if let Some((k, v)) = d.split_once('=') {
            if k.trim().eq_ignore_ascii_case("escape") {
                if let Some(c) = v.trim().chars().next() {
                    return c;
                }
            }
        } else {
            break;
        }
    }
    '\\'
}

fn cmd_end(c: &Command<'_>) -> usize {
    match c {
        Command::Exec(a) => a.span.end,
        Command::Shell(s) => s.span.end,
        _ => 0,
    }
}

fn has_heredoc(inst: &Instruction<'_>) -> bool {
    match inst {
        Instruction::Run(r) => !r.here_docs.is_empty(),
        Instruction::Copy(c) => c.src.iter().any(|s| matches!(s, Source::HereDoc(_))),
        Instruction::Add(c) => c.src.iter().any(|s| matches!(s, Source::HereDoc(_))),
        _ => false,
    }
}

/// Byte range of a whole instruction.
fn span_of(inst: &Instruction<'_>) -> (usize, usize) {
    let src_end = |src: &[Source<'_>]| {
        src.iter()
            .map(|s| match s {
                Source::Path(p) => p.span.end,
                Source::HereDoc(h) => h.span.end,
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    };
    match inst {
        Instruction::Add(a) => (a.add.span.start, a.dest.span.end.max(src_end(&a.src))),
        Instruction::Copy(a) => (a.copy.span.start, a.dest.span.end.max(src_end(&a.src))),
        Instruction::Arg(a) => (a.arg.span.start, a.arguments.span.end),
        Instruction::Cmd(c) => (c.cmd.span.start, cmd_end(&c.arguments)),
        Instruction::Entrypoint(c) => (c.entrypoint.span.start, cmd_end(&c.arguments)),
        Instruction::Env(e) => (e.env.span.start, e.arguments.span.end),
        Instruction::Expose(e) => (
            e.expose.span.start,
            e.arguments
                .iter()
                .map(|a| a.span.end)
                .max()
                .unwrap_or(e.expose.span.end),
        ),
        Instruction::From(f) => (
            f.from.span.start,
            f.as_
                .as_ref()
                .map(|(_, n)| n.span.end)
                .unwrap_or(f.image.span.end),
        ),
        Instruction::Healthcheck(h) => (
            h.healthcheck.span.start,
            match &h.arguments {
                HealthcheckArguments::Cmd { arguments, .. } => cmd_end(arguments),
                HealthcheckArguments::None { none, .. } => none.span.end,
                _ => h.healthcheck.span.end,
            },
        ),
        Instruction::Label(e) => (e.label.span.start, e.arguments.span.end),
        Instruction::Maintainer(m) => (m.maintainer.span.start, m.name.span.end),
        Instruction::Onbuild(o) => (o.onbuild.span.start, span_of(&o.instruction).1),
        Instruction::Run(r) => (
            r.run.span.start,
            r.here_docs
                .iter()
                .map(|h| h.span.end)
                .max()
                .unwrap_or(0)
                .max(cmd_end(&r.arguments)),
        ),
        Instruction::Shell(sh) => (
            sh.shell.span.start,
            sh.arguments
                .iter()
                .map(|a| a.span.end)
                .max()
                .unwrap_or(sh.shell.span.end),
        ),
        Instruction::Stopsignal(x) => (x.stopsignal.span.start, x.arguments.span.end),
        Instruction::User(x) => (x.user.span.start, x.arguments.span.end),
        Instruction::Volume(x) => (
            x.volume.span.start,
            match &x.arguments {
                JsonOrStringArray::Json(a) => a.span.end,
                JsonOrStringArray::String(a) => a
                    .iter()
                    .map(|u| u.span.end)
                    .max()
                    .unwrap_or(x.volume.span.end),
            },
        ),
        Instruction::Workdir(x) => (x.workdir.span.start, x.arguments.span.end),
        _ => (0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(t: &str) -> Dockerfile {
        match Dockerfile::parse("Dockerfile", t) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn stages_aliases_and_lines() {
        let d = parse(
            "ARG GO=1.22\nFROM golang:${GO}-alpine AS build\nRUN go build \\\n  -o /app .\n\nFROM scratch\nCOPY --from=build /app /app\n",
        );
        assert_eq!(d.stages.len(), 2);
        assert_eq!(d.stages[0].image.as_deref(), Some("golang:1.22-alpine"));
        assert_eq!(d.stages[0].alias.as_deref(), Some("build"));
        let run = d
            .all("run")
            .next()
            .cloned()
            .unwrap_or_else(|| panic!("no run"));
        assert_eq!((run.start_line, run.end_line), (3, 4));
        assert_eq!(run.value, vec!["go build   -o /app ."]);
        let copy = d.all("copy").next().unwrap_or_else(|| panic!("no copy"));
        assert_eq!(copy.flag("from"), Some("build"));
        assert_eq!(copy.stage, Some(1));
    }

    #[test]
    fn escape_directive_heredoc_and_json() {
        let d = parse(
            "# escape=`\nFROM alpine:3.19\nRUN apk add `\n  # a comment\n  curl\nRUN <<EOF\nset -e\necho hi\nEOF\nCMD [\"a\", \"b\"]\n",
        );
        let runs: Vec<&Instr> = d.all("run").collect();
        assert_eq!(runs[0].value, vec!["apk add   curl"]);
        assert!(runs[1].value[0].contains("echo hi"));
        assert_eq!((runs[1].start_line, runs[1].end_line), (6, 9));
        let cmd = d.all("cmd").next().unwrap_or_else(|| panic!("no cmd"));
        assert!(cmd.json);
        assert_eq!(cmd.value, vec!["a", "b"]);
    }

    #[test]
    fn lowercase_platform_and_onbuild() {
        let d = parse("from --platform=$BUILDPLATFORM golang:1.22 as build\nonbuild run apk add x\nrun echo\n");
        assert_eq!(d.stages[0].image.as_deref(), Some("golang:1.22"));
        assert_eq!(d.instrs[0].flag("platform"), Some("$BUILDPLATFORM"));
        assert_eq!(d.stages[0].alias.as_deref(), Some("build"));
        // ONBUILD instructions are not counted as the stage's own.
        assert_eq!(d.all("run").count(), 1);
        assert_eq!(d.instrs[1].cmd, "onbuild");
        assert_eq!(d.instrs[1].value[0], "RUN");
    }

    #[test]
    fn duplicate_aliases_are_kept() {
        let d = parse("FROM a AS x\nFROM b AS x\n");
        assert_eq!(d.stages.len(), 2);
    }

    #[test]
    fn env_forms() {
        let d = parse("FROM a\nENV A=1 B=\"x y\"\nENV LEGACY some value\n");
        let envs: Vec<&Instr> = d.all("env").collect();
        assert_eq!(envs[0].value, vec!["A", "1", "B", "x y"]);
        assert_eq!(envs[1].value, vec!["LEGACY", "some value"]);
        let v = d.stage_vars(0);
        assert_eq!(v.get("B").map(String::as_str), Some("x y"));
    }

    #[test]
    fn syntax_error_has_line() {
        let e = Dockerfile::parse("dir/Dockerfile", "FROM a\nRUN x\nBOGUS y\n");
        match e {
            Err(ParseError::Syntax { line, ref path, .. }) => {
                assert_eq!(line, 3);
                assert_eq!(path, "dir/Dockerfile");
            }
            other => panic!("{other:?}"),
        }
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("dir/Dockerfile:3:"), "{msg}");
    }
}
