//! The base images of a Dockerfile and in-place rewriting of their tags.
//!
//! Instructions, line numbers, continuations, comments and `# escape=` come
//! from customs-misconfig's parser; this module only finds, on the lines it
//! names, the byte ranges of the `FROM` image token and of `ARG` defaults,
//! and follows `${VAR}` substitution with each character's origin, so that a
//! rewrite changes the bytes the tag was written in and nothing else.
//!
//! As in Docker, a `FROM` sees the global `ARG`s (those before the first
//! `FROM`); an `ARG` inside a stage does not apply to the next `FROM`.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use customs_image::ImageRef;
use customs_misconfig::dockerfile::{split_arg, Dockerfile, Instr};

/// A one-line error, naming the file when there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

/// A byte range in the file text; `arg` names the `ARG` when the range is
/// inside an `ARG` default, `None` when it is inside the `FROM` line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    pub start: usize,
    pub end: usize,
    pub arg: Option<String>,
}

/// One piece of a tag assembled from several places
/// (`${GO_VERSION}-alpine${ALPINE_VERSION}`): its text, where it is written,
/// and whether a rewrite may change it (the whole default of an `ARG` that
/// has no `$` in it) or must keep it (text of the `FROM` line or of an `ARG`
/// template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPart {
    pub text: String,
    pub site: Option<Site>,
    pub editable: bool,
}

/// One base image reference of a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// Index of the `FROM`.
    pub stage: usize,
    /// `AS name`.
    pub stage_name: Option<String>,
    /// 1-based line of the `FROM`.
    pub line: usize,
    /// The image token as written: `debian:${DEBIAN_VERSION}`.
    pub written: String,
    /// With `ARG` defaults substituted: `debian:bullseye-20260202-slim`
    /// (as written when a variable has no value).
    pub image: String,
    /// `--platform=` value as written.
    pub platform: Option<String>,
    /// Where the whole tag text lives, when it is written in one place:
    /// inside the `FROM` line or in the default of the `ARG` it came from.
    /// `None`: no tag, the tag is assembled from several places (see
    /// [`Base::tag_parts`] and [`retag`]), or the base is skipped.
    pub tag_site: Option<Site>,
    /// Where the digest text (`sha256:…`) lives, likewise.
    pub digest_site: Option<Site>,
    /// Why it is not checked, if so (one user-facing line).
    pub skip: Option<String>,
    /// The image without tag and digest, as substituted (`debian`,
    /// `localhost:5000/app`).
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// The tag's pieces by origin (one piece when it is written in one place).
    pub tag_parts: Vec<TagPart>,
}

/// One change: replace the bytes of `site` with `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub site: Site,
    pub new: String,
}

/// A character of a substituted string with where it was written.
#[derive(Debug, Clone, Copy)]
struct Ch {
    c: char,
    /// Byte offset in the file, when known.
    pos: Option<usize>,
    /// Index of the `ARG` default it is written in (`None`: the `FROM` line).
    src: Option<usize>,
}

/// A global `ARG` default as a source of text.
struct Def {
    name: String,
    /// The default has no `$`: its text is the value.
    leaf: bool,
}

type Env = HashMap<String, Option<Vec<Ch>>>;

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

/// The `# escape=` directive's character (default `\`).
fn escape_char(text: &str) -> char {
    for line in text.lines() {
        let Some(d) = line.trim().strip_prefix('#') else {
            break;
        };
        match d.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("escape") => {
                if let Some(c) = v.trim().chars().next() {
                    return c;
                }
            }
            Some(_) => {}
            None => break,
        }
    }
    '\\'
}

/// The byte range of an instruction's lines.
fn region(starts: &[usize], len: usize, i: &Instr) -> (usize, usize) {
    let start = starts
        .get(i.start_line.saturating_sub(1))
        .copied()
        .unwrap_or(len);
    let end = starts.get(i.end_line).copied().unwrap_or(len);
    (start.min(len), end.clamp(start.min(len), len))
}

