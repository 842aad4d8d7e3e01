//! Ignore files: Trivy's `.trivyignore` (one id a line) and the YAML form
//! (`.customsignore.yaml`, also read as `.trivyignore.yaml`).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::date::Date;

/// An ignore file that cannot be used. Display is one line naming the file
/// (and the line when known).
#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("cannot read ignore file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        /// 1-based; 0 when the parser did not say.
        line: usize,
        message: String,
    },
}

/// What kind of finding a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// `.trivyignore` lines apply to every kind of finding.
    Any,
    Vulnerability,
    Misconfiguration,
    Secret,
}

/// One ignore entry.
#[derive(Debug, Clone)]
pub struct IgnoreRule {
    pub kind: RuleKind,
    /// Vulnerability id (or one of its vendor ids), misconfiguration id or
    /// AVD id, or secret rule id.
    pub id: String,
    /// Globs over the result target and the package path; empty = anywhere.
    pub paths: Vec<String>,
    matchers: Vec<GlobMatcher>,
    /// Package URLs; empty = any package. A purl without a version matches
    /// every version; qualifiers and subpath are not compared.
    pub purls: Vec<String>,
    parsed_purls: Vec<PurlKey>,
    /// The rule stops suppressing on this day.
    pub expired_at: Option<Date>,
    pub statement: String,
    /// Where the rule was written (`file:line`), for messages.
    pub origin: String,
}

/// The comparable part of a Package URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PurlKey {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
}

impl PurlKey {
    fn parse(s: &str) -> Option<PurlKey> {
        let p = packageurl::PackageUrl::from_str(s.trim()).ok()?;
        Some(PurlKey {
            ty: p.ty().to_string(),
            namespace: p.namespace().map(str::to_string),
            name: p.name().to_string(),
            version: p.version().map(str::to_string),
        })
    }

    /// Does this rule purl cover `pkg`?
    fn covers(&self, pkg: &PurlKey) -> bool {
        self.ty == pkg.ty
            && self.namespace == pkg.namespace
            && self.name == pkg.name
            && (self.version.is_none() || self.version == pkg.version)
    }
}

/// What an ignore rule is matched against.
pub struct Subject<'a> {
    pub kind: RuleKind,
    /// Every id the finding goes by.
    pub ids: Vec<&'a str>,
    /// The result target and the package path (file_path), when any.
    pub paths: Vec<&'a str>,
    pub purl: Option<&'a str>,
}

impl IgnoreRule {
    fn new(kind: RuleKind, id: String, origin: String) -> IgnoreRule {
        IgnoreRule {
            kind,
            id,
            paths: Vec::new(),
            matchers: Vec::new(),
            purls: Vec::new(),
            parsed_purls: Vec::new(),
            expired_at: None,
            statement: String::new(),
            origin,
        }
    }

    /// True when the rule is past its expiry date on `today` (a rule
    /// expiring on 2024-05-01 no longer suppresses from that day on).
    pub fn is_expired(&self, today: Date) -> bool {
        self.expired_at.is_some_and(|d| d <= today)
    }

    /// Does the rule cover this finding (ignoring expiry)?
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        if self.kind != RuleKind::Any && self.kind != s.kind {
            return false;
        }
        if !s.ids.iter().any(|id| *id == self.id) {
            return false;
        }
        if !self.matchers.is_empty() {
            let hit = s.paths.iter().any(|p| {
                let p = p.trim_start_matches('/');
                !p.is_empty() && self.matchers.iter().any(|m| m.is_match(p))
            });
            if !hit {
                return false;
            }
        }
        if !self.parsed_purls.is_empty() {
            let Some(pkg) = s.purl.and_then(PurlKey::parse) else {
                return false;
            };
            if !self.parsed_purls.iter().any(|r| r.covers(&pkg)) {
                return false;
            }
        }
        true
    }
}

