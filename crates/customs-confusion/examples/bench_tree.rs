//! Benchmark of the library call on a tree of 200 lockfiles (issue 18:
//! offline ≤ 50 ms more than without the scanner; online with a warm cache,
//! no request).
//!
//! `cargo run --release -p customs-confusion --example bench_tree`
//!
//! The tree: 100 package-lock.json (400 entries each, 2 of a private scope,
//! an .npmrc beside), 30 yarn.lock, 20 pnpm-lock.yaml, 20 uv.lock (with a
//! pyproject.toml), 10 Cargo.lock, 10 poetry.lock, 10 Gemfile.lock. The
//! online runs ask a loopback stub registry (404 for every name: the names
//! are claimable) that counts the requests it answers.

use customs_confusion::{scan, wanted, Input, Options, PublicCheck};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A package-lock.json in npm's own layout (what `npm install` writes).
fn package_lock(i: usize) -> String {
    let mut s = String::from("{\n  \"name\": \"app\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 3,\n  \"requires\": true,\n  \"packages\": {\n    \"\": {\n      \"name\": \"app\",\n      \"version\": \"1.0.0\",\n      \"dependencies\": {\n        \"dep2\": \"^1.2.0\"\n      }\n    },\n");
    for j in 0..400 {
        let (name, reg) = if j < 2 {
            (
                format!("@acme/lib{}-{j}", i % 10),
                "https://npm.acme.internal",
            )
        } else {
            (format!("dep{j}"), "https://registry.npmjs.org")
        };
        let short = name.rsplit('/').next().unwrap_or(&name).to_string();
        let comma = if j == 399 { "" } else { "," };
        s.push_str(&format!(
            "    \"node_modules/{name}\": {{\n      \"version\": \"1.{j}.0\",\n      \"resolved\": \"{reg}/{name}/-/{short}-1.{j}.0.tgz\",\n      \"integrity\": \"sha512-{:064x}\",\n      \"license\": \"MIT\",\n      \"dependencies\": {{\n        \"dep{}\": \"^1.0.0\"\n      }}\n    }}{comma}\n",
            j * 7919 + i,
            (j + 1) % 400
        ));
    }
    s.push_str("  }\n}\n");
    s
}

fn yarn_lock() -> String {
    let mut s = String::from("# yarn lockfile v1\n\n");
    for j in 0..400 {
        s.push_str(&format!(
            "dep{j}@^1.{j}.0:\n  version \"1.{j}.0\"\n  resolved \"https://registry.yarnpkg.com/dep{j}/-/dep{j}-1.{j}.0.tgz#{:040x}\"\n  integrity sha512-abc\n\n",
            j
        ));
    }
    s
}

fn pnpm_lock() -> String {
    let mut s = String::from("lockfileVersion: '9.0'\n\npackages:\n\n");
    for j in 0..400 {
        s.push_str(&format!(
            "  dep{j}@1.{j}.0:\n    resolution: {{integrity: sha512-abc}}\n\n"
        ));
    }
    s
}

fn uv_lock(i: usize) -> String {
    let mut s = String::from("version = 1\nrevision = 2\nrequires-python = \">=3.12\"\n\n");
    for j in 0..150 {
        let reg = if j == 0 {
            "https://pypi.acme.internal/simple"
        } else {
            "https://pypi.org/simple"
        };
        let name = if j == 0 {
            format!("acme-py{}", i % 5)
        } else {
            format!("dep{j}")
        };
        s.push_str(&format!(
            "[[package]]\nname = \"{name}\"\nversion = \"1.{j}.0\"\nsource = {{ registry = \"{reg}\" }}\nsdist = {{ url = \"https://files.pythonhosted.org/x/{name}-1.{j}.0.tar.gz\", hash = \"sha256:{:064x}\", size = 1000 }}\n\n",
            j
        ));
    }
    s
}

fn cargo_lock() -> String {
    let mut s = String::from("version = 4\n\n");
    for j in 0..300 {
        s.push_str(&format!(
            "[[package]]\nname = \"dep{j}\"\nversion = \"0.{j}.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{:064x}\"\n\n",
            j
        ));
    }
    s
}

fn poetry_lock() -> String {
    let mut s = String::new();
    for j in 0..150 {
        s.push_str(&format!(
            "[[package]]\nname = \"dep{j}\"\nversion = \"1.{j}\"\ndescription = \"\"\noptional = false\npython-versions = \">=3.8\"\nfiles = []\n\n"
        ));
    }
    s
}

fn gemfile_lock() -> String {
    let mut s = String::from("GEM\n  remote: https://rubygems.org/\n  specs:\n");
    for j in 0..200 {
        s.push_str(&format!("    gem{j} (1.{j}.0)\n      dep (>= 0)\n"));
    }
    s.push_str("\nPLATFORMS\n  ruby\n");
    s
}

