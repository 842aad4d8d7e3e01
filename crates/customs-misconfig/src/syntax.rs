//! The Dockerfile syntax, read the way BuildKit's own parser reads it.
//!
//! Why our own parser: customs used the `parse-dockerfile` crate, which
//! rejects files that BuildKit builds (`ENTRYPOINT []`, used by official
//! images such as tomcat, failed with "instruction requires at least one
//! argument", so nothing was reported for the whole file). The Dockerfile
//! grammar is small and line based, and the only definition that matters is
//! BuildKit's (`frontend/dockerfile/parser` for lines, continuations,
//! comments, directives and heredocs; `frontend/dockerfile/instructions` for
//! what each instruction accepts). This module follows those two step by
//! step, so a file is refused only for a reason BuildKit refuses it too (an
//! unknown instruction, `COPY` without a destination, an unterminated
//! heredoc, ...), with BuildKit's wording. Where BuildKit is stricter only
//! at build time (unknown flags, flag values, durations) we accept: a
//! scanner should report on such a file rather than refuse it.

use crate::dockerfile::Instr;
use crate::error::ParseError;

/// A heredoc of `RUN`, `COPY` or `ADD` (`<<EOF`, `<<-EOF`, `<<'EOF'`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    /// The terminator word (quotes removed).
    pub name: String,
    /// `<<-`: leading tabs are stripped from the terminator line.
    pub chomp: bool,
    /// The body, each line followed by `\n`.
    pub body: String,
}

/// A syntax error: 1-based line and column, BuildKit's message.
#[derive(Debug)]
struct SynErr {
    line: usize,
    column: usize,
    message: String,
}

fn err(line: usize, column: usize, message: impl Into<String>) -> SynErr {
    SynErr {
        line,
        column,
        message: message.into(),
    }
}

/// Parse Dockerfile text into instructions in file order (stages are
/// assigned by the caller). `path` is only used in errors.
pub(crate) fn parse(path: &str, text: &str) -> Result<Vec<Instr>, ParseError> {
    parse_inner(text).map_err(|e| ParseError::Syntax {
        path: path.to_string(),
        line: e.line,
        column: e.column,
        message: e.message,
    })
}

/// BuildKit's `[\t\v\f\r ]` (the separator of `splitCommand` and of
/// whitespace-delimited arguments).
fn is_sep(c: char) -> bool {
    matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ')
}

fn fields(s: &str) -> Vec<String> {
    s.split(is_sep)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// `# name=value` parser directives at the top of the file.
struct Directives {
    escape: char,
    done: bool,
    seen: Vec<String>,
}

impl Directives {
    /// BuildKit's `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`; the first
    /// line that is not a known directive ends the directives.
    fn line(&mut self, line: &str, no: usize) -> Result<(), SynErr> {
        if self.done {
            return Ok(());
        }
        let parsed = line.strip_prefix('#').and_then(|rest| {
            let (k, v) = rest.split_once('=')?;
            let k = k.trim();
            let v = v.trim();
            let valid_key = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && k.chars().all(|c| c.is_ascii_alphanumeric());
            (valid_key && !v.is_empty()).then(|| (k.to_ascii_lowercase(), v.to_string()))
        });
        let Some((key, value)) = parsed else {
            self.done = true;
            return Ok(());
        };
        if !matches!(key.as_str(), "escape" | "syntax" | "check") {
            self.done = true;
            return Ok(());
        }
        if self.seen.contains(&key) {
            return Err(err(
                no,
                1,
                format!("only one {key} parser directive can be used"),
            ));
        }
        self.seen.push(key.clone());
        if key == "escape" {
            self.escape = match value.as_str() {
                "`" => '`',
                "\\" => '\\',
                _ => {
                    return Err(err(
                        no,
                        1,
                        format!("invalid escape token '{value}' does not match ` or \\"),
                    ))
                }
            };
        }
        Ok(())
    }
}

fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Strip a trailing escape character (and the blanks after it): BuildKit's
/// `\\[ \t]*$`. Returns the line and whether it ends the instruction.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let t = line.trim_end_matches([' ', '\t']);
    match t.strip_suffix(escape) {
        Some(body) => (body, false),
        None => (line, true),
    }
}

/// One logical line: an instruction with its continuations joined.
struct Logical {
    text: String,
    start: usize,
    end: usize,
    column: usize,
}