/// A loaded ignore file.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    pub rules: Vec<IgnoreRule>,
    /// The file the rules came from (shown as the suppression source).
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlFile {
    #[serde(default)]
    vulnerabilities: Option<Vec<YamlEntry>>,
    #[serde(default)]
    misconfigurations: Option<Vec<YamlEntry>>,
    #[serde(default)]
    secrets: Option<Vec<YamlEntry>>,
    /// Trivy's license rules; read so Trivy files load, not applied.
    #[serde(default)]
    #[allow(dead_code)]
    licenses: Option<Vec<YamlEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YamlEntry {
    id: Spanned<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    purls: Vec<String>,
    #[serde(default)]
    expired_at: Option<Spanned<String>>,
    #[serde(default)]
    statement: Option<String>,
}

impl IgnoreRules {
    /// Load an ignore file: YAML when the name ends in `.yaml`/`.yml`,
    /// otherwise the `.trivyignore` line format.
    pub fn load(path: &Path) -> Result<IgnoreRules, IgnoreError> {
        let bytes = std::fs::read(path).map_err(|source| IgnoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| IgnoreError::Syntax {
            path: path.to_path_buf(),
            line: 0,
            message: format!("not UTF-8 text: {e}"),
        })?;
        let yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if yaml {
            IgnoreRules::parse_yaml(path, &text)
        } else {
            IgnoreRules::parse_trivyignore(path, &text)
        }
    }

    /// The `.trivyignore` format: one id a line, `#` starts a comment,
    /// `exp:YYYY-MM-DD` after the id sets an expiry date.
    pub fn parse_trivyignore(path: &Path, text: &str) -> Result<IgnoreRules, IgnoreError> {
        let shown = path.display().to_string();
        let mut rules = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = line.split('#').next().unwrap_or("").trim();
            let mut fields = line.split_whitespace();
            let Some(id) = fields.next() else { continue };
            let mut rule =
                IgnoreRule::new(RuleKind::Any, id.to_string(), format!("{shown}:{line_no}"));
            for f in fields {
                if let Some(d) = f.strip_prefix("exp:") {
                    rule.expired_at = Some(Date::parse(d).ok_or_else(|| IgnoreError::Syntax {
                        path: path.to_path_buf(),
                        line: line_no,
                        message: format!("invalid expiry date {d:?} (expected exp:YYYY-MM-DD)"),
                    })?);
                }
            }
            rules.push(rule);
        }
        Ok(IgnoreRules {
            rules,
            source: shown,
        })
    }

    /// The YAML format: top-level `vulnerabilities`, `misconfigurations`,
    /// `secrets` lists of `{id, paths, purls, expired_at, statement}`.
    pub fn parse_yaml(path: &Path, text: &str) -> Result<IgnoreRules, IgnoreError> {
        let shown = path.display().to_string();
        let syntax = |line: usize, message: String| IgnoreError::Syntax {
            path: path.to_path_buf(),
            line,
            message,
        };
        if text.trim().is_empty() {
            return Ok(IgnoreRules {
                rules: Vec::new(),
                source: shown,
            });
        }
        let doc: YamlFile = serde_saphyr::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line() as usize).unwrap_or(0);
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid YAML").to_string();
            syntax(line, first)
        })?;
        let mut rules = Vec::new();
        for (kind, list) in [
            (RuleKind::Vulnerability, doc.vulnerabilities),
            (RuleKind::Misconfiguration, doc.misconfigurations),
            (RuleKind::Secret, doc.secrets),
        ] {
            for e in list.unwrap_or_default() {
                let line = e.id.referenced.line() as usize;
                let id = e.id.value.trim().to_string();
                if id.is_empty() {
                    return Err(syntax(line, "empty id".into()));
                }
                let mut rule = IgnoreRule::new(kind, id, format!("{shown}:{line}"));
                for p in &e.paths {
                    // `*` stays inside one path segment; `**` crosses them.
                    let g = GlobBuilder::new(p.trim_start_matches('/'))
                        .literal_separator(true)
                        .build()
                        .map_err(|err| syntax(line, format!("invalid path glob {p:?}: {err}")))?;
                    rule.matchers.push(g.compile_matcher());
                }
                rule.paths = e.paths;
                for p in &e.purls {
                    let key = PurlKey::parse(p)
                        .ok_or_else(|| syntax(line, format!("invalid package URL {p:?}")))?;
                    rule.parsed_purls.push(key);
                }
                rule.purls = e.purls;
                if let Some(exp) = e.expired_at {
                    let l = exp.referenced.line() as usize;
                    rule.expired_at = Some(Date::parse(&exp.value).ok_or_else(|| {
                        syntax(
                            l,
                            format!("invalid expired_at {:?} (expected YYYY-MM-DD)", exp.value),
                        )
                    })?);
                }
                rule.statement = e.statement.unwrap_or_default();
                rules.push(rule);
            }
        }
        Ok(IgnoreRules {
            rules,
            source: shown,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivyignore_lines() {
        let r = IgnoreRules::parse_trivyignore(
            Path::new(".trivyignore"),
            "# comment\n\nCVE-2019-14697\nCVE-2018-0734 exp:2023-01-31 # until the upgrade\n  AVD-DS-0002  \n",
        );
        let r = match r {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        let ids: Vec<_> = r.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2019-14697", "CVE-2018-0734", "AVD-DS-0002"]);
        assert_eq!(r.rules[1].expired_at, Date::new(2023, 1, 31));
        assert_eq!(r.rules[1].origin, ".trivyignore:4");
        assert!(r.rules.iter().all(|r| r.kind == RuleKind::Any));
    }

    #[test]
    fn trivyignore_bad_date_names_file_and_line() {
        let e =
            IgnoreRules::parse_trivyignore(Path::new("x/.trivyignore"), "A\nB exp:2023-02-30\n");
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            msg,
            "x/.trivyignore:2: invalid expiry date \"2023-02-30\" (expected exp:YYYY-MM-DD)"
        );
    }

    #[test]
    fn yaml_entries() {
        let y = "vulnerabilities:\n  - id: CVE-1\n    paths: [\"usr/lib/**\"]\n    statement: accepted\n  - id: CVE-2\n    purls: [\"pkg:apk/alpine/musl\"]\n    expired_at: 2023-09-01\nsecrets:\n  - id: aws-access-key-id\n";
        let r = match IgnoreRules::parse_yaml(Path::new("i.yaml"), y) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(r.rules.len(), 3);
        assert_eq!(r.rules[0].statement, "accepted");
        assert_eq!(r.rules[1].expired_at, Date::new(2023, 9, 1));
        assert_eq!(r.rules[1].origin, "i.yaml:5");
        assert_eq!(r.rules[2].kind, RuleKind::Secret);
        let s = |ids: Vec<&'static str>, paths: Vec<&'static str>, purl| Subject {
            kind: RuleKind::Vulnerability,
            ids,
            paths,
            purl,
        };
        assert!(r.rules[0].matches(&s(vec!["CVE-1"], vec!["usr/lib/x/METADATA"], None)));
        assert!(!r.rules[0].matches(&s(vec!["CVE-1"], vec!["app/x"], None)));
        assert!(r.rules[1].matches(&s(
            vec!["CVE-2"],
            vec![],
            Some("pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.4")
        )));
        assert!(!r.rules[1].matches(&s(vec!["CVE-2"], vec![], Some("pkg:apk/alpine/busybox@1"))));
        assert!(!r.rules[1].matches(&s(vec!["CVE-2"], vec![], None)));
        // Kinds do not cross.
        assert!(!r.rules[2].matches(&s(vec!["aws-access-key-id"], vec![], None)));
    }

    #[test]
    fn yaml_errors_are_one_line_with_file_and_line() {
        for (y, want) in [
            (
                "vulnerabilities:\n  - id: CVE-1\n    expired_at: someday\n",
                "i.yaml:3: invalid expired_at",
            ),
            (
                "vulnerabilities:\n  - id: CVE-1\n    purls: [\"not a purl\"]\n",
                "i.yaml:2: invalid package URL",
            ),
            ("vulnerabilities:\n  - idd: CVE-1\n", "i.yaml:2:"),
            ("vulnerabilities: [\n", "i.yaml:"),
        ] {
            let e = IgnoreRules::parse_yaml(Path::new("i.yaml"), y)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with(want), "{y:?} gave {e:?}");
            assert!(!e.contains('\n'), "{e:?}");
        }
    }
}
