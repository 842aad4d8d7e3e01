//! Unit tests of the engine. Token-shaped values are assembled from pieces
//! at run time so that this source file holds no scannable token.

use super::*;
use std::collections::HashSet;

fn gh() -> String {
    format!("{}{}", "gh", "p_N7vQ2kT9xLmB4wZr8YcP1sHd6FgJ3aUe5KoV")
}

#[test]
fn every_builtin_rule_compiles_with_unique_id_and_secret_group() {
    let mut ids = HashSet::new();
    for (i, b) in builtin::BUILTIN_RULES.iter().enumerate() {
        let r = Rule::from_builtin(i, b);
        assert!(r.is_ok(), "{:?}", r.err());
        let c = rule::compile_builtin(b);
        assert!(c.is_ok(), "{:?}", c.err());
        assert!(ids.insert(b.id), "duplicate id {}", b.id);
        assert!(
            b.id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{} is not kebab-case",
            b.id
        );
        for k in b.keywords {
            assert_eq!(
                *k,
                k.to_ascii_lowercase(),
                "{}: keyword {k} not lowercase",
                b.id
            );
        }
        if b.keywords.is_empty() {
            assert!(b.path.is_some(), "{}: no keywords and no path filter", b.id);
        }
    }
    let scanner = SecretScanner::builtin();
    assert_eq!(scanner.rules().len(), builtin::BUILTIN_RULES.len());
    assert!(scanner.rules().len() >= 100, "{}", scanner.rules().len());
    let cats: HashSet<_> = scanner
        .rules()
        .iter()
        .map(|r| r.category.as_str())
        .collect();
    assert!(cats.len() >= 60, "{} categories", cats.len());
    assert_eq!(
        builtin::BUILTIN_ALLOW_RULES.len(),
        rule::builtin_allow_rules().len()
    );
}

#[test]
fn finds_and_masks_like_trivy() {
    let s = SecretScanner::builtin();
    let data = format!("# deploy\nexport A=1\nGITHUB_TOKEN={}\nB=2\n", gh());
    let f = s.scan("app/.env", data.as_bytes());
    assert_eq!(f.len(), 1, "{f:#?}");
    let f = &f[0];
    assert_eq!(f.rule_id, "github-pat");
    assert_eq!(f.category, "GitHub");
    assert_eq!(f.severity, customs_model::Severity::Critical);
    assert_eq!((f.start_line, f.end_line), (3, 3));
    assert_eq!(f.match_line, format!("GITHUB_TOKEN={}", "*".repeat(40)));
    assert_eq!(f.offset, 33);
    let nums: Vec<_> = f.code.lines.iter().map(|l| l.number).collect();
    assert_eq!(nums, vec![1, 2, 3, 4]);
    let cause: Vec<_> = f.code.lines.iter().filter(|l| l.is_cause).collect();
    assert_eq!(cause.len(), 1);
    assert!(cause[0].first_cause && cause[0].last_cause);
    let json = serde_json::to_value(f).unwrap_or_default();
    for k in [
        "RuleID",
        "Category",
        "Severity",
        "Title",
        "StartLine",
        "EndLine",
        "Code",
        "Match",
    ] {
        assert!(json.get(k).is_some(), "missing {k}");
    }
    assert!(json.get("Layer").is_none());
    // The report's line shape (one type for every finding): an empty
    // `Annotation` is left out, as customs has always written it.
    let line = &json["Code"]["Lines"][2];
    assert!(line.get("Annotation").is_none());
    for k in [
        "Number",
        "Content",
        "IsCause",
        "Truncated",
        "Highlighted",
        "FirstCause",
        "LastCause",
    ] {
        assert!(line.get(k).is_some(), "missing Code.Lines[].{k}");
    }
    assert!(!json.to_string().contains(&gh()));
}

