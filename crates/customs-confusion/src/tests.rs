//! Unit tests per check, on small fixtures in the upstream formats. Each
//! unsafe fixture has a fixed twin that must give no finding.

use super::*;

fn run_with(
    files: &[(&str, &str)],
    env: &[(&str, &str)],
    opts: &Options,
) -> Vec<(String, String, usize)> {
    let input = Input {
        files: files
            .iter()
            .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
            .collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let res = scan(&input, opts).expect("scan");
    let mut out = Vec::new();
    for r in res {
        for f in r.findings {
            assert_eq!(f.kind, KIND);
            assert_eq!(f.status, customs_model::finding::FAIL);
            assert!(f.id.starts_with("CS-DEP-"));
            assert!(!f.message.is_empty());
            let code = f.cause_metadata.code.as_ref().expect("code set");
            if f.cause_metadata.start_line > 0 {
                assert_eq!(
                    code.lines.first().map(|l| l.number),
                    Some(f.cause_metadata.start_line)
                );
            }
            out.push((r.path.clone(), f.id.clone(), f.cause_metadata.start_line));
        }
    }
    out
}

fn run(files: &[(&str, &str)]) -> Vec<(String, String, usize)> {
    run_with(files, &[], &Options::default())
}

fn ids(v: &[(String, String, usize)]) -> Vec<(&str, usize)> {
    v.iter().map(|(_, id, l)| (id.as_str(), *l)).collect()
}

const LOCK_PUBLIC_SCOPED: &str = r#"{
  "name": "app",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "app",
      "version": "1.0.0",
      "dependencies": {
        "@acme/lib": "^1.0.0",
        "left-pad": "^1.3.0"
      }
    },
    "node_modules/@acme/lib": {
      "version": "1.0.0",
      "resolved": "https://registry.npmjs.org/@acme/lib/-/lib-1.0.0.tgz",
      "integrity": "sha512-AAAA"
    },
    "node_modules/left-pad": {
      "version": "1.3.0",
      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
      "integrity": "sha512-BBBB"
    }
  }
}
"#;

#[test]
fn npm_scope_resolved_from_public_is_flagged() {
    let f = run(&[
        ("app/.npmrc", "@acme:registry=https://npm.acme.internal/\n//npm.acme.internal/:_authToken=${NPM_TOKEN}\n"),
        ("app/package-lock.json", LOCK_PUBLIC_SCOPED),
    ]);
    assert_eq!(ids(&f), vec![("CS-DEP-001", 15)]);
    let fixed = LOCK_PUBLIC_SCOPED.replace(
        "https://registry.npmjs.org/@acme",
        "https://npm.acme.internal/@acme",
    );
    assert!(run(&[
        ("app/.npmrc", "@acme:registry=https://npm.acme.internal/\n"),
        ("app/package-lock.json", &fixed),
    ])
    .is_empty());
}

#[test]
fn npm_private_scope_without_mapping_falls_back() {
    let lock = LOCK_PUBLIC_SCOPED.replace(
        "https://registry.npmjs.org/@acme",
        "https://npm.acme.internal/@acme",
    );
    assert_eq!(
        ids(&run(&[("app/package-lock.json", &lock)])),
        vec![("CS-DEP-005", 15)]
    );
    // A mapping in the user's .npmrc of the image covers it; so does Env.
    assert!(run(&[
        ("root/.npmrc", "@acme:registry=https://npm.acme.internal/\n"),
        ("app/package-lock.json", &lock)
    ])
    .is_empty());
    let input_env = [("npm_config_@acme:registry", "https://npm.acme.internal/")];
    assert!(run_with(
        &[("app/package-lock.json", &lock)],
        &input_env,
        &Options::default()
    )
    .is_empty());
    // A mapping in a parent directory applies too.
    assert!(run(&[
        (".npmrc", "@acme:registry=https://npm.acme.internal\n"),
        ("app/package-lock.json", &lock)
    ])
    .is_empty());
}

