//! `customs server` end to end, against real services on 127.0.0.1:
//! Debian's docker-registry filled with skopeo, Debian's redis-server (the
//! shared layer cache and job store) and PostgreSQL (the history store),
//! and the server itself as separate processes (two replicas).

mod common;

use common::server::{http, job, token_file, wait_report, wait_status, Server};
use common::{customs, json_of, shared, vuln_db};
use customs_testkit::postgres::Postgres;
use customs_testkit::redis::Redis;
use customs_testkit::registry::Registry;
use std::time::Duration;

const ALPINE: &str = "images/alpine-3.20.3.tar.gz";
const TOKEN: &str = "test-token-0123456789abcdef";

/// A report without what depends on where or when it was made.
fn comparable(mut v: serde_json::Value) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.remove("Digest");
                for (_, x) in o.iter_mut() {
                    strip(x);
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("CreatedAt");
        if let Some(m) = o.get_mut("Metadata").and_then(|m| m.as_object_mut()) {
            m.remove("RepoDigests");
        }
    }
    strip(&mut v);
    v
}

/// Push alpine 3.20.3 as `library/alpine:3.20.3`; returns its digest.
fn push_alpine(reg: &Registry) -> String {
    reg.push(
        &format!(
            "docker-archive:{}",
            common::repo().join(shared(ALPINE)).display()
        ),
        "library/alpine:3.20.3",
    )
}

