//! The fleet load test (bounded: 2 × 200 scans, at most a few minutes, all
//! on 127.0.0.1): two `customs server` replicas sharing Debian's
//! redis-server (layer cache, job records) and PostgreSQL (history), 16
//! concurrent clients scanning real test images from a local
//! docker-registry. Then the same with one replica killed (SIGKILL, by its
//! PID) mid-run and restarted.
//!
//! Every report must equal the single-process `customs image` result of
//! its image, and no scan may be lost (a client whose replica died submits
//! again when the job is handed back as retryable). The figures
//! (throughput, p50/p99 latency, per-replica peak RSS, cache hit ratio) are
//! printed and written to target/loadtest/summary.json.

mod common;

use common::server::{token_file, Server};
use common::{shared, vuln_db};
use customs_testkit::postgres::Postgres;
use customs_testkit::redis::Redis;
use customs_testkit::registry::Registry;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "load-test-token-0123456789";
const SCANS: usize = 200;
const CLIENTS: usize = 16;
const TAGS: usize = 4;
/// A phase taking longer fails the test (the bound of the load test).
const PHASE_LIMIT: Duration = Duration::from_secs(240);

/// The results of a report, its targets without the image's name.
fn results_of(v: &serde_json::Value) -> serde_json::Value {
    let name = v["ArtifactName"].as_str().unwrap_or("").to_string();
    let text = serde_json::to_string(&v["Results"]).unwrap_or_default();
    serde_json::from_str(&text.replace(&name, "[image]")).unwrap_or_default()
}

#[derive(Default)]
struct Phase {
    latencies: Vec<Duration>,
    wrong: Vec<String>,
    lost: Vec<String>,
    layers: usize,
    from_cache: usize,
    resubmitted: usize,
    by_replica: std::collections::BTreeMap<String, usize>,
}

