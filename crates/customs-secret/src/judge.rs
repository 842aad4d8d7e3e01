//! Code-aware checks of a match, after its regex matched: is the value a
//! literal credential, or a name, a type, a placeholder, documentation?
//!
//! The generic rules (`password = ...`, `token: ...`, URLs with a password)
//! match far more code than credentials: `password: Optional[str]`,
//! `password=auth_password,`, `postgresql://scott:tiger@localhost/test` in
//! a docstring, `"NextToken": "..."` in an API example. A regex cannot tell
//! those apart; these functions can, and each is small enough to read and
//! has a unit test per shape (`tests` below).

use crate::rule::shannon_entropy;

/// Which checks a rule's matches must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// None: the regex is the whole rule (specific token formats).
    None,
    /// `KEY = "literal"` in any file: the value must be a literal
    /// credential (see [`generic_value`]).
    GenericAssign { password: bool },
    /// `KEY = value` unquoted at the start of a line: configuration files
    /// only (in code such a line is an identifier, a type, an expression).
    GenericConfig { password: bool },
    /// `scheme://user:password@host`: no placeholder password, and not in a
    /// comment or docstring of code.
    Uri,
    /// A PEM block: at least `min` base64 characters in its body (a
    /// complete key, not a truncated example in a docstring).
    Pem { min: usize },
    /// A JWT whose header and payload decode to JSON objects; an empty
    /// signature only with `"alg":"none"`.
    Jwt,
}

/// What kind of file a path is, for the checks that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// Source code; comments start with `#` (Python, Ruby, Perl, R...).
    HashCode,
    /// Python: `#` comments and docstrings.
    Python,
    /// Source code with `//` and `/* */` comments (JS, TS, Go, Java, C...).
    SlashCode,
    /// PHP: both comment styles.
    Php,
    /// TypeScript declarations (`.d.ts`): types and docs, no values.
    Declarations,
    /// Anything else: configuration, scripts, data, unknown.
    Other,
}

impl FileKind {
    pub(crate) fn of(path: &str) -> FileKind {
        let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        if name.ends_with(".d.ts") || name.ends_with(".d.mts") || name.ends_with(".d.cts") {
            return FileKind::Declarations;
        }
        let ext = match name.rsplit_once('.') {
            Some((_, e)) => e,
            None => return FileKind::Other,
        };
        match ext {
            "py" | "pyi" | "pyx" => FileKind::Python,
            "rb" | "pl" | "pm" | "r" | "jl" | "ex" | "exs" | "cr" | "nim" | "coffee" => {
                FileKind::HashCode
            }
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" | "go" | "java" | "kt"
            | "kts" | "scala" | "groovy" | "gradle" | "cs" | "fs" | "c" | "h" | "cc" | "cpp"
            | "cxx" | "hpp" | "hh" | "m" | "mm" | "rs" | "swift" | "dart" | "vue" | "svelte" => {
                FileKind::SlashCode
            }
            "php" | "phtml" => FileKind::Php,
            _ => FileKind::Other,
        }
    }

    pub(crate) fn is_code(self) -> bool {
        !matches!(self, FileKind::Other)
    }
}

/// One match as the checks see it (offsets into `buf`).
pub(crate) struct Found<'a> {
    pub path: &'a str,
    pub buf: &'a [u8],
    pub whole: (usize, usize),
    pub secret: (usize, usize),
    pub key: Option<(usize, usize)>,
    pub marks: &'a Marks,
}

/// True when the match passes the rule's checks.
pub(crate) fn accept(check: Check, m: &Found<'_>) -> bool {
    let secret = m.buf.get(m.secret.0..m.secret.1).unwrap_or_default();
    let kind = FileKind::of(m.path);
    match check {
        Check::None => true,
        Check::GenericAssign { password } | Check::GenericConfig { password } => {
            if kind == FileKind::Declarations {
                return false;
            }
            if matches!(check, Check::GenericConfig { .. }) && kind.is_code() {
                return false;
            }
            if kind.is_code() && in_comment_or_docstring(kind, m.buf, m.whole.0, m.marks) {
                return false;
            }
            let key = m
                .key
                .and_then(|(s, e)| m.buf.get(s..e))
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            if let Some((_, ke)) = m.key {
                // `"KEY", "value"` is an assignment only as the two
                // arguments of a call (`setProperty("X_TOKEN", "...")`);
                // in a list (`["PASSWORD", "EMAIL_OTP"]`) it is two names.
                let between = m.buf.get(ke..m.secret.0).unwrap_or_default();
                if between.contains(&b',') {
                    let after = m.buf.get(m.whole.1..).unwrap_or_default();
                    if !trim_start(after).starts_with(b")") {
                        return false;
                    }
                }
            }
            let value = String::from_utf8_lossy(secret);
            generic_value(&key, &value, password)
        }
        Check::Uri => {
            if kind == FileKind::Declarations
                || (kind.is_code() && in_comment_or_docstring(kind, m.buf, m.whole.0, m.marks))
            {
                return false;
            }
            let whole = m.buf.get(m.whole.0..m.secret.0).unwrap_or_default();
            let user = uri_user(whole);
            !uri_placeholder(
                &String::from_utf8_lossy(user),
                &String::from_utf8_lossy(secret),
            )
        }
        // A key file, a config, a YAML block holding a key: any complete
        // PEM block counts. In source code, a short block is an example.
        Check::Pem { min } => !kind.is_code() || pem_body_len(secret) >= min,
        Check::Jwt => jwt_ok(secret),
    }
}