fn parse_inner(text: &str) -> Result<Vec<Instr>, SynErr> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Lines without their line ending (`\n`, `\r\n`).
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .collect();
    let mut d = Directives {
        escape: '\\',
        done: false,
        seen: Vec::new(),
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines.get(i).copied().unwrap_or_default();
        i += 1;
        let start = i;
        let first = raw.trim_start();
        d.line(first, start)?;
        if is_comment(first) {
            continue;
        }
        let (part, mut end_of_line) = trim_continuation(first, d.escape);
        if end_of_line && part.is_empty() {
            continue;
        }
        let column = raw.chars().take_while(|c| c.is_whitespace()).count() + 1;
        let mut line = part.to_string();
        while !end_of_line && i < lines.len() {
            let raw = lines.get(i).copied().unwrap_or_default();
            i += 1;
            // Comment lines and empty lines inside a continuation are
            // skipped (BuildKit warns about the empty ones, and builds).
            if is_comment(raw) || raw.trim_start().is_empty() {
                continue;
            }
            let (part, e) = trim_continuation(raw, d.escape);
            line.push_str(part);
            end_of_line = e;
        }
        let mut logical = Logical {
            text: line,
            start,
            end: i,
            column,
        };
        let heredocs = read_heredocs(&logical, &lines, &mut i, d.escape)?;
        logical.end = i.max(logical.end);
        out.push(instruction(&logical, heredocs, d.escape)?);
    }
    if out.is_empty() {
        // BuildKit's wording, and what a Dockerfile needs.
        return Err(err(
            1,
            1,
            "file with no instructions: a Dockerfile needs at least one FROM",
        ));
    }
    Ok(out)
}

/// The keyword of a logical line and the rest (trimmed).
fn split_command(line: &str) -> (&str, &str) {
    let t = line.trim();
    match t.find(is_sep) {
        Some(p) => (
            t.get(..p).unwrap_or_default(),
            t.get(p..).unwrap_or_default().trim_start_matches(is_sep),
        ),
        None => (t, ""),
    }
}

/// Heredocs are possible in RUN, COPY and ADD (also behind ONBUILD).
fn can_contain_heredoc(line: &str) -> bool {
    let (kw, rest) = split_command(line);
    let kw = kw.to_ascii_lowercase();
    match kw.as_str() {
        "run" | "copy" | "add" => true,
        "onbuild" => {
            let (inner, _) = split_command(rest);
            matches!(inner.to_ascii_lowercase().as_str(), "run" | "copy" | "add")
        }
        _ => false,
    }
}

/// Words of a line as BuildKit's heredoc detection sees them: split at
/// blanks, quotes kept (a quoted `"<<EOF"` is not a heredoc).
fn raw_words(line: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut w = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                w.push(c);
                if c == escape && q == '"' {
                    if let Some(n) = chars.next() {
                        w.push(n);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if c.is_whitespace() => {
                if !w.is_empty() {
                    words.push(std::mem::take(&mut w));
                }
            }
            None => {
                w.push(c);
                if c == escape {
                    if let Some(n) = chars.next() {
                        w.push(n);
                    }
                } else if c == '\'' || c == '"' {
                    quote = Some(c);
                }
            }
        }
    }
    if !w.is_empty() {
        words.push(w);
    }
    words
}

/// BuildKit's `ParseHeredoc`: `^(\d*)<<(-?)([^<]*)$` with a one-word name,
/// quoted or not.
pub(crate) fn heredoc_word(word: &str) -> Option<(String, bool)> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let name = match rest.chars().next() {
        Some(q @ ('\'' | '"')) => rest.strip_prefix(q)?.strip_suffix(q)?.to_string(),
        _ => rest.replace('\\', ""),
    };
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return None;
    }
    Some((name, chomp))
}

fn read_heredocs(
    l: &Logical,
    lines: &[&str],
    i: &mut usize,
    escape: char,
) -> Result<Vec<Heredoc>, SynErr> {
    if !l.text.contains("<<") || !can_contain_heredoc(&l.text) {
        return Ok(Vec::new());
    }
    let mut docs = Vec::new();
    for (name, chomp) in raw_words(&l.text, escape)
        .iter()
        .filter_map(|w| heredoc_word(w))
    {
        let mut body = String::new();
        let mut terminated = false;
        while *i < lines.len() {
            let raw = lines.get(*i).copied().unwrap_or_default();
            *i += 1;
            let candidate = if chomp {
                raw.trim_start_matches('\t')
            } else {
                raw
            };
            if candidate == name {
                terminated = true;
                break;
            }
            body.push_str(raw);
            body.push('\n');
        }
        if !terminated {
            return Err(err(l.start, l.column, "unterminated heredoc"));
        }
        docs.push(Heredoc { name, chomp, body });
    }
    Ok(docs)
}

