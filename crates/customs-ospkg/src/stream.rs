//! Line input for the stanza databases (apk `installed`, dpkg `status`): one
//! splitter for in-memory slices and one for streams, both handing the same
//! lines (with the same numbers) to the same parser, so that a database of
//! any size is read in bounded memory and the slice API stays the reference.
//!
//! A line is what `str::lines` gives over the lossily decoded text: the text
//! up to `\n`, without the `\n` and one `\r` before it. Decoding line by line
//! gives the same text as decoding the whole file, since `\n` never occurs
//! inside a UTF-8 sequence.

use crate::OsPkgError;
use std::borrow::Cow;
use std::io::{BufRead, Read};

/// Bounds on one record of a streamed database; over them the file is an
/// error ([`OsPkgError::TooLong`]), never skipped silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Longest line, in bytes, without its line ending.
    pub max_line: usize,
    /// Longest stanza (the lines between two blank lines), in bytes.
    pub max_stanza: usize,
    /// Most packages one database may hold.
    pub max_packages: usize,
    /// Most bytes of stanzas that became packages (what the package list
    /// costs in memory is about twice this).
    pub max_package_bytes: usize,
}

/// 16 MiB per line.
pub const MAX_LINE: usize = 16 << 20;
/// 64 MiB per stanza (the largest real apk stanzas, with tens of thousands
/// of `R:` file lines, are a few MiB; dpkg stanzas are kilobytes).
pub const MAX_STANZA: usize = 64 << 20;
/// 200 000 packages per database: a full Debian archive installed at once
/// is about 65 000; a `Package` costs about 700 bytes, and the merge and
/// the report copy the list, so a million would not fit in 1 GB.
pub const MAX_PACKAGES: usize = 200_000;
/// 256 MiB of package stanzas per database (real ones are under 20 MiB).
pub const MAX_PACKAGE_BYTES: usize = 256 << 20;

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_line: MAX_LINE,
            max_stanza: MAX_STANZA,
            max_packages: MAX_PACKAGES,
            max_package_bytes: MAX_PACKAGE_BYTES,
        }
    }
}

/// Warnings kept per file; a database padded with millions of broken
/// stanzas gives these and one line counting the others.
pub(crate) const MAX_WARNINGS: usize = 100;

/// Keep at most [`MAX_WARNINGS`] warnings, counting the ones dropped.
pub(crate) fn cap_warnings(warnings: &mut Vec<String>, dropped: &mut usize) {
    if warnings.len() > MAX_WARNINGS {
        *dropped += warnings.len() - MAX_WARNINGS;
        warnings.truncate(MAX_WARNINGS);
    }
}

/// The line that stands for the dropped warnings.
pub(crate) fn dropped_warnings(path: &str, warnings: &mut Vec<String>, dropped: usize) {
    if dropped > 0 {
        warnings.push(format!(
            "{path}: {dropped} more skipped stanzas (only the first {MAX_WARNINGS} are listed)"
        ));
    }
}

/// A parser fed one line at a time (`lineno` counts from 1).
pub(crate) trait LineSink {
    fn line(&mut self, lineno: usize, line: &str);
    /// The budget over which the parser stops (none for slices).
    fn set_budget(&mut self, budget: Budget);
    /// The error that stopped the parser, if any.
    fn failed(&mut self) -> Option<OsPkgError>;
}

/// What the packages of one database may cost, and what they cost so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    max_packages: usize,
    max_bytes: usize,
    packages: usize,
    bytes: usize,
}

impl Budget {
    /// Count one more package of `bytes` (its stanza's size) that starts at
    /// `line`; an error once over either limit.
    pub(crate) fn spend(
        &mut self,
        path: &str,
        line: usize,
        bytes: usize,
    ) -> Result<(), OsPkgError> {
        self.packages += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        let what = if self.packages > self.max_packages {
            format!("more than {} packages", self.max_packages)
        } else if self.bytes > self.max_bytes {
            format!("more than {} MiB of package records", self.max_bytes >> 20)
        } else {
            return Ok(());
        };
        Err(OsPkgError::TooBig {
            path: path.to_string(),
            line,
            what,
        })
    }
}

/// The line in `raw` (which may end with `\n`), as `str::lines` cuts it.
fn cut(raw: &[u8]) -> &[u8] {
    match raw.strip_suffix(b"\n") {
        Some(l) => l.strip_suffix(b"\r").unwrap_or(l),
        None => raw,
    }
}

