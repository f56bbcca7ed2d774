#!/usr/bin/env bash
# A/B one lever: bench/goserver built from a base revision (A) against the
# working tree (B), alternating A B A B, each on a fresh server pinned to
# core 0 (GOMAXPROCS=1) with sockio-bench on core 1, as compare.sh does.
#
#   bash bench/ab.sh [--base REV] [--rounds N] SCENARIO [sockio-bench flags...]
#   bash bench/ab.sh broadcast -n 10000 -singles 10 -duration 4s
#   bash bench/ab.sh --base HEAD~2 echo -c 100 -duration 3s
#
# Default base: HEAD (so B is the uncommitted change); default rounds: 3.
# Prints one `-brief` line per run and writes JSON lines to
# bench/results/ab/raw.jsonl (labels "A <rev>" and "B").
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=HEAD
ROUNDS=3
while (($#)); do
  case $1 in
    --base) BASE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
(($#)) || { echo "ab.sh: name a scenario (echo, broadcast, connect)" >&2; exit 2; }
SCENARIO=$1; shift

WORK=$(mktemp -d)
SPID=
cleanup() {
  [[ -n $SPID ]] && kill "$SPID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)"
SRV=(taskset -c 0); GEN=(taskset -c 1)
(($(nproc) >= 2)) || { SRV=(); GEN=(); echo "ab.sh: fewer than 2 cores, unpinned" >&2; }

rev=$(git rev-parse --short "$BASE")
mkdir -p "$WORK/a"
git archive "$rev" | tar -x -C "$WORK/a"
# bench/ is a module of its own since issue #17; a base revision from
# before that builds goserver in the library module.
if [[ -f $WORK/a/bench/go.mod ]]; then
  (cd "$WORK/a/bench" && go build -o "$WORK/goserver-a" ./goserver)
else
  (cd "$WORK/a" && go build -o "$WORK/goserver-a" ./bench/goserver)
fi
(cd bench && go build -o "$WORK/goserver-b" ./goserver &&
  go build -o "$WORK/sockio-bench" ./cmd/sockio-bench)

OUT=bench/results/ab
mkdir -p "$OUT"
: >"$OUT/raw.jsonl"

run() { # run LABEL BINARY
  local out=$WORK/server.out line=
  : >"$out"
  GOMAXPROCS=1 "${SRV[@]}" "$2" --port 0 >"$out" 2>>"$OUT/server.log" &
  SPID=$!
  for _ in $(seq 100); do
    line=$(head -n1 "$out")
    [[ $line == "listening on "* ]] && break
    sleep 0.1
  done
  local addr=${line#listening on }
  sleep 0.3
  local args=("$@"); args=("${args[@]:2}")
  timeout 120 "${GEN[@]}" "$WORK/sockio-bench" "$SCENARIO" -addr "$addr" -pid "$SPID" -label "$1" \
    -brief -out "$OUT/raw.jsonl" "${args[@]//@ADDR@/$addr}" || echo "FAILED: $1"
  kill "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
  SPID=
}

echo "A = $rev, B = working tree; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
  run "A $rev" "$WORK/goserver-a" "$@"
  run "B" "$WORK/goserver-b" "$@"
done
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
