//! The Dockerfile model the checks run on.
//!
//! The syntax is read by [`crate::syntax`] (our own parser, which follows
//! BuildKit's: line continuations, `# escape=`, comments inside
//! continuations, heredocs, JSON and shell forms, `ONBUILD`, flags). On top
//! of it this module builds a flatter, Trivy-like view: each instruction has
//! a lower-case command, its flags, its values (`Value` in Trivy's
//! Dockerfile schema), its line range and its stage; `FROM` images get `ARG`
//! substitution. Duplicate stage names are kept, because DS-0012 must report
//! them.

use std::collections::HashMap;

use crate::error::ParseError;
pub use crate::syntax::Heredoc;
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
    /// The heredocs of a `RUN`, `COPY` or `ADD` (their bodies are also
    /// appended to a shell-form `RUN`'s value).
    pub heredocs: Vec<Heredoc>,
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
    /// Parse Dockerfile text. `path` is only used in error messages. A file
    /// is refused only where BuildKit refuses it (see [`crate::syntax`]),
    /// plus BuildKit's stage rules: only `ARG` may come before the first
    /// `FROM`, and there must be a `FROM`.
    pub fn parse(path: &str, text: &str) -> Result<Dockerfile, ParseError> {
        let mut instrs = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        let mut global_args: HashMap<String, Option<String>> = HashMap::new();
        for mut i in crate::syntax::parse(path, text)? {
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
                if i.cmd != "arg" {
                    return Err(ParseError::Syntax {
                        path: path.to_string(),
                        line: i.start_line,
                        column: 1,
                        // BuildKit: "no build stage in current context".
                        message: format!(
                            "expected FROM before {} (only ARG may come before the first FROM)",
                            i.cmd.to_uppercase()
                        ),
                    });
                }
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
        if stages.is_empty() {
            return Err(ParseError::Syntax {
                path: path.to_string(),
                line: 1,
                column: 1,
                // BuildKit: "dockerfile contains no stages to build".
                message: "no FROM instruction: a Dockerfile needs at least one FROM".to_string(),
            });
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
    fn stage_rules() {
        let msg = |t: &str| {
            Dockerfile::parse("Dockerfile", t)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(msg("ARG A=1\n").contains("at least one FROM"));
        assert!(msg("# nothing\nRUN true\n").contains("expected FROM before RUN"));
        assert!(msg("").contains("at least one FROM"));
        // Global ARGs before FROM are fine.
        let d = parse("ARG A=1\nARG B=${A}.2\nFROM x:${B}\n");
        assert_eq!(d.stages[0].image.as_deref(), Some("x:1.2"));
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
