//! A small POSIX-shell reader for `RUN` commands: the simple commands of a
//! script, with their words (quotes and escapes removed) and whether each
//! reads a pipe.
//!
//! It follows what the checks need to see as a shell would: commands inside
//! compound commands (`if … then … fi`, `for … do … done`, `while`,
//! `case … esac`, `{ …; }`, `( … )`, function bodies), inside command
//! substitutions (`$(…)`, `` `…` ``, `<(…)`), and inside the scripts handed
//! to another shell (`sh -c "…"`, `bash -ec '…'`, `su -c "…" user`,
//! `runuser -c`); `case` patterns (`x86_64|aarch64)`), quoted text and
//! comments are not commands and their `|` is not a pipe; redirections
//! (`2>&1`, `> /dev/null`, `<<EOF` with its body) are not arguments.
//! Hand-written because the crates that exist either only split words
//! (shlex, no operators) or are unmaintained full shell parsers; the checks
//! only need command names and their arguments.

/// One simple command of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCmd {
    pub words: Vec<String>,
    /// This command reads the previous command's output (`prev | this`).
    pub piped: bool,
    /// Read from a script given to another shell (`sh -c "…"`,
    /// `su -c "…"`): that shell has its own options (`set -o pipefail`).
    pub nested: bool,
    /// Inside a compound command (`if`, `for`, `while`, `case`, `{ }`,
    /// `( )`, a function body) or a command substitution.
    pub in_compound: bool,
    /// The operator before this command at its level (`&&`, `||`, `;`,
    /// `|`, `&`, newline as `"\n"`); `None` for the first.
    pub follows: Option<&'static str>,
}

/// A command that runs the command after it, and how to skip its own
/// options and operands.
struct Wrapper {
    name: &'static str,
    /// Options that take a separate value.
    with_value: &'static [&'static str],
    /// Operands before the command (`gosu USER cmd`, `timeout 10 cmd`).
    operands: usize,
}

const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        name: "sudo",
        with_value: &["-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T"],
        operands: 0,
    },
    Wrapper {
        name: "env",
        with_value: &["-u", "-C", "-S", "--unset", "--chdir"],
        operands: 0,
    },
    Wrapper {
        name: "exec",
        with_value: &["-a"],
        operands: 0,
    },
    Wrapper {
        name: "command",
        with_value: &[],
        operands: 0,
    },
    Wrapper {
        name: "nohup",
        with_value: &[],
        operands: 0,
    },
    Wrapper {
        name: "time",
        with_value: &["-f", "-o"],
        operands: 0,
    },
    Wrapper {
        name: "nice",
        with_value: &["-n"],
        operands: 0,
    },
    Wrapper {
        name: "ionice",
        with_value: &["-c", "-n"],
        operands: 0,
    },
    Wrapper {
        name: "stdbuf",
        with_value: &["-i", "-o", "-e"],
        operands: 0,
    },
    Wrapper {
        name: "timeout",
        with_value: &["-s", "-k"],
        operands: 1,
    },
    Wrapper {
        name: "gosu",
        with_value: &[],
        operands: 1,
    },
    Wrapper {
        name: "su-exec",
        with_value: &[],
        operands: 1,
    },
    Wrapper {
        name: "chroot",
        with_value: &[],
        operands: 1,
    },
    Wrapper {
        name: "xargs",
        with_value: &["-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s"],
        operands: 0,
    },
    Wrapper {
        name: "busybox",
        with_value: &[],
        operands: 0,
    },
];

/// Shells whose `-c` operand is a script.
pub const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"];

fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(n, _)| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
    })
}

