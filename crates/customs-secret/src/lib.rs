//! Secret scanning for customs: find credentials left in files, fast
//! enough to leave on by default.
//!
//! One pass over each file's bytes: an Aho-Corasick automaton (ASCII
//! case-insensitive) over the keywords of every rule finds candidate
//! positions; only the rules whose keywords occur run their regex, and only
//! on a window of lines around each occurrence. No lowercased copy of the
//! data is made. Large inputs are streamed in 1 MiB chunks with an overlap,
//! so memory does not depend on the file size.
//!
//! ```
//! use customs_secret::SecretScanner;
//! let scanner = SecretScanner::builtin();
//! // Assembled at run time so this file does not itself hold a token.
//! let env = format!("GITHUB_TOKEN={}{}\n", "ghp_", "N7vQ2kT9xLmB4wZr8YcP1sHd6FgJ3aUe5KoV");
//! let found = scanner.scan("app/.env", env.as_bytes());
//! assert_eq!(found.findings.len(), 1);
//! assert_eq!(found.dropped, 0);
//! assert_eq!(found.findings[0].rule_id, "github-pat");
//! assert_eq!(found.findings[0].match_line, "GITHUB_TOKEN=****************************************");
//! ```
//!
//! Findings are capped per file ([`MAX_FINDINGS_PER_RULE`],
//! [`MAX_FINDINGS_PER_FILE`]); the matches beyond the caps are counted in
//! [`ScanOutcome::dropped`]. Each finding holds a bounded amount of text
//! (lines cut to 200 bytes around the secret), never the file's text, so
//! memory does not grow with the size of a file or with its matches.
//!
//! The scanner is `Send + Sync`; scan files in parallel from the caller.

mod builtin;
pub mod config;
mod finding;
mod judge;
mod rule;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::bytes::Regex as BytesRegex;
use regex::RegexSet;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;

pub use config::{Config, ConfigError};
pub use finding::{Code, Line, ScanOutcome, SecretFinding};
pub use judge::{is_placeholder, Check};
pub use rule::{shannon_entropy, AllowRule, Rule};

/// Bytes inspected to tell a binary file from a text file.
pub const BINARY_SNIFF_LEN: usize = 8 * 1024;
/// Bytes read per step by [`SecretScanner::scan_reader`].
pub const CHUNK_LEN: usize = 1 << 20;
/// Bytes kept from one chunk to the next (longer than any match).
pub const CHUNK_OVERLAP: usize = 128 * 1024;
/// Context kept before the first owned byte of a chunk.
const CHUNK_MARGIN: usize = 8 * 1024;
/// How far before a keyword a window may start on a very long line.
const MAX_BACK: usize = 1024;
/// How far after a keyword a single-line window may end.
const MAX_FWD: usize = 4096;
/// How far after a keyword a multi-line window (private keys) may end.
const MAX_FWD_MULTILINE: usize = 64 * 1024;
/// Lines of context shown before and after the secret.
const CONTEXT_LINES: usize = 2;
/// Longest line shown in full; longer ones are cut around the secret.
/// Only the shown bytes are copied, so a finding on a 50 MB line is as
/// small as one on a short line.
const MAX_SHOWN_LINE: usize = 200;
/// Lines of a multi-line secret (private keys) shown in `Code`; a longer
/// secret shows its first lines only. With [`MAX_SHOWN_LINE`] and
/// [`CONTEXT_LINES`] this bounds the text of one finding to about 60 KB,
/// and that of a typical one-line finding to about 2 KB.
const MAX_CAUSE_LINES: usize = 128;

/// Findings reported per rule in one file. Further matches of that rule in
/// the file are counted in [`ScanOutcome::dropped`], not built: a file
/// holding a million copies of one credential costs a counter, not a
/// million findings.
pub const MAX_FINDINGS_PER_RULE: usize = 100;
/// Findings reported per file, all rules together; the rest are counted in
/// [`ScanOutcome::dropped`]. The findings kept are the first in file order
/// that fit both limits.
pub const MAX_FINDINGS_PER_FILE: usize = 1000;

