//! Build-argument substitution as the Dockerfile frontend does it: `$NAME`,
//! `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}`,
//! `${NAME+alt}`, and `\$` for a literal dollar. Hand-written: it is a few
//! dozen lines and no crate implements Dockerfile's exact rules.

/// Expand variables in `s`. Returns `None` when a referenced variable has no
/// value and no default, so callers can tell "unknown" from "empty".
pub fn expand(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut resolved = true;
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'$') => {
                out.push('$');
                chars.next();
            }
            '$' => match chars.peek().copied() {
                Some('{') => {
                    chars.next();
                    let mut inner = String::new();
                    let mut depth = 1;
                    for c in chars.by_ref() {
                        match c {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        inner.push(c);
                    }
                    match braced(&inner, lookup) {
                        Some(v) => out.push_str(&v),
                        None => resolved = false,
                    }
                }
                Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                    let mut name = String::new();
                    while let Some(&c) = chars.peek() {
                        if c == '_' || c.is_ascii_alphanumeric() {
                            name.push(c);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    match lookup(&name) {
                        Some(v) => out.push_str(&v),
                        None => resolved = false,
                    }
                }
                _ => out.push('$'),
            },
            c => out.push(c),
        }
    }
    resolved.then_some(out)
}

fn braced(inner: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let name_end = inner
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(inner.len());
    let (name, op) = inner.split_at(name_end);
    let val = lookup(name);
    let sub = |w: &str| expand(w, lookup);
    if let Some(w) = op.strip_prefix(":-") {
        match val {
            Some(v) if !v.is_empty() => Some(v),
            _ => sub(w),
        }
    } else if let Some(w) = op.strip_prefix('-') {
        val.or_else(|| sub(w))
    } else if let Some(w) = op.strip_prefix(":+") {
        match val {
            Some(v) if !v.is_empty() => sub(w),
            _ => Some(String::new()),
        }
    } else if let Some(w) = op.strip_prefix('+') {
        match val {
            Some(_) => sub(w),
            None => Some(String::new()),
        }
    } else {
        val
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(n: &str) -> Option<String> {
        match n {
            "TAG" => Some("3.19".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn forms() {
        assert_eq!(expand("alpine:$TAG", &look).as_deref(), Some("alpine:3.19"));
        assert_eq!(
            expand("alpine:${TAG}", &look).as_deref(),
            Some("alpine:3.19")
        );
        assert_eq!(expand("a:${NOPE:-1.0}", &look).as_deref(), Some("a:1.0"));
        assert_eq!(expand("a:${EMPTY:-x}", &look).as_deref(), Some("a:x"));
        assert_eq!(expand("a:${EMPTY-x}", &look).as_deref(), Some("a:"));
        assert_eq!(expand("a${TAG:+-t}", &look).as_deref(), Some("a-t"));
        assert_eq!(expand("${NOPE}/img", &look), None);
        assert_eq!(expand("cost \\$5", &look).as_deref(), Some("cost $5"));
        assert_eq!(expand("end$", &look).as_deref(), Some("end$"));
        assert_eq!(expand("${unterminated", &look), None);
    }
}