#[test]
fn npm_unscoped_private_and_split_scope_and_integrity() {
    let lock = r#"{
  "lockfileVersion": 3,
  "packages": {
    "": {"name": "app"},
    "node_modules/@acme/a": {
      "version": "1.0.0",
      "resolved": "https://npm.acme.internal/@acme/a/-/a-1.0.0.tgz",
      "integrity": "sha512-A"
    },
    "node_modules/@acme/b": {
      "version": "1.0.0",
      "resolved": "https://registry.npmjs.org/@acme/b/-/b-1.0.0.tgz",
      "integrity": "sha512-B"
    },
    "node_modules/@acme/c": {
      "version": "1.0.0",
      "resolved": "https://npm.acme.internal/@acme/c/-/c-1.0.0.tgz",
      "integrity": "sha512-C"
    },
    "node_modules/acme-utils": {
      "version": "2.0.0",
      "resolved": "https://npm.acme.internal/acme-utils/-/acme-utils-2.0.0.tgz"
    },
    "node_modules/linked": {"resolved": "../linked", "link": true}
  }
}
"#;
    let f = run(&[
        ("app/.npmrc", "@acme:registry=https://npm.acme.internal/\n"),
        ("app/package-lock.json", lock),
    ]);
    assert_eq!(
        ids(&f),
        vec![
            ("CS-DEP-001", 10),
            ("CS-DEP-003", 10),
            ("CS-DEP-002", 20),
            ("CS-DEP-004", 20)
        ]
    );
}

#[test]
fn npm_lockfile_v1_and_yarn_v1() {
    let v1 = r#"{
  "name": "app",
  "lockfileVersion": 1,
  "dependencies": {
    "@acme/lib": {
      "version": "1.0.0",
      "resolved": "https://registry.yarnpkg.com/@acme/lib/-/lib-1.0.0.tgz",
      "integrity": "sha512-A"
    }
  }
}
"#;
    let npmrc = ("app/.npmrc", "@acme:registry=https://npm.acme.internal/\n");
    assert_eq!(
        ids(&run(&[npmrc, ("app/package-lock.json", v1)])),
        vec![("CS-DEP-001", 5)]
    );
    let yarn = "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n\"@acme/lib@^1.0.0\":\n  version \"1.0.0\"\n  resolved \"https://registry.yarnpkg.com/@acme/lib/-/lib-1.0.0.tgz#0123456789abcdef0123456789abcdef01234567\"\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n  resolved \"https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz\"\n";
    let f = run(&[
        (
            "app/.yarnrc",
            "\"@acme:registry\" \"https://npm.acme.internal/\"\n",
        ),
        ("app/yarn.lock", yarn),
    ]);
    assert_eq!(ids(&f), vec![("CS-DEP-001", 5), ("CS-DEP-004", 9)]);
}

