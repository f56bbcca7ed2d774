#!/usr/bin/env bash
# Tests of the floor server: the fuzz pass (AddressSanitizer + UBSan, seed
# corpus in testdata/ and bounded mutations), then the official
# socket.io-client against the binary.
#   bash bench/floor/test.sh [mutations]   # default 50000 (about 30 s)
set -euo pipefail
cd "$(dirname "$0")"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
make -s O="$WORK"
make -s O="$WORK" "$WORK/floor-fuzz"
"$WORK/floor-fuzz" testdata "${1:-50000}"
(cd test && npm ci --no-audit --no-fund --loglevel=error)
FLOOR_BIN="$WORK/floor" node --test --test-concurrency=1 --test-timeout=60000 test/