fn percentile(v: &[Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let mut s = v.to_vec();
    s.sort();
    let i = ((s.len() as f64 - 1.0) * p).round() as usize;
    s[i.min(s.len() - 1)]
}

#[test]
fn two_replicas_serve_200_scans_from_16_clients_and_lose_none_when_one_is_killed() {
    let reg = Registry::plain();
    let images = [
        (
            "alpine",
            format!(
                "docker-archive:{}",
                common::repo()
                    .join(shared("images/alpine-3.20.3.tar.gz"))
                    .display()
            ),
        ),
        (
            "alpine-old",
            format!(
                "docker-archive:{}",
                common::repo()
                    .join(shared("images/alpine-3.10.tar.gz"))
                    .display()
            ),
        ),
        (
            "app",
            format!(
                "docker-archive:{}",
                common::repo().join(common::debian_image("app")).display()
            ),
        ),
    ];
    let mut refs: Vec<(String, &str)> = Vec::new();
    for (repo, src) in &images {
        reg.push(src, &format!("{repo}:t0"));
        for t in 1..TAGS {
            let mut args = vec!["copy".to_string()];
            args.extend(reg.skopeo_flags("src-", true));
            args.extend(reg.skopeo_flags("dest-", true));
            args.push(format!("docker://{}/{repo}:t0", reg.host()));
            args.push(format!("docker://{}/{repo}:t{t}", reg.host()));
            reg.skopeo_ok(&args);
        }
        for t in 0..TAGS {
            refs.push((format!("{}/{repo}:t{t}", reg.host()), repo));
        }
    }
    // What a single process reports for each image.
    let cache = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut expected = std::collections::HashMap::new();
    for (repo, _) in &images {
        let name = format!("{}/{repo}:t0", reg.host());
        let report = common::image_json(
            cache.path(),
            &[
                &name,
                "--insecure",
                "--image-src",
                "remote",
                "--scanners",
                "vuln,secret",
            ],
        );
        expected.insert(repo.to_string(), results_of(&report));
    }

    let redis = Redis::start();
    let pg = Postgres::start();
    let store = pg.create_db("load");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let token = token_file(dir.path(), TOKEN);
    let args = |name: &str| -> Vec<String> {
        [
            "--db",
            &vuln_db().display().to_string(),
            "--cache-backend",
            &redis.url(),
            "--store",
            &store,
            "--token-file",
            &token.display().to_string(),
            "--insecure-registries",
            &reg.host(),
            "--replica-name",
            name,
            "--workers",
            "2",
            "--queue",
            "64",
            "--job-stale-after",
            "6s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let a = Arc::new(Mutex::new(Server::start(&dir.path().join("a"), &args("a"))));
    let b = Server::start(&dir.path().join("b"), &args("b"));
    let urls = vec![a.lock().map(|s| s.url()).unwrap_or_default(), b.url()];

    let run = |label: &str, kill: bool| -> Phase {
        let next = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let phase = Arc::new(Mutex::new(Phase::default()));
        let started = Instant::now();
        let mut handles = Vec::new();
        for client in 0..CLIENTS {
            let (next, done, phase) = (next.clone(), done.clone(), phase.clone());
            let refs = refs.clone();
            let expected = expected.clone();
            // Half the clients name replica a first, half b.
            let mut servers = urls.clone();
            servers.rotate_left(client % 2);
            handles.push(std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= SCANS {
                    return;
                }
                let (image, repo) = &refs[i % refs.len()];
                let mut c = customs_server::client::Client::new(
                    &servers,
                    Some(TOKEN.to_string()),
                    Duration::from_secs(180),
                )
                .unwrap_or_else(|e| panic!("{e}"));
                let t = Instant::now();
                let body = serde_json::json!({"image": image, "scanners": ["vuln", "secret"]});
                let r = c.scan(&body);
                let took = t.elapsed();
                let mut p = phase.lock().unwrap_or_else(|e| e.into_inner());
                p.resubmitted += c.resubmitted;
                match r {
                    Ok(d) => {
                        p.latencies.push(took);
                        let got = results_of(&serde_json::to_value(&d.report).unwrap_or_default());
                        if Some(&got) != expected.get(*repo) {
                            p.wrong.push(image.clone());
                        }
                        if let Some(s) = d.job.stats {
                            p.layers += s.layers;
                            p.from_cache += s.from_cache;
                        }
                        *p.by_replica.entry(d.job.replica.clone()).or_default() += 1;
                    }
                    Err(e) => p.lost.push(format!("{image}: {e:#}")),
                }
                drop(p);
                done.fetch_add(1, Ordering::Relaxed);
            }));
        }
        let mut rss = None;
        if kill {
            // Kill replica a once a quarter of the scans are done, while
            // others run on it; start it again two seconds later.
            while done.load(Ordering::Relaxed) < SCANS / 4 && started.elapsed() < PHASE_LIMIT {
                std::thread::sleep(Duration::from_millis(10));
            }
            if let Ok(mut s) = a.lock() {
                rss = Some(s.peak_rss_kib());
                s.kill9();
            }
            std::thread::sleep(Duration::from_secs(2));
            if let Ok(mut s) = a.lock() {
                s.restart();
            }
        }
        for h in handles {
            let _ = h.join();
        }
        let elapsed = started.elapsed();
        assert!(elapsed < PHASE_LIMIT, "{label}: {elapsed:?}");
        let mut p = Arc::try_unwrap(phase)
            .ok()
            .and_then(|m| m.into_inner().ok())
            .unwrap_or_default();
        let rss_a = a.lock().map(|s| s.peak_rss_kib()).unwrap_or(0);
        let summary = serde_json::json!({
            "phase": label,
            "scans": SCANS,
            "clients": CLIENTS,
            "seconds": elapsed.as_secs_f64(),
            "throughput_per_s": p.latencies.len() as f64 / elapsed.as_secs_f64(),
            "p50_ms": percentile(&p.latencies, 0.5).as_millis(),
            "p99_ms": percentile(&p.latencies, 0.99).as_millis(),
            "peak_rss_kib": {"a": rss.unwrap_or(rss_a).max(rss_a), "b": b.peak_rss_kib()},
            "cache_hit_ratio": if p.layers > 0 { p.from_cache as f64 / p.layers as f64 } else { 0.0 },
            "resubmitted": p.resubmitted,
            "by_replica": p.by_replica,
            "lost": p.lost.len(),
            "wrong": p.wrong.len(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
        let out = common::repo().join("target/loadtest");
        let _ = std::fs::create_dir_all(&out);
        let _ = std::fs::write(
            out.join(format!("{label}.json")),
            serde_json::to_string_pretty(&summary).unwrap_or_default(),
        );
        p.latencies.sort();
        p
    };

    let steady = run("steady", false);
    assert!(steady.lost.is_empty(), "lost: {:?}", steady.lost);
    assert!(steady.wrong.is_empty(), "wrong reports: {:?}", steady.wrong);
    assert_eq!(steady.latencies.len(), SCANS);
    assert!(
        steady.by_replica.len() == 2,
        "one replica did all: {:?}",
        steady.by_replica
    );
    // Each image's layers were analyzed once by the fleet, at most.
    assert!(
        steady.from_cache * 10 >= steady.layers * 9,
        "{} of {} layers from the cache",
        steady.from_cache,
        steady.layers
    );

    let killed = run("one-replica-killed", true);
    assert!(killed.lost.is_empty(), "lost: {:?}", killed.lost);
    assert!(killed.wrong.is_empty(), "wrong reports: {:?}", killed.wrong);
    assert_eq!(killed.latencies.len(), SCANS);
    let a_log = a.lock().map(|s| s.log_text()).unwrap_or_default();
    assert!(!a_log.contains(TOKEN) && !b.log_text().contains(TOKEN));
}
