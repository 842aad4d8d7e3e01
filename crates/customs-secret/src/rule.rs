//! Compiled rules and allow rules.

use crate::builtin::Builtin;
pub(crate) use crate::judge::Check;
use customs_model::Severity;
use regex::bytes::{Regex as BytesRegex, RegexBuilder as BytesRegexBuilder};
use regex::{Regex, RegexBuilder};
use std::sync::{Arc, OnceLock};

/// Limit on the compiled size of one rule's regex (the default is 10 MiB;
/// our rules are far below, user rules must stay reasonable too).
const REGEX_SIZE_LIMIT: usize = 8 << 20;

/// One detection rule. The regex of a built-in rule is compiled on first
/// need (the first time one of its keywords occurs), once per process and
/// shared by every scanner: a scan that meets few keywords (masking an image
/// config, `customs config`) compiles few regexes. A custom rule's regex is
/// compiled when the config is read, so its errors name the file.
#[derive(Clone)]
pub struct Rule {
    /// Kebab-case identifier (`aws-access-key-id`).
    pub id: String,
    /// Provider or kind (`AWS`, `GitHub`, `AsymmetricPrivateKey`).
    pub category: String,
    pub title: String,
    pub severity: Severity,
    /// The regex source; the group named `secret` is the secret.
    pub regex_source: String,
    /// Lowercase keywords of the prefilter; empty = the rule runs on the
    /// whole file (only allowed with a path filter for built-ins).
    pub keywords: Vec<String>,
    /// Only files whose path matches are scanned by this rule.
    pub path: Option<Regex>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    pub entropy: Option<f64>,
    /// How many lines after the keyword's line a match may extend to.
    pub lines_after: usize,
    /// True for the rules shipped with customs.
    pub builtin: bool,
    /// The code-aware checks a match must pass (built-in rules).
    pub(crate) check: Check,
    compiled: Lazy,
}

/// The compiled parts of a rule.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub regex: RuleRegex,
    /// Index of the secret capture group in `regex` (0 = the whole match).
    pub secret_group: usize,
    /// Index of the `key` group (the keyword's identifier), when present.
    pub key_group: Option<usize>,
    /// Findings whose secret (or match) matches one of these are dropped.
    pub allow_rules: Vec<AllowRule>,
    /// (group index, longest) of the rule's [`crate::builtin::Bound`]s.
    pub bounds: Vec<(usize, usize)>,
}

impl Compiled {
    /// The first match in `hay` starting at or after `at` whose bounded
    /// groups are within their bounds, its groups in `caps`. A match with a
    /// group too long is dropped and the search resumes at that group's
    /// start, as if the regex had counted it ([`crate::builtin::Bound`]).
    pub(crate) fn find_at(
        &self,
        hay: &[u8],
        mut at: usize,
        caps: &mut regex_automata::util::captures::Captures,
    ) -> Option<(usize, usize)> {
        loop {
            let (ms, me) = self.regex.captures_at(hay, at, caps)?;
            let over = self.bounds.iter().find_map(|&(g, max)| {
                let (s, e) = group_span(caps, g)?;
                (e - s > max).then_some(s)
            });
            match over {
                Some(resume) => at = resume.max(ms + 1),
                None => return Some((ms, me)),
            }
        }
    }
}

/// A rule's compiled parts: compiled now (custom rules), or the index of a
/// built-in whose shared cell is filled on first use.
#[derive(Clone)]
enum Lazy {
    Ready(Arc<Compiled>),
    Builtin(usize),
}

/// One cell per built-in rule, shared by every scanner of the process.
fn builtin_cells() -> &'static [OnceLock<Option<Compiled>>] {
    static CELLS: OnceLock<Vec<OnceLock<Option<Compiled>>>> = OnceLock::new();
    CELLS.get_or_init(|| {
        (0..crate::builtin::BUILTIN_RULES.len())
            .map(|_| OnceLock::new())
            .collect()
    })
}

