//! RubyGems `Gem::Version` ordering and `Gem::Requirement` matching.
//!
//! Hand-written. The `gem_version` crate was considered: it compiles a regex,
//! allocates a `Vec<String>` per version and turns numbers above `u32::MAX`
//! into strings (mis-ordering date-like segments). The rules are RubyGems'
//! `version.rb`: a version is `[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?`;
//! each `-` reads as `.pre.`; segments are the digit and letter runs; the
//! canonical form drops trailing zeros of the numeric part and of the rest;
//! segments compare pairwise (missing = 0), numbers numerically, strings
//! byte-wise, and a string sorts before a number (`1.0.a < 1.0`).
//! Requirements: `=`, `!=`, `>`, `<`, `>=`, `<=`, `~>`, comma-separated.

use std::cmp::Ordering;

use crate::util::{cmp_digits, is_zero, span, AlnumRuns, Run};
use crate::{Scheme, VersionError};

/// Ruby's `\s`.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

fn validate(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("empty version");
    }
    let digit = |c: u8| c.is_ascii_digit();
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    let pre = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    let mut rest = s;
    let n = span(rest, digit);
    if n == 0 {
        return Err("a gem version starts with a digit");
    }
    rest = rest.get(n..).unwrap_or("");
    while let Some(r) = rest.strip_prefix('.') {
        let n = span(r, alnum);
        if n == 0 {
            break;
        }
        rest = r.get(n..).unwrap_or("");
    }
    if let Some(r) = rest.strip_prefix('-') {
        let n = span(r, pre);
        if n == 0 {
            return Err("empty segment after '-'");
        }
        rest = r.get(n..).unwrap_or("");
        while let Some(r) = rest.strip_prefix('.') {
            let n = span(r, pre);
            if n == 0 {
                return Err("empty segment after '.'");
            }
            rest = r.get(n..).unwrap_or("");
        }
    }
    if rest.is_empty() {
        Ok(())
    } else {
        Err("not a gem version (digits, dots, letters, one '-' part)")
    }
}

/// The segments of a version: digit and letter runs, with `pre` for each `-`.
struct Segments<'a> {
    runs: AlnumRuns<'a>,
    rest: &'a str,
}

impl<'a> Segments<'a> {
    fn new(s: &'a str) -> Self {
        // Everything before the first '-' scans plainly; each '-' then
        // contributes a `pre` segment before the runs that follow it.
        let (head, tail) = s
            .split_once('-')
            .map_or((s, ""), |(h, _)| (h, s.get(h.len()..).unwrap_or("")));
        Segments {
            runs: AlnumRuns::new(head),
            rest: tail,
        }
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Run<'a>;
    fn next(&mut self) -> Option<Run<'a>> {
        if let Some(r) = self.runs.next() {
            return Some(r);
        }
        let after = self.rest.strip_prefix('-')?;
        let end = after.find('-').unwrap_or(after.len());
        self.runs = AlnumRuns::new(after.get(..end).unwrap_or(""));
        self.rest = after.get(end..).unwrap_or("");
        Some(Run::Alpha("pre"))
    }
}

fn is_zero_run(r: &Run<'_>) -> bool {
    matches!(r, Run::Num(n) if is_zero(n))
}

/// `canonical_segments`: the indices to keep, as (numeric part length,
/// last significant index of the numeric part + 1, last significant index
/// of the whole + 1).
fn canonical_bounds(s: &str) -> (usize, usize, usize) {
    let mut num_len = 0;
    let mut in_num = true;
    let mut num_keep = 0;
    let mut all_keep = 0;
    for (i, r) in Segments::new(s).enumerate() {
        if in_num && matches!(r, Run::Num(_)) {
            num_len = i + 1;
            if !is_zero_run(&r) {
                num_keep = i + 1;
            }
        } else {
            in_num = false;
            if !is_zero_run(&r) {
                all_keep = i + 1;
            }
        }
    }
    (num_len, num_keep, all_keep)
}