/// A scanner over an instruction's text that skips blanks and line
/// continuations between words.
struct Scan<'a> {
    text: &'a str,
    pos: usize,
    end: usize,
    escape: char,
}

impl<'a> Scan<'a> {
    fn rest(&self) -> &'a str {
        self.text.get(self.pos..self.end).unwrap_or("")
    }

    /// Skip blanks and continuations; false at the end.
    fn skip_blank(&mut self) -> bool {
        loop {
            let r = self.rest();
            let Some(c) = r.chars().next() else {
                return false;
            };
            if c == ' ' || c == '\t' {
                self.pos += 1;
            } else if c == self.escape {
                let after = &r[c.len_utf8()..];
                let trimmed = after.trim_start_matches([' ', '\t']);
                let nl = if trimmed.starts_with("\r\n") {
                    2
                } else if trimmed.starts_with('\n') {
                    1
                } else {
                    return true;
                };
                self.pos += c.len_utf8() + (after.len() - trimmed.len()) + nl;
            } else if c == '\n' || c == '\r' {
                // A line break not escaped ends the instruction (or, inside a
                // continuation, a comment line follows: not handled here).
                return false;
            } else {
                return true;
            }
        }
    }

    /// The next word up to a blank: (start, end).
    fn word(&mut self) -> (usize, usize) {
        let start = self.pos;
        let n = self
            .rest()
            .find([' ', '\t', '\n', '\r'])
            .unwrap_or(self.rest().len());
        self.pos += n;
        (start, self.pos)
    }
}

/// Offset of the image token of a `FROM`, checked against the parser's.
fn locate_from(text: &str, (start, end): (usize, usize), i: &Instr, escape: char) -> Option<usize> {
    let mut s = Scan {
        text,
        pos: start,
        end,
        escape,
    };
    s.skip_blank();
    let (a, b) = s.word();
    if !text.get(a..b)?.eq_ignore_ascii_case("from") {
        return None;
    }
    let want = i.value.first()?;
    while s.skip_blank() {
        let (a, b) = s.word();
        let w = text.get(a..b)?;
        if w.starts_with("--") {
            continue;
        }
        return (w == want).then_some(a);
    }
    None
}

