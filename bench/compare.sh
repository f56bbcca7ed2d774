#!/usr/bin/env bash
# Side by side: sockio (bench/goserver) against the Node.js reference
# (bench/node/server.mjs, socket.io 4.8.1) and the floor (bench/floor, a
# minimal single-threaded C epoll server: what the kernel costs), same
# contract (bench/contract.md), same load generator (bench/cmd/sockio-bench), same
# machine, same run.
#
#   bash bench/compare.sh            # full sizes, < 15 min
#   bash bench/compare.sh --quick    # small sizes, < 5 min
#   bash bench/compare.sh --repeats 7  # default: 5 (full), 3 (quick)
#
# Each server runs pinned to one core (taskset -c 0, GOMAXPROCS=1 for Go),
# the load generator on the other (taskset -c 1). Every measurement starts a
# fresh server; targets alternate A B A B within each repeat, and the report
# gives the median over the repeats with the min–max spread. A time budget is
# checked before every run: once spent, the rest is skipped and said so.
#
# Output in bench/results/<mode>/: raw.jsonl (one JSON line per run),
# table.md (the ratio tables), chart.svg (echo throughput and p99 against
# client count), machine.txt (machine, versions, load average), and
# previous.jsonl (the run before, the baseline of the regression check).
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=full
REPEATS=
while (($#)); do
  case $1 in
    --quick) MODE=quick ;;
    --repeats) REPEATS=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
# Default repeats: 5 at full size (about 12 min), 3 in quick mode.
if [[ -z $REPEATS ]]; then
  if [[ $MODE == full ]]; then REPEATS=5; else REPEATS=3; fi
fi
((REPEATS >= 1)) || { echo "compare.sh: --repeats must be at least 1" >&2; exit 2; }

if [[ $MODE == full ]]; then
  BUDGET=780          # seconds of measuring, then skip the rest (whole run < 15 min)
  ECHO_CLIENTS="10 100 1000"; ECHO_DUR=4s; WARM=1s
  POLL_CLIENTS=20; POLL_DUR=3s
  CONN_N=10000
  BC_N=10000; BC_DUR=5s; BC_SINGLES=20
  # Broadcasts at a set rate (issue #18's CPU per delivery): clients x broadcasts/s.
  BC_RATES="1000x100 10000x10"; BC_RATE_DUR=4s
  RUN_TIMEOUT=90
else
  BUDGET=240
  ECHO_CLIENTS="100 1000"; ECHO_DUR=2s; WARM=500ms
  POLL_CLIENTS=10; POLL_DUR=1s
  CONN_N=2000
  BC_N=1000; BC_DUR=2s; BC_SINGLES=10
  BC_RATES="1000x100"; BC_RATE_DUR=2s
  RUN_TIMEOUT=40
fi

OUT=bench/results/$MODE
mkdir -p "$OUT"
RAW=$OUT/raw.jsonl
BASELINE=
if [[ -s $RAW ]]; then mv "$RAW" "$OUT/previous.jsonl"; fi
[[ -s $OUT/previous.jsonl ]] && BASELINE=$OUT/previous.jsonl
: >"$RAW"
: >"$OUT/server.log"

WORK=$(mktemp -d)
BIN=$WORK/bin
SPID=
cleanup() {
  [[ -n $SPID ]] && kill "$SPID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)"
if (($(nproc) >= 2)); then
  SRV=(taskset -c 0); GEN=(taskset -c 1)
else
  echo "compare.sh: fewer than 2 cores, running unpinned (numbers are not comparable)" >&2
  SRV=(); GEN=()
fi

echo "== installing and building"
(cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$BIN"
# The Go programs are the bench module's (bench/go.mod); the load generator
# does not compile the library, so a library mid-edit cannot stop it.
(cd bench && go build -o "$BIN/sockio-bench" ./cmd/sockio-bench &&
  go build -o "$BIN/goserver" ./goserver &&
  go build -o "$BIN/rawecho" ./rawecho &&
  go build -o "$BIN/chart" ./chart)
# The floor: C, built here, never committed (gcc; bench/floor/Makefile).
make -s -C bench/floor O="$BIN" "$BIN/floor"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "mode: $MODE, repeats: $REPEATS"
  echo "nproc: $(nproc), memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "kernel: $(uname -sr)"
  echo "go: $(go version)"
  echo "node: $(node --version), socket.io $(node -p "require('./bench/node/node_modules/socket.io/package.json').version")"
  echo "floor: $(gcc --version | head -n1)"
  echo "sockio: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet -- . ':!bench/results' 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "ulimit -n: $(ulimit -n)"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

# start_server TARGET: starts a fresh server pinned to core 0; sets SPID and SADDR.
start_server() {
  local out=$WORK/server.out line=
  : >"$out"
  case $1 in
    node) "${SRV[@]}" node --expose-gc bench/node/server.mjs --port 0 >"$out" 2>>"$OUT/server.log" & ;;
    sockio) GOMAXPROCS=1 "${SRV[@]}" "$BIN/goserver" --port 0 >"$out" 2>>"$OUT/server.log" & ;;
    raw) GOMAXPROCS=1 "${SRV[@]}" "$BIN/rawecho" --port 0 >"$out" 2>>"$OUT/server.log" & ;;
    floor) "${SRV[@]}" "$BIN/floor" --port 0 >"$out" 2>>"$OUT/server.log" & ;;
  esac
  SPID=$!
  for _ in $(seq 100); do
    line=$(head -n1 "$out")
    [[ $line == "listening on "* ]] && break
    sleep 0.1
  done
  [[ $line == "listening on "* ]] || { echo "compare.sh: $1 did not start" >&2; return 1; }
  SADDR=${line#listening on }
  sleep 0.3 # let the runtime settle before the RSS baseline
}

