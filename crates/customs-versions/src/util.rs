//! Small helpers shared by the comparators.

use std::cmp::Ordering;

/// Compare two runs of ASCII digits as unbounded non-negative integers
/// (leading zeros ignored), without parsing them into a machine integer.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// True when `s` is a non-empty run of ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// True when the digit run is zero (`0`, `000`; empty counts as zero).
pub(crate) fn is_zero(digits: &str) -> bool {
    digits.bytes().all(|c| c == b'0')
}

/// Byte-wise comparison after ASCII lower-casing, without allocating.
pub(crate) fn cmp_ignore_ascii_case(a: &str, b: &str) -> Ordering {
    let x = a.bytes().map(|c| c.to_ascii_lowercase());
    let y = b.bytes().map(|c| c.to_ascii_lowercase());
    x.cmp(y)
}

/// The length of the longest prefix of `s` whose bytes satisfy `f`.
pub(crate) fn span(s: &str, f: impl Fn(u8) -> bool) -> usize {
    s.bytes().position(|c| !f(c)).unwrap_or(s.len())
}

/// Alternating runs of ASCII digits and ASCII letters; every other byte is a
/// separator. The scanner behind RubyGems, Composer and the generic scheme.
pub(crate) struct AlnumRuns<'a> {
    rest: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Run<'a> {
    Num(&'a str),
    Alpha(&'a str),
}

impl<'a> AlnumRuns<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        AlnumRuns { rest: s }
    }
}

impl<'a> Iterator for AlnumRuns<'a> {
    type Item = Run<'a>;

    fn next(&mut self) -> Option<Run<'a>> {
        let skip = span(self.rest, |c| !c.is_ascii_alphanumeric());
        self.rest = self.rest.get(skip..)?;
        let first = *self.rest.as_bytes().first()?;
        let (n, digits) = if first.is_ascii_digit() {
            (span(self.rest, |c| c.is_ascii_digit()), true)
        } else {
            (span(self.rest, |c| c.is_ascii_alphabetic()), false)
        };
        let (tok, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(if digits {
            Run::Num(tok)
        } else {
            Run::Alpha(tok)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_compare_numerically() {
        assert_eq!(cmp_digits("10", "9"), Ordering::Greater);
        assert_eq!(cmp_digits("0010", "10"), Ordering::Equal);
        assert_eq!(cmp_digits("", "0"), Ordering::Equal);
        assert_eq!(
            cmp_digits(
                "123456789012345678901234567890",
                "123456789012345678901234567891"
            ),
            Ordering::Less
        );
    }

    #[test]
    fn alnum_runs() {
        let v: Vec<_> = AlnumRuns::new("1.0rc2-x_9").collect();
        assert_eq!(
            v,
            vec![
                Run::Num("1"),
                Run::Num("0"),
                Run::Alpha("rc"),
                Run::Num("2"),
                Run::Alpha("x"),
                Run::Num("9")
            ]
        );
        assert_eq!(AlnumRuns::new("..é..").count(), 0);
    }
}
