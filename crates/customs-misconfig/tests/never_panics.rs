//! Property tests: the parsers and scanners never panic on arbitrary input.

use customs_misconfig::{scan_dockerfile, DockerfileContext, ImageConfigInput};
use proptest::prelude::*;

/// Dockerfile-ish text: instruction keywords, flags, quotes, escapes,
/// heredoc markers, JSON brackets and variables mixed with noise.
fn dockerfile_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("FROM ".to_string()),
        Just("RUN ".to_string()),
        Just("COPY ".to_string()),
        Just("ADD ".to_string()),
        Just("ENV ".to_string()),
        Just("ARG ".to_string()),
        Just("USER ".to_string()),
        Just("EXPOSE ".to_string()),
        Just("ENTRYPOINT ".to_string()),
        Just("CMD ".to_string()),
        Just("HEALTHCHECK ".to_string()),
        Just("WORKDIR ".to_string()),
        Just("ONBUILD ".to_string()),
        Just("SHELL ".to_string()),
        Just("# escape=`\n".to_string()),
        Just(" AS ".to_string()),
        Just("--from=".to_string()),
        Just("--mount=type=cache,target=/x ".to_string()),
        Just("<<EOF\n".to_string()),
        Just("\nEOF\n".to_string()),
        Just("\\\n".to_string()),
        Just("`\n".to_string()),
        Just("[\"".to_string()),
        Just("\", \"".to_string()),
        Just("\"]".to_string()),
        Just("${A:-b}".to_string()),
        Just("$".to_string()),
        Just(" && ".to_string()),
        Just(" | ".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("\n".to_string()),
        "[a-z0-9:./=@-]{0,8}",
        any::<String>(),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn dockerfile_scanner_never_panics(text in dockerfile_text()) {
        let ctx = DockerfileContext { dockerignore: Some(false), from_history: false };
        if let Err(e) = scan_dockerfile("Dockerfile", text.as_bytes(), &ctx) {
            // Errors are one line and name the file.
            let msg = e.to_string();
            prop_assert!(msg.starts_with("Dockerfile:"), "{}", msg);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = scan_dockerfile("Dockerfile", &bytes, &DockerfileContext::default());
        let _ = ImageConfigInput::from_oci_config_json(&bytes);
    }

    #[test]
    fn image_history_never_panics(lines in proptest::collection::vec(dockerfile_text(), 0..8), user in "[a-z0-9:]{0,6}") {
        let cfg = ImageConfigInput {
            user,
            history: lines
                .into_iter()
                .map(|l| customs_misconfig::HistoryEntry { created_by: l, empty_layer: false })
                .collect(),
            created: Some("2020-01-01T00:00:00Z".into()),
            ..Default::default()
        };
        let r = customs_misconfig::scan_image_config(&cfg);
        prop_assert!(r.misconf_summary.failures + r.misconf_summary.successes > 0);
    }

    #[test]
    fn shell_tokenizer_never_panics(s in any::<String>()) {
        let _ = customs_misconfig::shell::commands(&s);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// What the parser accepts is well formed: instructions in file order,
    /// line ranges inside the file, every stage starting with its FROM.
    #[test]
    fn parsed_dockerfiles_are_well_formed(text in dockerfile_text()) {
        if let Ok(d) = customs_misconfig::dockerfile::Dockerfile::parse("Dockerfile", &text) {
            let n = text.split('\n').count();
            let mut last = 0;
            for i in &d.instrs {
                prop_assert!(i.start_line >= 1 && i.start_line <= i.end_line && i.end_line <= n, "{:?} in {} lines", i, n);
                prop_assert!(i.start_line > last, "out of order: {:?}", i);
                last = i.end_line;
            }
            prop_assert!(!d.stages.is_empty());
            for s in &d.stages {
                prop_assert_eq!(d.instrs.get(s.from).map(|i| i.cmd.as_str()), Some("from"));
            }
        }
    }

    /// A file the parser accepts still parses after the same text is
    /// written with CRLF line endings, to the same instructions.
    #[test]
    fn crlf_is_the_same_file(text in dockerfile_text()) {
        if let Ok(a) = customs_misconfig::dockerfile::Dockerfile::parse("Dockerfile", &text) {
            let crlf = text.replace('\n', "\r\n");
            let b = customs_misconfig::dockerfile::Dockerfile::parse("Dockerfile", &crlf);
            prop_assert!(b.is_ok(), "{:?}", b.err());
            let b = b.unwrap_or_else(|_| a.clone());
            let cmds = |d: &customs_misconfig::dockerfile::Dockerfile| d.instrs.iter().map(|i| (i.cmd.clone(), i.start_line)).collect::<Vec<_>>();
            prop_assert_eq!(cmds(&a), cmds(&b));
        }
    }
}