/// The warning to print when a file's findings hit the limits, e.g.
/// `app/creds.txt: 1,000 secret findings shown, 2,345,678 more dropped
/// (limit per file: 1,000)`. `shown` is the number of findings reported for the
/// file, `dropped` the [`ScanOutcome::dropped`] count.
pub fn limit_warning(path: &str, shown: usize, dropped: u64) -> String {
    let which = if shown >= MAX_FINDINGS_PER_FILE {
        format!(
            "limit per file: {}",
            thousands(MAX_FINDINGS_PER_FILE as u64)
        )
    } else {
        format!("limit per rule: {MAX_FINDINGS_PER_RULE}")
    };
    format!(
        "{path}: {} secret findings shown, {} more dropped ({which})",
        thousands(shown as u64),
        thousands(dropped)
    )
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The secret scanner: compiled rules, allow rules and the keyword
/// automaton. Build it once, share it across threads.
#[derive(Debug, Clone)]
pub struct SecretScanner {
    rules: Vec<Rule>,
    ac: Option<AhoCorasick>,
    /// Pattern index of `ac` → rules that have that keyword.
    pattern_rules: Vec<Vec<usize>>,
    /// Rules without keywords: run on the whole buffer.
    keywordless: Vec<usize>,
    /// Global allow rules that look at the secret.
    value_allow: Vec<AllowRule>,
    /// Global allow rules that look only at the path.
    path_allow: Vec<AllowRule>,
    skip_paths: Option<RegexSet>,
    exclude_blocks: Vec<BytesRegex>,
}

/// One raw match that survived the filters.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    rule: usize,
    secret: (usize, usize),
    /// The match's `key` group (generic rules).
    key: Option<(usize, usize)>,
    /// Where the whole match starts (for a URI's user).
    start: usize,
}

/// Where a buffer starts in the file.
#[derive(Debug, Clone, Copy)]
struct Pos {
    offset: u64,
    line: usize,
}

/// The per-file limits: how many findings each rule, and the file, may
/// still report, and how many were refused.
#[derive(Debug)]
struct Budget {
    per_rule: Vec<usize>,
    total: usize,
    dropped: u64,
}

impl Budget {
    fn new(rules: usize) -> Self {
        Budget {
            per_rule: vec![0; rules],
            total: 0,
            dropped: 0,
        }
    }

    /// True when one more finding of rule `ri` fits; counts it either way.
    fn admit(&mut self, ri: usize) -> bool {
        match self.per_rule.get_mut(ri) {
            Some(n) if *n < MAX_FINDINGS_PER_RULE && self.total < MAX_FINDINGS_PER_FILE => {
                *n += 1;
                self.total += 1;
                true
            }
            _ => {
                self.dropped += 1;
                false
            }
        }
    }
}

impl Default for SecretScanner {
    fn default() -> Self {
        Self::builtin()
    }
}