/// `--db` (the test database) and `--token-file`, then `extra`.
fn server_args(token: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        "--db".to_string(),
        vuln_db().display().to_string(),
        "--token-file".to_string(),
        token.display().to_string(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// A registry holding alpine, and one server (its token, the registry over
/// plain HTTP, then `extra`). The directory holds the server's cache.
fn alpine_and_server(extra: &[&str]) -> (Registry, tempfile::TempDir, Server) {
    let reg = Registry::plain();
    push_alpine(&reg);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let token = token_file(dir.path(), TOKEN);
    let host = reg.host();
    let mut args = vec!["--insecure-registries", host.as_str()];
    args.extend_from_slice(extra);
    let s = Server::start(&dir.path().join("s"), &server_args(&token, &args));
    (reg, dir, s)
}

struct Fleet {
    reg: Registry,
    _redis: Redis,
    _pg: Postgres,
    store: String,
    a: Server,
    b: Server,
    _dir: tempfile::TempDir,
    image: String,
}

/// A registry holding alpine 3.20.3, Redis, PostgreSQL, and two replicas
/// sharing them.
fn fleet() -> Fleet {
    let reg = Registry::plain();
    push_alpine(&reg);
    let redis = Redis::start();
    let pg = Postgres::start();
    let store = pg.create_db("fleet");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let token = token_file(dir.path(), TOKEN);
    let (url, host) = (redis.url(), reg.host());
    let args = |name: &str| {
        server_args(
            &token,
            &[
                "--cache-backend",
                &url,
                "--store",
                &store,
                "--insecure-registries",
                &host,
                "--replica-name",
                name,
            ],
        )
    };
    let a = Server::start(&dir.path().join("a"), &args("a"));
    let b = Server::start(&dir.path().join("b"), &args("b"));
    let image = format!("{}/library/alpine:3.20.3", reg.host());
    Fleet {
        reg,
        _redis: redis,
        _pg: pg,
        store,
        a,
        b,
        _dir: dir,
        image,
    }
}

fn submit(
    c: &reqwest::blocking::Client,
    base: &str,
    body: serde_json::Value,
) -> reqwest::blocking::Response {
    c.post(format!("{base}/v1/scans"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn replicas_share_the_layer_cache_and_client_mode_equals_a_local_scan() {
    let f = fleet();
    let c = http();
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));

    // Client mode: the server pulls the image; same report, same exit code.
    let remote = customs(cache.path())
        .args([
            "-q",
            "image",
            &f.image,
            "--server",
            &f.a.url(),
            "--token",
            TOKEN,
        ])
        .args(["--format", "json", "--exit-code", "5"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let local = customs(cache.path())
        .args([
            "-q",
            "image",
            &f.image,
            "--insecure",
            "--image-src",
            "remote",
        ])
        .arg("--db")
        .arg(vuln_db())
        .args(["--format", "json", "--exit-code", "5"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        remote.status.code(),
        Some(5),
        "findings remain: exit code 5"
    );
    assert_eq!(
        remote.status.code(),
        local.status.code(),
        "exit codes differ: {}",
        String::from_utf8_lossy(&remote.stderr)
    );
    let (rj, lj) = (json_of(&remote.stdout), json_of(&local.stdout));
    assert_eq!(
        comparable(rj.clone()),
        comparable(lj),
        "client mode and a local scan differ"
    );
    let findings = common::findings(&rj);
    assert!(
        findings.len() > 10,
        "too few findings to compare: {findings:?}"
    );

    // The second replica: the image's layer is neither downloaded nor analyzed.
    let blobs_before = f.reg.blob_gets("library/alpine");
    let r = submit(
        &c,
        &f.b.url(),
        serde_json::json!({"image": f.image, "scanners": ["vuln", "secret"]}),
    );
    assert_eq!(r.status().as_u16(), 202);
    let submitted: serde_json::Value = r.json().unwrap_or_else(|e| panic!("{e}"));
    let id = submitted["id"].as_str().unwrap_or_default().to_string();
    let report = wait_report(&c, &f.b.url(), &id, TOKEN);
    let rec = job(&c, &f.b.url(), &id, TOKEN);
    assert_eq!(rec["replica"], "b");
    assert_eq!(rec["stats"]["analyzed"], 0, "{rec}");
    assert_eq!(rec["stats"]["from_cache"], 1, "{rec}");
    let blobs_after = f.reg.blob_gets("library/alpine");
    // The config blob only (the manifest is not a blob).
    assert!(
        blobs_after - blobs_before <= 1,
        "the second replica downloaded layers: {blobs_before} → {blobs_after} blob GETs"
    );
    assert!(common::findings(&report).len() >= findings.len());

    // The job and its report are in Redis: the other replica answers too.
    let via_a = wait_report(&c, &f.a.url(), &id, TOKEN);
    assert_eq!(comparable(via_a), comparable(report.clone()));

    // Every format renders.
    for (fmt, needle) in [
        ("table", "Total:"),
        ("sarif", "\"$schema\""),
        ("cyclonedx", "\"bomFormat\""),
        ("spdx-json", "\"spdxVersion\""),
        ("markdown", "alpine"),
        ("html", "<html"),
    ] {
        let t = c
            .get(format!("{}/v1/scans/{id}/report?format={fmt}", f.a.url()))
            .bearer_auth(TOKEN)
            .send()
            .and_then(|r| r.text())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(t.contains(needle), "{fmt}: {}", &t[..t.len().min(300)]);
    }

    // The history store answers which images have a vulnerability.
    let cve = report["Results"][0]["Vulnerabilities"][0]["VulnerabilityID"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!cve.is_empty());
    let aff: serde_json::Value = c
        .get(format!(
            "{}/v1/vulnerabilities/{}",
            f.a.url(),
            cve.to_lowercase()
        ))
        .bearer_auth(TOKEN)
        .send()
        .and_then(|r| r.json())
        .unwrap_or_else(|e| panic!("{e}"));
    let images = aff["Images"].as_array().cloned().unwrap_or_default();
    assert!(
        images.iter().any(|i| i["Scan"]["ArtifactRef"]
            .as_str()
            .is_some_and(|r| r.contains("alpine"))),
        "{aff}"
    );
    // `customs history` reads the same store.
    let out = customs(cache.path())
        .args(["-q", "history", "list", "--store", &f.store])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("alpine"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Metrics: the cache saved work; names are prefixed.
    let m = c
        .get(format!("{}/metrics", f.b.url()))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(m.contains("customs_layers_from_cache_total 1"), "{m}");
    assert!(m.contains("customs_scans_total{outcome=\"done\"} 1"), "{m}");
    assert!(m.contains("customs_db_age_seconds"), "{m}");
    assert!(!m.contains(TOKEN));
    for l in [f.a.log_text(), f.b.log_text()] {
        assert!(!l.contains(TOKEN), "the token is in a log");
    }
}

#[test]
fn requests_need_the_token_and_bad_input_gets_one_line() {
    let f = fleet();
    let c = http();
    let base = f.a.url();
    let r = c
        .post(format!("{base}/v1/scans"))
        .json(&serde_json::json!({"image": f.image}))
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .get(format!("{base}/v1/scans/x"))
        .bearer_auth("wrong-token-000000000000")
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 401);
    // Health and metrics need none.
    assert!(c
        .get(format!("{base}/healthz"))
        .send()
        .is_ok_and(|r| r.status().is_success()));
    for (body, want) in [
        (serde_json::json!({"image": "Not A Ref"}), 422),
        (serde_json::json!({"image": "x", "scanners": ["nope"]}), 422),
        (serde_json::json!({"image": "x", "colour": 1}), 400),
        (serde_json::json!({}), 422),
        (
            serde_json::json!({"image": "169.254.169.254/latest/meta"}),
            403,
        ),
        (
            serde_json::json!({"image": "x", "credentials": {"username": "u"}}),
            422,
        ),
    ] {
        let r = submit(&c, &base, body.clone());
        assert_eq!(r.status().as_u16(), want, "{body}");
        let e: serde_json::Value = r.json().unwrap_or_default();
        let msg = e["error"]["message"].as_str().unwrap_or_default();
        assert!(!msg.is_empty() && !msg.contains('\n'), "{body}: {e}");
    }
    let r = c
        .get(format!("{base}/v1/scans/nope/report?format=pdf"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .get(format!("{base}/v1/scans/nope"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 404);
    // A corrupt upload fails its job with a one-line reason naming it.
    let r = c
        .post(format!("{base}/v1/scans?name=broken%2Etar"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/x-tar")
        .body(vec![7u8; 4096])
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 202);
    let id = r.json::<serde_json::Value>().unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let rec = wait_status(&c, &base, &id, TOKEN, &["failed", "done"]);
    assert_eq!(rec["status"], "failed", "{rec}");
    let e = rec["error"].as_str().unwrap_or_default();
    assert!(e.contains("broken.tar") && !e.contains(".upload-"), "{rec}");
    assert_eq!(rec["retryable"], false);
}

#[test]
fn identical_requests_share_a_job_and_a_full_queue_answers_429() {
    let (reg, _dir, s) = alpine_and_server(&["--workers", "1", "--queue", "1"]);
    let c = http();
    let image = format!("{}/library/alpine:3.20.3", reg.host());
    let body = |sev: &str| serde_json::json!({"image": image, "severity": [sev]});
    let mut ids = Vec::new();
    let mut full = None;
    for sev in ["LOW", "LOW", "MEDIUM", "HIGH", "CRITICAL", "UNKNOWN"] {
        let r = submit(&c, &s.url(), body(sev));
        match r.status().as_u16() {
            202 => {
                let dedup = r.headers().contains_key("x-customs-deduplicated");
                let id = r.json::<serde_json::Value>().unwrap_or_default()["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                ids.push((sev, id, dedup));
            }
            429 => {
                let after = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                assert!(after.is_some_and(|a| a >= 1), "429 without Retry-After");
                full = Some(after);
            }
            other => panic!("{sev}: {other}: {}", r.text().unwrap_or_default()),
        }
    }
    // The second LOW request got the first one's job.
    assert!(ids.len() >= 2, "{ids:?}");
    assert_eq!(ids[0].1, ids[1].1, "{ids:?}");
    assert!(ids[1].2, "not marked as deduplicated");
    assert!(
        full.is_some(),
        "one worker and a queue of one took {} scans",
        ids.len()
    );
    for (_, id, _) in &ids {
        wait_report(&c, &s.url(), id, TOKEN);
    }
    let m = c
        .get(format!("{}/metrics", s.url()))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    assert!(m.contains("customs_scans_rejected_total"), "{m}");
    assert!(!m.contains("customs_scans_rejected_total 0"), "{m}");
    assert!(m.contains("customs_scans_deduplicated_total 1"), "{m}");
}

#[test]
fn an_archive_or_engine_image_is_analyzed_by_the_client_and_only_its_inventory_is_sent() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let s = Server::start(
        &dir.path().join("s"),
        &["--db".into(), vuln_db().display().to_string()],
    );
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let input = shared(ALPINE);
    let out = customs(cache.path())
        .args(["-q", "image", "--input", &input, "--server", &s.url()])
        .args(["--format", "json", "--scanners", "vuln,secret"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote = json_of(&out.stdout);
    let local = common::image_json(
        cache.path(),
        &["--input", &input, "--scanners", "vuln,secret"],
    );
    assert_eq!(comparable(remote), comparable(local));
    // The server received no archive.
    assert!(
        !dir.path().join("s/uploads").exists()
            || std::fs::read_dir(dir.path().join("s/uploads"))
                .map(|d| d.count())
                .unwrap_or(0)
                == 0
    );
}

#[test]
fn a_new_database_is_picked_up_without_a_restart_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = dir.path().join("db/customs.db");
    std::fs::create_dir_all(dir.path().join("db")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(vuln_db(), &db).unwrap_or_else(|e| panic!("{e}"));
    let mut s = Server::start(
        &dir.path().join("s"),
        &["--db".into(), db.display().to_string()],
    );
    let c = http();
    let ready = |c: &reqwest::blocking::Client| {
        c.get(format!("{}/readyz", s.url()))
            .send()
            .and_then(|r| r.text())
            .unwrap_or_default()
    };
    let before = ready(&c);
    assert!(before.starts_with("ready"), "{before}");
    // `db build` into a new file, renamed over the old one, as `db update` does.
    std::thread::sleep(Duration::from_millis(1100));
    let fresh = dir.path().join("db/new.db");
    customs(dir.path())
        .args([
            "-q",
            "db",
            "build",
            "--from",
            &shared("advisories"),
            "--output",
        ])
        .arg(&fresh)
        .assert()
        .success();
    std::fs::rename(&fresh, &db).unwrap_or_else(|e| panic!("{e}"));
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = ready(&c);
        if now != before && now.starts_with("ready") {
            break;
        }
        assert!(std::time::Instant::now() < until, "still {now}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(s.log_text().contains("a new database"), "{}", s.log_text());
    let st = s.terminate();
    assert!(
        st.is_some_and(|st| st.success()),
        "{st:?}: {}",
        s.log_text()
    );
}

/// Harbor's Pluggable Scanner API as the spec (v1.1, v1.2 for SBOMs)
/// defines it: the media types, the required fields and their values, the
/// 302 with `Refresh-After` while a scan runs, the errors.
#[test]
fn harbor_scans_with_its_registry_credentials_and_gets_its_report_types() {
    use base64::Engine as _;
    let reg = Registry::basic("robot$harbor", "s3cret-pass");
    let digest = push_alpine(&reg);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let token = token_file(dir.path(), TOKEN);
    let s = Server::start(&dir.path().join("s"), &server_args(&token, &[]));
    let c = http();
    let base = s.url();

    let r = c
        .get(format!("{base}/api/v1/metadata"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.scanner.adapter.metadata+json; version=1.1")
    );
    let meta: serde_json::Value = r.json().unwrap_or_default();
    assert_eq!(meta["scanner"]["name"], "customs");
    let caps = meta["capabilities"].as_array().cloned().unwrap_or_default();
    let vuln = caps.iter().find(|c| c["type"] == "vulnerability");
    assert!(
        vuln.is_some_and(|v| v["produces_mime_types"].as_array().is_some_and(|m| m
            .iter()
            .any(|t| t == "application/vnd.security.vulnerability.report; version=1.1"))
            && v["consumes_mime_types"].as_array().is_some_and(|m| m
                .iter()
                .any(|t| t == "application/vnd.oci.image.manifest.v1+json")))
    );
    assert!(caps.iter().any(|c| c["type"] == "sbom"));
    assert!(
        meta["properties"]["harbor.scanner-adapter/vulnerability-database-updated-at"].is_string()
    );

    let auth = base64::engine::general_purpose::STANDARD.encode("robot$harbor:s3cret-pass");
    let req = serde_json::json!({
        "registry": {"url": format!("http://{}", reg.host()), "authorization": format!("Basic {auth}")},
        "artifact": {"repository": "library/alpine", "digest": digest, "tag": "3.20.3",
                     "mime_type": "application/vnd.docker.distribution.manifest.v2+json"},
    });
    let r = c
        .post(format!("{base}/api/v1/scan"))
        .bearer_auth(TOKEN)
        .header(
            "content-type",
            "application/vnd.scanner.adapter.scan.request+json; version=1.1",
        )
        .body(req.to_string())
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 202);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.scanner.adapter.scan.response+json; version=1.0")
    );
    let id = r.json::<serde_json::Value>().unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!id.is_empty());

    let get = |accept: &str, q: &str| {
        c.get(format!("{base}/api/v1/scan/{id}/report{q}"))
            .bearer_auth(TOKEN)
            .header("accept", accept)
            .send()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let v11 = "application/vnd.security.vulnerability.report; version=1.1";
    let until = std::time::Instant::now() + Duration::from_secs(60);
    let report: serde_json::Value = loop {
        let r = get(v11, "");
        match r.status().as_u16() {
            200 => {
                assert_eq!(
                    r.headers()
                        .get("content-type")
                        .and_then(|v| v.to_str().ok()),
                    Some(v11)
                );
                break r.json().unwrap_or_default();
            }
            302 => {
                let after = r
                    .headers()
                    .get("refresh-after")
                    .and_then(|v| v.to_str().ok());
                assert!(
                    after.is_some_and(|a| a.parse::<u64>().is_ok()),
                    "302 without Refresh-After"
                );
            }
            other => panic!("{other}: {}", r.text().unwrap_or_default()),
        }
        assert!(std::time::Instant::now() < until, "no report in 60 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    // The fields of HarborVulnerabilityReport and their allowed values.
    let severities = [
        "Unknown",
        "Negligible",
        "Low",
        "Medium",
        "High",
        "Critical",
        "None",
    ];
    assert!(report["generated_at"].is_string());
    assert_eq!(report["artifact"]["repository"], "library/alpine");
    assert_eq!(report["artifact"]["digest"], digest.as_str());
    assert_eq!(report["scanner"]["name"], "customs");
    assert!(report["severity"]
        .as_str()
        .is_some_and(|s| severities.contains(&s)));
    let vulns = report["vulnerabilities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(vulns.len() > 10, "{report}");
    for v in &vulns {
        for k in ["id", "package", "version"] {
            assert!(v[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {v}");
        }
        assert!(
            v["severity"]
                .as_str()
                .is_some_and(|s| severities.contains(&s)),
            "{v}"
        );
        if let Some(l) = v.get("links") {
            assert!(l.as_array().is_some_and(|l| l
                .iter()
                .all(|u| u.as_str().is_some_and(|u| u.starts_with("http")))));
        }
        if let Some(c) = v.get("preferred_cvss") {
            if let Some(s) = c.get("score_v3") {
                assert!(s.as_f64().is_some_and(|s| (0.0..=10.0).contains(&s)), "{c}");
            }
        }
    }
    // The same findings as `customs image` of the file.
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let local = common::image_json(
        cache.path(),
        &["--input", &shared(ALPINE), "--scanners", "vuln"],
    );
    let mut want: Vec<String> = local["Results"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Vulnerabilities"].as_array().cloned().unwrap_or_default())
        .map(|v| {
            format!(
                "{} {} {}",
                v["PkgName"].as_str().unwrap_or(""),
                v["VulnerabilityID"].as_str().unwrap_or(""),
                v["FixedVersion"].as_str().unwrap_or("")
            )
        })
        .collect();
    let mut got: Vec<String> = vulns
        .iter()
        .map(|v| {
            format!(
                "{} {} {}",
                v["package"].as_str().unwrap_or(""),
                v["id"].as_str().unwrap_or(""),
                v["fix_version"].as_str().unwrap_or("")
            )
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);

    // The Harbor 1.0 type, raw, and the SBOMs of revision 1.2.
    let r = get(
        "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
        "",
    );
    assert_eq!(r.status().as_u16(), 200);
    let r = get("application/vnd.scanner.adapter.vuln.report.raw", "");
    assert!(r.text().unwrap_or_default().contains("\"SchemaVersion\""));
    let sbom = "application/vnd.security.sbom.report+json; version=1.0";
    for (media, key) in [
        ("application/spdx+json", "spdxVersion"),
        ("application/vnd.cyclonedx+json", "bomFormat"),
    ] {
        let encoded = media.replace('/', "%2F").replace('+', "%2B");
        let r = get(sbom, &format!("?sbom_media_type={encoded}"));
        assert_eq!(r.status().as_u16(), 200, "{media}");
        let b: serde_json::Value = r.json().unwrap_or_default();
        assert_eq!(b["media_type"], media);
        assert!(b["sbom"][key].is_string(), "{media}: {b}");
    }
    assert_eq!(get(sbom, "").status().as_u16(), 400);
    assert_eq!(get("application/pdf", "").status().as_u16(), 501);
    let r = c
        .get(format!("{base}/api/v1/scan/no-such-id/report"))
        .bearer_auth(TOKEN)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 404);

    // Wrong registry credentials: the scan fails, with a 500 and a message.
    let bad = base64::engine::general_purpose::STANDARD.encode("robot$harbor:wrong");
    let mut req2 = req.clone();
    req2["registry"]["authorization"] = format!("Basic {bad}").into();
    let r = c
        .post(format!("{base}/api/v1/scan"))
        .bearer_auth(TOKEN)
        .body(req2.to_string())
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    let id2 = r.json::<serde_json::Value>().unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let until = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let r = c
            .get(format!("{base}/api/v1/scan/{id2}/report"))
            .bearer_auth(TOKEN)
            .send()
            .unwrap_or_else(|e| panic!("{e}"));
        if r.status().as_u16() == 500 {
            let e: serde_json::Value = r.json().unwrap_or_default();
            assert!(
                e["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{e}"
            );
            assert!(
                !e.to_string().contains("wrong"),
                "the password is in the error: {e}"
            );
            break;
        }
        assert_eq!(r.status().as_u16(), 302);
        assert!(std::time::Instant::now() < until);
        std::thread::sleep(Duration::from_millis(100));
    }
    // A missing field: 422; not JSON: 400.
    let r = c
        .post(format!("{base}/api/v1/scan"))
        .bearer_auth(TOKEN)
        .body(r#"{"registry":{"url":"http://x"},"artifact":{"repository":"a"}}"#)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 422);
    let r = c
        .post(format!("{base}/api/v1/scan"))
        .bearer_auth(TOKEN)
        .body("{")
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status().as_u16(), 400);
    assert!(!s.log_text().contains("s3cret-pass"));
}

/// `--tls-client-ca`: HTTPS, and no client without a certificate the CA
/// signed gets an answer; client mode with `--server-ca`/`--server-cert`
/// gets the same report as a local scan.
#[test]
fn mutual_tls_serves_only_clients_with_a_certificate() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pki = customs_testkit::tls::pki(dir.path());
    let s = Server::start_mtls(
        &dir.path().join("s"),
        &pki,
        &["--db".into(), vuln_db().display().to_string()],
    );
    assert!(s.url().starts_with("https://"));
    let ok = s
        .client()
        .get(format!("{}/readyz", s.url()))
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(ok.status().is_success());
    // Trusting the server but without a client certificate: refused.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let no_cert = reqwest::blocking::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&pki.ca_pem).unwrap_or_default())
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(no_cert.get(format!("{}/healthz", s.url())).send().is_err());
    // Plain HTTP to the TLS port: no answer either.
    assert!(http()
        .get(format!("http://127.0.0.1:{}/healthz", s.port))
        .send()
        .map(|r| !r.status().is_success())
        .unwrap_or(true));

    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let input = shared(ALPINE);
    let out = customs(cache.path())
        .args(["-q", "image", "--input", &input, "--server", &s.url()])
        .arg("--server-ca")
        .arg(&pki.ca_pem)
        .arg("--server-cert")
        .arg(&pki.client_crt)
        .arg("--server-key")
        .arg(&pki.client_key)
        .args(["--format", "json", "--scanners", "vuln"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let local = common::image_json(cache.path(), &["--input", &input, "--scanners", "vuln"]);
    assert_eq!(comparable(json_of(&out.stdout)), comparable(local));
    // Without the client certificate: exit 3 and one line.
    let out = customs(cache.path())
        .args(["-q", "image", "--input", &input, "--server", &s.url()])
        .arg("--server-ca")
        .arg(&pki.ca_pem)
        .args(["--format", "json", "--scanners", "vuln"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

/// SIGTERM with one scan running and two queued: the running one finishes
/// (`done`), the queued ones are handed back as retryable, and another
/// replica sharing the job store reports both.
#[test]
fn sigterm_lets_the_running_scan_finish_and_hands_the_queued_back() {
    let reg = Registry::plain();
    let app = common::repo().join(common::debian_image("app"));
    reg.push(&format!("docker-archive:{}", app.display()), "app:1");
    push_alpine(&reg);
    let redis = Redis::start();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let token = token_file(dir.path(), TOKEN);
    let (url, host) = (redis.url(), reg.host());
    let args = |name: &str, workers: &str| {
        server_args(
            &token,
            &[
                "--cache-backend",
                &url,
                "--insecure-registries",
                &host,
                "--replica-name",
                name,
                "--workers",
                workers,
            ],
        )
    };
    let mut a = Server::start(&dir.path().join("a"), &args("a", "1"));
    let b = Server::start(&dir.path().join("b"), &args("b", "2"));
    let c = http();
    let mut ids = Vec::new();
    for (image, sev) in [
        (format!("{host}/app:1"), "LOW"),
        (format!("{host}/library/alpine:3.20.3"), "LOW"),
        (format!("{host}/library/alpine:3.20.3"), "HIGH"),
    ] {
        let r = submit(
            &c,
            &a.url(),
            serde_json::json!({"image": image, "severity": [sev], "scanners": ["vuln", "secret"]}),
        );
        assert_eq!(r.status().as_u16(), 202);
        ids.push(
            r.json::<serde_json::Value>().unwrap_or_default()["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    // The first is running on the only worker (the app image, cold, takes
    // a while); the two others wait.
    let rec = wait_status(&c, &b.url(), &ids[0], TOKEN, &["running", "done", "failed"]);
    assert_eq!(rec["status"], "running", "{rec}");
    let st = a.terminate();
    assert!(st.is_some_and(|s| s.success()), "{st:?}: {}", a.log_text());
    let status = |id: &str| job(&c, &b.url(), id, TOKEN);
    let first = status(&ids[0]);
    assert_eq!(first["status"], "done", "{first}");
    assert_eq!(first["replica"], "a");
    for id in &ids[1..] {
        let r = status(id);
        assert_eq!(r["status"], "failed", "{r}");
        assert_eq!(r["retryable"], true, "{r}");
    }
    // The finished one's report is there for any replica.
    let report = wait_report(&c, &b.url(), &ids[0], TOKEN);
    assert!(report["Results"].is_array());
}

/// `--max-image-bytes`: an image whose manifest claims more is refused
/// before any layer is downloaded.
#[test]
fn an_image_over_the_size_bound_fails_before_a_layer_is_read() {
    let (reg, _dir, s) = alpine_and_server(&["--max-image-bytes", "100000"]);
    let host = reg.host();
    let c = http();
    let r = submit(
        &c,
        &s.url(),
        serde_json::json!({"image": format!("{host}/library/alpine:3.20.3")}),
    );
    let id = r.json::<serde_json::Value>().unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let rec = wait_status(&c, &s.url(), &id, TOKEN, &["failed", "done"]);
    assert_eq!(rec["status"], "failed", "{rec}");
    let e = rec["error"].as_str().unwrap_or_default();
    assert!(e.contains("over the limit of 100000 bytes"), "{e}");
    // Only the config blob was fetched, never the layer.
    assert!(
        reg.blob_gets("library/alpine") <= 1,
        "{}",
        reg.blob_gets("library/alpine")
    );
}

/// `{"sbom": …}`: a CycloneDX SBOM customs wrote for the app image (OS and
/// language packages) gets the vulnerabilities a local scan finds.
#[test]
fn a_cyclonedx_sbom_is_scanned_like_the_image_it_describes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let token = token_file(dir.path(), TOKEN);
    let s = Server::start(&dir.path().join("s"), &server_args(&token, &[]));
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let app = common::debian_image("app");
    let out = customs(cache.path())
        .args([
            "-q",
            "image",
            "--input",
            &app,
            "--scanners",
            "none",
            "--format",
            "cyclonedx",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bom = json_of(&out.stdout);
    let c = http();
    let r = submit(&c, &s.url(), serde_json::json!({ "sbom": bom }));
    assert_eq!(r.status().as_u16(), 202, "{}", r.text().unwrap_or_default());
    let id = r.json::<serde_json::Value>().unwrap_or_default()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let got = wait_report(&c, &s.url(), &id, TOKEN);
    let local = common::image_json(cache.path(), &["--input", &app, "--scanners", "vuln"]);
    let key = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v["Results"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| {
                let t = r["Target"].as_str().unwrap_or("").to_string();
                r["Vulnerabilities"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |x| {
                        format!(
                            "{t} {} {} {} {}",
                            x["PkgName"].as_str().unwrap_or(""),
                            x["InstalledVersion"].as_str().unwrap_or(""),
                            x["VulnerabilityID"].as_str().unwrap_or(""),
                            x["FixedVersion"].as_str().unwrap_or("")
                        )
                    })
            })
            .collect();
        k.sort();
        k
    };
    let (g, l) = (key(&got), key(&local));
    assert!(l.len() > 20, "too few findings to compare: {l:?}");
    assert_eq!(g, l);
    // Not an SBOM: one line.
    let r = submit(
        &c,
        &s.url(),
        serde_json::json!({ "sbom": {"bomFormat": "SPDX"} }),
    );
    assert_eq!(r.status().as_u16(), 422);
}