impl SimpleCmd {
    /// The program and its arguments, skipping `VAR=value` assignments and
    /// wrappers (`sudo -u x`, `env`, `exec`, `nohup`, `time`, `nice`,
    /// `timeout 5`, `gosu user`, `xargs -r`, …), with the program reduced to
    /// its file name (`/usr/bin/apt-get` → `apt-get`). `command -v x` only
    /// looks `x` up: no program.
    pub fn program(&self) -> Option<(String, &[String])> {
        let w = &self.words;
        let mut i = 0;
        loop {
            let word = w.get(i)?;
            if is_assignment(word) {
                i += 1;
                continue;
            }
            let base = basename(word);
            let Some(spec) = WRAPPERS.iter().find(|s| s.name == base) else {
                return Some((base.to_string(), w.get(i + 1..).unwrap_or_default()));
            };
            i += 1;
            while let Some(a) = w.get(i) {
                if a == "--" {
                    i += 1;
                    break;
                }
                if a.len() > 1 && a.starts_with('-') {
                    if spec.name == "command" && (a == "-v" || a == "-V") {
                        return None;
                    }
                    i += if spec.with_value.contains(&a.as_str()) {
                        2
                    } else {
                        1
                    };
                    continue;
                }
                if spec.name == "env" && is_assignment(a) {
                    i += 1;
                    continue;
                }
                break;
            }
            i += spec.operands;
        }
    }

    /// The first word as written (before wrapper skipping).
    pub fn first(&self) -> Option<&str> {
        self.words.first().map(String::as_str)
    }

    /// The program, or for `python -m pip` style invocations the module.
    pub fn program_or_module(&self) -> Option<(String, &[String])> {
        let (p, args) = self.program()?;
        if p.starts_with("python") {
            if let (Some(m), Some(module)) = (args.first(), args.get(1)) {
                if m == "-m" {
                    return Some((module.clone(), args.get(2..).unwrap_or_default()));
                }
            }
        }
        Some((p, args))
    }

    /// The script this command hands to a shell: the operand of `sh -c`
    /// (`bash -exc '…'`), or the `-c`/`--command` value of `su`/`runuser`.
    pub fn script(&self) -> Option<&str> {
        let (p, args) = self.program()?;
        if SHELLS.contains(&p.as_str()) {
            let mut has_c = false;
            let mut it = args.iter();
            while let Some(a) = it.next() {
                if a == "-o" || a == "+o" {
                    it.next();
                    continue;
                }
                if a.len() > 1 && (a.starts_with('-') || a.starts_with('+')) {
                    if !a.starts_with("--") && a.get(1..).is_some_and(|f| f.contains('c')) {
                        has_c = true;
                    }
                    continue;
                }
                return has_c.then_some(a.as_str());
            }
            return None;
        }
        if p == "su" || p == "runuser" {
            let mut it = args.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "-c" | "--command" | "--session-command" => {
                        return it.next().map(String::as_str)
                    }
                    "-s"
                    | "--shell"
                    | "-g"
                    | "--group"
                    | "-G"
                    | "--supp-group"
                    | "-w"
                    | "--whitelist-environment"
                    | "-u"
                    | "--user" => {
                        it.next();
                    }
                    _ => {
                        if let Some(v) = a
                            .strip_prefix("--command=")
                            .or_else(|| a.strip_prefix("--session-command="))
                        {
                            return Some(v);
                        }
                    }
                }
            }
        }
        None
    }
}

/// File name of a path-like word.
pub fn basename(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

/// Split a command line into words, honouring quotes and escapes but not
/// operators (they stay words).
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => word.push(n),
                            Some('\n') => {}
                            Some(n) => {
                                word.push('\\');
                                word.push(n);
                            }
                            None => word.push('\\'),
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(n) => {
                    in_word = true;
                    word.push(n);
                }
            },
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// Split a script into simple commands.
pub fn commands(s: &str) -> Vec<SimpleCmd> {
    let mut out = Vec::new();
    parse_script(s, 0, false, false, &mut out);
    out
}