#[test]
fn keyword_is_case_insensitive_and_regex_decides() {
    let s = SecretScanner::builtin();
    // The keyword `ghp_` appears upper-cased: the prefilter hits, but the
    // regex (case-sensitive prefix) decides there is no token.
    let up = gh().to_ascii_uppercase();
    assert!(s.scan("a.txt", up.as_bytes()).is_empty());
    assert_eq!(s.scan("a.txt", gh().as_bytes()).len(), 1);
}

#[test]
fn binary_content_is_skipped_not_by_name() {
    let s = SecretScanner::builtin();
    let mut data = b"\x7fELF\x02\x01\x01\0\0\0\0".to_vec();
    data.extend_from_slice(gh().as_bytes());
    assert!(is_binary(&data));
    assert!(s.scan("usr/local/bin/tool.txt", &data).is_empty());
    // A text file with a binary-sounding name is scanned.
    assert_eq!(s.scan("opt/app/blob.bin", gh().as_bytes()).len(), 1);
    assert!(!is_binary("héllo wörld\n\ttabs\r\n".as_bytes()));
    assert!(is_binary(&[1u8, 2, 3, 4, 5, 6, 7, 8, b'a']));
}

#[test]
fn path_allow_and_skip() {
    let s = SecretScanner::builtin();
    for p in [
        "usr/share/doc/x/README",
        "/usr/lib/python3.11/test/keycert.pem",
        "app/docs/setup.txt",
        "app/README.md",
        "srv/app/tests/fixtures/.env",
        "proc/self/environ",
        "app/logo.png",
        "app/package-lock.json",
    ] {
        assert!(s.skip_path(p), "{p}");
        assert!(s.scan(p, gh().as_bytes()).is_empty(), "{p}");
    }
    for p in [
        "app/.env",
        "usr/local/app/.env",
        "root/.bash_history",
        "etc/app/config.yaml",
    ] {
        assert!(!s.skip_path(p), "{p}");
    }
}

#[test]
fn placeholders_are_allowed() {
    let s = SecretScanner::builtin();
    let data = format!(
        "AWS_ACCESS_KEY_ID={}\nGITHUB_TOKEN=ghp_{}\nAPI_TOKEN=<your-token>\npassword = \"changeme123\"\nDB_PASSWORD=${{DB_PASSWORD}}\n",
        "AKIAIOSFODNN7EXAMPLE",
        "x".repeat(36),
    );
    let f = s.scan("app/.env", data.as_bytes());
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn overlapping_rules_keep_the_specific_one() {
    let s = SecretScanner::builtin();
    let data = format!("api_token = \"{}\"\n", gh());
    let f = s.scan("app/settings.py", data.as_bytes());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule_id, "github-pat");
}

#[test]
fn multi_line_private_key_lines_and_mask() {
    let s = SecretScanner::builtin();
    let body: Vec<String> = (0..6)
        .map(|i| format!("MIIEpAIBAAKCAQEA{i}x9Lq3vKk2QnT8sYw4bRzP7uD1hGf6jXcM0aVe5oNt2"))
        .collect();
    let data = format!(
        "first\n-----BEGIN RSA {}-----\n{}\n-----END RSA PRIVATE KEY-----\nlast\n",
        "PRIVATE KEY",
        body.join("\n")
    );
    let f = s.scan("root/.ssh/id_rsa", data.as_bytes());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule_id, "rsa-private-key");
    assert_eq!((f[0].start_line, f[0].end_line), (3, 8));
    let out = serde_json::to_string(&f[0]).unwrap_or_default();
    assert!(!out.contains("MIIEpAIBAAKCAQEA"), "{out}");
    assert!(out.contains("BEGIN RSA PRIVATE KEY"));
}

#[test]
fn long_lines_are_truncated_around_the_secret() {
    let s = SecretScanner::builtin();
    let data = format!(
        "{}var t=\"{}\";{}",
        "a".repeat(5000),
        gh(),
        "b".repeat(5000)
    );
    let f = s.scan("app/static/app.min.js", data.as_bytes());
    assert_eq!(f.len(), 1);
    let l = &f[0].code.lines[0];
    assert!(l.truncated && l.content.len() <= MAX_SHOWN_LINE);
    assert!(l.content.contains(&"*".repeat(40)));
    assert_eq!(f[0].offset, 5007);
}