fn canonical(s: &str) -> impl Iterator<Item = Run<'_>> {
    let (num_len, num_keep, all_keep) = canonical_bounds(s);
    Segments::new(s)
        .enumerate()
        .filter(move |(i, _)| {
            if *i < num_len {
                *i < num_keep
            } else {
                *i < all_keep
            }
        })
        .map(|(_, r)| r)
}

fn cmp_run(a: Run<'_>, b: Run<'_>) -> Ordering {
    match (a, b) {
        (Run::Num(x), Run::Num(y)) => cmp_digits(x, y),
        (Run::Alpha(_), Run::Num(_)) => Ordering::Less,
        (Run::Num(_), Run::Alpha(_)) => Ordering::Greater,
        (Run::Alpha(x), Run::Alpha(y)) => x.cmp(y),
    }
}

fn cmp_valid(a: &str, b: &str) -> Ordering {
    let mut ia = canonical(a);
    let mut ib = canonical(b);
    loop {
        let (x, y) = match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => (x.unwrap_or(Run::Num("0")), y.unwrap_or(Run::Num("0"))),
        };
        let r = cmp_run(x, y);
        if r != Ordering::Equal {
            return r;
        }
    }
}

fn clean(s: &str) -> &str {
    s.trim_matches(is_ruby_space)
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (clean(a), clean(b));
    validate(a).map_err(|e| VersionError::version(Scheme::RubyGems, a, e))?;
    validate(b).map_err(|e| VersionError::version(Scheme::RubyGems, b, e))?;
    Ok(cmp_valid(a, b))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Pessimistic,
}

fn parse_constraint(s: &str) -> Result<(Op, &str), &'static str> {
    let s = clean(s);
    let (op, rest) = [
        ("~>", Op::Pessimistic),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        ("=", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
    ]
    .iter()
    .find_map(|(p, op)| s.strip_prefix(p).map(|r| (*op, r)))
    .unwrap_or((Op::Eq, s));
    let v = clean(rest);
    validate(v)?;
    Ok((op, v))
}

/// `v.release < r.bump` for `~> r`: the numeric prefix of `v`, compared with
/// `r`'s numeric prefix whose last element (if there are two or more) is
/// dropped and whose new last element is incremented.
fn below_bump(v: &str, r: &str) -> bool {
    fn num(s: &str) -> Vec<&str> {
        Segments::new(s)
            .map_while(|run| match run {
                Run::Num(n) => Some(n),
                Run::Alpha(_) => None,
            })
            .collect()
    }
    let rv = num(r);
    let vv = num(v);
    let k = if rv.len() > 1 { rv.len() - 1 } else { 1 };
    for i in 0..k {
        let x = vv.get(i).copied().unwrap_or("0");
        let y = rv.get(i).copied().unwrap_or("0");
        if i + 1 == k {
            // x < y + 1  <=>  x <= y
            return cmp_digits(x, y) != Ordering::Greater;
        }
        match cmp_digits(x, y) {
            Ordering::Equal => {}
            o => return o == Ordering::Less,
        }
    }
    false
}

fn matches(v: &str, op: Op, r: &str) -> bool {
    let o = cmp_valid(v, r);
    match op {
        Op::Eq => o == Ordering::Equal,
        Op::Ne => o != Ordering::Equal,
        Op::Gt => o == Ordering::Greater,
        Op::Lt => o == Ordering::Less,
        Op::Ge => o != Ordering::Less,
        Op::Le => o != Ordering::Greater,
        Op::Pessimistic => o != Ordering::Less && below_bump(v, r),
    }
}

