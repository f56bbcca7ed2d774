#!/usr/bin/env bash
# Runs the whole gorilla / gws / coder comparison, bounded in time (~3.5 min).
#
#   bash run.sh                 # the comparison: idle memory, echo, broadcast, probe
#   ROUNDS=1 bash run.sh        # quick look
#   TESTS=variants OUT=results/variants bash run.sh
#                               # echo 1 KiB with strict UTF-8 on (all libs) and
#                               # coder with a non-cancellable context (~1.5 min)
#
# A time budget (BUDGET seconds, default 185) is checked before every run:
# once spent, the remaining runs are skipped and the summary says so.
#
# Server pinned to core 0, load generator to core 1, 127.0.0.x only. Every
# measurement is run in alternation A B C, A B C, ... with a fresh server
# process each time; summarize prints the medians over rounds.
set -euo pipefail
cd "$(dirname "$0")"

ROUNDS=${ROUNDS:-3}
ECHO_DUR=${ECHO_DUR:-5s}
IDLE_N=${IDLE_N:-5000}
BCAST_N=${BCAST_N:-1000}
LIBS=(gorilla gws coder)
TESTS=${TESTS:-idle echo bcast probe}
BUDGET=${BUDGET:-185}
OUT=${OUT:-results}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"; [[ -n "${SP:-}" ]] && kill "$SP" 2>/dev/null || true' EXIT

mkdir -p "$OUT"
RAW="$OUT/raw.jsonl"
: >"$RAW"
ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) >= IDLE_N + 200 )) || { echo "ulimit -n $(ulimit -n) too low for $IDLE_N conns" >&2; exit 1; }

go build -o "$BIN/server" ./cmd/server
go build -o "$BIN/load" ./cmd/load
go build -o "$BIN/summarize" ./cmd/summarize
go build -o "$BIN/probe" ./cmd/probe

{
  echo "date: $(date -u +%FT%TZ)"
  echo "nproc: $(nproc)"
  echo "go: $(go version)"
  echo "kernel: $(uname -sr)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "ulimit -n: $(ulimit -n)"
  go list -m github.com/gorilla/websocket github.com/lxzan/gws github.com/coder/websocket
} >"$OUT/machine.txt"

START=$SECONDS
port=9300
SP=
has() { [[ " $TESTS " == *" $1 "* ]]; }
skipped=0
# run LIB PROFILE LABEL SERVER_FLAG -- load args...
run() {
  local lib=$1 prof=$2 label=$3 sflag=$4; shift 5
  if (( SECONDS - START > BUDGET )); then
    echo "SKIPPED (budget ${BUDGET}s spent): $label $*" | tee -a "$OUT/machine.txt" >&2
    skipped=$((skipped + 1)); return 0
  fi
  port=$((port + 1))
  taskset -c 0 "$BIN/server" -lib "$lib" -profile "$prof" $sflag -addr "127.0.0.1:$port" 2>>"$OUT/server.log" &
  SP=$!
  if ! timeout 10 taskset -c 1 "$BIN/load" -addr "127.0.0.1:$port" -mode wait; then
    echo "FAILED to start: $lib $prof" >&2
  elif ! timeout 40 taskset -c 1 "$BIN/load" -addr "127.0.0.1:$port" -pid "$SP" -label "$label" "$@" >>"$RAW"; then
    echo "FAILED: $lib $prof $*" >&2
  fi
  kill "$SP"; wait "$SP" 2>/dev/null || true; SP=
  tail -n1 "$RAW" | cut -c1-200
}

for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r ($((SECONDS - START)) s)"
  if has idle; then
    for prof in default lowmem; do
      for lib in "${LIBS[@]}"; do run "$lib" "$prof" "$lib/$prof" "" -- -mode idle -n "$IDLE_N"; done
    done
  fi
  if has echo; then
    for size in 64 1024; do
      for lib in "${LIBS[@]}"; do run "$lib" default "$lib" "" -- -mode echo -n 100 -size "$size" -dur "$ECHO_DUR"; done
    done
  fi
  if has bcast; then
    for lib in "${LIBS[@]}"; do run "$lib" default "$lib" "" -- -mode bcast -n "$BCAST_N" -size 512 -k 20; done
  fi
  if has variants; then
    # strict UTF-8 validation of text messages switched on (whole message;
    # incremental through the streaming reader), and coder with a plain
    # context.Background()
    for lib in "${LIBS[@]}"; do run "$lib" default "$lib+utf8" -utf8=message -- -mode echo -n 100 -size 1024 -dur "$ECHO_DUR"; done
    for lib in gorilla coder; do run "$lib" default "$lib+utf8stream" -utf8=stream -- -mode echo -n 100 -size 1024 -dur "$ECHO_DUR"; done
    run coder default "coder+bgctx" -coder-bg -- -mode echo -n 100 -size 1024 -dur "$ECHO_DUR"
  fi
done
# RFC 6455 edge-case spot check (Autobahn 6.x/7.x-like): library defaults,
# strict UTF-8 on whole messages, and (gorilla, coder) incremental validation
# through the streaming reader
has probe && : >"$OUT/probe.jsonl"
has probe && for lib in "${LIBS[@]}"; do
  for sflag in "" -utf8=message -utf8=stream; do
    [[ $lib == gws && $sflag == -utf8=stream ]] && continue
    port=$((port + 1))
    "$BIN/server" -lib "$lib" $sflag -addr "127.0.0.1:$port" 2>>"$OUT/server.log" &
    SP=$!
    timeout 10 "$BIN/load" -addr "127.0.0.1:$port" -mode wait || true
    timeout 20 "$BIN/probe" -addr "127.0.0.1:$port" -label "$lib$sflag" >>"$OUT/probe.jsonl" || echo "probe failed: $lib $sflag" >&2
    kill "$SP"; wait "$SP" 2>/dev/null || true; SP=
  done
done

echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
echo "total: $((SECONDS - START)) s" >>"$OUT/machine.txt"

"$BIN/summarize" "$RAW" "$OUT/probe.jsonl" | tee "$OUT/summary.md"
echo "done in $((SECONDS - START)) s; raw: $RAW; runs skipped for time: $skipped"