// ------------------------------------------------------------ context

/// Positions of the comment and docstring delimiters of one buffer, found
/// once (on the first match that asks) and shared by every match in it:
/// the cost of the context checks stays linear in the buffer, even for a
/// hostile file with a candidate on every line.
#[derive(Default)]
pub(crate) struct Marks {
    dq: std::cell::OnceCell<Vec<usize>>,
    sq: std::cell::OnceCell<Vec<usize>>,
    open: std::cell::OnceCell<Vec<usize>>,
    close: std::cell::OnceCell<Vec<usize>>,
}

impl Marks {
    fn of<'m>(cell: &'m std::cell::OnceCell<Vec<usize>>, buf: &[u8], needle: &[u8]) -> &'m [usize] {
        cell.get_or_init(|| memchr::memmem::find_iter(buf, needle).collect())
    }
}

/// How far back on its line a match looks for a comment marker.
const PREFIX_BACK: usize = 1024;

/// True when byte `pos` is inside a comment or (Python) a docstring: the
/// examples in library code (`create_engine("postgresql://scott:tiger@...")`
/// in a docstring) are documentation, not configuration.
pub(crate) fn in_comment_or_docstring(
    kind: FileKind,
    buf: &[u8],
    pos: usize,
    marks: &Marks,
) -> bool {
    let pos = pos.min(buf.len());
    let lo = pos.saturating_sub(PREFIX_BACK);
    let ls = buf
        .get(lo..pos)
        .and_then(|s| memchr::memrchr(b'\n', s))
        .map_or(lo, |i| lo + i + 1);
    let prefix = buf.get(ls..pos).unwrap_or_default();
    let trimmed = trim_start(prefix);
    let hash = matches!(kind, FileKind::Python | FileKind::HashCode | FileKind::Php);
    let slash = matches!(kind, FileKind::SlashCode | FileKind::Php);
    if hash && (trimmed.starts_with(b"#") || contains(prefix, b" # ") || contains(prefix, b"\t# "))
    {
        return true;
    }
    if slash
        && (trimmed.starts_with(b"//")
            || trimmed.starts_with(b"*")
            || trimmed.starts_with(b"/*")
            || contains(prefix, b" // "))
    {
        return true;
    }
    if slash {
        // The last `/*` before `pos` with no `*/` after it (and before pos).
        let opens = Marks::of(&marks.open, buf, b"/*");
        let closes = Marks::of(&marks.close, buf, b"*/");
        let i = opens.partition_point(|&o| o < pos);
        if let Some(&open) = i.checked_sub(1).and_then(|j| opens.get(j)) {
            let j = closes.partition_point(|&c| c <= open);
            if closes.get(j).is_none_or(|&c| c >= pos) {
                return true;
            }
        }
    }
    if kind == FileKind::Python {
        // An odd number of `"""` (or of `'''`) before `pos`.
        let odd = |v: &[usize]| v.partition_point(|&q| q < pos) % 2 == 1;
        return odd(Marks::of(&marks.dq, buf, b"\"\"\"")) || odd(Marks::of(&marks.sq, buf, b"'''"));
    }
    false
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    s.get(n..).unwrap_or_default()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

// ------------------------------------------------------------ generic values

/// Key names whose value is not a credential although the name holds a
/// keyword: pagination and continuation tokens, token types and endpoints,
/// names, ids, hashes, sizes (`"NextToken": "..."`, `token_url = "..."`).
const NOT_CREDENTIAL_KEYS: &[&str] = &[
    "next",
    "continuation",
    "pagination",
    "page",
    "cursor",
    "marker",
    "purchase",
    "sync",
    "csrf",
    "xsrf",
    "type",
    "url",
    "uri",
    "endpoint",
    "path",
    "file",
    "name",
    "length",
    "size",
    "count",
    "expir",
    "format",
    "kind",
    "mode",
    "policy",
    "header",
    "param",
    "field",
    "prefix",
    "suffix",
    "pattern",
    "regex",
    "template",
    "version",
    "hash",
    "digest",
    "recaptcha",
    "term",
    "idempotency",
    "label",
    "placeholder",
    "hint",
    "description",
    "message",
    "error",
    "weak",
    "invalid",
    "prompt",
    "example",
    "sample",
    "dummy",
    "test",
    "fake",
    "mock",
];

/// Placeholder values that documentation uses for credentials: RFC 6749 /
/// 6750 / 5849 example tokens, the SQLAlchemy `scott:tiger` convention,
/// and the keys of local emulators that their vendors publish (Azurite's
/// `devstoreaccount1` key), compared case-sensitively.
const KNOWN_EXAMPLES: &[&str] = &[
    "2YotnFZFEjr1zCsicMWpAA",
    "tGzv3JOkF0XG5Qx2TlKWIA",
    "SplxlOBeZQQYbYS6WxSbIA",
    "8xLOxBtZp8",
    "mF_9.B5f-4.1JqM",
    "hh5s93j4hdidpola",
    "hdhd0244k9j7ao03",
    "nnch734d00sl2jdk",
    "kllo9940pd9333jh",
    "pfkkdhi9sl3r4s00",
    "dh893hdasih9",
    "j49ddk933skd9dks",
    "kd94hf93k423kf44",
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
];

/// Words that make a value a placeholder where they occur in it as a word
/// (see [`has_word`]: `YOUR_TOKEN_HERE`, `fakehashedsecret`, `myExampleKey`,
/// but not the `TODO` inside the random `AKIAKNSLKZZTODOVVOGA`).
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "sample",
    "dummy",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "your_",
    "your-",
    "yourpass",
    "yoursecret",
    "yourtoken",
    "insert_your",
    "insert-your",
    "replace_me",
    "replace-me",
    "replaceme",
    "xxxx",
    "****",
    "fake",
    "notasecret",
    "not_a_secret",
    "not-a-secret",
    "secret_here",
    "token_here",
    "password_here",
    "_here",
    "todo",
    "fixme",
];

