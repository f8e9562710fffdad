#!/usr/bin/env bash
# A fresh failover pair of our daemons on loopback with one pool of N
# addresses (default 1,048,574: a /12), MAAS's split 255, MCLT 3600 and
# max-unacked-updates 10. Reports: seconds until the primary serves, until
# both are NORMAL, until the pool is balanced (the secondary holds half as
# BACKUP), and each server's largest RSS meanwhile (sampled every 5 s).
#   benches/scripts/pool-scale.sh [PREFIX_LEN]   (12: 1M addresses, 16: 61k)
# Needs a release build: cargo build --release -p dhcpd. Loopback only.
set -euo pipefail
len=${1:-12}
. "$(dirname "$0")/lib.sh"
dir=$(mktemp -d /tmp/pool-scale.XXXXXX)
pids=(0 0)
trap bench_cleanup EXIT
net=127.16.0.0
last=$(python3 -c "import ipaddress as i; n=i.ip_network('$net/$len'); print(n.broadcast_address-1)")
for role in primary secondary; do
  pair_toml $role "$net/$len" 127.16.0.1 "$last" 38649 10 6 600 >"$dir/$role.toml"
done
t0=$(now)
port=36790
i=0
for role in primary secondary; do
  "$bin" run --config "$dir/$role.toml" --server-port $((port++)) --quiet \
    --control-socket "$dir/$role.sock" >"$dir/$role.log" 2>&1 &
  pids[$i]=$!
  i=$((i + 1))
done
until grep -q "serving sockets" "$dir/primary.log"; do sleep 0.05; done
serving=$(echo "$(now) - $t0" | bc)
until grep -q "state=normal partner=normal" "$dir/primary.log" && grep -q "state=normal partner=normal" "$dir/secondary.log"; do sleep 0.1; done
normal=$(echo "$(now) - $t0" | bc)
size=$(("$(python3 -c "import ipaddress as i; print(int(i.ip_address('$last')) - int(i.ip_address('127.16.0.1')) + 1)")"))
rss=(0 0)
while :; do
  for i in 0 1; do
    r=$(rss_kib "${pids[$i]}")
    [ "$r" -gt "${rss[$i]}" ] && rss[$i]=$r
  done
  backup=$("$bin" status --socket "$dir/secondary.sock" | awk '$1 ~ /^127\.16/ {print $6}')
  [ "${backup:-0}" -ge $((size / 2)) ] && break
  sleep 5
done
balanced=$(echo "$(now) - $t0" | bc)
printf 'pool %d addresses: serving %.1f s, NORMAL %.1f s, balanced (%d BACKUP) %.0f s, max RSS primary %d MiB, secondary %d MiB\n' \
  "$size" "$serving" "$normal" "$backup" "$balanced" $((rss[0] / 1024)) $((rss[1] / 1024))
