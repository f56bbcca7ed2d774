#!/usr/bin/env bash
# Cluster benchmarks (issue #13): sockio's cluster adapters against a
# Node.js cluster of socket.io 4.8.1 on @socket.io/redis-adapter 8 and
# @socket.io/redis-streams-adapter 0.3, same load generator, same run.
#
#   bash bench/cluster.sh            # full, < 12 min
#   bash bench/cluster.sh --quick    # < 3 min
#   bash bench/cluster.sh --repeats 5   # default: 3 (full), 1 (quick)
#   bash bench/cluster.sh --shared   # the machine's Redis :6379 and NATS :4222
#                                    # (default: private ones, started here)
#
# Every measurement starts two fresh nodes A and B of one configuration
# (bench/goserver -adapter ..., bench/node-cluster/server.mjs) on a key
# prefix / stream name of its own. Three parts:
#  1. crossnode: N clients on B, the sender on A broadcasting to all at a
#     rate stepped up (x2) until saturation; deliveries/s, fan-out latency,
#     CPU per 1000 deliveries of A, B and the broker.
#  2. cost of recovery: few clients, a fixed rate, recovery off and on:
#     CPU per event of A, B and the broker, bytes per event in the broker.
#  3. recover: a client on B misses K events sent from A and comes back on
#     A; time to get them; then the bounds: the log's (made small, K past
#     it) and sockio's send queue (MaxBufferedPackets).
# Configurations alternate within each repeat (A B A B); the report gives
# medians over the repeats with the min-max spread. Pinning (2 cores): B,
# the node that fans out, alone on core 0; A, the broker and the load
# generator on core 1; Go nodes with GOMAXPROCS=1, as Node's one thread.
# A time budget is checked before each measurement; once spent, the rest
# is skipped and said so.
#
# Output in bench/results/cluster-<mode>/: raw.jsonl (one JSON line per
# result), table.md (the tables), machine.txt, server.log.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=full
REPEATS=
SHARED=0
while (($#)); do
  case $1 in
    --quick) MODE=quick ;;
    --repeats) REPEATS=$2; shift ;;
    --shared) SHARED=1 ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "cluster.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z $REPEATS ]]; then
  if [[ $MODE == full ]]; then REPEATS=3; else REPEATS=1; fi
fi
((REPEATS >= 1)) || { echo "cluster.sh: --repeats must be at least 1" >&2; exit 2; }

N=1000                               # receivers on node B
RATES=25,50,100,200,400,800,1600,3200,6400
WINDOW=512                           # broadcasts in flight at most
COST_N=10 COST_RATE=1000             # part 2: per-event cost
if [[ $MODE == full ]]; then
  BUDGET=650                         # seconds of measuring (whole run < 12 min)
  WARM=300ms DUR=1500ms SINGLES=10
  COST_DUR=3s
  KS=100,1000,10000
  BOUND=1                            # part 3's bound check
else
  BUDGET=140
  WARM=200ms DUR=800ms SINGLES=5
  COST_DUR=1500ms
  KS=100,1000
  BOUND=1
fi
RUN_TIMEOUT=100

CONFIGS="go-redis go-redis-sharded go-streams go-nats node-redis node-streams"
COST_CONFIGS="go-streams go-streams+rec go-nats go-nats+rec node-streams node-streams+rec"
RECOVER_CONFIGS="go-streams+rec go-nats+rec node-streams+rec"

OUT=bench/results/cluster-$MODE
mkdir -p "$OUT"
RAW=$OUT/raw.jsonl
[[ -s $RAW ]] && mv "$RAW" "$OUT/previous.jsonl"
: >"$RAW"
: >"$OUT/server.log"

