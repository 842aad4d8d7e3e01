//! docs/checks.md is generated from the check registry, then the section of
//! the dependency-confusion scanner (`customs-confusion`, which has its own
//! list); this test fails when it is out of date. Regenerate with
//! `UPDATE_CHECKS_DOC=1 cargo test -p customs-misconfig --test checks_doc`.

use std::path::Path;

#[test]
fn checks_md_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/checks.md");
    let want = format!(
        "{}\n{}",
        customs_misconfig::checks_markdown(),
        customs_confusion::checks_markdown()
    );
    if std::env::var_os("UPDATE_CHECKS_DOC").is_some() {
        if let Err(e) = std::fs::write(&path, &want) {
            panic!("cannot write {}: {e}", path.display());
        }
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date: run UPDATE_CHECKS_DOC=1 cargo test -p customs-misconfig --test checks_doc",
        path.display()
    );
}