#[test]
fn yarn_berry_pnpm_and_bun() {
    let yarnrc = "npmScopes:\n  acme:\n    npmRegistryServer: \"https://npm.acme.internal\"\n    npmAlwaysAuth: true\n";
    let berry = "__metadata:\n  version: 8\n  cacheKey: 10c0\n\n\"@acme/lib@npm:^1.0.0\":\n  version: 1.0.0\n  resolution: \"@acme/lib@npm:1.0.0\"\n  checksum: 10c0/abc\n  languageName: node\n  linkType: hard\n";
    assert!(run(&[("app/.yarnrc.yml", yarnrc), ("app/yarn.lock", berry)]).is_empty());

    let pnpm = "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      '@acme/lib':\n        specifier: ^1.0.0\n        version: 1.0.0\n\npackages:\n\n  '@acme/lib@1.0.0':\n    resolution: {integrity: sha512-AAA, tarball: https://registry.npmjs.org/@acme/lib/-/lib-1.0.0.tgz}\n\n  left-pad@1.3.0:\n    resolution: {integrity: sha512-BBB}\n";
    let npmrc = ("app/.npmrc", "@acme:registry=https://npm.acme.internal/\n");
    assert_eq!(
        ids(&run(&[npmrc, ("app/pnpm-lock.yaml", pnpm)])),
        vec![("CS-DEP-001", 13)]
    );
    let fixed = pnpm.replace(
        "https://registry.npmjs.org/@acme",
        "https://npm.acme.internal/@acme",
    );
    assert!(run(&[npmrc, ("app/pnpm-lock.yaml", &fixed)]).is_empty());

    let bun = "{\n  \"lockfileVersion\": 1,\n  \"workspaces\": {\n    \"\": {\n      \"name\": \"app\",\n    },\n  },\n  \"packages\": {\n    \"@acme/lib\": [\"@acme/lib@1.0.0\", \"https://registry.npmjs.org/@acme/lib/-/lib-1.0.0.tgz\", {}, \"sha512-A\"],\n    \"left-pad\": [\"left-pad@1.3.0\", \"\", {}, \"sha512-B\"],\n  }\n}\n";
    assert_eq!(
        ids(&run(&[npmrc, ("app/bun.lock", bun)])),
        vec![("CS-DEP-001", 9)]
    );
}

#[test]
fn pip_requirements_conf_dockerfile_and_env() {
    let req = "# deps\n--index-url https://pypi.org/simple\n--extra-index-url https://bob:secret@pypi.acme.internal/simple\nacme-tools==1.0\n";
    let f = run(&[("srv/requirements-dev.txt", req)]);
    assert_eq!(ids(&f), vec![("CS-DEP-010", 3)]);
    assert!(run(&[(
        "srv/requirements.txt",
        "--index-url https://pypi.acme.internal/simple\nacme-tools==1.0\n"
    )])
    .is_empty());

    let conf = "[global]\nindex-url = https://pypi.org/simple\nextra-index-url =\n    https://pypi.acme.internal/simple\n    https://other.internal/simple\ntimeout = 60\n";
    let f = run(&[("etc/pip.conf", conf)]);
    assert_eq!(ids(&f), vec![("CS-DEP-011", 3)]);
    assert!(run(&[(
        "etc/pip.conf",
        "[global]\nindex-url = https://pypi.acme.internal/simple\n"
    )])
    .is_empty());

    let df = "FROM python:3.12-slim\nENV PIP_EXTRA_INDEX_URL=https://pypi.acme.internal/simple\nRUN pip install --no-cache-dir \\\n    --extra-index-url https://pypi.acme.internal/simple acme-tools\nRUN uv pip install --index-strategy unsafe-best-match acme\n";
    let f = run(&[("Dockerfile", df)]);
    assert_eq!(
        ids(&f),
        vec![("CS-DEP-011", 2), ("CS-DEP-011", 3), ("CS-DEP-013", 5)]
    );

    let env = [
        ("PIP_EXTRA_INDEX_URL", "https://pypi.acme.internal/simple"),
        ("PATH", "/usr/bin"),
    ];
    let res = run_with(&[], &env, &Options::default());
    assert_eq!(res, vec![(String::new(), "CS-DEP-011".into(), 0)]);
}

#[test]
fn secrets_are_masked_in_quoted_code_and_messages() {
    let req = "--extra-index-url https://bob:hunter2@pypi.acme.internal/simple\n";
    let input = Input {
        files: vec![("requirements.txt".into(), req.as_bytes().to_vec())],
        env: vec![],
    };
    let res = scan(&input, &Options::default()).expect("scan");
    let json = serde_json::to_string(&res[0].findings).expect("json");
    assert!(!json.contains("hunter2"), "{json}");
    assert!(json.contains("****@pypi.acme.internal"));
}

