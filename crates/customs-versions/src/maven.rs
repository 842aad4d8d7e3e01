//! Maven `ComparableVersion` (maven-artifact 3.9).
//!
//! Hand-written: no Rust crate implements Maven's ordering. The rules:
//! the version is lower-cased and split on `.` and `-` and on every
//! digit/letter transition; a `-` (and a letter run after a number or at the
//! end, "treat `.X` as `-X`") opens a nested list, so that `1-1 < 1.1`;
//! numbers compare numerically (any size); qualifiers order as
//! `alpha < beta < milestone < rc = cr < snapshot < "" = ga = final =
//! release < sp < (unknown qualifiers, lexically)`, with `a1`/`b1`/`m1`
//! meaning `alpha-1`/`beta-1`/`milestone-1`; trailing "null" items (`0`,
//! `""`, empty lists) are dropped, so `1.0.0 = 1 = 1-ga`. Missing items
//! compare as null: `1-rc < 1 < 1-sp`, `1 < 1.1`.
//!
//! Every string is a Maven version; only an empty one is rejected.
//! Letters are case-folded for ASCII only.

use std::cmp::Ordering;

use crate::util::{cmp_digits, cmp_ignore_ascii_case, is_zero};
use crate::{Scheme, VersionError};

#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    /// Digits with leading zeros stripped (`""` is zero).
    Int(&'a str),
    /// A qualifier, as written (compared case-insensitively).
    Str(&'a str),
}

/// Rank of a qualifier: the known ones by index (release = 5), unknown ones
/// after all of them, lexically.
#[derive(Debug, Clone, Copy)]
enum Qual<'a> {
    Known(u8),
    Unknown(&'a str),
}

const RELEASE: u8 = 5;

fn qualifier(s: &str, followed_by_digit: bool) -> Qual<'_> {
    let eq = |k: &str| s.eq_ignore_ascii_case(k);
    if followed_by_digit && s.len() == 1 {
        if eq("a") {
            return Qual::Known(0);
        }
        if eq("b") {
            return Qual::Known(1);
        }
        if eq("m") {
            return Qual::Known(2);
        }
    }
    let known = [
        ("alpha", 0),
        ("beta", 1),
        ("milestone", 2),
        ("rc", 3),
        ("cr", 3),
        ("snapshot", 4),
        ("", RELEASE),
        ("ga", RELEASE),
        ("final", RELEASE),
        ("release", RELEASE),
        ("sp", 6),
    ];
    known
        .iter()
        .find(|(k, _)| eq(k))
        .map_or(Qual::Unknown(s), |(_, r)| Qual::Known(*r))
}

fn cmp_qual(a: Qual<'_>, b: Qual<'_>) -> Ordering {
    match (a, b) {
        (Qual::Known(x), Qual::Known(y)) => x.cmp(&y),
        (Qual::Known(_), Qual::Unknown(_)) => Ordering::Less,
        (Qual::Unknown(_), Qual::Known(_)) => Ordering::Greater,
        (Qual::Unknown(x), Qual::Unknown(y)) => cmp_ignore_ascii_case(x, y),
    }
}

/// An item with the flag `StringItem` keeps about a following digit.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    item: Item<'a>,
    followed_by_digit: bool,
}

impl Entry<'_> {
    fn qual(&self) -> Option<Qual<'_>> {
        match self.item {
            Item::Str(s) => Some(qualifier(s, self.followed_by_digit)),
            Item::Int(_) => None,
        }
    }

    fn is_null(&self) -> bool {
        match self.item {
            Item::Int(d) => is_zero(d),
            Item::Str(_) => matches!(self.qual(), Some(Qual::Known(RELEASE))),
        }
    }
}

/// The parsed version: a chain of lists, each one's last element being the
/// next list (Maven only ever appends a sub-list at the end of the current
/// list). `lists[0]` is the top level.
struct Parsed<'a> {
    lists: Vec<Vec<Entry<'a>>>,
}

fn int(d: &str) -> Entry<'_> {
    Entry {
        item: Item::Int(d.trim_start_matches('0')),
        followed_by_digit: false,
    }
}

fn string(s: &str, followed_by_digit: bool) -> Entry<'_> {
    Entry {
        item: Item::Str(s),
        followed_by_digit,
    }
}

fn parse_item(is_digit: bool, s: &str) -> Entry<'_> {
    if is_digit {
        int(s)
    } else {
        string(s, false)
    }
}

