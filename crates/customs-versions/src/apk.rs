//! Alpine apk versions: `digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}`.
//!
//! Hand-written: no crate implements apk-tools' ordering. The rules follow
//! apk-tools' `version.c` (2.14/3.x): the first number and every `_suffix`
//! number and `-rN` revision compare numerically; later dot numbers compare
//! numerically unless either has a leading zero, in which case they compare
//! as strings (Gentoo rule); `_alpha < _beta < _pre < _rc < (none) < _cvs <
//! _svn < _git < _hg < _p`; a `~hash` compares as a string. When one version
//! ends where the other goes on, the longer one is newer unless what follows
//! is a pre-release suffix.
//!
//! Alpine's secdb has a few typos in fixed versions (`4.8.0.-r1`,
//! `0.8.21.r2`, `1.11-20-r0`). Only when a string is not a valid version,
//! three unambiguous repairs are tried: a `.` before `-rN` is dropped, a
//! final `.rN` becomes `-rN`, and when a `-rN` revision is present a `-`
//! between two digits of the upstream part becomes `.`. Anything else stays
//! an error.

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::util::{all_digits, cmp_digits, span};
use crate::{Scheme, VersionError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tok {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffix ranks; `NONE` (5) is a plain release.
const SUFFIX_NONE: u8 = 5;

fn suffix_rank(s: &str) -> Option<u8> {
    Some(match s {
        "alpha" => 1,
        "beta" => 2,
        "pre" => 3,
        "rc" => 4,
        "cvs" => 6,
        "svn" => 7,
        "git" => 8,
        "hg" => 9,
        "p" => 10,
        _ => return None,
    })
}

struct Lexer<'a> {
    rest: &'a str,
    tok: Tok,
    value: &'a str,
    suffix: u8,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        let mut lx = Lexer {
            rest: s,
            tok: Tok::InitialDigit,
            value: "",
            suffix: 0,
        };
        lx.digits();
        lx
    }

    fn take(&mut self, n: usize) -> &'a str {
        let n = n.min(self.rest.len());
        // All callers measure `n` over ASCII bytes, so this is a boundary;
        // fall back to an invalid token rather than panic if it were not.
        match (self.rest.get(..n), self.rest.get(n..)) {
            (Some(head), Some(tail)) => {
                self.rest = tail;
                head
            }
            _ => {
                self.tok = Tok::Invalid;
                ""
            }
        }
    }

    fn digits(&mut self) {
        let n = span(self.rest, |c| c.is_ascii_digit());
        self.value = self.take(n);
        if self.value.is_empty() {
            self.tok = Tok::Invalid;
        }
    }

    fn next(&mut self) {
        let Some(&c) = self.rest.as_bytes().first() else {
            self.tok = Tok::End;
            return;
        };
        match c {
            b'a'..=b'z' => {
                if self.tok > Tok::Digit {
                    self.tok = Tok::Invalid;
                    return;
                }
                self.value = self.take(1);
                self.tok = Tok::Letter;
            }
            b'.' | b'0'..=b'9' => {
                if c == b'.' {
                    if self.tok > Tok::Digit {
                        self.tok = Tok::Invalid;
                        return;
                    }
                    self.take(1);
                }
                self.tok = match self.tok {
                    Tok::InitialDigit | Tok::Digit => Tok::Digit,
                    Tok::Suffix => Tok::SuffixNo,
                    _ => {
                        self.tok = Tok::Invalid;
                        return;
                    }
                };
                self.digits();
            }
            b'_' => {
                if self.tok > Tok::SuffixNo {
                    self.tok = Tok::Invalid;
                    return;
                }
                self.take(1);
                let n = span(self.rest, |c| c.is_ascii_lowercase());
                self.value = self.take(n);
                match suffix_rank(self.value) {
                    Some(r) => {
                        self.suffix = r;
                        self.tok = Tok::Suffix;
                    }
                    None => self.tok = Tok::Invalid,
                }
            }
            b'~' => {
                if self.tok >= Tok::CommitHash {
                    self.tok = Tok::Invalid;
                    return;
                }
                self.take(1);
                let n = span(self.rest, |c| c.is_ascii_hexdigit());
                self.value = self.take(n);
                self.tok = if self.value.is_empty() {
                    Tok::Invalid
                } else {
                    Tok::CommitHash
                };
            }
            b'-' => {
                if self.tok >= Tok::RevisionNo || !self.rest.starts_with("-r") {
                    self.tok = Tok::Invalid;
                    return;
                }
                self.take(2);
                self.tok = Tok::RevisionNo;
                self.digits();
            }
            _ => self.tok = Tok::Invalid,
        }
    }
}

fn validate(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty version");
    }
    let mut lx = Lexer::new(s);
    while lx.tok < Tok::End {
        lx.next();
    }
    if lx.tok == Tok::End {
        Ok(())
    } else {
        Err("not an apk version (digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#})")
    }
}

fn token_cmp(a: &Lexer<'_>, b: &Lexer<'_>) -> Ordering {
    match a.tok {
        Tok::Digit if a.value.starts_with('0') || b.value.starts_with('0') => a.value.cmp(b.value),
        Tok::Digit | Tok::InitialDigit | Tok::SuffixNo | Tok::RevisionNo => {
            cmp_digits(a.value, b.value)
        }
        Tok::Letter => a.value.cmp(b.value),
        Tok::Suffix => a.suffix.cmp(&b.suffix),
        _ => a.value.cmp(b.value),
    }
}

