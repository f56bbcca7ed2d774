#!/usr/bin/env bash
# The official Socket.IO Admin UI (@socket.io/admin-ui from npm, served from
# its ui/dist) driven in Debian's Chromium by playwright-core against
# `sockio serve --admin`. Installs what is missing, builds sockio, runs
# every *.test.mjs here. Screenshots go to artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
repo=$(cd ../.. && pwd)

if [ ! -x /usr/bin/chromium ]; then
  echo "run.sh: installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error

mkdir -p bin artifacts
(cd "$repo" && go build -o test/admin/bin/sockio ./cmd/sockio)

timeout 300 node --test --test-concurrency=1 --test-timeout=120000 ./*.test.mjs
