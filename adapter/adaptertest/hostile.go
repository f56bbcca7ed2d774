package adaptertest

import (
	"bytes"
	"crypto/rand"
	"runtime"
	"slices"
	"strings"
)

// hostilePayloads are malformed or hostile messages in the encodings
// brokers use (JSON, MessagePack): truncated, wrong types, absurd lengths
// that a careless decoder would allocate, deep nesting, a large blob.
func hostilePayloads() [][]byte {
	big := make([]byte, 1<<20)
	_, _ = rand.Read(big)
	out := [][]byte{
		nil, []byte("{"), []byte("[]"), []byte("null"), []byte("\"x\""), []byte("1e999"),
		[]byte(`{"uid":5,"type":"x","nsp":[],"data":{}}`),
		[]byte(`{"uid":"x","nsp":"/","type":3,"data":{"packet":null,"opts":"x"}}`),
		[]byte(`{"uid":"x","nsp":"/","type":3,"data":{"packet":{"type":99,"data":7},"opts":{"rooms":5,"except":{}}}}`),
		[]byte(`{"uid":"x","nsp":"/","type":7,"data":{"requestId":"r","opts":{"rooms":[1,{}]}}}`),
		[]byte(`{"uid":"x","nsp":"/","type":8,"data":{"requestId":"r","sockets":[1,{"id":2},{"handshake":"x"}]}}`),
		[]byte(`{"uid":"x","nsp":"/","type":10,"data":{"requestId":"nope","packet":[1e999]}}`),
		[]byte(`{"uid":"x","nsp":"/","type":11,"data":{"requestId":"nope","clientCount":-1e18}}`),
		[]byte(`{"uid":"x","nsp":"/","type":12,"data":{"requestId":"nope","packet":{}}}`),
		[]byte(`{"type":99}`),
		[]byte("\xc1"), []byte("\x93"), []byte("\x93\xa1x\xc0\xc0"),
		[]byte("\xdd\xff\xff\xff\xff"),     // array of 4G elements, none there
		[]byte("\xdf\xff\xff\xff\xff"),     // map of 4G pairs
		[]byte("\xdb\xff\xff\xff\xff"),     // string of 4 GiB
		[]byte("\xc6\xff\xff\xff\xff"),     // bin of 4 GiB
		[]byte("\xc9\xff\xff\xff\xff\x01"), // ext of 4 GiB
		[]byte("\x84\xa3uid\xa1x\xa3nsp\xa1/\xa4type\x03\xa4data\xdd\xff\xff\xff\xff"),
		[]byte("\x84\xa3uid\xa1x\xa3nsp\xa1/\xa4type\x08\xa4data\x81\xa7sockets\xdc\xff\xff"),
		bytes.Repeat([]byte("\x91"), 100_000), // nested arrays, 100k deep
		[]byte(strings.Repeat("[", 100_000)),
		[]byte(`{"uid":"x","nsp":"/","type":3,"data":` + strings.Repeat(`{"a":`, 50_000) + "1" + strings.Repeat("}", 50_000) + "}"),
		big,
	}
	return out
}

// testHostile: malformed and hostile messages published on the broker
// where the nodes listen never crash a node, never take memory beyond a
// bound in proportion to what was sent, and the cluster goes on working.
func testHostile(h *harness) {
	if h.cfg.Inject == nil {
		h.t.Skip("no Config.Inject")
	}
	w := h.world()
	payloads := append(hostilePayloads(), h.cfg.Hostile...)
	total := 0
	for _, p := range payloads {
		total += len(p)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 3 {
		for _, p := range payloads {
			if err := h.cfg.Inject(h.t, h.cluster, "/", p); err != nil {
				h.t.Fatalf("inject: %v", err)
			}
		}
	}
	// Everything injected before the probes has been read when the probes
	// come through.
	h.sync(w, "", w.clients...)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// What every node may allocate: a generous multiple of what was sent,
	// plus what a sync round costs; one 4 GiB claim taken at its word
	// would pass it by far.
	bound := uint64(64<<20) + uint64(3*len(w.nodes)*total*32)
	if got := after.TotalAlloc - before.TotalAlloc; got > bound {
		h.t.Errorf("hostile messages: %d MiB allocated, bound %d MiB", got>>20, bound>>20)
	}
	_ = w.nodes[0].srv.To("r").Emit("still-fine")
	h.receivers(w, "still-fine", 0, 3)
	if got, err := h.fetchBounded(w.nodes[len(w.nodes)-1]); err != nil || !slices.Equal(got, ids(w.clients...)) {
		h.t.Errorf("fetchSockets after hostile messages: %v, %v", got, err)
	}
}