WORK=$(mktemp -d)
BIN=$WORK/bin
PA= PB= RPID= NPID=
stop_pid() {
  local p=$1
  [[ -n $p ]] || return 0
  kill "$p" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
cleanup() {
  stop_pid "$PB"; stop_pid "$PA"; stop_pid "$RPID"; stop_pid "$NPID"
  rm -rf "$WORK"
}
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)"
if (($(nproc) >= 2)); then
  CORE_B=(taskset -c 0); CORE_REST=(taskset -c 1)
else
  echo "cluster.sh: fewer than 2 cores, running unpinned" >&2
  CORE_B=(); CORE_REST=()
fi

echo "== installing and building"
(cd bench/node-cluster && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$BIN"
# The Go programs are the bench module's (bench/go.mod); the load generator
# does not compile the library, so a library mid-edit cannot stop it.
(cd bench && go build -o "$BIN/sockio-bench" ./cmd/sockio-bench)
MEASURED="working tree"
if ! (cd bench && go build -o "$BIN/goserver" ./goserver) 2>"$WORK/build.err"; then
  # Several people edit this tree: when it does not build, measure the
  # last commit's sockio with this bench/goserver, and say so.
  cat "$WORK/build.err" >&2
  echo "cluster.sh: the working tree does not build; measuring sockio at HEAD with the working tree's bench/goserver" >&2
  mkdir -p "$WORK/src"
  git archive HEAD | tar -x -C "$WORK/src"
  cp bench/goserver/*.go "$WORK/src/bench/goserver/"
  if [[ -f $WORK/src/bench/go.mod ]]; then
    (cd "$WORK/src/bench" && go build -o "$BIN/goserver" ./goserver)
  else # a HEAD from before bench/ was a module of its own (issue #17)
    (cd "$WORK/src" && go build -o "$BIN/goserver" ./bench/goserver)
  fi
  MEASURED="HEAD $(git rev-parse --short HEAD) (the working tree did not build)"
fi

# free_port: a port on 127.0.0.1 nothing listens on.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((10000 + RANDOM % 20000)) # below the ephemeral ports (32768-)
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

if ((SHARED)); then
  REDIS_PORT=6379 NATS_PORT=4222
  echo "== using the machine's Redis and NATS (their CPU is not measured)"
else
  # Private brokers, pinned with A and the load generator: their CPU is
  # measured, and nobody else's traffic is in it. No persistence for
  # Redis; JetStream stores in the work directory. A port taken between
  # the check and the bind: try another.
  mkdir -p "$WORK/nats"
  for _ in 1 2 3; do
    REDIS_PORT=$(free_port) NATS_PORT=$(free_port)
    "${CORE_REST[@]}" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
      --protected-mode yes >>"$OUT/server.log" 2>&1 &
    RPID=$!
    "${CORE_REST[@]}" nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$WORK/nats" >>"$WORK/nats.log" 2>&1 &
    NPID=$!
    for _ in $(seq 50); do
      redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && break
      sleep 0.1
    done
    if kill -0 "$RPID" 2>/dev/null && kill -0 "$NPID" 2>/dev/null && redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
      break
    fi
    stop_pid "$RPID"; stop_pid "$NPID"; RPID= NPID=
  done
  [[ -n $RPID ]] || { echo "cluster.sh: could not start redis-server and nats-server (see $OUT/server.log)" >&2; exit 1; }
fi
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
NATS_URL=nats://127.0.0.1:$NATS_PORT
RUNID=$(date +%s)-$$

{
  echo "date: $(date -u +%FT%TZ)"
  echo "mode: $MODE, repeats: $REPEATS"
  echo "nproc: $(nproc), memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "kernel: $(uname -sr)"
  echo "go: $(go version)"
  echo "node: $(node --version), socket.io $(node -p "require('./bench/node-cluster/node_modules/socket.io/package.json').version"), @socket.io/redis-adapter $(node -p "require('./bench/node-cluster/node_modules/@socket.io/redis-adapter/package.json').version"), @socket.io/redis-streams-adapter $(node -p "require('./bench/node-cluster/node_modules/@socket.io/redis-streams-adapter/package.json').version")"
  echo "redis: $(redis-server --version | awk '{print $3}') $([[ $SHARED == 1 ]] && echo shared || echo private), nats-server: $(nats-server --version 2>&1 | awk '{print $2}') $([[ $SHARED == 1 ]] && echo shared || echo private)"
  echo "sockio: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet -- . ':!bench/results' 2>/dev/null || echo ' (with uncommitted changes)'), measured: $MEASURED"
  echo "pinning: node B on core 0; node A, broker, load generator on core 1; Go nodes GOMAXPROCS=1"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/machine.txt"

# start_node WHERE CONFIG KEY [extra flags]: starts one node; sets NODE_PID, NODE_ADDR.
start_node() {
  local where=$1 cfg=$2 key=$3; shift 3
  local out=$WORK/node.$where line= kind=${cfg%%+*} rec=0 core
  [[ $cfg == *+rec ]] && rec=1
  [[ $where == B ]] && core=("${CORE_B[@]}") || core=("${CORE_REST[@]}")
  : >"$out"
  case $kind in
    go-*)
      local a=${kind#go-} f=()
      [[ $a == streams ]] && a=redis-streams
      ((rec)) && f+=(--recovery 2m)
      GOMAXPROCS=1 "${core[@]}" "$BIN/goserver" --port 0 --adapter "$a" --redis "$REDIS_URL" --nats "$NATS_URL" \
        --key "$key" "${f[@]}" "$@" >"$out" 2>>"$OUT/server.log" &
      ;;
    node-*)
      local a=${kind#node-} f=()
      [[ $a == streams ]] && a=redis-streams
      ((rec)) && f+=(--recovery 120000)
      "${core[@]}" node bench/node-cluster/server.mjs --port 0 --adapter "$a" --redis "$REDIS_URL" \
        --key "$key" "${f[@]}" "$@" >"$out" 2>>"$OUT/server.log" &
      ;;
  esac
  NODE_PID=$!
  for _ in $(seq 100); do
    line=$(head -n1 "$out")
    [[ $line == "listening on "* ]] && break
    sleep 0.1
  done
  [[ $line == "listening on "* ]] || { echo "cluster.sh: $cfg node $where did not start" >&2; stop_pid "$NODE_PID"; return 1; }
  NODE_ADDR=${line#listening on }
}

# start_pair CONFIG KEY [extra flags]: nodes A and B; sets PA PB A B.
start_pair() {
  local cfg=$1 key=$2; shift 2
  local flags=("$@")
  [[ $cfg == go-* ]] && flags+=(--cleanup) # A deletes what the run kept in NATS
  start_node A "$cfg" "$key" "${flags[@]}" || return 1
  PA=$NODE_PID A=$NODE_ADDR
  start_node B "$cfg" "$key" "$@" || { stop_pid "$PA"; PA=; return 1; }
  PB=$NODE_PID B=$NODE_ADDR
  sleep 0.5 # both nodes subscribed and counted before the first client
}

# stop_pair KEY: B first (A cleans up the broker), then what the run left in Redis.
stop_pair() {
  stop_pid "$PB"; PB=
  stop_pid "$PA"; PA=
  redis-cli -p "$REDIS_PORT" --scan --pattern "$1*" | xargs -r -n 500 redis-cli -p "$REDIS_PORT" DEL >/dev/null
}

CPU_FLAGS=()
[[ -n $RPID ]] && CPU_FLAGS_REDIS=(-cpu-pid "broker=$RPID") || CPU_FLAGS_REDIS=()
[[ -n $NPID ]] && CPU_FLAGS_NATS=(-cpu-pid "broker=$NPID") || CPU_FLAGS_NATS=()
broker_cpu_flags() {
  if [[ $1 == *nats* ]]; then CPU_FLAGS=("${CPU_FLAGS_NATS[@]}"); else CPU_FLAGS=("${CPU_FLAGS_REDIS[@]}"); fi
}

# rotated R WORDS...: the words from position R (mod their count) on,
# then the ones before: each repeat starts with another configuration, so
# that none is always measured at the same point of a slow drift.
rotated() {
  local r=$1; shift
  local w=("$@") i
  for ((i = 0; i < ${#w[@]}; i++)); do printf '%s ' "${w[(i + r) % ${#w[@]}]}"; done
}

START=$SECONDS
RUNS=0 SKIPPED=0 FAILED=0
budget_left() {
  if ((SECONDS - START > BUDGET)); then
    echo "SKIPPED (budget ${BUDGET}s spent): $*" | tee -a "$OUT/machine.txt" >&2
    SKIPPED=$((SKIPPED + 1))
    return 1
  fi
}

# bench_run LABEL SCENARIO [flags]: the load generator on core 1 against A and B.
bench_run() {
  local label=$1 scenario=$2; shift 2
  local lines
  if lines=$(timeout $((RUN_TIMEOUT + 20)) "${CORE_REST[@]}" "$BIN/sockio-bench" "$scenario" -addr "$B" -pub-addr "$A" \
      -pid "$PB" -cpu-pid "a=$PA" "${CPU_FLAGS[@]}" -label "$label" -brief -out "$RAW" -timeout "${RUN_TIMEOUT}s" \
      "$@" 2>>"$OUT/server.log"); then
    printf '%s\n' "$lines" | sed "s/^/[$(printf '%3d' $((SECONDS - START)))s] /"
  else
    printf '%s\n' "$lines" | sed "s/^/[$(printf '%3d' $((SECONDS - START)))s] /"
    echo "FAILED: $label $scenario $* (see $OUT/server.log)" | tee -a "$OUT/machine.txt" >&2
    FAILED=$((FAILED + 1))
  fi
  RUNS=$((RUNS + 1))
}

# store_stats LABEL KEY: the broker's bytes per event kept, as a JSON line.
store_stats() {
  local label=$1 key=$2 msgs= bytes= what=
  case $label in
    *nats*+rec)
      local j
      j=$(curl -sf --max-time 5 "http://$A/debug/broker") || return 0
      msgs=$(jq -r .msgs <<<"$j") bytes=$(jq -r .bytes <<<"$j") what="JetStream stream bytes"
      ;;
    *streams*)
      msgs=$(redis-cli -p "$REDIS_PORT" XLEN "$key")
      bytes=$(redis-cli -p "$REDIS_PORT" MEMORY USAGE "$key" SAMPLES 0)
      what="Redis MEMORY USAGE of the stream"
      ;;
    *) return 0 ;;
  esac
  [[ $msgs =~ ^[0-9]+$ && $bytes =~ ^[0-9]+$ && $msgs -gt 0 ]] || return 0
  local sessions
  sessions=$(redis-cli -p "$REDIS_PORT" --scan --pattern "$key:session:*" | wc -l)
  printf '{"scenario":"store","target":"%s","time":"%s","params":{"what":"%s"},"metrics":{"events":%s,"bytes":%s,"bytes_per_event":%s,"redis_session_keys":%s},"loadavg":[%s,%s]}\n' \
    "$label" "$(date -u +%FT%TZ)" "$what" "$msgs" "$bytes" "$(awk -v b="$bytes" -v m="$msgs" 'BEGIN{printf "%.1f", b/m}')" \
    "$sessions" "$(cut -d' ' -f1 /proc/loadavg)" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
  echo "      store $label: $msgs events, $bytes bytes ($what)"
}

n=0
for r in $(seq 1 "$REPEATS"); do
  echo "== part 1, crossnode, repeat $r of $REPEATS ($((SECONDS - START)) s, load average $(cut -d' ' -f1 /proc/loadavg))"
  for cfg in $(rotated $((r - 1)) $CONFIGS); do
    budget_left "crossnode $cfg repeat $r" || continue
    n=$((n + 1)); key=sockio-bench-$RUNID-$n
    start_pair "$cfg" "$key" || { FAILED=$((FAILED + 1)); continue; }
    broker_cpu_flags "$cfg"
    bench_run "$cfg" crossnode -n "$N" -room '' -rates "$RATES" -window "$WINDOW" -singles "$SINGLES" \
      -warmup "$WARM" -duration "$DUR"
    stop_pair "$key"
  done
done

for r in $(seq 1 "$REPEATS"); do
  echo "== part 2, cost of recovery, repeat $r of $REPEATS ($((SECONDS - START)) s)"
  for cfg in $(rotated $((r - 1)) $COST_CONFIGS); do
    budget_left "cost $cfg repeat $r" || continue
    n=$((n + 1)); key=sockio-bench-$RUNID-$n
    start_pair "$cfg" "$key" || { FAILED=$((FAILED + 1)); continue; }
    broker_cpu_flags "$cfg"
    bench_run "$cfg" crossnode -n "$COST_N" -room '' -rate "$COST_RATE" -window "$WINDOW" -singles 0 \
      -warmup "$WARM" -duration "$COST_DUR"
    store_stats "$cfg" "$key"
    stop_pair "$key"
  done
done

for r in $(seq 1 "$REPEATS"); do
  echo "== part 3, recovery through the other node, repeat $r of $REPEATS ($((SECONDS - START)) s)"
  for cfg in $(rotated $((r - 1)) $RECOVER_CONFIGS); do
    budget_left "recover $cfg repeat $r" || continue
    n=$((n + 1)); key=sockio-bench-$RUNID-$n
    start_pair "$cfg" "$key" || { FAILED=$((FAILED + 1)); continue; }
    broker_cpu_flags "$cfg"
    bench_run "$cfg" recover -k "$KS"
    stop_pair "$key"
  done
done

if ((BOUND)); then
  # The log's bound, made small so that passing it is quick: 1000 events
  # (redis-streams MAXLEN ~ 1000, JetStream MaxMsgs 1000). K = 900 fits,
  # K = 3000 does not: that client must come back as a new socket.
  echo "== part 3b, the bounds ($((SECONDS - START)) s)"
  for cfg in $RECOVER_CONFIGS; do
    budget_left "bound $cfg" || continue
    n=$((n + 1)); key=sockio-bench-$RUNID-$n
    case $cfg in
      *nats*) f=(--js-max-msgs 1000) ;;
      *) f=(--stream-maxlen 1000) ;;
    esac
    start_pair "$cfg" "$key" "${f[@]}" || { FAILED=$((FAILED + 1)); continue; }
    broker_cpu_flags "$cfg"
    bench_run "$cfg log=1000" recover -k 900,3000
    stop_pair "$key"
  done
  # sockio replays the missed events into the connection's send queue at
  # once, and closes a connection whose queue passes MaxBufferedPackets
  # (8192): past it a recovery fails. With a bigger queue, K = 10000.
  if [[ $MODE == full ]]; then
    for cfg in go-streams+rec go-nats+rec; do
      budget_left "queue $cfg" || continue
      n=$((n + 1)); key=sockio-bench-$RUNID-$n
      start_pair "$cfg" "$key" --max-buffered-packets 16384 || { FAILED=$((FAILED + 1)); continue; }
      broker_cpu_flags "$cfg"
      bench_run "$cfg queue=16384" recover -k 10000
      stop_pair "$key"
    done
  fi
fi

{
  echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "measuring time: $((SECONDS - START)) s, runs: $RUNS, failed: $FAILED, skipped for time: $SKIPPED"
} >>"$OUT/machine.txt"

echo "== results ($((SECONDS - START)) s of measuring; machine: $OUT/machine.txt)"
node bench/node-cluster/report.mjs "$RAW" "$OUT/machine.txt" >"$OUT/table.md"
cat "$OUT/table.md"
echo
echo "raw: $RAW  table: $OUT/table.md"
