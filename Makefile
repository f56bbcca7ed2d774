# The two commands of README.md: `make serve` and `make test`.
GO      ?= go
NPM     ?= npm
INTEROP := test/interop

.PHONY: serve test unit interop ws browser admin-ui cluster netem floor deps vet fuzz bench soak soak-short bench-cluster

serve:
	$(GO) run ./cmd/sockio serve

# test runs everything: vet, Go unit tests with the race detector, a short
# fuzz pass over every parser, and the interop suites against real peers.
test: deps vet unit fuzz interop ws browser admin-ui cluster netem floor soak-short

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

# bench/ is a module of its own (the load generator sockio-bench, the bench
# servers, the chart): vetted and tested here too, so nothing goes untested.
vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	cd bench && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 ./...
	cd bench && $(GO) test -race -count=1 ./...

# Each fuzz target runs briefly on top of its seed corpus in testdata/.
# Budgets are execution counts (about 10 s each on our machines), not
# durations: with a duration, Go 1.26's fuzz coordinator can fail a clean
# run with "context deadline exceeded" as the time runs out
# (golang/go#75804, fixed in Go 1.27).
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeText$$' -fuzztime=500000x -fuzzminimizetime=2000x ./engineio/packet
	$(GO) test -run='^$$' -fuzz='^FuzzDecodePayload$$' -fuzztime=400000x -fuzzminimizetime=2000x ./engineio/packet
	$(GO) test -run='^$$' -fuzz='^FuzzDecodePayloadV3$$' -fuzztime=200000x -fuzzminimizetime=2000x ./engineio/packet
	$(GO) test -run='^$$' -fuzz='^FuzzStreamReader$$' -fuzztime=200000x -fuzzminimizetime=2000x ./engineio/packet
	$(GO) test -run='^$$' -fuzz='^FuzzDecoder$$' -fuzztime=200000x -fuzzminimizetime=2000x ./parser
	$(GO) test -run='^$$' -fuzz='^FuzzMsgpackDecoder$$' -fuzztime=100000x -fuzzminimizetime=2000x ./parser
	$(GO) test -run='^$$' -fuzz='^FuzzServerPayload$$' -fuzztime=5000x -fuzzminimizetime=2000x .
	$(GO) test -run='^$$' -fuzz='^FuzzUTF8Validator$$' -fuzztime=150000x -fuzzminimizetime=2000x ./ws
	$(GO) test -run='^$$' -fuzz='^FuzzFrameReader$$' -fuzztime=60000x -fuzzminimizetime=2000x ./internal/wsconn
	$(GO) test -run='^$$' -fuzz='^FuzzPolledRead$$' -fuzztime=20000x -fuzzminimizetime=2000x ./internal/wsconn
	$(GO) test -run='^$$' -fuzz='^FuzzCompressedRead$$' -fuzztime=40000x -fuzzminimizetime=2000x ./internal/wsconn
	$(GO) test -run='^$$' -fuzz='^FuzzNegotiateDeflate$$' -fuzztime=100000x -fuzzminimizetime=2000x ./internal/wsconn
	$(GO) test -run='^$$' -fuzz='^FuzzServeConn$$' -fuzztime=40000x -fuzzminimizetime=2000x ./internal/fastaccept
	$(GO) test -run='^$$' -fuzz='^FuzzUnmarshal$$' -fuzztime=200000x -fuzzminimizetime=2000x ./internal/notepack
	$(GO) test -run='^$$' -fuzz='^FuzzAppendJSON$$' -fuzztime=400000x -fuzzminimizetime=2000x ./internal/notepack
	cd bench && $(GO) test -run='^$$' -fuzz='^FuzzFrames$$' -fuzztime=50000x -fuzzminimizetime=2000x ./internal/load
	cd bench && $(GO) test -run='^$$' -fuzz='^FuzzReadMessage$$' -fuzztime=50000x -fuzzminimizetime=2000x ./internal/load
	cd bench && $(GO) test -run='^$$' -fuzz='^FuzzParseMessage$$' -fuzztime=50000x -fuzzminimizetime=2000x ./internal/load
	cd bench && $(GO) test -run='^$$' -fuzz='^FuzzParseOpen$$' -fuzztime=50000x -fuzzminimizetime=2000x ./internal/load
	cd bench && $(GO) test -run='^$$' -fuzz='^FuzzParseStamp$$' -fuzztime=50000x -fuzzminimizetime=2000x ./internal/load

deps:
	cd $(INTEROP) && $(NPM) ci --no-audit --no-fund

interop:
	cd $(INTEROP) && node --test --test-concurrency=1 --test-timeout=120000

# Package ws and `sockio echo` against real peers: Node's ws, Python's
# websockets, Chromium.
ws:
	bash test/ws/run.sh

# The chat room and our browser client in a real Chromium (installed from
# Debian when missing), plus our client against the Node reference.
browser:
	bash test/browser/run.sh

# A mixed cluster (Node.js socket.io + @socket.io/redis-adapter and sockio
# nodes) on a real Redis, the emitters, and nginx in front of three nodes.
cluster:
	bash test/cluster/run.sh

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# An attack mix (slowloris, idle keep-alive, trickled bodies, oversized
# heads, polling churn, slow consumers, beside a chat load) against
# `sockio serve` with its file limit at 4096: a new client must be served
# within 100 ms throughout, and files, goroutines and memory come back near
# their start (docs/reliability.md). soak-short is the bounded version
# `make test` runs (60 s of attacks, then at least 50 s + the 2 min
# recovery window to settle: abandoned sessions expire after pingInterval +
# pingTimeout, and what recovery keeps of them one window later).
soak:
	$(GO) run ./test/soak -duration 5m

soak-short:
	$(GO) run ./test/soak -duration 60s

# The official Socket.IO Admin UI (from npm) in Chromium against sockio
# serve --admin, one node and a 2-node Redis cluster.
admin-ui:
	bash test/admin/run.sh

# Official clients in a network namespace behind a lossy, slow link
# (5% loss, 200 ms each way, a 5 s flap): with recovery, nothing lost or
# doubled. Needs root (namespaces); netem where the kernel has it, else a
# TUN relay of our own (test/netem/run.sh says which).
# The floor reference server of the benchmarks (bench/floor, C): its fuzz
# pass under AddressSanitizer and the official client against it.
floor:
	bash bench/floor/test.sh

netem:
	bash test/netem/run.sh

# Cross-node broadcast throughput and recovery cost, sockio's adapters
# against the Node.js adapters (docs/scaling.md); QUICK=1 for the short run.
bench-cluster:
	bash bench/cluster.sh $(if $(QUICK),--quick)