#[test]
fn chunk_boundary_secret_found_once_with_right_line() {
    let s = SecretScanner::builtin();
    // Place the token so that it straddles the first chunk's end, and also
    // the carry/own boundaries, trying a range of positions.
    for shift in [
        0usize,
        10,
        20,
        39,
        100,
        4000,
        CHUNK_OVERLAP - 10,
        CHUNK_OVERLAP + 3,
    ] {
        let line = "let x = 1; // filler text for the chunk test\n"; // 46 bytes
        let mut data = String::new();
        let target = CHUNK_LEN.saturating_sub(20 + shift);
        while data.len() + line.len() < target {
            data.push_str(line);
        }
        let pad = target - data.len();
        data.push_str(&" ".repeat(pad));
        let expect_line = data.matches('\n').count() + 1;
        let expect_off = data.len() + 6;
        data.push_str(&format!("TOKEN={}\n", gh()));
        for _ in 0..30_000 {
            data.push_str(line);
        }
        let f = s
            .scan_reader("app/big.log", std::io::Cursor::new(data.as_bytes()))
            .unwrap_or_default();
        assert_eq!(f.len(), 1, "shift {shift}: {f:#?}");
        assert_eq!(f[0].start_line, expect_line, "shift {shift}");
        assert_eq!(f[0].offset, expect_off as u64, "shift {shift}");
        assert_eq!(
            f,
            s.scan_unchunked("app/big.log", data.as_bytes()),
            "shift {shift}"
        );
        assert_eq!(f, s.scan("app/big.log", data.as_bytes()), "shift {shift}");
    }
}

#[test]
fn reader_equals_whole_buffer_on_many_secrets() {
    let s = SecretScanner::builtin();
    let mut data = String::new();
    let mut i = 0usize;
    while data.len() < 3 * CHUNK_LEN + 12345 {
        if i.is_multiple_of(997) {
            data.push_str(&format!(
                "slack=xoxb-{:012}-{:012}-{}\n",
                i,
                i + 7,
                "aB3dE5gH7jK9mN1pQ3sT5vW7"
            ));
        } else {
            data.push_str("    return render(request, 'index.html', {'items': items})\n");
        }
        i += 1;
    }
    let whole = s.scan_unchunked("app/x.py", data.as_bytes());
    let streamed = s
        .scan_reader("app/x.py", std::io::Cursor::new(data.as_bytes()))
        .unwrap_or_default();
    assert!(whole.len() > 40);
    assert_eq!(whole, streamed);
}

