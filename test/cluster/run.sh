#!/usr/bin/env bash
# Runs the cluster tests that need Node.js peers and load balancers: a
# Node.js socket.io node with @socket.io/redis-adapter and a sockio node in
# one cluster (classic and sharded Pub/Sub, both emitters; Redis Streams);
# three sockio nodes behind nginx (sticky, and round robin with request
# forwarding on the redis, redis-streams and nats adapters) and HAProxy;
# rolling restarts and SIGKILL under load (rolling.test.mjs). Installs
# what is missing (npm packages; nginx, HAProxy, Redis and NATS from
# Debian, started on 127.0.0.1:6379 and :4222), builds the Go programs,
# exits non-zero on failure. The Go-only cluster tests are in the adapters
# and emitter (go test).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
export CLUSTER_BIN="$PWD/.bin"

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error

redis_answers() {
  exec 3<>/dev/tcp/127.0.0.1/6379 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  local line=""
  read -r -t 2 line <&3 || true
  exec 3<&- 3>&-
  [[ "$line" == +PONG* ]]
}
nats_answers() {
  exec 3<>/dev/tcp/127.0.0.1/4222 2>/dev/null || return 1
  local line=""
  read -r -t 2 line <&3 || true
  exec 3<&- 3>&-
  [[ "$line" == INFO* ]]
}
# Debian packages of what is missing: nginx, HAProxy, and the brokers
# when they do not answer and are not installed.
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
redis_answers || command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
nats_answers || command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else sudo apt-get update -qq && sudo apt-get install -y -qq "${missing[@]}" >/dev/null; fi
fi
export PATH="$PATH:/usr/sbin"

if ! redis_answers; then
  echo "== starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
  redis_answers || { echo "Redis did not start" >&2; exit 1; }
fi

if ! nats_answers; then
  echo "== starting nats-server (JetStream) on 127.0.0.1:4222"
  natsdir="$(mktemp -d /tmp/sockio-cluster-nats.XXXXXX)"
  nohup nats-server -js -a 127.0.0.1 -p 4222 -sd "$natsdir" >"$natsdir/log" 2>&1 &
  for _ in $(seq 50); do nats_answers && break; sleep 0.1; done
  nats_answers || { echo "NATS did not start" >&2; exit 1; }
fi

echo "== building the Go programs"
mkdir -p "$CLUSTER_BIN"
(cd "$root" && go build -o "$CLUSTER_BIN/goserver" ./test/cluster/goserver && go build -o "$CLUSTER_BIN/goemit" ./test/cluster/goemit && go build -o "$CLUSTER_BIN/gostreams" ./test/cluster/gostreams)

echo "== node --test"
# rolling.test.mjs takes about 2 minutes (redis-streams and nats), the
# rest about 2 more.
timeout 420 node --test --test-concurrency=1 --test-timeout=180000 mixed.test.mjs streams.test.mjs nginx.test.mjs haproxy.test.mjs rolling.test.mjs
