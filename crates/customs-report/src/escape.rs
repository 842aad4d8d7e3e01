//! Escaping of image-derived text for the terminal.
//!
//! File names, package names, versions and layer commands come from the
//! image, which may be hostile: an ESC or BEL byte in a file name would
//! otherwise reach the terminal as a control sequence (retitle the window,
//! recolour or erase the screen, forge lines), and a Unicode bidi override
//! would reorder what is displayed ("Trojan source"). Every human-readable
//! output (the table, warnings, the final error line) passes its text through
//! [`escape_control`]. Machine formats (JSON, SARIF, CycloneDX) need no such
//! pass: serde_json writes every C0 control character as `\u00XX`.

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

#[cfg(test)]
mod tests {
    use super::*;

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
