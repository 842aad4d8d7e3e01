//! The embedded store: one SQLite file.

mod common;
use common::*;
use customs_history::{Filter, Store};

fn path_in(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

#[test]
fn a_sqlite_store_records_lists_shows_trends_and_prunes() {
    let dir = must(tempfile::tempdir());
    // The directories of a new store are made.
    exercise(&path_in(&dir, "nested/dir/history.db"));
}

#[test]
fn the_file_is_in_wal_mode_with_indexes_for_list_and_trend() {
    let dir = must(tempfile::tempdir());
    let p = path_in(&dir, "h.db");
    drop(must(Store::open(&p)));
    let conn = must(rusqlite::Connection::open(&p));
    let mode: String = must(conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)));
    assert_eq!(mode, "wal");
    let plan = |sql: &str| -> String {
        let mut st = must(conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")));
        let rows = must(st.query_map([], |r| r.get::<_, String>(3)));
        rows.map(must).collect::<Vec<_>>().join("; ")
    };
    let p1 = plan("SELECT id FROM customs_scans WHERE repository = 'a' ORDER BY scanned_at DESC, id DESC LIMIT 5");
    assert!(p1.contains("customs_scans_repository"), "{p1}");
    assert!(
        !p1.contains("TEMP B-TREE"),
        "list sorts through the index: {p1}"
    );
    let p2 = plan(
        "SELECT id FROM customs_scans WHERE artifact_ref = 'a:1' ORDER BY scanned_at ASC, id ASC",
    );
    assert!(p2.contains("customs_scans_ref"), "{p2}");
}

#[test]
fn threads_writing_at_once_each_get_their_write_in() {
    let dir = must(tempfile::tempdir());
    concurrent_writers(&path_in(&dir, "h.db"), 8, 25);
}

#[test]
fn a_file_that_is_not_a_history_is_refused_in_one_line() {
    let dir = must(tempfile::tempdir());
    let garbage = dir.path().join("garbage.db");
    must(std::fs::write(&garbage, vec![0x5au8; 8192]));
    let e = match Store::open(&garbage.display().to_string()) {
        Ok(_) => panic!("opened a garbage file"),
        Err(e) => e.to_string(),
    };
    assert!(e.starts_with(&garbage.display().to_string()), "{e}");
    assert!(e.contains("not a customs history database"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    assert_eq!(
        must(std::fs::read(&garbage)),
        vec![0x5au8; 8192],
        "left as it was"
    );

    let foreign = path_in(&dir, "foreign.db");
    let c = must(rusqlite::Connection::open(&foreign));
    must(c.execute_batch("CREATE TABLE invoices (id INTEGER)"));
    drop(c);
    let e = match Store::open(&foreign) {
        Ok(_) => panic!("opened another program's database"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("not a customs history database (it holds other tables: invoices)"),
        "{e}"
    );
}

#[test]
fn a_newer_schema_is_refused_rather_than_misread() {
    let dir = must(tempfile::tempdir());
    let p = path_in(&dir, "h.db");
    drop(must(Store::open(&p)));
    let c = must(rusqlite::Connection::open(&p));
    must(c.execute_batch("UPDATE customs_schema_version SET version = 99"));
    drop(c);
    let e = match Store::open(&p) {
        Ok(_) => panic!("opened a newer schema"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("schema is version 99, newer than this customs knows"),
        "{e}"
    );
}

#[test]
fn a_failing_write_leaves_nothing_behind() {
    let dir = must(tempfile::tempdir());
    let p = path_in(&dir, "h.db");
    drop(must(Store::open(&p)));
    let c = must(rusqlite::Connection::open(&p));
    // A store that refuses the second scan of a batch.
    must(c.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON customs_scans WHEN NEW.artifact_ref = 'bad:1'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    ));
    drop(c);
    let mut st = must(Store::open(&p));
    let good = at(report("good:1", &[("CVE-1", "p", "1", "LOW")], &[]), 1000);
    let bad = at(report("bad:1", &[], &[]), 2000);
    let e = match st.record_all(&[good.clone(), bad]) {
        Ok(ids) => panic!("recorded {ids:?}"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("refused by the test"), "{e}");
    assert!(
        must(st.list(&Filter::All, 0)).is_empty(),
        "the first scan of the failed batch was rolled back"
    );
    must(st.record(&good));
    assert_eq!(must(st.list(&Filter::All, 0)).len(), 1);
}

#[test]
fn an_imported_trivy_report_keeps_its_time_scanner_and_image() {
    let dir = must(tempfile::tempdir());
    let mut st = must(Store::open(&path_in(&dir, "h.db")));
    let loaded = must(customs_history::read_report(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/trivy-alpine-3.20.3.json"
    ))));
    let id = must(st.import(&loaded));
    let (scan, _) = must(st.show(id)).unwrap_or_else(|| panic!("no scan {id}"));
    assert_eq!(scan.scanner, "trivy 0.76.0");
    assert_eq!(scan.artifact_ref, "alpine:3.20.3");
    assert_eq!(scan.repository, "alpine");
    assert_eq!(scan.digest, loaded.report.metadata.image_id);
    assert_eq!(
        scan.scanned_at.get(..19),
        loaded.report.created_at.get(..19),
        "the report's own time"
    );
    assert_eq!(
        Some(scan.scanned_at_ms),
        customs_history::store::parse_time_ms(&loaded.report.created_at)
    );
    assert_eq!(scan.counts.vulnerabilities.total(), 56);
}
