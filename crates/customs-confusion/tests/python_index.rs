//! pip and uv against two real pypiserver indexes on 127.0.0.1: one
//! private, one standing in for PyPI (given as the public PyPI URL, as
//! `--confusion-check-public` would). `acme-tools` is 1.0.0 on the private
//! index and 9.9.9 on the "public" one: the tests first show that pip (and
//! uv with a merging strategy) really installs the public one, then that
//! the scanner flags those configurations and not the fixed ones.

mod support;

use customs_confusion::{scan, Input};
use std::path::Path;
use support::*;

fn input(root: &Path, rels: &[&str]) -> Input {
    Input {
        files: rels
            .iter()
            .map(|r| (r.to_string(), std::fs::read(root.join(r)).expect("file")))
            .collect(),
        env: Vec::new(),
    }
}

fn downloaded(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `pip download --no-deps -r requirements.txt -d out`, run in `dir`.
fn pip_download(services: &Path, dir: &Path, out: &Path) {
    venv_cmd(
        services,
        "pip",
        dir,
        &[
            "download",
            "--no-deps",
            "-r",
            "requirements.txt",
            "-d",
            out.to_str().expect("utf-8"),
        ],
        &[],
    );
}

#[test]
fn pip_and_uv_against_real_indexes() {
    let Some(services) = services() else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let work = tmp.path();
    let private = pypiserver(&services, &work.join("private"));
    let public = pypiserver(&services, &work.join("public"));
    wheel(&services, &work.join("private"), "acme-tools", "1.0.0");
    wheel(&services, &work.join("private"), "acme-secret", "1.0.0");
    wheel(&services, &work.join("public"), "acme-tools", "9.9.9");
    wheel(&services, &work.join("public"), "requests-lite", "2.0.0");
    let priv_simple = format!("{}simple", private.url);
    let pub_simple = format!("{}simple", public.url);
    let tree = work.join("tree");
    let offline = public_opts("", &public.url, &work.join("cache"), true);

    // 1. requirements.txt with --extra-index-url: pip takes 9.9.9 from the
    //    "public" index. CS-DEP-010 on the option's line.
    let req = format!("--index-url {pub_simple}\n--extra-index-url {priv_simple}\nacme-tools\n");
    write(&tree.join("srv/requirements.txt"), &req);
    let out = work.join("dl-unsafe");
    pip_download(&services, &tree.join("srv"), &out);
    assert_eq!(
        downloaded(&out),
        vec!["acme_tools-9.9.9-py3-none-any.whl"],
        "pip merged the indexes"
    );
    let res = scan(&input(&tree, &["srv/requirements.txt"]), &offline).expect("scan");
    assert_eq!(
        found(&res),
        vec![("srv/requirements.txt".into(), "CS-DEP-010".into(), 2)]
    );

    // Fixed: one index that has the private package. pip takes 1.0.0.
    let fixed = format!("--index-url {priv_simple}\nacme-tools\n");
    write(&tree.join("fixed/requirements.txt"), &fixed);
    let out = work.join("dl-fixed");
    pip_download(&services, &tree.join("fixed"), &out);
    assert_eq!(downloaded(&out), vec!["acme_tools-1.0.0-py3-none-any.whl"]);
    let res = scan(&input(&tree, &["fixed/requirements.txt"]), &offline).expect("scan");
    assert_eq!(found(&res), vec![]);

    // 2. pip.conf and PIP_EXTRA_INDEX_URL (Dockerfile, image Env): pip
    //    merges them the same way.
    let conf = format!("[global]\nindex-url = {pub_simple}\nextra-index-url = {priv_simple}\n");
    write(&tree.join("etc/pip.conf"), &conf);
    let out = work.join("dl-conf");
    let conf_path = tree.join("etc/pip.conf");
    venv_cmd(
        &services,
        "pip",
        &tree,
        &[
            "download",
            "--no-deps",
            "acme-tools",
            "-d",
            out.to_str().expect("utf-8"),
        ],
        &[("PIP_CONFIG_FILE", conf_path.to_str().expect("utf-8"))],
    );
    assert_eq!(downloaded(&out), vec!["acme_tools-9.9.9-py3-none-any.whl"]);
    write(
        &tree.join("Dockerfile"),
        &format!("FROM python:3.12-slim\nENV PIP_INDEX_URL={pub_simple} \\\n    PIP_EXTRA_INDEX_URL={priv_simple}\nRUN pip install acme-tools\n"),
    );
    let mut inp = input(&tree, &["etc/pip.conf", "Dockerfile"]);
    inp.env = vec![("PIP_EXTRA_INDEX_URL".into(), priv_simple.clone())];
    let res = scan(&inp, &offline).expect("scan");
    assert_eq!(
        found(&res),
        vec![
            (String::new(), "CS-DEP-011".into(), 0),
            ("Dockerfile".into(), "CS-DEP-011".into(), 2),
            ("etc/pip.conf".into(), "CS-DEP-011".into(), 3),
        ]
    );

    // 3. uv, private index not explicit, merging strategy: `uv lock` takes
    //    9.9.9 from the "public" default index.
    let app = tree.join("uv-unsafe");
    let pyproject = format!(
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\ndependencies = [\"acme-tools\", \"acme-secret\"]\n\n[[tool.uv.index]]\nname = \"acme\"\nurl = \"{priv_simple}\"\n\n[tool.uv]\nindex-strategy = \"unsafe-best-match\"\n"
    );
    write(&app.join("pyproject.toml"), &pyproject);
    let python = services.join("venv/bin/python");
    let py = python.to_str().expect("utf-8");
    venv_cmd(
        &services,
        "uv",
        &app,
        &["lock", "--python", py],
        &[("UV_DEFAULT_INDEX", &pub_simple)],
    );
    let lock = std::fs::read_to_string(app.join("uv.lock")).expect("uv.lock");
    assert!(
        lock.contains("acme_tools-9.9.9"),
        "uv merged the indexes:\n{lock}"
    );
    let res = scan(
        &input(&tree, &["uv-unsafe/pyproject.toml", "uv-unsafe/uv.lock"]),
        &offline,
    )
    .expect("scan");
    assert_eq!(
        found(&res),
        vec![
            ("uv-unsafe/pyproject.toml".into(), "CS-DEP-012".into(), 7),
            ("uv-unsafe/pyproject.toml".into(), "CS-DEP-013".into(), 12),
        ]
    );

    // Fixed: explicit index, packages pinned to it. uv takes 1.0.0 from the
    // private index; no finding.
    let app = tree.join("uv-fixed");
    let pyproject = format!(
        "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.8\"\ndependencies = [\"acme-tools\", \"acme-secret\", \"requests-lite\"]\n\n[[tool.uv.index]]\nname = \"acme\"\nurl = \"{priv_simple}\"\nexplicit = true\n\n[tool.uv.sources]\nacme-tools = {{ index = \"acme\" }}\nacme-secret = {{ index = \"acme\" }}\n"
    );
    write(&app.join("pyproject.toml"), &pyproject);
    venv_cmd(
        &services,
        "uv",
        &app,
        &["lock", "--python", py],
        &[("UV_DEFAULT_INDEX", &pub_simple)],
    );
    let lock = std::fs::read_to_string(app.join("uv.lock")).expect("uv.lock");
    assert!(lock.contains("acme_tools-1.0.0"), "{lock}");
    assert!(lock.contains("requests_lite-2.0.0"), "{lock}");
    let files = ["uv-fixed/pyproject.toml", "uv-fixed/uv.lock"];
    let res = scan(&input(&tree, &files), &offline).expect("scan");
    assert_eq!(found(&res), vec![]);

    // 4. The name check on the fixed project, through a counting forwarder
    //    standing in for PyPI's JSON API: acme-secret does not exist there
    //    (claimable, HIGH); acme-tools does, at 9.9.9 > 1.0.0 (CRITICAL).
    //    requests-lite comes from the public index and is not asked about.
    let counter = counting_proxy(public.port);
    let cache = work.join("cache-online");
    let online = public_opts("", &counter.url, &cache, false);
    // The forwarder's URL is the public index for the checks; the lock
    // names the server itself, which must count as public as well.
    let lock_public = lock.replace(&public.url, &format!("{}/", counter.url));
    write(&tree.join("uv-fixed/uv.lock"), &lock_public);
    let res = scan(&input(&tree, &files), &online).expect("scan");
    let secret_line = line_of(&lock_public, "name = \"acme-secret\"") - 1;
    let tools_line = line_of(&lock_public, "name = \"acme-tools\"") - 1;
    assert_eq!(
        found(&res),
        vec![
            ("uv-fixed/uv.lock".into(), "CS-DEP-090".into(), secret_line),
            ("uv-fixed/uv.lock".into(), "CS-DEP-091".into(), tools_line),
        ]
    );
    let cold = counter.connections();
    assert!(cold >= 1);
    let again = scan(&input(&tree, &files), &online).expect("scan");
    assert_eq!(found(&again), found(&res));
    assert_eq!(
        counter.connections(),
        cold,
        "a warm cache issues no request"
    );
}