#[test]
fn uv_and_poetry_sources() {
    let unsafe_uv = "[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"acme-tools\"]\n\n[[tool.uv.index]]\nname = \"acme\"\nurl = \"https://pypi.acme.internal/simple\"\n\n[tool.uv]\nindex-strategy = \"unsafe-best-match\"\n";
    assert_eq!(
        ids(&run(&[("pyproject.toml", unsafe_uv)])),
        vec![("CS-DEP-012", 6), ("CS-DEP-013", 11)]
    );
    let fixed_uv = "[project]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"acme-tools\"]\n\n[[tool.uv.index]]\nname = \"acme\"\nurl = \"https://pypi.acme.internal/simple\"\nexplicit = true\n\n[tool.uv.sources]\nacme-tools = { index = \"acme\" }\n";
    assert!(run(&[("pyproject.toml", fixed_uv)]).is_empty());
    assert_eq!(
        ids(&run(&[(
            "uv.toml",
            "[[index]]\nname = \"acme\"\nurl = \"https://pypi.acme.internal/simple\"\n"
        )])),
        vec![("CS-DEP-012", 1)]
    );

    let poetry = "[tool.poetry]\nname = \"app\"\n\n[[tool.poetry.source]]\nname = \"acme\"\nurl = \"https://pypi.acme.internal/simple\"\npriority = \"supplemental\"\n\n[[tool.poetry.source]]\nname = \"acme2\"\nurl = \"https://pypi2.acme.internal/simple\"\npriority = \"primary\"\n\n[[tool.poetry.source]]\nname = \"acme3\"\nurl = \"https://pypi3.acme.internal/simple\"\npriority = \"explicit\"\n";
    assert_eq!(
        ids(&run(&[("pyproject.toml", poetry)])),
        vec![("CS-DEP-015", 4), ("CS-DEP-014", 9)]
    );
}

#[test]
fn pipenv_sources() {
    let pipfile = "[[source]]\nurl = \"https://pypi.org/simple\"\nverify_ssl = true\nname = \"pypi\"\n\n[[source]]\nurl = \"https://pypi.acme.internal/simple\"\nverify_ssl = true\nname = \"acme\"\n\n[packages]\nrequests = \"*\"\nacme-tools = \"*\"\n\n[pipenv]\ninstall_search_all_sources = true\n";
    let lock = r#"{
    "_meta": {"sources": [{"name": "pypi", "url": "https://pypi.org/simple"}, {"name": "acme", "url": "https://pypi.acme.internal/simple"}]},
    "default": {
        "acme-tools": {"index": "acme", "version": "==1.0.0"},
        "requests": {"index": "pypi", "version": "==2.32.0"}
    },
    "develop": {}
}"#;
    let f = run(&[("Pipfile", pipfile), ("Pipfile.lock", lock)]);
    assert_eq!(ids(&f), vec![("CS-DEP-016", 13), ("CS-DEP-017", 16)]);
    let fixed = pipfile
        .replace(
            "acme-tools = \"*\"",
            "acme-tools = { version = \"*\", index = \"acme\" }",
        )
        .replace("install_search_all_sources = true", "");
    assert!(run(&[("Pipfile", &fixed), ("Pipfile.lock", lock)]).is_empty());
}

