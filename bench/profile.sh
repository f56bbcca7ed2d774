#!/usr/bin/env bash
# Profiles sockio (bench/goserver, pinned to core 0, GOMAXPROCS=1) under
# the echo, broadcast and connect scenarios of compare.sh, with the load generator on
# core 1: a CPU profile and heap profiles taken while the load runs, and
# their `go tool pprof -top` summaries; then the heap and Go memory split of
# IDLE_N idle connections. Bounded: about 1.5 minutes.
#
#   bash bench/profile.sh            # 100 echo clients; broadcast to 10,000; connects in rounds of 5,000; 10,000 idle
#   BC_N=2000 IDLE_N=2000 bash bench/profile.sh
#
# Output in bench/results/profile/: <scenario>.cpu.pprof, <scenario>.heap.pprof,
# <scenario>.{cpu,alloc,inuse}.top.txt, idle.heap.pprof, idle.inuse.top.txt,
# idle.memstats.json (before and with the connections), runs.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

ECHO_C=${ECHO_C:-100}
BC_N=${BC_N:-10000}
IDLE_N=${IDLE_N:-10000}
CONN_N=${CONN_N:-5000}
SECS=${SECS:-10}
OUT=bench/results/profile
mkdir -p "$OUT"
WORK=$(mktemp -d)
SPID=
LPID=
cleanup() {
  [[ -n $LPID ]] && kill "$LPID" 2>/dev/null || true
  [[ -n $SPID ]] && kill "$SPID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

(cd bench && go build -o "$WORK/sockio-bench" ./cmd/sockio-bench &&
  go build -o "$WORK/goserver" ./goserver)
: >"$OUT/runs.jsonl"
{
  echo "sockio: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt"

# start_server: a fresh pinned server with pprof; sets SPID, addr and pprof.
start_server() {
  GOMAXPROCS=1 taskset -c 0 "$WORK/goserver" --port 0 --pprof 127.0.0.1:0 >"$WORK/server.out" 2>&1 &
  SPID=$!
  for _ in $(seq 100); do (($(wc -l <"$WORK/server.out") >= 2)) && break; sleep 0.1; done
  addr=$(sed -n 's/^listening on //p' "$WORK/server.out")
  pprof=$(sed -n 's/^pprof on //p' "$WORK/server.out")
  [[ -n $addr && -n $pprof ]] || { echo "profile.sh: server did not start" >&2; exit 1; }
}

stop_server() {
  kill "$SPID"; wait "$SPID" 2>/dev/null || true
  SPID=
}

# profile NAME [bench args...]: fresh server, load in the background, profiles
# taken a warm-up after the load starts and while it runs.
profile() {
  local name=$1; shift
  start_server
  timeout 120 taskset -c 1 "$WORK/sockio-bench" "$@" -addr "$addr" -pid "$SPID" -label sockio -brief \
    -out "$OUT/runs.jsonl" -timeout 100s >"$WORK/load.out" 2>&1 &
  LPID=$!
  # Wait for the measured phase (connections up), then profile it.
  sleep "${WARM_WAIT:-4}"
  curl -sf --max-time $((SECS + 10)) -o "$OUT/$name.cpu.pprof" "http://$pprof/debug/pprof/profile?seconds=$SECS"
  curl -sf --max-time 10 -o "$OUT/$name.heap.pprof" "http://$pprof/debug/pprof/heap"
  wait "$LPID" || echo "profile.sh: load for $name failed" >&2
  LPID=
  cat "$WORK/load.out"
  stop_server
  go tool pprof -top -nodecount=30 "$WORK/goserver" "$OUT/$name.cpu.pprof" >"$OUT/$name.cpu.top.txt" 2>/dev/null
  go tool pprof -top -nodecount=30 -sample_index=alloc_space "$WORK/goserver" "$OUT/$name.heap.pprof" >"$OUT/$name.alloc.top.txt" 2>/dev/null
  go tool pprof -top -nodecount=30 -sample_index=inuse_space "$WORK/goserver" "$OUT/$name.heap.pprof" >"$OUT/$name.inuse.top.txt" 2>/dev/null
  echo "== $name: CPU"; sed -n '1,18p' "$OUT/$name.cpu.top.txt"
}

profile echo echo -c "$ECHO_C" -warmup 1s -duration $((SECS + 6))s
WARM_WAIT=${BC_WARM_WAIT:-8} profile broadcast broadcast -n "$BC_N" -singles 0 -warmup 1s -duration $((SECS + 8))s
# Connection churn: rounds of CONN_N connects (each round's connections
# close before the next), profiled for SECS seconds from the first one.
start_server
curl -sf --max-time $((SECS + 10)) -o "$OUT/connect.cpu.pprof" "http://$pprof/debug/pprof/profile?seconds=$SECS" &
CPID=$!
end=$((SECONDS + SECS))
while ((SECONDS < end)); do
  timeout 60 taskset -c 1 "$WORK/sockio-bench" connect -n "$CONN_N" -settle 0s -addr "$addr" -pid "$SPID" -label sockio \
    -brief -out "$OUT/runs.jsonl" -timeout 50s >"$WORK/load.out" 2>&1 || echo "profile.sh: connect load failed" >&2
done
wait "$CPID" || echo "profile.sh: connect profile failed" >&2
cat "$WORK/load.out"
stop_server
go tool pprof -top -nodecount=30 "$WORK/goserver" "$OUT/connect.cpu.pprof" >"$OUT/connect.cpu.top.txt" 2>/dev/null
echo "== connect: CPU"; sed -n '1,18p' "$OUT/connect.cpu.top.txt"

# Idle connections: heap profile and the Go memory split (/debug/gc answers
# with heap_inuse, stack_inuse and goroutines after a collection).
start_server
curl -sf --max-time 10 "http://$addr/debug/gc" >"$WORK/before.json"
timeout 60 taskset -c 1 "$WORK/sockio-bench" connect -n "$IDLE_N" -settle 12s -addr "$addr" -pid "$SPID" -label sockio \
  -gc-url "http://$addr/debug/gc" -brief -out "$OUT/runs.jsonl" -timeout 50s >"$WORK/load.out" 2>&1 &
LPID=$!
port=${addr##*:}
for _ in $(seq 300); do # until every connection is up (the settle keeps them open)
  n=$(ss -Htn state established "( sport = :$port )" 2>/dev/null | wc -l) || true
  ((${n:-0} >= IDLE_N)) && break
  sleep 0.2
done
sleep 1
curl -sf --max-time 10 "http://$addr/debug/gc" >"$WORK/after.json"
curl -sf --max-time 10 -o "$OUT/idle.heap.pprof" "http://$pprof/debug/pprof/heap"
printf '{"connections":%d,"before":%s,"after":%s}\n' "$IDLE_N" "$(cat "$WORK/before.json")" "$(cat "$WORK/after.json")" >"$OUT/idle.memstats.json"
wait "$LPID" || echo "profile.sh: idle load failed" >&2
LPID=
cat "$WORK/load.out"
stop_server
go tool pprof -top -nodecount=30 -sample_index=inuse_space "$WORK/goserver" "$OUT/idle.heap.pprof" >"$OUT/idle.inuse.top.txt" 2>/dev/null
echo "== idle: $(cat "$OUT/idle.memstats.json")"
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/machine.txt"
