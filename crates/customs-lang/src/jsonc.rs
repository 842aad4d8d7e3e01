//! JSONC (JSON with comments and trailing commas, as `bun.lock` is written)
//! to plain JSON. Hand-written: a small state machine that drops `//` and
//! `/* */` comments and commas that precede `}` or `]`, outside strings.

pub fn to_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    // Index in `out` of a comma that may turn out to be trailing.
    let mut pending_comma: Option<usize> = None;
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                pending_comma = None;
                in_str = true;
                out.push(c);
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = '\0';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            ',' => {
                pending_comma = Some(out.len());
                out.push(c);
            }
            '}' | ']' => {
                if let Some(i) = pending_comma.take() {
                    out.replace_range(i..i + 1, " ");
                }
                out.push(c);
            }
            c if c.is_whitespace() => out.push(c),
            _ => {
                pending_comma = None;
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_json;

    #[test]
    fn strips_comments_and_trailing_commas() {
        let j = to_json("{\n // c\n \"a\": [1, 2,], /* x */ \"b\": \"//,}\",\n}");
        let v: serde_json::Value = serde_json::from_str(&j).unwrap_or_default();
        assert_eq!(v, serde_json::json!({"a": [1, 2], "b": "//,}"}));
    }
}
