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