#[test]
fn config_adds_disables_and_allows() {
    let dir = std::env::temp_dir().join(format!("customs-secret-cfg-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let cfg = dir.join("customs-secret.yaml");
    let yaml = r#"
rules:
  - id: acme-api-key
    category: Acme
    title: Acme API key
    severity: high
    regex: '\b(?P<secret>acme_[a-z0-9]{24})\b'
    keywords: [ACME_]
    allow-rules:
      - id: acme-sandbox
        regex: '^acme_sandbox'
allow-rules:
  - id: internal-fixtures
    path: '^opt/fixtures/'
disable-rules: [github-pat]
exclude-block:
  description: fenced fake block
  regexes: ['(?s)BEGIN-FAKE.*?END-FAKE']
skip-paths: ['^srv/cache/']
"#;
    let _ = std::fs::write(&cfg, yaml);
    let s = SecretScanner::from_config_file(&cfg);
    assert!(s.is_ok(), "{:?}", s.err());
    let Ok(s) = s else { return };
    assert_eq!(s.rules()[0].id, "acme-api-key");
    assert!(s.rules().iter().all(|r| r.id != "github-pat"));
    let data = b"key = acme_k3j4h5g6f7d8s9a0q1w2e3r4\nsandbox = acme_sandbox0a1b2c3d4e5f6g7h\n";
    let f = s.scan("app/.env", data);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule_id, "acme-api-key");
    assert_eq!(f[0].severity, customs_model::Severity::High);
    assert!(s.scan("opt/fixtures/a.env", data).is_empty());
    assert!(s.skip_path("srv/cache/x"));
    assert!(s.scan("app/.env", gh().as_bytes()).is_empty());
    let blocked = b"BEGIN-FAKE\nk=acme_k3j4h5g6f7d8s9a0q1w2e3r4\nEND-FAKE\n";
    assert!(s.scan("app/.env", blocked).is_empty());

    // Errors name the file and the problem, on one line.
    let bad = dir.join("bad.yaml");
    let _ = std::fs::write(&bad, "rules:\n  - id: broken\n    regex: '(unclosed'\n");
    let e = SecretScanner::from_config_file(&bad)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("bad.yaml") && e.contains("broken") && e.contains("regex"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    let e = SecretScanner::from_config_file(&dir.join("missing.yaml"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("missing.yaml: cannot read secret config"), "{e}");
    let _ = std::fs::write(&bad, "allow-rules:\n  - id: nothing\n");
    let e = SecretScanner::from_config_file(&bad)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("allow rule nothing") && e.contains("required"),
        "{e}"
    );
    let _ = std::fs::write(
        &bad,
        "rules:\n  - id: s\n    regex: x\n    severity: awful\n",
    );
    let e = SecretScanner::from_config_file(&bad)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("unknown severity"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn enable_builtin_rules_restricts() {
    let cfg = Config {
        enable_builtin_rules: vec!["aws-access-key-id".into(), "github-pat".into()],
        disable_allow_rules: vec!["markdown".into()],
        ..Default::default()
    };
    let s = SecretScanner::from_config(&cfg, Path::new("c.yaml"));
    let Ok(s) = s else { return };
    assert_eq!(s.rules().len(), 2);
    assert_eq!(s.scan("README.md", gh().as_bytes()).len(), 1);
}

#[test]
fn scanner_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<SecretScanner>();
}

#[test]
fn mask_text_hides_every_secret_and_nothing_else() {
    let s = SecretScanner::builtin();
    let tok = "ghp_R7mK2pX9qL4vT8nW3zB6cJ1hF5dS0gA2yE4u";
    let masked = s
        .mask_text("env", &format!("GITHUB_TOKEN={tok}"))
        .unwrap_or_else(|| panic!("no secret found"));
    assert_eq!(masked, format!("GITHUB_TOKEN={}", "*".repeat(tok.len())));
    assert_eq!(s.mask_text("env", "PATH=/usr/local/bin:/usr/bin"), None);
}

#[test]
fn code_passing_an_attribute_is_not_a_password() {
    // urllib3 1.26 connection.py / connectionpool.py: keyword arguments.
    let s = SecretScanner::builtin();
    let code = b"            key_password=self.key_password,\n            ssl_password = options.sslPassword;\n";
    assert!(s.scan("connection.py", code).is_empty());
    // A real value on the same shape of line is still found.
    let cfg = b"db_password=Xk9#mQ2vL7pRz4\n";
    assert_eq!(s.scan("app.conf", cfg).len(), 1);
}

/// `len` letters with no vowel, no `x` and no run of one letter, so no
/// allow rule (placeholders, repeated characters) ever takes them.
fn letters(seed: usize, len: usize) -> String {
    const A: &[u8] = b"bcdfghjkmnpqrstvwz";
    (0..len)
        .map(|i| char::from(A[(seed + i * 5) % A.len()]))
        .collect()
}

/// The built-in `github-pat` plus `n` custom rules `r0`.. that match
/// `tk{i}q` and ten letters.
fn scanner_with_rules(n: usize) -> SecretScanner {
    let mut yaml = String::from("enable-builtin-rules: [github-pat]\nrules:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  - id: r{i}\n    category: Test\n    title: rule {i}\n    severity: HIGH\n    \
             regex: '\\b(?P<secret>tk{i}q[a-z]{{10}})\\b'\n    keywords: [tk{i}q]\n"
        ));
    }
    let cfg = Config::from_yaml(&yaml, "caps.yaml");
    assert!(cfg.is_ok(), "{:?}", cfg.err());
    let s = cfg.and_then(|c| SecretScanner::from_config(&c, Path::new("caps.yaml")));
    assert!(s.is_ok(), "{:?}", s.err());
    s.unwrap_or_default()
}

#[test]
fn caps_keep_the_first_findings_in_file_order_and_count_the_rest() {
    let s = scanner_with_rules(12);
    let pad = format!("  # {}\n", "filler ".repeat(100));
    let mut data = String::new();
    let mut expected_lines = Vec::new();
    let mut line = 0usize;
    let mut push = |data: &mut String, rule: usize, keep: bool| {
        line += 1;
        if keep {
            expected_lines.push(line);
        }
        data.push_str(&format!("v{line} = tk{rule}q{}\n", letters(line, 10)));
        line += 1;
        data.push_str(&pad);
    };
    // 300 matches of r0 first: the first 100 are kept (per-rule limit).
    for i in 0..300 {
        push(&mut data, 0, i < MAX_FINDINGS_PER_RULE);
    }
    // Then r1..r11 in turn, 150 each: 900 more fit the per-file limit.
    let mut kept = MAX_FINDINGS_PER_RULE;
    for _ in 0..150 {
        for r in 1..12 {
            push(&mut data, r, kept < MAX_FINDINGS_PER_FILE);
            kept += 1;
        }
    }
    let total = 300 + 150 * 11;
    assert!(data.len() > CHUNK_LEN, "{} bytes", data.len());

    let whole = s.scan_unchunked("app/creds.txt", data.as_bytes());
    let streamed = s.scan_reader("app/creds.txt", data.as_bytes());
    assert!(streamed.is_ok());
    let streamed = streamed.unwrap_or_default();
    let buffered = s.scan("app/creds.txt", data.as_bytes());
    for out in [&whole, &streamed, &buffered] {
        assert_eq!(out.findings.len(), MAX_FINDINGS_PER_FILE);
        assert_eq!(out.dropped, (total - MAX_FINDINGS_PER_FILE) as u64);
        let lines: Vec<usize> = out.iter().map(|f| f.start_line).collect();
        assert_eq!(lines, expected_lines, "the first ones in file order");
        let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for f in out.iter() {
            *per_rule.entry(f.rule_id.as_str()).or_default() += 1;
        }
        assert!(per_rule.values().all(|&n| n <= MAX_FINDINGS_PER_RULE));
        assert_eq!(per_rule.get("r0"), Some(&MAX_FINDINGS_PER_RULE));
    }
    assert_eq!(whole, streamed);
    assert_eq!(whole, buffered);
}

#[test]
fn per_rule_cap_alone_counts_every_dropped_match() {
    let s = SecretScanner::builtin();
    let tok = gh();
    // Three copies per line: each is a match of its own.
    let mut data = String::new();
    for i in 0..400 {
        data.push_str(&format!("a{i}={tok} b={tok} c={tok}\n"));
    }
    let out = s.scan("app/tokens.env", data.as_bytes());
    assert_eq!(out.findings.len(), MAX_FINDINGS_PER_RULE);
    assert_eq!(out.dropped, 3 * 400 - MAX_FINDINGS_PER_RULE as u64);
    assert_eq!(out.findings[99].start_line, 34);
    // Below the caps nothing is dropped.
    let few = s.scan(
        "app/tokens.env",
        data.get(..data.len() / 40).unwrap_or_default().as_bytes(),
    );
    assert_eq!(few.dropped, 0);
    assert!(!few.is_empty() && few.len() < MAX_FINDINGS_PER_RULE);
}

#[test]
fn one_huge_line_gives_bounded_findings_and_code_lines() {
    let s = SecretScanner::builtin();
    // 6 MiB: a 2 MiB line above, a 3 MiB line holding a token every
    // 1000 bytes, a 1 MiB line below.
    let tok = gh();
    let mut data = "a".repeat(2 << 20);
    data.push('\n');
    let mut planted = 0u64;
    let filler = "b".repeat(1000 - tok.len() - 2);
    while data.len() < (5 << 20) {
        data.push_str(&format!(" {tok};{filler}"));
        planted += 1;
    }
    data.push('\n');
    data.push_str(&"c".repeat(1 << 20));
    for out in [
        s.scan("app/min.js", data.as_bytes()),
        s.scan_reader("app/min.js", data.as_bytes())
            .unwrap_or_default(),
    ] {
        assert_eq!(out.findings.len(), MAX_FINDINGS_PER_RULE);
        assert_eq!(out.dropped, planted - MAX_FINDINGS_PER_RULE as u64);
        for f in &out {
            assert_eq!(f.start_line, 2);
            assert!(
                f.match_line.len() <= MAX_SHOWN_LINE,
                "{}",
                f.match_line.len()
            );
            assert!(f.code.lines.len() <= 2 * CONTEXT_LINES + 1);
            for l in &f.code.lines {
                assert!(l.content.len() <= MAX_SHOWN_LINE && l.highlighted.len() <= MAX_SHOWN_LINE);
                assert!(l.truncated);
            }
            assert!(f.match_line.contains(&"*".repeat(tok.len())));
            assert!(!f.match_line.contains(&tok));
        }
        let json = serde_json::to_string(&out).unwrap_or_default();
        assert!(
            json.len() < 2000 * MAX_FINDINGS_PER_RULE,
            "{} bytes",
            json.len()
        );
    }
}

#[test]
fn a_secret_of_thousands_of_lines_shows_its_first_lines_only() {
    let s = SecretScanner::builtin();
    let mut data = String::from("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n");
    for i in 0..1500 {
        data.push_str(&letters(i, 30));
        data.push('\n');
    }
    data.push_str("-----END PGP PRIVATE KEY BLOCK-----\n");
    let out = s.scan("root/key.asc", data.as_bytes());
    assert_eq!(
        out.len(),
        1,
        "{:?}",
        out.iter().map(|f| &f.rule_id).collect::<Vec<_>>()
    );
    let f = &out[0];
    assert!(f.end_line > f.start_line + MAX_CAUSE_LINES);
    let causes = f.code.lines.iter().filter(|l| l.is_cause).count();
    assert_eq!(causes, MAX_CAUSE_LINES);
    let last = f.code.lines.last();
    assert!(last.is_some_and(|l| l.last_cause && l.truncated));
    assert_eq!(f.code.lines.iter().filter(|l| l.last_cause).count(), 1);
}

#[test]
fn limit_warning_names_the_file_and_the_counts() {
    assert_eq!(
        limit_warning("app/creds.txt", 1000, 2_345_678),
        "app/creds.txt: 1,000 secret findings shown, 2,345,678 more dropped (limit per file: 1,000)"
    );
    assert_eq!(
        limit_warning("a.env", 100, 7),
        "a.env: 100 secret findings shown, 7 more dropped (limit per rule: 100)"
    );
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1_000_000), "1,000,000");
}