#[test]
fn maven_and_gradle() {
    let pom = "<?xml version=\"1.0\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\n  <modelVersion>4.0.0</modelVersion>\n  <repositories>\n    <repository>\n      <id>acme</id>\n      <url>https://maven.acme.internal/releases</url>\n    </repository>\n  </repositories>\n  <distributionManagement>\n    <repository><id>d</id><url>https://maven.acme.internal/deploy</url></repository>\n  </distributionManagement>\n</project>\n";
    assert_eq!(ids(&run(&[("pom.xml", pom)])), vec![("CS-DEP-020", 5)]);
    let settings = "<settings>\n  <mirrors>\n    <mirror>\n      <id>acme</id>\n      <mirrorOf>*</mirrorOf>\n      <url>https://maven.acme.internal/all</url>\n    </mirror>\n  </mirrors>\n</settings>\n";
    assert!(run(&[("pom.xml", pom), ("root/.m2/settings.xml", settings)]).is_empty());

    let gradle = "plugins { id 'java' }\n\nrepositories {\n    mavenCentral()\n    maven {\n        url 'https://maven.acme.internal/releases'\n    }\n}\n";
    assert_eq!(
        ids(&run(&[("build.gradle", gradle)])),
        vec![("CS-DEP-021", 5)]
    );
    let fixed = "repositories {\n    mavenCentral()\n    exclusiveContent {\n        forRepository {\n            maven { url = uri(\"https://maven.acme.internal/releases\") }\n        }\n        filter { includeGroup(\"com.acme\") }\n    }\n    maven {\n        url = uri(\"https://maven.acme.internal/other\")\n        content { includeGroup(\"com.acme.other\") }\n    }\n}\n";
    assert!(run(&[("build.gradle.kts", fixed)]).is_empty());
}

#[test]
fn go_private_modules() {
    let gomod = "module example.com/app\n\ngo 1.22\n\nrequire (\n\tgithub.com/acme/internal v1.2.0\n\tgolang.org/x/text v0.14.0\n)\n\nrequire git.acme.internal/lib v0.1.0 // indirect\n";
    let df = "FROM golang:1.22\nENV GOPRIVATE=github.com/acme,git.acme.internal\nENV GONOPROXY=none GONOSUMDB=git.acme.internal\n";
    let f = run(&[("go.mod", gomod), ("Dockerfile", df)]);
    assert_eq!(
        ids(&f),
        vec![("CS-DEP-030", 6), ("CS-DEP-031", 6), ("CS-DEP-030", 10)]
    );
    let fixed = "FROM golang:1.22\nENV GOPRIVATE=github.com/acme,git.acme.internal\n";
    assert!(run(&[("go.mod", gomod), ("Dockerfile", fixed)]).is_empty());
    // `go env -w` file with GONOPROXY only: fetched direct, sums asked.
    let f = run(&[
        ("go.mod", gomod),
        ("root/.config/go/env", "GONOPROXY=github.com/acme\n"),
    ]);
    assert_eq!(ids(&f), vec![("CS-DEP-031", 6)]);
    // The image Env wins over the Dockerfile.
    let env = [
        ("GONOPROXY", "github.com/acme,git.acme.internal"),
        ("GONOSUMDB", "github.com/acme,git.acme.internal"),
    ];
    assert!(run_with(
        &[("go.mod", gomod), ("Dockerfile", df)],
        &env,
        &Options::default()
    )
    .is_empty());
}

