#!/usr/bin/env bash
# Installs the real services the customs-confusion tests run on 127.0.0.1:
#   target/confusion-services/npm/   Verdaccio 6.8.0 (a private npm registry)
#   target/confusion-services/venv/  pypiserver (a private PyPI index), uv, pip, twine
# Idempotent: a part already installed at the wanted version is left alone.
# Usage: scripts/confusion-services.sh [DIR]   (default: <repo>/target/confusion-services)
# The tests find the services through CUSTOMS_CONFUSION_SERVICES (default: the same dir).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-${CUSTOMS_CONFUSION_SERVICES:-$root/target/confusion-services}}"
mkdir -p "$dir"

# Verdaccio 6.10 wants Node 22; 6.8.0 runs on Node 20 once node-fetch is held
# at 2.7.0 (later 2.x releases of the override chain pull ESM-only code).
npm_dir="$dir/npm"
if [ ! -x "$npm_dir/node_modules/.bin/verdaccio" ] \
   || [ "$(node -p "require('$npm_dir/node_modules/verdaccio/package.json').version" 2>/dev/null)" != "6.8.0" ]; then
  mkdir -p "$npm_dir"
  cat > "$npm_dir/package.json" <<'JSON'
{
  "name": "customs-confusion-services",
  "private": true,
  "dependencies": { "verdaccio": "6.8.0" },
  "overrides": { "node-fetch": "2.7.0" }
}
JSON
  (cd "$npm_dir" && npm install --no-audit --no-fund --loglevel=error)
fi
"$npm_dir/node_modules/.bin/verdaccio" --version >/dev/null

# pypiserver serves a directory of sdists/wheels and accepts uploads;
# uv and pip produce the lockfiles; twine uploads like a user would.
venv="$dir/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
want="pypiserver uv pip twine passlib setuptools wheel build"
if ! "$venv/bin/python" -c 'import pypiserver, passlib' 2>/dev/null \
   || [ ! -x "$venv/bin/uv" ] || [ ! -x "$venv/bin/twine" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want
fi
"$venv/bin/pypi-server" --version >/dev/null 2>&1 || "$venv/bin/python" -m pypiserver --help >/dev/null
"$venv/bin/uv" --version >/dev/null
echo "confusion services ready in $dir"