#[test]
fn generic_findings_say_why_they_fired_and_token_formats_do_not() {
    let sc = SecretScanner::builtin();
    let text = format!(
        "DB_PASSWORD = \"Xk9#mQ2vLp7wRt4z\"\nurl = \"postgres://admin:Xk9mQ2vLp7wRt4zY@db.acme.io/app\"\nGITHUB = \"{}\"\n",
        gh()
    );
    let found = sc.scan("settings.py", text.as_bytes());
    let reason = |id: &str| {
        found
            .iter()
            .find(|f| f.rule_id == id)
            .unwrap_or_else(|| panic!("{id} not found in {found:?}"))
            .reason
            .clone()
    };
    let pw = reason("generic-password-assignment").expect("a generic rule has a reason");
    assert_eq!(pw.keyword, "DB_PASSWORD");
    let e = rule::shannon_entropy(b"Xk9#mQ2vLp7wRt4z");
    assert!((pw.entropy - e).abs() < 0.006, "{} vs {e}", pw.entropy);
    assert_eq!(pw.entropy_needed, Some(judge::entropy_needed(16, true)));
    assert!(pw.entropy >= pw.entropy_needed.unwrap_or(f64::MAX));
    let uri = reason("postgres-uri-password").expect("a URI rule has a reason");
    assert_eq!(uri.keyword, "admin");
    assert_eq!(uri.entropy_needed, None);
    assert_eq!(
        reason("github-pat"),
        None,
        "a token format is its own reason"
    );
    // The reason reaches the JSON under customs' own field name.
    let json = serde_json::to_value(&found.findings).expect("json");
    assert_eq!(json[0]["Reason"]["Keyword"], "DB_PASSWORD");
}