#[test]
fn cargo_bundler_hex() {
    let cargo = "# This file is automatically @generated by Cargo.\nversion = 4\n\n[[package]]\nname = \"acme-core\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"00\"\n\n[[package]]\nname = \"acme-core\"\nversion = \"2.0.0\"\nsource = \"sparse+https://cargo.acme.internal/index/\"\nchecksum = \"11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n";
    assert_eq!(
        ids(&run(&[("Cargo.lock", cargo)])),
        vec![("CS-DEP-040", 10)]
    );
    let fixed = cargo.replace(
        "name = \"acme-core\"\nversion = \"1.0.0\"",
        "name = \"serde\"\nversion = \"1.0.0\"",
    );
    assert!(run(&[("Cargo.lock", &fixed)]).is_empty());

    let gemfile = "source \"https://rubygems.org\"\nsource \"https://gems.acme.internal\"\n\ngem \"rails\"\ngem \"acme-auth\"\n";
    assert_eq!(ids(&run(&[("Gemfile", gemfile)])), vec![("CS-DEP-050", 2)]);
    let fixed = "source \"https://rubygems.org\"\n\nsource \"https://gems.acme.internal\" do\n  gem \"acme-auth\"\nend\ngem \"rails\"\n";
    assert!(run(&[("Gemfile", fixed)]).is_empty());
    let lock = "GEM\n  remote: https://rubygems.org/\n  remote: https://gems.acme.internal/\n  specs:\n    acme-auth (1.0.0)\n    rails (7.1.0)\n\nPLATFORMS\n  ruby\n";
    assert_eq!(
        ids(&run(&[("Gemfile.lock", lock)])),
        vec![("CS-DEP-050", 1)]
    );

    let mix = "%{\n  \"acme_auth\": {:hex, :acme_auth, \"1.0.0\", \"abc\", [:mix], [{:jason, \"~> 1.0\", [hex: :jason, repo: \"hexpm\", optional: false]}], \"hexpm:acme\", \"def\"},\n  \"app_web\": {:hex, :app_web, \"0.1.0\", \"abc\", [:mix], [{:acme_auth, \"~> 1.0\", [hex: :acme_auth, repo: \"hexpm\", optional: false]}], \"hexpm\", \"def\"},\n  \"jason\": {:hex, :jason, \"1.4.1\", \"abc\", [:mix], [], \"hexpm\", \"def\"},\n}\n";
    assert_eq!(ids(&run(&[("mix.lock", mix)])), vec![("CS-DEP-060", 2)]);
    let fixed = mix.replace(
        "[hex: :acme_auth, repo: \"hexpm\"",
        "[hex: :acme_auth, repo: \"hexpm:acme\"",
    );
    assert!(run(&[("mix.lock", &fixed)]).is_empty());
}

#[test]
fn wanted_paths() {
    for p in [
        "app/.npmrc",
        "root/.config/pip/pip.conf",
        "etc/pip.conf",
        "srv/requirements-dev.txt",
        "app/package-lock.json",
        "pyproject.toml",
        "uv.lock",
        "poetry.lock",
        "Pipfile",
        "Pipfile.lock",
        "pom.xml",
        ".m2/settings.xml",
        "root/.m2/settings.xml",
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle.kts",
        "go.mod",
        "usr/local/go/go.env",
        "root/.config/go/env",
        "Cargo.lock",
        ".cargo/config.toml",
        "Gemfile",
        "Gemfile.lock",
        "mix.lock",
        "yarn.lock",
        ".yarnrc.yml",
        "pnpm-lock.yaml",
        "bun.lock",
        "Dockerfile",
        "build/app.Dockerfile",
        "etc/npmrc",
    ] {
        assert!(wanted(p), "{p}");
    }
    for p in [
        "app/node_modules/x/package-lock.json",
        "node_modules/.npmrc",
        "usr/lib/python3/site-packages/x/requirements.txt",
        "vendor/bundle/ruby/3.2.0/gems/x/Gemfile",
        "root/go/pkg/mod/github.com/x/y@v1/go.mod",
        "root/.cargo/registry/src/x/Cargo.lock",
        "app/package.json",
        "app/settings.xml",
        "README.md",
        "requirements",
        "env",
    ] {
        assert!(!wanted(p), "{p}");
    }
}

#[test]
fn malformed_files_give_no_findings() {
    for (p, c) in [
        ("package-lock.json", "{not json"),
        ("bun.lock", "{"),
        ("pyproject.toml", "[[tool.uv.index]\nurl="),
        ("uv.lock", "[[package]"),
        ("Pipfile", "[[source]"),
        ("Pipfile.lock", "nope"),
        ("pom.xml", "<project><repositories>"),
        ("Cargo.lock", "[[package]]\nname = "),
    ] {
        let res = scan(
            &Input {
                files: vec![(p.into(), c.as_bytes().to_vec())],
                env: vec![],
            },
            &Options::default(),
        )
        .expect("scan");
        assert_eq!(res.len(), 1);
        assert!(res[0].findings.is_empty(), "{p}");
    }
}