impl SecretScanner {
    /// The built-in rules and allow rules, no config file. Built once per
    /// process (the keyword automaton and the path filters) and cloned; the
    /// rules' regexes are compiled on first need and shared by every clone,
    /// so a caller that only masks a few strings compiles a few regexes.
    pub fn builtin() -> Self {
        static BUILTIN: std::sync::OnceLock<SecretScanner> = std::sync::OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                match Self::from_config(&Config::default(), Path::new("<built-in>")) {
                    Ok(s) => s,
                    Err(e) => {
                        // Built-ins are covered by tests; never reached in practice.
                        tracing::warn!("{e}");
                        Self::assemble(
                            Vec::new(),
                            rule::builtin_allow_rules(),
                            Vec::new(),
                            Vec::new(),
                        )
                    }
                }
            })
            .clone()
    }

    /// Built-ins adjusted by the YAML config file at `path`.
    pub fn from_config_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let cfg = Config::from_yaml(&text, &path.display().to_string())?;
        Self::from_config(&cfg, path)
    }

    /// Built-ins adjusted by a parsed config; `origin` names it in errors.
    pub fn from_config(cfg: &Config, origin: &Path) -> Result<Self, ConfigError> {
        let path = origin.to_path_buf();
        let rx_message = |field: String, regex: &str, message: &str| ConfigError::Regex {
            path: path.clone(),
            field,
            regex: regex.to_string(),
            message: config::one_line(message),
        };
        let rx_err =
            |field: String, regex: &str, e: regex::Error| rx_message(field, regex, &e.to_string());
        let disabled = |id: &str| cfg.disable_rules.iter().any(|d| d == id);

        let mut rules = Vec::new();
        // Custom rules first: the table order is the priority on overlaps.
        for rc in &cfg.rules {
            if rc.id.trim().is_empty() {
                return Err(ConfigError::Rule {
                    path: path.clone(),
                    rule: "<no id>".into(),
                    message: "`id` is required".into(),
                });
            }
            if disabled(&rc.id) {
                continue;
            }
            let rule_err = |message: String| ConfigError::Rule {
                path: path.clone(),
                rule: rc.id.clone(),
                message,
            };
            if rc.regex.is_empty() {
                return Err(rule_err("`regex` is required".into()));
            }
            let keywords: Vec<String> = rc
                .keywords
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .filter(|k| !k.is_empty())
                .collect();
            let regex = rule::RuleRegex::new(&rc.regex, false, keywords.is_empty())
                .map_err(|m| rx_message(format!("rule {} regex", rc.id), &rc.regex, &m))?;
            let group_name = rc.secret_group_name.as_deref().unwrap_or("secret");
            let secret_group = match regex.group_index(group_name) {
                Some(i) => i,
                None if rc.secret_group_name.is_some() => {
                    return Err(rule_err(format!(
                        "regex has no capture group named `{group_name}`"
                    )))
                }
                None => 0,
            };
            let severity = if rc.severity.trim().is_empty() {
                customs_model::Severity::Unknown
            } else {
                customs_model::Severity::parse(&rc.severity).ok_or_else(|| {
                    rule_err(format!(
                        "unknown severity {:?} (use CRITICAL, HIGH, MEDIUM, LOW)",
                        rc.severity
                    ))
                })?
            };
            let rpath = match rc.path.to_regex() {
                Some(p) => Some(
                    rule::compile_path(&p)
                        .map_err(|e| rx_err(format!("rule {} path", rc.id), &p, e))?,
                ),
                None => None,
            };
            let mut allow_rules = Vec::new();
            for a in &rc.allow_rules {
                allow_rules.push(compile_allow(a, &path)?);
            }
            if rules.iter().any(|r: &Rule| r.id == rc.id) {
                return Err(rule_err("duplicate rule id".into()));
            }
            rules.push(Rule::custom(
                rc.id.clone(),
                rc.category.clone(),
                if rc.title.is_empty() {
                    rc.id.clone()
                } else {
                    rc.title.clone()
                },
                severity,
                regex,
                secret_group,
                keywords,
                rpath,
                allow_rules,
                rc.entropy,
                rc.lines_after.unwrap_or(0),
            ));
        }

        for (bi, b) in builtin::BUILTIN_RULES.iter().enumerate() {
            if disabled(b.id) {
                continue;
            }
            if !cfg.enable_builtin_rules.is_empty()
                && !cfg.enable_builtin_rules.iter().any(|e| e == b.id)
            {
                continue;
            }
            if rules.iter().any(|r| r.id == b.id) {
                // A custom rule with a built-in's id replaces it.
                continue;
            }
            match Rule::from_builtin(bi, b) {
                Ok(r) => rules.push(r),
                Err(e) => tracing::warn!("built-in secret rule skipped: {e}"),
            }
        }
        for id in cfg.disable_rules.iter().chain(&cfg.enable_builtin_rules) {
            if !rules.iter().any(|r| &r.id == id)
                && !builtin::BUILTIN_RULES.iter().any(|b| b.id == id)
                && !cfg.rules.iter().any(|r| &r.id == id)
            {
                tracing::warn!("{}: unknown secret rule id {id:?}", path.display());
            }
        }

        let mut allow: Vec<AllowRule> = rule::builtin_allow_rules()
            .into_iter()
            .filter(|a| !cfg.disable_allow_rules.iter().any(|d| d == &a.id))
            .collect();
        for a in &cfg.allow_rules {
            allow.push(compile_allow(a, &path)?);
        }

        let mut skips: Vec<String> = builtin::DEFAULT_SKIP_PATHS
            .iter()
            .map(|s| s.to_string())
            .collect();
        for s in &cfg.skip_paths {
            rule::compile_path(s).map_err(|e| rx_err("skip-paths".into(), s, e))?;
            skips.push(s.clone());
        }
        let mut blocks = Vec::new();
        for b in &cfg.exclude_block.regexes {
            blocks.push(
                rule::compile_bytes(b, true).map_err(|e| rx_err("exclude-block".into(), b, e))?,
            );
        }
        Ok(Self::assemble(rules, allow, skips, blocks))
    }

    fn assemble(
        rules: Vec<Rule>,
        allow: Vec<AllowRule>,
        skips: Vec<String>,
        exclude_blocks: Vec<BytesRegex>,
    ) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut keywordless = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.keywords.is_empty() {
                keywordless.push(i);
            }
            for k in &r.keywords {
                match patterns.iter().position(|p| p == k) {
                    Some(pi) => {
                        if let Some(v) = pattern_rules.get_mut(pi) {
                            if !v.contains(&i) {
                                v.push(i);
                            }
                        }
                    }
                    None => {
                        patterns.push(k.clone());
                        pattern_rules.push(vec![i]);
                    }
                }
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&patterns)
                .or_else(|_| {
                    AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .build(&patterns)
                })
                .map_err(|e| tracing::warn!("secret keyword automaton: {e}"))
                .ok()
        };
        let skip_paths = RegexSet::new(&skips)
            .map_err(|e| tracing::warn!("secret skip paths: {e}"))
            .ok();
        let (path_allow, value_allow): (Vec<_>, Vec<_>) = allow
            .into_iter()
            .partition(|a| !a.is_value_rule() && a.path.is_some());
        SecretScanner {
            rules,
            ac,
            pattern_rules,
            keywordless,
            value_allow,
            path_allow,
            skip_paths,
            exclude_blocks,
        }
    }

    /// The active rules, in priority order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The active global allow rules (value rules, then path rules).
    pub fn allow_rules(&self) -> impl Iterator<Item = &AllowRule> {
        self.value_allow.iter().chain(&self.path_allow)
    }

    /// True when the file at `path` need not be read: a skip path, or a
    /// global allow rule on paths (documentation, tests, OS package files).
    pub fn skip_path(&self, path: &str) -> bool {
        self.skip_paths.as_ref().is_some_and(|s| s.is_match(path)) || self.path_allowed(path)
    }

    /// Scan a whole file. Skipped paths and binary content give nothing.
    /// Buffers over [`CHUNK_LEN`] are scanned as a stream (see
    /// [`scan_reader`](Self::scan_reader)), so the working memory is that of
    /// one chunk whatever the buffer's size and its number of matches.
    pub fn scan(&self, path: &str, data: &[u8]) -> ScanOutcome {
        if self.skip_path(path) || is_binary(data) {
            return ScanOutcome::default();
        }
        self.scan_allowed_text(path, data)
    }

    /// Scan text that is known not to be binary (an image config's `Env`,
    /// history commands) without the path and binary checks.
    pub fn scan_text(&self, path: &str, data: &[u8]) -> ScanOutcome {
        if self.path_allowed(path) {
            return ScanOutcome::default();
        }
        self.scan_allowed_text(path, data)
    }

    /// True when a global allow rule on paths drops every finding at `path`.
    fn path_allowed(&self, path: &str) -> bool {
        self.path_allow.iter().any(|a| a.allows_path(path))
    }

    /// [`scan_text`](Self::scan_text) once the path is known not allowed:
    /// the path rules run once per file, not once per chunk.
    fn scan_allowed_text(&self, path: &str, data: &[u8]) -> ScanOutcome {
        if data.len() > CHUNK_LEN {
            // Reading a slice cannot fail.
            return self.scan_stream(path, data, false).unwrap_or_default();
        }
        self.scan_unchunked(path, data)
    }

    /// One pass over the whole buffer, however large (tests compare it
    /// with the chunked scan).
    fn scan_unchunked(&self, path: &str, data: &[u8]) -> ScanOutcome {
        let mut budget = Budget::new(self.rules.len());
        let mut findings = Vec::new();
        self.scan_buffer(
            path,
            data,
            Pos { offset: 0, line: 1 },
            0..data.len(),
            &mut budget,
            &mut findings,
        );
        ScanOutcome {
            findings,
            dropped: budget.dropped,
        }
    }

    /// Scan a stream in [`CHUNK_LEN`] chunks that overlap by
    /// [`CHUNK_OVERLAP`] bytes: memory stays bounded whatever the size, a
    /// secret that crosses a chunk boundary is reported once, and line
    /// numbers and offsets are those of the whole stream. Findings are
    /// capped as in [`scan`](Self::scan); the rest are counted.
    pub fn scan_reader<R: Read>(&self, path: &str, r: R) -> io::Result<ScanOutcome> {
        if self.skip_path(path) {
            return Ok(ScanOutcome::default());
        }
        self.scan_stream(path, r, true)
    }

    fn scan_stream<R: Read>(&self, path: &str, mut r: R, sniff: bool) -> io::Result<ScanOutcome> {
        let mut budget = Budget::new(self.rules.len());
        let mut out = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut base = Pos { offset: 0, line: 1 };
        let mut own_from: usize = 0;
        let mut first = sniff;
        loop {
            let eof = if first {
                // Sniff first: a binary costs its first 8 KiB, not a chunk
                // (in an image rootfs most bytes are binaries).
                first = false;
                let eof = fill(&mut r, &mut buf, BINARY_SNIFF_LEN)?;
                if is_binary(&buf) {
                    return Ok(ScanOutcome::default());
                }
                eof || fill(&mut r, &mut buf, CHUNK_LEN - BINARY_SNIFF_LEN)?
            } else {
                fill(&mut r, &mut buf, CHUNK_LEN)?
            };
            let end = buf.len();
            if eof {
                self.scan_buffer(path, &buf, base, own_from..end, &mut budget, &mut out);
                return Ok(ScanOutcome {
                    findings: out,
                    dropped: budget.dropped,
                });
            }
            // Carry from a line start about CHUNK_OVERLAP before the end;
            // this chunk owns matches starting before `own_to`, a line
            // start CHUNK_MARGIN into the carry (context for the next one).
            // Both searches for a line start are bounded, so one huge line
            // is carried like any other bytes: the buffer never exceeds
            // CHUNK_LEN + CHUNK_OVERLAP.
            let c0 = end.saturating_sub(CHUNK_OVERLAP).max(own_from);
            let carry = line_start_near(&buf, c0, CHUNK_MARGIN).max(own_from);
            let p0 = (carry + CHUNK_MARGIN).min(end);
            let own_to = next_line_start_near(&buf, p0, CHUNK_MARGIN / 2);
            self.scan_buffer(path, &buf, base, own_from..own_to, &mut budget, &mut out);
            let consumed = buf.get(..carry).unwrap_or_default();
            base.line += memchr::memchr_iter(b'\n', consumed).count();
            base.offset += carry as u64;
            buf.drain(..carry);
            own_from = own_to - carry;
        }
    }

    /// `text` with every secret the rules find replaced by `*` (one per
    /// byte), or `None` when it holds none. For text a report repeats
    /// verbatim (an image config's `Env`, labels and history), so the
    /// secret found there is not printed in clear elsewhere in the report.
    pub fn mask_text(&self, path: &str, text: &str) -> Option<String> {
        let buf = text.as_bytes();
        if self.path_allowed(path) {
            return None;
        }
        let kept = self.select(path, buf, 0..buf.len());
        if kept.is_empty() {
            return None;
        }
        let mut out = buf.to_vec();
        for c in kept.values() {
            let (ss, se) = c.secret;
            if let Some(b) = out.get_mut(ss..se) {
                b.fill(b'*');
            }
        }
        // Masking whole bytes can split a multi-byte character: lossy is
        // right here, the masked part is meant to be unreadable.
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// Find the secrets whose match starts inside `own` (offsets of `buf`,
    /// which starts at `base` in the file) and append those the budget
    /// admits to `out`, in file order; the others are only counted.
    fn scan_buffer(
        &self,
        path: &str,
        buf: &[u8],
        base: Pos,
        own: Range<usize>,
        budget: &mut Budget,
        out: &mut Vec<SecretFinding>,
    ) {
        let kept = self.select(path, buf, own);
        if kept.is_empty() {
            return;
        }
        // Every kept secret is masked wherever it shows in a context line,
        // also those dropped by the budget.
        let spans: Vec<(usize, usize)> = kept.values().map(|c| c.secret).collect();
        let mut line_cursor = (0usize, base.line);
        for c in kept.values() {
            let Some(rule) = self.rules.get(c.rule) else {
                continue;
            };
            if !budget.admit(c.rule) {
                continue;
            }
            let mut f = build_finding(rule, buf, c.secret, &spans, &mut line_cursor, base.offset);
            f.reason = judge::reason(rule.check, buf, c.start, c.key, c.secret);
            out.push(f);
        }
    }

    /// The secrets (rule and byte span) whose match starts inside `own`,
    /// overlaps resolved, keyed by start offset.
    fn select(&self, path: &str, buf: &[u8], own: Range<usize>) -> BTreeMap<usize, Candidate> {
        if buf.is_empty() || own.is_empty() {
            return BTreeMap::new();
        }
        let n = self.rules.len();
        // 0 = not yet checked, 1 = rule applies to this path, 2 = it does not.
        let mut applies = vec![0u8; n];
        let mut windows: Vec<Vec<(usize, usize, bool)>> = vec![Vec::new(); n];
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(buf) {
                let Some(rs) = self.pattern_rules.get(m.pattern().as_usize()) else {
                    continue;
                };
                let p = m.start();
                for &ri in rs {
                    let (Some(rule), Some(w)) = (self.rules.get(ri), windows.get_mut(ri)) else {
                        continue;
                    };
                    if !rule_applies(rule, ri, path, &mut applies) {
                        continue;
                    }
                    if let Some(last) = w.last() {
                        // Already inside a window that ends at a line end.
                        if p < last.1 && last.2 {
                            continue;
                        }
                    }
                    let fwd = if rule.lines_after > 0 {
                        MAX_FWD_MULTILINE
                    } else {
                        MAX_FWD
                    };
                    let (ws, we, exact) = window(buf, p, rule.lines_after, fwd);
                    match w.last_mut() {
                        Some(last) if ws <= last.1 => {
                            if we > last.1 {
                                last.1 = we;
                                last.2 = exact;
                            }
                        }
                        _ => w.push((ws, we, exact)),
                    }
                }
            }
        }
        for &ri in &self.keywordless {
            if let (Some(rule), Some(w)) = (self.rules.get(ri), windows.get_mut(ri)) {
                if rule_applies(rule, ri, path, &mut applies) {
                    w.push((0, buf.len(), true));
                }
            }
        }

        let mut cands: Vec<Candidate> = Vec::new();
        let marks = judge::Marks::default();
        for (ri, ws) in windows.iter().enumerate() {
            if ws.is_empty() {
                continue;
            }
            let Some(rule) = self.rules.get(ri) else {
                continue;
            };
            let Some(compiled) = rule.compiled() else {
                continue;
            };
            let mut caps = compiled.regex.captures();
            for &(start, end, _) in ws {
                let Some(hay) = buf.get(..end) else { continue };
                let mut at = start;
                while at <= end {
                    let Some((ms, me)) = compiled.find_at(hay, at, &mut caps) else {
                        break;
                    };
                    at = if me > at { me } else { at + 1 };
                    if !own.contains(&ms) {
                        continue;
                    }
                    let (ss, se) =
                        rule::group_span(&caps, compiled.secret_group).unwrap_or((ms, me));
                    let Some(secret) = buf.get(ss..se) else {
                        continue;
                    };
                    if secret.is_empty() {
                        continue;
                    }
                    if rule.entropy.is_some_and(|t| shannon_entropy(secret) < t) {
                        continue;
                    }
                    let whole = buf.get(ms..me).unwrap_or_default();
                    if compiled
                        .allow_rules
                        .iter()
                        .any(|a| a.allows(path, if a.on_match { whole } else { secret }))
                        || self.value_allow.iter().any(|a| a.allows(path, secret))
                    {
                        continue;
                    }
                    let found = judge::Found {
                        path,
                        buf,
                        whole: (ms, me),
                        secret: (ss, se),
                        key: compiled.key_group.and_then(|g| rule::group_span(&caps, g)),
                        marks: &marks,
                    };
                    if !judge::accept(rule.check, &found) {
                        continue;
                    }
                    cands.push(Candidate {
                        rule: ri,
                        secret: (ss, se),
                        key: found.key,
                        start: ms,
                    });
                }
            }
        }
        if cands.is_empty() {
            return BTreeMap::new();
        }

        if !self.exclude_blocks.is_empty() {
            let mut blocks = Vec::new();
            for re in &self.exclude_blocks {
                blocks.extend(re.find_iter(buf).map(|m| (m.start(), m.end())));
            }
            cands.retain(|c| {
                !blocks
                    .iter()
                    .any(|&(bs, be)| c.secret.0 >= bs && c.secret.1 <= be)
            });
        }

        // Overlapping secrets: the rule earlier in the table wins.
        cands.sort_by_key(|c| (c.rule, c.secret.0));
        let mut kept: BTreeMap<usize, Candidate> = BTreeMap::new();
        for c in cands {
            let (ss, se) = c.secret;
            let overlaps = kept
                .range(..se)
                .next_back()
                .is_some_and(|(_, k)| k.secret.1 > ss);
            if !overlaps {
                kept.insert(ss, c);
            }
        }
        kept
    }
}