fn tree() -> Input {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |p: String, c: String| {
        assert!(wanted(&p), "{p}");
        files.push((p, c.into_bytes()));
    };
    for i in 0..100 {
        add(format!("svc{i}/package-lock.json"), package_lock(i));
        add(
            format!("svc{i}/.npmrc"),
            "@acme:registry=https://npm.acme.internal/\n".into(),
        );
    }
    for i in 0..30 {
        add(format!("web{i}/yarn.lock"), yarn_lock());
    }
    for i in 0..20 {
        add(format!("pn{i}/pnpm-lock.yaml"), pnpm_lock());
    }
    for i in 0..20 {
        add(format!("py{i}/uv.lock"), uv_lock(i));
        add(
            format!("py{i}/pyproject.toml"),
            "[project]\nname = \"x\"\n\n[[tool.uv.index]]\nname = \"acme\"\nurl = \"https://pypi.acme.internal/simple\"\nexplicit = true\n".into(),
        );
    }
    for i in 0..10 {
        add(format!("rs{i}/Cargo.lock"), cargo_lock());
        add(format!("po{i}/poetry.lock"), poetry_lock());
        add(format!("rb{i}/Gemfile.lock"), gemfile_lock());
    }
    Input {
        files,
        env: Vec::new(),
    }
}

/// Time this thread has spent on a CPU (Linux `schedstat`): on a loaded
/// shared machine the wall time also counts the waits for a core.
fn on_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// A loopback stub registry: 404 for everything, counting requests.
fn stub() -> (String, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    let n = Arc::new(AtomicUsize::new(0));
    let c = n.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = BufReader::new(s);
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if line == "\r\n" {
                    c.fetch_add(1, Ordering::SeqCst);
                    let _ = r
                        .get_mut()
                        .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                }
            }
        }
    });
    (url, n)
}

fn main() {
    if std::env::var_os("BY_KIND").is_some() {
        by_kind();
        return;
    }
    let input = tree();
    let lockfiles = input
        .files
        .iter()
        .filter(|(p, _)| p.ends_with(".lock") || p.ends_with("lock.json") || p.ends_with(".yaml"))
        .count();
    let bytes: usize = input.files.iter().map(|(_, b)| b.len()).sum();
    println!(
        "tree: {} files ({lockfiles} lockfiles), {:.1} MB",
        input.files.len(),
        bytes as f64 / 1e6
    );

    let offline = Options::default();
    let _ = scan(&input, &offline).expect("scan");
    let mut times = Vec::new();
    let mut cpu = Vec::new();
    let mut findings = 0;
    for _ in 0..10 {
        let (t, c) = (Instant::now(), on_cpu());
        let res = scan(&input, &offline).expect("scan");
        times.push(t.elapsed());
        cpu.push(on_cpu().saturating_sub(c));
        findings = res.iter().map(|r| r.findings.len()).sum();
    }
    times.sort();
    cpu.sort();
    println!(
        "offline scan(): wall median {:?} (min {:?}, max {:?}); on-CPU median {:?} (min {:?}); {findings} findings",
        times[5], times[0], times[9], cpu[5], cpu[0]
    );

    let (url, count) = stub();
    let cache =
        std::env::temp_dir().join(format!("customs-confusion-bench-{}", std::process::id()));
    let online = Options {
        public: Some(PublicCheck {
            npm: url.clone(),
            pypi: url.clone(),
            crates: url.clone(),
            rubygems: url.clone(),
            hex: url,
            cache_dir: cache.clone(),
            offline: false,
            timeout: Duration::from_secs(5),
        }),
        also_public: Vec::new(),
    };
    let t = Instant::now();
    let cold = scan(&input, &online).expect("scan");
    let cold_t = t.elapsed();
    let cold_n = count.load(Ordering::SeqCst);
    let t = Instant::now();
    let warm = scan(&input, &online).expect("scan");
    let warm_t = t.elapsed();
    let warm_n = count.load(Ordering::SeqCst) - cold_n;
    assert_eq!(cold, warm);
    println!(
        "online cold: {cold_t:?}, {cold_n} requests; warm cache: {warm_t:?}, {warm_n} requests"
    );
    let _ = std::fs::remove_dir_all(cache);
    assert_eq!(warm_n, 0, "a warm cache issues no request");
}

#[allow(dead_code)]
pub fn by_kind() {
    let input = tree();
    for suffix in [
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "uv.lock",
        "Cargo.lock",
        "poetry.lock",
        "Gemfile.lock",
    ] {
        let sub = Input {
            files: input
                .files
                .iter()
                .filter(|(p, _)| {
                    p.ends_with(suffix) || p.ends_with(".npmrc") || p.ends_with("pyproject.toml")
                })
                .cloned()
                .collect(),
            env: Vec::new(),
        };
        let t = Instant::now();
        for _ in 0..5 {
            let _ = scan(&sub, &Options::default());
        }
        println!("{suffix}: {:?}", t.elapsed() / 5);
    }
}