/// Feed every line of an in-memory file.
pub(crate) fn feed_slice(data: &[u8], sink: &mut impl LineSink) {
    let mut lineno = 0;
    for raw in data.split_inclusive(|b| *b == b'\n') {
        lineno += 1;
        sink.line(lineno, &String::from_utf8_lossy(cut(raw)));
    }
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Feed every line of a stream, holding one line at a time; a line or a
/// stanza over `limits` stops the parse with an error naming the file and
/// the line (of the stanza's start, for a stanza).
pub(crate) fn feed_reader<R: BufRead>(
    path: &str,
    mut r: R,
    limits: &StreamLimits,
    sink: &mut impl LineSink,
) -> Result<(), OsPkgError> {
    let mut buf: Vec<u8> = Vec::new();
    let mut lineno = 0usize;
    let mut stanza_start = 0usize;
    let mut stanza_len = 0usize;
    // Line, `\r` and `\n`: one byte more means the line is too long.
    let take = (limits.max_line as u64).saturating_add(3);
    sink.set_budget(Budget {
        max_packages: limits.max_packages,
        max_bytes: limits.max_package_bytes,
        packages: 0,
        bytes: 0,
    });
    loop {
        buf.clear();
        let n = Read::take(&mut r, take)
            .read_until(b'\n', &mut buf)
            .map_err(|source| OsPkgError::Io {
                path: path.to_string(),
                source,
            })?;
        if n == 0 {
            return Ok(());
        }
        lineno += 1;
        let raw = cut(&buf);
        // `str::lines` keeps a lone `\r` at the end; the parsers drop it.
        let content = raw.strip_suffix(b"\r").unwrap_or(raw).len();
        if content > limits.max_line {
            return Err(OsPkgError::TooLong {
                path: path.to_string(),
                line: lineno,
                what: "line",
                limit: limits.max_line,
            });
        }
        let line: Cow<'_, str> = String::from_utf8_lossy(raw);
        if is_blank(&line) {
            stanza_len = 0;
        } else {
            if stanza_len == 0 {
                stanza_start = lineno;
            }
            stanza_len = stanza_len.saturating_add(buf.len());
            if stanza_len > limits.max_stanza {
                return Err(OsPkgError::TooLong {
                    path: path.to_string(),
                    line: stanza_start,
                    what: "stanza",
                    limit: limits.max_stanza,
                });
            }
        }
        sink.line(lineno, &line);
        if let Some(e) = sink.failed() {
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Default, PartialEq, Debug)]
    struct Collect(Vec<(usize, String)>);
    impl LineSink for Collect {
        fn line(&mut self, lineno: usize, line: &str) {
            self.0.push((lineno, line.to_string()));
        }
        fn set_budget(&mut self, _: Budget) {}
        fn failed(&mut self) -> Option<OsPkgError> {
            None
        }
    }

    /// The splitting the parsers used before streaming.
    fn reference(data: &[u8]) -> Collect {
        Collect(
            String::from_utf8_lossy(data)
                .lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.to_string()))
                .collect(),
        )
    }

    fn streamed(data: &[u8], cap: usize) -> Collect {
        let mut c = Collect::default();
        let r = std::io::BufReader::with_capacity(cap, data);
        let unbounded = StreamLimits {
            max_line: usize::MAX >> 2,
            max_stanza: usize::MAX,
            ..Default::default()
        };
        if let Err(e) = feed_reader("x", r, &unbounded, &mut c) {
            panic!("{e}");
        }
        c
    }

    #[test]
    fn line_endings() {
        for d in [
            &b"a\r"[..],
            b"a\r\r\n",
            b"a\n\r",
            b"\r\n\r",
            b"",
            b"\n\n",
            b"x\xe2\x82\ny",
        ] {
            let mut s = Collect::default();
            feed_slice(d, &mut s);
            assert_eq!(s, reference(d), "{d:?}");
            assert_eq!(streamed(d, 1), reference(d), "{d:?}");
        }
    }

    #[test]
    fn limits() {
        let l = StreamLimits {
            max_line: 4,
            max_stanza: 11,
            ..Default::default()
        };
        let mut c = Collect::default();
        assert!(feed_reader("f", &b"abcd\r\nabcd\n\nabcd"[..], &l, &mut c).is_ok());
        let e = feed_reader("f", &b"ab\nabcde\n"[..], &l, &mut Collect::default());
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err("f:2: line longer than 4 bytes; the file cannot be analyzed".to_string())
        );
        let e = feed_reader(
            "f",
            &b"a\n\nabc\nabc\nabc\n"[..],
            &l,
            &mut Collect::default(),
        );
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err("f:3: stanza longer than 11 bytes; the file cannot be analyzed".to_string())
        );
    }

    proptest! {
        #[test]
        fn stream_splits_like_str_lines(
            data in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'\r'), Just(b' '), Just(0xe2u8), Just(0x82u8), any::<u8>()],
                0..200,
            ),
            cap in 1usize..16,
        ) {
            let mut s = Collect::default();
            feed_slice(&data, &mut s);
            prop_assert_eq!(&s, &reference(&data));
            prop_assert_eq!(&streamed(&data, cap), &s);
        }
    }
}