fn compile_allow(a: &config::AllowRuleConfig, origin: &Path) -> Result<AllowRule, ConfigError> {
    let err = |message: String| ConfigError::AllowRule {
        path: origin.to_path_buf(),
        rule: a.id.clone(),
        message,
    };
    let path_re = a.path.to_regex();
    if a.regex.as_deref().is_none_or(str::is_empty) && path_re.is_none() {
        return Err(err("`regex` or `path` is required".into()));
    }
    let regex = match a.regex.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => Some(rule::compile_bytes(r, false).map_err(|e| {
            err(format!(
                "invalid regex {r:?}: {}",
                config::regex_message(&e)
            ))
        })?),
        None => None,
    };
    let path = match path_re {
        Some(p) => Some(
            rule::compile_path(&p)
                .map_err(|e| err(format!("invalid path {p:?}: {}", config::regex_message(&e))))?,
        ),
        None => None,
    };
    Ok(AllowRule {
        id: a.id.clone(),
        description: a.description.clone(),
        regex,
        path,
        value_check: None,
        on_match: false,
    })
}

fn rule_applies(rule: &Rule, ri: usize, path: &str, cache: &mut [u8]) -> bool {
    let Some(state) = cache.get_mut(ri) else {
        return false;
    };
    if *state == 0 {
        let ok = rule.path.as_ref().is_none_or(|p| p.is_match(path)) && !rule.allows_path(path);
        *state = if ok { 1 } else { 2 };
    }
    *state == 1
}

