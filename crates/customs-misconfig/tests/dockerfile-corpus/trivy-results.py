#!/usr/bin/env python3
"""Record Trivy's Dockerfile results for the corpus in trivy.json.

    python3 trivy-results.py /path/to/trivy

Runs `trivy config` once over files/ (offline: the checks bundled in the
binary, no check or DB download) and writes, for every manifest file, the
sorted IDs of the checks that failed. The corpus test compares them with
what customs reports; see README.md.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

here = Path(__file__).resolve().parent
trivy = sys.argv[1] if len(sys.argv) > 1 else "trivy"
manifest = json.loads((here / "manifest.json").read_text())
with tempfile.TemporaryDirectory() as cache:
    out = subprocess.run(
        [trivy, "config", "--quiet", "--skip-check-update", "--cache-dir", cache,
         "--format", "json",
         # Names Trivy does not pick up by itself (Dockerfile.oracle, *.Dockerfile).
         "--file-patterns", r"dockerfile:(^|/)([Dd]ockerfile(\.[^/]*)?|[^/]*\.[Dd]ockerfile)$",
         str(here / "files")],
        check=True, capture_output=True, text=True).stdout
report = json.loads(out)
found = {}
for r in report.get("Results") or []:
    ids = sorted({m["ID"] for m in r.get("Misconfigurations") or [] if m.get("Status") == "FAIL"})
    found["files/" + r["Target"]] = ids
result = {}
for e in manifest:
    # A file without findings may be left out of Trivy's results.
    result[e["file"]] = found.get(e["file"], [])
(here / "trivy.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
missing = [e["file"] for e in manifest if e["file"] not in found]
print(f"{len(result)} files, {len(missing)} without Trivy results: {missing}")