impl std::fmt::Debug for Rule {
    /// The rule as data (no compiled state): the layer cache is keyed on
    /// this text, so it must not change when a regex gets compiled.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let allow: Vec<String> = match &self.compiled {
            Lazy::Ready(c) => c
                .allow_rules
                .iter()
                .map(|a| format!("{:?}/{:?}", a.regex.as_ref().map(|r| r.as_str()), a.path))
                .collect(),
            Lazy::Builtin(i) => crate::builtin::BUILTIN_RULES
                .get(*i)
                .map(|b| {
                    b.allow
                        .iter()
                        .chain(b.allow_match)
                        .map(|s| s.to_string())
                        .collect()
                })
                .unwrap_or_default(),
        };
        // Only built-in rules have bounds (custom ones count in their regex).
        let bounds: &[crate::builtin::Bound] = match &self.compiled {
            Lazy::Ready(_) => &[],
            Lazy::Builtin(i) => crate::builtin::BUILTIN_RULES
                .get(*i)
                .map_or(&[], |b| b.bounds),
        };
        f.debug_struct("Rule")
            .field("id", &self.id)
            .field("category", &self.category)
            .field("title", &self.title)
            .field("severity", &self.severity)
            .field("regex", &self.regex_source)
            .field("keywords", &self.keywords)
            .field("path", &self.path.as_ref().map(|p| p.as_str()))
            .field("allow", &allow)
            .field("entropy", &self.entropy)
            .field("lines_after", &self.lines_after)
            .field("check", &self.check)
            .field("bounds", &bounds)
            .finish()
    }
}

impl Rule {
    /// The compiled regex and allow rules; compiles a built-in on first
    /// call. `None` only if a built-in fails to compile (a bug the unit
    /// tests catch; the rule then finds nothing).
    pub(crate) fn compiled(&self) -> Option<&Compiled> {
        match &self.compiled {
            Lazy::Ready(c) => Some(c),
            Lazy::Builtin(i) => builtin_cells()
                .get(*i)?
                .get_or_init(|| {
                    let b = crate::builtin::BUILTIN_RULES.get(*i)?;
                    match compile_builtin(b) {
                        Ok(c) => Some(c),
                        Err(e) => {
                            tracing::warn!("built-in secret rule skipped: {e}");
                            None
                        }
                    }
                })
                .as_ref(),
        }
    }

    /// The compiled parts if they exist already (no compilation).
    pub(crate) fn compiled_if_ready(&self) -> Option<&Compiled> {
        match &self.compiled {
            Lazy::Ready(c) => Some(c),
            Lazy::Builtin(i) => builtin_cells().get(*i)?.get()?.as_ref(),
        }
    }

    /// A custom rule, compiled now.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn custom(
        id: String,
        category: String,
        title: String,
        severity: Severity,
        regex: RuleRegex,
        secret_group: usize,
        keywords: Vec<String>,
        path: Option<Regex>,
        allow_rules: Vec<AllowRule>,
        entropy: Option<f64>,
        lines_after: usize,
    ) -> Rule {
        Rule {
            id,
            category,
            title,
            severity,
            regex_source: regex.source.clone(),
            keywords,
            path,
            entropy,
            lines_after,
            builtin: false,
            check: Check::None,
            compiled: Lazy::Ready(Arc::new(Compiled {
                key_group: regex.group_index("key"),
                regex,
                secret_group,
                allow_rules,
                bounds: Vec::new(),
            })),
        }
    }

    /// True when a per-rule allow rule skips every file at `path`.
    pub(crate) fn allows_path(&self, path: &str) -> bool {
        // Built-in allow rules look at values only: nothing to compile here.
        self.compiled_if_ready()
            .is_some_and(|c| c.allow_rules.iter().any(|a| a.allows_path(path)))
    }
}