/// The window a rule's regex runs on for a keyword at `p`: from the start of
/// its line (at most [`MAX_BACK`] before) to the end of the line
/// `lines_after` lines below (at most `fwd` after). The flag says whether
/// the end is a real line end (or the end of the buffer).
fn window(buf: &[u8], p: usize, lines_after: usize, fwd: usize) -> (usize, usize, bool) {
    let p = p.min(buf.len());
    let lo = p.saturating_sub(MAX_BACK);
    let ws = match buf.get(lo..p).and_then(|s| memchr::memrchr(b'\n', s)) {
        Some(i) => lo + i + 1,
        None => lo,
    };
    let hi = p.saturating_add(fwd).min(buf.len());
    let mut we = p;
    let mut lines = 0;
    loop {
        match buf.get(we..hi).and_then(|s| memchr::memchr(b'\n', s)) {
            Some(i) => {
                we += i;
                if lines >= lines_after {
                    return (ws, we, true);
                }
                lines += 1;
                we += 1;
            }
            None => return (ws, hi, hi == buf.len()),
        }
    }
}

/// Read up to `want` more bytes into `buf`; true at end of input. The
/// buffer grows with what is actually read (no zero-filled megabyte for a
/// small file).
fn fill<R: Read>(r: &mut R, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    let mut need = want as u64;
    while need > 0 {
        let n = match r.by_ref().take(need).read_to_end(buf) {
            Ok(n) => n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(true);
        }
        need = need.saturating_sub(n);
    }
    Ok(false)
}