/// BuildKit's `extractBuilderFlags`: leading `--name[=value]` words (quotes
/// and escapes removed); returns the flags and the rest of the line.
fn extract_flags(line: &str) -> (Vec<String>, &str) {
    let mut flags = Vec::new();
    let mut pos = 0;
    let bytes: Vec<(usize, char)> = line.char_indices().collect();
    let n = bytes.len();
    loop {
        while pos < n && bytes.get(pos).is_some_and(|(_, c)| c.is_whitespace()) {
            pos += 1;
        }
        let at = |p: usize| bytes.get(p).map(|(_, c)| *c);
        let offset = |p: usize| bytes.get(p).map(|(o, _)| *o).unwrap_or(line.len());
        if pos >= n || at(pos) != Some('-') || at(pos + 1) != Some('-') {
            return (flags, line.get(offset(pos)..).unwrap_or_default());
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while pos < n {
            let Some(c) = at(pos) else { break };
            match quote {
                None if c.is_whitespace() => break,
                None if c == '\'' || c == '"' => quote = Some(c),
                Some(q) if c == q => quote = None,
                _ if c == '\\' => {
                    pos += 1;
                    if let Some(nc) = at(pos) {
                        word.push(nc);
                    }
                }
                _ => word.push(c),
            }
            pos += 1;
        }
        if word == "--" {
            return (
                flags,
                line.get(offset(pos)..).unwrap_or_default().trim_start(),
            );
        }
        flags.push(word);
    }
}

/// BuildKit's `parseWords` (ENV, LABEL, ARG): blank-separated words, quotes
/// and escapes kept in the word.
fn parse_words(rest: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut w = String::new();
    let mut quote: Option<char> = None;
    let mut blank_ok = false;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            None if c.is_whitespace() => {
                if blank_ok || !w.is_empty() {
                    words.push(std::mem::take(&mut w));
                }
                blank_ok = false;
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    blank_ok = true;
                }
                if c == escape {
                    // An escape at the very end of the text is dropped.
                    if let Some(n) = chars.next() {
                        w.push(c);
                        w.push(n);
                    }
                    continue;
                }
                w.push(c);
            }
            Some(q) => {
                if c == q {
                    quote = None;
                }
                if c == escape && q != '\'' {
                    match chars.next() {
                        Some(n) => {
                            w.push(c);
                            w.push(n);
                        }
                        None => quote = None,
                    }
                    continue;
                }
                w.push(c);
            }
        }
    }
    if blank_ok || !w.is_empty() {
        words.push(w);
    }
    words
}

/// Remove the quotes and escapes of a word the way the Dockerfile shell
/// lexer does when it evaluates it (variables are kept for later
/// expansion).
pub(crate) fn unquote_word(w: &str, escape: char) -> String {
    let mut out = String::with_capacity(w.len());
    let mut chars = w.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    if c == '"' {
                        break;
                    }
                    if c == escape {
                        match chars.next() {
                            Some(n @ '"') => out.push(n),
                            Some(n) if n == escape => out.push(n),
                            Some(n) => {
                                out.push(c);
                                out.push(n);
                            }
                            None => out.push(c),
                        }
                        continue;
                    }
                    out.push(c);
                }
            }
            c if c == escape => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            c => out.push(c),
        }
    }
    out
}

const NOT_STRING_ARRAY: &str =
    "when using JSON array syntax, arrays must be comprised of strings only";

/// BuildKit's `parseJSON`: the first JSON value of the line, if it is an
/// array (trailing text is ignored, as Go's decoder does). `Ok(None)` means
/// "not JSON, use the shell form".
fn parse_json(rest: &str) -> Result<Option<Vec<String>>, &'static str> {
    let t = rest.trim_start();
    if !t.starts_with('[') {
        return Ok(None);
    }
    let mut stream = serde_json::Deserializer::from_str(t).into_iter::<serde_json::Value>();
    match stream.next() {
        Some(Ok(serde_json::Value::Array(items))) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(NOT_STRING_ARRAY),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        _ => Ok(None),
    }
}