/// A reason to drop a finding: its secret matches `regex`, or its file path
/// matches `path` (both, when both are set).
#[derive(Debug, Clone)]
pub struct AllowRule {
    pub id: String,
    pub description: String,
    pub regex: Option<BytesRegex>,
    pub path: Option<Regex>,
    /// A built-in test of the value written as code, not as a regex
    /// (`repeated-characters`, `placeholder-values`).
    pub(crate) value_check: Option<ValueCheck>,
    /// `regex` is tested on the whole match instead of the secret (built-in
    /// rules only: e.g. a URL whose host is a reserved example domain).
    pub(crate) on_match: bool,
}

/// The built-in allow rules on values that are functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueCheck {
    /// At most 3 distinct bytes in the last 16.
    LowVariety,
    /// Documentation placeholders ([`crate::judge::is_placeholder`]).
    Placeholder,
}

impl AllowRule {
    /// An allow rule on the secret (or, with `on_match`, the whole match).
    pub(crate) fn value(id: String, regex: BytesRegex, on_match: bool) -> AllowRule {
        AllowRule {
            id,
            description: String::new(),
            regex: Some(regex),
            path: None,
            value_check: None,
            on_match,
        }
    }

    /// True when this rule allows `secret` found in `path`.
    pub fn allows(&self, path: &str, secret: &[u8]) -> bool {
        match self.value_check {
            Some(ValueCheck::LowVariety) => return low_variety(secret),
            Some(ValueCheck::Placeholder) => return crate::judge::is_placeholder(secret),
            None => {}
        }
        match (&self.regex, &self.path) {
            (None, None) => false,
            (Some(r), None) => r.is_match(secret),
            (None, Some(p)) => p.is_match(path),
            (Some(r), Some(p)) => r.is_match(secret) && p.is_match(path),
        }
    }

    /// True when this rule allows every finding in `path` (path-only rule).
    pub fn allows_path(&self, path: &str) -> bool {
        self.value_check.is_none()
            && self.regex.is_none()
            && self.path.as_ref().is_some_and(|p| p.is_match(path))
    }

    /// True for a rule on values (not a path-only rule).
    pub fn is_value_rule(&self) -> bool {
        self.value_check.is_some() || self.regex.is_some()
    }
}

/// Values like `ghp_000000000000...` or `AKIAXXXXXXXXXXXXXXXX`: the last 16
/// bytes use at most 3 distinct byte values.
pub(crate) fn low_variety(secret: &[u8]) -> bool {
    if secret.len() < 12 {
        return false;
    }
    let tail = &secret[secret.len().saturating_sub(16)..];
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in tail {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
        }
    }
    distinct <= 3
}

/// Cache of each regex's lazy DFA, per thread. The default (2 MiB) times
/// ~200 rules times the scanning threads made the caches the largest part
/// of a scan's memory. Measured on the 1 GB library corpus (2 threads):
/// 256 KiB spent 18% of the scan rebuilding DFA states (3.4 s CPU, 30 MB
/// peak), 512 KiB 2.85 s and 31.6 MB, 1 MiB 2.6 s and 34.7 MB.
const REGEX_DFA_CACHE: usize = 512 << 10;

/// Compile a rule regex: bytes, ASCII classes, with a size limit.
pub(crate) fn compile_bytes(re: &str, multi_line: bool) -> Result<BytesRegex, regex::Error> {
    BytesRegexBuilder::new(re)
        .unicode(false)
        .multi_line(multi_line)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_CACHE)
        .build()
}

pub(crate) fn compile_path(re: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(re).size_limit(REGEX_SIZE_LIMIT).build()
}