/// The start of the line holding `pos`, if it is at most `max_back` bytes
/// before; `pos` itself otherwise.
fn line_start_near(buf: &[u8], pos: usize, max_back: usize) -> usize {
    let lo = pos.saturating_sub(max_back);
    match buf.get(lo..pos).and_then(|s| memchr::memrchr(b'\n', s)) {
        Some(i) => lo + i + 1,
        None => pos,
    }
}

/// The start of the next line at or after `pos`, if within `max_fwd` bytes;
/// `pos` itself otherwise.
fn next_line_start_near(buf: &[u8], pos: usize, max_fwd: usize) -> usize {
    if pos == 0 || buf.get(pos.wrapping_sub(1)) == Some(&b'\n') {
        return pos;
    }
    let hi = pos.saturating_add(max_fwd).min(buf.len());
    match buf.get(pos..hi).and_then(|s| memchr::memchr(b'\n', s)) {
        Some(i) => pos + i + 1,
        None => pos,
    }
}

/// True when `data` looks binary: a NUL byte, or more than 10% control
/// bytes, in its first [`BINARY_SNIFF_LEN`] bytes. Decided by content, never
/// by file name.
pub fn is_binary(data: &[u8]) -> bool {
    let head = data.get(..BINARY_SNIFF_LEN).unwrap_or(data);
    if head.is_empty() {
        return false;
    }
    if memchr::memchr(0, head).is_some() {
        return true;
    }
    let control = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)) || b == 0x7f)
        .count();
    control * 10 > head.len()
}

