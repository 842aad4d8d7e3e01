//! Elixir: `mix.lock`, an Elixir map literal:
//! `%{"name": {:hex, :name, "1.0.0", "hash", [:mix], [deps], "hexpm", "hash"}, ...}`.
//!
//! There is no Rust crate for Elixir terms: this is a small strict
//! hand-written parser of the subset mix writes (maps, tuples, lists,
//! keyword lists, strings, atoms, integers, `true`/`false`/`nil`).

use crate::util::{dedupe, new_pkg, pkg_id, utf8};
use crate::LangError;
use customs_model::lang_type as lt;
use customs_model::{normalize_name, Package};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
enum Term {
    Map(Vec<(Term, Term)>),
    Tuple(Vec<Term>),
    List(Vec<Term>),
    Str(String),
    Atom(String),
    Int(String),
}

const MAX_DEPTH: usize = 64;

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

type R<T> = Result<T, String>;

impl<'a> P<'a> {
    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            if c == b'#' {
                while self.s.get(self.i).is_some_and(|&c| c != b'\n') {
                    self.i += 1;
                }
            } else if c.is_ascii_whitespace() {
                self.i += 1;
            } else {
                break;
            }
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, lit: &[u8]) -> bool {
        self.ws();
        if self.s.get(self.i..).is_some_and(|r| r.starts_with(lit)) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }
    fn expect(&mut self, lit: &str) -> R<()> {
        if self.eat(lit.as_bytes()) {
            Ok(())
        } else {
            Err(format!("expected `{lit}` at byte {}", self.i))
        }
    }
    fn ident(&mut self) -> Option<String> {
        let start = self.i;
        while let Some(&c) = self.s.get(self.i) {
            let first = self.i == start;
            if c.is_ascii_alphabetic()
                || c == b'_'
                || (!first && (c.is_ascii_digit() || matches!(c, b'?' | b'!' | b'@')))
            {
                self.i += 1;
            } else {
                break;
            }
        }
        (self.i > start).then(|| {
            String::from_utf8_lossy(self.s.get(start..self.i).unwrap_or_default()).into_owned()
        })
    }
    fn string(&mut self) -> R<String> {
        self.expect("\"")?;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err("unterminated string".into()),
                Some(b'"') => {
                    self.i += 1;
                    break;
                }
                Some(b'\\') => {
                    let e = *self.s.get(self.i + 1).ok_or("unterminated string")?;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        other => other,
                    });
                    self.i += 2;
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
    /// Items separated by commas up to `close`; a trailing comma is allowed.
    fn seq(&mut self, close: u8, depth: usize, kw: bool) -> R<Vec<Term>> {
        let mut items = Vec::new();
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok(items);
            }
            items.push(self.item(depth, kw)?);
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {}
                _ => {
                    return Err(format!(
                        "expected `,` or `{}` at byte {}",
                        close as char, self.i
                    ))
                }
            }
        }
    }
    /// A list item: a keyword pair `key: value` becomes `{:key, value}`.
    fn item(&mut self, depth: usize, kw: bool) -> R<Term> {
        if kw {
            let save = self.i;
            self.ws();
            if let Some(k) = self.ident() {
                if self.s.get(self.i) == Some(&b':')
                    && self
                        .s
                        .get(self.i + 1)
                        .is_some_and(|c| c.is_ascii_whitespace())
                {
                    self.i += 1;
                    let v = self.value(depth + 1)?;
                    return Ok(Term::Tuple(vec![Term::Atom(k), v]));
                }
            }
            self.i = save;
        }
        self.value(depth + 1)
    }
    fn value(&mut self, depth: usize) -> R<Term> {
        if depth > MAX_DEPTH {
            return Err("nesting too deep".into());
        }
        match self.peek() {
            Some(b'%') => {
                self.expect("%{")?;
                let mut entries = Vec::new();
                loop {
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Ok(Term::Map(entries));
                    }
                    let key = if self.peek() == Some(b'"') {
                        let k = self.string()?;
                        if self.s.get(self.i) == Some(&b':') {
                            self.i += 1;
                            Term::Str(k)
                        } else {
                            self.expect("=>")?;
                            Term::Str(k)
                        }
                    } else {
                        let k = self.value(depth + 1)?;
                        self.expect("=>")?;
                        k
                    };
                    let v = self.value(depth + 1)?;
                    entries.push((key, v));
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {}
                        _ => return Err(format!("expected `,` or `}}` at byte {}", self.i)),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                Ok(Term::Tuple(self.seq(b'}', depth, false)?))
            }
            Some(b'[') => {
                self.i += 1;
                Ok(Term::List(self.seq(b']', depth, true)?))
            }
            Some(b'"') => Ok(Term::Str(self.string()?)),
            Some(b':') => {
                self.i += 1;
                if self.s.get(self.i) == Some(&b'"') {
                    return Ok(Term::Atom(self.string()?));
                }
                self.ident()
                    .map(Term::Atom)
                    .ok_or_else(|| format!("bad atom at byte {}", self.i))
            }
            Some(c) if c.is_ascii_digit() || c == b'-' => {
                let start = self.i;
                self.i += 1;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_digit() || *c == b'_' || *c == b'.')
                {
                    self.i += 1;
                }
                Ok(Term::Int(
                    String::from_utf8_lossy(self.s.get(start..self.i).unwrap_or_default())
                        .into_owned(),
                ))
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let id = self.ident().unwrap_or_default();
                match id.as_str() {
                    "true" | "false" | "nil" => Ok(Term::Atom(id)),
                    _ => Err(format!("unexpected identifier {id:?} at byte {}", self.i)),
                }
            }
            Some(c) => Err(format!("unexpected {:?} at byte {}", c as char, self.i)),
            None => Err("unexpected end of input".into()),
        }
    }
}