/// Common words a placeholder password is made of, alone or with a few
/// digits (`Admin12345`, `password123`, `test1234`).
const WEAK_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "secret",
    "admin",
    "root",
    "test",
    "user",
    "guest",
    "demo",
    "qwerty",
    "letmein",
    "welcome",
    "default",
    "foo",
    "bar",
    "foobar",
    "baz",
    "hello",
    "tiger",
    "scott",
    "abc",
    "mypassword",
    "mysecret",
    "token",
    "key",
    "changeit",
];

/// True for documentation placeholders: the built-in `placeholder-values`
/// allow rule, applied to every rule's secret. Values of specific formats
/// (`AKIA...`, `ghp_...`) pass through this too, so it only looks for
/// words and templates, not for sequential runs (a real key can hold
/// `0123`); the generic rules look at runs in [`generic_value`].
pub fn is_placeholder(value: &[u8]) -> bool {
    let v = String::from_utf8_lossy(value);
    if KNOWN_EXAMPLES.iter().any(|k| v == *k) {
        return true;
    }
    if PLACEHOLDER_WORDS.iter().any(|w| has_word(&v, w)) {
        return true;
    }
    is_template(&v)
}

/// Whether `word` (lower-case ASCII) occurs in `v` as a word: written in
/// one case (`fake`, `FAKE`, `Fake`) and, for a short word (under six
/// letters), starting or ending at an edge of the value or a separator.
/// Random key material is letters and digits in no order, so a short
/// placeholder word inside it by chance (one random 20-character AWS key ID
/// in a few thousand holds `TODO` or `FAKE`) is neither cased nor bounded
/// like a word, and a real key must not be dropped for it; a long word
/// (`example`, `placeholder`) does not occur by chance.
fn has_word(v: &str, word: &str) -> bool {
    let b = v.as_bytes();
    let w = word.as_bytes();
    if w.is_empty() || b.len() < w.len() {
        return false;
    }
    let long = w.iter().filter(|c| c.is_ascii_alphabetic()).count() >= 6;
    (0..=b.len() - w.len()).any(|i| {
        let Some(seg) = b.get(i..i + w.len()) else {
            return false;
        };
        if !seg.eq_ignore_ascii_case(w) {
            return false;
        }
        let letters = || seg.iter().filter(|c| c.is_ascii_alphabetic());
        let lower = letters().all(u8::is_ascii_lowercase);
        let upper = letters().all(u8::is_ascii_uppercase);
        let capital = seg.first().is_some_and(u8::is_ascii_uppercase)
            && letters().skip(1).all(u8::is_ascii_lowercase);
        if !(lower || upper || capital) {
            return false;
        }
        if long {
            return true;
        }
        let edge = |c: Option<&u8>, own: Option<&u8>| match c {
            None => true,
            Some(c) => {
                !c.is_ascii_alphanumeric() || own.is_some_and(|o| !o.is_ascii_alphanumeric())
            }
        };
        let before = i.checked_sub(1).and_then(|j| b.get(j));
        edge(before, seg.first()) || edge(b.get(i + w.len()), seg.last())
    })
}