/// Line number (1-based, counting from `cursor`) of byte `pos`. Positions
/// must be asked in increasing order.
fn line_at(buf: &[u8], pos: usize, cursor: &mut (usize, usize)) -> usize {
    if pos >= cursor.0 {
        let seg = buf.get(cursor.0..pos).unwrap_or_default();
        cursor.1 += memchr::memchr_iter(b'\n', seg).count();
        cursor.0 = pos;
        cursor.1
    } else {
        let seg = buf.get(pos..cursor.0).unwrap_or_default();
        cursor.1 - memchr::memchr_iter(b'\n', seg).count()
    }
}

fn line_bounds(buf: &[u8], pos: usize) -> (usize, usize) {
    let pos = pos.min(buf.len());
    let start = buf
        .get(..pos)
        .and_then(|s| memchr::memrchr(b'\n', s))
        .map_or(0, |i| i + 1);
    let end = buf
        .get(pos..)
        .and_then(|s| memchr::memchr(b'\n', s))
        .map_or(buf.len(), |i| pos + i);
    (start, end)
}

fn build_finding(
    rule: &Rule,
    buf: &[u8],
    secret: (usize, usize),
    spans: &[(usize, usize)],
    cursor: &mut (usize, usize),
    base_offset: u64,
) -> SecretFinding {
    let (ss, se) = secret;
    let start_line = line_at(buf, ss, cursor);
    let last_byte = se.saturating_sub(1).max(ss);
    let end_line =
        start_line + memchr::memchr_iter(b'\n', buf.get(ss..last_byte).unwrap_or_default()).count();

    // Lines from CONTEXT_LINES before the first cause line to
    // CONTEXT_LINES after the last one.
    let (first_ls, _) = line_bounds(buf, ss);
    let mut from = first_ls;
    let mut number = start_line;
    for _ in 0..CONTEXT_LINES {
        if from == 0 {
            break;
        }
        from = line_bounds(buf, from - 1).0;
        number = number.saturating_sub(1);
    }
    let (_, last_le) = line_bounds(buf, last_byte);
    let mut to = last_le;
    for _ in 0..CONTEXT_LINES {
        // No phantom empty line after a final newline.
        if to + 1 >= buf.len() {
            break;
        }
        to = line_bounds(buf, to + 1).1;
    }
    let secret_bytes = buf.get(ss..se).unwrap_or_default();
    let mut lines = Vec::new();
    let mut pos = from;
    let mut match_line = String::new();
    while pos <= to {
        let (ls, le) = line_bounds(buf, pos);
        let is_cause = number >= start_line && number <= end_line;
        let (content, truncated) = render_line(buf, ls, le, ss, spans, secret_bytes);
        if number == start_line {
            match_line = content.trim().to_string();
        }
        lines.push(Line {
            number,
            highlighted: content.clone(),
            content,
            is_cause,
            annotation: String::new(),
            truncated,
            first_cause: number == start_line,
            last_cause: number == end_line,
        });
        if is_cause && number < end_line && number + 1 - start_line >= MAX_CAUSE_LINES {
            // A secret of thousands of lines shows its first lines only:
            // the last one shown closes the block and says it was cut.
            if let Some(l) = lines.last_mut() {
                l.last_cause = true;
                l.truncated = true;
            }
            break;
        }
        number += 1;
        if le >= buf.len() {
            break;
        }
        pos = le + 1;
    }
    SecretFinding {
        rule_id: rule.id.clone(),
        category: rule.category.clone(),
        severity: rule.severity,
        title: rule.title.clone(),
        start_line,
        end_line,
        code: Code { lines },
        match_line,
        layer: Default::default(),
        offset: base_offset + ss as u64,
        reason: None,
    }
}

