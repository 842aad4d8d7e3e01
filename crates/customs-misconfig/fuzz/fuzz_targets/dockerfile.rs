//! Fuzz the Dockerfile parser and every Dockerfile check, and the image
//! history rebuild (the same bytes as one `created_by` line per input line).
#![no_main]

use customs_misconfig::{scan_dockerfile, scan_image_config, DockerfileContext, HistoryEntry, ImageConfigInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = DockerfileContext {
        dockerignore: Some(false),
        from_history: false,
    };
    let _ = scan_dockerfile("Dockerfile", data, &ctx);
    let text = String::from_utf8_lossy(data);
    let cfg = ImageConfigInput {
        history: text
            .lines()
            .take(64)
            .map(|l| HistoryEntry {
                created_by: l.to_string(),
                empty_layer: false,
            })
            .collect(),
        ..Default::default()
    };
    let _ = scan_image_config(&cfg);
});
