//! A small POSIX-shell tokenizer for `RUN` commands: words (with quotes and
//! backslash escapes), and simple commands split at `&&`, `||`, `;`, `|`,
//! `&`, newlines and parentheses. Hand-written because the crates that exist
//! either only split words (shlex, no operators) or are unmaintained full
//! shell parsers; the checks only need command names and their arguments.

/// One simple command of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCmd {
    pub words: Vec<String>,
    /// This command reads the previous command's output (`prev | this`).
    pub piped: bool,
}

impl SimpleCmd {
    /// The program and its arguments, skipping `VAR=value` assignments and
    /// wrappers (`sudo`, `env`, `exec`, `command`, `nohup`, `time`, `nice`),
    /// with the program reduced to its file name (`/usr/bin/apt-get` →
    /// `apt-get`).
    pub fn program(&self) -> Option<(String, &[String])> {
        let mut after_wrapper = false;
        for (i, w) in self.words.iter().enumerate() {
            let base = basename(w);
            let is_assign = w.split_once('=').is_some_and(|(n, _)| {
                !n.is_empty() && n.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
            });
            if matches!(
                base,
                "sudo" | "env" | "exec" | "command" | "nohup" | "time" | "nice"
            ) {
                after_wrapper = true;
                continue;
            }
            if is_assign || (after_wrapper && w.starts_with('-')) {
                continue;
            }
            return Some((
                base.to_string(),
                self.words.get(i + 1..).unwrap_or_default(),
            ));
        }
        None
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
}

/// File name of a path-like word.
pub fn basename(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

/// Split a command line into words, honouring quotes and escapes but not
/// operators (they stay words).
pub fn words(s: &str) -> Vec<String> {
    commands_inner(s, false)
        .into_iter()
        .flat_map(|c| c.words)
        .collect()
}

/// Split a command line into simple commands.
pub fn commands(s: &str) -> Vec<SimpleCmd> {
    commands_inner(s, true)
}

fn commands_inner(s: &str, ops: bool) -> Vec<SimpleCmd> {
    let mut out = Vec::new();
    let mut cur = SimpleCmd {
        words: Vec::new(),
        piped: false,
    };
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    let flush_word = |word: &mut String, in_word: &mut bool, cur: &mut SimpleCmd| {
        if *in_word {
            cur.words.push(std::mem::take(word));
            *in_word = false;
        }
    };
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
                Some('\n') => {}
                Some(n) => {
                    in_word = true;
                    word.push(n);
                }
                None => {}
            },
            '#' if !in_word => {
                // Comment to end of line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                flush_word(&mut word, &mut in_word, &mut cur);
                if ops {
                    push_cmd(&mut out, &mut cur, false);
                }
            }
            c if c.is_whitespace() && !(ops && c == '\n') => {
                flush_word(&mut word, &mut in_word, &mut cur);
            }
            ';' | '&' | '|' | '\n' | '(' | ')' if ops => {
                flush_word(&mut word, &mut in_word, &mut cur);
                let mut piped = false;
                if c == '|' {
                    if chars.peek() == Some(&'|') {
                        chars.next();
                    } else {
                        piped = true;
                    }
                } else if c == '&' && chars.peek() == Some(&'&') {
                    chars.next();
                }
                push_cmd(&mut out, &mut cur, piped);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    flush_word(&mut word, &mut in_word, &mut cur);
    push_cmd(&mut out, &mut cur, false);
    out
}

fn push_cmd(out: &mut Vec<SimpleCmd>, cur: &mut SimpleCmd, next_piped: bool) {
    if !cur.words.is_empty() {
        out.push(std::mem::replace(
            cur,
            SimpleCmd {
                words: Vec::new(),
                piped: next_piped,
            },
        ));
    } else {
        cur.piped = cur.piped || next_piped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn comments_and_newlines() {
        let c = commands("set -e\n# a comment && rm\necho a # trailing\n");
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn words_keep_operators() {
        assert_eq!(words("A=1 B=\"x y\""), vec!["A=1", "B=x y"]);
    }
}
