use super::*;
use customs_image::walk::EntryKind;

fn lr(d: &str) -> LayerRef {
    LayerRef {
        digest: String::new(),
        diff_id: d.to_string(),
    }
}

fn pkg(name: &str, version: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        ..Default::default()
    }
}

fn opts() -> Options {
    Options {
        os: true,
        lang: true,
        today_unix_secs: Some(1_700_000_000),
        ..Default::default()
    }
}

#[test]
fn whiteouts_delete_lower_paths_and_trees() {
    let mut l1 = LayerResult::default();
    l1.apps.insert(
        "app/node_modules/a/package.json".into(),
        AppFile {
            lang_type: "node-pkg".into(),
            packages: vec![pkg("a", "1.0.0")],
            ..Default::default()
        },
    );
    l1.apps.insert(
        "srv/Cargo.lock".into(),
        AppFile {
            lang_type: "cargo".into(),
            packages: vec![pkg("b", "2.0.0")],
            ..Default::default()
        },
    );
    let mut l2 = LayerResult::default();
    l2.whiteouts.push("app/node_modules".into());
    let inv = merge(&[(lr("sha256:1"), l1), (lr("sha256:2"), l2)], &opts());
    let targets: Vec<_> = inv.applications.iter().map(|a| a.target.as_str()).collect();
    assert_eq!(targets, vec!["srv/Cargo.lock"]);
}

#[test]
fn opaque_dir_hides_lower_contents_only() {
    let mut l1 = LayerResult::default();
    l1.apps.insert(
        "opt/x/Cargo.lock".into(),
        AppFile {
            lang_type: "cargo".into(),
            packages: vec![pkg("old", "1.0.0")],
            ..Default::default()
        },
    );
    let mut l2 = LayerResult::default();
    l2.opaque.push("opt/x".into());
    l2.apps.insert(
        "opt/x/go.mod".into(),
        AppFile {
            lang_type: "gomod".into(),
            packages: vec![pkg("new", "1.0.0")],
            ..Default::default()
        },
    );
    let inv = merge(&[(lr("sha256:1"), l1), (lr("sha256:2"), l2)], &opts());
    assert_eq!(inv.applications.len(), 1);
    assert_eq!(inv.applications[0].target, "opt/x/go.mod");
    assert_eq!(inv.applications[0].packages[0].layer.diff_id, "sha256:2");
}

#[test]
fn packages_are_attributed_to_the_first_layer_that_had_them() {
    let mut l1 = LayerResult::default();
    l1.pkg_dbs.insert(
        "var/lib/dpkg/status".into(),
        vec![pkg("bash", "5.2"), pkg("libc6", "2.36")],
    );
    let mut l2 = LayerResult::default();
    // The second layer rewrites the database: one package upgraded, one added.
    l2.pkg_dbs.insert(
        "var/lib/dpkg/status".into(),
        vec![
            pkg("bash", "5.2"),
            pkg("libc6", "2.37"),
            pkg("curl", "7.88"),
        ],
    );
    let inv = merge(&[(lr("sha256:1"), l1), (lr("sha256:2"), l2)], &opts());
    let got: Vec<(String, String)> = inv
        .os_packages
        .iter()
        .map(|p| (p.name.clone(), p.layer.diff_id.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("bash".to_string(), "sha256:1".to_string()),
            ("curl".to_string(), "sha256:2".to_string()),
            ("libc6".to_string(), "sha256:2".to_string()),
        ]
    );
}

#[test]
fn deleted_package_database_means_no_packages() {
    let mut l1 = LayerResult::default();
    l1.pkg_dbs.insert(
        "lib/apk/db/installed".into(),
        vec![pkg("musl", "1.1.22-r3")],
    );
    let mut l2 = LayerResult::default();
    l2.whiteouts.push("lib/apk".into());
    let inv = merge(&[(lr("sha256:1"), l1), (lr("sha256:2"), l2)], &opts());
    assert!(inv.os_packages.is_empty());
}

#[test]
fn os_owned_files_are_not_reported_as_language_packages() {
    let mut l1 = LayerResult::default();
    let mut owner = pkg("python3-yaml", "6.0");
    owner.installed_files = vec!["usr/lib/python3/dist-packages/PyYAML-6.0.egg-info".into()];
    l1.pkg_dbs.insert("var/lib/dpkg/status".into(), vec![owner]);
    l1.apps.insert(
        "usr/lib/python3/dist-packages/PyYAML-6.0.egg-info".into(),
        AppFile {
            lang_type: "python-pkg".into(),
            packages: vec![pkg("PyYAML", "6.0")],
            ..Default::default()
        },
    );
    l1.apps.insert(
        "usr/local/lib/python3.11/dist-packages/requests-2.0.dist-info/METADATA".into(),
        AppFile {
            lang_type: "python-pkg".into(),
            packages: vec![pkg("requests", "2.0")],
            ..Default::default()
        },
    );
    let layers = [(lr("sha256:1"), l1)];
    let inv = merge(&layers, &opts());
    assert_eq!(inv.applications.len(), 1);
    assert_eq!(inv.applications[0].target, "Python");
    let names: Vec<_> = inv.applications[0]
        .packages
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, vec!["requests"]);
    let mut o = opts();
    o.include_os_owned = true;
    let inv = merge(&layers, &o);
    assert_eq!(inv.applications[0].packages.len(), 2);
}

