//! The shared store in a real PostgreSQL server (Debian's `postgresql`,
//! started by the test on 127.0.0.1 with a cluster of its own).

mod common;
use common::*;
use customs_history::{Filter, Store};
use customs_testkit::postgres::Postgres;

// Each test starts its own server (about a second), stopped by its PID when
// the test ends, panicking or not: a server shared through a static would
// outlive the test process.

#[test]
fn a_postgres_store_does_what_the_sqlite_file_does() {
    let pg = Postgres::start();
    let url = pg.create_db("exercise");
    exercise(&url);
    // The same schema: the tables and indexes, and one version row.
    assert_eq!(
        pg.psql("exercise", "SELECT version FROM customs_schema_version"),
        customs_history::store::schema::latest().to_string()
    );
    let idx = pg.psql(
        "exercise",
        "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'customs_scans'",
    );
    assert_eq!(
        idx,
        "customs_scans_pkey,customs_scans_ref,customs_scans_repository,customs_scans_time"
    );
}

#[test]
fn concurrent_writers_and_first_openers_migrate_once() {
    // Eight clients meet an empty database at once: the migration runs
    // once, under the advisory lock, and every write lands.
    let pg = Postgres::start();
    let url = pg.create_db("concurrent");
    concurrent_writers(&url, 8, 20);
    assert_eq!(
        pg.psql("concurrent", "SELECT count(*) FROM customs_schema_version"),
        "1"
    );
}

#[test]
fn a_failing_batch_is_rolled_back() {
    let pg = Postgres::start();
    let url = pg.create_db("rollback");
    drop(must(Store::open(&url)));
    pg.psql(
        "rollback",
        "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.artifact_ref = 'bad:1' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
    );
    pg.psql(
        "rollback",
        "CREATE TRIGGER refuse BEFORE INSERT ON customs_scans FOR EACH ROW EXECUTE FUNCTION refuse()",
    );
    let mut st = must(Store::open(&url));
    let good = at(report("good:1", &[], &[]), 1000);
    let bad = at(report("bad:1", &[], &[]), 2000);
    let e = match st.record_all(&[good, bad]) {
        Ok(ids) => panic!("recorded {ids:?}"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("refused by the test"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    assert_eq!(
        pg.psql("rollback", "SELECT count(*) FROM customs_scans"),
        "0"
    );
    assert_eq!(
        pg.psql("rollback", "SELECT count(*) FROM customs_reports"),
        "0"
    );
}

#[test]
fn a_newer_schema_or_a_foreign_table_is_refused() {
    let pg = Postgres::start();
    let url = pg.create_db("newer");
    drop(must(Store::open(&url)));
    pg.psql("newer", "UPDATE customs_schema_version SET version = 99");
    let e = match Store::open(&url) {
        Ok(_) => panic!("opened a newer schema"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("newer than this customs knows"), "{e}");

    let url = pg.create_db("foreign");
    pg.psql("foreign", "CREATE TABLE customs_scans (x int)");
    let e = match Store::open(&url) {
        Ok(_) => panic!("opened a foreign table"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("not a customs history database"), "{e}");
}

#[test]
fn an_unreachable_server_is_one_line_with_the_password_hidden() {
    // A port nothing listens on (bound, then released).
    let port = must(std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr())).port();
    let url = format!("postgres://bob:s3cret@127.0.0.1:{port}/h");
    let e = match Store::open(&url) {
        Ok(_) => panic!("connected to nothing"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.starts_with(&format!(
            "postgres://bob:***@127.0.0.1:{port}/h: cannot connect"
        )),
        "{e}"
    );
    assert!(!e.contains("s3cret"), "{e}");
    assert!(!e.contains('\n'), "{e}");
    // A store on a live server that then stops.
    let pg = Postgres::start();
    let url = pg.create_db("empty");
    let mut st = must(Store::open(&url));
    assert!(must(st.list(&Filter::All, 0)).is_empty());
    drop(pg);
    // A server that went away mid-session: one line too.
    let e = match st.list(&Filter::All, 0) {
        Ok(l) => panic!("listed {} scans from a stopped server", l.len()),
        Err(e) => e.to_string(),
    };
    assert!(!e.contains('\n'), "{e}");
    assert!(e.starts_with("postgres://customs@127.0.0.1:"), "{e}");
}