/// Byte ranges of the default values of an `ARG`, one per argument, each
/// checked against the parser's value (`None` where they differ: escapes,
/// odd quoting).
fn locate_arg_values(
    text: &str,
    (start, end): (usize, usize),
    i: &Instr,
    escape: char,
) -> Vec<Option<(usize, usize)>> {
    let none = vec![None; i.value.len()];
    let mut s = Scan {
        text,
        pos: start,
        end,
        escape,
    };
    s.skip_blank();
    let (a, b) = s.word();
    if !text
        .get(a..b)
        .is_some_and(|k| k.eq_ignore_ascii_case("arg"))
    {
        return none;
    }
    let mut out = Vec::new();
    while s.skip_blank() {
        let r = s.rest();
        let name_len = r.find(['=', ' ', '\t', '\n', '\r']).unwrap_or(r.len());
        s.pos += name_len;
        if !s.rest().starts_with('=') {
            out.push(None);
            continue;
        }
        s.pos += 1;
        let r = s.rest();
        let range = match r.chars().next() {
            Some(q @ ('"' | '\'')) => match r[1..].find(q) {
                Some(close) => {
                    let inner = (s.pos + 1, s.pos + 1 + close);
                    s.pos += close + 2;
                    let next = s.rest().chars().next();
                    let clean = !r[1..1 + close].contains(escape)
                        && next.is_none_or(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
                    clean.then_some(inner)
                }
                None => return none,
            },
            _ => {
                let (a, b) = s.word();
                let v = text.get(a..b).unwrap_or("");
                (!v.contains(['"', '\'', escape])).then_some((a, b))
            }
        };
        // Skip whatever remains of the word.
        s.word();
        out.push(range);
    }
    if out.len() != i.value.len() {
        return none;
    }
    out.into_iter()
        .zip(&i.value)
        .map(|(r, w)| {
            let (_, v) = split_arg(w);
            r.filter(|&(a, b)| text.get(a..b).is_some() && v == text.get(a..b))
        })
        .collect()
}

fn chars_at(s: &str, start: Option<usize>, src: Option<usize>) -> Vec<Ch> {
    s.char_indices()
        .map(|(i, c)| Ch {
            c,
            pos: start.map(|p| p + i),
            src,
        })
        .collect()
}

fn text_of(v: &[Ch]) -> String {
    v.iter().map(|c| c.c).collect()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Substitute `$NAME`, `${NAME}`, `${NAME:-w}`, `${NAME-w}`, `${NAME:+w}`,
/// `${NAME+w}` and `\$`, keeping each character's origin. `Err(name)` when
/// a variable has no value.
fn expand(input: &[Ch], env: &Env) -> Result<Vec<Ch>, String> {
    let value = |n: &str| env.get(n).cloned().flatten();
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let c = input[i];
        if c.c == '\\' && input.get(i + 1).is_some_and(|n| n.c == '$') {
            out.push(input[i + 1]);
            i += 2;
            continue;
        }
        if c.c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match input.get(i + 1).map(|n| n.c) {
            Some('{') => {
                let mut depth = 1;
                let mut j = i + 2;
                while j < input.len() {
                    match input[j].c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let inner = input.get(i + 2..j.min(input.len())).unwrap_or(&[]);
                let name_end = inner
                    .iter()
                    .position(|c| !is_name_char(c.c))
                    .unwrap_or(inner.len());
                let name = text_of(&inner[..name_end]);
                let op = &inner[name_end..];
                let op_text = text_of(op);
                let val = value(&name);
                let word = |k: usize| expand(&op[k..], env);
                let sub = if op_text.starts_with(":-") {
                    match val {
                        Some(v) if !v.is_empty() => v,
                        _ => word(2)?,
                    }
                } else if op_text.starts_with('-') {
                    match val {
                        Some(v) => v,
                        None => word(1)?,
                    }
                } else if op_text.starts_with(":+") {
                    match val {
                        Some(v) if !v.is_empty() => word(2)?,
                        _ => Vec::new(),
                    }
                } else if op_text.starts_with('+') {
                    match val {
                        Some(_) => word(1)?,
                        None => Vec::new(),
                    }
                } else {
                    val.ok_or(name)?
                };
                out.extend(sub);
                i = j + 1;
            }
            Some(n) if n == '_' || n.is_ascii_alphabetic() => {
                let mut j = i + 1;
                while input.get(j).is_some_and(|c| is_name_char(c.c)) {
                    j += 1;
                }
                let name = text_of(&input[i + 1..j]);
                out.extend(value(&name).ok_or(name)?);
                i = j;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// The site of characters written contiguously in one place.
fn site_of(chs: &[Ch], defs: &[Def]) -> Option<Site> {
    let first = chs.first()?;
    let start = first.pos?;
    let mut next = start;
    for c in chs {
        if c.pos != Some(next) || c.src != first.src {
            return None;
        }
        next += c.c.len_utf8();
    }
    Some(Site {
        start,
        end: next,
        arg: first.src.and_then(|i| defs.get(i)).map(|d| d.name.clone()),
    })
}

/// Split characters into runs written contiguously in one place.
fn parts_of(chs: &[Ch], defs: &[Def]) -> Vec<TagPart> {
    let mut runs: Vec<Vec<Ch>> = Vec::new();
    for &c in chs {
        let joins = runs.last().and_then(|r| r.last()).is_some_and(|p| {
            p.src == c.src
                && match (p.pos, c.pos) {
                    (Some(a), Some(b)) => a + p.c.len_utf8() == b,
                    (None, None) => true,
                    _ => false,
                }
        });
        match runs.last_mut() {
            Some(r) if joins => r.push(c),
            _ => runs.push(vec![c]),
        }
    }
    runs.into_iter()
        .map(|r| {
            let site = site_of(&r, defs);
            let editable =
                site.is_some() && r[0].src.and_then(|i| defs.get(i)).is_some_and(|d| d.leaf);
            TagPart {
                text: text_of(&r),
                site,
                editable,
            }
        })
        .collect()
}

/// The base image references of a Dockerfile, one per `FROM`.
pub fn bases(path: &str, text: &str) -> Result<Vec<Base>, Error> {
    let d = Dockerfile::parse(path, text).map_err(|e| {
        let m = e.to_string();
        if m.contains("at least one FROM") {
            Error(format!("{path}: no FROM instruction"))
        } else {
            Error(m.replace(['\n', '\r'], " "))
        }
    })?;
    if d.stages.is_empty() {
        return Err(Error(format!("{path}: no FROM instruction")));
    }
    let starts = line_starts(text);
    let escape = escape_char(text);
    let mut defs: Vec<Def> = Vec::new();
    let mut env: Env = HashMap::new();
    for i in d
        .instrs
        .iter()
        .filter(|i| i.stage.is_none() && i.cmd == "arg")
    {
        let ranges = locate_arg_values(text, region(&starts, text.len(), i), i, escape);
        for (w, range) in i.value.iter().zip(ranges) {
            let (name, default) = split_arg(w);
            let val = default.and_then(|v| {
                let chs = match range {
                    Some((a, _)) => {
                        defs.push(Def {
                            name: name.to_string(),
                            leaf: !v.contains('$'),
                        });
                        chars_at(v, Some(a), Some(defs.len() - 1))
                    }
                    None => chars_at(v, None, None),
                };
                expand(&chs, &env).ok()
            });
            env.insert(name.to_string(), val);
        }
    }
    let mut out = Vec::new();
    for (si, stage) in d.stages.iter().enumerate() {
        let Some(from) = d.instrs.get(stage.from) else {
            continue;
        };
        let written = stage.image_raw.clone();
        let at = locate_from(text, region(&starts, text.len(), from), from, escape);
        let mut b = Base {
            stage: si,
            stage_name: stage.alias.clone(),
            line: from.start_line,
            written: written.clone(),
            image: written.clone(),
            platform: from.flag("platform").map(str::to_string),
            tag_site: None,
            digest_site: None,
            skip: None,
            name: String::new(),
            tag: None,
            digest: None,
            tag_parts: Vec::new(),
        };
        let chs = match expand(&chars_at(&written, at, None), &env) {
            Err(var) => {
                b.skip = Some(format!(
                    "{written}: the variable {var} has no default (set one in an ARG before the first FROM)"
                ));
                out.push(b);
                continue;
            }
            Ok(chs) => chs,
        };
        // The parser's substitution decides the value; origins are kept
        // only where both agree.
        let chs = match &stage.image {
            Some(m) if *m == text_of(&chs) => chs,
            Some(m) => chars_at(m, None, None),
            None => {
                b.skip = Some(format!("{written}: a variable in it has no value"));
                out.push(b);
                continue;
            }
        };
        let image = text_of(&chs);
        b.image = image.clone();
        if image.eq_ignore_ascii_case("scratch") {
            b.skip = Some("scratch: an empty base, nothing to update".to_string());
            out.push(b);
            continue;
        }
        if d.is_earlier_alias(&image, si) {
            b.skip = Some(format!("{image}: an earlier stage of this Dockerfile"));
            out.push(b);
            continue;
        }
        let r = match ImageRef::parse(&image) {
            Ok(r) => r,
            Err(e) => {
                b.skip = Some(e);
                out.push(b);
                continue;
            }
        };
        // Byte offsets of each character in `image`.
        let offs: Vec<usize> = image.char_indices().map(|(i, _)| i).collect();
        let slice = |a: usize, e: usize| -> Vec<Ch> {
            chs.iter()
                .zip(&offs)
                .filter(|(_, &o)| o >= a && o < e)
                .map(|(c, _)| *c)
                .collect()
        };
        let at_sign = image.find('@');
        let before = &image[..at_sign.unwrap_or(image.len())];
        let slash = before.rfind('/').map_or(0, |s| s + 1);
        let colon = before[slash..].rfind(':').map(|c| c + slash);
        let name_end = colon.or(at_sign).unwrap_or(image.len());
        b.name = image[..name_end].to_string();
        // oci-spec implies `latest` for an untagged name: keep what is written.
        b.tag = colon.and(r.tag.clone());
        b.digest = r.digest.clone();
        if let Some(c) = colon {
            let end = at_sign.unwrap_or(image.len());
            if r.tag.as_deref() == image.get(c + 1..end) {
                let t = slice(c + 1, end);
                b.tag_site = site_of(&t, &defs);
                b.tag_parts = parts_of(&t, &defs);
            }
        }
        if let Some(a) = at_sign {
            if r.digest.as_deref() == image.get(a + 1..) {
                b.digest_site = site_of(&slice(a + 1, image.len()), &defs);
            }
        }
        out.push(b);
    }
    Ok(out)
}

/// Whether `t` is a valid tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(t: &str) -> bool {
    t.len() <= 128
        && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The edits that make `base`'s tag `new_tag`: one edit of
/// [`Base::tag_site`] when the tag is written in one place; for a tag
/// assembled from several (`${GO_VERSION}-alpine${ALPINE_VERSION}`), the new
/// tag is split at the kept pieces (`-alpine`) and each `ARG` default that
/// changes gets its edit. Empty when nothing changes.
pub fn retag(base: &Base, new_tag: &str) -> Result<Vec<Edit>, Error> {
    let who = format!("line {}: {}", base.line, base.written);
    if let Some(s) = &base.skip {
        return Err(Error(format!("{who}: not checked ({s})")));
    }
    if !valid_tag(new_tag) {
        return Err(Error(format!("{who}: '{new_tag}' is not a valid tag")));
    }
    if let Some(site) = &base.tag_site {
        if base.tag.as_deref() == Some(new_tag) {
            return Ok(Vec::new());
        }
        return Ok(vec![Edit {
            site: site.clone(),
            new: new_tag.to_string(),
        }]);
    }
    let parts = &base.tag_parts;
    if parts.is_empty() {
        return Err(Error(format!("{who}: no tag that can be rewritten")));
    }
    let cant = || {
        Error(format!(
            "{who}: cannot rewrite the tag to '{new_tag}': its fixed parts ({}) do not match",
            parts
                .iter()
                .filter(|p| !p.editable)
                .map(|p| format!("'{}'", p.text))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    // Place each fixed part in the new tag; editable parts take what is
    // between.
    let mut cursor = 0;
    let mut spans: Vec<(usize, usize)> = vec![(0, 0); parts.len()];
    let mut gap_start = 0;
    let mut gap_parts: Vec<usize> = Vec::new();
    let mut close_gap = |gap_parts: &mut Vec<usize>, from: usize, to: usize| -> Result<(), Error> {
        match gap_parts.len() {
            0 if from == to => Ok(()),
            0 => Err(cant()),
            1 => {
                spans[gap_parts[0]] = (from, to);
                gap_parts.clear();
                Ok(())
            }
            _ => {
                // Several variables side by side: only unchanged text can be
                // split back.
                let old: String = gap_parts.iter().map(|&k| parts[k].text.as_str()).collect();
                if new_tag.get(from..to) != Some(old.as_str()) {
                    return Err(Error(format!(
                        "{who}: cannot tell how '{new_tag}' splits over adjacent variables"
                    )));
                }
                let mut p = from;
                for &k in gap_parts.iter() {
                    spans[k] = (p, p + parts[k].text.len());
                    p += parts[k].text.len();
                }
                gap_parts.clear();
                Ok(())
            }
        }
    };
    for (k, p) in parts.iter().enumerate() {
        if p.editable {
            gap_parts.push(k);
            continue;
        }
        let last = k + 1 == parts.len();
        let found = if gap_parts.is_empty() {
            new_tag
                .get(cursor..)
                .is_some_and(|r| r.starts_with(&p.text))
                .then_some(cursor)
        } else if last {
            new_tag
                .ends_with(&p.text)
                .then(|| new_tag.len() - p.text.len())
                .filter(|&at| at > cursor)
        } else {
            new_tag
                .get(cursor + 1..)
                .and_then(|r| r.find(&p.text))
                .map(|at| at + cursor + 1)
        };
        let at = found.ok_or_else(cant)?;
        close_gap(&mut gap_parts, gap_start, at)?;
        cursor = at + p.text.len();
        gap_start = cursor;
        if last && cursor != new_tag.len() {
            return Err(cant());
        }
    }
    close_gap(&mut gap_parts, gap_start, new_tag.len())?;
    let mut edits = Vec::new();
    for (p, &(a, e)) in parts.iter().zip(&spans) {
        let new = new_tag.get(a..e).unwrap_or("");
        if !p.editable || new == p.text {
            continue;
        }
        if new.is_empty() {
            return Err(Error(format!(
                "{who}: '{new_tag}' would leave the variable part '{}' empty",
                p.text
            )));
        }
        match &p.site {
            Some(site) => edits.push(Edit {
                site: site.clone(),
                new: new.to_string(),
            }),
            None => return Err(cant()),
        }
    }
    Ok(edits)
}

/// The edit that makes `base`'s digest `new_digest` (`sha256:…`).
pub fn redigest(base: &Base, new_digest: &str) -> Result<Vec<Edit>, Error> {
    let who = format!("line {}: {}", base.line, base.written);
    let ok = new_digest.split_once(':').is_some_and(|(alg, hex)| {
        !alg.is_empty()
            && alg
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
            && hex.len() >= 32
            && hex.chars().all(|c| c.is_ascii_hexdigit())
    });
    if !ok {
        return Err(Error(format!("{who}: '{new_digest}' is not a digest")));
    }
    match &base.digest_site {
        Some(_) if base.digest.as_deref() == Some(new_digest) => Ok(Vec::new()),
        Some(site) => Ok(vec![Edit {
            site: site.clone(),
            new: new_digest.to_string(),
        }]),
        None => Err(Error(format!("{who}: no digest that can be rewritten"))),
    }
}

fn describe(s: &Site) -> String {
    match &s.arg {
        Some(a) => format!("the default of ARG {a} (bytes {}..{})", s.start, s.end),
        None => format!("bytes {}..{}", s.start, s.end),
    }
}

/// Apply edits: only their bytes change. Edits must not overlap; the same
/// site edited twice to the same text is one edit, to different texts an
/// error.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, Error> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.site.start, e.site.end));
    let mut kept: Vec<&Edit> = Vec::with_capacity(sorted.len());
    for e in sorted {
        let (s, t) = (e.site.start, e.site.end);
        if s > t || t > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(t) {
            return Err(Error(format!(
                "edit of {} is outside the file ({} bytes)",
                describe(&e.site),
                text.len()
            )));
        }
        if let Some(prev) = kept.last() {
            if (prev.site.start, prev.site.end) == (s, t) {
                if prev.new == e.new {
                    continue;
                }
                return Err(Error(format!(
                    "conflicting edits of {}: '{}' and '{}'",
                    describe(&e.site),
                    prev.new,
                    e.new
                )));
            }
            if prev.site.end > s {
                return Err(Error(format!(
                    "overlapping edits of {} and {}",
                    describe(&prev.site),
                    describe(&e.site)
                )));
            }
        }
        kept.push(e);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for e in kept {
        out.push_str(&text[at..e.site.start]);
        out.push_str(&e.new);
        at = e.site.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// A unified diff (`--- a/PATH` / `+++ b/PATH`, 3 lines of context) of old
/// → new; empty when equal.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// Write `text` to `path` atomically: a temporary file beside it (beside
/// the target of a symlink), given the file's permissions, synced, then
/// renamed over it. A failure leaves the old file as it was.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let target = match std::fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".customs-base-")
        .tempfile_in(&dir)?;
    tmp.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(&target) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}