/// `parseMaybeJSON`: (values, json form).
fn maybe_json(rest: &str) -> Result<(Vec<String>, bool), &'static str> {
    if rest.is_empty() {
        return Ok((Vec::new(), false));
    }
    Ok(match parse_json(rest)? {
        Some(v) => (v, true),
        None => (vec![rest.to_string()], false),
    })
}

/// `parseMaybeJSONToList`: JSON array or blank-separated words.
fn maybe_json_list(rest: &str) -> Result<Vec<String>, &'static str> {
    Ok(match parse_json(rest)? {
        Some(v) => v,
        None => fields(rest),
    })
}

/// `parseNameVal` (ENV, LABEL): `k=v k2=v2` or the legacy `KEY value`.
fn name_vals(rest: &str, kw: &str, escape: char) -> Result<Vec<String>, String> {
    let words = parse_words(rest, escape);
    let Some(first) = words.first() else {
        return Err(format!("{kw} requires at least one argument"));
    };
    if !first.contains('=') {
        let t = rest.trim();
        let Some(p) = t.find(is_sep) else {
            return Err(format!("{kw} must have two arguments"));
        };
        let (k, v) = t.split_at(p);
        return Ok(vec![
            k.to_string(),
            unquote_word(v.trim_start_matches(is_sep), escape),
        ]);
    }
    let mut out = Vec::new();
    for w in &words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in \"{w}\". Must be of the form: name=value"
            ));
        };
        if k.is_empty() {
            return Err(format!("{kw} names can not be blank"));
        }
        out.push(unquote_word(k, escape));
        out.push(unquote_word(v, escape));
    }
    Ok(out)
}

fn new_instr(cmd: &str, l: &Logical) -> Instr {
    Instr {
        cmd: cmd.to_string(),
        flags: Vec::new(),
        value: Vec::new(),
        json: false,
        start_line: l.start,
        end_line: l.end,
        stage: None,
        onbuild: false,
        heredocs: Vec::new(),
    }
}

