//! Escaping of image-derived text for the terminal.
//!
//! File names, package names, versions and layer commands come from the
//! image, which may be hostile: an ESC or BEL byte in a file name would
//! otherwise reach the terminal as a control sequence (retitle the window,
//! recolour or erase the screen, forge lines), and a Unicode bidi override
//! would reorder what is displayed ("Trojan source"). Every human-readable
//! output (the table, warnings, the final error line) passes its text through
//! [`escape_control`]. Machine formats (JSON, SARIF, CycloneDX, SPDX) need no
//! such pass: serde_json writes every C0 control character as `\u00XX`.
//!
//! The document formats add their own metacharacters on top:
//! [`escape_html`] for the HTML report, [`escape_markdown`] for the Markdown
//! one, [`link_url`] for the advisory links of both, and
//! [`json_in_script`] for JSON embedded in an HTML `<script>` element.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal as is: C0 controls (U+0000–U+001F,
/// newline and tab included), DEL (U+007F), C1 controls (U+0080–U+009F), and
/// the bidi embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069).
pub fn is_dangerous(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every [dangerous](is_dangerous) character written visibly:
/// `\x1b` for C0 controls and DEL, `\u{9b}` for C1 controls, `\u{202e}` for
/// bidi controls. Text without any is returned as is (borrowed).
pub fn escape_control(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(is_dangerous) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if !is_dangerous(c) {
            out.push(c);
        } else if u32::from(c) <= 0x7f {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}

/// Like [`escape_control`], but keeps newlines: for text laid out on several
/// lines on purpose (a table cell joining a title and a URL), each line
/// escaped.
pub fn escape_control_lines(s: &str) -> Cow<'_, str> {
    if !s.contains(|c: char| c != '\n' && is_dangerous(c)) {
        return Cow::Borrowed(s);
    }
    let lines: Vec<Cow<'_, str>> = s.split('\n').map(escape_control).collect();
    Cow::Owned(lines.join("\n"))
}

/// `s` as HTML text or a (double- or single-quoted) attribute value:
/// controls written visibly ([`escape_control`]), then `& < > " '` as
/// character references. A package named `<script>` stays text.
pub fn escape_html(s: &str) -> String {
    let s = escape_control(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match html_entity(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
    out
}

/// The character reference HTML text and attributes need for `c`, if any.
fn html_entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    }
}

/// The first `max` bytes of `s`, at a character boundary, with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// `s` as GitHub-flavoured Markdown inline text, in a table cell, a heading,
/// or inside the HTML of `<details>`/`<code>`: controls (newlines included)
/// written visibly, the HTML metacharacters as in [`escape_html`], and every
/// character Markdown gives a meaning inside a line to (`` \ ` * _ [ ] | ~ # ``;
/// escaped text never starts a line, so list and heading markers are inert,
/// and `[` escaped means no link or image can start) as a numeric
/// character reference, which CommonMark shows literally and never parses
/// as markup (a `&#124;` does not split a table row). `@` is followed by a
/// zero-width space so that a name like `@org/pkg` mentions no one in a PR
/// comment, as Renovate does.
pub fn escape_markdown(s: &str) -> String {
    let s = escape_control(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if let Some(e) = html_entity(c) {
            out.push_str(e);
            continue;
        }
        match c {
            '@' => out.push_str("@&#8203;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' => {
                let _ = write!(out, "&#{};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// An advisory URL as a link target, or `None` when it is not one to link
/// to: only `http:` and `https:` URLs (no `javascript:`, `data:`), with
/// every byte outside the URL characters that are harmless in an HTML
/// attribute and a Markdown link destination percent-encoded (spaces,
/// quotes, `< > ( ) [ ] | \` `` ` ``, controls, non-ASCII).
pub fn link_url(url: &str) -> Option<String> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/?#@!$&*+,;=%".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    Some(out)
}

/// JSON to embed in an HTML `<script>` element: `<`, `>` and `&` written as
/// `\u003c`, `\u003e`, `\u0026` (so neither `</script>` nor `<!--` can
/// appear), and U+2028/U+2029 escaped as well. The result parses as the
/// same JSON.
pub fn json_in_script(v: &serde_json::Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_metacharacters_become_references() {
        assert_eq!(
            escape_html("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(escape_html("a\nb\u{1b}"), "a\\x0ab\\x1b");
        assert_eq!(escape_html("café"), "café");
    }

    #[test]
    fn markdown_metacharacters_are_inert() {
        let e = escape_markdown("a|b `c` <img src=x> [x](https://evil) **y** @org/pkg\n# h");
        // What is left once the character references are taken out.
        let mut bare = String::new();
        let mut rest = e.as_str();
        while let Some(i) = rest.find('&') {
            bare.push_str(&rest[..i]);
            rest = rest[i..].split_once(';').map_or("", |(_, r)| r);
        }
        bare.push_str(rest);
        for bad in ['|', '`', '<', '>', '[', ']', '*', '\n', '#', '&'] {
            assert!(!bare.contains(bad), "{bad:?} in {e}");
        }
        assert!(e.contains("@&#8203;org/pkg"), "{e}");
        assert!(e.contains("&#124;"), "{e}");
        // Plain names and versions stay readable.
        assert_eq!(escape_markdown("openssl 3.0.13 r0"), "openssl 3.0.13 r0");
    }

    #[test]
    fn only_http_links_and_encoded() {
        assert_eq!(link_url("javascript:alert(1)"), None);
        assert_eq!(link_url("data:text/html,x"), None);
        assert_eq!(link_url("JaVaScRiPt:x"), None);
        assert_eq!(
            link_url("https://x/a b\"><script>(y)|`").as_deref(),
            Some("https://x/a%20b%22%3E%3Cscript%3E%28y%29%7C%60")
        );
        assert_eq!(
            link_url("https://nvd.nist.gov/vuln/detail/CVE-2024-1").as_deref(),
            Some("https://nvd.nist.gov/vuln/detail/CVE-2024-1")
        );
    }

    #[test]
    fn script_json_cannot_close_the_element() {
        let v = serde_json::json!({ "n": "</script><!-- x & \u{2028}" });
        let s = json_in_script(&v);
        assert!(!s.contains("</") && !s.contains("<!--"), "{s}");
        let back: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(back, v);
    }

    #[test]
    fn escapes_terminal_controls_visibly() {
        assert_eq!(
            escape_control("\u{1b}]0;pwned\u{7}.env"),
            "\\x1b]0;pwned\\x07.env"
        );
        assert_eq!(escape_control("a\u{1b}[31mred"), "a\\x1b[31mred");
        assert_eq!(escape_control("line\nforged"), "line\\x0aforged");
        assert_eq!(escape_control("tab\there"), "tab\\x09here");
        assert_eq!(escape_control("del\u{7f}"), "del\\x7f");
        assert_eq!(escape_control("csi\u{9b}2J"), "csi\\u{9b}2J");
        assert_eq!(escape_control("nul\0"), "nul\\x00");
        assert_eq!(
            escape_control("evil\u{202e}txt.exe"),
            "evil\\u{202e}txt.exe"
        );
        assert_eq!(escape_control("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
    }

    #[test]
    fn leaves_plain_and_non_ascii_text_alone() {
        for s in [
            "usr/lib/libssl.so.3",
            "openssl 3.0.13-r0",
            "C:\\path\\x1b", // a literal backslash stays a backslash
            "café/日本語/🦀",
            "\u{a0}\u{200b}\u{202f}\u{2065}\u{206a}",
            "",
        ] {
            assert!(matches!(escape_control(s), Cow::Borrowed(_)), "{s:?}");
        }
    }

    #[test]
    fn line_variant_keeps_newlines_only() {
        assert_eq!(
            escape_control_lines("title\u{1b}[2J\nhttps://x\u{7}"),
            "title\\x1b[2J\nhttps://x\\x07"
        );
        assert_eq!(escape_control_lines("a\nb"), "a\nb");
    }

    proptest::proptest! {
        #[test]
        fn output_never_holds_a_control_char(s in proptest::prelude::any::<String>()) {
            let e = escape_control(&s);
            proptest::prop_assert!(!e.chars().any(is_dangerous), "{:?} -> {:?}", s, e);
            let l = escape_control_lines(&s);
            proptest::prop_assert!(!l.chars().any(|c| c != '\n' && is_dangerous(c)));
            proptest::prop_assert_eq!(l.matches('\n').count(), s.matches('\n').count());
        }

        #[test]
        fn printable_ascii_is_unchanged(s in "[ -~]{0,200}") {
            proptest::prop_assert_eq!(escape_control(&s), s.as_str());
        }

        #[test]
        fn controls_are_all_written_visibly(s in "[\u{0}-\u{1f}\u{7f}-\u{9f}\u{202a}-\u{202e}\u{2066}-\u{2069}a-z]{0,50}") {
            let n = s.chars().filter(|&c| is_dangerous(c)).count();
            let e = escape_control(&s);
            proptest::prop_assert_eq!(e.matches("\\x").count() + e.matches("\\u{").count(), n);
        }
    }
}