/// Compare two validated apk versions.
fn cmp_valid(a: &str, b: &str) -> Ordering {
    let mut ta = Lexer::new(a);
    let mut tb = Lexer::new(b);
    while ta.tok == tb.tok && ta.tok < Tok::End {
        let r = token_cmp(&ta, &tb);
        if r != Ordering::Equal {
            return r;
        }
        ta.next();
        tb.next();
    }
    if ta.tok == tb.tok {
        return Ordering::Equal;
    }
    if ta.tok == Tok::Suffix && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.tok == Tok::Suffix && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    // The version whose next token comes earlier in the grammar goes on
    // with a more significant part: it is the newer one.
    tb.tok.cmp(&ta.tok)
}

/// The repairs described in the module documentation, or `None`.
fn repair(s: &str) -> Option<String> {
    let revision_at = |i: usize| s.get(i + 2..).is_some_and(all_digits);
    let (up, rev) = if let Some(i) = s.rfind("-r").filter(|&i| revision_at(i)) {
        (s.get(..i)?, s.get(i..)?)
    } else if let Some(i) = s.rfind(".r").filter(|&i| revision_at(i)) {
        (s.get(..i)?, s.get(i + 1..)?)
    } else {
        return None;
    };
    let up = up.trim_end_matches('.');
    let b = up.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, c) in up.char_indices() {
        let digit_at = |j: Option<usize>| j.and_then(|j| b.get(j)).is_some_and(u8::is_ascii_digit);
        if c == '-' && digit_at(i.checked_sub(1)) && digit_at(Some(i + 1)) {
            out.push('.');
        } else {
            out.push(c);
        }
    }
    out.push('-');
    out.push_str(rev.trim_start_matches(['-', '.']));
    (out != s).then_some(out)
}

fn prepare(s: &str) -> Result<Cow<'_, str>, VersionError> {
    let s = s.trim();
    match validate(s) {
        Ok(()) => Ok(Cow::Borrowed(s)),
        Err(e) => match repair(s) {
            Some(r) if validate(&r).is_ok() => {
                tracing::debug!("apk version {s:?} read as {r:?}");
                Ok(Cow::Owned(r))
            }
            _ => Err(VersionError::version(Scheme::Apk, s, e)),
        },
    }
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let a = prepare(a)?;
    let b = prepare(b)?;
    Ok(cmp_valid(&a, &b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        match compare(a, b) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn basics() {
        assert_eq!(c("1.0", "1.0"), Equal);
        assert_eq!(c("1.0", "1.0.1"), Less);
        assert_eq!(c("1.0_rc1", "1.0"), Less);
        assert_eq!(c("1.0_p1", "1.0"), Greater);
        assert_eq!(c("1.0_alpha", "1.0_beta"), Less);
        assert_eq!(c("1.0_pre1", "1.0_rc1"), Less);
        assert_eq!(c("1.0_git20200101", "1.0_p1"), Less);
        assert_eq!(c("1.0_cvs", "1.0_svn"), Less);
        assert_eq!(c("1.0_hg1", "1.0_p1"), Less);
        assert_eq!(c("1.0-r1", "1.0-r0"), Greater);
        assert_eq!(c("1.0-r0", "1.0"), Greater);
        assert_eq!(c("1.0a", "1.0"), Greater);
        assert_eq!(c("1.0a", "1.0b"), Less);
        assert_eq!(c("1.0a", "1.0.1"), Less);
        assert_eq!(c("1.2.10", "1.2.9"), Greater);
        assert_eq!(c("1.02", "1.1"), Less);
        assert_eq!(c("8.2.0", "8.2.001"), Less);
        assert_eq!(c("1.0~1234-r1", "1.0~2345-r0"), Less);
        assert_eq!(c("0", "0.1"), Less);
        assert_eq!(
            c("1.0.0_pre20191002222144-r0", "1.0.0_pre20210530193627-r0"),
            Less
        );
        assert_eq!(
            c("99999999999999999999999", "99999999999999999999998"),
            Greater
        );
    }

    #[test]
    fn documented_chain() {
        let chain = ["1.0_rc1", "1.0", "1.0-r0", "1.0_p1", "1.0a", "1.0.1"];
        for w in chain.windows(2) {
            if let [a, b] = w {
                assert_eq!(c(a, b), Less, "{a} < {b}");
            }
        }
    }

    #[test]
    fn secdb_typos_are_repaired() {
        assert_eq!(c("4.8.0.-r1", "4.8.0-r1"), Equal);
        assert_eq!(c("0.8.21.r2", "0.8.21-r2"), Equal);
        assert_eq!(c("1.11-20-r0", "1.11.20-r0"), Equal);
        assert_eq!(c("57-1-r2", "57.1-r2"), Equal);
        assert_eq!(repair("1.0-r0"), None);
        assert_eq!(repair("2.6.0-1"), None);
    }

    #[test]
    fn invalid() {
        for v in [
            "",
            "a",
            "_pre1",
            "-r1",
            ".1",
            "0.1bc",
            "0.1a1",
            "0.1a.1",
            "0.1_foobar",
            "0.1-r",
            "0.1-r2_pre1",
            "0.1-r2-r3",
            "0.1_",
            "0.1__alpha",
            "0.1_pre2~",
            "0.1_pre2~12x",
            "1.0-1",
            "1..0",
            "1.",
            "1.0 r1",
            "1.0-R1",
            "1.0é",
        ] {
            assert!(compare(v, "1.0").is_err(), "{v:?} should be invalid");
            assert!(compare("1.0", v).is_err(), "{v:?} should be invalid");
        }
    }
}
