//! Line bookkeeping and the quoting of offending lines, masked.

use customs_model::finding::{CauseMetadata, Code, Line};

/// A file's text with the offsets of its lines.
pub(crate) struct Text<'a> {
    pub s: &'a str,
    starts: Vec<usize>,
}

impl<'a> Text<'a> {
    pub fn new(s: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', s.as_bytes()).map(|i| i + 1));
        Text { s, starts }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Line `n` (1-based) without its end of line; empty past the end.
    pub fn line(&self, n: usize) -> &'a str {
        let Some(&start) = self.starts.get(n.wrapping_sub(1)) else {
            return "";
        };
        let end = self.starts.get(n).map(|e| e - 1).unwrap_or(self.s.len());
        self.s
            .get(start..end.max(start))
            .unwrap_or("")
            .trim_end_matches('\r')
    }

    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// Last line of the TOML table whose header is on line `header`: the
    /// line before the next header or the next blank line.
    pub fn block_end(&self, header: usize) -> usize {
        let mut end = header;
        for n in header + 1..=self.lines() {
            let l = self.line(n).trim();
            if l.is_empty() || l.starts_with('[') {
                break;
            }
            end = n;
        }
        end
    }

    /// Offset of the first `needle` at or after `from`.
    pub fn find_from(&self, needle: &str, from: usize) -> Option<usize> {
        self.s.get(from..)?.find(needle).map(|i| i + from)
    }

    /// Cause metadata quoting lines `start..=end`.
    pub fn cause(&self, start: usize, end: usize) -> CauseMetadata {
        if start == 0 {
            return CauseMetadata {
                code: Some(Code::default()),
                ..Default::default()
            };
        }
        let end = end.max(start).min(start + 20);
        let lines = (start..=end)
            .map(|n| quoted(n, self.line(n), n == start, n == end))
            .collect();
        CauseMetadata {
            start_line: start,
            end_line: end,
            code: Some(Code { lines }),
            ..Default::default()
        }
    }
}

/// Longest quoted line; a minified lockfile is one line of megabytes.
const MAX_LINE: usize = 240;

fn quoted(number: usize, raw: &str, first: bool, last: bool) -> Line {
    let masked = mask(raw);
    let (content, truncated) = if masked.len() > MAX_LINE {
        let mut cut = MAX_LINE;
        while !masked.is_char_boundary(cut) {
            cut -= 1;
        }
        (format!("{}…", &masked[..cut]), true)
    } else {
        (masked, false)
    };
    Line {
        number,
        highlighted: content.clone(),
        content,
        is_cause: true,
        truncated,
        first_cause: first,
        last_cause: last,
        ..Default::default()
    }
}

/// Masks credentials in a config or lockfile line: URL user info
/// (`https://user:token@host`) and the values of npm's `_authToken`,
/// `_auth`, `_password`, and of keys named like tokens or passwords.
pub(crate) fn mask(line: &str) -> String {
    let mut out = mask_userinfo(line);
    let lower = out.to_ascii_lowercase();
    for key in [
        "_authtoken",
        "_auth",
        "_password",
        "password",
        "token",
        "npmauthtoken",
        "npmauthident",
    ] {
        if let Some(i) = lower.find(key) {
            let rest = &lower[i + key.len()..];
            let sep = rest
                .char_indices()
                .find(|(_, c)| !c.is_whitespace() && *c != '"' && *c != '\'')
                .filter(|(_, c)| *c == '=' || *c == ':');
            if let Some((j, _)) = sep {
                let value_start = i + key.len() + j + 1;
                let value = out[value_start..].trim();
                if !value.is_empty() {
                    let lead = out[value_start..].len() - out[value_start..].trim_start().len();
                    out.replace_range(value_start + lead.., "****");
                }
                break;
            }
        }
    }
    out
}

fn mask_userinfo(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let auth_end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        match tail[..auth_end].rfind('@') {
            Some(at) => {
                out.push_str("****");
                out.push_str(&tail[at..auth_end]);
            }
            None => out.push_str(&tail[..auth_end]),
        }
        rest = &tail[auth_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_offsets() {
        let t = Text::new("a\nbb\r\n\nccc");
        assert_eq!(t.lines(), 4);
        assert_eq!(t.line(2), "bb");
        assert_eq!(t.line(3), "");
        assert_eq!(t.line(4), "ccc");
        assert_eq!(t.line(5), "");
        assert_eq!(t.line(0), "");
        assert_eq!(t.line_of(0), 1);
        assert_eq!(t.line_of(2), 2);
        assert_eq!(t.line_of(7), 4);
    }

    #[test]
    fn credentials_are_masked() {
        assert_eq!(
            mask("--extra-index-url https://bob:s3cret@pypi.corp/simple"),
            "--extra-index-url https://****@pypi.corp/simple"
        );
        assert_eq!(
            mask("//npm.corp/:_authToken=abcdef"),
            "//npm.corp/:_authToken=****"
        );
        assert_eq!(
            mask("registry=https://npm.corp/"),
            "registry=https://npm.corp/"
        );
        assert_eq!(mask("  npmAuthToken: \"xyz\""), "  npmAuthToken: ****");
    }
}
