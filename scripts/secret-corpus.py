#!/usr/bin/env python3
"""Download and unpack the real-library corpus of the secret scanner.

The pinned list is crates/customs-secret/tests/secret-corpus/packages.txt
(`pypi NAME VERSION`: the release's sdist; `npm NAME VERSION`: the package
tarball). Each release is unpacked into
target/secret-corpus/<pypi|npm>/<name>-<version>/ and marked done there, so a
second run downloads nothing (idempotent). PyPI sdists are checked against
the sha256 PyPI publishes for them, npm tarballs against the integrity the
registry gives `npm pack`. Releases no longer in the list are removed.

Usage: python3 scripts/secret-corpus.py [--out DIR] [--jobs N]
"""

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "crates/customs-secret/tests/secret-corpus/packages.txt"
DONE = ".customs-corpus-done"


def read_list():
    out = []
    for n, line in enumerate(LIST.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3 or parts[0] not in ("pypi", "npm"):
            sys.exit(f"{LIST}:{n}: expected `pypi|npm NAME VERSION`, got {line!r}")
        out.append(tuple(parts))
    return out


def dir_name(name, version):
    return f"{name.replace('/', '__').lstrip('@')}-{version}"


def unpack(archive: Path, dest: Path):
    """Unpack into dest, refusing links and paths outside it."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for m in z.infolist():
                target = (tmp / m.filename).resolve()
                if not str(target).startswith(str(tmp.resolve()) + "/"):
                    raise RuntimeError(f"{archive}: entry outside the archive: {m.filename}")
            z.extractall(tmp)
    else:
        with tarfile.open(archive) as t:
            # The `data` filter refuses absolute paths, `..`, device files and
            # links that leave the directory.
            t.extractall(tmp, filter="data")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    (dest / DONE).write_text(archive.name + "\n")


def fetch_pypi(name, version, downloads: Path):
    # The simple index (PEP 691 JSON) lists every file of a project with its
    # sha256; the sdist is the .tar.gz (or old .zip) named for the version.
    norm = re.sub(r"[-_.]+", "-", name).lower()
    req = urllib.request.Request(
        f"https://pypi.org/simple/{norm}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        meta = json.load(r)
    stem = re.compile(
        rf"^{re.sub(r'[-_.]+', '[-_.]', re.escape(norm).replace(chr(92), ''))}-{re.escape(version)}\.(?:tar\.gz|zip)$",
        re.I,
    )
    sdists = [f for f in meta.get("files", []) if stem.match(f["filename"])]
    if not sdists:
        raise RuntimeError(f"pypi {name} {version}: no sdist in the index")
    u = sdists[0]
    dest = downloads / u["filename"]
    want = u["hashes"]["sha256"]
    if not dest.exists() or hashlib.sha256(dest.read_bytes()).hexdigest() != want:
        with urllib.request.urlopen(u["url"], timeout=300) as r, open(dest, "wb") as f:
            shutil.copyfileobj(r, f)
    got = hashlib.sha256(dest.read_bytes()).hexdigest()
    if got != want:
        raise RuntimeError(f"pypi {name} {version}: sha256 {got}, the index says {want}")
    return dest


def fetch_npm(name, version, downloads: Path):
    # `npm pack` checks the tarball against the registry's integrity itself.
    out = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(downloads)],
        check=True, capture_output=True, text=True, cwd=downloads,
    ).stdout
    info = json.loads(out)[0]
    return downloads / info["filename"]


def one(item, out: Path, downloads: Path):
    eco, name, version = item
    dest = out / eco / dir_name(name, version)
    if (dest / DONE).exists():
        return f"ok     {eco} {name} {version}"
    archive = (fetch_pypi if eco == "pypi" else fetch_npm)(name, version, downloads)
    unpack(archive, dest)
    return f"fetched {eco} {name} {version}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "target/secret-corpus")
    ap.add_argument("--jobs", type=int, default=4)
    a = ap.parse_args()
    items = read_list()
    downloads = a.out / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    for eco in ("pypi", "npm"):
        (a.out / eco).mkdir(parents=True, exist_ok=True)
    failed = []
    with ThreadPoolExecutor(a.jobs) as ex:
        futs = {ex.submit(one, it, a.out, downloads): it for it in items}
        for f, it in futs.items():
            try:
                print(f.result(), flush=True)
            except Exception as e:  # noqa: BLE001 - report every failure, then exit 1
                failed.append(f"{' '.join(it)}: {e}")
    # Releases dropped from the list must not stay in the corpus.
    wanted = {(eco, dir_name(n, v)) for eco, n, v in items}
    for eco in ("pypi", "npm"):
        for d in (a.out / eco).iterdir():
            if (eco, d.name) not in wanted:
                shutil.rmtree(d, ignore_errors=True)
                print(f"removed {eco} {d.name}")
    shutil.rmtree(downloads, ignore_errors=True)
    if failed:
        sys.exit("secret corpus: failed:\n  " + "\n  ".join(failed))
    print(f"secret corpus: {len(items)} releases in {a.out}")


if __name__ == "__main__":
    main()
