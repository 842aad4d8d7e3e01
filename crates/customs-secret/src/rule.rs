//! Compiled rules and allow rules.

use crate::builtin::Builtin;
use customs_model::Severity;
use regex::bytes::{Regex as BytesRegex, RegexBuilder as BytesRegexBuilder};
use regex::{Regex, RegexBuilder};

/// Limit on the compiled size of one rule's regex (the default is 10 MiB;
/// our rules are far below, user rules must stay reasonable too).
const REGEX_SIZE_LIMIT: usize = 8 << 20;

/// One detection rule, compiled.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Kebab-case identifier (`aws-access-key-id`).
    pub id: String,
    /// Provider or kind (`AWS`, `GitHub`, `AsymmetricPrivateKey`).
    pub category: String,
    pub title: String,
    pub severity: Severity,
    /// The regex; the group named by `secret_group` is the secret.
    pub regex: BytesRegex,
    /// Index of the secret capture group in `regex` (0 = the whole match).
    pub secret_group: usize,
    /// Lowercase keywords of the prefilter; empty = the rule runs on the
    /// whole file (only allowed with a path filter for built-ins).
    pub keywords: Vec<String>,
    /// Only files whose path matches are scanned by this rule.
    pub path: Option<Regex>,
    /// Findings whose secret or path match one of these are dropped.
    pub allow_rules: Vec<AllowRule>,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    pub entropy: Option<f64>,
    /// How many lines after the keyword's line a match may extend to.
    pub lines_after: usize,
    /// True for the rules shipped with customs.
    pub builtin: bool,
}

/// A reason to drop a finding: its secret matches `regex`, or its file path
/// matches `path` (both, when both are set).
#[derive(Debug, Clone)]
pub struct AllowRule {
    pub id: String,
    pub description: String,
    pub regex: Option<BytesRegex>,
    pub path: Option<Regex>,
    /// The built-in `repeated-characters` check (no regex can say it).
    pub(crate) low_variety: bool,
    /// `regex` is tested on the whole match instead of the secret (built-in
    /// rules only: e.g. a URL whose host is a reserved example domain).
    pub(crate) on_match: bool,
}

impl AllowRule {
    /// True when this rule allows `secret` found in `path`.
    pub fn allows(&self, path: &str, secret: &[u8]) -> bool {
        if self.low_variety {
            return low_variety(secret);
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
        !self.low_variety
            && self.regex.is_none()
            && self.path.as_ref().is_some_and(|p| p.is_match(path))
    }
}

/// Values like `ghp_000000000000...` or `AKIAXXXXXXXXXXXXXXXX`: the last 16
/// bytes use at most 3 distinct byte values.
fn low_variety(secret: &[u8]) -> bool {
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

/// Compile a rule regex: bytes, ASCII classes, with a size limit.
pub(crate) fn compile_bytes(re: &str, multi_line: bool) -> Result<BytesRegex, regex::Error> {
    BytesRegexBuilder::new(re)
        .unicode(false)
        .multi_line(multi_line)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

pub(crate) fn compile_path(re: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(re).size_limit(REGEX_SIZE_LIMIT).build()
}

/// Index of the capture group named `name` (0 when absent).
pub(crate) fn group_index(re: &BytesRegex, name: &str) -> Option<usize> {
    re.capture_names().position(|n| n == Some(name))
}

impl Rule {
    /// Compile a built-in rule. The table is tested to compile, so an error
    /// here is a bug caught by `cargo test`, reported and the rule skipped.
    pub(crate) fn from_builtin(b: &Builtin) -> Result<Rule, String> {
        let regex = compile_bytes(b.regex, true).map_err(|e| format!("{}: {e}", b.id))?;
        let secret_group =
            group_index(&regex, "secret").ok_or_else(|| format!("{}: no secret group", b.id))?;
        let path = b
            .path
            .map(compile_path)
            .transpose()
            .map_err(|e| format!("{}: path: {e}", b.id))?;
        let mut allow_rules = Vec::with_capacity(b.allow.len());
        for (i, a) in b.allow.iter().enumerate() {
            let regex = compile_bytes(a, false).map_err(|e| format!("{}: allow: {e}", b.id))?;
            allow_rules.push(AllowRule {
                id: format!("{}-allow-{}", b.id, i + 1),
                description: String::new(),
                regex: Some(regex),
                path: None,
                low_variety: false,
                on_match: false,
            });
        }
        for (i, a) in b.allow_match.iter().enumerate() {
            let regex = compile_bytes(a, false).map_err(|e| format!("{}: allow: {e}", b.id))?;
            allow_rules.push(AllowRule {
                id: format!("{}-allow-match-{}", b.id, i + 1),
                description: String::new(),
                regex: Some(regex),
                path: None,
                low_variety: false,
                on_match: true,
            });
        }
        Ok(Rule {
            id: b.id.to_string(),
            category: b.category.to_string(),
            title: b.title.to_string(),
            severity: b.severity,
            regex,
            secret_group,
            keywords: b.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
            path,
            allow_rules,
            entropy: b.entropy,
            lines_after: b.lines_after,
            builtin: true,
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
            low_variety: *id == "repeated-characters",
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