stop_server() {
  kill "$SPID" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SPID" 2>/dev/null || true
  wait "$SPID" 2>/dev/null || true
  SPID=
}

START=$SECONDS
RUNS=0
SKIPPED=0
# measure TARGET SCENARIO [flags...]: one measurement on a fresh server.
measure() {
  local target=$1 scenario=$2; shift 2
  if ((SECONDS - START > BUDGET)); then
    echo "SKIPPED (budget ${BUDGET}s spent): $target $scenario $*" | tee -a "$OUT/machine.txt" >&2
    SKIPPED=$((SKIPPED + 1))
    return 0
  fi
  start_server "$target" || return 0
  local line
  set -- "${@//@ADDR@/$SADDR}" # flags may name the server's address as @ADDR@
  if line=$(timeout $((RUN_TIMEOUT + 15)) "${GEN[@]}" "$BIN/sockio-bench" "$scenario" -addr "$SADDR" -pid "$SPID" \
      -label "$target" -brief -out "$RAW" -timeout "${RUN_TIMEOUT}s" "$@" 2>>"$OUT/server.log"); then
    printf '[%3ds] %s\n' $((SECONDS - START)) "$line"
  else
    echo "FAILED: $target $scenario $* (see $OUT/server.log)" | tee -a "$OUT/machine.txt" >&2
  fi
  RUNS=$((RUNS + 1))
  stop_server
}

for r in $(seq 1 "$REPEATS"); do
  echo "== repeat $r of $REPEATS ($((SECONDS - START)) s, load average $(cut -d' ' -f1 /proc/loadavg))"
  for c in $ECHO_CLIENTS; do
    for t in node sockio raw floor; do
      if [[ $t == raw ]]; then
        measure raw echo -raw -path / -c "$c" -warmup "$WARM" -duration "$ECHO_DUR"
      else
        measure "$t" echo -c "$c" -warmup "$WARM" -duration "$ECHO_DUR"
      fi
    done
  done
  for t in node sockio; do
    measure "$t" echo -transport polling -c "$POLL_CLIENTS" -warmup "$WARM" -duration "$POLL_DUR"
  done
  # The floor serves WebSocket only: no polling run for it.
  for t in node sockio floor; do
    measure "$t" connect -n "$CONN_N" -concurrency 256 -gc-url "http://@ADDR@/debug/gc"
  done
  for t in node sockio floor; do
    measure "$t" broadcast -n "$BC_N" -singles "$BC_SINGLES" -warmup "$WARM" -duration "$BC_DUR"
  done
  for nr in $BC_RATES; do
    for t in node sockio floor; do
      measure "$t" broadcast -n "${nr%x*}" -rate "${nr#*x}" -singles 0 -warmup "$WARM" -duration "$BC_RATE_DUR"
    done
  done
done

{
  echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "measuring time: $((SECONDS - START)) s, runs: $RUNS, skipped for time: $SKIPPED"
} >>"$OUT/machine.txt"

echo "== results ($((SECONDS - START)) s of measuring; machine: $OUT/machine.txt)"
args=(-in "$RAW" -table "$OUT/table.md" -svg "$OUT/chart.svg" -title "sockio vs Node.js socket.io 4.8.1: WebSocket echo, server on one core ($MODE run)")
[[ -n $BASELINE ]] && args+=(-baseline "$BASELINE")
"$BIN/chart" "${args[@]}"
echo
echo "raw: $RAW  table: $OUT/table.md  chart: $OUT/chart.svg"
