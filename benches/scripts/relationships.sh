#!/usr/bin/env bash
# A rack pair serving N VLANs (default 64), as MAAS renders it: one failover
# relationship per VLAN, each with its own subnet and pool (a /24, 200
# addresses), its own local address on each server and the default port,
# MAAS's parameters (split 255, MCLT 3600, max-unacked-updates 10,
# max-response-delay 60). Both servers start from empty stores on loopback.
# Reports: seconds until every relationship is NORMAL on both servers; the
# RSS of each server then; after a SIGKILL of the secondary, seconds until
# every relationship of the primary is COMMUNICATIONS-INTERRUPTED, then
# until all are PARTNER-DOWN after one partner-down command each; and, with
# the secondary restarted, until all have recovered to RECOVER-WAIT (where
# they wait out MCLT before NORMAL).
#   benches/scripts/relationships.sh [N]
# Needs a release build: cargo build --release -p dhcpd. Loopback only.
set -euo pipefail
n=${1:-64}
. "$(dirname "$0")/lib.sh"
dir=$(mktemp -d /tmp/relationships.XXXXXX)
pids=(0 0)
trap bench_cleanup EXIT
for role in primary secondary; do
  if [ $role = primary ]; then mine=1 theirs=2 extra=$'mclt = 3600\nsplit = 255'; else mine=2 theirs=1 extra=""; fi
  {
    printf '[server]\nstore = "%s/store-%s"\ninterfaces = ["lo"]\n[lease_time]\ndefault = 600\n' "$dir" "$role"
    for ((v = 0; v < n; v++)); do
      cat <<CONF
[[subnets]]
subnet = "127.30.$v.0/24"
[[subnets.pools]]
start = "127.30.$v.20"
end = "127.30.$v.219"
failover_peer = "failover-vlan-$((5001 + v))"
[[failover]]
name = "failover-vlan-$((5001 + v))"
role = "$role"
address = "127.31.$v.$mine"
port = 647
peer_address = "127.31.$v.$theirs"
peer_port = 647
max_response_delay = 60
max_unacked_updates = 10
load_balance_max_seconds = 3
$extra
CONF
    done
  } >"$dir/$role.toml"
done
start() { # role index
  "$bin" run --config "$dir/$1.toml" --server-port $((36800 + $2)) --quiet \
    --control-socket "$dir/$1.sock" >>"$dir/$1.log" 2>&1 &
  pids[$2]=$!
}
wait_all() { # socket state n timeout
  local end=$(($(date +%s) + $4))
  until [ "$(count "$1" "$2")" -ge "$3" ]; do
    [ "$(date +%s)" -lt $end ] || { echo "timeout: $(count "$1" "$2") of $3 in $2 on $1" >&2; tail -5 "$dir"/*.log >&2; exit 1; }
    sleep 0.1
  done
}
t0=$(now)
start primary 0
start secondary 1
wait_all "$dir/primary.sock" normal "$n" 120
wait_all "$dir/secondary.sock" normal "$n" 120
normal=$(since "$t0")
rss_p=$(($(rss_kib "${pids[0]}") / 1024)) rss_s=$(($(rss_kib "${pids[1]}") / 1024))
kill -9 "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true; pids[1]=0
t1=$(now)
wait_all "$dir/primary.sock" communications-interrupted "$n" 120
interrupted=$(since "$t1")
t2=$(now)
for ((v = 0; v < n; v++)); do
  "$bin" failover partner-down "failover-vlan-$((5001 + v))" --socket "$dir/primary.sock" >/dev/null
done
wait_all "$dir/primary.sock" partner-down "$n" 60
partner_down=$(since "$t2")
t3=$(now)
start secondary 1
# It recovers (RECOVER, UPDREQALL) and waits out MCLT in RECOVER-WAIT.
wait_all "$dir/secondary.sock" recover-wait "$n" 600
back=$(since "$t3")
printf '%d relationships: all NORMAL %s s after start (RSS primary %s MiB, secondary %s MiB); secondary SIGKILLed: all COMMUNICATIONS-INTERRUPTED in %s s; %d partner-down commands: all PARTNER-DOWN in %s s; secondary restarted: all through RECOVER to RECOVER-WAIT (MCLT) in %s s\n' \
  "$n" "$normal" "$rss_p" "$rss_s" "$interrupted" "$n" "$partner_down" "$back"