#[test]
fn a_long_key_is_found_whole_and_its_reason_keeps_the_keyword_end() {
    let sc = SecretScanner::builtin();
    // 56 bytes before the keyword: the generic rules count no prefix, so a
    // long configuration name is found (it was not while the key's prefix
    // was a counted `{0,40}`), and the reason is its last 64 bytes.
    let key = format!(
        "{}_DB_PASSWORD",
        "SERVICE_CONFIGURATION_FOR_THE_PRODUCTION_DEPLOYMENT_EU"
    );
    let env = format!("{key}=Xk9mQ2vLp7wRt4zY\n");
    let found = sc.scan("deploy/app.env", env.as_bytes());
    assert_eq!(found.len(), 1, "{found:?}");
    let reason = found.findings[0]
        .reason
        .clone()
        .expect("a generic rule has a reason");
    assert_eq!(reason.keyword, key[key.len() - 64..]);
    // The keyword must still end the key within 20 bytes, and the value
    // keep to its 100 bytes (both now checked after the match).
    let far = "DB_PASSWORD_OF_THE_OLD_REPLICA_SET=Xk9mQ2vLp7wRt4zY\n";
    assert!(sc.scan("deploy/app.env", far.as_bytes()).is_empty());
    let long = format!("DB_PASSWORD={}\n", "Xk9mQ2vLp7wRt4zY".repeat(7));
    assert!(sc.scan("deploy/app.env", long.as_bytes()).is_empty());
    let max = format!("DB_PASSWORD={}Xk9m\n", "Xk9mQ2vLp7wRt4zY".repeat(6));
    assert_eq!(sc.scan("deploy/app.env", max.as_bytes()).len(), 1);
}

#[test]
fn a_binary_stream_costs_its_sniff_not_a_chunk() {
    struct Counting<'a>(&'a [u8], usize);
    impl std::io::Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }
    let mut elf = vec![0u8; 2 << 20];
    elf[..4].copy_from_slice(b"\x7fELF");
    let mut r = Counting(&elf, 0);
    let found = SecretScanner::builtin()
        .scan_reader("app/lib.so.1", &mut r)
        .expect("scan");
    assert!(found.is_clean());
    assert!(r.1 <= BINARY_SNIFF_LEN, "read {} bytes of a binary", r.1);
    // Text goes on past the sniff, to the secret at the end of a chunk.
    let mut text = vec![b'a'; CHUNK_LEN - 100];
    text.extend_from_slice(format!("\nGITHUB_TOKEN={}\n", gh()).as_bytes());
    let found = SecretScanner::builtin()
        .scan_reader("app/.env", &text[..])
        .expect("scan");
    assert_eq!(found.len(), 1, "{found:?}");
}
