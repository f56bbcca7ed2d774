#!/usr/bin/env bash
# The lossy-network test (issue #14; `make netem`).
#
# Twenty official socket.io-client clients (Node.js, pinned in package.json:
# websocket only, polling only, and the default upgrade) run in a network
# namespace of their own; a sockio server with connection-state recovery
# (server/, a 2 min window) runs in another. The two are joined by a link
# that drops 5% of the packets and delays each by 200 ms, both directions.
# Midway the client's end of the link goes down for 5 s. netem.test.mjs
# checks that every client got every tick (1..N) exactly once and in order,
# that every acked message reached every other client exactly once, that
# every reconnect was recovered (socket.recovered, same id) and that every
# client is connected at the end; it prints the delivery latency in the
# lossy phases, the reconnects and the time without a connection around
# the flap. Exits non-zero on failure.
#
# The link is a veth pair with `tc qdisc add dev ... root netem loss 5%
# delay 200ms` on both ends when the kernel has the netem qdisc; without it
# (CONFIG_NET_SCH_NETEM unset and no modules, as on our Firecracker
# machines) it is a pair of TUN devices joined by link/, which does the
# same in user space.
#
# Knobs: NETEM_MODE=tc|tun forces the link; NETEM_SERVER=reference runs the
# same test against the Node.js reference server (refserver.mjs) instead of
# sockio: what fails there too is the network or the client, not sockio;
# NETEM_MIDDLEWARE_MS=n gives the server a namespace middleware that takes
# n ms (an auth check, say; NETEM_REF_SKIP_MIDDLEWARES=false makes the
# reference run it for recovered sockets too, as sockio does by default);
# NETEM_KEEP_STALE=1, see netem.test.mjs.
#
# Needs root and `ip netns`: without them it skips (exit 0), except under
# CI=true, where it fails. The namespaces are sockio-netem-{srv,cli}-<pid>,
# removed on exit (failure, timeout and signals included); those a crashed
# run left behind (their pid gone) are removed at start. Everything runs
# under a hard timeout (NETEM_TIMEOUT, default 175 s).
set -euo pipefail

if [ -z "${NETEM_BOUNDED:-}" ]; then
  export NETEM_BOUNDED=1
  exec timeout -k 10 "${NETEM_TIMEOUT:-175}" bash "$0" "$@"
fi

cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
export PATH="$PATH:/usr/sbin:/sbin"

skip() {
  if [ "${CI:-}" = true ]; then
    echo "FAIL: the lossy-network test cannot run: $*" >&2
    exit 1
  fi
  echo "SKIP: the lossy-network test: $*"
  exit 0
}

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
command -v ip >/dev/null 2>&1 || skip "no iproute2 'ip'"
ip netns list >/dev/null 2>&1 || skip "'ip netns' is unavailable"

prefix=sockio-netem-
srv_ns="${prefix}srv-$$"
cli_ns="${prefix}cli-$$"
srv_dev="snm$$s" # device names are 15 bytes at most
cli_dev="snm$$c"
x=$(($$ % 250 + 1))
srv_ip="10.251.$x.1"
cli_ip="10.251.$x.2"
port=3000
mode="${NETEM_MODE:-auto}"
server="${NETEM_SERVER:-sockio}"
middleware_ms="${NETEM_MIDDLEWARE_MS:-0}"
case $server in sockio | reference) ;; *) echo "NETEM_SERVER must be sockio or reference, not $server" >&2; exit 2 ;; esac
tmp=""
server_pid=""
link_pid=""
node_pid=""

