#!/usr/bin/env bash
# Run cargo-fuzz campaigns one after the other and keep libFuzzer's summary.
#   scripts/fuzz.sh SECONDS CRATE:TARGET [CRATE:TARGET...]
#   scripts/fuzz.sh 600 customs-ospkg:apk customs-ospkg:dpkg
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable through
# RUSTC_BOOTSTRAP=1. Logs go to target/fuzz-logs/CRATE-TARGET.log; the last
# lines of each (executions, coverage, crashes) are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:?usage: fuzz.sh SECONDS CRATE:TARGET...}
shift
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
logs=$PWD/target/fuzz-logs
mkdir -p "$logs"
export RUSTC_BOOTSTRAP=1
for spec in "$@"; do
  crate=${spec%%:*}
  target=${spec##*:}
  log="$logs/$crate-$target.log"
  echo "== $crate $target: ${secs}s (log: $log)"
  start=$(date +%s)
  status=ok
  (cd "crates/$crate" && cargo fuzz run "$target" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1) >"$log" 2>&1 || status="FAILED (exit $?)"
  end=$(date +%s)
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1 || true)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  echo "   $status; wall $((end - start))s; execs ${execs:-?}; ${cov:-no coverage line}"
done