/// `<...>`, `${...}`, `{{...}}`, `%VAR%`, `$(...)`, `[...]` anywhere in the
/// value, or a value that starts a variable reference or format string.
fn is_template(v: &str) -> bool {
    let pair = |open: &str, close: &str| {
        v.find(open)
            .is_some_and(|i| v.get(i + open.len()..).is_some_and(|r| r.contains(close)))
    };
    pair("<", ">")
        || pair("${", "}")
        || pair("{{", "}}")
        || pair("$(", ")")
        || (v.starts_with('%') && v.len() > 2 && v.ends_with('%'))
        || (v.starts_with('[') && v.contains(']'))
        || v.starts_with('$')
        || v.starts_with("%(")
        || v.starts_with("%s")
        || v.starts_with("%d")
}

/// Lowercase letters and digits only (`AZURE_PASSWORD` → `azurepassword`).
fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Endings of key names that hold a reference, not the credential
/// (`secret_ref`, `SecretArn`, `api_key_id`).
const NOT_CREDENTIAL_KEY_ENDINGS: &[&str] = &["ref", "reference", "arn", "id", "ids"];

/// The keywords themselves: an identifier-shaped value that holds one is a
/// name (`new_password2`, `THE_PASSWORD`), not a credential.
const KEYWORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
];

/// The words of an identifier, lowercase: `NextContinuationToken` →
/// `next continuation token`, `oauth_token_url` → `oauth token url`.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            prev_lower = false;
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// True when the key's name says its value is not a credential: one of its
/// words is in [`NOT_CREDENTIAL_KEYS`] (whole words, or word starts for the
/// longer entries: `hashed` for `hash`; `security` does not hold `uri`), or
/// its last word is a reference ending.
pub(crate) fn key_is_not_credential(key: &str) -> bool {
    let words = key_words(key);
    let hit = |w: &String| {
        NOT_CREDENTIAL_KEYS
            .iter()
            .any(|n| w == n || (n.len() >= 4 && w.starts_with(n)))
    };
    words.iter().any(hit)
        || words
            .last()
            .is_some_and(|w| NOT_CREDENTIAL_KEY_ENDINGS.contains(&w.as_str()))
}

/// `V1LocalObjectReference`, `ObjectReference`: a type name made of
/// capitalised words (after an optional version prefix).
fn is_type_name(v: &str) -> bool {
    let rest = v
        .strip_prefix(['V', 'v'])
        .map_or(v, |r| r.trim_start_matches(|c: char| c.is_ascii_digit()));
    let rest = if rest.len() < v.len() && rest.len() + 1 < v.len() {
        rest
    } else {
        v
    };
    let mut words = 0;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii_uppercase() {
            return false;
        }
        let mut lower = 0;
        while chars.peek().is_some_and(char::is_ascii_lowercase) {
            chars.next();
            lower += 1;
        }
        if lower < 2 {
            return false;
        }
        words += 1;
    }
    words >= 2
}

/// True when the value is a name rather than a literal: the key's own name
/// (`AZURE_PASSWORD = "AZURE_PASSWORD"`, `"service_account_token":
/// "serviceAccountToken"`), a module or attribute path (`.models.v1_secret`,
/// `settings.TOKEN`), a lowercase snake/kebab word (`auth_password`), a
/// path (`/run/secrets/db`, `auth/weak-password`), or a call.
pub(crate) fn is_name(key: &str, value: &str) -> bool {
    let (nk, nv) = (norm(key), norm(value));
    if !nv.is_empty() && (nv == nk || (nk.ends_with(&nv) && nv.len() >= 6)) {
        return true;
    }
    let ident = |s: &str| {
        let mut c = s.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == '$')
            && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == '$')
    };
    let dotted = value.trim_start_matches('.');
    if dotted.contains('.') && dotted.split('.').all(ident) {
        return true;
    }
    // snake/kebab words, lower or upper case, digits only at a word's end
    // (`auth_password`, `new_password2`, `THE_PASSWORD`)
    let word = |s: &str| {
        let letters = s.trim_end_matches(|c: char| c.is_ascii_digit());
        s.len() - letters.len() <= 2
            && !letters.is_empty()
            && (letters.chars().all(|c| c.is_ascii_lowercase())
                || letters.chars().all(|c| c.is_ascii_uppercase()))
    };
    let snake = |s: &str| s.split(['_', '-']).all(word);
    if snake(value) && (value.contains(['_', '-']) || value.chars().all(|c| c.is_ascii_lowercase()))
    {
        return true;
    }
    if ident(value) && KEYWORDS.iter().any(|k| nv.contains(k)) {
        return true;
    }
    if is_type_name(value) {
        return true;
    }
    if value.starts_with('/') || value.contains("://") || value.contains('(') {
        return true;
    }
    value.contains('/') && value.split('/').all(|p| p.is_empty() || snake(p))
}