fn instruction(l: &Logical, heredocs: Vec<Heredoc>, escape: char) -> Result<Instr, SynErr> {
    let e = |m: String| err(l.start, l.column, m);
    let (kw_raw, after) = split_command(&l.text);
    let kw = kw_raw.to_ascii_lowercase();
    let (flags, rest) = extract_flags(after);
    let rest = rest.trim();
    let upper = kw.to_ascii_uppercase();
    let mut i = new_instr(&kw, l);
    i.flags = flags;
    let exactly_one = |rest: &str| -> Result<Vec<String>, SynErr> {
        if rest.is_empty() {
            Err(e(format!("{upper} requires exactly one argument")))
        } else {
            Ok(vec![rest.to_string()])
        }
    };
    match kw.as_str() {
        "from" => {
            let w = fields(rest);
            i.value = match w.as_slice() {
                [image] => vec![image.clone()],
                [image, as_, name] if as_.eq_ignore_ascii_case("as") => {
                    let lower = name.to_ascii_lowercase();
                    let valid = lower.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && lower.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c)
                        });
                    if !valid {
                        return Err(e(format!("invalid name for build stage: \"{name}\", name can't start with a number or contain symbols")));
                    }
                    vec![image.clone(), "AS".to_string(), name.clone()]
                }
                _ => return Err(e("FROM requires either one or three arguments".into())),
            };
        }
        "run" | "cmd" | "entrypoint" => {
            let (mut v, json) = maybe_json(rest).map_err(|m| e(m.into()))?;
            if kw == "run" && !json && !heredocs.is_empty() {
                let mut body = v.first().cloned().unwrap_or_default();
                for h in &heredocs {
                    body.push('\n');
                    body.push_str(h.body.trim_end_matches('\n'));
                }
                v = vec![body];
            }
            i.value = v;
            i.json = json;
            i.heredocs = heredocs;
        }
        "shell" => {
            let (v, json) = maybe_json(rest).map_err(|m| e(m.into()))?;
            if !json {
                return Err(e("SHELL requires the arguments to be in JSON form".into()));
            }
            if v.is_empty() {
                return Err(e("SHELL requires at least one argument".into()));
            }
            i.value = v;
            i.json = true;
        }
        "copy" | "add" => {
            let v = maybe_json_list(rest).map_err(|m| e(m.into()))?;
            if v.len() < 2 {
                return Err(e(format!("{upper} requires at least two arguments, but only one was provided. Destination could not be determined")));
            }
            i.value = v;
            i.heredocs = heredocs;
        }
        "volume" => {
            let v = maybe_json_list(rest).map_err(|m| e(m.into()))?;
            if v.is_empty() {
                return Err(e("VOLUME requires at least one argument".into()));
            }
            if v.iter().any(|s| s.trim().is_empty()) {
                return Err(e("VOLUME specified can not be an empty string".into()));
            }
            i.value = v;
        }
        "env" | "label" => {
            i.value = name_vals(rest, &upper, escape).map_err(e)?;
        }
        "arg" => {
            let w = parse_words(rest, escape);
            if w.is_empty() {
                return Err(e("ARG requires at least one argument".into()));
            }
            i.value = w.iter().map(|w| unquote_word(w, escape)).collect();
        }
        "expose" => {
            let w = fields(rest);
            if w.is_empty() {
                return Err(e("EXPOSE requires at least one argument".into()));
            }
            i.value = w;
        }
        "maintainer" | "stopsignal" | "user" | "workdir" => {
            i.value = exactly_one(rest)?;
        }
        "healthcheck" => {
            let (typ, args) = split_command(rest);
            let typ = typ.to_ascii_uppercase();
            i.value = match typ.as_str() {
                "" => return Err(e("HEALTHCHECK requires at least one argument".into())),
                "NONE" if !args.is_empty() => {
                    return Err(e("HEALTHCHECK NONE takes no arguments".into()))
                }
                "NONE" => vec!["NONE".to_string()],
                "CMD" => {
                    let (v, _) = maybe_json(args).map_err(|m| e(m.into()))?;
                    if v.is_empty() {
                        return Err(e("Missing command after HEALTHCHECK CMD".into()));
                    }
                    std::iter::once("CMD".to_string()).chain(v).collect()
                }
                other => {
                    return Err(e(format!(
                        "Unknown type \"{other}\" in HEALTHCHECK (try CMD)"
                    )))
                }
            };
        }
        "onbuild" => {
            if rest.is_empty() {
                return Err(e("ONBUILD requires at least one argument".into()));
            }
            let inner_l = Logical {
                text: rest.to_string(),
                start: l.start,
                end: l.end,
                column: l.column,
            };
            let (inner_kw, _) = split_command(rest);
            match inner_kw.to_ascii_uppercase().as_str() {
                "ONBUILD" => {
                    return Err(e(
                        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into()
                    ))
                }
                t @ ("MAINTAINER" | "FROM") => {
                    return Err(e(format!("{t} isn't allowed as an ONBUILD trigger")))
                }
                _ => {}
            }
            let inner = instruction(&inner_l, heredocs, escape)?;
            i.value = std::iter::once(inner.cmd.to_uppercase())
                .chain(inner.value)
                .collect();
            i.flags = inner.flags;
            i.onbuild = true;
        }
        _ => return Err(e(format!("unknown instruction '{kw_raw}'"))),
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(t: &str) -> Vec<Instr> {
        match parse("Dockerfile", t) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    fn fails(t: &str) -> String {
        match parse("Dockerfile", t) {
            Ok(v) => panic!("accepted: {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn empty_exec_forms_are_valid() {
        // tomcat, among others: reset the base image's entrypoint.
        let v = ok("FROM a\nENTRYPOINT []\nCMD []\nRUN\n");
        assert_eq!(v[1].cmd, "entrypoint");
        assert!(v[1].json && v[1].value.is_empty());
        assert!(v[2].json && v[2].value.is_empty());
        assert!(v[3].value.is_empty());
    }

    #[test]
    fn continuations_comments_and_empty_lines() {
        let v = ok("FROM a\nRUN set -eux; \\\n\t\\\n# a comment\n\n\tapt-get update; \\\n    \\  \n\tapt-get install -y x\nUSER 1\n");
        assert_eq!(
            v[1].value,
            vec!["set -eux; \t\tapt-get update;     \tapt-get install -y x"]
        );
        assert_eq!((v[1].start_line, v[1].end_line), (2, 8));
        assert_eq!(v[2].start_line, 9);
    }

    #[test]
    fn escape_directive() {
        let v = ok("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN a `\n  b\n");
        assert_eq!(v[1].value, vec!["a   b"]);
        // After the first instruction or comment, it is a comment.
        let v = ok("# hello\n# escape=`\nFROM a\nRUN a `\n");
        assert_eq!(v[1].value, vec!["a `"]);
        assert!(fails("# escape=x\nFROM a\n").contains("invalid escape token"));
    }

    #[test]
    fn flags_json_and_heredocs() {
        let v = ok("FROM --platform=$BUILDPLATFORM a AS b\nRUN --mount=type=cache,target=/x --network=none [\"sh\", \"-c\", \"x\"] trailing\nCOPY --chown=1:1 <<EOF /app/\nhello\nEOF\nRUN <<-'END' bash\n\tapt-get update\n\tEND\nCMD echo \"<<EOF\"\n");
        assert_eq!(v[0].flags, vec!["--platform=$BUILDPLATFORM"]);
        assert_eq!(v[0].value, vec!["a", "AS", "b"]);
        assert_eq!(v[1].flags.len(), 2);
        assert!(v[1].json);
        assert_eq!(v[1].value, vec!["sh", "-c", "x"]);
        assert_eq!(v[2].value, vec!["<<EOF", "/app/"]);
        assert_eq!(v[2].heredocs[0].body, "hello\n");
        assert_eq!((v[2].start_line, v[2].end_line), (3, 5));
        assert_eq!(v[3].heredocs[0].name, "END");
        assert!(v[3].value[0].contains("apt-get update"));
        assert_eq!(v[4].value, vec!["echo \"<<EOF\""]);
        assert!(fails("FROM a\nRUN <<EOF\nx\n").contains("unterminated heredoc"));
        assert!(fails("FROM a\nRUN [1, 2]\n").contains("strings only"));
    }

    #[test]
    fn env_label_arg_forms() {
        let v = ok("FROM a\nENV A=1 B=\"x y\" C='$z'\nENV LEGACY some \"value\"\nLABEL a.b=c\nARG X Y=\"1 2\"\n");
        assert_eq!(v[1].value, vec!["A", "1", "B", "x y", "C", "$z"]);
        assert_eq!(v[2].value, vec!["LEGACY", "some value"]);
        assert_eq!(v[3].value, vec!["a.b", "c"]);
        assert_eq!(v[4].value, vec!["X", "Y=1 2"]);
        assert!(fails("FROM a\nENV ONLYNAME\n").contains("ENV must have two arguments"));
        assert!(fails("FROM a\nENV A=1 B\n").contains("can't find ="));
    }

    #[test]
    fn buildkit_errors() {
        assert!(fails("FROM a\nCOPY x\n").contains("COPY requires at least two arguments"));
        assert!(fails("FROM a b\n").contains("FROM requires either one or three"));
        assert!(fails("FROM a AS 1x\n").contains("invalid name for build stage"));
        assert!(fails("FROM a\nONBUILD FROM b\n").contains("isn't allowed as an ONBUILD trigger"));
        assert!(fails("FROM a\nHEALTHCHECK CMD\n").contains("Missing command"));
        assert!(fails("FROM a\nSHELL sh -c\n").contains("JSON form"));
        assert!(fails("").contains("file with no instructions"));
        assert!(fails("# only a comment\n\n").contains("file with no instructions"));
        let m = fails("FROM a\n  RUNN x\n");
        assert!(m.starts_with("Dockerfile:2:3: "), "{m}");
        assert!(m.contains("unknown instruction 'RUNN'"), "{m}");
    }

    #[test]
    fn healthcheck_and_onbuild() {
        let v = ok("FROM a\nHEALTHCHECK --interval=5s CMD [\"curl\", \"-f\", \"x\"]\nHEALTHCHECK NONE\nONBUILD RUN apk add x\n");
        assert_eq!(v[1].value, vec!["CMD", "curl", "-f", "x"]);
        assert_eq!(v[1].flags, vec!["--interval=5s"]);
        assert_eq!(v[2].value, vec!["NONE"]);
        assert!(v[3].onbuild);
        assert_eq!(v[3].value, vec!["RUN", "apk add x"]);
    }

    #[test]
    fn crlf_and_bom() {
        let v = ok("\u{feff}FROM a\r\nRUN a \\\r\n  b\r\n");
        assert_eq!(v[1].value, vec!["a   b"]);
    }
}
