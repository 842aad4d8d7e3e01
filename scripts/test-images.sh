#!/usr/bin/env bash
# Build the real Debian test images the tests and benchmarks use, once, into
# target/images/ (each build takes about a minute; existing images are kept).
# Needs root (the builder installs mmdebstrap, umoci and skopeo with apt).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${CUSTOMS_SHARED:-../shared}
out=target/images
mkdir -p "$out"
build() { bash "$shared/scripts/build-test-image.sh" "$@" >/dev/null; }
case "${1:-all}" in
  bookworm|all) build "$out/bookworm.tar" bookworm "python3,openssl,curl" "/usr/share/doc /var/lib/apt/lists" ;;&
  bullseye|all) build "$out/bullseye.tar" bullseye "openssl" "/usr/share/doc" ;;&
  # bookworm + python3 and two Debian-packaged language artifacts (python3-idna
  # dist-info, the mkcert Go binary: OS-owned, not reported twice), with a last layer of real published application
  # artifacts (old PyPI wheels, npm packages, Go binaries): the language image.
  app|all)
    bash crates/customs-lang/tests/build-app-dir.sh target/app-dir >/dev/null
    build "$out/app.tar" bookworm "python3,python3-idna,mkcert" "/usr/share/doc" target/app-dir ;;&
  *) ;;
esac
ls -1 "$out"/*.tar