/// A weak-word placeholder: a common word, optionally with up to 6 digits
/// and one symbol (`Admin12345`, `password1!`), or a value mostly made of an
/// ascending run (`12345678`, `abcdefgh1`).
pub(crate) fn is_weak(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let core = lower.trim_end_matches(|c: char| c.is_ascii_digit() || "!@#$%^&*.".contains(c));
    let core = core.trim_start_matches("my").trim_start_matches(['_', '-']);
    if lower.starts_with("my_") || lower.starts_with("my-") {
        return true;
    }
    if WEAK_WORDS.contains(&core) || core.is_empty() {
        return true;
    }
    // Words joined: `my_rootPassword`, `testpassword`, `secretkey`.
    let split: Vec<&str> = core
        .split(['_', '-', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    if split
        .iter()
        .all(|p| WEAK_WORDS.contains(p) || is_two_weak(p))
    {
        return true;
    }
    longest_run(value.as_bytes()) * 3 >= value.len() * 2
}

/// `rootpassword`, `testsecret`: two weak words glued.
fn is_two_weak(p: &str) -> bool {
    (1..p.len()).any(|i| {
        p.get(..i).is_some_and(|a| WEAK_WORDS.contains(&a))
            && p.get(i..).is_some_and(|b| WEAK_WORDS.contains(&b))
    })
}

/// The longest run of bytes ascending by one (`3456`, `cdef`).
fn longest_run(v: &[u8]) -> usize {
    let (mut best, mut cur) = (0usize, 0usize);
    let mut prev: Option<u8> = None;
    for &b in v {
        cur = match prev {
            Some(p) if b.is_ascii_alphanumeric() && b == p.wrapping_add(1) => cur + 1,
            _ => 1,
        };
        best = best.max(cur);
        prev = Some(b);
    }
    best
}

/// The entropy a generic value needs for its length (bits per byte).
/// A random 8-character password reaches about 2.8; a 32-character hex
/// token about 3.8; words and repeated characters stay below.
pub(crate) fn entropy_needed(len: usize, password: bool) -> f64 {
    match (password, len) {
        (true, 0..=11) => 2.75,
        (true, 12..=19) => 3.0,
        (true, _) => 3.3,
        (false, 0..=23) => 3.3,
        (false, _) => 3.6,
    }
}

/// Character classes in the value: lower, upper, digit, other.
fn classes(v: &str) -> usize {
    let has = |f: fn(&char) -> bool| usize::from(v.chars().any(|c| f(&c)));
    has(char::is_ascii_lowercase)
        + has(char::is_ascii_uppercase)
        + has(char::is_ascii_digit)
        + has(|c| !c.is_ascii_alphanumeric())
}

/// The value of a generic rule is a literal credential: not a name, not a
/// placeholder, enough entropy for its length, mixed characters.
pub(crate) fn generic_value(key: &str, value: &str, password: bool) -> bool {
    if key_is_not_credential(key) || is_name(key, value) || is_placeholder(value.as_bytes()) {
        return false;
    }
    if is_template(value) || is_weak(value) {
        return false;
    }
    let e = shannon_entropy(value.as_bytes());
    if e < entropy_needed(value.len(), password) {
        return false;
    }
    if password {
        classes(value) >= 2
    } else {
        // Tokens and keys carry digits; CamelCase names do not.
        value.chars().any(|c| c.is_ascii_digit())
    }
}

/// Why a generic or URI rule fired: the keyword (for a URI, its user) and
/// the value's entropy beside what its length needed. `None` for rules of
/// a token format, whose regex is the whole reason.
pub(crate) fn reason(
    check: Check,
    buf: &[u8],
    start: usize,
    key: Option<(usize, usize)>,
    secret: (usize, usize),
) -> Option<customs_model::finding::SecretReason> {
    let value = buf.get(secret.0..secret.1).unwrap_or_default();
    // A keyword is a name; a pathological one is cut to its 64 bytes
    // nearest the value (a key ends at most 20 bytes after its keyword,
    // a URI's user starts the credentials) so a finding stays small.
    const MAX: usize = 64;
    let (keyword, password) = match check {
        Check::GenericAssign { password } | Check::GenericConfig { password } => {
            let k = key.and_then(|(s, e)| buf.get(s..e)).unwrap_or_default();
            (
                k.get(k.len().saturating_sub(MAX)..).unwrap_or_default(),
                Some(password),
            )
        }
        Check::Uri => {
            let user = uri_user(buf.get(start..secret.0).unwrap_or_default());
            (user.get(..user.len().min(MAX)).unwrap_or_default(), None)
        }
        Check::None | Check::Pem { .. } | Check::Jwt => return None,
    };
    let round = |x: f64| (x * 100.0).round() / 100.0;
    let keyword = String::from_utf8_lossy(keyword);
    Some(customs_model::finding::SecretReason {
        keyword: keyword.into_owned(),
        entropy: round(shannon_entropy(value)),
        entropy_needed: password.map(|p| entropy_needed(value.len(), p)),
    })
}

// ------------------------------------------------------------ URIs

/// The user part of `scheme://user:` (the bytes before the password).
fn uri_user(before_secret: &[u8]) -> &[u8] {
    let start = memchr::memmem::rfind(before_secret, b"://").map_or(0, |i| i + 3);
    let user = before_secret.get(start..).unwrap_or_default();
    user.strip_suffix(b":").unwrap_or(user)
}

/// Passwords of documentation URLs: `scott:tiger`, `user:password`,
/// `user:user`, `[password]`, `<pass>`, `${PASS}`, `****`.
pub(crate) fn uri_placeholder(user: &str, password: &str) -> bool {
    let p = password.to_ascii_lowercase();
    let u = user.to_ascii_lowercase();
    if p == u || is_placeholder(password.as_bytes()) || is_template(password) {
        return true;
    }
    if password.starts_with(['[', '<', '{', '%', '$', '*', ':']) || password.contains("xxx") {
        return true;
    }
    let core = p.trim_end_matches(|c: char| c.is_ascii_digit());
    WEAK_WORDS.contains(&core)
        || [
            "pw", "psw", "pwd", "secret", "guest", "s3cr3t", "p4ssw0rd", "passw0rd",
        ]
        .contains(&core)
}

// ------------------------------------------------------------ keys, JWTs

/// Base64 characters in a PEM body, header lines (`Proc-Type: ...`) and
/// escaped line ends (`\n` in JSON) not counted.
pub(crate) fn pem_body_len(body: &[u8]) -> usize {
    let text = String::from_utf8_lossy(body)
        .replace("\\n", "\n")
        .replace("\\r", "\n");
    text.lines()
        .filter(|l| !l.contains(':'))
        .map(|l| {
            l.bytes()
                .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
                .count()
        })
        .sum()
}

/// Decode base64 or base64url, padded or not; `None` on a bad character.
/// Hand-written (a dozen lines) rather than a dependency, for the two
/// checks that need it.
pub(crate) fn b64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A JWT: header and payload decode to JSON objects and the header names
/// an algorithm; an empty signature is accepted only for `alg: none`.
pub(crate) fn jwt_ok(token: &[u8]) -> bool {
    let mut parts = token.split(|&b| b == b'.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return false;
    };
    let sig = parts.next().unwrap_or_default();
    // Bounds of a real token's parts (the regex leaves them open to stay
    // small): a header of a few claims, a payload of many, an RSA-8192
    // signature at most.
    if h.len() > 4096 || p.len() > 8192 || sig.len() > 1024 {
        return false;
    }
    let (Some(header), Some(payload)) = (b64_decode(h), b64_decode(p)) else {
        return false;
    };
    let header = String::from_utf8_lossy(&header).replace(' ', "");
    if !header.starts_with('{') || !header.contains("\"alg\"") || !payload.starts_with(b"{") {
        return false;
    }
    !sig.is_empty() || header.to_ascii_lowercase().contains("\"alg\":\"none\"")
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // The checks read untrusted bytes at offsets from a regex match:
        // none may panic, whatever the bytes and offsets.
        #[test]
        fn checks_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..400),
                              a in 0usize..500, b in 0usize..500, k in 0usize..500,
                              path in "[a-z./_]{0,20}") {
            let (s, e) = (a.min(b), a.max(b));
            let marks = Marks::default();
            let m = Found { path: &path, buf: &buf, whole: (s, e), secret: (s, e), key: Some((s, k.max(s))), marks: &marks };
            for c in [Check::None, Check::GenericAssign { password: true }, Check::GenericConfig { password: false },
                      Check::Uri, Check::Pem { min: 60 }, Check::Jwt] {
                let _ = accept(c, &m);
            }
            let _ = b64_decode(&buf);
            let _ = jwt_ok(&buf);
            let _ = pem_body_len(&buf);
            let _ = is_placeholder(&buf);
            for kind in [FileKind::Python, FileKind::SlashCode, FileKind::Php, FileKind::HashCode] {
                let _ = in_comment_or_docstring(kind, &buf, a, &Marks::default());
            }
        }

        #[test]
        fn base64_round_trip(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut enc = Vec::new();
            for c in data.chunks(3) {
                let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
                for i in 0..=c.len() {
                    enc.push(T[((n >> (18 - 6 * i)) & 63) as usize]);
                }
            }
            prop_assert_eq!(b64_decode(&enc), Some(data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign(key: &str, value: &str) -> bool {
        generic_value(key, value, true)
    }

    #[test]
    fn file_kinds() {
        assert_eq!(FileKind::of("a/b/types.d.ts"), FileKind::Declarations);
        assert_eq!(FileKind::of("x/conn.py"), FileKind::Python);
        assert_eq!(FileKind::of("x/index.js"), FileKind::SlashCode);
        assert_eq!(FileKind::of("app/.env"), FileKind::Other);
        assert_eq!(FileKind::of("etc/app.yaml"), FileKind::Other);
        assert_eq!(FileKind::of("Makefile"), FileKind::Other);
    }

    #[test]
    fn comments_and_docstrings() {
        let py = b"def f():\n    \"\"\"Connect.\n\n    e = create_engine(\"postgresql://scott:tiger@localhost/test\")\n    \"\"\"\nURL = 'x'\n";
        let at = |s: &[u8], needle: &[u8]| memchr::memmem::find(s, needle).unwrap_or(0);
        assert!(in_comment_or_docstring(
            FileKind::Python,
            py,
            at(py, b"postgresql"),
            &Marks::default()
        ));
        assert!(!in_comment_or_docstring(
            FileKind::Python,
            py,
            at(py, b"URL"),
            &Marks::default()
        ));
        let js = b"/**\n * mongoose.createConnection('mongodb://val:psw@127.0.0.1/db')\n */\nconst u = 'mongodb://a:b@h/db';\n";
        assert!(in_comment_or_docstring(
            FileKind::SlashCode,
            js,
            at(js, b"mongodb://val"),
            &Marks::default()
        ));
        assert!(!in_comment_or_docstring(
            FileKind::SlashCode,
            js,
            at(js, b"mongodb://a"),
            &Marks::default()
        ));
        let hash = b"x = 1  # e.g. sqla+mysql://root:secretpw@localhost/\n";
        assert!(in_comment_or_docstring(
            FileKind::Python,
            hash,
            at(hash, b"sqla"),
            &Marks::default()
        ));
    }

    #[test]
    fn names_are_not_values() {
        // constants whose value is their own name
        assert!(!assign("AZURE_PASSWORD", "AZURE_PASSWORD"));
        assert!(!assign("service_account_token", "serviceAccountToken"));
        // module paths and attributes
        assert!(!generic_value("V1Secret", ".models.v1_secret", false));
        assert!(!assign("password", "settings.DB_PASSWORD"));
        // snake-case identifiers and error codes
        assert!(!assign("password", "auth_password"));
        assert!(!assign("WEAK_PASSWORD", "auth/weak-password"));
        // names in lists and calls
        assert!(!assign("field", "new_password2"));
        assert!(!assign("password", "THE_PASSWORD"));
        assert!(!generic_value(
            "secret_ref",
            "V1LocalObjectReference",
            false
        ));
        assert!(!generic_value("secret", "V1SecretVolumeSource", false));
        assert!(is_type_name("ObjectReference"));
        assert!(!is_type_name("Xy7Fq2Lm9Zt4"));
        // calls, paths
        assert!(!assign("password", "getpass()"));
        assert!(!assign("password_file", "/run/secrets/db"));
    }

    #[test]
    fn placeholders_are_not_values() {
        for v in [
            "changeme",
            "my_rootPassword",
            "MyPassword",
            "<your-password>",
            "${DB_PASSWORD}",
            "{{ vault_pw }}",
            "%DB_PASSWORD%",
            "xxxxxxxxxx",
            "**********",
            "Admin12345",
            "password123",
            "fakehashedsecret",
            "12345678",
            "rootpassword",
        ] {
            assert!(!assign("password", v), "{v} taken as a password");
        }
        // RFC 6749 example tokens
        assert!(!generic_value(
            "access_token",
            "2YotnFZFEjr1zCsicMWpAA",
            false
        ));
        assert!(!generic_value(
            "refresh_token",
            "tGzv3JOkF0XG5Qx2TlKWIA",
            false
        ));
    }

    #[test]
    fn placeholder_words_are_words_not_chance_letters() {
        for v in [
            "YOUR_TOKEN_HERE",
            "fakehashedsecret",
            "my-fake-key",
            "myExampleKey",
            "ExampleToken123",
            "TODO",
            "changeme",
            "xxxx-xxxx",
            "sk_test_PLACEHOLDER",
        ] {
            assert!(is_placeholder(v.as_bytes()), "{v} is a placeholder");
        }
        // Random key material that holds a placeholder word by chance: the
        // AWS key ID is from the CLI test that scans 1,500 random IDs.
        for v in [
            "AKIAKNSLKZZTODOVVOGA",
            "AKIAQZFAKEQ7LMNOP2RS",
            "ghp_Q7sTodoX9kLmNpQrStUvWxYz0123456789ab",
        ] {
            assert!(!is_placeholder(v.as_bytes()), "{v} is a key");
        }
    }

    #[test]
    fn keys_that_are_not_credentials() {
        assert!(!generic_value(
            "NextToken",
            "U1FsdGVkX19qv8mV3kq2pQzL0Rt7WnB5",
            false
        ));
        assert!(!generic_value(
            "NextContinuationToken",
            "1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI/EyIJg==",
            false
        ));
        assert!(!generic_value(
            "PurchaseToken",
            "abcd1234Qx9Lm2Zt8Rv5",
            false
        ));
        assert!(!assign("hashed_password", "$2b$12$Q9zLm2Zt8Rv5K1w4x7y0p"));
        assert!(!generic_value(
            "token_url",
            "h7Qx9Lm2Zt8Rv5K1w4x7y0p",
            false
        ));
        assert!(!generic_value(
            "secret_ref",
            "h7Qx9Lm2Zt8Rv5K1w4x7y0p",
            false
        ));
        // whole words only: `security` holds no `uri`, `latest` no `test`
        assert!(!key_is_not_credential("SECURITY_TOKEN"));
        assert!(!key_is_not_credential("latestToken"));
        assert!(!key_is_not_credential("GITHUB_TOKEN"));
        assert_eq!(
            key_words("NextContinuationToken"),
            ["next", "continuation", "token"]
        );
        assert_eq!(key_words("V1Secret"), ["v1", "secret"]);
    }

    #[test]
    fn real_looking_literals_are_values() {
        assert!(assign("password", "h7Qx9Lm2Zt8R"));
        assert!(assign("DB_PASSWORD", "Tr0ub4dor&3x"));
        assert!(assign("MasterUserPassword", "q8Z!vR2m#Lw9"));
        assert!(generic_value(
            "API_TOKEN",
            "a8f3k2j9d0s8f7g6h5j4k3l2",
            false
        ));
        assert!(generic_value(
            "client_secret",
            "Xy7Fq2Lm9Zt4Rv8Kw1Pn6Bd3",
            false
        ));
        // a real value may hold a short ascending run
        assert!(assign("password", "Kq9z1234Lm7vX"));
    }

    #[test]
    fn low_entropy_values_are_dropped() {
        assert!(!assign("password", "aaaaaaaab1"));
        assert!(!generic_value("token", "abababababababab1", false));
        assert!(entropy_needed(8, true) < entropy_needed(40, false));
    }

    #[test]
    fn uri_placeholders() {
        assert!(uri_placeholder("scott", "tiger"));
        assert!(uri_placeholder("user", "password"));
        assert!(uri_placeholder("guest", "guest"));
        assert!(uri_placeholder("[username]", "[password]]"));
        assert!(uri_placeholder("", "${REDIS_PASSWORD}"));
        assert!(uri_placeholder("u", "****"));
        assert!(!uri_placeholder("app", "Zq8vR2mLw9x"));
        assert_eq!(uri_user(b"redis://:"), b"");
        assert_eq!(uri_user(b"postgresql://scott:"), b"scott");
    }

    #[test]
    fn pem_blocks_in_code_must_be_complete() {
        let doc = b"MIIEpQIBAAKCAQEAuyf/lNrH9ck8DmNyo3fGgvCI1l9s+cmBY3WIz+cUDqmxiieR";
        let marks = Marks::default();
        let at = |path: &'static str| Found {
            path,
            buf: doc,
            whole: (0, doc.len()),
            secret: (0, doc.len()),
            key: None,
            marks: &marks,
        };
        assert!(!accept(Check::Pem { min: 300 }, &at("lib/credential.py")));
        // in a key file any block counts (a short one is still a key)
        assert!(accept(Check::Pem { min: 300 }, &at("root/.ssh/id_rsa")));
    }

    #[test]
    fn pem_bodies() {
        let truncated = b"MIIEpQIBAAKCAQEAuyf/lNrH9ck8DmNyo3fGgvCI1l9s+cmBY3WIz+cUDqmxiieR";
        assert!(pem_body_len(truncated) < 300);
        let full = "A".repeat(64).repeat(20);
        assert_eq!(pem_body_len(full.as_bytes()), 1280);
        let enc = b"Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0011\n\nQUJD\\nREVG";
        assert_eq!(pem_body_len(enc), 8);
    }

    #[test]
    fn base64_and_jwts() {
        assert_eq!(b64_decode(b"aGVsbG8").unwrap_or_default(), b"hello");
        assert_eq!(b64_decode(b"aGVsbG8=").unwrap_or_default(), b"hello");
        assert!(b64_decode(b"a$b").is_none());
        // {"alg":"HS256","typ":"JWT"} . {"sub":"1"} . sig
        let hs = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl";
        assert!(jwt_ok(hs));
        // {"alg":"none"} . {"sub":"1"} . (empty)
        assert!(jwt_ok(b"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."));
        assert!(!jwt_ok(
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0."
        ));
        assert!(!jwt_ok(b"eyJub3RhbGciOjF9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"));
    }
}
