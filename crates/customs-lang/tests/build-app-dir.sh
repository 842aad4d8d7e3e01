#!/usr/bin/env bash
# Assemble the application directory of the language-packages acceptance image
# from real published artifacts (no file here is written by us):
#   - old PyPI wheels (pip download --no-deps --only-binary=:all:), unzipped into
#     OUT/usr/local/lib/python3.11/dist-packages
#   - npm tarballs (npm pack NAME@VERSION), extracted into OUT/app/node_modules/NAME
#     (esbuild-linux-64 ships a Go binary built in module mode: Go modules + stdlib)
#   - a Go program from a Debian bookworm package (apt-get download + dpkg-deb -x),
#     copied into OUT/usr/local/bin (Debian builds in GOPATH mode: main module + stdlib)
# Usage: build-app-dir.sh OUT_DIR. Idempotent: does nothing when OUT_DIR/.complete exists.
set -euo pipefail

OUT=${1:?usage: build-app-dir.sh OUT_DIR}
if [ -f "$OUT/.complete" ]; then
  echo "build-app-dir: $OUT is complete, nothing to do"
  exit 0
fi

PY_WHEELS=(requests==2.25.1 urllib3==1.26.4 jinja2==2.11.2 idna==2.10 certifi==2022.9.24)
NPM_PKGS=(lodash@4.17.15 minimist@1.2.0 esbuild-linux-64@0.14.0)
DEB_PKG=mkcert      # Built-Using: golang-1.19 (= 1.19.8-2)
DEB_BIN=usr/bin/mkcert

for tool in pip npm apt-get dpkg-deb python3; do
  command -v "$tool" >/dev/null || { echo "build-app-dir: $tool is required" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$OUT"

# Python wheels: a wheel is a zip whose root is the site-packages layout.
site="$OUT/usr/local/lib/python3.11/dist-packages"
mkdir -p "$site" "$work/wheels"
pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
  --dest "$work/wheels" "${PY_WHEELS[@]}"
for whl in "$work"/wheels/*.whl; do
  python3 -m zipfile -e "$whl" "$site"
done

# npm tarballs: package/ inside each tarball becomes node_modules/NAME.
mkdir -p "$OUT/app/node_modules" "$work/npm"
for spec in "${NPM_PKGS[@]}"; do
  name=${spec%@*}
  (cd "$work/npm" && npm pack --silent "$spec" >/dev/null)
  tgz=$(ls "$work"/npm/"${name//\//-}"-*.tgz)
  mkdir -p "$OUT/app/node_modules/$name"
  tar -xzf "$tgz" -C "$OUT/app/node_modules/$name" --strip-components=1
  rm -f "$tgz"
done
# A minimal application manifest naming its direct dependencies.
cat >"$OUT/app/package.json" <<'JSON'
{
  "name": "customs-acceptance-app",
  "version": "1.0.0",
  "private": true,
  "dependencies": { "lodash": "4.17.15", "minimist": "1.2.0", "esbuild-linux-64": "0.14.0" }
}
JSON

# A Go program from Debian bookworm.
mkdir -p "$OUT/usr/local/bin" "$work/deb"
if ! (cd "$work/deb" && apt-get download "$DEB_PKG" >/dev/null 2>&1); then
  apt-get update >/dev/null
  (cd "$work/deb" && apt-get download "$DEB_PKG" >/dev/null)
fi
dpkg-deb -x "$work"/deb/*.deb "$work/deb/x"
install -m 0755 "$work/deb/x/$DEB_BIN" "$OUT/usr/local/bin/$(basename "$DEB_BIN")"

touch "$OUT/.complete"
echo "build-app-dir: assembled $OUT"
