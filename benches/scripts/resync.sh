#!/usr/bin/env bash
# Full resynchronisation of a large table over the failover link: a primary
# whose store holds N ACTIVE leases (default 1,000,000, written by
# seed-store, saved state NORMAL) and a secondary with an empty store (a new
# relationship: RECOVER). The secondary asks for every binding (UPDREQALL),
# the primary (now PARTNER-DOWN) sends them as BNDUPDs, the secondary makes
# each durable before its BNDACK, and UPDDONE takes it to RECOVER-WAIT.
# Pool: 127.16.0.0/12 (1,048,574 addresses), split 255, MCLT 3600,
# max-unacked-updates W (default 10, MAAS's). Reports seconds from start
# until the secondary is in RECOVER-WAIT, the updates per second, and each
# server's largest RSS meanwhile (sampled twice a second).
#   benches/scripts/resync.sh [N] [W]
# Needs release builds: cargo build --release -p dhcpd -p benches --bins.
# Loopback only.
set -euo pipefail
n=${1:-1000000}
window=${2:-10}
. "$(dirname "$0")/lib.sh"
dir=$(mktemp -d /tmp/resync.XXXXXX)
pids=(0 0)
trap bench_cleanup EXIT
for role in primary secondary; do
  pair_toml $role 127.16.0.0/12 127.16.0.1 127.31.255.254 38651 "$window" 60 86400 >"$dir/$role.toml"
done
"$bench_root/target/release/seed-store" --store "$dir/store-primary" --pool 127.16.0.1-127.31.255.254 \
  --count "$n" --relationship fo --lease-secs 86400 >/dev/null
t0=$(now)
port=36900
i=0
for role in primary secondary; do
  "$bin" run --config "$dir/$role.toml" --server-port $((port++)) --quiet \
    --control-socket "$dir/$role.sock" ${DHCPD_ARGS:-} >"$dir/$role.log" 2>&1 &
  pids[$i]=$!
  i=$((i + 1))
done
rss=(0 0)
end=$(($(date +%s) + 1800))
while :; do
  for i in 0 1; do
    r=$(rss_kib "${pids[$i]}")
    [ "$r" -gt "${rss[$i]}" ] && rss[$i]=$r
  done
  s=$(state "$dir/secondary.sock")
  [ "$s" = recover-wait ] || [ "$s" = recover-done ] || [ "$s" = normal ] && break
  [ "$(date +%s)" -lt $end ] || { echo "timeout, secondary in '$s'" >&2; tail -5 "$dir"/*.log >&2; exit 1; }
  sleep 0.5
done
took=$(echo "$(now) - $t0" | bc)
# What the secondary holds now (pool figures: the ACTIVE column).
for s in primary secondary; do "$bin" status --socket "$dir/$s.sock"; done | grep -E '^ *(POOL|127\.16)' >&2 || true
printf '%d ACTIVE leases, window %d: secondary in RECOVER-WAIT %.1f s after start (%.0f updates/s), max RSS primary %d MiB, secondary %d MiB\n' \
  "$n" "$window" "$took" "$(echo "$n / $took" | bc -l)" $((rss[0] / 1024)) $((rss[1] / 1024))
