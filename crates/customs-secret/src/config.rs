//! The secret scanning config file: the shape of `trivy-secret.yaml`.
//!
//! ```yaml
//! rules:                       # custom rules, same fields as built-ins
//!   - id: acme-api-key
//!     category: Acme
//!     title: Acme API key
//!     severity: HIGH
//!     regex: '\b(?P<secret>acme_[a-z0-9]{32})\b'
//!     keywords: [acme_]
//!     path: '\.env$'           # optional; a string or a list
//!     allow-rules:
//!       - id: acme-test-keys
//!         regex: '^acme_test'
//! allow-rules:                 # global allow rules
//!   - id: vendored
//!     path: '^opt/vendor/'
//! disable-rules: [jwt-token]
//! disable-allow-rules: [markdown]
//! enable-builtin-rules: []     # when not empty: only these built-ins
//! exclude-block:
//!   description: fake keys in our fixtures
//!   regexes: ['(?s)BEGIN FAKE.*?END FAKE']
//! skip-paths: ['^srv/cache/']  # regexes; matching files are not read
//! ```

use serde::Deserialize;
use std::path::PathBuf;

/// A path filter: one regex or a list of regexes (alternatives).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum PathFilter {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl PathFilter {
    /// The filter as one regex (`(?:a)|(?:b)`), or `None` when empty.
    pub(crate) fn to_regex(&self) -> Option<String> {
        match self {
            PathFilter::None => None,
            PathFilter::One(s) if s.is_empty() => None,
            PathFilter::One(s) => Some(s.clone()),
            PathFilter::Many(v) if v.is_empty() => None,
            PathFilter::Many(v) => Some(
                v.iter()
                    .map(|s| format!("(?:{s})"))
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
        }
    }
}

/// One custom rule of the config file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RuleConfig {
    pub id: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub severity: String,
    pub regex: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub path: PathFilter,
    /// Name of the capture group holding the secret (default `secret`; the
    /// whole match when the regex has no such group).
    #[serde(default)]
    pub secret_group_name: Option<String>,
    #[serde(default)]
    pub allow_rules: Vec<AllowRuleConfig>,
    /// Minimum Shannon entropy of the secret, in bits per character.
    #[serde(default)]
    pub entropy: Option<f64>,
    /// Lines after the keyword's line a match may span (default 0; only
    /// used when the rule has keywords).
    #[serde(default)]
    pub lines_after: Option<usize>,
}

/// One allow rule (global or per rule).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AllowRuleConfig {
    pub id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub path: PathFilter,
}

/// Blocks of text (e.g. fixtures) inside which findings are ignored.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ExcludeBlockConfig {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub regexes: Vec<String>,
}

/// The whole config file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    #[serde(default)]
    pub allow_rules: Vec<AllowRuleConfig>,
    #[serde(default)]
    pub disable_rules: Vec<String>,
    #[serde(default)]
    pub disable_allow_rules: Vec<String>,
    #[serde(default, alias = "enable-builin-rules")]
    pub enable_builtin_rules: Vec<String>,
    #[serde(default)]
    pub exclude_block: ExcludeBlockConfig,
    /// Regexes of paths not to read at all.
    #[serde(default, alias = "skip-files", alias = "skip-dirs")]
    pub skip_paths: Vec<String>,
}

impl Config {
    /// Parse the YAML text of a config file; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        serde_saphyr::from_str::<Config>(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::from(origin),
            message: one_line(&e.to_string()),
        })
    }
}

pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why a config file could not be used. Display is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read secret config: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: invalid secret config: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{}: rule {rule}: {message}", path.display())]
    Rule {
        path: PathBuf,
        rule: String,
        message: String,
    },
    #[error("{}: allow rule {rule}: {message}", path.display())]
    AllowRule {
        path: PathBuf,
        rule: String,
        message: String,
    },
    #[error("{}: {field}: invalid regex {regex:?}: {message}", path.display())]
    Regex {
        path: PathBuf,
        field: String,
        regex: String,
        message: String,
    },
}

pub(crate) fn regex_message(e: &regex::Error) -> String {
    one_line(&e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_trivy_shape() {
        let y = r#"
rules:
  - id: rule1
    category: general
    title: Generic Rule
    severity: HIGH
    path: .*\.sh
    keywords:
      - secret
    regex: (?i)(?P<key>(secret))(=|:).{0,5}['"](?P<secret>[0-9a-zA-Z\-_=]{8,64})['"]
    secret-group-name: secret
    allow-rules:
      - id: skip-text
        description: skip text files
        path: .*\.txt
allow-rules:
  - id: social-security-number
    description: skip social security number
    regex: 219-09-9999
disable-rules: [slack-web-hook]
disable-allow-rules: [markdown]
enable-builtin-rules: [aws-access-key-id]
exclude-block:
  description: exclude fake secrets
  regexes:
    - '^-----BEGIN FAKE.*?-----$'
skip-paths: ['^srv/']
"#;
        let c = Config::from_yaml(y, "t.yaml").unwrap_or_default();
        assert_eq!(c.rules.len(), 1);
        assert_eq!(c.rules[0].path, PathFilter::One(r".*\.sh".into()));
        assert_eq!(c.rules[0].allow_rules.len(), 1);
        assert_eq!(c.allow_rules[0].regex.as_deref(), Some("219-09-9999"));
        assert_eq!(c.disable_rules, vec!["slack-web-hook"]);
        assert_eq!(c.enable_builtin_rules, vec!["aws-access-key-id"]);
        assert_eq!(c.exclude_block.regexes.len(), 1);
        assert_eq!(c.skip_paths, vec!["^srv/"]);
    }

    #[test]
    fn path_list_and_errors() {
        let c = Config::from_yaml(
            "rules:\n  - id: a\n    regex: x\n    path: [a, b]\n",
            "c.yaml",
        )
        .unwrap_or_default();
        assert_eq!(c.rules[0].path.to_regex().as_deref(), Some("(?:a)|(?:b)"));
        let e = Config::from_yaml("rules: [ {id: a, regex: x, bogus: 1} ]", "bad.yaml");
        let msg = e.map(|_| String::new()).unwrap_or_else(|e| e.to_string());
        assert!(msg.starts_with("bad.yaml: invalid secret config:"), "{msg}");
        assert!(!msg.contains('\n'));
    }
}