/// Scripts nested deeper than this (substitutions in substitutions, `sh -c`
/// in `sh -c`) are not read: enough for real files, bounded for crafted
/// ones.
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A word without its quotes; `quoted` when any part was quoted (then it
    /// is never a reserved word); `subs` are the scripts of its command
    /// substitutions.
    Word {
        text: String,
        quoted: bool,
        subs: Vec<String>,
    },
    /// `&&`, `||`, `;`, `;;`, `;&`, `;;&`, `&`, `|`, `|&`, `(`, `)`.
    Op(&'static str),
    /// A redirection operator; its target is the next word.
    Redirect,
    Newline,
}

struct Lexer {
    c: Vec<char>,
    pos: usize,
    toks: Vec<Tok>,
    /// Heredoc delimiters seen on the current line: (word, strip tabs).
    pending: Vec<(String, bool)>,
    /// The next word is a heredoc delimiter (`<<-` when true).
    delim_next: Option<bool>,
    depth: usize,
}

impl Lexer {
    fn new(s: &str, depth: usize) -> Self {
        Lexer {
            c: s.chars().collect(),
            pos: 0,
            toks: Vec::new(),
            pending: Vec::new(),
            delim_next: None,
            depth,
        }
    }

    fn peek(&self, k: usize) -> Option<char> {
        self.c.get(self.pos + k).copied()
    }

    fn starts(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(k, ch)| self.peek(k) == Some(ch))
    }

    fn run(mut self) -> Vec<Tok> {
        while let Some(ch) = self.peek(0) {
            match ch {
                '\n' => {
                    self.pos += 1;
                    self.toks.push(Tok::Newline);
                    self.skip_heredoc_bodies();
                }
                ' ' | '\t' | '\r' => self.pos += 1,
                '\\' if self.peek(1) == Some('\n') => self.pos += 2,
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                _ => {
                    if !self.operator() {
                        self.word();
                    }
                }
            }
        }
        self.toks
    }

    /// After a newline: skip the bodies of the heredocs opened on the line.
    fn skip_heredoc_bodies(&mut self) {
        for (delim, strip) in std::mem::take(&mut self.pending) {
            loop {
                let start = self.pos;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
                let line: String = self
                    .c
                    .get(start..self.pos)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                if self.peek(0).is_some() {
                    self.pos += 1;
                }
                let cand = if strip {
                    line.trim_start_matches('\t')
                } else {
                    line.as_str()
                };
                if cand.trim_end_matches('\r') == delim || self.peek(0).is_none() {
                    break;
                }
            }
        }
    }

    fn operator(&mut self) -> bool {
        // `2>&1`, `1>/dev/null`: a file descriptor before a redirection.
        let digits = self
            .c
            .get(self.pos..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > 0 && matches!(self.peek(digits), Some('<' | '>')) {
            self.pos += digits;
        }
        const OPS: &[(&str, &str)] = &[
            (";;&", ";;&"),
            (";;", ";;"),
            (";&", ";&"),
            ("&&", "&&"),
            ("||", "||"),
            ("|&", "|&"),
            (";", ";"),
            ("&", "&"),
            ("|", "|"),
            ("(", "("),
            (")", ")"),
        ];
        for r in [
            "<<<", "&>>", "<<-", "<<", ">>", "<&", ">&", "<>", ">|", "&>", "<", ">",
        ] {
            if self.starts(r) {
                // Process substitution is a word.
                if (r == "<" || r == ">") && self.peek(1) == Some('(') {
                    return false;
                }
                self.pos += r.chars().count();
                if r == "<<" || r == "<<-" {
                    self.delim_next = Some(r == "<<-");
                }
                self.toks.push(Tok::Redirect);
                return true;
            }
        }
        for (s, op) in OPS {
            if self.starts(s) {
                self.pos += s.chars().count();
                self.toks.push(Tok::Op(op));
                return true;
            }
        }
        false
    }

    /// Read up to the `close` that matches (nesting `open`), honouring
    /// quotes; returns the text inside.
    fn balanced(&mut self, open: char, close: char) -> String {
        let start = self.pos;
        let mut depth = 1;
        while let Some(c) = self.peek(0) {
            match c {
                '\\' => self.pos += 1,
                '\'' => {
                    self.pos += 1;
                    while self.peek(0).is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                }
                '"' => {
                    self.pos += 1;
                    while let Some(c) = self.peek(0) {
                        if c == '\\' {
                            self.pos += 1;
                        } else if c == '"' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                c if c == open => depth += 1,
                c if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        let inner = self
                            .c
                            .get(start..self.pos)
                            .unwrap_or_default()
                            .iter()
                            .collect();
                        self.pos += 1;
                        return inner;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        self.c.get(start..).unwrap_or_default().iter().collect()
    }

    /// `$…` at the cursor: command substitution, arithmetic, parameter.
    fn dollar(&mut self, text: &mut String, subs: &mut Vec<String>) {
        if self.starts("$((") {
            self.pos += 3;
            let inner = self.balanced('(', ')');
            // The closing `)` of `))`.
            if self.peek(0) == Some(')') {
                self.pos += 1;
            }
            text.push_str("$((");
            text.push_str(&inner);
            text.push_str("))");
        } else if self.starts("$(") {
            self.pos += 2;
            let inner = self.balanced('(', ')');
            text.push_str("$(");
            text.push_str(&inner);
            text.push(')');
            subs.push(inner);
        } else if self.starts("${") {
            self.pos += 2;
            let inner = self.balanced('{', '}');
            text.push_str("${");
            text.push_str(&inner);
            text.push('}');
        } else {
            text.push('$');
            self.pos += 1;
        }
    }

    fn backtick(&mut self, text: &mut String, subs: &mut Vec<String>) {
        self.pos += 1;
        let start = self.pos;
        while self.peek(0).is_some_and(|c| c != '`') {
            if self.peek(0) == Some('\\') {
                self.pos += 1;
            }
            self.pos += 1;
        }
        let inner: String = self
            .c
            .get(start..self.pos.min(self.c.len()))
            .unwrap_or_default()
            .iter()
            .collect();
        self.pos += 1;
        text.push('`');
        text.push_str(&inner);
        text.push('`');
        subs.push(inner);
    }

    fn word(&mut self) {
        let mut text = String::new();
        let mut quoted = false;
        let mut subs = Vec::new();
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | ')' => break,
                // `name()`: a function definition follows.
                '(' if !text.ends_with(['=', '@', '!', '+', '*', '?']) => break,
                '<' | '>' if self.peek(1) == Some('(') => {
                    self.pos += 2;
                    let inner = self.balanced('(', ')');
                    text.push(c);
                    text.push('(');
                    text.push_str(&inner);
                    text.push(')');
                    subs.push(inner);
                }
                '<' | '>' => break,
                '(' => {
                    // `a=(x y)` arrays, `@(…)` globs: part of the word.
                    self.pos += 1;
                    let inner = self.balanced('(', ')');
                    text.push('(');
                    text.push_str(&inner);
                    text.push(')');
                }
                '\\' => {
                    self.pos += 1;
                    match self.peek(0) {
                        Some('\n') => self.pos += 1,
                        Some(n) => {
                            text.push(n);
                            quoted = true;
                            self.pos += 1;
                        }
                        None => {}
                    }
                }
                '\'' => {
                    quoted = true;
                    self.pos += 1;
                    while let Some(c) = self.peek(0) {
                        self.pos += 1;
                        if c == '\'' {
                            break;
                        }
                        text.push(c);
                    }
                }
                '"' => {
                    quoted = true;
                    self.pos += 1;
                    while let Some(c) = self.peek(0) {
                        match c {
                            '"' => {
                                self.pos += 1;
                                break;
                            }
                            '\\' => {
                                self.pos += 1;
                                match self.peek(0) {
                                    Some(n @ ('"' | '\\' | '$' | '`')) => {
                                        text.push(n);
                                        self.pos += 1;
                                    }
                                    Some('\n') => self.pos += 1,
                                    Some(n) => {
                                        text.push('\\');
                                        text.push(n);
                                        self.pos += 1;
                                    }
                                    None => text.push('\\'),
                                }
                            }
                            '$' => self.dollar(&mut text, &mut subs),
                            '`' => self.backtick(&mut text, &mut subs),
                            c => {
                                text.push(c);
                                self.pos += 1;
                            }
                        }
                    }
                }
                '$' => self.dollar(&mut text, &mut subs),
                '`' => self.backtick(&mut text, &mut subs),
                c => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        if text.is_empty() && !quoted && subs.is_empty() {
            // A lone `(` (not an operator here) or an unknown character:
            // step over it so the lexer always advances.
            self.pos += 1;
            return;
        }
        if let Some(strip) = self.delim_next.take() {
            self.pending.push((text.clone(), strip));
        }
        if self.depth >= MAX_DEPTH {
            subs.clear();
        }
        self.toks.push(Tok::Word { text, quoted, subs });
    }
}

/// Where the reader is in a `case` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CasePhase {
    Subject,
    In,
    Pattern,
    Body,
}

struct Parser<'o> {
    out: &'o mut Vec<SimpleCmd>,
    depth: usize,
    nested: bool,
    in_sub: bool,
    /// Open compound commands.
    compound: usize,
    /// The operator after the last command.
    follows: Option<&'static str>,
    cur: Vec<String>,
    piped: bool,
    cases: Vec<CasePhase>,
    /// In the header of `for`/`select` (up to `;` or newline).
    header: bool,
    /// Inside `[[ … ]]`: operators are words.
    test: bool,
    /// The next word is a redirection target.
    redirect: bool,
    /// After `function`: the next word is the name.
    func_name: bool,
}

/// Parse `s` and push its simple commands onto `out`.
fn parse_script(s: &str, depth: usize, nested: bool, in_sub: bool, out: &mut Vec<SimpleCmd>) {
    if depth > MAX_DEPTH {
        return;
    }
    let toks = Lexer::new(s, depth).run();
    let mut p = Parser {
        out,
        depth,
        nested,
        in_sub,
        compound: 0,
        follows: None,
        cur: Vec::new(),
        piped: false,
        cases: Vec::new(),
        header: false,
        test: false,
        redirect: false,
        func_name: false,
    };
    let mut it = toks.into_iter().peekable();
    while let Some(t) = it.next() {
        match t {
            Tok::Word { text, quoted, subs } => {
                for sub in &subs {
                    parse_script(sub, p.depth + 1, p.nested, true, p.out);
                }
                p.word(text, quoted);
            }
            Tok::Redirect => p.redirect = true,
            Tok::Op("(") if p.cur.len() == 1 && it.peek() == Some(&Tok::Op(")")) => {
                // `name() { … }`: a function definition, not a command.
                it.next();
                p.cur.clear();
            }
            Tok::Op(op) if p.test && matches!(op, "&&" | "||" | "(" | ")") => {
                p.cur.push(op.to_string());
            }
            Tok::Op(op) => p.op(op),
            Tok::Newline => p.op("\n"),
        }
    }
    p.end(false);
}

impl Parser<'_> {
    fn word(&mut self, w: String, quoted: bool) {
        if self.redirect {
            self.redirect = false;
            return;
        }
        if self.func_name {
            self.func_name = false;
            return;
        }
        if let Some(phase) = self.cases.last_mut() {
            match *phase {
                CasePhase::Subject => {
                    *phase = CasePhase::In;
                    return;
                }
                CasePhase::In => {
                    if w == "in" {
                        *phase = CasePhase::Pattern;
                    }
                    return;
                }
                CasePhase::Pattern => {
                    if w == "esac" && !quoted {
                        self.cases.pop();
                        self.compound = self.compound.saturating_sub(1);
                    }
                    return;
                }
                CasePhase::Body => {}
            }
        }
        if self.header {
            return;
        }
        if self.test {
            if w == "]]" {
                self.test = false;
            }
            self.cur.push(w);
            return;
        }
        if self.cur.is_empty() && !quoted {
            match w.as_str() {
                "then" | "else" | "elif" | "do" | "!" => return,
                "if" | "while" | "until" | "{" => {
                    self.compound += 1;
                    return;
                }
                "fi" | "done" | "}" => {
                    self.compound = self.compound.saturating_sub(1);
                    return;
                }
                "esac" => {
                    if self.cases.last() == Some(&CasePhase::Body) {
                        self.cases.pop();
                        self.compound = self.compound.saturating_sub(1);
                    }
                    return;
                }
                "case" => {
                    self.cases.push(CasePhase::Subject);
                    self.compound += 1;
                    return;
                }
                "for" | "select" => {
                    self.header = true;
                    self.compound += 1;
                    return;
                }
                "function" => {
                    self.func_name = true;
                    return;
                }
                "[[" => self.test = true,
                _ => {}
            }
        }
        self.cur.push(w);
    }

    fn op(&mut self, op: &str) {
        match self.cases.last().copied() {
            Some(CasePhase::Pattern) => {
                if op == ")" {
                    if let Some(p) = self.cases.last_mut() {
                        *p = CasePhase::Body;
                    }
                }
                // `|` between patterns, `(` before one, newlines: not
                // commands.
                return;
            }
            Some(CasePhase::Body) if matches!(op, ";;" | ";&" | ";;&") => {
                self.end(false);
                if let Some(p) = self.cases.last_mut() {
                    *p = CasePhase::Pattern;
                }
                return;
            }
            _ => {}
        }
        match op {
            "|" | "|&" => self.end(true),
            _ => {
                if matches!(op, ";" | "\n") {
                    self.header = false;
                }
                self.end(false);
                match op {
                    "(" => self.compound += 1,
                    ")" => self.compound = self.compound.saturating_sub(1),
                    _ => {}
                }
            }
        }
        self.follows = Some(match op {
            "&&" => "&&",
            "||" => "||",
            "|" | "|&" => "|",
            "&" => "&",
            "\n" => "\n",
            _ => ";",
        });
    }

    /// End the current simple command; the next one reads a pipe when
    /// `next_piped`.
    fn end(&mut self, next_piped: bool) {
        self.redirect = false;
        self.test = false;
        if self.cur.is_empty() {
            self.piped = self.piped || next_piped;
            return;
        }
        let cmd = SimpleCmd {
            words: std::mem::take(&mut self.cur),
            piped: self.piped,
            nested: self.nested,
            in_compound: self.in_sub || self.compound > 0,
            follows: self.follows,
        };
        self.piped = next_piped;
        let script = cmd.script().map(str::to_string);
        self.out.push(cmd);
        if let Some(s) = script {
            parse_script(&s, self.depth + 1, true, false, self.out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<Vec<String>> {
        commands(s).into_iter().map(|c| c.words).collect()
    }

    fn progs(s: &str) -> Vec<String> {
        commands(s)
            .iter()
            .filter_map(|c| c.program().map(|(p, _)| p))
            .collect()
    }

    #[test]
    fn splits_operators_and_quotes() {
        let c = commands("apt-get update && apt-get install -y 'a b' \"c\\\"d\" ; curl -fsSL x | sh -s -- --y || true");
        let w: Vec<Vec<&str>> = c
            .iter()
            .map(|c| c.words.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            w,
            vec![
                vec!["apt-get", "update"],
                vec!["apt-get", "install", "-y", "a b", "c\"d"],
                vec!["curl", "-fsSL", "x"],
                vec!["sh", "-s", "--", "--y"],
                vec!["true"],
            ]
        );
        assert!(c[3].piped);
        assert!(!c[4].piped);
    }

    #[test]
    fn program_skips_wrappers() {
        let c = commands("DEBIAN_FRONTEND=noninteractive sudo -E /usr/bin/apt-get install x");
        let (p, args) = c[0].program().unwrap_or_default();
        assert_eq!(p, "apt-get");
        assert_eq!(args, ["install", "x"]);
        let c = commands("python3 -m pip install --no-cache-dir x");
        let (p, args) = c[0].program_or_module().unwrap_or_default();
        assert_eq!(p, "pip");
        assert_eq!(args[0], "install");
        assert_eq!(
            progs("sudo -u app make; gosu app:app curl x; timeout 5 wget y; xargs -r apt-mark manual; env -u A B=1 dnf install z"),
            ["make", "curl", "wget", "apt-mark", "dnf"]
        );
        // `command -v` looks a program up, it does not run it.
        assert!(progs("command -v curl").is_empty());
    }

    #[test]
    fn comments_and_newlines() {
        let c = commands("set -e\n# a comment && rm\necho a # trailing\n");
        assert_eq!(c.len(), 2);
        assert_eq!(w("echo a#b"), [["echo", "a#b"]]);
    }

    #[test]
    fn compound_commands_are_followed() {
        assert_eq!(
            progs("if [ -f x ]; then apt-get update; apt-get install -y a; else apk add b; fi"),
            ["[", "apt-get", "apt-get", "apk"]
        );
        assert_eq!(
            progs("for p in a b; do apt-get install -y \"$p\"; done"),
            ["apt-get"]
        );
        assert_eq!(
            progs("while read l; do echo \"$l\"; done < f; { curl x; }; ( cd /x && make )"),
            ["read", "echo", "curl", "cd", "make"]
        );
        assert_eq!(
            progs("f() { wget -q \"$1\"; }; function g { curl x; }; f u"),
            ["wget", "curl", "f"]
        );
        assert_eq!(progs("! grep x f"), ["grep"]);
    }

    #[test]
    fn case_patterns_are_not_pipes() {
        let c = commands(
            "case \"$(uname -m)\" in x86_64|aarch64) arch=amd64 ;; armv7*|armhf) echo arm ;; *) exit 1 ;; esac; echo done",
        );
        assert!(c.iter().all(|c| !c.piped), "{c:?}");
        let words: Vec<&str> = c.iter().filter_map(SimpleCmd::first).collect();
        assert_eq!(words, ["uname", "arch=amd64", "echo", "exit", "echo"]);
        // Multi-line, as official images write it.
        let c = commands("case \"$arch\" in\n  'amd64') x=1 ;;\n  *) echo >&2 \"no\"; exit 1 ;;\nesac\ncurl a | tar x");
        assert_eq!(c.iter().filter(|c| c.piped).count(), 1);
    }

    #[test]
    fn quotes_and_comments_have_no_pipes() {
        assert!(commands("grep -E 'a|b' f; echo \"x | y\" # c | d")
            .iter()
            .all(|c| !c.piped));
        assert!(commands("x=\"$(dpkg --print-architecture | cut -d- -f1)\"")
            .iter()
            .any(|c| c.piped && c.first() == Some("cut")));
    }

    #[test]
    fn command_substitutions_are_commands() {
        assert_eq!(
            progs("GNUPGHOME=\"$(mktemp -d)\"; export GNUPGHOME; v=`curl -s x`; diff <(wget -qO- y) f"),
            ["mktemp", "export", "curl", "wget", "diff"]
        );
        // Arithmetic is not a command.
        assert_eq!(progs("n=$((1 + 2)); echo $n"), ["echo"]);
    }

    #[test]
    fn scripts_given_to_shells_are_read() {
        let c = commands(
            "su postgres -c \"curl -fsSL x | tar xz\" && bash -exc 'wget y'; sh -c \"apk add z\"",
        );
        let p: Vec<String> = c.iter().filter_map(|c| c.program().map(|p| p.0)).collect();
        assert_eq!(p, ["su", "curl", "tar", "bash", "wget", "sh", "apk"]);
        assert!(c.iter().filter(|c| c.nested).count() == 4);
        assert_eq!(
            progs("su -s /bin/sh -c 'wget x' app; runuser --command=\"curl y\" -u app"),
            ["su", "wget", "runuser", "curl"]
        );
        // `sh script.sh` is not a script operand.
        assert_eq!(progs("sh ./install.sh -c x"), ["sh"]);
    }

    #[test]
    fn set_eux_sequences() {
        // The shape of the official images: `set -eux; \` and then one
        // command per line, with tab-indented continuations.
        let c = commands("set -eux; \t\tsavedAptMark=\"$(apt-mark showmanual)\"; \tapt-get update; \tapt-get install -y --no-install-recommends ca-certificates wget; \trm -rf /var/lib/apt/lists/*");
        let p: Vec<String> = c.iter().filter_map(|c| c.program().map(|p| p.0)).collect();
        assert_eq!(p, ["set", "apt-mark", "apt-get", "apt-get", "rm"]);
    }

    #[test]
    fn redirections_are_not_arguments() {
        assert_eq!(
            w("apt-get update 2>&1 >/dev/null; cat > /etc/x <<EOF\nnot a command | x\nEOF\necho ok"),
            [vec!["apt-get", "update"], vec!["cat"], vec!["echo", "ok"]]
        );
        assert_eq!(w("echo a &>/dev/null &"), [["echo", "a"]]);
    }

    #[test]
    fn compound_depth_and_operators() {
        let c = commands("cd /a && make; if x; then cd b; fi; ( cd c ); v=$(cd d); cd e");
        let cds: Vec<(bool, Option<&str>)> = c
            .iter()
            .filter(|c| c.first() == Some("cd"))
            .map(|c| (c.in_compound, c.follows))
            .collect();
        assert_eq!(
            cds,
            [
                (false, None),
                (true, Some(";")),
                (true, Some(";")),
                (true, None),
                (false, Some(";"))
            ]
        );
        assert_eq!(
            c.iter()
                .find(|c| c.first() == Some("make"))
                .map(|c| c.follows),
            Some(Some("&&"))
        );
    }

    #[test]
    fn words_keep_operators() {
        assert_eq!(words("A=1 B=\"x y\""), vec!["A=1", "B=x y"]);
        assert_eq!(words("a | b"), vec!["a", "|", "b"]);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let s = "$(".repeat(200) + &")".repeat(200);
        let _ = commands(&s);
        let s = "sh -c '".to_string() + &"sh -c \\'".repeat(50);
        let _ = commands(&s);
    }
}