# remove_ns ends what still runs in a namespace (this run's server and
# link, or a crashed run's), then deletes it.
remove_ns() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill $pids 2>/dev/null || true
    for _ in $(seq 20); do
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      [ -z "$pids" ] && break
      sleep 0.1
    done
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  fi
  ip netns del "$ns" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  if [ -n "$link_pid" ]; then kill "$link_pid" 2>/dev/null || true; fi
  if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; fi
  if [ "$rc" != 0 ] && [ -n "$tmp" ] && [ -e "$tmp/server.out" ]; then
    for f in server.err link.err; do
      if [ -s "$tmp/$f" ]; then echo "== last lines of $f"; tail -n 30 "$tmp/$f"; fi
    done
    keep="${TMPDIR:-/tmp}/sockio-netem-failed-$$"
    mkdir -p "$keep" && cp "$tmp"/*.out "$tmp"/*.err "$tmp"/*.json "$keep/" 2>/dev/null || true
    echo "== the server's and the link's output are kept in $keep"
  fi
  remove_ns "$srv_ns"
  remove_ns "$cli_ns"
  if ip netns list 2>/dev/null | grep -q -e "^$srv_ns\b" -e "^$cli_ns\b"; then
    echo "WARNING: namespace left behind: $(ip netns list | grep -e "$srv_ns" -e "$cli_ns")" >&2
  fi
  [ -n "$tmp" ] && rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
  case $ns in "${prefix}srv-"* | "${prefix}cli-"*) ;; *) continue ;; esac
  owner=${ns##*-}
  if [ -r "/proc/$owner/cmdline" ] && tr '\0' ' ' <"/proc/$owner/cmdline" | grep -q 'run\.sh'; then
    continue # another run, still going
  fi
  echo "== removing the stale namespace $ns"
  remove_ns "$ns"
done

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error

echo "== building the server and the link"
tmp=$(mktemp -d /tmp/sockio-netem.XXXXXX)
(cd "$root" && go build -o "$tmp/link" ./test/netem/link)
if [ "$server" = sockio ]; then (cd "$root" && go build -o "$tmp/server" ./test/netem/server); fi

# wait_ready FILE PID: until FILE has a READY line, or the process is gone.
wait_ready() {
  for _ in $(seq 100); do
    grep -q '^READY' "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "not ready: $(cat "$1" 2>/dev/null)" >&2
  return 1
}

echo "== network namespaces $srv_ns and $cli_ns"
ip netns add "$srv_ns" 2>"$tmp/netns.err" || skip "cannot create a network namespace: $(cat "$tmp/netns.err")"
ip netns add "$cli_ns"
for ns in "$srv_ns" "$cli_ns"; do
  ip -n "$ns" link set lo up
  # IPv4 only: no IPv6 autoconfiguration chatter on the link.
  ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null || true
done

if [ "$mode" = auto ] || [ "$mode" = tc ]; then
  ip -n "$srv_ns" link add "$srv_dev" type veth peer name "$cli_dev" netns "$cli_ns"
  if ip netns exec "$cli_ns" tc qdisc add dev "$cli_dev" root netem loss 5% delay 200ms 2>"$tmp/tc.err" &&
    ip netns exec "$srv_ns" tc qdisc add dev "$srv_dev" root netem loss 5% delay 200ms 2>>"$tmp/tc.err"; then
    mode=tc
  elif [ "$mode" = tc ]; then
    skip "the kernel has no netem qdisc: $(cat "$tmp/tc.err")"
  else
    echo "   no netem qdisc in this kernel ($(head -n1 "$tmp/tc.err")): the link is link/ over TUN devices"
    ip -n "$srv_ns" link del "$srv_dev"
    mode=tun
  fi
fi
if [ "$mode" = tun ]; then
  [ -c /dev/net/tun ] || skip "neither the netem qdisc nor /dev/net/tun is available"
  # The link process creates both devices in the client namespace; the
  # server's moves to the server namespace with its file descriptor.
  ip netns exec "$cli_ns" "$tmp/link" -cli "$cli_dev" -srv "$srv_dev" -loss 0.05 -delay 200ms \
    -stats "$tmp/link.json" >"$tmp/link.out" 2>"$tmp/link.err" &
  link_pid=$!
  wait_ready "$tmp/link.out" "$link_pid"
  ip -n "$cli_ns" link set "$srv_dev" netns "$srv_ns"
elif [ "$mode" != tc ]; then
  echo "NETEM_MODE must be auto, tc or tun, not $mode" >&2
  exit 2
fi
ip -n "$srv_ns" addr add "$srv_ip/30" dev "$srv_dev"
ip -n "$cli_ns" addr add "$cli_ip/30" dev "$cli_dev"
ip -n "$srv_ns" link set "$srv_dev" up
ip -n "$cli_ns" link set "$cli_dev" up
echo "   mode $mode: $srv_ns $srv_dev $srv_ip <-> $cli_ip $cli_dev $cli_ns; loss 5%, delay 200 ms, each direction"

# pingInterval + pingTimeout (4 s) is shorter than the flap, so both ends
# notice it; pingTimeout is long enough for a ping and its pong over the
# lossy link, a polling pong being a new HTTP request (and TCP connection).
if [ "$server" = reference ]; then
  echo "== the reference server (Node.js socket.io) in $srv_ns"
  ip netns exec "$srv_ns" node refserver.mjs --addr "$srv_ip:$port" --ticks 1200 --every 25 \
    --ping-interval 1000 --ping-timeout 3000 --recovery 120000 --middleware "$middleware_ms" >"$tmp/server.out" 2>"$tmp/server.err" &
else
  echo "== the sockio server in $srv_ns"
  ip netns exec "$srv_ns" "$tmp/server" -addr "$srv_ip:$port" -ticks 1200 -every 25ms \
    -ping-interval 1s -ping-timeout 3s -recovery 2m -middleware "${middleware_ms}ms" >"$tmp/server.out" 2>"$tmp/server.err" &
fi
server_pid=$!
wait_ready "$tmp/server.out" "$server_pid"

echo "== node --test in $cli_ns"
export NETEM_URL="http://$srv_ip:$port" NETEM_MODE="$mode" NETEM_CLI_DEV="$cli_dev" NETEM_SERVER="$server"
export NETEM_SRV_NS="$srv_ns" NETEM_SRV_DEV="$srv_dev" NETEM_LINK_STATS="$tmp/link.json"
NETEM_IP="$(command -v ip)"
NETEM_TC="$(command -v tc || echo tc)"
export NETEM_IP NETEM_TC NETEM_DELAY_MS=200
# In the background: bash runs the TERM trap (and so the clean-up) while
# it waits, not once a foreground command is over.
ip netns exec "$cli_ns" node --test netem.test.mjs &
node_pid=$!
wait "$node_pid"
