# Shared by the benchmark scripts (sourced, not run): the release daemon,
# timing, RSS, failover states over the control socket, a one-relationship
# pair's configuration, and clean-up. Loopback only.
bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$bench_root/target/release/dhcpd

now() { date +%s.%N; }
# Seconds since $1 (a `now`), one decimal.
since() { printf '%.1f' "$(echo "$(now) - $1" | bc)"; }
# Resident set of process $1, KiB.
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# How many relationships of the server behind socket $1 are in state $2.
count() {
  "$bin" failover status --socket "$1" --json 2>/dev/null | python3 -c '
import json, sys
want = sys.argv[1]
def walk(v):
    if isinstance(v, dict):
        if "local_state" in v:
            yield v["local_state"]
        for x in v.values():
            yield from walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from walk(x)
print(sum(1 for s in walk(json.load(sys.stdin)) if s == want))' "$2" 2>/dev/null || echo 0
}

# The state of the (first) relationship of the server behind socket $1.
state() {
  "$bin" failover status --socket "$1" --json 2>/dev/null |
    python3 -c 'import json,sys,re; t=sys.stdin.read(); m=re.search(r"\"local_state\": *\"([a-z-]+)\"", t); print(m.group(1) if m else "")' 2>/dev/null || true
}

# pair_toml ROLE SUBNET FIRST LAST PORT WINDOW DELAY LEASE: the
# configuration of one side of relationship "fo" (primary 127.0.0.1,
# secondary 127.0.0.2; the primary with MAAS's MCLT 3600 and split 255),
# one pool FIRST-LAST, max-unacked-updates WINDOW, max-response-delay
# DELAY, default lease time LEASE; the store in $dir.
pair_toml() {
  local role=$1 me peer extra
  if [ "$role" = primary ]; then me=127.0.0.1 peer=127.0.0.2 extra=$'mclt = 3600\nsplit = 255'; else me=127.0.0.2 peer=127.0.0.1 extra=""; fi
  cat <<CONF
[server]
store = "$dir/store-$role"
interfaces = ["lo"]
[lease_time]
default = $8
[[subnets]]
subnet = "$2"
[[subnets.pools]]
start = "$3"
end = "$4"
failover_peer = "fo"
[[failover]]
name = "fo"
role = "$role"
address = "$me"
port = $5
peer_address = "$peer"
peer_port = $5
max_response_delay = $7
max_unacked_updates = $6
$extra
CONF
}

# Kills the daemons in ${pids[@]} (0: none) by PID and removes $dir (kept,
# and named, with KEEP=1). Install with: trap bench_cleanup EXIT
bench_cleanup() {
  for p in "${pids[@]}"; do [ "$p" -gt 0 ] && kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept $dir" >&2; else rm -rf "$dir"; fi
}