/// One line `[ls, le)` with every secret span masked, cut to
/// [`MAX_SHOWN_LINE`] bytes around `focus` when long.
fn render_line(
    buf: &[u8],
    ls: usize,
    mut le: usize,
    focus: usize,
    spans: &[(usize, usize)],
    secret: &[u8],
) -> (String, bool) {
    if le > ls && buf.get(le - 1) == Some(&b'\r') {
        le -= 1;
    }
    let (mut ds, mut de, mut truncated) = (ls, le, false);
    if le - ls > MAX_SHOWN_LINE {
        truncated = true;
        ds = if (ls..le).contains(&focus) {
            focus.saturating_sub(MAX_SHOWN_LINE / 4).max(ls)
        } else {
            ls
        };
        de = (ds + MAX_SHOWN_LINE).min(le);
    }
    let mut bytes: Vec<u8> = buf.get(ds..de).unwrap_or_default().to_vec();
    let first = spans.partition_point(|&(_, e)| e <= ds);
    for &(s, e) in spans.get(first..).unwrap_or_default() {
        if s >= de {
            break;
        }
        for i in s.max(ds)..e.min(de) {
            if let Some(b) = bytes.get_mut(i - ds) {
                if *b != b'\n' && *b != b'\r' {
                    *b = b'*';
                }
            }
        }
    }
    // The same secret elsewhere on the line (a copy that was not reported
    // on its own) is masked as well.
    if secret.len() >= 4 && memchr::memchr(b'\n', secret).is_none() {
        let finder = memchr::memmem::Finder::new(secret);
        let mut from = 0;
        while let Some(i) = bytes.get(from..).and_then(|s| finder.find(s)) {
            let at = from + i;
            for b in bytes.iter_mut().skip(at).take(secret.len()) {
                *b = b'*';
            }
            from = at + secret.len();
        }
    }
    (String::from_utf8_lossy(&bytes).into_owned(), truncated)
}

#[cfg(test)]
mod tests;
