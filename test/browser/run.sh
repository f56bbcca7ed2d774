#!/usr/bin/env bash
# Browser tests of the chat and of our Socket.IO client, in Debian's
# Chromium driven by playwright-core. Installs what is missing, builds the
# Go binaries under test, runs every *.test.mjs here with node's test runner.
# Exits non-zero on any failure. Screenshots go to artifacts/ (chat.png).
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd ../.. && pwd)

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Emoji in the screenshots; the tests pass without it.
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error

mkdir -p bin artifacts
(cd "$repo" && go build -o test/browser/bin/sockio ./cmd/sockio && go build -o test/browser/bin/goserver ./test/interop/goserver && go build -o test/browser/bin/webtransport-server ./test/browser/webtransport-server)

# One file at a time: Chromium and the servers share two cores. Each test
# waits with its own bounds; --test-timeout stops anything that hangs, and
# timeout(1) bounds the whole run. recovery.test.mjs also uses the Redis and
# NATS of SOCKIO_TEST_REDIS / SOCKIO_TEST_NATS (default 127.0.0.1), and
# skips its cluster cases when they are unreachable.
timeout 420 node --test --test-concurrency=1 --test-timeout=90000 ./*.test.mjs
