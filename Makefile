# The two commands of README.md: `make serve` and `make test`.
GO      ?= go
NPM     ?= npm
INTEROP := test/interop

.PHONY: serve test unit interop ws browser cluster deps vet fuzz bench

serve:
	$(GO) run ./cmd/sockio serve

# test runs everything: vet, Go unit tests with the race detector, a short
# fuzz pass over every parser, and the interop suites against real peers.
test: deps vet unit fuzz interop ws browser cluster

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 ./...

# Each fuzz target runs briefly on top of its seed corpus in testdata/.
FUZZTIME ?= 10s
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeText$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=3s ./engineio/packet
	$(GO) test -run='^$$' -fuzz='^FuzzDecodePayload$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=3s ./engineio/packet
	$(GO) test -run='^$$' -fuzz='^FuzzDecoder$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=3s ./parser
	$(GO) test -run='^$$' -fuzz='^FuzzServerPayload$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=3s .
	$(GO) test -run='^$$' -fuzz='^FuzzUTF8Validator$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=3s ./ws
	$(GO) test -run='^$$' -fuzz='^FuzzFrameReader$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=3s ./internal/wsconn
	$(GO) test -run='^$$' -fuzz='^FuzzUnmarshal$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=3s ./adapter/redis/notepack
	$(GO) test -run='^$$' -fuzz='^FuzzAppendJSON$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=3s ./adapter/redis/notepack

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