pub(crate) fn satisfies(version: &str, requirement: &str) -> Result<bool, VersionError> {
    let v = clean(version);
    validate(v).map_err(|e| VersionError::version(Scheme::RubyGems, v, e))?;
    if clean(requirement).is_empty() {
        return Err(VersionError::requirement(
            Scheme::RubyGems,
            requirement,
            "empty requirement",
        ));
    }
    let mut all = true;
    for part in requirement.split(',') {
        let (op, r) = parse_constraint(part)
            .map_err(|e| VersionError::requirement(Scheme::RubyGems, requirement, e))?;
        all &= matches(v, op, r);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    fn s(v: &str, r: &str) -> bool {
        satisfies(v, r).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn spaceship() {
        // Cases from RubyGems' test_gem_version.rb `test_spaceship`.
        assert_eq!(c("1.0", "1.0.0"), Equal);
        assert_eq!(c("1", "1.0.0"), Equal);
        assert_eq!(c("1.0", "1.0.a"), Greater);
        assert_eq!(c("1.8.2", "0.0.0"), Greater);
        assert_eq!(c("1.8.2", "1.8.2.a"), Greater);
        assert_eq!(c("1.8.2.b", "1.8.2.a"), Greater);
        assert_eq!(c("1.8.2.a10", "1.8.2.a9"), Greater);
        assert_eq!(c("0.beta.1", "0.0.beta.1"), Equal);
        assert_eq!(c("0.0.beta", "0.0.beta.1"), Less);
        assert_eq!(c("0.0.beta", "0.beta.1"), Less);
        assert_eq!(c("5.a", "5.0.0.rc2"), Less);
        assert_eq!(c("5.x", "5.0.0.rc2"), Greater);
        assert_eq!(c("1.9.3", "1.9.2.99"), Greater);
        assert_eq!(c("1.9.3", "1.9.3.1"), Less);
        assert_eq!(c("1.0.0-alpha1", "1.0.0.pre.alpha1"), Equal);
        assert_eq!(c("1.0.0-1", "1.0.0"), Less);
        assert_eq!(c("2.0.0.rc1", "2.0.0"), Less);
        assert_eq!(c(" 1.0\n", "1.0"), Equal);
        assert_eq!(c("20201231235959", "4294967296"), Greater);
    }

    #[test]
    fn invalid() {
        for v in [
            "", "junk", "1.0\n1.0", "1..2", "1.0-", "1.0-a..b", "-1", "1.0 beta", "a.1",
        ] {
            assert!(compare(v, "1").is_err(), "{v:?}");
        }
    }

    #[test]
    fn requirements() {
        // ~> from RubyGems' test_gem_requirement.rb.
        assert!(s("1.0", "~> 1.0"));
        assert!(s("1.9", "~> 1.0"));
        assert!(!s("2.0", "~> 1.0"));
        assert!(s("1.2.9", "~> 1.2.3"));
        assert!(!s("1.3", "~> 1.2.3"));
        assert!(!s("1.2.2", "~> 1.2.3"));
        assert!(s("5.0", "~> 5"));
        assert!(s("5.9", "~> 5"));
        assert!(!s("6.0", "~> 5"));
        assert!(!s("6.0.pre", "~> 5"));
        assert!(s("1.2.3.rc1", "~> 1.2.a"));
        assert!(!s("1.0.0.rc1", "~> 1.0"));
        assert!(s("2.0.5", ">= 2.0, < 2.1.1"));
        assert!(!s("2.1.1", ">= 2.0, < 2.1.1"));
        assert!(s("4.2.11.1", "~> 4.2.11, >= 4.2.11.1"));
        assert!(!s("4.2.11", "~> 4.2.11, >= 4.2.11.1"));
        assert!(s("1.0", "= 1.0.0"));
        assert!(s("1.0", "1.0"));
        assert!(s("1.1", "!= 1.0"));
        assert!(s("1.1", "> 1.0"));
        assert!(s("0.9", "< 1.0"));
        assert!(s("1.0", "<= 1.0"));
        assert!(satisfies("1.0", "~> junk").is_err());
        assert!(satisfies("1.0", "").is_err());
        assert!(satisfies("1.0", ">= 1.0,").is_err());
        assert!(satisfies("junk", ">= 1.0").is_err());
    }
}