/// A rule's regex, on regex-automata's meta engine (the one behind
/// `regex::bytes::Regex`) so that it can be built without the literal
/// prefilter. A rule with keywords only runs on small windows around a
/// keyword the Aho-Corasick pass found, where a prefilter saves nothing,
/// and extracting it from the rules' bounded repetitions was most of the
/// cost of compiling them (0.7 ms of 0.9 ms for the generic rules), paid on
/// the scan's critical path. Rules without keywords run on whole files and
/// keep the prefilter.
#[derive(Debug)]
pub(crate) struct RuleRegex {
    re: regex_automata::meta::Regex,
    pub source: String,
}

impl RuleRegex {
    /// Compile `source` as a bytes regex (no Unicode classes; `^`/`$` at
    /// line ends with `multi_line`), leftmost-first like the `regex` crate;
    /// the error is the `regex` crate's message.
    pub(crate) fn new(source: &str, multi_line: bool, prefilter: bool) -> Result<Self, String> {
        use regex_automata::{meta, util::syntax, MatchKind};
        let config = meta::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .utf8_empty(false)
            .auto_prefilter(prefilter)
            .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
            .hybrid_cache_capacity(REGEX_DFA_CACHE);
        let syntax = syntax::Config::new()
            .unicode(false)
            .utf8(false)
            .multi_line(multi_line);
        let re = meta::Builder::new()
            .configure(config)
            .syntax(syntax)
            .build(source)
            .map_err(|e| {
                if let Some(limit) = e.size_limit() {
                    format!("compiled regex exceeds size limit of {limit} bytes")
                } else if let Some(se) = e.syntax_error() {
                    se.to_string()
                } else {
                    e.to_string()
                }
            })?;
        Ok(RuleRegex {
            re,
            source: source.to_string(),
        })
    }

    /// Index of the capture group named `name`.
    pub(crate) fn group_index(&self, name: &str) -> Option<usize> {
        self.re
            .group_info()
            .to_index(regex_automata::PatternID::ZERO, name)
    }

    /// Space for the groups of one match.
    pub(crate) fn captures(&self) -> regex_automata::util::captures::Captures {
        self.re.create_captures()
    }

    /// The leftmost-first match in `hay` starting at or after `at`, its
    /// groups in `caps`; `None` when there is none (or `at` is past the end).
    pub(crate) fn captures_at(
        &self,
        hay: &[u8],
        at: usize,
        caps: &mut regex_automata::util::captures::Captures,
    ) -> Option<(usize, usize)> {
        if at > hay.len() {
            return None;
        }
        let input = regex_automata::Input::new(hay).range(at..);
        self.re.search_captures(&input, caps);
        caps.get_match().map(|m| (m.start(), m.end()))
    }
}

/// The span of group `g` of the last match in `caps`.
pub(crate) fn group_span(
    caps: &regex_automata::util::captures::Captures,
    g: usize,
) -> Option<(usize, usize)> {
    caps.get_group(g).map(|s| (s.start, s.end))
}

/// Compile a built-in rule's regex and allow patterns. The table is tested
/// to compile, so an error here is a bug caught by `cargo test`.
pub(crate) fn compile_builtin(b: &Builtin) -> Result<Compiled, String> {
    let regex = RuleRegex::new(b.regex, true, b.keywords.is_empty())
        .map_err(|e| format!("{}: {e}", b.id))?;
    let secret_group = regex
        .group_index("secret")
        .ok_or_else(|| format!("{}: no secret group", b.id))?;
    let mut allow_rules = Vec::with_capacity(b.allow.len() + b.allow_match.len());
    for (i, a) in b.allow.iter().enumerate() {
        let regex = compile_bytes(a, false).map_err(|e| format!("{}: allow: {e}", b.id))?;
        allow_rules.push(AllowRule::value(
            format!("{}-allow-{}", b.id, i + 1),
            regex,
            false,
        ));
    }
    for (i, a) in b.allow_match.iter().enumerate() {
        let regex = compile_bytes(a, false).map_err(|e| format!("{}: allow: {e}", b.id))?;
        allow_rules.push(AllowRule::value(
            format!("{}-allow-match-{}", b.id, i + 1),
            regex,
            true,
        ));
    }
    let bounds = b
        .bounds
        .iter()
        .map(|bound| {
            regex
                .group_index(bound.group)
                .map(|g| (g, bound.max))
                .ok_or_else(|| format!("{}: no group {} to bound", b.id, bound.group))
        })
        .collect::<Result<_, _>>()?;
    Ok(Compiled {
        key_group: regex.group_index("key"),
        regex,
        secret_group,
        allow_rules,
        bounds,
    })
}