fn parse(v: &str) -> Parsed<'_> {
    // `done` holds the outer lists of the chain, `cur` the innermost one;
    // opening a sub-list moves `cur` to the end of `done`.
    let mut done: Vec<Vec<Entry<'_>>> = Vec::new();
    let mut cur: Vec<Entry<'_>> = Vec::new();
    fn open<'a>(done: &mut Vec<Vec<Entry<'a>>>, cur: &mut Vec<Entry<'a>>) {
        done.push(std::mem::take(cur));
    }
    let bytes = v.as_bytes();
    let mut is_digit = false;
    let mut start = 0;
    let sub = |i: usize, j: usize| v.get(i..j).unwrap_or("");
    for (i, &c) in bytes.iter().enumerate() {
        if c == b'.' || c == b'-' {
            cur.push(if i == start {
                int("0")
            } else {
                parse_item(is_digit, sub(start, i))
            });
            start = i + 1;
            if c == b'-' {
                open(&mut done, &mut cur);
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // "1.0.0.X1 < 1.0.0-X2": a qualifier followed by a number
                // goes into a sub-list of its own.
                if !cur.is_empty() {
                    open(&mut done, &mut cur);
                }
                cur.push(string(sub(start, i), true));
                start = i;
                open(&mut done, &mut cur);
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                cur.push(parse_item(true, sub(start, i)));
                start = i;
                open(&mut done, &mut cur);
            }
            is_digit = false;
        }
    }
    if bytes.len() > start {
        if !is_digit && !cur.is_empty() {
            open(&mut done, &mut cur);
        }
        cur.push(parse_item(is_digit, sub(start, bytes.len())));
    }
    done.push(cur);
    let mut lists = done;
    // normalize(), innermost list first: drop trailing null items; a list
    // left empty at the end of the chain disappears from its parent.
    for k in (0..lists.len()).rev() {
        let is_last = k + 1 == lists.len();
        if let Some(list) = lists.get_mut(k) {
            while list.last().is_some_and(Entry::is_null) {
                list.pop();
            }
            if is_last && list.is_empty() && k > 0 {
                lists.pop();
            }
        }
    }
    Parsed { lists }
}

/// One element of a list: an item, or the nested list starting at a depth.
#[derive(Clone, Copy)]
enum Elem<'p, 'a> {
    Item(&'p Entry<'a>),
    List(usize),
}

fn elem<'p, 'a>(p: &'p Parsed<'a>, depth: usize, i: usize) -> Option<Elem<'p, 'a>> {
    let list = p.lists.get(depth)?;
    match list.get(i) {
        Some(e) => Some(Elem::Item(e)),
        None if i == list.len() && depth + 1 < p.lists.len() => Some(Elem::List(depth + 1)),
        None => None,
    }
}

fn list_len(p: &Parsed<'_>, depth: usize) -> usize {
    let own = p.lists.get(depth).map_or(0, Vec::len);
    own + usize::from(depth + 1 < p.lists.len())
}

