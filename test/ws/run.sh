#!/usr/bin/env bash
# Peer tests of the plain WebSocket layer: Node's ws client, Python's
# websockets and Chromium against `sockio echo`, plus the browser helper
# web/reconnecting-websocket.js in Node and in Chromium, and permessage-deflate
# of internal/wsconn both ways against Node's ws and Chromium (deflatepeer). Installs what it
# needs (npm ci; python3-websockets and chromium from Debian if missing).
# Exits non-zero on any failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$here"

missing=()
/usr/bin/python3 -c 'import websockets' 2>/dev/null || missing+=(python3-websockets)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
	echo "ws peers: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error

tmp="$(mktemp -d)"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$repo" && go build -o "$tmp/sockio" ./cmd/sockio && go build -o "$tmp/deflatepeer" ./test/ws/deflatepeer)
export SOCKIO_BIN="$tmp/sockio" DEFLATEPEER_BIN="$tmp/deflatepeer"

# start_echo NAME [FLAGS...]: runs an echo server and sets NAME to its URL.
start_echo() {
	local name=$1 out="$tmp/$1.out"
	shift
	"$SOCKIO_BIN" echo --addr 127.0.0.1:0 --quiet "$@" >"$out" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		if grep -q 'listening on' "$out"; then
			printf -v "$name" '%s' "$(grep -o 'ws://[^ ]*' "$out")"
			return
		fi
		sleep 0.05
	done
	echo "echo server did not start: $(cat "$out")" >&2
	exit 1
}

status=0
echo "== Python websockets $(/usr/bin/python3 -c 'import websockets; print(websockets.__version__)')"
start_echo plain_url
start_echo deflate_url --deflate
timeout 120 /usr/bin/python3 peer_python.py "$plain_url" "$deflate_url" || status=1

echo "== Node ws, browser helper in Node, Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')"
timeout 300 node --test --test-concurrency=1 --test-timeout=90000 \
	node.test.mjs reconnecting.test.mjs chromium.test.mjs deflate.test.mjs || status=1

exit $status