#[test]
fn registry_lists_every_check_once_and_docs_match() {
    let mut seen = std::collections::BTreeSet::new();
    for c in checks() {
        assert!(seen.insert(c.id), "duplicate {}", c.id);
        assert!(!c.title.is_empty() && !c.description.is_empty() && !c.resolution.is_empty());
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/");
    let page = std::fs::read_to_string(format!("{root}dependency-confusion.md"))
        .expect("docs/dependency-confusion.md");
    let section = checks_markdown();
    for c in checks() {
        assert!(section.contains(&format!("{} — {}", c.id, c.title)));
        assert!(
            page.contains(&format!("{} — {}", c.id, c.title)),
            "docs/dependency-confusion.md lacks {} — {}",
            c.id,
            c.title
        );
    }
    // Once docs/checks.md carries the section, it must be the current one.
    let checks_md = std::fs::read_to_string(format!("{root}checks.md")).unwrap_or_default();
    if let Some(i) = checks_md.find("## Dependency confusion") {
        let have = &checks_md[i..];
        let have = have[3..]
            .find("\n## ")
            .map(|j| &have[..j + 4])
            .unwrap_or(have);
        assert_eq!(
            have, section,
            "the confusion section of docs/checks.md is out of date"
        );
    }
}

#[test]
fn results_are_sorted_and_deterministic() {
    let files = [
        ("b/requirements.txt", "--extra-index-url https://x.internal/simple\n"),
        ("a/requirements.txt", "--extra-index-url https://y.internal/simple\n--extra-index-url https://x.internal/simple\n"),
    ];
    let one = run(&files);
    let mut rev = files;
    rev.reverse();
    assert_eq!(one, run(&rev));
    assert_eq!(one[0].0, "a/requirements.txt");
}

#[test]
fn registry_answers_give_versions_and_publishers() {
    use crate::public::{parse_answer, Eco};
    let npm = serde_json::json!({
        "name": "acme-internal",
        "dist-tags": {"latest": "9.9.9"},
        "maintainers": [{"name": "mallory", "email": "m@example.com"}],
        "versions": {"1.0.0": {"_npmUser": {"name": "mallory"}}, "9.9.9": {}}
    });
    assert_eq!(
        parse_answer(Eco::Npm, &npm),
        (vec!["1.0.0".into(), "9.9.9".into()], vec!["mallory".into()])
    );
    let pypi = serde_json::json!({"info": {"version": "2.0", "author": "Eve"}, "releases": {"1.0": [], "2.0": []}});
    assert_eq!(
        parse_answer(Eco::PyPI, &pypi),
        (vec!["1.0".into(), "2.0".into()], vec!["Eve".into()])
    );
    let crates = serde_json::json!({"crate": {"max_version": "0.2.0"}, "versions": [{"num": "0.2.0", "published_by": {"login": "eve"}}, {"num": "0.1.0"}]});
    assert_eq!(
        parse_answer(Eco::Crates, &crates),
        (vec!["0.1.0".into(), "0.2.0".into()], vec!["eve".into()])
    );
    let gems = serde_json::json!([{"number": "1.1.0", "authors": "Eve"}, {"number": "1.0.0", "authors": "Eve"}]);
    assert_eq!(
        parse_answer(Eco::RubyGems, &gems),
        (vec!["1.0.0".into(), "1.1.0".into()], vec!["Eve".into()])
    );
    let hex =
        serde_json::json!({"releases": [{"version": "0.3.0"}], "meta": {"maintainers": ["eve"]}});
    assert_eq!(
        parse_answer(Eco::Hex, &hex),
        (vec!["0.3.0".into()], vec!["eve".into()])
    );
}

#[test]
fn uv_extra_index_url_and_lock_private_packages() {
    let py = "[tool.uv]\nextra-index-url = [\"https://pypi.acme.internal/simple\"]\n";
    assert_eq!(
        ids(&run(&[("pyproject.toml", py)])),
        vec![("CS-DEP-012", 2)]
    );
    // uv.lock and poetry.lock feed the name check only: no offline finding.
    let uv = "version = 1\n\n[[package]]\nname = \"acme-tools\"\nversion = \"1.0.0\"\nsource = { registry = \"https://pypi.acme.internal/simple\" }\n";
    let poetry = "[[package]]\nname = \"acme-tools\"\nversion = \"1.0.0\"\n\n[package.source]\ntype = \"legacy\"\nurl = \"https://pypi.acme.internal/simple\"\nreference = \"acme\"\n";
    assert!(run(&[("uv.lock", uv), ("poetry.lock", poetry)]).is_empty());
    let ctx_input = Input {
        files: vec![
            ("uv.lock".into(), uv.as_bytes().to_vec()),
            ("poetry.lock".into(), poetry.as_bytes().to_vec()),
        ],
        env: vec![],
    };
    let opts = Options::default();
    let ctx = Context::new(&ctx_input, &opts);
    let mut names = Vec::new();
    for f in &ctx.files {
        let (_, p) = python::scan(&ctx, f);
        names.extend(p.into_iter().map(|p| (p.path, p.name, p.version, p.line)));
    }
    assert_eq!(
        names,
        vec![
            ("poetry.lock".into(), "acme-tools".into(), "1.0.0".into(), 1),
            ("uv.lock".into(), "acme-tools".into(), "1.0.0".into(), 3),
        ]
    );
}

#[test]
fn a_finding_carries_the_check_the_lines_and_the_fix() {
    let req = "requests==2.32.0\n--extra-index-url https://pypi.acme.internal/simple\n";
    let input = Input {
        files: vec![("srv/requirements.txt".into(), req.as_bytes().to_vec())],
        env: vec![],
    };
    let res = scan(&input, &Options::default()).expect("scan");
    assert_eq!(res.len(), 1);
    assert_eq!(
        (res[0].path.as_str(), res[0].kind.as_str()),
        ("srv/requirements.txt", "pip")
    );
    let f = &res[0].findings[0];
    assert_eq!(f.id, "CS-DEP-010");
    assert_eq!(f.severity, customs_model::Severity::High);
    assert_eq!(f.title, "--extra-index-url in a requirements file");
    assert!(f.resolution.contains("--index-url"));
    assert!(f.description.contains("highest version"));
    assert_eq!(
        f.primary_url,
        "https://pip.pypa.io/en/stable/cli/pip_install/#finding-packages"
    );
    assert_eq!(
        (f.cause_metadata.start_line, f.cause_metadata.end_line),
        (2, 2)
    );
    let lines = &f.cause_metadata.code.as_ref().expect("code").lines;
    assert_eq!(lines.len(), 1);
    assert_eq!(
        lines[0].content,
        "--extra-index-url https://pypi.acme.internal/simple"
    );
    assert!(lines[0].is_cause && lines[0].first_cause && lines[0].last_cause);
    let json = serde_json::to_value(f).expect("json");
    assert_eq!(json["Type"], "dependency-confusion");
    assert_eq!(json["Status"], "FAIL");
}

#[test]
fn the_sample_paths_are_wanted_and_cover_every_kind() {
    let kinds: std::collections::BTreeSet<&str> = SAMPLE_PATHS
        .iter()
        .map(|p| {
            assert!(wanted(p), "{p}");
            file_kind(p).unwrap_or_default()
        })
        .collect();
    for k in [
        "npm",
        "yarn",
        "pnpm",
        "bun",
        "pip",
        "pyproject",
        "uv",
        "poetry",
        "pipenv",
        "maven",
        "gradle",
        "gomod",
        "go-env",
        "cargo",
        "cargo-config",
        "bundler",
        "hex",
        "dockerfile",
    ] {
        assert!(kinds.contains(k), "no sample of {k}");
    }
}