/// `item.compareTo(null)`.
fn cmp_null(p: &Parsed<'_>, e: Elem<'_, '_>) -> Ordering {
    match e {
        Elem::Item(en) => match en.item {
            Item::Int(d) => {
                if is_zero(d) {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            Item::Str(_) => match en.qual() {
                Some(q) => cmp_qual(q, Qual::Known(RELEASE)),
                None => Ordering::Equal,
            },
        },
        Elem::List(depth) => {
            for i in 0..list_len(p, depth) {
                if let Some(x) = elem(p, depth, i) {
                    let r = cmp_null(p, x);
                    if r != Ordering::Equal {
                        return r;
                    }
                }
            }
            Ordering::Equal
        }
    }
}

fn cmp_elem(pa: &Parsed<'_>, a: Elem<'_, '_>, pb: &Parsed<'_>, b: Elem<'_, '_>) -> Ordering {
    use Ordering::*;
    match (a, b) {
        (Elem::Item(x), Elem::Item(y)) => match (x.item, y.item) {
            (Item::Int(m), Item::Int(n)) => cmp_digits(m, n),
            (Item::Int(_), Item::Str(_)) => Greater,
            (Item::Str(_), Item::Int(_)) => Less,
            (Item::Str(_), Item::Str(_)) => match (x.qual(), y.qual()) {
                (Some(q), Some(r)) => cmp_qual(q, r),
                _ => Equal,
            },
        },
        (Elem::Item(x), Elem::List(_)) => match x.item {
            Item::Int(_) => Greater,
            Item::Str(_) => Less,
        },
        (Elem::List(_), Elem::Item(y)) => match y.item {
            Item::Int(_) => Less,
            Item::Str(_) => Greater,
        },
        (Elem::List(da), Elem::List(db)) => cmp_lists(pa, da, pb, db),
    }
}

fn cmp_lists(pa: &Parsed<'_>, da: usize, pb: &Parsed<'_>, db: usize) -> Ordering {
    let n = list_len(pa, da).max(list_len(pb, db));
    for i in 0..n {
        let r = match (elem(pa, da, i), elem(pb, db, i)) {
            (None, None) => Ordering::Equal,
            (None, Some(y)) => cmp_null(pb, y).reverse(),
            (Some(x), None) => cmp_null(pa, x),
            (Some(x), Some(y)) => cmp_elem(pa, x, pb, y),
        };
        if r != Ordering::Equal {
            return r;
        }
    }
    Ordering::Equal
}

pub(crate) fn compare(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let (a, b) = (a.trim(), b.trim());
    for v in [a, b] {
        if v.is_empty() {
            return Err(VersionError::version(Scheme::Maven, v, "empty version"));
        }
        if v.chars().any(char::is_control) {
            return Err(VersionError::version(
                Scheme::Maven,
                v,
                "control character inside the version",
            ));
        }
    }
    let pa = parse(a);
    let pb = parse(b);
    Ok(cmp_lists(&pa, 0, &pb, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn c(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap_or_else(|e| panic!("{e}"))
    }

    fn check_chain(chain: &[&str]) {
        for (i, a) in chain.iter().enumerate() {
            for b in chain.iter().skip(i + 1) {
                assert_eq!(c(a, b), Less, "{a} < {b}");
                assert_eq!(c(b, a), Greater, "{b} > {a}");
            }
        }
    }

    #[test]
    fn qualifier_order() {
        // ComparableVersionTest.VERSIONS_QUALIFIER (maven-artifact 3.9).
        check_chain(&[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ]);
    }

    #[test]
    fn number_order() {
        // ComparableVersionTest.VERSIONS_NUMBER (maven-artifact 3.9).
        check_chain(&[
            "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
            "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
            "11", "11.a", "11b", "11c", "11m",
        ]);
    }

    #[test]
    fn equal() {
        for (a, b) in [
            ("1", "1"),
            ("1", "1.0"),
            ("1", "1.0.0"),
            ("1.0", "1.0.0"),
            ("1", "1-0"),
            ("1", "1.0-0"),
            ("1.0", "1.0-0"),
            ("1a", "1-a"),
            ("1a", "1.0-a"),
            ("1a", "1.0.0-a"),
            ("1.0a", "1-a"),
            ("1.0.0a", "1-a"),
            ("1x", "1-x"),
            ("1x", "1.0-x"),
            ("1x", "1.0.0-x"),
            ("1.0x", "1-x"),
            ("1.0.0x", "1-x"),
            ("1cr", "1rc"),
            ("1ga", "1"),
            ("1release", "1"),
            ("1final", "1"),
            ("1a1", "1-alpha-1"),
            ("1b2", "1-beta-2"),
            ("1m3", "1-milestone-3"),
            ("1X", "1x"),
            ("1A", "1a"),
            ("1GA", "1"),
            ("1Final", "1"),
            ("1FINAL", "1"),
            ("1Cr", "1Rc"),
            ("1m3", "1MILESTONE3"),
            (
                "1-abcdefghijklmnopqrstuvwxyz",
                "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ),
        ] {
            assert_eq!(c(a, b), Equal, "{a} == {b}");
            assert_eq!(c(b, a), Equal, "{b} == {a}");
        }
    }

    #[test]
    fn comparing() {
        for (a, b) in [
            ("1", "2"),
            ("1.5", "2"),
            ("1", "2.5"),
            ("1.0", "1.1"),
            ("1.1", "1.2"),
            ("1.0.0", "1.1"),
            ("1.0.1", "1.1"),
            ("1.1", "1.2.0"),
            ("1.0-alpha-1", "1.0"),
            ("1.0-alpha-1", "1.0-alpha-2"),
            ("1.0-alpha-1", "1.0-beta-1"),
            ("1.0-beta-1", "1.0-SNAPSHOT"),
            ("1.0-SNAPSHOT", "1.0"),
            ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
            ("1.0", "1.0-1"),
            ("1.0-1", "1.0-2"),
            ("1.0.0", "1.0-1"),
            ("2.0-1", "2.0.1"),
            ("2.0.1-klm", "2.0.1-lmn"),
            ("2.0.1", "2.0.1-xyz"),
            ("2.0.1", "2.0.1-123"),
            ("2.0.1-xyz", "2.0.1-123"),
            // MNG-5568, MNG-6572, MNG-6964, MNG-7644 style cases.
            ("6.1.0rc3", "6.1.0"),
            ("6.1.0rc3", "6.1H.5-beta"),
            ("6.1.0", "6.1H.5-beta"),
            ("20190126.230843", "1234567890.12345"),
            ("1234567890.12345", "123456789012345.1H.5-beta"),
            (
                "123456789012345.1H.5-beta",
                "12345678901234567890.1H.5-beta",
            ),
            ("1-0.alpha", "1"),
            ("1-0.beta", "1"),
            ("1.0.0.RC1", "1.0.0-RC2"),
            ("1.0.0-RC2", "1.0.0"),
            ("1.0.0.X1", "1.0.0-X2"),
            ("1.0.0", "1.0.0-X2"),
            ("1.0.0-X2", "1.0.1"),
            ("1.0.RC2", "1.0-RC3"),
            ("1.0-RC3", "1.0.1"),
            ("2.5.0.Final", "2.5.1.Final"),
            ("1.0.0.redhat-00001", "1.0.0.redhat-00002"),
        ] {
            assert_eq!(c(a, b), Less, "{a} < {b}");
            assert_eq!(c(b, a), Greater, "{b} > {a}");
        }
    }

    #[test]
    fn odd_inputs_do_not_fail() {
        for v in ["-", ".", "--", "..-.", "a", "é", "1-", "-1", "1..1"] {
            assert!(compare(v, "1").is_ok(), "{v:?}");
        }
        assert!(compare("", "1").is_err());
        assert_eq!(c("1..1", "1.0.1"), Equal);
    }
}
