//! End-to-end: secrets planted in a multi-layer image and in its config,
//! misconfiguration checks of real images' configs, and the hardening
//! scanner on the final filesystem of real Debian images.

mod common;
use common::*;
use predicates::prelude::*;
use std::path::Path;

fn layer(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    customs_testkit::layer_with_modes(entries)
}

/// A `docker save` archive of these layers, with real diff IDs, and this
/// config `Env` and history.
fn image(dir: &Path, layers: &[Vec<u8>], env: &[&str], history: &[&str]) -> (String, Vec<String>) {
    let w = customs_testkit::DockerImage::new(layers)
        .config("created", "2026-11-20T10:00:00Z".into())
        .config(
            "config",
            serde_json::json!({"Env": env, "User": "1000:1000", "Cmd": ["/app/run"]}),
        )
        .history(history)
        .tags(&["planted:1"])
        .write_tar(&dir.join("planted.tar"));
    (w.path.display().to_string(), w.diff_ids)
}

// Token formats as the providers document them; the values are random and
// belong to no account.
const AWS_ID: &str = "AKIAZ7QK3LMN4PX2RT6W";
const AWS_SECRET: &str = "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";
const GH_PAT: &str = "ghp_R7mK2pX9qL4vT8nW3zB6cJ1hF5dS0gA2yE4u";