fn parse_term(text: &str) -> R<Term> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
    };
    let t = p.value(0)?;
    if p.peek().is_some() {
        return Err(format!("trailing data at byte {}", p.i));
    }
    Ok(t)
}

/// `mix.lock`: `:hex` entries (name = the Hex package, version); `:git` and
/// `:path` entries name no registry version and are skipped. Dependency
/// edges come from each entry's dependency list.
pub fn parse_mix_lock(path: &str, data: &[u8]) -> Result<Vec<Package>, LangError> {
    let text = utf8(path, data)?;
    let term =
        parse_term(text).map_err(|e| LangError::new(path, format!("invalid mix.lock: {e}")))?;
    let Term::Map(entries) = term else {
        return Err(LangError::new(path, "mix.lock is not a map"));
    };
    struct Hex<'a> {
        name: String,
        version: &'a str,
        deps: Vec<String>,
    }
    let mut hex: Vec<Hex> = Vec::new();
    for (key, val) in &entries {
        let Term::Str(app) = key else { continue };
        let Term::Tuple(t) = val else {
            return Err(LangError::new(
                path,
                format!("entry {app:?} is not a tuple"),
            ));
        };
        match t.first() {
            Some(Term::Atom(a)) if a == "hex" => {
                let (Some(Term::Atom(name)), Some(Term::Str(version))) = (t.get(1), t.get(2))
                else {
                    return Err(LangError::new(
                        path,
                        format!("entry {app:?}: expected {{:hex, :name, \"version\", ...}}"),
                    ));
                };
                let mut deps = Vec::new();
                if let Some(Term::List(ds)) = t.get(5) {
                    for d in ds {
                        let Term::Tuple(dt) = d else { continue };
                        let Some(Term::Atom(dep_app)) = dt.first() else {
                            continue;
                        };
                        // `hex: :real_name` in the options names the package.
                        let mut dep_name = dep_app.clone();
                        if let Some(Term::List(opts)) = dt.get(2) {
                            for o in opts {
                                if let Term::Tuple(kv) = o {
                                    if let [Term::Atom(k), Term::Atom(v)] = kv.as_slice() {
                                        if k == "hex" {
                                            dep_name = v.clone();
                                        }
                                    }
                                }
                            }
                        }
                        deps.push(dep_name);
                    }
                }
                hex.push(Hex {
                    name: normalize_name("Hex", name),
                    version,
                    deps,
                });
            }
            Some(Term::Atom(a)) => tracing::debug!(
                file = path,
                app,
                source = a.as_str(),
                "non-hex mix.lock entry skipped"
            ),
            _ => {
                return Err(LangError::new(
                    path,
                    format!("entry {app:?} has no source atom"),
                ))
            }
        }
    }
    let ids: HashMap<&str, String> = hex
        .iter()
        .map(|h| (h.name.as_str(), pkg_id(lt::HEX, &h.name, h.version)))
        .collect();
    let mut out = Vec::new();
    for h in &hex {
        let mut p = new_pkg(lt::HEX, &h.name, h.version);
        p.depends_on = h
            .deps
            .iter()
            .filter_map(|d| ids.get(normalize_name("Hex", d).as_str()).cloned())
            .collect();
        out.push(p);
    }
    Ok(dedupe(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms() {
        let t =
            parse_term(r#"%{"a": {:hex, :a, "1.0", [x: 1, y: :z], [:mix]}, "b" => [1, "s\"q",]}"#);
        assert!(t.is_ok(), "{t:?}");
        assert!(parse_term("%{\"a\": {:hex, :a, \"1.0\"").is_err());
        assert!(parse_term(&"[".repeat(200)).is_err());
        assert!(parse_term("%{} extra").is_err());
    }
}