impl Rule {
    /// A built-in rule; its regex is compiled on first need. The path
    /// filter is compiled now (a few rules have one, and `skip`-like checks
    /// need it before any keyword is seen).
    pub(crate) fn from_builtin(index: usize, b: &Builtin) -> Result<Rule, String> {
        let path = b
            .path
            .map(compile_path)
            .transpose()
            .map_err(|e| format!("{}: path: {e}", b.id))?;
        Ok(Rule {
            id: b.id.to_string(),
            category: b.category.to_string(),
            title: b.title.to_string(),
            severity: b.severity,
            regex_source: b.regex.to_string(),
            keywords: b.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            path,
            entropy: b.entropy,
            lines_after: b.lines_after,
            builtin: true,
            check: b.check,
            compiled: Lazy::Builtin(index),
        })
    }
}

/// The built-in global allow rules, compiled.
pub(crate) fn builtin_allow_rules() -> Vec<AllowRule> {
    let mut out = Vec::new();
    for (id, description, regex, path) in crate::builtin::BUILTIN_ALLOW_RULES {
        let regex = match regex.map(|r| compile_bytes(r, false)).transpose() {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("built-in allow rule {id}: {e}");
                continue;
            }
        };
        let path = match path.map(compile_path).transpose() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("built-in allow rule {id}: {e}");
                continue;
            }
        };
        out.push(AllowRule {
            id: id.to_string(),
            description: description.to_string(),
            value_check: match *id {
                "repeated-characters" => Some(ValueCheck::LowVariety),
                "placeholder-values" => Some(ValueCheck::Placeholder),
                _ => None,
            },
            on_match: false,
            regex,
            path,
        });
    }
    out
}