#[test]
fn planted_secrets_are_found_once_in_their_first_layer_and_masked() {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let creds =
        format!("[default]\naws_access_key_id = {AWS_ID}\naws_secret_access_key = {AWS_SECRET}\n");
    let key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDh9oSJ6CyTFkl0Nh8QdBQxz3cq2XaNdcGNbZYlfiOoKAAAAJAXzl0WF85d\n-----END OPENSSH PRIVATE KEY-----\n";
    let elf = [b"\x7fELF\x02\x01\x01\0".as_slice(), AWS_ID.as_bytes()].concat();
    // Layer 0 brings the credentials; layer 1 copies the same file again
    // (as `COPY . .` twice would) and adds a key and a binary.
    let l0 = layer(&[("app/.aws/credentials", creds.as_bytes(), 0o600)]);
    let l1 = layer(&[
        ("app/.aws/credentials", creds.as_bytes(), 0o600),
        ("root/.ssh/id_ed25519", key, 0o600),
        ("app/bin/tool", &elf, 0o755),
    ]);
    let (img, diff_ids) = image(
        d.path(),
        &[l0, l1],
        &[&format!("GITHUB_TOKEN={GH_PAT}"), "PATH=/usr/bin"],
        &["COPY . /app", "COPY . /app"],
    );
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args([
            "image",
            "--input",
            &img,
            "--scanners",
            "secret",
            "-f",
            "json",
        ])
        .args(["--exit-code", "1"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    for s in [AWS_ID, AWS_SECRET, GH_PAT] {
        assert!(!text.contains(s), "secret {s} leaked into the report");
    }
    let r = json_of(&out);
    let results = r["Results"].as_array().cloned().unwrap_or_default();
    let by_target = |t: &str| {
        results
            .iter()
            .find(|x| x["Target"] == t)
            .cloned()
            .unwrap_or_else(|| panic!("no result for {t}: {r:#}"))
    };
    let creds_r = by_target("/app/.aws/credentials");
    let rules: Vec<&str> = creds_r["Secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["RuleID"].as_str())
        .collect();
    assert!(rules.contains(&"aws-access-key-id"), "{rules:?}");
    assert!(rules.contains(&"aws-secret-access-key"), "{rules:?}");
    for s in creds_r["Secrets"].as_array().into_iter().flatten() {
        // Reported once, naming the layer that first brought the file.
        assert_eq!(s["Layer"]["DiffID"], diff_ids[0].as_str(), "{s}");
        assert!(s["Match"].as_str().unwrap_or("").contains("****"), "{s}");
    }
    let key_r = by_target("/root/.ssh/id_ed25519");
    assert_eq!(key_r["Secrets"][0]["Layer"]["DiffID"], diff_ids[1].as_str());
    assert_eq!(key_r["Secrets"][0]["Severity"], "CRITICAL");
    // The binary is skipped (detected by content).
    assert!(!results.iter().any(|x| x["Target"] == "/app/bin/tool"));
    // The token passed in the config's Env.
    let cfg = by_target("image config");
    assert!(cfg["Secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["RuleID"].as_str().unwrap_or("").starts_with("github")));
    // Table view: masked too, and the summary counts secrets per target.
    let out = customs(cache.path())
        .args(["image", "--input", &img, "--scanners", "secret"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8_lossy(&out);
    assert!(table.contains("Report Summary"));
    for s in [AWS_ID, AWS_SECRET, GH_PAT] {
        assert!(!table.contains(s), "secret {s} leaked into the table");
    }
}

#[test]
fn real_debian_image_has_no_secret_findings() {
    // 225 MB of real Debian files: no false positive (Trivy finds none either).
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let image = debian_image("bookworm");
    let out = customs(cache.path())
        .args([
            "image",
            "--input",
            &image,
            "--scanners",
            "secret",
            "-f",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r = json_of(&out);
    let n: usize = r["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| x["Secrets"].as_array().map_or(0, |a| a.len()))
        .sum();
    assert_eq!(n, 0, "{r:#}");
}

#[test]
fn secret_config_disables_a_rule() {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let proj = d.path().join("proj");
    std::fs::create_dir_all(&proj).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(proj.join("deploy.env"), format!("GITHUB_TOKEN={GH_PAT}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    customs(cache.path())
        .arg("fs")
        .arg(&proj)
        .args(["--scanners", "secret", "--exit-code", "1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("deploy.env"));
    let cfg = d.path().join("customs-secret.yaml");
    // Without the GitHub rule, the generic `NAME_TOKEN=value` rule still
    // catches the value...
    std::fs::write(&cfg, "disable-rules:\n  - github-pat\n").unwrap_or_else(|e| panic!("{e}"));
    customs(cache.path())
        .arg("fs")
        .arg(&proj)
        .args([
            "--scanners",
            "secret",
            "--exit-code",
            "1",
            "--secret-config",
        ])
        .arg(&cfg)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("generic-secret-config"))
        .stdout(predicate::str::contains("github-pat").not());
    // ...and without both, nothing is left.
    std::fs::write(
        &cfg,
        "disable-rules:\n  - github-pat\n  - generic-secret-config\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    customs(cache.path())
        .arg("fs")
        .arg(&proj)
        .args([
            "--scanners",
            "secret",
            "--exit-code",
            "1",
            "--secret-config",
        ])
        .arg(&cfg)
        .assert()
        .code(0);
    // A broken config is an error naming the file.
    std::fs::write(&cfg, "rules: [ {id: \n").unwrap_or_else(|e| panic!("{e}"));
    customs(cache.path())
        .arg("fs")
        .arg(&proj)
        .args(["--scanners", "secret", "--secret-config"])
        .arg(&cfg)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("customs-secret.yaml"));
}

fn failed_checks(r: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = r["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|res| {
            let t = res["Target"].as_str().unwrap_or("").to_string();
            res["Misconfigurations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m["Status"] == "FAIL")
                .map(move |m| {
                    format!(
                        "{} {} {} {}",
                        t,
                        m["ID"].as_str().unwrap_or(""),
                        m["Severity"].as_str().unwrap_or(""),
                        m["Message"].as_str().unwrap_or("")
                    )
                })
        })
        .collect();
    v.sort();
    v
}

#[test]
fn misconfig_and_hardening_on_the_bullseye_image() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let image = debian_image("bullseye");
    let out = customs(cache.path())
        .args([
            "image",
            "--input",
            &image,
            "--scanners",
            "misconfig,hardening",
            "-f",
            "json",
        ])
        .args(["--max-image-age", "100000"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let f = failed_checks(&json_of(&out));
    // The config sets no user and no healthcheck.
    assert!(
        f.iter().any(|l| l.starts_with("image config DS-0002 HIGH")),
        "{f:#?}"
    );
    assert!(
        f.iter().any(|l| l.starts_with("image config DS-0026 LOW")),
        "{f:#?}"
    );
    // Debian's setuid binaries, with owner and mode.
    assert!(
        f.iter()
            .any(|l| l.contains("/usr/bin/passwd is setuid (owner 0:0, mode 4755)")),
        "{f:#?}"
    );
    // /bin/sh as CMD and no tini.
    assert!(
        f.iter().any(|l| l.contains("No init in the image")),
        "{f:#?}"
    );
    insta::assert_snapshot!(f.join("\n"));
    // An allow list for setuid files.
    let out = customs(cache.path())
        .args([
            "image",
            "--input",
            &image,
            "--scanners",
            "hardening",
            "-f",
            "json",
        ])
        .args([
            "--setuid-allow",
            "/usr/bin/passwd",
            "--setuid-allow",
            "/bin/su",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let g = failed_checks(&json_of(&out));
    assert!(!g.iter().any(|l| l.contains("/usr/bin/passwd ")), "{g:#?}");
    assert!(!g.iter().any(|l| l.contains("/bin/su ")), "{g:#?}");
    assert!(g.iter().any(|l| l.contains("/bin/mount ")), "{g:#?}");
}

#[test]
fn old_image_gets_rebuild_advice_and_exit_code() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // The alpine 3.10 image was created in 2020: past any age threshold.
    let out = customs(cache.path())
        .args(["image", "--input", &shared("images/alpine-3.10.tar.gz")])
        .args(["--scanners", "misconfig", "-f", "json", "--exit-code", "2"])
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let f = failed_checks(&json_of(&out));
    assert!(
        f.iter()
            .any(|l| l.contains("CS-IMG-002") && l.contains("days ago")),
        "{f:#?}"
    );
    // --severity HIGH,CRITICAL keeps only the root-user check.
    let out = customs(cache.path())
        .args(["image", "--input", &shared("images/alpine-3.10.tar.gz")])
        .args([
            "--scanners",
            "misconfig",
            "-f",
            "json",
            "--severity",
            "HIGH,CRITICAL",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let f = failed_checks(&json_of(&out));
    assert!(
        f.iter()
            .all(|l| l.contains(" HIGH ") || l.contains(" CRITICAL ")),
        "{f:#?}"
    );
    assert!(f.iter().any(|l| l.contains("DS-0002")), "{f:#?}");
}

#[test]
fn config_command_on_the_dockerfile_corpus() {
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = customs(cache.path())
        .args([
            "config",
            "crates/customs-misconfig/tests/dockerfiles/bad",
            "-f",
            "json",
        ])
        .args(["--exit-code", "1"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let f = failed_checks(&json_of(&out));
    assert!(f.iter().any(|l| l.contains(" DS-0002 ")), "{f:#?}");
    let out = customs(cache.path())
        .args([
            "config",
            "crates/customs-misconfig/tests/dockerfiles/good",
            "-f",
            "json",
        ])
        .args(["--exit-code", "1"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(failed_checks(&json_of(&out)).is_empty());
}
