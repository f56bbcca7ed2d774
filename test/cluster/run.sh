#!/usr/bin/env bash
# Runs the cluster tests that need Node.js peers and nginx: a Node.js
# socket.io node with @socket.io/redis-adapter and a sockio node in one
# cluster (classic and sharded Pub/Sub, both emitters), and three sockio
# nodes behind nginx. Installs what is missing (npm packages; nginx from
# Debian; a Redis on 127.0.0.1:6379), builds the Go programs, exits
# non-zero on failure. The Go-only cluster tests are in adapter/redis and
# emitter (go test).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
export CLUSTER_BIN="$PWD/.bin"

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "== installing nginx"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq nginx >/dev/null; fi
fi

redis_answers() {
  exec 3<>/dev/tcp/127.0.0.1/6379 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local line=""
  read -r -t 2 line <&3 || true
  exec 3<&- 3>&-
  [[ "$line" == +PONG* ]]
}
if ! redis_answers; then
  echo "== starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
  redis_answers || { echo "Redis did not start" >&2; exit 1; }
fi

echo "== building the Go programs"
mkdir -p "$CLUSTER_BIN"
(cd "$root" && go build -o "$CLUSTER_BIN/goserver" ./test/cluster/goserver && go build -o "$CLUSTER_BIN/goemit" ./test/cluster/goemit && go build -o "$CLUSTER_BIN/gostreams" ./test/cluster/gostreams)

echo "== node --test"
timeout 330 node --test --test-concurrency=1 --test-timeout=120000 mixed.test.mjs nginx.test.mjs streams.test.mjs
