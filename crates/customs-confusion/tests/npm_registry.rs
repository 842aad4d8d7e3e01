//! npm against two real Verdaccio registries on 127.0.0.1: one private, one
//! standing in for the public registry (its URL is given as the public npm
//! registry, as `--confusion-check-public` would). Real lockfiles made by
//! `npm install --package-lock-only`, unsafe and fixed configurations, and
//! the online name check with its cache.

mod support;

use customs_confusion::{scan, Input};
use std::path::Path;
use support::*;

fn read_tree(root: &Path, rels: &[&str]) -> Input {
    Input {
        files: rels
            .iter()
            .filter_map(|r| std::fs::read(root.join(r)).ok().map(|b| (r.to_string(), b)))
            .collect(),
        env: Vec::new(),
    }
}

#[test]
fn npm_lockfiles_against_real_registries() {
    let Some(services) = services() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let work = tmp.path();
    let NpmRegistries {
        private,
        public: _public,
        counter,
        public_url,
        ptoken,
        otoken,
    } = npm_registries(&services, work);
    npm_publish(&private, &ptoken, work, "@acme/lib", "1.0.0");
    npm_publish(&private, &ptoken, work, "acme-internal", "1.0.0");
    npm_publish_at(&public_url, &otoken, work, "@acme/lib", "1.0.0");
    npm_publish_at(&public_url, &otoken, work, "pubdep", "1.0.0");
    let home = work.join("npm-home");
    let priv_url = private.url.as_str();
    let pub_url = public_url.as_str();
    let tree = work.join("tree");
    let offline = public_opts(pub_url, "", &work.join("cache"), true);

    // 1. The lockfile was made against the public registry; the scope is
    //    mapped to the private one afterwards: CS-DEP-001 on the entry.
    let app = tree.join("app1");
    write(
        &app.join("package.json"),
        r#"{"name":"app1","version":"1.0.0","dependencies":{"@acme/lib":"^1.0.0","pubdep":"^1.0.0"}}"#,
    );
    npm(
        &app,
        &home,
        &["install", "--package-lock-only"],
        &[("npm_config_registry", pub_url)],
    );
    write(&app.join(".npmrc"), &format!("@acme:registry={priv_url}\n"));
    let lock = std::fs::read_to_string(app.join("package-lock.json")).expect("lock");
    assert!(
        lock.contains(&format!("{pub_url}@acme/lib/-/lib-1.0.0.tgz")),
        "{lock}"
    );
    let res = scan(
        &read_tree(&tree, &["app1/.npmrc", "app1/package-lock.json"]),
        &offline,
    )
    .expect("scan");
    assert_eq!(
        found(&res),
        vec![(
            "app1/package-lock.json".into(),
            "CS-DEP-001".into(),
            line_of(&lock, "\"node_modules/@acme/lib\"")
        )]
    );

    // 2. An unscoped private package: locked from the private registry,
    //    then a public dependency added against the public one (npm keeps
    //    the existing entry): CS-DEP-002 on it.
    let app = tree.join("app2");
    write(
        &app.join("package.json"),
        r#"{"name":"app2","version":"1.0.0","dependencies":{"acme-internal":"^1.0.0"}}"#,
    );
    npm(
        &app,
        &home,
        &["install", "--package-lock-only"],
        &[("npm_config_registry", priv_url)],
    );
    write(
        &app.join("package.json"),
        r#"{"name":"app2","version":"1.0.0","dependencies":{"acme-internal":"^1.0.0","pubdep":"^1.0.0"}}"#,
    );
    npm(
        &app,
        &home,
        &["install", "--package-lock-only"],
        &[("npm_config_registry", pub_url)],
    );
    let lock2 = std::fs::read_to_string(app.join("package-lock.json")).expect("lock");
    assert!(
        lock2.contains(&format!("{priv_url}acme-internal/-/")),
        "{lock2}"
    );
    assert!(lock2.contains(&format!("{pub_url}pubdep/-/")), "{lock2}");
    let app2_files = ["app2/package-lock.json"];
    let res = scan(&read_tree(&tree, &app2_files), &offline).expect("scan");
    let internal_line = line_of(&lock2, "\"node_modules/acme-internal\"");
    assert_eq!(
        found(&res),
        vec![(
            "app2/package-lock.json".into(),
            "CS-DEP-002".into(),
            internal_line
        )]
    );

    // 3. The scope mapping was given on the command line only: the tree
    //    has no config for it, the default is the public registry.
    let app = tree.join("app3");
    write(
        &app.join("package.json"),
        r#"{"name":"app3","version":"1.0.0","dependencies":{"@acme/lib":"^1.0.0"}}"#,
    );
    npm(
        &app,
        &home,
        &["install", "--package-lock-only"],
        &[
            ("npm_config_registry", pub_url),
            ("npm_config_@acme:registry", priv_url),
        ],
    );
    let lock3 = std::fs::read_to_string(app.join("package-lock.json")).expect("lock");
    assert!(
        lock3.contains(&format!("{priv_url}@acme/lib/-/")),
        "{lock3}"
    );
    let res = scan(&read_tree(&tree, &["app3/package-lock.json"]), &offline).expect("scan");
    assert_eq!(
        found(&res),
        vec![(
            "app3/package-lock.json".into(),
            "CS-DEP-005".into(),
            line_of(&lock3, "\"node_modules/@acme/lib\"")
        )]
    );

    // 4. Fixed: the scope mapping is committed with the project and the
    //    lockfile made with it; unscoped packages come from the public
    //    registry. No finding.
    let app = tree.join("app4");
    write(
        &app.join("package.json"),
        r#"{"name":"app4","version":"1.0.0","dependencies":{"@acme/lib":"^1.0.0","pubdep":"^1.0.0"}}"#,
    );
    write(
        &app.join(".npmrc"),
        &format!("registry={pub_url}\n@acme:registry={priv_url}\n"),
    );
    npm(&app, &home, &["install", "--package-lock-only"], &[]);
    let lock4 = std::fs::read_to_string(app.join("package-lock.json")).expect("lock");
    assert!(
        lock4.contains(&format!("{priv_url}@acme/lib/-/")),
        "{lock4}"
    );
    let res = scan(
        &read_tree(&tree, &["app4/.npmrc", "app4/package-lock.json"]),
        &offline,
    )
    .expect("scan");
    assert_eq!(found(&res), vec![]);

    // 5. The name check, through a counting forwarder in front of the
    //    "public" registry. acme-internal does not exist there: claimable.
    //    @acme/lib of app4 exists there at the same version: name taken.
    let cache = work.join("cache-online");
    let online = public_opts(&counter.url, "", &cache, false);
    let before_online = counter.connections();
    let app4_files = [
        "app4/.npmrc",
        "app4/package-lock.json",
        "app2/package-lock.json",
    ];
    let res = scan(&read_tree(&tree, &app4_files), &online).expect("scan");
    let lib_line = line_of(&lock4, "\"node_modules/@acme/lib\"");
    assert_eq!(
        found(&res),
        vec![
            (
                "app2/package-lock.json".into(),
                "CS-DEP-002".into(),
                internal_line
            ),
            (
                "app2/package-lock.json".into(),
                "CS-DEP-090".into(),
                internal_line
            ),
            (
                "app4/package-lock.json".into(),
                "CS-DEP-092".into(),
                lib_line
            ),
        ]
    );
    let cold = counter.connections();
    assert!(cold > before_online, "the cold run asked the registry");
    let cached = std::fs::read_dir(cache.join("confusion"))
        .expect("cache dir")
        .count();
    assert_eq!(cached, 2, "one cached answer per name");

    // Warm cache: same findings, not one connection.
    let again = scan(&read_tree(&tree, &app4_files), &online).expect("scan");
    assert_eq!(found(&again), found(&res));
    assert_eq!(
        counter.connections(),
        cold,
        "a warm cache issues no request"
    );

    // Someone publishes acme-internal 9.9.9 on the public registry: with a
    // fresh cache it is a live hijack, CRITICAL.
    npm_publish_at(&public_url, &otoken, work, "acme-internal", "9.9.9");
    let fresh = public_opts(&counter.url, "", &work.join("cache-fresh"), false);
    let res = scan(&read_tree(&tree, &app2_files), &fresh).expect("scan");
    let hijack: Vec<_> = res
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| f.id == "CS-DEP-091")
        .collect();
    assert_eq!(hijack.len(), 1, "{res:?}");
    assert_eq!(hijack[0].severity, customs_model::Severity::Critical);
    assert!(hijack[0].message.contains("9.9.9"), "{}", hijack[0].message);
    // Verdaccio keeps no publisher; the npm registry's `maintainers` are
    // named (unit test `npm_answer_names_versions_and_publishers`).

    // --offline: nothing asked, no name findings.
    let before = counter.connections();
    let off = public_opts(&counter.url, "", &work.join("cache-off"), true);
    let res = scan(&read_tree(&tree, &app2_files), &off).expect("scan");
    assert_eq!(
        found(&res),
        vec![(
            "app2/package-lock.json".into(),
            "CS-DEP-002".into(),
            internal_line
        )]
    );
    assert_eq!(counter.connections(), before);
}