/// Shannon entropy of `data` in bits per byte.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A match's span and its secret group's span.
    type Spans = Vec<((usize, usize), Option<(usize, usize)>)>;
    /// (regex with bounds, the counted regex it replaces, its bounds).
    type Shape = (&'static str, &'static str, &'static [(&'static str, usize)]);

    /// A rule regex with its bounds, as `compile_builtin` builds it.
    fn bounded(re: &str, bounds: &[(&str, usize)]) -> Compiled {
        let regex = RuleRegex::new(re, true, false).expect("test regex");
        let bounds = bounds
            .iter()
            .map(|&(g, max)| (regex.group_index(g).expect("group"), max))
            .collect();
        Compiled {
            secret_group: regex.group_index("secret").unwrap_or(0),
            key_group: None,
            regex,
            allow_rules: Vec::new(),
            bounds,
        }
    }

    /// Every (match, secret) span, left to right, as the scanner walks them.
    fn spans(c: &Compiled, hay: &[u8]) -> Spans {
        let mut caps = c.regex.captures();
        let (mut at, mut out) = (0, Vec::new());
        while let Some((ms, me)) = c.find_at(hay, at, &mut caps) {
            out.push(((ms, me), group_span(&caps, c.secret_group)));
            at = if me > ms { me } else { ms + 1 };
        }
        out
    }

    /// The same walk with the counted regex.
    fn counted(re: &str, hay: &[u8]) -> Spans {
        let re = regex::bytes::RegexBuilder::new(re)
            .unicode(false)
            .multi_line(true)
            .build()
            .expect("test regex");
        let (mut at, mut out) = (0, Vec::new());
        while let Some(c) = re.captures_at(hay, at) {
            let m = c.get(0).map(|m| (m.start(), m.end())).unwrap_or_default();
            out.push((m, c.name("secret").map(|s| (s.start(), s.end()))));
            at = if m.1 > m.0 { m.1 } else { m.0 + 1 };
            if at > hay.len() {
                break;
            }
        }
        out
    }

    /// The shapes the built-in rules bound, each beside the counted regex
    /// it replaces: a lazy gap after an anchor, a key's tail after its
    /// keyword, a user after `://`, a quoted value.
    const SHAPES: &[Shape] = &[
        (
            r"cu(?P<gap>[^\n]*?)\s-u (?P<secret>[a-c]{2,4})(?:\s|$)",
            r"cu[^\n]{0,6}?\s-u (?P<secret>[a-c]{2,4})(?:\s|$)",
            &[("gap", 6)],
        ),
        (
            r#"^(?P<key>[a-z]*pw(?P<tail>[a-z]*))=(?P<secret>[a-c]{2,})$"#,
            r#"^(?P<key>[a-z]*pw[a-z]{0,3})=(?P<secret>[a-c]{2,5})$"#,
            &[("tail", 3), ("secret", 5)],
        ),
        (
            r#"pw(?P<tail>[a-z]*)="(?P<secret>[a-c]{2,})""#,
            r#"pw[a-z]{0,3}="(?P<secret>[a-c]{2,5})""#,
            &[("tail", 3), ("secret", 5)],
        ),
        (
            r"://(?P<user>[a-z]*):(?P<secret>[a-c]{2,})@",
            r"://[a-z]{0,3}:(?P<secret>[a-c]{2,5})@",
            &[("user", 3), ("secret", 5)],
        ),
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A bound checked after the match finds exactly what the counted
        /// repetition finds, on text made of the shapes' own pieces.
        #[test]
        fn bounds_match_counted_repetitions(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("cu"), Just(" -u "), Just("pw"), Just("="), Just("\""),
                    Just("://"), Just(":"), Just("@"), Just("\n"), Just(" "),
                    Just("a"), Just("b"), Just("c"), Just("x"), Just("abc"), Just("xyzxyz"),
                ],
                0..40,
            )
        ) {
            let hay = parts.concat();
            for (unbounded, reference, bounds) in SHAPES {
                let c = bounded(unbounded, bounds);
                prop_assert_eq!(spans(&c, hay.as_bytes()), counted(reference, hay.as_bytes()),
                    "{} on {:?}", unbounded, hay);
            }
        }
    }

    #[test]
    fn a_group_over_its_bound_resumes_the_search_inside_it() {
        // The first `cu` is too far from `-u`; the second one is near.
        let c = bounded(SHAPES[0].0, SHAPES[0].2);
        let hay = b"cu xxxxxxxx cu -u abc";
        assert_eq!(spans(&c, hay), vec![((12, 21), Some((18, 21)))]);
        // A value one byte over its bound is not found; at the bound it is.
        let c = bounded(SHAPES[2].0, SHAPES[2].2);
        assert!(spans(&c, br#"pw="abcabc""#).is_empty());
        assert_eq!(spans(&c, br#"pw="abcab""#).len(), 1);
    }

    #[test]
    fn every_builtin_bound_names_a_group_of_its_rule() {
        for b in crate::builtin::BUILTIN_RULES {
            let c = compile_builtin(b).expect("built-in compiles");
            assert_eq!(c.bounds.len(), b.bounds.len(), "{}", b.id);
        }
    }

    #[test]
    fn entropy_values() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn low_variety_values() {
        assert!(low_variety(b"ghp_000000000000000000000000000000000000"));
        assert!(low_variety(b"AKIAXXXXXXXXXXXXXXXX"));
        assert!(!low_variety(b"ghp_0aZ9bY8cX7dW6eV5fU4gT3hS2iR1jQ0kP9lO"));
        assert!(!low_variety(b"short"));
    }
}
