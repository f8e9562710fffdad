#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, one after the other on one core:
#   fuzz/run.sh SECONDS [TARGET...]
# First replays fuzz/regressions/<target>/ (every crash found so far), then
# fuzzes from the committed seeds (fuzz/corpus/<target>/, read only) into
# fuzz/work/<target>/ (new inputs; not committed). Prints per target the
# executions, libFuzzer's coverage (cov: edges, ft: features) and the crashes
# (saved in fuzz/artifacts/<target>/); exits 1 on any crash.
# Needs the nightly toolchain and cargo-fuzz (installed here when missing).
# FUZZ_SANITIZER (default none: the fuzzed crates have no unsafe code) may be
# set to address.
set -uo pipefail
cd "$(dirname "$0")"

SECONDS_EACH=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
TARGETS=("$@")
[ "${#TARGETS[@]}" -gt 0 ] || TARGETS=(dhcp_engine failover_frame failover_peer config_toml isc_config kea_config omapi_message control_request)
SAN=${FUZZ_SANITIZER:-none}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "FUZZ: MISSING NIGHTLY TOOLCHAIN: cargo-fuzz needs it (rustup toolchain install nightly); no target was run"
  exit 3
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "FUZZ: cargo-fuzz is not installed; installing it (cargo install cargo-fuzz --locked)"
  if ! cargo install cargo-fuzz --locked >/dev/null 2>&1 || ! cargo fuzz --version >/dev/null 2>&1; then
    echo "FUZZ: MISSING CARGO-FUZZ and it could not be installed; no target was run"
    exit 4
  fi
fi

echo "FUZZ: building ${TARGETS[*]} ($(cargo +nightly --version), sanitizer $SAN)"
if ! cargo +nightly fuzz build -s "$SAN" -a >build.log 2>&1; then
  tail -40 build.log
  echo "FUZZ: the fuzz targets do not build"
  exit 2
fi

failed=0
rows=()
for t in "${TARGETS[@]}"; do
  mkdir -p "work/$t" "artifacts/$t"
  log="work/$t.log"
  : >"$log"
  crashes=0
  # Every recorded crash must stay fixed.
  regs=()
  [ -d "regressions/$t" ] && mapfile -t regs < <(find "regressions/$t" -type f | sort)
  if [ "${#regs[@]}" -gt 0 ]; then
    if ! cargo +nightly fuzz run -s "$SAN" -a "$t" "${regs[@]}" >>"$log" 2>&1; then
      echo "FUZZ: $t: a recorded regression crashes again (see fuzz/$log)"
      crashes=$((crashes + 1))
    fi
  fi
  before=$(find "artifacts/$t" -type f | wc -l)
  cargo +nightly fuzz run -s "$SAN" -a "$t" "work/$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >>"$log" 2>&1
  rc=$?
  after=$(find "artifacts/$t" -type f | wc -l)
  crashes=$((crashes + after - before))
  if [ "$rc" -ne 0 ] && [ "$after" -eq "$before" ]; then
    crashes=$((crashes + 1)) # died without an artifact (e.g. out of memory)
  fi
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  last=$(grep -E '^#[0-9]+' "$log" | grep 'cov:' | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
  rows+=("$(printf '%-16s %6ss %12s %7s %7s %6s %8s' "$t" "$SECONDS_EACH" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes")")
  if [ "$crashes" -ne 0 ]; then
    failed=1
    echo "FUZZ: $t CRASHED (fuzz/$log; inputs in fuzz/artifacts/$t/):"
    grep -m1 -B2 -A12 -E "panicked|ERROR: libFuzzer|SUMMARY" "$log" | head -30
  fi
done

printf '\n%-16s %7s %12s %7s %7s %6s %8s\n' target time execs cov ft corpus crashes
printf '%s\n' "${rows[@]}"
if [ "$failed" -ne 0 ]; then
  echo "FUZZ: CRASHES FOUND"
  exit 1
fi
echo "FUZZ: ${#TARGETS[@]} targets, ${SECONDS_EACH}s each, 0 crashes"