#[test]
fn secrets_in_several_layers_are_reported_once_with_the_first_layer() {
    let finding = customs_secret::SecretScanner::builtin()
        .scan("app/.env", b"AWS_ACCESS_KEY_ID=AKIAZ7QWERTY4UIOPLKJ\n");
    assert_eq!(finding.len(), 1, "the scanner finds the planted key");
    let mk = |p: &str| FileSecret {
        path: p.to_string(),
        finding: finding[0].clone(),
        dropped: 0,
    };
    let mut l1 = LayerResult::default();
    l1.secrets.push(mk("app/.env"));
    let mut l2 = LayerResult::default();
    l2.secrets.push(mk("app/.env"));
    l2.whiteouts.push("app/.env".into());
    let inv = merge(&[(lr("sha256:1"), l1), (lr("sha256:2"), l2)], &opts());
    assert_eq!(inv.secrets.len(), 1);
    assert_eq!(inv.secrets[0].finding.layer.diff_id, "sha256:1");
}

#[test]
fn final_file_view_for_hardening() {
    let meta = |p: &str, mode: u32| FileMeta {
        path: p.into(),
        kind: EntryKind::File,
        mode,
        uid: 0,
        gid: 0,
        size: 1,
        link_target: None,
    };
    let mut l1 = LayerResult::default();
    l1.files.push(meta("usr/bin/passwd", 0o4755));
    l1.files.push(meta("usr/bin/su", 0o4755));
    let mut l2 = LayerResult::default();
    l2.whiteouts.push("usr/bin/su".into());
    l2.files.push(meta("usr/bin/passwd", 0o755));
    let mut o = opts();
    o.keep_files = true;
    let inv = merge(&[(lr("sha256:1"), l1), (lr("sha256:2"), l2)], &o);
    assert_eq!(inv.files.len(), 1);
    assert_eq!(inv.files[0].0.mode, 0o755);
    assert_eq!(inv.files[0].1, 1, "the upper layer");
}

fn shared(p: &str) -> String {
    format!("{}/../../../shared/data/{p}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn alpine_310_image_inventory_and_cache() {
    let img = Image::open(&shared("images/alpine-3.10.tar.gz")).expect("alpine image opens");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut o = opts();
    o.cache_dir = Some(tmp.path().to_path_buf());
    let inv = analyze_image(&img, &o).expect("analyzed");
    let os = inv.os.clone().expect("os detected");
    assert_eq!((os.family.as_str(), os.name.as_str()), ("alpine", "3.10.4"));
    assert!(os.eosl, "alpine 3.10 ended in 2021");
    assert_eq!(inv.os_packages.len(), 14);
    let diff = &img.layers[0].diff_id;
    assert!(inv.os_packages.iter().all(|p| &p.layer.diff_id == diff));
    let ssl = inv
        .os_packages
        .iter()
        .find(|p| p.name == "libcrypto1.1")
        .expect("libcrypto1.1");
    assert_eq!(ssl.src_name, "openssl");
    assert_eq!(ssl.version, "1.1.1d-r2");
    assert_eq!(inv.stats.analyzed, 1);
    // Second run: every layer from the cache, same answer.
    let again = analyze_image(&img, &o).expect("analyzed again");
    assert_eq!(again.stats.from_cache, 1);
    assert_eq!(again.stats.analyzed, 0);
    assert_eq!(again.os_packages, inv.os_packages);
}

#[test]
fn a_tree_analyzed_on_all_cores_equals_one_sequential_visit() {
    use customs_image::walk::walk_dir;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let put = |p: &str, body: &[u8]| {
        let full = root.join(p);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, body).expect("write");
    };
    put("etc/alpine-release", b"3.20.3\n");
    put(
        "lib/apk/db/installed",
        b"C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\n\nC:Q1def=\nP:zlib\nV:1.3.1-r1\nA:x86_64\nL:Zlib\no:zlib\n\n",
    );
    put(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
    );
    put(
        "srv/app/package-lock.json",
        br#"{"name":"app","lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/left-pad":{"version":"1.3.0"}}}"#,
    );
    // Assembled at run time so this file does not itself hold a token.
    let token = format!(
        "GITHUB_TOKEN={}{}\n",
        "ghp_", "N7vQ2kT9xLmB4wZr8YcP1sHd6FgJ3aUe5KoV"
    );
    for i in 0..120 {
        put(
            &format!("srv/app/src/m{i:03}.js"),
            format!("export const n = {i};\n").as_bytes(),
        );
        if i % 40 == 7 {
            put(&format!("srv/app/conf/c{i:03}.env"), token.as_bytes());
        }
    }
    std::os::unix::fs::symlink("/bin/busybox", root.join("srv/sh")).expect("symlink");
    let mut o = opts();
    o.lockfiles = true;
    o.keep_files = true;
    o.secrets = Some(customs_secret::SecretScanner::builtin());
    let an = o.analyzers(true);
    let mut seq = LayerResult::default();
    walk_dir(root, &mut |ev| seq.visit(&an, ev)).expect("walk");
    let expected = merge(&[(LayerRef::default(), seq.clone())], &o);
    let got = analyze_dir(root, &o, true).expect("analyze");
    assert_eq!(got.os_packages, expected.os_packages);
    assert_eq!(got.applications, expected.applications);
    assert_eq!(got.secrets, expected.secrets);
    assert_eq!(got.files, expected.files);
    assert_eq!(got.warnings, expected.warnings);
    assert_eq!(got.os_packages.len(), 2);
    assert_eq!(got.secrets.len(), 3, "{:?}", got.secrets);
    assert!(got.files.len() > 120);
}
